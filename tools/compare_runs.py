"""Agreement of two label-generation runs over the same images (mask IoU, label maps).

    python tools/compare_runs.py RUN_A RUN_B [--out agreement.json]

RUN_A and RUN_B are output folders of ``tools/generate_masks.py`` (``instances.json`` and
``gray/``), e.g. the same config run in bf16 and in fp32. Instances are matched by image
stem and source index. See :mod:`mmsamrs.analysis.compare_runs`.
"""
import argparse

from mmsamrs.analysis.compare_runs import compare_runs, format_comparison, write_comparison


def parse_args() -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description='Agreement of two label-generation runs')
    parser.add_argument('run_a', help='output folder of one run (instances.json, gray/)')
    parser.add_argument('run_b', help='output folder of the other run, same images')
    parser.add_argument('--out', help='also write the measures to this JSON file')
    return parser.parse_args()


def main() -> None:
    """Compare the two runs and print (and optionally write) the agreement."""
    args = parse_args()
    summary = compare_runs(args.run_a, args.run_b)
    print(format_comparison(summary))
    if args.out:
        write_comparison(summary, args.out)


if __name__ == '__main__':
    main()
