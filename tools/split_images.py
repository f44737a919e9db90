"""Cut large source images and their annotations into fixed-size patches.

Usage: ``python tools/split_images.py configs/split/dota_1024.py
[--cfg-options dataset.data_root=... out_dir=... splitter.patch_size=...]``.
Reruns resume: images whose patches are complete are skipped. See
:mod:`mmsamrs.datasets.splitting.splitter`.
"""
import argparse

from mmengine.config import Config, DictAction

from mmsamrs.datasets.splitting import SplitRunner


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Split source images into patches')
    parser.add_argument('config', help='split config, e.g. configs/split/dota_1024.py')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={},
        help='override config keys, e.g. dataset.data_root=data/DOTA/val out_dir=... '
        'splitter.patch_size=512 nproc=4')
    return parser.parse_args()


def main() -> None:
    """Build the split runner from the config and run it."""
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    SplitRunner.from_cfg(cfg).run()


if __name__ == '__main__':
    main()
