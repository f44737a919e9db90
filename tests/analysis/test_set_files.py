"""Finding a set's files in the generator and the public-release layouts, and configs."""
import pytest

from mmsamrs.analysis import SetSource, find_image, load_sets, resolve_classes
from mmsamrs.datasets.class_names import FAST_CLASSES, SIOR_CLASSES, SOTA_CLASSES


def test_resolve_classes():
    assert resolve_classes('SOTA', 'x') == SOTA_CLASSES
    assert resolve_classes(None, 'sior') == SIOR_CLASSES
    assert resolve_classes(None, 'FAST') == FAST_CLASSES
    assert resolve_classes(None, 'mine') is None
    assert resolve_classes(' a, b ,c', 'x') == ('a', 'b', 'c')
    assert resolve_classes(['x', 'y'], 'x') == ('x', 'y')
    with pytest.raises(ValueError, match='distinct'):
        resolve_classes('a,a', 'x')


def test_generator_layout(samrs_dirs):
    gen = samrs_dirs['generator']
    source = SetSource.from_root(str(gen) + '/', img_dir=str(samrs_dirs['images']))
    assert source.name == 'gen' and source.label_dir == str(gen / 'gray')
    assert source.coco_file == str(gen / 'instances.json') and source.classes is None
    assert sorted(source.iter_label_files()) == [str(gen / 'gray' / f'{s}.png') for s in 'ABC']
    assert source.count_label_files() == 3
    assert find_image('C', source.img_dirs) == str(samrs_dirs['images'] / 'C.jpg')
    assert find_image('Z', source.img_dirs) is None


def test_release_layout_from_set_root_or_label_folder(samrs_dirs):
    root = samrs_dirs['release']
    for path in (root, root / 'hbox_segs_init'):
        source = SetSource.from_root(str(path), 'SOTA')
        assert source.label_dir == str(root / 'hbox_segs_init' / 'gray')
        assert source.img_dirs == (str(root / 'images'), )
        assert source.coco_file is None and source.classes == SOTA_CLASSES


def test_layout_errors(samrs_dirs, tmp_path):
    with pytest.raises(FileNotFoundError, match='no label folder'):
        SetSource.from_root(str(tmp_path), classes='sota')
    (tmp_path / 'hbox' / 'gray').mkdir(parents=True)
    (tmp_path / 'rhbox' / 'gray').mkdir(parents=True)
    with pytest.raises(ValueError, match='several label folders'):
        SetSource.from_root(str(tmp_path), classes='sota')
    with pytest.raises(ValueError, match='no classes given'):
        SetSource.from_root(str(tmp_path / 'hbox'))
    with pytest.raises(FileNotFoundError, match='image folder'):
        SetSource.from_root(str(tmp_path / 'hbox'), classes='sota', img_dir=str(tmp_path / 'x'))
    with pytest.raises(FileNotFoundError, match='COCO file not found'):
        SetSource.from_root(str(tmp_path / 'hbox'), classes='sota', coco_file='nope.json')


def test_load_sets_from_directory_or_config(samrs_dirs, tmp_path):
    (source, ) = load_sets(str(samrs_dirs['release']), 'SOTA')
    assert source.classes == SOTA_CLASSES
    config = tmp_path / 'sets.py'
    config.write_text(
        f"sets = [dict(name='G', root='{samrs_dirs['generator']}', "
        f"img_dir='{samrs_dirs['images']}'),\n"
        f"        dict(name='R', root='{samrs_dirs['release']}', classes=['a', 'b', 'c'])]\n")
    gen, rel = load_sets(str(config))
    assert (gen.name, gen.classes, gen.img_dirs) == ('G', None, (str(samrs_dirs['images']), ))
    assert (rel.name, rel.classes) == ('R', ('a', 'b', 'c'))
    with pytest.raises(ValueError, match='apply to a directory'):
        load_sets(str(config), name='X')
    (tmp_path / 'empty.py').write_text('x = 1\n')
    with pytest.raises(ValueError, match='no `sets` list'):
        load_sets(str(tmp_path / 'empty.py'))
    with pytest.raises(FileNotFoundError, match='neither a directory nor a config'):
        load_sets(str(tmp_path / 'missing'))
