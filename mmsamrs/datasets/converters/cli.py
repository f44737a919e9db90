"""The command line shared by ``tools/dataset_converters/*.py``."""
import argparse
from typing import Callable, Optional, Sequence

from mmsamrs.utils import NothingReadError


def run_converter(convert: Callable[..., dict], description: str, src_help: str,
                  out_dir: str, size: int, stride: int,
                  argv: Optional[Sequence[str]] = None) -> None:
    """Parse ``SRC [-o OUT] [--size N] [--stride N] [--nproc N]`` and run ``convert(src,
    out_dir, size, stride, nproc)``; exit with status 1 when an image failed (with the
    message of :class:`NothingReadError` when none could be read)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help=src_help)
    parser.add_argument('-o', '--out-dir', default=out_dir, help=f'output root ({out_dir})')
    parser.add_argument('--size', type=int, default=size, help=f'crop size (paper: {size})')
    parser.add_argument('--stride', type=int, default=stride,
                        help=f'crop stride (paper: {stride})')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes (1)')
    args = parser.parse_args(argv)
    try:
        report = convert(args.src, args.out_dir, args.size, args.stride, args.nproc)
    except NothingReadError as err:
        raise SystemExit(f'error: {err}')
    raise SystemExit(1 if report['failed'] else 0)
