"""Write a reproducible 95/5 train/val split of one SAMRS set.

Usage: ``python tools/make_splits.py LABEL_DIR OUT_DIR [--val-ratio 0.05] [--seed 2023]
[--restrict-to data/DIOR/ImageSets/Main/trainval.txt]``. Every label PNG in LABEL_DIR is
one image; OUT_DIR receives ``train.txt`` and ``val.txt`` (one stem per line). Every set of
at least 2 images gets at least one validation image; a set of one image is refused. See
:mod:`mmsamrs.datasets.split_files`.
"""
import argparse

from mmsamrs.datasets.split_files import make_split


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Split one SAMRS set into train/val')
    parser.add_argument('label_dir', help="the set's label folder, e.g. work_dirs/sota/gray")
    parser.add_argument('out_dir', help='folder for train.txt and val.txt')
    parser.add_argument('--val-ratio', type=float, default=0.05,
                        help='validation share in (0, 1), rounded down but at least one '
                        'image (default 0.05)')
    parser.add_argument('--seed', type=int, default=2023, help='split seed (default 2023)')
    parser.add_argument('--restrict-to', default=None,
                        help='stem list to keep, e.g. DIOR ImageSets/Main/trainval.txt for SIOR')
    parser.add_argument('--suffix', default='.png', help='label file suffix (default .png)')
    return parser.parse_args()


def main() -> None:
    """Make the split and print what was written."""
    args = parse_args()
    try:
        summary = make_split(args.label_dir, args.out_dir, args.val_ratio, args.seed,
                             args.restrict_to, args.suffix)
    except (OSError, ValueError) as e:
        raise SystemExit(f'make_splits.py: {e}') from e
    print(f"{summary['labels']} labels in {args.label_dir}")
    if args.restrict_to:
        unlabelled = summary['unlabelled']
        print(f"restricted to {args.restrict_to}: {summary['dropped']} labels left out, "
              f'{len(unlabelled)} listed images without a label'
              + (f' (e.g. {", ".join(unlabelled[:5])})' if unlabelled else ''))
    if summary['raised_val']:
        print(f"note: {args.val_ratio} of {summary['train'] + summary['val']} images rounds "
              'down to 0; 1 image was put into val.txt so that the set has validation data')
    print(f"train {summary['train']}, val {summary['val']} (seed {args.seed}): "
          + ', '.join(summary['files']))


if __name__ == '__main__':
    main()
