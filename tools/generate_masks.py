"""Generate SAMRS segmentation labels from detection labels with SAM.

    python tools/generate_masks.py CONFIG [--work-dir DIR] [--resume] [--cfg-options k=v ...]
    torchrun --nproc_per_node=N tools/generate_masks.py CONFIG --launcher pytorch
"""
import argparse

from mmengine.runner import Runner

from mmsamrs.engine.cli import config_from_args, parse_runner_args, runner_arg_parser


def parse_args() -> argparse.Namespace:
    """Command-line arguments, shaped like mmseg's tools/test.py."""
    parser = runner_arg_parser(
        'Generate SAMRS labels with SAM', 'generation config file (configs/gen/*.py)',
        'test_dataloader.dataset.data_root=data/DOTA/val '
        'model.checkpoint=sam_vit_h_4b8939.pth')
    parser.add_argument('--resume', action='store_true',
                        help='skip images finished by an earlier run in the same work dir')
    return parse_runner_args(parser)


def main() -> None:
    """Build the runner from the config and run the generation loop."""
    args = parse_args()
    cfg = config_from_args(args)
    if args.resume:
        cfg.test_cfg.resume = True
    runner = Runner.from_cfg(cfg)
    runner.test()


if __name__ == '__main__':
    main()
