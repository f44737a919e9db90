"""``--cfg-options data_root=...`` reaches the datasets of a config (mmsamrs.engine.cli)."""
from pathlib import Path

from mmsamrs.engine.cli import load_config

REPO = Path(__file__).resolve().parents[2]


def test_data_root_reaches_nested_datasets_only_where_it_was_used(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        "data_root = 'data/A'\n"
        "train = dict(dataset=dict(data_root=data_root, data_prefix=dict(img='i')))\n"
        "sets = [dict(data_root=data_root), dict(data_root='data/B')]\n"
        "test = dict(dataset=dict(data_root=data_root))\n")
    cfg = load_config(str(config), {'data_root': '/my/A', 'test.dataset.data_root': '/t'})
    assert cfg.data_root == '/my/A'
    assert cfg.train.dataset.data_root == '/my/A'
    assert cfg.train.dataset.data_prefix.img == 'i'
    assert [s['data_root'] for s in cfg.sets] == ['/my/A', 'data/B']
    assert cfg.test.dataset.data_root == '/t'
    untouched = load_config(str(config), {'sets.1.data_root': 'x'})
    assert untouched.train.dataset.data_root == 'data/A'


def test_any_top_level_variable_reaches_its_nested_keys(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        "label_layout = 'mmsamrs'\n"
        "num = 2\n"
        "train = dict(dataset=dict(label_layout=label_layout, num=num, other=num))\n"
        "val = [dict(dataset=dict(label_layout=label_layout)), dict(label_layout='x')]\n")
    cfg = load_config(str(config), {'label_layout': 'mmseg', 'num': 3})
    assert cfg.train.dataset.label_layout == 'mmseg' and cfg.val[0].dataset.label_layout == 'mmseg'
    assert cfg.val[1].label_layout == 'x'
    assert cfg.train.dataset.num == 3 and cfg.train.dataset.other == 2


def test_source_configs_take_one_data_root():
    for name, key in (('gen/dior_hbox.py', 'test_dataloader.dataset'),
                      ('gen/dota_hbox.py', 'test_dataloader.dataset'),
                      ('gen/fair1m_rhbox.py', 'test_dataloader.dataset'),
                      ('split/dota_1024.py', 'dataset'), ('split/fair1m_600.py', 'dataset')):
        default = load_config(str(REPO / 'configs' / name))
        dataset = default
        for part in key.split('.'):
            dataset = dataset[part]
        assert dataset.data_root == default.data_root and 'data_prefix' not in dataset, name
        cfg = load_config(str(REPO / 'configs' / name), {'data_root': '/my/copy'})
        dataset = cfg
        for part in key.split('.'):
            dataset = dataset[part]
        assert dataset.data_root == '/my/copy', name


def test_finetune_configs_take_one_label_layout():
    """``--cfg-options label_layout=mmseg`` switches every loader of a fine-tuning config,
    the few-label subset's wrapped training set included."""
    for name in ('potsdam/upernet_r50_1xb8-80k_potsdam-512x512.py',
                 'potsdam/upernet_r50_1xb8-80k_potsdam-1pct-512x512.py',
                 'isaid/upernet_r50_1xb8-80k_isaid-896x896.py',
                 'isaid/upernet_r50_1xb8-80k_isaid-5pct-896x896.py'):
        path = str(REPO / 'configs' / 'finetune' / name)
        default = load_config(path)
        cfg = load_config(path, {'label_layout': 'mmseg'})
        train = cfg.train_dataloader.dataset
        train = train.get('dataset', train)  # the -Npct subsets wrap the training set
        layouts = [train.label_layout, cfg.val_dataloader.dataset.label_layout,
                   cfg.test_dataloader.dataset.label_layout]
        assert layouts == ['mmseg'] * 3, name
        default_train = default.train_dataloader.dataset
        assert default_train.get('dataset', default_train).label_layout == 'mmsamrs', name
