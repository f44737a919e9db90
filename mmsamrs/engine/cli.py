"""Command-line pieces shared by the Runner-based tools (generate, train, test)."""
import argparse
import os
import os.path as osp
from typing import Any, List, Mapping, Optional

from mmengine.config import Config, DictAction


def runner_arg_parser(description: str, config_help: str,
                      cfg_options_example: str) -> argparse.ArgumentParser:
    """A parser with mmseg's common tool arguments: config, --work-dir, --cfg-options,
    --launcher and --local_rank; a tool adds its own arguments to it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('config', help=config_help)
    parser.add_argument('--work-dir', help='directory for outputs, logs and the config dump '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config keys, e.g. {cfg_options_example}')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser


def parse_runner_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse the command line; export ``LOCAL_RANK`` for the launchers."""
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def config_from_args(args: argparse.Namespace) -> Config:
    """Load ``args.config`` with the launcher, ``--cfg-options`` and the work dir applied."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    return cfg


def load_config(path: str, cfg_options: Optional[Mapping[str, Any]] = None) -> Config:
    """Load a config and apply ``--cfg-options`` (see :func:`merge_cfg_options`)."""
    cfg = Config.fromfile(path)
    merge_cfg_options(cfg, cfg_options)
    return cfg


def merge_cfg_options(cfg: Config, cfg_options: Optional[Mapping[str, Any]]) -> None:
    """Merge ``--cfg-options`` into ``cfg``; a new top-level variable reaches the datasets.

    mmengine resolves a config's top-level variables when it parses the file, so
    ``data_root=/my/DIOR`` alone would change only the top-level key. Here, for every
    top-level option whose old value is a string, number or bool (``data_root``,
    ``label_layout`` ...), each nested key of the same name whose value was that old value
    takes the new one too (keys with other values, or set by the options themselves,
    keep theirs).
    """
    if not cfg_options:
        return
    old = {key: cfg.get(key) for key in cfg_options
           if '.' not in key and isinstance(cfg.get(key), (str, int, float, bool))}
    cfg.merge_from_dict(dict(cfg_options))
    nested = {}
    for key, value in old.items():
        if cfg.get(key) != value:
            nested.update({path: cfg.get(key)
                           for path in _nested_paths(dict(cfg.items()), '', key, value)
                           if path not in cfg_options})
    if nested:
        cfg.merge_from_dict(nested, allow_list_keys=True)


def _nested_paths(node: Any, prefix: str, name: str, value: Any) -> List[str]:
    """Dotted paths of the nested keys ``name`` below ``node`` whose value is ``value``."""
    items = (node.items() if isinstance(node, dict)
             else enumerate(node) if isinstance(node, (list, tuple)) else ())
    paths: List[str] = []
    for key, child in items:
        path = f'{prefix}{key}'
        if key == name and prefix and type(child) is type(value) and child == value:
            paths.append(path)
        else:
            paths += _nested_paths(child, f'{path}.', name, value)
    return paths
