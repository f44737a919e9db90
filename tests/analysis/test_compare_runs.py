"""mmsamrs.analysis.compare_runs and tools/compare_runs.py on hand-made run folders."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from mmsamrs.analysis.compare_runs import RunComparison, compare_runs, format_comparison

REPO = Path(__file__).resolve().parents[2]


def write_run(root: Path, masks: dict, classes: dict, scores: dict = None) -> Path:
    """A generator-layout run: ``masks`` {(stem, source_index): bool mask}, one class
    per instance in ``classes``; the label map paints the masks in source order."""
    (root / 'gray').mkdir(parents=True)
    stems = sorted({stem for stem, _ in masks})
    images, annotations = [], []
    for image_id, stem in enumerate(stems, 1):
        keys = sorted(k for k in masks if k[0] == stem)
        shape = masks[keys[0]].shape
        images.append(dict(id=image_id, stem=stem, file_name=stem + '.png',
                           height=shape[0], width=shape[1]))
        gray = np.full(shape, 255, np.uint8)
        for key in keys:
            mask = masks[key]
            gray[mask] = classes[key]
            rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
            rle['counts'] = rle['counts'].decode('ascii')
            annotations.append(dict(id=len(annotations) + 1, image_id=image_id,
                                    segmentation=rle, area=int(mask.sum()),
                                    category_id=classes[key] + 1, source_index=key[1],
                                    score=(scores or {}).get(key, 0.9), iscrowd=0))
        Image.fromarray(gray).save(root / 'gray' / f'{stem}.png')
    (root / 'instances.json').write_text(json.dumps(dict(
        annotations=annotations, images=images,
        categories=[dict(id=1, name='a'), dict(id=2, name='b')])))
    return root


def square(y0, x0, size, shape=(20, 20)):
    mask = np.zeros(shape, bool)
    mask[y0:y0 + size, x0:x0 + size] = True
    return mask


@pytest.fixture
def run_a(tmp_path):
    return write_run(tmp_path / 'a', {('img1', 0): square(0, 0, 10),
                                      ('img1', 1): square(10, 10, 10),
                                      ('img2', 0): square(5, 5, 4)},
                     {('img1', 0): 0, ('img1', 1): 1, ('img2', 0): 0})


def test_identical_runs_agree_fully(run_a):
    summary = compare_runs(str(run_a), str(run_a))
    assert summary['images'] == 2 and summary['instances'] == 3
    assert summary['mean_iou'] == summary['min_iou'] == summary['identical'] == 1.0
    assert summary['pixel_agreement'] == 1.0 and summary['label_miou'] == 1.0
    assert summary['max_score_diff'] == 0.0


def test_known_disagreement(run_a, tmp_path):
    # img1/0 shifted by 5 rows: 50 of 150 pixels in the union overlap -> IoU 1/3
    run_b = write_run(tmp_path / 'b', {('img1', 0): square(5, 0, 10),
                                       ('img1', 1): square(10, 10, 10),
                                       ('img2', 0): square(5, 5, 4)},
                      {('img1', 0): 0, ('img1', 1): 1, ('img2', 0): 0},
                      scores={('img2', 0): 0.5})
    summary = compare_runs(str(run_a), str(run_b))
    assert summary['min_iou'] == pytest.approx(50 / 150)
    assert summary['mean_iou'] == pytest.approx((50 / 150 + 2) / 3)
    assert summary['median_iou'] == 1.0
    assert summary['identical'] == pytest.approx(2 / 3)
    assert summary['iou_09'] == pytest.approx(2 / 3)
    assert summary['max_score_diff'] == pytest.approx(0.4)
    # img1 label maps: run b paints rows 5-14 x cols 0-9 with class 0, then the class-1
    # square at rows 10-19 x cols 10-19 (no overlap): they differ on 2 x 50 pixels
    assert summary['pixel_agreement'] == pytest.approx(1 - 100 / (2 * 400))
    # class 0: img1 IoU 50/150 pooled with img2's 16/16 -> (50 + 16) / (150 + 16)
    assert summary['label_miou'] == pytest.approx(((50 + 16) / (150 + 16) + 1) / 2)
    assert str(summary['instances']) in format_comparison(summary)


def test_pairs_pool_and_keep_classes_apart(run_a, tmp_path):
    comparison = RunComparison()
    comparison.add(str(run_a), str(run_a))
    comparison.add(str(run_a), str(run_a))
    summary = comparison.summary()
    assert summary['images'] == 4 and summary['instances'] == 6
    assert len(comparison.union) == 4  # 2 classes per pair, kept apart


def test_different_instances_are_refused(run_a, tmp_path):
    run_b = write_run(tmp_path / 'b', {('img1', 0): square(0, 0, 10), ('img2', 0): square(5, 5, 4)},
                      {('img1', 0): 0, ('img2', 0): 0})
    with pytest.raises(ValueError, match=r"different instances.*'img1', 1"):
        compare_runs(str(run_a), str(run_b))


def test_different_class_is_refused(run_a, tmp_path):
    run_b = write_run(tmp_path / 'b', {('img1', 0): square(0, 0, 10),
                                       ('img1', 1): square(10, 10, 10),
                                       ('img2', 0): square(5, 5, 4)},
                      {('img1', 0): 1, ('img1', 1): 1, ('img2', 0): 0})
    with pytest.raises(ValueError, match=r"instance \('img1', 0\) has class 1 vs 2"):
        compare_runs(str(run_a), str(run_b))


def test_missing_files_are_named(run_a, tmp_path):
    with pytest.raises(FileNotFoundError, match='instances.json'):
        compare_runs(str(run_a), str(tmp_path / 'nothing'))
    (run_a / 'gray' / 'img2.png').unlink()
    with pytest.raises(FileNotFoundError, match=r'gray/img2\.png'):
        compare_runs(str(run_a), str(run_a))


def test_tool_prints_and_writes_json(run_a, tmp_path):
    out = tmp_path / 'agreement.json'
    proc = subprocess.run([sys.executable, str(REPO / 'tools' / 'compare_runs.py'), str(run_a),
                           str(run_a), '--out', str(out)], capture_output=True, text=True,
                          cwd=str(REPO), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'mask IoU mean 1.0000' in proc.stdout
    assert json.loads(out.read_text())['instances'] == 3
