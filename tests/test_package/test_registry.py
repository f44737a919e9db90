"""Configs with default_scope='mmsamrs' find mmsamrs' classes and the parents' classes."""
import subprocess
import sys
import textwrap

from mmengine.registry import DefaultScope

from mmsamrs import registry


def test_scoped_children_of_mmseg():
    from mmseg.registry import DATASETS, MODELS, TRANSFORMS
    assert registry.DATASETS.scope == 'mmsamrs'
    assert registry.DATASETS.parent is DATASETS
    assert registry.MODELS.parent is MODELS
    assert registry.TRANSFORMS.parent is TRANSFORMS


def test_lookup_ours_parents_and_other_scopes():
    with DefaultScope.overwrite_default_scope('mmsamrs'):
        assert registry.TRANSFORMS.get('SAMPrompts').__module__.startswith('mmsamrs.')
        assert registry.DATASETS.get('DOTADataset').__module__.startswith('mmsamrs.')
        assert registry.MODELS.get('SAMGenerator').__module__.startswith('mmsamrs.')
        # plain names fall back to mmseg / mmcv / mmengine
        assert registry.MODELS.get('EncoderDecoder').__module__.startswith('mmseg.')
        assert registry.TRANSFORMS.get('LoadImageFromFile').__module__.startswith('mmcv.')
        assert registry.LOOPS.get('TestLoop').__module__.startswith('mmengine.')
        # parents' modules are imported on first lookup, not only when already loaded
        assert registry.HOOKS.get('SegVisualizationHook').__module__.startswith('mmseg.')
        assert registry.PARAM_SCHEDULERS.get('PolyLR') is not None
        # other OpenMMLab scopes by prefix
        assert registry.TRANSFORMS.get('mmdet.PackDetInputs').__module__.startswith('mmdet.')


def test_config_with_custom_imports_builds_in_a_fresh_process(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(textwrap.dedent("""
        default_scope = 'mmsamrs'
        custom_imports = dict(imports=['mmsamrs'], allow_failed_imports=False)
        pipeline = [dict(type='SAMPrompts', prompts=('hbox', )),
                    dict(type='mmdet.PackDetInputs')]
    """))
    code = textwrap.dedent(f"""
        from mmengine.config import Config
        from mmengine.registry import init_default_scope, TRANSFORMS
        cfg = Config.fromfile({str(config)!r})
        init_default_scope(cfg.default_scope)
        print([type(TRANSFORMS.build(t)).__module__ for t in cfg.pipeline])
    """)
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    modules = eval(proc.stdout.strip().splitlines()[-1])
    assert modules[0].startswith('mmsamrs.') and modules[1].startswith('mmdet.')
