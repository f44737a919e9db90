"""The SAM prompt study of the SAMRS paper (Table 1), one image-encoder pass per image.

    python tools/eval_prompts.py configs/gen/hrsc_prompts [--out DIR] [--cfg-options k=v ...]
    python tools/eval_prompts.py configs/gen/hrsc_prompts/hbox.py configs/gen/hrsc_prompts/rhbox.py
    python tools/eval_prompts.py configs/gen/isaid_prompts.py --settings table1

Each config (a folder stands for its ``*.py`` files not starting with ``_``) contributes
its prompt setting; the configs must otherwise be equal. ``--settings`` runs the given
settings (``table1``: all 15) with the configs' data and model instead. Writes
``prompt_study.md`` / ``.csv`` / ``.json`` / ``.png`` and ``per_instance.csv`` to ``--out``.
"""
import argparse
import os.path as osp
from glob import glob
from typing import List, Optional, Sequence

from mmengine.config import Config, DictAction
from mmengine.runner import Runner

from mmsamrs.evaluation.prompt_study import study_config


def config_files(paths: Sequence[str]) -> List[str]:
    """Config files of ``paths``: files as given, folders expanded to their row configs."""
    files: List[str] = []
    for path in paths:
        if osp.isdir(path):
            rows = sorted(f for f in glob(osp.join(path, '*.py'))
                          if not osp.basename(f).startswith('_'))
            if not rows:
                raise FileNotFoundError(f'no config (*.py not starting with _) in {path}')
            files += rows
        else:
            files.append(path)
    return files


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description='SAM prompt study (SAMRS Table 1)')
    parser.add_argument('configs', nargs='+', help='prompt-setting configs, or folders of '
                        'them (configs/gen/hrsc_prompts)')
    parser.add_argument('--settings', nargs='+',
                        help="prompt settings to run instead of the configs' own, e.g. "
                        "'CP' 'H-Box' 'RH-Box+RH-Box-M', or 'table1' for all 15")
    parser.add_argument('--out', help='output directory (report, logs); default '
                        'work_dirs/prompt_study/<first config or folder name>')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override keys of every config, e.g. model.checkpoint=sam_vit_h_4b8939.pth '
        'test_dataloader.dataset.data_root=data/HRSC2016')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Merge the configs into one study and run it with mmengine's Runner."""
    args = parse_args(argv)
    cfgs = []
    for path in config_files(args.configs):
        cfg = Config.fromfile(path)
        if args.cfg_options is not None:
            cfg.merge_from_dict(args.cfg_options)
        cfgs.append(cfg)
    name = osp.splitext(osp.basename(osp.normpath(args.configs[0])))[0]
    study = study_config(cfgs, args.settings)
    study.work_dir = args.out or osp.join('work_dirs', 'prompt_study', name)
    Runner.from_cfg(study).test()


if __name__ == '__main__':
    main()
