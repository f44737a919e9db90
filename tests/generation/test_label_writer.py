"""SAMRSLabelWriter: files and formats, empty images, failures, crashes, resume, readers."""
import json
import multiprocessing
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from pycocotools.coco import COCO

from mmsamrs.generation import SAMRSLabelWriter, failure_message, format_summary
from mmsamrs.generation.label_writer import dumps

CLASSES = ('plane', 'ship', 'harbor')
PALETTE = [[200, 0, 0], [0, 200, 0], [0, 0, 200]]


def make_result(stem, shape, objects, rotated=True, img_path=None):
    """objects: (label, bool crop, (x0, y0), score); H-Box = crop window."""
    num = len(objects)
    hboxes = np.array([[x0, y0, x0 + m.shape[1], y0 + m.shape[0]]
                       for _, m, (x0, y0), _ in objects], np.float32).reshape(num, 4)
    rboxes = np.concatenate([(hboxes[:, :2] + hboxes[:, 2:]) / 2, hboxes[:, 2:] - hboxes[:, :2],
                             np.full((num, 1), 0.1, np.float32)], axis=1)
    return {
        'img_id': stem, 'img_path': img_path or f'/data/images/{stem}.png',
        'ori_shape': shape, 'error': None,
        'labels': np.array([o[0] for o in objects], np.int64),
        'scores': np.array([o[3] for o in objects], np.float32),
        'hboxes': hboxes, 'rboxes': rboxes if rotated else None,
        'mask_crops': [o[1] for o in objects],
        'mask_offsets': np.array([o[2] for o in objects], np.int64).reshape(num, 2),
    }


def random_results(count=8, seed=0):
    """Images with random (overlapping, border-touching) masks, one empty, one failed."""
    rng = np.random.default_rng(seed)
    results = []
    for k in range(count):
        shape = (int(rng.integers(30, 50)), int(rng.integers(30, 50)))
        objects = []
        for _ in range(0 if k == 2 else int(rng.integers(1, 6))):
            h, w = (int(v) for v in rng.integers(1, 20, 2))
            x0, y0 = int(rng.integers(0, shape[1] - w + 1)), int(rng.integers(0, shape[0] - h + 1))
            objects.append((int(rng.integers(0, 3)), rng.random((h, w)) < 0.7, (x0, y0),
                            float(rng.random())))
        results.append(make_result(f'img_{k:03d}', shape, objects, rotated=k % 2 == 0))
    results[5] = {'img_id': 'img_005', 'img_path': '/data/images/img_005.png',
                  'error': 'cannot decode image'}
    return results


def final_files(out_dir):
    """Every output file except the run-specific summary, as {relative path: bytes}."""
    root = Path(out_dir)
    return {str(p.relative_to(root)): p.read_bytes()
            for p in sorted(root.rglob('*')) if p.is_file() and p.name != 'summary.json'}


def read_png(path):
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def new_writer(out_dir, **kwargs):
    return SAMRSLabelWriter(str(out_dir), CLASSES, PALETTE, **kwargs)


class SimulatedKill(BaseException):
    """A process killed mid-write (not an error the writer may catch and record)."""


def test_write_files_and_formats(tmp_path):
    big, small = np.ones((10, 10), bool), np.ones((4, 4), bool)
    ring = np.ones((6, 6), bool)
    ring[2:4, 2:4] = False
    result = make_result('P0001', (20, 24),
                         [(2, small, (3, 3), 0.5), (0, big, (0, 0), 0.9), (1, ring, (20, 16), 0.8)])
    writer = new_writer(tmp_path)
    assert not writer.is_done('P0001')
    writer.write(result)
    assert writer.is_done('P0001') and writer.done_ids() == {'P0001'}

    gray = read_png(tmp_path / 'gray' / 'P0001.png')
    assert gray.dtype == np.uint8 and gray.shape == (20, 24)
    assert (gray[3:7, 3:7] == 2).all()  # small on top of big, although listed first
    assert (gray[:10, :10][gray[:10, :10] != 2] == 0).all()
    assert gray[16, 20] == 1 and gray[18, 22] == 255  # ring hole stays unlabelled
    assert ((gray == 1).sum(), (gray == 255).sum()) == (12, 480 - 100 - 12)
    color = Image.open(tmp_path / 'color' / 'P0001.png')
    assert color.mode == 'P' and np.array_equal(np.array(color), gray)
    rgb = np.array(color.convert('RGB'))
    assert rgb[0, 0].tolist() == PALETTE[0] and rgb[4, 4].tolist() == PALETTE[2]
    assert rgb[19, 0].tolist() == [0, 0, 0]  # 255 is black
    bgr = cv2.imread(str(tmp_path / 'color' / 'P0001.png'), cv2.IMREAD_COLOR)
    assert np.array_equal(bgr[..., ::-1], rgb)

    fragment = json.loads((tmp_path / 'instances' / 'P0001.json').read_text())
    assert fragment['image'] == {'stem': 'P0001', 'file_name': 'P0001.png',
                                 'height': 20, 'width': 24}
    first = fragment['annotations'][0]
    assert first['category_id'] == 3 and first['category_name'] == 'harbor'
    assert first['bbox'] == [3.0, 3.0, 4.0, 4.0] and first['mask_bbox'] == [3, 3, 4, 4]
    assert first['area'] == 16 and first['score'] == 0.5 and first['iscrowd'] == 0
    assert first['source_index'] == 0 and first['painted'] is True
    assert first['rbox'] == [5.0, 5.0, 4.0, 4.0, 0.1]
    third = fragment['annotations'][2]  # crop clipped by the image border
    assert third['area'] == 16 - 4 and third['mask_bbox'] == [20, 16, 4, 4]


def test_keep_and_no_rbox(tmp_path):
    result = make_result('a', (8, 8), [(0, np.ones((4, 4), bool), (0, 0), 0.9)], rotated=False)
    result['keep'] = np.array([False])
    new_writer(tmp_path).write(result)
    assert (read_png(tmp_path / 'gray' / 'a.png') == 255).all()
    ann = json.loads((tmp_path / 'instances' / 'a.json').read_text())['annotations'][0]
    assert ann['painted'] is False and 'rbox' not in ann


@pytest.mark.parametrize('write_empty', [True, False])
def test_images_without_objects(tmp_path, write_empty):
    writer = new_writer(tmp_path, write_empty=write_empty)
    writer.write(make_result('empty', (5, 7), []))
    assert writer.is_done('empty')
    gray = tmp_path / 'gray' / 'empty.png'
    assert gray.exists() == write_empty and (tmp_path / 'color' / 'empty.png').exists() \
        == write_empty
    if write_empty:
        assert read_png(gray).shape == (5, 7) and (read_png(gray) == 255).all()
    summary = writer.finalize()
    assert summary['images']['done'] == 1 and summary['images']['empty'] == 1


def test_failures_are_recorded_and_retried(tmp_path):
    writer = new_writer(tmp_path)
    writer.write({'img_id': 'bad', 'img_path': '/data/bad.png', 'error': 'truncated file'})
    assert not writer.is_done('bad') and writer.done_ids() == set()
    assert os.listdir(tmp_path / 'gray') == [] and os.listdir(tmp_path / 'color') == []
    summary = writer.finalize()
    expected = [{'stem': 'bad', 'img_path': '/data/bad.png', 'error': 'truncated file'}]
    assert json.loads((tmp_path / 'failures.json').read_text()) == expected
    assert summary['images']['failed'] == 1 and 'FAILED /data/bad.png: truncated file' \
        in format_summary(summary)
    # a later run succeeds on it: the failure disappears
    writer.write(make_result('bad', (6, 6), [(1, np.ones((2, 2), bool), (1, 1), 0.7)]))
    assert writer.is_done('bad')
    assert writer.finalize()['images']['failed'] == 0
    assert json.loads((tmp_path / 'failures.json').read_text()) == []


@pytest.mark.parametrize('crash_at', [1, 2, 3])
def test_crash_leaves_no_partial_files(tmp_path, monkeypatch, crash_at):
    """The process dies at the gray PNG (1), the colour PNG (2) or the fragment (3)."""
    real_replace, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == crash_at:
            raise SimulatedKill()
        real_replace(src, dst)

    writer = new_writer(tmp_path)
    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(SimulatedKill):
        writer.write(make_result('x', (9, 9), [(0, np.ones((3, 3), bool), (2, 2), 0.9)]))
    monkeypatch.undo()
    assert not writer.is_done('x') and os.listdir(tmp_path / 'instances') == []
    assert (tmp_path / 'gray' / 'x.png').exists() == (crash_at > 1)
    leftovers = [p for p in tmp_path.rglob('*') if p.is_file()]
    assert all(not p.name.startswith('.') for p in leftovers)  # no temp files either


def run_uninterrupted(out_dir, results):
    writer = new_writer(out_dir)
    for result in results:
        writer.write(result)
    return writer.finalize(elapsed_s=2.0)


def test_resume_gives_identical_outputs(tmp_path, monkeypatch):
    results = random_results()
    run_uninterrupted(tmp_path / 'a', results)

    out = tmp_path / 'b'
    first = new_writer(out)
    for result in results[:4]:
        first.write(result)
    real_replace = os.replace

    def replace(src, dst):
        if dst.endswith('img_004.json'):
            raise SimulatedKill()
        real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', replace)
    with pytest.raises(SimulatedKill):
        first.write(results[4])  # crashes after its PNGs, before its fragment
    monkeypatch.undo()
    (out / 'gray' / '.img_006.png.deadbeef00000000.tmp').write_bytes(b'partial')  # SIGKILL

    second = new_writer(out)  # the resumed run
    todo = [r for r in results if not second.is_done(r['img_id'])]
    assert [r['img_id'] for r in todo] == ['img_004', 'img_005', 'img_006', 'img_007']
    for result in todo:
        second.write(result)
    summary = second.finalize(skipped=len(results) - len(todo), elapsed_s=1.0)
    assert final_files(out) == final_files(tmp_path / 'a')
    assert summary['images'] == {'done': 7, 'skipped': 4, 'new': 3, 'failed': 1, 'empty': 1}
    assert summary['images_per_s'] == 3.0
    # finalising again is idempotent
    second.finalize()
    assert final_files(out) == final_files(tmp_path / 'a')


def write_share(out_dir, rank, world_size):
    writer = new_writer(out_dir)
    for result in random_results()[rank::world_size]:
        writer.write(result)


def test_ranks_write_disjoint_files_then_one_finalize(tmp_path):
    run_uninterrupted(tmp_path / 'single', random_results())
    ctx = multiprocessing.get_context('fork')
    procs = [ctx.Process(target=write_share, args=(str(tmp_path / 'ranks'), r, 2))
             for r in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    new_writer(tmp_path / 'ranks').finalize()
    assert final_files(tmp_path / 'ranks') == final_files(tmp_path / 'single')


def test_instances_json_ids_and_pycocotools_round_trip(tmp_path):
    results = random_results()
    summary = run_uninterrupted(tmp_path, results)
    coco = COCO(str(tmp_path / 'instances.json'))
    done = [r for r in results if r.get('error') is None]
    assert [img['stem'] for img in coco.dataset['images']] == [r['img_id'] for r in done]
    assert [img['id'] for img in coco.dataset['images']] == list(range(1, len(done) + 1))
    anns = coco.dataset['annotations']
    assert [a['id'] for a in anns] == list(range(1, len(anns) + 1))
    assert coco.dataset['categories'] == [
        {'id': i + 1, 'name': n, 'label_index': i} for i, n in enumerate(CLASSES)]
    assert coco.getCatIds(catNms=['ship']) == [2]
    for image_id, result in enumerate(done, 1):
        img = coco.imgs[image_id]
        assert (img['height'], img['width']) == tuple(result['ori_shape'])
        got = coco.loadAnns(coco.getAnnIds(imgIds=[image_id]))
        assert [a['source_index'] for a in got] == list(range(len(result['labels'])))
        for ann, crop, (x0, y0), label, hbox in zip(got, result['mask_crops'],
                                                    result['mask_offsets'], result['labels'],
                                                    result['hboxes']):
            expected = np.zeros(result['ori_shape'], np.uint8)
            expected[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
            assert np.array_equal(coco.annToMask(ann), expected)
            assert ann['category_id'] == label + 1 and ann['area'] == expected.sum()
            assert ann['bbox'] == pytest.approx([hbox[0], hbox[1], hbox[2] - hbox[0],
                                                 hbox[3] - hbox[1]])
    per_class = {c['name']: c['instances'] for c in summary['per_class']}
    assert sum(per_class.values()) == len(anns) == summary['instances']['total']
    assert per_class['ship'] == sum(a['category_id'] == 2 for a in anns)
    assert 'ship' in format_summary(summary) and 'images/s' in format_summary(summary)


def test_mmdet_coco_dataset_reads_instances(tmp_path):
    from mmdet.datasets import CocoDataset
    from mmdet.structures.mask import BitmapMasks

    img_dir = tmp_path / 'images'
    img_dir.mkdir()
    results = [r for r in random_results() if r.get('error') is None]
    for r in results:
        r['img_path'] = str(img_dir / f"{r['img_id']}.png")
        cv2.imwrite(r['img_path'], np.zeros((*r['ori_shape'], 3), np.uint8))
    writer = SAMRSLabelWriter(str(tmp_path / 'out'), CLASSES, PALETTE, img_root=str(img_dir))
    for r in results:
        writer.write(r)
    writer.finalize()
    dataset = CocoDataset(
        ann_file=str(tmp_path / 'out' / 'instances.json'), data_root='',
        data_prefix=dict(img=str(img_dir)), metainfo=dict(classes=CLASSES),
        pipeline=[dict(type='mmdet.LoadImageFromFile'),
                  dict(type='mmdet.LoadAnnotations', with_bbox=True, with_mask=True)])
    assert len(dataset) == len(results)
    for i, r in enumerate(results):
        item = dataset[i]
        assert item['img'].shape[:2] == tuple(r['ori_shape'])
        masks = item['gt_masks']
        assert isinstance(masks, BitmapMasks) and len(masks) == len(r['labels'])
        assert item['gt_bboxes_labels'].tolist() == r['labels'].tolist()
        for mask, crop, (x0, y0) in zip(masks.masks, r['mask_crops'], r['mask_offsets']):
            expected = np.zeros(r['ori_shape'], np.uint8)
            expected[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]] = crop
            assert np.array_equal(mask, expected)


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match='overlap_policy'):
        new_writer(tmp_path, overlap_policy='biggest')
    with pytest.raises(ValueError, match='palette'):
        SAMRSLabelWriter(str(tmp_path), CLASSES, PALETTE[:2])
    writer = new_writer(tmp_path)
    with pytest.raises(ValueError, match='stem'):
        writer.is_done('../escape')
    error = writer.write(make_result('c', (5, 5), [(3, np.ones((1, 1), bool), (0, 0), 0.5)]))
    assert 'labels outside [0, 2]' in error and not writer.is_done('c')


def test_dumps_is_deterministic():
    assert dumps({'b': [1.5, 'x'], 'a': 0}) == b'{"a":0,"b":[1.5,"x"]}'


GOOD = [(1, np.ones((2, 3), bool), (1, 1), 0.7)]


@pytest.mark.parametrize('img_id', ['.hidden', 'a\\b', '../escape', '', '.hidden__256__0___0'])
def test_bad_image_id_is_recorded_and_others_go_on(tmp_path, img_id):
    """An id that is not a plain file stem fails that image only; nothing leaves out_dir."""
    out = tmp_path / 'out'
    writer = new_writer(out)
    writer.write(make_result('before', (6, 6), GOOD))
    error = writer.write(make_result(img_id, (6, 6), GOOD, img_path='/data/images/x.png'))
    writer.write(make_result('after', (6, 6), GOOD))
    assert 'not a plain file name' in error
    summary = writer.finalize()
    assert summary['images']['done'] == 2 and summary['images']['failed'] == 1
    (failure, ) = json.loads((out / 'failures.json').read_text())
    assert failure['stem'] == img_id and failure['img_path'] == '/data/images/x.png'
    assert 'not a plain file name' in failure['error']
    files = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob('*') if p.is_file()}
    assert all(f.startswith('out' + os.sep) for f in files)
    assert sorted(os.listdir(out / 'gray')) == ['after.png', 'before.png']
    reference = tmp_path / 'reference'
    run_uninterrupted(reference, [make_result(s, (6, 6), GOOD) for s in ('before', 'after')])
    for sub in ('gray', 'color', 'instances'):
        for name in os.listdir(reference / sub):
            assert (out / sub / name).read_bytes() == (reference / sub / name).read_bytes()


@pytest.mark.parametrize('field,value', [('scores', np.nan), ('hboxes', np.inf),
                                         ('rboxes', 1e308)])
def test_non_finite_numbers_fail_the_image_not_the_json(tmp_path, field, value):
    writer = new_writer(tmp_path)
    result = make_result('bad', (6, 6), GOOD)
    result[field] = np.asarray(result[field], np.float64)
    result[field].flat[0] = value  # 1e308 becomes inf in float32
    error = writer.write(result)
    assert f'{field} hold NaN or infinite values' in error and not writer.is_done('bad')
    writer.write(make_result('good', (6, 6), GOOD))
    summary = writer.finalize()
    assert summary['images']['failed'] == 1
    for name in ('instances.json', 'failures.json', 'summary.json'):
        json.loads((tmp_path / name).read_text(), parse_constant=pytest.fail)


def test_write_error_is_recorded_then_retried(tmp_path, monkeypatch):
    """An OSError while writing (e.g. a full disk) fails that image; a rerun retries it."""
    real_replace = os.replace

    def replace(src, dst):
        if dst.endswith('x.png'):
            raise OSError(28, 'No space left on device')
        real_replace(src, dst)

    writer = new_writer(tmp_path)
    monkeypatch.setattr(os, 'replace', replace)
    error = writer.write(make_result('x', (6, 6), GOOD))
    monkeypatch.undo()
    assert 'No space left on device' in error and not writer.is_done('x')
    assert not list((tmp_path / 'gray').iterdir())
    assert writer.finalize()['images']['failed'] == 1
    assert writer.write(make_result('x', (6, 6), GOOD)) is None
    assert writer.finalize()['images'] == {'done': 1, 'skipped': 0, 'new': 1, 'failed': 0,
                                           'empty': 0}


def test_dumps_refuses_non_finite_numbers():
    with pytest.raises(ValueError):
        dumps({'score': float('nan')})


def test_failure_message(tmp_path):
    summary = {'images': {'done': 3, 'failed': 0}}
    assert failure_message(summary, str(tmp_path)) is None
    summary = {'images': {'done': 3, 'failed': 2}}
    message = failure_message(summary, str(tmp_path))
    assert message.startswith('2 of 5 images failed') and '--resume' in message
    assert str(tmp_path / 'failures.json') in message
    message = failure_message({'images': {'done': 0, 'failed': 4}}, str(tmp_path))
    assert message.startswith('no image could be read: all 4 images failed')
