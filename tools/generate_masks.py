"""Generate SAMRS segmentation labels from detection labels with SAM.

    python tools/generate_masks.py CONFIG [--work-dir DIR] [--resume] [--cfg-options k=v ...]
    torchrun --nproc_per_node=N tools/generate_masks.py CONFIG --launcher pytorch

Exit status: 0 when every image is done; 1 when an image failed (the others are done;
reasons in failures.json; ``--resume`` retries only the failed ones), when no image could
be read, or on any other error.
"""
import argparse
import logging

from mmengine.logging import print_log
from mmengine.runner import Runner

from mmsamrs.engine.cli import config_from_args, parse_runner_args, runner_arg_parser
from mmsamrs.generation import failure_message
from mmsamrs.utils import NothingReadError


def parse_args() -> argparse.Namespace:
    """Command-line arguments, shaped like mmseg's tools/test.py."""
    parser = runner_arg_parser(
        'Generate SAMRS labels with SAM', 'generation config file (configs/gen/*.py)',
        'data_root=data/DOTA/split_1024 model.arch=vit_b model.checkpoint=sam_vit_b.pth')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run in the same work dir: skip its finished '
                        'images, retry its failed ones (its settings must not change)')
    return parse_runner_args(parser)


def main() -> None:
    """Build the runner from the config, run the generation loop, exit 1 on failures."""
    args = parse_args()
    cfg = config_from_args(args)
    if args.resume:
        cfg.test_cfg.resume = True
    runner = Runner.from_cfg(cfg)
    try:
        runner.test()
    except NothingReadError as err:
        raise SystemExit(f'error: {err}')
    message = failure_message(runner.test_loop.summary, runner.test_loop.out_dir)
    if message is not None:
        print_log(message, logger='current', level=logging.ERROR)
        raise SystemExit(1)


if __name__ == '__main__':
    main()
