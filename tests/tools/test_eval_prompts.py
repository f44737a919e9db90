"""tools/eval_prompts.py end to end on HRSC2016- and iSAID-format fixtures, tiny random SAM."""
import copy
import csv
import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner
from PIL import Image
from pycocotools.coco import COCO

from mmsamrs.evaluation.prompt_study import (TABLE1_SETTINGS, find_prompt_step, order_settings,
                                             study_config)
from mmsamrs.models.sam import build_sam, encoder_sizes
from mmsamrs.testing import TINY_ARCHS, TINY_SAM_ARCH
from mmsamrs.testing.prompt_study_data import HRSC_IMAGES, ISAID_IMAGES, write_hrsc, write_isaid

pytestmark = pytest.mark.slow  # end-to-end runs: see setup.cfg
REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'eval_prompts.py'
CONFIG = REPO / 'configs' / 'gen' / 'hrsc_prompts.py'
TINY_SAM = f'dict(_delete_=True, **{TINY_SAM_ARCH!r})'

#: A hook that records the batch size of every image-encoder call into the work dir.
COUNT_HOOK = '''
import json
from mmengine.hooks import Hook
from mmsamrs.registry import HOOKS


@HOOKS.register_module()
class CountEncoderImages(Hook):
    def before_test(self, runner):
        self.images = []
        self.handle = runner.model.sam.image_encoder.register_forward_hook(
            lambda module, args, output: self.images.append(len(args[0])))

    def after_test(self, runner):
        self.handle.remove()
        with open(f"{runner.work_dir}/encoder_images.json", "w") as f:
            json.dump(self.images, f)
'''


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Path:
    """A tiny random SAM saved as a plain state dict (the same weights in every run)."""
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp('sam') / 'sam_tiny.pth'
    torch.save(build_sam(TINY_SAM_ARCH).state_dict(), path)
    return path


def wrap(base: Path, path: Path, checkpoint: Path, data_root: Path, extra: str = '') -> Path:
    """A config inheriting ``base`` with the tiny SAM, the fixture data and one process."""
    path.write_text(f"""_base_ = [{str(base)!r}]
model = dict(arch={TINY_SAM}, checkpoint={str(checkpoint)!r}, prompt_chunk_size=8)
test_dataloader = dict(num_workers=0, dataset=dict(data_root={str(data_root)!r}))
{extra}""")
    return path


def read_csv(path: Path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def with_prompts(cfg: Config, setting: str) -> Config:
    """A copy of a prompt-study config whose SAMPrompts step uses ``setting``."""
    cfg = copy.deepcopy(cfg)
    pipeline = cfg.test_dataloader.dataset.pipeline
    pipeline[find_prompt_step(pipeline)].prompts = setting
    return cfg


#: Settings run end to end (each costs a mask-decoder pass per image, about a second on
#: the CPU; --settings table1 is checked by test_hrsc_config_runs_table1).
STUDY_SETTINGS = ('RH-Box', 'CP+H-Box+H-Box-M')


def test_hrsc_config_runs_table1():
    """One config; --settings table1 runs the 15 rows of Table 1 in the paper's order."""
    cfg = Config.fromfile(CONFIG)
    tool = runpy.run_path(str(TOOL), run_name='eval_prompts')
    args = tool['parse_args']([str(CONFIG), '--settings', 'table1'])
    assert study_config([cfg], args.settings).test_cfg.settings == list(TABLE1_SETTINGS)
    assert study_config([cfg]).test_cfg.settings == ['H-Box']  # the config's own
    assert cfg.test_dataloader.dataset.masks_only
    assert encoder_sizes(cfg.model.arch) == encoder_sizes('vit_h')


@pytest.fixture(scope='module')
def hrsc_study(realdata, checkpoint, tmp_path_factory):
    """configs/gen/hrsc_prompts.py with two --settings through the CLI, encoder calls
    counted."""
    tmp = tmp_path_factory.mktemp('hrsc_study')
    data = write_hrsc(realdata, tmp / 'HRSC2016')
    (tmp / 'count_hook.py').write_text(COUNT_HOOK)
    hook = ("custom_imports = dict(imports=['mmsamrs', 'count_hook'])\n"
            "custom_hooks = [dict(type='CountEncoderImages')]\n")
    config = wrap(CONFIG, tmp / 'hrsc_prompts.py', checkpoint, data, hook)
    out = tmp / 'out'
    env = dict(os.environ, PYTHONPATH=f"{tmp}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.run([sys.executable, str(TOOL), str(config), '--settings',
                           *STUDY_SETTINGS, '--out', str(out), '--save-masks'],
                          capture_output=True, text=True, cwd=str(REPO), env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(data=data, out=out, log=proc.stdout + proc.stderr)


def test_hrsc_study_table1_layout(hrsc_study):
    out = hrsc_study['out']
    table = read_csv(out / 'prompt_study.csv')
    assert [r['setting'] for r in table] == ['CP+H-Box+H-Box-M', 'RH-Box']
    assert list(table[0]) == ['setting', 'CP', 'H-Box', 'H-Box-M', 'R-Box-M', 'RH-Box',
                              'RH-Box-M', 'mIoU_I (%)', 'mIoU_P (%)']
    by_name = {r['setting']: r for r in table}
    assert [by_name['CP+H-Box+H-Box-M'][c] for c in list(table[0])[1:7]] == \
        ['1', '1', '1', '0', '0', '0']
    per_instance = read_csv(out / 'per_instance.csv')
    with_mask = sum(color is not None for *_, ships in HRSC_IMAGES.values()
                    for _, color in ships)
    for name in by_name:
        records = [r for r in per_instance if r['setting'] == name]
        assert len(records) == with_mask == 3
        ious = [int(r['intersection']) / int(r['union']) for r in records]
        assert float(by_name[name]['mIoU_I (%)']) == pytest.approx(100 * np.mean(ious),
                                                                   abs=1e-4)
        assert [float(r['IoU (%)']) for r in records] == pytest.approx(
            [100 * iou for iou in ious], abs=1e-4)
        total = sum(int(r['intersection']) for r in records) / sum(
            int(r['union']) for r in records)
        assert float(by_name[name]['mIoU_P (%)']) == pytest.approx(100 * total, abs=1e-4)
    markdown = (out / 'prompt_study.md').read_text()
    assert '| Setting | CP | H-Box | H-Box-M | R-Box-M | RH-Box | RH-Box-M | mIoU_I | ' \
           'mIoU_P |' in markdown
    assert 'Images: 2 (0 more failed to load). Instances with a ground-truth mask: 3 (1 ' \
        'without one' in markdown
    assert markdown in hrsc_study['log']  # the table is printed
    assert Image.open(out / 'prompt_study.png').format == 'PNG'
    assert len(json.loads((out / 'prompt_study.json').read_text())) == 2


def test_hrsc_study_can_be_audited(hrsc_study):
    """--save-masks: one COCO file per setting whose masks give the per-instance IoUs
    of per_instance.csv against the ground truth; every logged table names its setting."""
    out = hrsc_study['out']
    per_instance = read_csv(out / 'per_instance.csv')
    gt = {}
    for stem, (_, _, ships) in HRSC_IMAGES.items():
        seg = np.asarray(Image.open(hrsc_study['data'] / 'FullDataSet' / 'Segmentations'
                                    / f'{stem}.png').convert('RGB'))
        gt[stem] = [None if color is None else np.all(seg == color, axis=-1)
                    for _, color in ships]
    for name in ('CP+H-Box+H-Box-M', 'RH-Box'):
        assert f'setting {name}: per-class instance IoU' in hrsc_study['log']
        coco = COCO(str(out / 'masks' / f'{name}.json'))
        anns = coco.loadAnns(coco.getAnnIds())
        assert len(anns) == 4  # every instance, with or without a ground-truth mask
        for record in (r for r in per_instance if r['setting'] == name):
            (img, ) = [i for i in coco.dataset['images'] if i['img_id'] == record['img_id']]
            (ann, ) = [a for a in anns if a['image_id'] == img['id']
                       and a['source_index'] == int(record['index'])]
            pred = coco.annToMask(ann).astype(bool)
            truth = gt[record['img_id']][int(record['index'])]
            assert int(record['intersection']) == np.count_nonzero(pred & truth)
            assert int(record['union']) == np.count_nonzero(pred | truth)


def test_hrsc_study_encodes_each_image_once(hrsc_study):
    """Two images, batch size 2, two settings: one encoder call on two images."""
    assert json.loads((hrsc_study['out'] / 'encoder_images.json').read_text()) == [2]


def test_study_equals_generation_with_the_row_config(hrsc_study, checkpoint, tmp_path):
    """The RH-Box row through tools/generate_masks.py's loop (with quality control): the
    same per-instance IoUs as in the study, where RH-Box ran after CP+H-Box+H-Box-M on
    the same images (a leak of that setting's point or mask prompts would show), and
    flags consistent with the summary."""
    quality = 'test_cfg = dict(quality=dict(min_score=0.5, min_box_iou=0.5, ' \
        'max_outside=0.25, drop_flagged=True))'
    cfg = with_prompts(Config.fromfile(wrap(CONFIG, tmp_path / 'rhbox.py', checkpoint,
                                            hrsc_study['data'], quality)), 'RH-Box')
    cfg.work_dir = str(tmp_path / 'gen')
    runner = Runner.from_cfg(cfg)
    metrics = runner.test()
    (metric, ) = runner.test_loop.evaluator.metrics
    study = [r for r in read_csv(hrsc_study['out'] / 'per_instance.csv')
             if r['setting'] == 'RH-Box']
    assert [(r['img_id'], int(r['index']), int(r['intersection']), int(r['union']))
            for r in study] == [(r['img_id'], r['index'], r['intersection'], r['union'])
                                for r in metric.per_instance]
    row = next(r for r in read_csv(hrsc_study['out'] / 'prompt_study.csv')
               if r['setting'] == 'RH-Box')
    assert metrics['mIoU_I'] == pytest.approx(float(row['mIoU_I (%)']), abs=1e-4)
    assert metrics['instances'] == 3 and metrics['without_mask'] == 1
    coco = COCO(str(tmp_path / 'gen' / 'instances.json'))
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == 4 and all({'box_iou', 'outside', 'flags'} <= set(a) for a in anns)
    assert all(a['painted'] == (not a['flags']) for a in anns)
    summary = json.loads((tmp_path / 'gen' / 'summary.json').read_text())
    assert summary['instances']['flagged'] == sum(bool(a['flags']) for a in anns)
    assert summary['per_class'][0]['flagged'] == summary['instances']['flagged']


def test_study_of_two_models(hrsc_study, checkpoint, tmp_path):
    """The config's study_models: the tiny SAM (the runner's model) and a tiny SAM 2.1
    (square frame, {'model': ...} weight file), each encoding each image once; one column
    group and one timing row per model; the SAM group equals the single-model study."""
    torch.manual_seed(1)
    sam2_file = tmp_path / 'sam2.1_tiny.pt'
    torch.save({'model': build_sam(TINY_ARCHS['sam2.1']).state_dict()}, sam2_file)
    models = [dict(name='tiny_sam', arch=TINY_SAM_ARCH, checkpoint=str(checkpoint)),
              dict(name='tiny_sam2', arch=TINY_ARCHS['sam2.1'], checkpoint=str(sam2_file))]
    config = wrap(CONFIG, tmp_path / 'two_models.py', checkpoint, hrsc_study['data'],
                  f'study_models = {models!r}\n')
    tool = runpy.run_path(str(TOOL), run_name='eval_prompts')
    out = tmp_path / 'out'
    tool['main']([str(config), '--settings', *STUDY_SETTINGS, '--out', str(out),
                  '--save-masks'])
    table = read_csv(out / 'prompt_study.csv')
    assert list(table[0])[7:] == ['tiny_sam mIoU_I (%)', 'tiny_sam mIoU_P (%)',
                                  'tiny_sam2 mIoU_I (%)', 'tiny_sam2 mIoU_P (%)']
    single = {r['setting']: r for r in read_csv(hrsc_study['out'] / 'prompt_study.csv')}
    for row in table:
        assert row['tiny_sam mIoU_I (%)'] == single[row['setting']]['mIoU_I (%)']
        assert row['tiny_sam mIoU_P (%)'] == single[row['setting']]['mIoU_P (%)']
    per_instance = read_csv(out / 'per_instance.csv')
    for row in table:
        records = [r for r in per_instance
                   if r['model'] == 'tiny_sam2' and r['setting'] == row['setting']]
        assert len(records) == 3
        ious = [int(r['intersection']) / int(r['union']) for r in records]
        assert float(row['tiny_sam2 mIoU_I (%)']) == pytest.approx(100 * np.mean(ious),
                                                                   abs=1e-4)
    markdown = (out / 'prompt_study.md').read_text()
    assert '| tiny_sam mIoU_I | tiny_sam mIoU_P | tiny_sam2 mIoU_I | tiny_sam2 mIoU_P |' \
        in markdown
    timing = {r['model']: r['timing'] for r in json.loads((out / 'prompt_study.json')
                                                          .read_text())}
    assert set(timing) == {'tiny_sam', 'tiny_sam2'}
    assert all(t['images'] == 2 and t['encoder_s'] > 0 and t['decoder_s'] > 0
               for t in timing.values())
    assert '| tiny_sam2 | 2 |' in markdown
    assert {p.name for p in (out / 'masks').iterdir()} == {'tiny_sam', 'tiny_sam2'}
    assert len(list((out / 'masks' / 'tiny_sam2').glob('*.json'))) == 2


def test_models_option_names_archs_and_weight_files():
    """--models: names keep the config's other model keys, with official weights or the
    file after '='; a repeated name is refused."""
    cfg = Config.fromfile(CONFIG)
    study = study_config([cfg], ['H-Box'], ['vit_b', 'sam2.1_hiera_t=w/sam2.1_hiera_tiny.pt'])
    first, second = study.test_cfg.models
    assert (first['name'], first['model']['arch'], first['model']['checkpoint']) == \
        ('vit_b', 'vit_b', 'official')
    assert (second['name'], second['model']['checkpoint']) == \
        ('sam2.1_hiera_t', 'w/sam2.1_hiera_tiny.pt')
    assert second['model']['prompt_chunk_size'] == cfg.model.prompt_chunk_size
    assert study.model.arch == 'vit_b'  # the runner's model is the first
    with pytest.raises(ValueError, match='more than once'):
        study_config([cfg], ['H-Box'], ['vit_b', 'vit_b=other.pth'])


def test_isaid_study_in_process(checkpoint, tmp_path):
    """iSAID-format data (one image), chosen settings, run through the tool's main()."""
    write_isaid(tmp_path / 'isaid', {'P0001': ISAID_IMAGES['P0001']})
    config = wrap(REPO / 'configs' / 'gen' / 'isaid_prompts.py', tmp_path / 'isaid_cfg.py',
                  checkpoint, tmp_path / 'isaid')
    tool = runpy.run_path(str(TOOL), run_name='eval_prompts')
    out = tmp_path / 'out'
    tool['main']([str(config), '--settings', 'RH-Box', 'cp+hbox', 'H-Box', '--out', str(out)])
    table = read_csv(out / 'prompt_study.csv')
    assert [r['setting'] for r in table] == ['H-Box', 'CP+H-Box', 'RH-Box']
    markdown = (out / 'prompt_study.md').read_text()
    # the no-class instance is skipped by the reader (strict=False), 3 remain
    assert 'Images: 1 (0 more failed to load). Instances with a ground-truth mask: 3 (0 ' \
        'without one' in markdown
    assert '## Per class (mIoU_I / mIoU_P)' in markdown
    assert '| Setting | ship | Small_Vehicle | plane |' in markdown
    classes = {r['class'] for r in read_csv(out / 'per_instance.csv')}
    assert classes == {'ship', 'plane', 'Small_Vehicle'}


def test_study_config_checks_the_configs_agree():
    base = Config.fromfile(CONFIG)
    rows = [with_prompts(base, setting) for setting in ('RH-Box', 'CP', 'H-Box-M')]
    study = study_config(rows)
    assert study.test_cfg == dict(type='PromptStudyLoop', settings=['CP', 'H-Box-M', 'RH-Box'])
    assert study_config(rows[:1], ['table1']).test_cfg.settings == list(TABLE1_SETTINGS)
    other = copy.deepcopy(rows[1])
    other.model.prompt_chunk_size = 8
    with pytest.raises(ValueError, match=r"differs .* in \['model'\]"):
        study_config([rows[0], other])
    with pytest.raises(ValueError, match='more than once'):
        study_config([rows[0], rows[0]])
    assert order_settings(['cp+rhbox_mask', 'hbox_mask+cp', 'H-Box+R-Box-M']) == \
        ['CP+H-Box-M', 'CP+RH-Box-M', 'H-Box+R-Box-M']
    assert order_settings('table1') == list(TABLE1_SETTINGS)
    with pytest.raises(ValueError, match='at most one box'):
        order_settings(['H-Box+RH-Box'])
