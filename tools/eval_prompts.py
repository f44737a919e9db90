"""The SAM prompt study of the SAMRS paper (Table 1), one image-encoder pass per image.

    python tools/eval_prompts.py configs/gen/hrsc_prompts.py --settings table1 [--out DIR]
        [--cfg-options k=v ...]
    python tools/eval_prompts.py configs/gen/hrsc_prompts.py --settings CP H-Box RH-Box-M
    python tools/eval_prompts.py configs/gen/isaid_prompts.py --settings table1
    python tools/eval_prompts.py configs/gen/hrsc_prompts.py --settings table1 \
        --models vit_h sam2.1_hiera_l hq_vit_h=weights/sam_hq_vit_h.pth

``--settings`` names the prompt settings to run (``table1``: all 15 rows of Table 1, in
its order) on the config's data and model. Without it, each config contributes the setting
of its ``SAMPrompts`` step, and the configs must otherwise be equal. ``--models`` (or the
config's ``study_models`` list) runs several models, SAM, HQ-SAM and SAM 2.1 alike, each
encoding every image once: one column group per model in the table, and each model's
encoder/decoder time. Writes
``prompt_study.md`` / ``.csv`` / ``.json`` / ``.png`` and ``per_instance.csv`` to ``--out``;
``--save-masks`` adds each setting's predicted masks, ``masks/<setting>.json`` (COCO RLE).
"""
import argparse
import os.path as osp
from typing import Optional, Sequence

from mmengine.config import DictAction
from mmengine.runner import Runner

from mmsamrs.engine.cli import load_config
from mmsamrs.evaluation.prompt_study import study_config


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description='SAM prompt study (SAMRS Table 1)')
    parser.add_argument('configs', nargs='+', help='prompt-study config '
                        '(configs/gen/hrsc_prompts.py), or several differing only in their '
                        'SAMPrompts setting')
    parser.add_argument('--settings', nargs='+',
                        help="prompt settings to run instead of the configs' own, e.g. "
                        "'CP' 'H-Box' 'RH-Box+RH-Box-M', or 'table1' for all 15")
    parser.add_argument('--models', nargs='+',
                        help="models to compare: released arch names (official weights), "
                        "e.g. 'vit_b' 'sam2.1_hiera_t' 'hq_vit_b', or ARCH=CHECKPOINT for "
                        "a weight file; default: the config's study_models, else its model")
    parser.add_argument('--out', help='output directory (report, logs); default '
                        'work_dirs/prompt_study/<first config name>')
    parser.add_argument('--save-masks', action='store_true',
                        help="also write each setting's predicted masks (COCO RLE) to "
                        'OUT/masks/<setting>.json')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override keys of every config, e.g. model.checkpoint=sam_vit_h_4b8939.pth '
        'data_root=data/HRSC2016')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Merge the configs into one study and run it with mmengine's Runner."""
    args = parse_args(argv)
    cfgs = [load_config(path, args.cfg_options) for path in args.configs]
    name = osp.splitext(osp.basename(args.configs[0]))[0]
    study = study_config(cfgs, args.settings, args.models)
    study.work_dir = args.out or osp.join('work_dirs', 'prompt_study', name)
    study.test_cfg.save_masks = args.save_masks
    Runner.from_cfg(study).test()


if __name__ == '__main__':
    main()
