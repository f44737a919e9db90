"""Statistics of SAMRS sets: the paper's Table 2 row, Figure 5 and Figure 6 per set.

    python tools/analyze_dataset.py DIR [--set-name SOTA] [--classes sota] [--img-dir DIR]
                                        [--coco-file FILE] [--out DIR] [--workers N]
    python tools/analyze_dataset.py CONFIG.py [--out DIR] [--workers N]

DIR is a generator output folder (``gray/``, ``instances.json``) or a set of the public
SAMRS release; a config lists several sets (``sets = [dict(name=..., root=...,
classes=...)]``). See :mod:`mmsamrs.analysis`.
"""
import argparse
import os

from mmsamrs.analysis import analyze_set, default_workers, load_sets, table2_markdown, write_reports


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Statistics of SAMRS label sets')
    parser.add_argument('target', help='set directory (either layout) or a config with `sets`')
    parser.add_argument('--set-name', help='set name (default: the directory name)')
    parser.add_argument('--classes', help='sota, sior, fast or comma-separated class names '
                        '(default: by set name, else from instances.json)')
    parser.add_argument('--img-dir', help='folder of the images (default: found beside the '
                        'labels); only their headers are read, for the channels')
    parser.add_argument('--coco-file', help='COCO instances file (default: instances.json '
                        'beside gray/; without one, instances are connected components)')
    parser.add_argument('--out', default='work_dirs/analysis', help='output folder')
    parser.add_argument('--workers', type=int, default=default_workers(),
                        help='worker processes reading label PNGs (0: none)')
    return parser.parse_args()


def main() -> None:
    """Analyse every set, write the reports and print Table 2."""
    args = parse_args()
    sources = load_sets(args.target, args.set_name, args.classes, args.img_dir, args.coco_file)
    stats = []
    for source in sources:
        print(f'{source.name}: {source.label_dir}')
        stats.append(analyze_set(source, workers=args.workers))
    paths = write_reports(stats, args.out)
    print(table2_markdown(stats))
    print(f'reports written to {args.out}: ' + ', '.join(os.path.basename(p) for p in paths))


if __name__ == '__main__':
    main()
