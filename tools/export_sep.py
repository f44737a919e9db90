"""Turn a segmentation pre-training (SEP) checkpoint into a plain mmseg fine-tuning start.

Usage: ``python tools/export_sep.py SEP_CKPT OUT [--set NAME]``. The per-set classifiers of
the ``MultiHeadEncoderDecoder`` are dropped (``--set NAME`` keeps that set's as the plain
``conv_seg``); backbone, neck and decode/auxiliary head bodies are kept. Rule and loading:
:mod:`mmsamrs.models.sep_checkpoint`.
"""
import argparse

from mmsamrs.models.sep_checkpoint import export_sep_file


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Export a SEP checkpoint for a plain single-head mmseg EncoderDecoder')
    parser.add_argument('checkpoint', help='SEP checkpoint (MultiHeadEncoderDecoder)')
    parser.add_argument('out', help='path of the exported checkpoint')
    parser.add_argument('--set', dest='keep_set', metavar='NAME',
                        help='keep this set\'s classifier as conv_seg instead of dropping it')
    return parser.parse_args()


def main() -> None:
    """Export and print what was kept and dropped."""
    args = parse_args()
    info = export_sep_file(args.checkpoint, args.out, args.keep_set)['sep_export']
    sets = ', '.join(f'{name} ({n} classes)' for name, n in info['sets'].items())
    kept = f'kept {info["kept_set"]} as conv_seg; ' if info['kept_set'] else ''
    print(f'sets: {sets}\n{kept}dropped {len(info["dropped"])} classifier tensors\n'
          f'saved {args.out}')


if __name__ == '__main__':
    main()
