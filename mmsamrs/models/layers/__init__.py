"""Layers shared by the backbones and heads of mmsamrs."""
