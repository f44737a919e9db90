"""GenerationLoop in process with a tiny random SAM: per-image failures, pinned settings,
no readable image, progress, seeded random weights."""
import json
import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmsamrs.models.sam import SAMGenerator
from mmsamrs.registry import TRANSFORMS
from mmsamrs.testing import TINY_SAM_ARCH
from mmsamrs.testing.generation import run_generation
from mmsamrs.utils import NothingReadError

REPO = Path(__file__).resolve().parents[2]
#: Boxes of the synthetic images (DOTA quads are written from them).
BOXES = [(4, 6, 30, 28), (20, 24, 60, 58), (40, 2, 62, 20)]


@TRANSFORMS.register_module(force=True)
class FailOnImageForTest:
    """A pipeline step that raises for one image id (a bad annotation, say)."""

    def __init__(self, img_id: str) -> None:
        self.img_id = img_id

    def __call__(self, results: dict) -> dict:
        if results['img_id'] == self.img_id:
            raise RuntimeError('boom in the pipeline')
        return results


def write_image(root: Path, name: str, size=(64, 64), seed=0, boxes=BOXES) -> None:
    """A random image and its DOTA labelTxt (one ship per box)."""
    height, width = size
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (height, width, 3), np.uint8)).save(
        root / 'images' / f'{name}.png')
    lines = [f'{x1} {y1} {x2} {y1} {x2} {y2} {x1} {y2} ship 0' for x1, y1, x2, y2 in boxes]
    (root / 'labelTxt' / f'{name}.txt').write_text('\n'.join(lines) + '\n')


def make_source(root: Path, names) -> Path:
    (root / 'images').mkdir(parents=True)
    (root / 'labelTxt').mkdir()
    for seed, name in enumerate(names):
        write_image(root, name, seed=seed)
    return root


def gen_config(tmp_path: Path, data_root: Path, pipeline_extra: str = '') -> Path:
    """configs/gen/dota_hbox.py with a tiny random SAM, given as a child config (the arch
    dict needs no ``_delete_``)."""
    path = tmp_path / f'gen_{uuid.uuid4().hex[:8]}.py'
    path.write_text(f"""_base_ = [{str(REPO / 'configs' / 'gen' / 'dota_hbox.py')!r}]
model = dict(arch={TINY_SAM_ARCH!r}, checkpoint=None, prompt_chunk_size=8, precision='fp32')
test_dataloader = dict(batch_size=2, num_workers=0, dataset=dict(
    data_root={str(data_root)!r}, version='1.0', pipeline=[
        dict(type='LoadImageOrRecordError'), {pipeline_extra}
        dict(type='SAMPrompts', prompts=('hbox', )), dict(type='PackSAMInputs')]))
log_level = 'WARNING'
""")
    return path


def outputs(work: Path, names) -> dict:
    """Bytes of the per-image outputs of ``names``."""
    return {f'{sub}/{n}{ext}': (work / sub / f'{n}{ext}').read_bytes() for n in names
            for sub, ext in (('gray', '.png'), ('color', '.png'), ('instances', '.json'))}


def test_thin_image_fails_alone_and_resume_retries_it(tmp_path, capsys):
    """A 1 x 3000 image breaks SAM's resize: it is recorded, its batch-mate is done."""
    good = make_source(tmp_path / 'good', 'abc')
    reference = run_generation(gen_config(tmp_path, good), tmp_path / 'reference')
    assert reference.test_loop.summary['images']['failed'] == 0

    data = make_source(tmp_path / 'data', 'abc')
    write_image(data, 'thin', size=(1, 3000), boxes=[(0, 0, 100, 1)])
    config = gen_config(tmp_path, data)
    work = tmp_path / 'work'
    runner = run_generation(config, work)
    summary = runner.test_loop.summary
    assert summary['images']['done'] == 3 and summary['images']['failed'] == 1
    (failure, ) = json.loads((work / 'failures.json').read_text())
    assert failure['img_path'] == str(data / 'images' / 'thin.png')
    assert 'too elongated for SAM' in failure['error'] and '(1, 3000)' in failure['error']
    assert outputs(work, 'abc') == outputs(tmp_path / 'reference', 'abc')
    # the same seed draws the same random SAM: the same pinned settings
    assert (work / 'settings.json').read_text() == \
        (tmp_path / 'reference' / 'settings.json').read_text()
    progress = capsys.readouterr().out
    assert 'images 4/4' in progress and 'boxes 9/10' in progress and 'left 0:00:00' in progress

    write_image(data, 'thin', size=(64, 64), seed=7, boxes=[(0, 0, 100 // 2, 1)])
    resumed = run_generation(config, work, resume=True).test_loop.summary
    assert resumed['images'] == {'done': 4, 'skipped': 3, 'new': 1, 'failed': 0, 'empty': 0}
    assert json.loads((work / 'failures.json').read_text()) == []
    assert outputs(work, 'abc') == outputs(tmp_path / 'reference', 'abc')


def test_pipeline_and_sam_errors_fail_only_their_image(tmp_path, monkeypatch):
    data = make_source(tmp_path / 'data', 'abcd')
    reference = tmp_path / 'reference'
    run_generation(gen_config(tmp_path, data), reference)

    segment = SAMGenerator.segment

    def failing_segment(self, embedding, sample):
        if sample.img_id == 'c':
            raise RuntimeError('boom in SAM')
        return segment(self, embedding, sample)

    monkeypatch.setattr(SAMGenerator, 'segment', failing_segment)
    work = tmp_path / 'work'
    config = gen_config(tmp_path, data, "dict(type='FailOnImageForTest', img_id='b'),")
    summary = run_generation(config, work).test_loop.summary
    assert summary['images']['done'] == 2 and summary['images']['failed'] == 2
    errors = {f['stem']: f['error'] for f in json.loads((work / 'failures.json').read_text())}
    assert errors['b'].startswith(f'cannot prepare image {data / "images" / "b.png"}: '
                                  'RuntimeError: boom in the pipeline')
    assert errors['c'] == f'SAM failed on image {data / "images" / "c.png"}: ' \
        'RuntimeError: boom in SAM'
    assert outputs(work, 'ad') == outputs(reference, 'ad')


def test_resume_refuses_other_settings(tmp_path):
    data = make_source(tmp_path / 'data', 'ab')
    config = gen_config(tmp_path, data)
    work = tmp_path / 'work'
    run_generation(config, work)
    pinned = json.loads((work / 'settings.json').read_text())
    assert pinned['seed'] == 0 and len(pinned['model']['weights']) == 64
    assert pinned['model']['arch'] == dict(TINY_SAM_ARCH, global_attn_indexes=[1])
    assert pinned['write'] == dict(overlap_policy='small_on_top', write_empty=True,
                                   quality=None)
    cases = {
        'seed': ({'randomness.seed': 1}, ['seed: 0 in the folder, 1 now', 'model.weights']),
        'chunks': ({'model.prompt_chunk_size': 4},
                   ['model.prompt_chunk_size: 8 in the folder, 4 now']),
        'policy': ({'test_cfg.overlap_policy': 'score'}, ['write.overlap_policy']),
        'prompts': ({'test_dataloader.dataset.pipeline.1.prompts': ('cp', )},
                    ['dataset.pipeline']),
        'arch': ({'model.arch.depth': 3}, ['model.arch.depth: 2 in the folder, 3 now']),
    }
    for options, expected in cases.values():
        with pytest.raises(ValueError, match='were made with other settings') as err:
            run_generation(config, work, resume=True, **options)
        for text in expected:
            assert text in str(err.value)
    # a moved copy of the same data resumes: paths are not pinned
    shutil.copytree(data, tmp_path / 'moved')
    moved = run_generation(gen_config(tmp_path, tmp_path / 'moved'), work, resume=True)
    summary = moved.test_loop.summary
    assert summary['images']['skipped'] == 2


def test_no_readable_image_is_an_error(tmp_path):
    data = make_source(tmp_path / 'data', 'abc')
    for image in (data / 'images').iterdir():
        image.rename(image.with_suffix('.gif'))
    with pytest.raises(NothingReadError) as err:
        run_generation(gen_config(tmp_path, data), tmp_path / 'work')
    message = str(err.value)
    assert message.startswith('no image could be read: 3 images were expected')
    assert str(data / 'images') in message and '.png' in message
    assert (tmp_path / 'work' / 'source_report.json').exists()


def test_random_weights_warn(tmp_path):
    data = make_source(tmp_path / 'data', 'a')
    work = tmp_path / 'work'
    run_generation(gen_config(tmp_path, data), work)
    (log, ) = work.glob('*/*.log')
    assert 'SAM has random weights (model.checkpoint=None): its masks are meaningless' \
        in log.read_text()
