"""Generate SAMRS segmentation labels from detection labels with SAM.

    python tools/generate_masks.py CONFIG [--work-dir DIR] [--resume] [--cfg-options k=v ...]
    torchrun --nproc_per_node=N tools/generate_masks.py CONFIG --launcher pytorch
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.runner import Runner


def parse_args() -> argparse.Namespace:
    """Command-line arguments, shaped like mmseg's tools/test.py."""
    parser = argparse.ArgumentParser(description='Generate SAMRS labels with SAM')
    parser.add_argument('config', help='generation config file (configs/gen/*.py)')
    parser.add_argument('--work-dir', help='output directory (labels, instances.json, logs)')
    parser.add_argument('--resume', action='store_true',
                        help='skip images finished by an earlier run in the same work dir')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config keys, e.g. test_dataloader.dataset.data_root=data/DOTA/val '
        'model.checkpoint=sam_vit_h_4b8939.pth')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    """Build the runner from the config and run the generation loop."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.resume:
        cfg.test_cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
