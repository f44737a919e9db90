"""The hand-countable SAMRS set of ``mmsamrs.testing.samrs_sets`` in both layouts, built once."""
from pathlib import Path
from typing import Dict

import pytest
from mmsamrs.testing.samrs_sets import write_generator_set, write_release_set


@pytest.fixture(scope='module')
def samrs_dirs(tmp_path_factory) -> Dict[str, Path]:
    """``images``, ``generator`` (output folder) and ``release`` (set root) paths."""
    root = tmp_path_factory.mktemp('samrs')
    write_generator_set(root / 'gen', root / 'src' / 'images')
    write_release_set(root / 'release' / 'SET', root / 'gen', root / 'src' / 'images')
    return dict(images=root / 'src' / 'images', generator=root / 'gen',
                release=root / 'release' / 'SET')
