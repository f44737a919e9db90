"""Path guards for names that come from input files.

Image ids read from split files, annotation file names and patch names become parts of
the paths that readers open and writers create. :func:`check_plain_stem` accepts only a
plain file stem (so an id such as ``../../x``, ``/etc/x``, ``a\\b`` or ``.hidden`` can
neither read nor write anywhere else), and :func:`safe_join` refuses any target that
would land outside the folder it is joined to.
"""
import os
import os.path as osp
from typing import Union

PathLike = Union[str, 'os.PathLike[str]']
FORBIDDEN_CHARS = ('/', '\\', '\0')


def check_plain_stem(name: str, where: str = '') -> str:
    """Return ``name`` if it is a plain file stem; raise ``ValueError`` otherwise.

    A plain stem is non-empty, has no path separator (``/`` or ``\\``) or NUL byte,
    and does not start with ``.`` (no ``.``/``..``, no hidden file). Absolute paths
    (``/x``, ``C:\\x``) contain a separator and are refused too.

    Args:
        name: the candidate stem, e.g. an image id from a split file.
        where: where it was read, e.g. ``'splits/train.txt, line 3'``; it starts the
            error message when given.
    """
    if not name:
        problem = 'it is empty'
    elif any(c in name for c in FORBIDDEN_CHARS):
        problem = 'it contains a path separator'
    elif name.startswith('.'):
        problem = "it starts with '.': a hidden file or a relative path"
    else:
        return name
    prefix = f'{where}: ' if where else ''
    raise ValueError(f'{prefix}{name!r} is not a plain file name ({problem}); expected '
                     "a file stem without '/', '\\', leading '.' or '..'")


def safe_join(root: PathLike, *parts: PathLike) -> str:
    """Join ``parts`` to ``root``; raise ``ValueError`` if the result is not inside it.

    The check is on the normalised absolute path (``..`` and absolute parts resolved
    lexically, symlinks not followed), and the target must differ from ``root``.
    Returns the joined path as a string (``osp.join(root, *parts)``).
    """
    path = osp.join(root, *parts)
    base = osp.normpath(osp.abspath(root))
    target = osp.normpath(osp.abspath(path))
    if target == base or osp.commonpath([base, target]) != base:
        raise ValueError(f'refusing path {path!r}: it resolves to {target!r}, which is '
                         f'not inside the folder {base!r}')
    return path
