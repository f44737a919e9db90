"""Test (evaluate) a segmentor checkpoint, e.g. per-set mIoU of a SAMRS SEP model.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR]
        [--cfg-options k=v ...]
    torchrun --nproc_per_node=8 tools/test.py CONFIG CHECKPOINT --launcher pytorch

The metric's table (mIoU of each set and their mean) is logged; the metrics also go to
``<work_dir>/<timestamp>/<timestamp>.json``.
"""
import argparse

from mmsamrs.engine.cli import config_from_args, parse_runner_args, runner_arg_parser
from mmsamrs.registry import RUNNERS


def parse_args() -> argparse.Namespace:
    """Command-line arguments, shaped like mmseg's tools/test.py."""
    parser = runner_arg_parser('Test (and evaluate) a segmentor',
                               'config file (configs/sep/*.py)',
                               'test_dataloader.num_workers=2')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--out', help='directory for the predicted label PNGs (<image stem>.png, class '
        "indices of the sample's own set)")
    parser.add_argument('--show-dir', help='directory for images painted with predictions')
    return parse_runner_args(parser)


def main() -> None:
    """Build the runner from the config, load the checkpoint and test."""
    args = parse_args()
    cfg = config_from_args(args)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        cfg.default_hooks.visualization.draw = True
        cfg.visualizer.save_dir = args.show_dir
    if args.out:
        # a format-only copy of the (first) metric writes the predictions: mmseg's IoUMetric
        # and its subclasses, and MultiSetIoUMetric, take output_dir and format_only
        evaluators = cfg.test_evaluator
        evaluators = evaluators if isinstance(evaluators, list) else [evaluators]
        cfg.test_evaluator = [*evaluators,
                              dict(evaluators[0], format_only=True, output_dir=args.out)]
    runner = RUNNERS.build(cfg)  # the config's runner_type (SEP: SEPRunner), else Runner
    runner.test()


if __name__ == '__main__':
    main()
