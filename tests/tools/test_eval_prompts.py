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

from mmsamrs.evaluation.prompt_study import TABLE1_SETTINGS, order_settings, study_config
from mmsamrs.models.sam import build_sam
from prompt_study_data import HRSC_IMAGES, ISAID_IMAGES, write_hrsc, write_isaid

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / 'tools' / 'eval_prompts.py'
ROWS = REPO / 'configs' / 'gen' / 'hrsc_prompts'
TINY_SAM = 'dict(_delete_=True, embed_dim=64, depth=2, num_heads=2, global_attn_indexes=(1, ))'

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
    torch.save(build_sam(dict(embed_dim=64, depth=2, num_heads=2,
                              global_attn_indexes=(1, ))).state_dict(), path)
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


#: Rows of configs/gen/hrsc_prompts run end to end (each setting costs a mask-decoder
#: pass per image, about a second on the CPU; all 15 are checked by
#: test_hrsc_rows_are_table1).
STUDY_ROWS = ('rhbox.py', 'cp_hbox_hbox-m.py')


def test_hrsc_rows_are_table1():
    rows = [Config.fromfile(p) for p in sorted(ROWS.glob('[!_]*.py'))]
    assert len(rows) == 15
    assert study_config(rows).test_cfg.settings == list(TABLE1_SETTINGS)
    assert rows[0].test_dataloader.dataset.masks_only
    assert rows[0].model.arch == 'vit_h'


@pytest.fixture(scope='module')
def hrsc_study(realdata, checkpoint, tmp_path_factory):
    """Two row configs of configs/gen/hrsc_prompts through the CLI, encoder calls
    counted."""
    tmp = tmp_path_factory.mktemp('hrsc_study')
    data = write_hrsc(realdata, tmp / 'HRSC2016')
    (tmp / 'count_hook.py').write_text(COUNT_HOOK)
    rows = tmp / 'rows'
    rows.mkdir()
    hook = ("custom_imports = dict(imports=['mmsamrs', 'count_hook'])\n"
            "custom_hooks = [dict(type='CountEncoderImages')]\n")
    for name in STUDY_ROWS:
        wrap(ROWS / name, rows / name, checkpoint, data, hook)
    out = tmp / 'out'
    env = dict(os.environ, PYTHONPATH=f"{tmp}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    proc = subprocess.run([sys.executable, str(TOOL), str(rows), '--out', str(out)],
                          capture_output=True, text=True, cwd=str(REPO), env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return dict(data=data, rows=rows, out=out, log=proc.stdout + proc.stderr)


def test_hrsc_study_table1_layout(hrsc_study):
    out = hrsc_study['out']
    table = read_csv(out / 'prompt_study.csv')
    assert [r['setting'] for r in table] == ['CP+H-Box+H-Box-M', 'RH-Box']
    assert list(table[0]) == ['setting', 'CP', 'H-Box', 'H-Box-M', 'R-Box-M', 'RH-Box',
                              'RH-Box-M', 'mIoU_I', 'mIoU_P']
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
        assert float(by_name[name]['mIoU_I']) == pytest.approx(100 * np.mean(ious), abs=1e-4)
        total = sum(int(r['intersection']) for r in records) / sum(
            int(r['union']) for r in records)
        assert float(by_name[name]['mIoU_P']) == pytest.approx(100 * total, abs=1e-4)
    markdown = (out / 'prompt_study.md').read_text()
    assert '| Setting | CP | H-Box | H-Box-M | R-Box-M | RH-Box | RH-Box-M | mIoU_I | ' \
           'mIoU_P |' in markdown
    assert 'Images: 2 (0 more failed to load). Instances with a ground-truth mask: 3 (1 ' \
        'without one' in markdown
    assert markdown in hrsc_study['log']  # the table is printed
    assert Image.open(out / 'prompt_study.png').format == 'PNG'
    assert len(json.loads((out / 'prompt_study.json').read_text())) == 2


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
    cfg = Config.fromfile(wrap(ROWS / 'rhbox.py', tmp_path / 'rhbox.py', checkpoint,
                               hrsc_study['data'], quality))
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
    assert metrics['mIoU_I'] == pytest.approx(float(row['mIoU_I']), abs=1e-4)
    assert metrics['instances'] == 3 and metrics['without_mask'] == 1
    coco = COCO(str(tmp_path / 'gen' / 'instances.json'))
    anns = coco.loadAnns(coco.getAnnIds())
    assert len(anns) == 4 and all({'box_iou', 'outside', 'flags'} <= set(a) for a in anns)
    assert all(a['painted'] == (not a['flags']) for a in anns)
    summary = json.loads((tmp_path / 'gen' / 'summary.json').read_text())
    assert summary['instances']['flagged'] == sum(bool(a['flags']) for a in anns)
    assert summary['per_class'][0]['flagged'] == summary['instances']['flagged']


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
    rows = [Config.fromfile(ROWS / name) for name in ('rhbox.py', 'cp.py', 'hbox-m.py')]
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
