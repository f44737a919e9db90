"""Cut large source images and their annotations into fixed-size patches.

Usage: ``python tools/split_images.py configs/split/dota_1024.py
[--cfg-options data_root=... out_dir=... splitter.patch_size=...]``.
Reruns resume: images whose patches are complete are skipped. The exit status is 1, with
a message saying how many images were expected and where they were looked for, when no
image could be read. See :mod:`mmsamrs.datasets.splitting.splitter`.
"""
import argparse

from mmengine.config import DictAction

from mmsamrs.datasets.splitting import SplitRunner
from mmsamrs.engine.cli import load_config
from mmsamrs.utils import NothingReadError


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Split source images into patches')
    parser.add_argument('config', help='split config, e.g. configs/split/dota_1024.py')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config keys, e.g. data_root=data/DOTA/val out_dir=... '
        'splitter.patch_size=512 nproc=4')
    return parser.parse_args()


def main() -> None:
    """Build the split runner from the config and run it."""
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    try:
        SplitRunner.from_cfg(cfg).run()
    except NothingReadError as err:
        raise SystemExit(f'error: {err}')


if __name__ == '__main__':
    main()
