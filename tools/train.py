"""Train a segmentor, e.g. SAMRS segmentation pre-training (configs/sep/*).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CHECKPOINT]] [--amp]
        [--cfg-options k=v ...]
    torchrun --nproc_per_node=8 tools/train.py CONFIG --launcher pytorch
"""
import argparse
import logging

from mmengine.logging import print_log

from mmsamrs.engine.cli import config_from_args, parse_runner_args, runner_arg_parser
from mmsamrs.registry import RUNNERS


def parse_args() -> argparse.Namespace:
    """Command-line arguments, shaped like mmseg's tools/train.py."""
    parser = runner_arg_parser(
        'Train a segmentor', 'train config file (configs/sep/*.py)',
        'train_dataloader.batch_size=8 train_dataloader.sampler.batch_size=8 '
        'model.backbone.init_cfg.checkpoint=x.pth')
    parser.add_argument(
        '--resume', nargs='?', const='auto', default=None, metavar='CHECKPOINT',
        help='resume training (model, optimizer, scheduler, iteration) from CHECKPOINT, '
        'or without one from the latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (AmpOptimWrapper)')
    return parse_runner_args(parser)


def main() -> None:
    """Build the runner from the config and train."""
    args = parse_args()
    cfg = config_from_args(args)
    if args.amp:
        if cfg.optim_wrapper.type == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.', logger='current',
                      level=logging.WARNING)
        elif cfg.optim_wrapper.type != 'OptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type OptimWrapper, got '
                             f'{cfg.optim_wrapper.type}')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.resume is not None:
        cfg.resume = True
        if args.resume != 'auto':
            cfg.load_from = args.resume
    runner = RUNNERS.build(cfg)  # the config's runner_type (SEP: SEPRunner), else Runner
    runner.train()


if __name__ == '__main__':
    main()
