"""Pinned settings: JSON round trip, differences by dotted key, refusing other settings."""
import json

import pytest

from mmsamrs.utils import (check_settings, json_settings, pin_settings, read_settings,
                           settings_differences, write_settings)

SETTINGS = dict(model=dict(arch=dict(depth=2, global_attn_indexes=(1, )), weights='ab'),
                seed=0, write=dict(overlap_policy='small_on_top'))


def test_json_settings_reads_back_like_json():
    assert json_settings(dict(a=(1, 2), b=None)) == dict(a=[1, 2], b=None)
    with pytest.raises(ValueError):
        json_settings(dict(threshold=float('inf')))


def test_differences_are_listed_by_dotted_key():
    other = dict(model=dict(arch=dict(depth=3, global_attn_indexes=[1]), weights='cd'),
                 write=dict(overlap_policy='small_on_top'), classes=['ship'])
    assert settings_differences(json_settings(SETTINGS), other) == [
        'classes: (not set) in the folder, ["ship"] now',
        'model.arch.depth: 2 in the folder, 3 now',
        'model.weights: "ab" in the folder, "cd" now',
        'seed: 0 in the folder, (not set) now',
    ]
    long = settings_differences(dict(a='x' * 500), dict(a='y'))[0]
    assert long.startswith('a: "xxx') and 'xxx... in the folder' in long and len(long) < 160


def test_write_read_and_check(tmp_path):
    path = str(tmp_path / 'settings.json')
    assert read_settings(path) is None
    with pytest.raises(ValueError, match=r'the 3 images in x have no pinned settings \('):
        check_settings(path, SETTINGS, 'the 3 images in x', 'do this instead')
    write_settings(path, SETTINGS)
    assert read_settings(path) == json_settings(SETTINGS)
    assert json.loads((tmp_path / 'settings.json').read_text()) == json_settings(SETTINGS)
    check_settings(path, SETTINGS, 'images')  # the same settings (tuples as lists)
    changed = dict(SETTINGS, seed=1, write=dict(overlap_policy='score'))
    with pytest.raises(ValueError) as err:
        check_settings(path, changed, 'the 3 images in x', 'do this instead')
    message = str(err.value)
    assert message.startswith(f'the 3 images in x were made with other settings (pinned in '
                              f'{path}); 2 differ:')
    assert 'seed: 0 in the folder, 1 now' in message
    assert 'write.overlap_policy: "small_on_top" in the folder, "score" now' in message
    assert message.endswith('or do this instead.')


def test_pin_settings_writes_first_then_checks(tmp_path):
    path = str(tmp_path / 'settings.json')
    pin_settings(path, SETTINGS, 'patches')
    before = (tmp_path / 'settings.json').read_text()
    pin_settings(path, SETTINGS, 'patches')
    with pytest.raises(ValueError, match='patches were made with other settings'):
        pin_settings(path, dict(SETTINGS, seed=2), 'patches')
    assert (tmp_path / 'settings.json').read_text() == before  # never overwritten


def test_settings_json_is_strict(tmp_path):
    with pytest.raises(ValueError):
        write_settings(str(tmp_path / 'settings.json'), dict(mask_threshold=float('nan')))
    assert list(tmp_path.iterdir()) == []
