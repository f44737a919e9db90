"""Test (evaluate) a segmentor checkpoint, e.g. per-set mIoU of a SAMRS SEP model.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out DIR] [--show-dir DIR]
        [--cfg-options k=v ...]
    torchrun --nproc_per_node=8 tools/test.py CONFIG CHECKPOINT --launcher pytorch

The metric's table (mIoU of each set and their mean) is logged; the metrics also go to
``<work_dir>/<timestamp>/<timestamp>.json``.
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args() -> argparse.Namespace:
    """Command-line arguments, shaped like mmseg's tools/test.py."""
    parser = argparse.ArgumentParser(description='Test (and evaluate) a segmentor')
    parser.add_argument('config', help='config file (configs/sep/*.py)')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='directory for the logs and the metrics json')
    parser.add_argument(
        '--out', help='directory for the predicted label PNGs (<image stem>.png, class '
        "indices of the sample's own set)")
    parser.add_argument('--show-dir', help='directory for images painted with predictions')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. test_dataloader.num_workers=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    """Build the runner from the config, load the checkpoint and test."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        cfg.default_hooks.visualization.draw = True
        cfg.visualizer.save_dir = args.show_dir
    if args.out:
        # mmseg's IoUMetric writes the predictions (format_only: no second evaluation)
        evaluators = cfg.test_evaluator
        cfg.test_evaluator = [*(evaluators if isinstance(evaluators, list) else [evaluators]),
                              dict(type='IoUMetric', format_only=True, output_dir=args.out)]
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
