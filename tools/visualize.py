"""Overlays of SAMRS labels on their images, with a class legend (paper Figure 4).

    python tools/visualize.py DIR [--set-name SOTA] [--classes sota] [--img-dir DIR]
                                  [--stems STEM ...] [--num-samples 4] [--seed 0]
                                  [--instances] [--alpha 0.5] [--out FILE.png]
    python tools/visualize.py CONFIG.py [--num-samples 4] [--instances] [--out FILE.png]

One row per set (a config lists several), one panel per image: given ``--stems`` or
``--num-samples`` picked by a seeded hash. ``--instances`` outlines the instances of
``instances.json``. See :mod:`mmsamrs.visualization`.
"""
import argparse
import os

from mmsamrs.analysis import load_sets
from mmsamrs.visualization import draw_set_row, pick_stems, save_sample_grid


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Draw SAMRS labels on their images')
    parser.add_argument('target', help='set directory (either layout) or a config with `sets`')
    parser.add_argument('--set-name', help='set name (default: the directory name)')
    parser.add_argument('--classes', help='sota, sior, fast or comma-separated class names')
    parser.add_argument('--img-dir', help='folder of the images (default: found beside the labels)')
    parser.add_argument('--coco-file', help='COCO instances file (default: instances.json '
                        'beside gray/)')
    parser.add_argument('--stems', nargs='+', help='images to draw (default: a sample)')
    parser.add_argument('--num-samples', type=int, default=4, help='images per set')
    parser.add_argument('--seed', type=int, default=0, help='seed of the sample')
    parser.add_argument('--instances', action='store_true',
                        help='outline the instances of instances.json')
    parser.add_argument('--with-labels', action='store_true',
                        help='write class names on the overlays')
    parser.add_argument('--alpha', type=float, default=0.5, help='class colour weight')
    parser.add_argument('--panel-inches', type=float, default=4.0, help='panel size')
    parser.add_argument('--dpi', type=int, default=100, help='figure resolution')
    parser.add_argument('--out', default='work_dirs/vis/samples.png', help='output PNG')
    return parser.parse_args()


def main() -> None:
    """Draw the chosen images of every set into one grid figure."""
    args = parse_args()
    sources = load_sets(args.target, args.set_name, args.classes, args.img_dir, args.coco_file)
    rows = [
        draw_set_row(source, args.stems or pick_stems(source, args.num_samples, args.seed),
                     with_instances=args.instances, alpha=args.alpha,
                     with_labels=args.with_labels, progress=True) for source in sources
    ]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    width, height = save_sample_grid(rows, args.out, args.panel_inches, args.dpi)
    print(f'{args.out}: {sum(len(r.panels) for r in rows)} images, {width}x{height} pixels')


if __name__ == '__main__':
    main()
