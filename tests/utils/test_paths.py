"""The path guards: plain file stems and joins that stay inside their folder."""
import os

import pytest

from mmsamrs.utils import check_plain_stem, safe_join


@pytest.mark.parametrize('name', ['P0706', 'P0706__1024__0___0', 'a.b', 'a..b', '00001',
                                  'img with space'])
def test_plain_stems_pass(name):
    assert check_plain_stem(name, 'split.txt, line 1') == name


@pytest.mark.parametrize('name,problem', [
    ('', 'empty'), ('../x', 'separator'), ('/etc/passwd', 'separator'), ('a\\b', 'separator'),
    ('C:\\x', 'separator'), ('a/b', 'separator'), ('x\0', 'separator'), ('.hidden', "'.'"),
    ('..', "'.'"), ('.', "'.'"),
])
def test_other_names_are_refused(name, problem):
    with pytest.raises(ValueError) as info:
        check_plain_stem(name, 'split.txt, line 3')
    text = str(info.value)
    assert text.startswith(f'split.txt, line 3: {name!r} is not a plain file name')
    assert problem in text
    with pytest.raises(ValueError, match=r"^'"):
        check_plain_stem(name)  # without ``where`` the message starts with the name


def test_safe_join_inside(tmp_path):
    assert safe_join(tmp_path, 'images', 'a.png') == os.path.join(tmp_path, 'images', 'a.png')
    assert safe_join(str(tmp_path), 'a..b.png') == os.path.join(tmp_path, 'a..b.png')
    assert safe_join('relative/out', 'x', '..', 'y.txt') == 'relative/out/x/../y.txt'


@pytest.mark.parametrize('parts', [('..', 'x.png'), ('../../x',), ('/etc/passwd',),
                                   ('a', '..', '..', 'x'), ('.',), ()])
def test_safe_join_refuses_targets_outside(tmp_path, parts):
    root = tmp_path / 'out'
    with pytest.raises(ValueError, match=f"not inside the folder '{root}'"):
        safe_join(root, *parts)


def test_safe_join_refuses_sibling_with_common_prefix(tmp_path):
    with pytest.raises(ValueError, match='not inside'):
        safe_join(tmp_path / 'out', '../out_evil/x.png')
