"""Generation from detection data of one's own: the configs configs/gen/{coco_hbox,
yolo_hbox,yolo-obb_rhbox,voc_hbox}.py pointed at data with data_root alone, and a COCO
source through tools/generate_masks.py end to end with a tiny random SAM, its labels then
read by the statistics and as a SEP set of one's own."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from mmengine.registry import init_default_scope
from PIL import Image
from pycocotools.coco import COCO

from mmsamrs.analysis import analyze_set, load_sets
from mmsamrs.datasets.class_names import make_palette
from mmsamrs.datasets.samrs_sets import SAMRSMultiSetDataset, set_heads
from mmsamrs.engine.cli import load_config
from mmsamrs.registry import DATASETS
from mmsamrs.testing import TINY_SAM_ARCH

REPO = Path(__file__).resolve().parents[2]
GEN = REPO / 'configs' / 'gen'
COCO_CLASSES = ('ship', 'harbor', 'golffield')


def blank(path: Path, size=(64, 48)) -> None:
    """A blank RGB image at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new('RGB', size).save(path)


def write_layouts(root: Path) -> None:
    """One image with one object per format, in each config's default layout."""
    blank(root / 'coco' / 'images' / 'c1.jpg')
    (root / 'coco' / 'annotations').mkdir()
    (root / 'coco' / 'annotations' / 'instances.json').write_text(json.dumps(dict(
        images=[dict(id=1, file_name='c1.jpg', width=64, height=48)],
        annotations=[dict(id=1, image_id=1, category_id=1, bbox=[4, 4, 20, 10], iscrowd=0)],
        categories=[dict(id=1, name='roof')])))
    for name, line in (('yolo', '0 0.5 0.5 0.25 0.25'),
                       ('yolo_obb', '0 0.1 0.1 0.4 0.1 0.4 0.3 0.1 0.3')):
        blank(root / name / 'images' / 'y1.png')
        (root / name / 'labels').mkdir()
        (root / name / 'labels' / 'y1.txt').write_text(line + '\n')
        (root / name / 'classes.txt').write_text('roof\n')
    blank(root / 'voc' / 'JPEGImages' / 'v1.jpg')
    (root / 'voc' / 'Annotations').mkdir()
    (root / 'voc' / 'Annotations' / 'v1.xml').write_text(
        '<annotation><size><width>64</width><height>48</height></size><object><name>car'
        '</name><difficult>0</difficult><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>30</xmax>'
        '<ymax>40</ymax></bndbox></object></annotation>')


@pytest.mark.parametrize('config,folder,classes,prompts', [
    ('coco_hbox.py', 'coco', ('roof', ), ('hbox', )),
    ('yolo_hbox.py', 'yolo', ('roof', ), ('hbox', )),
    ('yolo-obb_rhbox.py', 'yolo_obb', ('roof', ), ('rhbox', )),
    ('voc_hbox.py', 'voc', None, ('hbox', )),
])
def test_config_reads_data_root(tmp_path, config, folder, classes, prompts):
    write_layouts(tmp_path)
    cfg = load_config(str(GEN / config), {'data_root': str(tmp_path / folder)})
    init_default_scope('mmsamrs')
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    assert len(dataset) == 1
    (inst, ) = dataset.get_data_info(0)['instances']
    if classes is None:  # VOC: Pascal VOC's 20 classes
        assert len(dataset.metainfo['classes']) == 20 and inst['class_name'] == 'car'
    else:
        assert dataset.metainfo['classes'] == classes and inst['class_name'] == 'roof'
    assert len(dataset.metainfo['palette']) == len(dataset.metainfo['classes'])
    assert cfg.test_dataloader.dataset.pipeline[1].prompts == prompts


@pytest.mark.slow
def test_coco_source_end_to_end(realdata, tmp_path):
    """The tiny COCO sample through configs/gen/coco_hbox.py: labels, palette and COCO
    categories follow the file's categories; the crowd box is not prompted."""
    config = tmp_path / 'coco_tiny.py'
    config.write_text(f"_base_ = [{str(GEN / 'coco_hbox.py')!r}]\n"
                      f'model = dict(arch={TINY_SAM_ARCH!r}, checkpoint=None, '
                      'prompt_chunk_size=8)\n')
    work = tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'generate_masks.py'), str(config),
         '--work-dir', str(work), '--cfg-options', f"data_root={realdata / 'coco'}"],
        capture_output=True, text=True, cwd=str(REPO), timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    coco = COCO(str(work / 'instances.json'))
    assert [(c['id'], c['name']) for c in coco.loadCats(coco.getCatIds())] == [
        (1, 'ship'), (2, 'harbor'), (3, 'golffield')]
    source = json.loads((realdata / 'coco' / 'annotations' / 'instances.json').read_text())
    expected = {}
    for ann in source['annotations']:
        if not ann['iscrowd']:
            name = next(c['name'] for c in source['categories'] if c['id'] == ann['category_id'])
            expected.setdefault(ann['image_id'], []).append(name)
    images = {img['stem']: img['id'] for img in coco.loadImgs(coco.getImgIds())}
    for stem, image_id in (('P0706', 1), ('00001', 2)):
        anns = coco.loadAnns(coco.getAnnIds(imgIds=[images[stem]]))
        assert sorted(a['category_name'] for a in anns) == sorted(expected[image_id])
        gray = np.array(Image.open(work / 'gray' / f'{stem}.png'))
        # every painted pixel holds the class of a mask that covers it
        covering = np.zeros((len(COCO_CLASSES), *gray.shape), dtype=bool)
        for ann in anns:
            assert ann['category_id'] - 1 == COCO_CLASSES.index(ann['category_name'])
            covering[ann['category_id'] - 1] |= coco.annToMask(ann).astype(bool)
        painted = gray != 255
        assert painted.any() and (painted == covering.any(0)).all()
        assert covering[gray[painted], painted].all()
    assert set(np.unique(np.array(Image.open(work / 'gray' / '00001.png')))) <= {2, 255}
    color = Image.open(work / 'color' / 'P0706.png')
    assert np.array(color.getpalette()[:9]).reshape(3, 3).tolist() == make_palette(3)
    report = json.loads((work / 'source_report.json').read_text())
    assert report['counts']['crowd'] == 1 and report['counts']['instances'] == 22

    # statistics take the classes from instances.json
    (source_set, ) = load_sets(str(work), name='MyCOCO')
    stats = analyze_set(source_set, progress=False)
    assert stats.classes == COCO_CLASSES and stats.images == 2
    assert stats.total_instances + stats.empty_masks == 22
    # a SEP set of one's own over the generated labels: classes, palette and head size
    (work / 'train.txt').write_text('P0706\n')
    (work / 'val.txt').write_text('00001\n')
    own = dict(name='MyCOCO', classes=COCO_CLASSES, data_root=str(work),
               img_path=str(realdata / 'coco' / 'images'))
    assert set_heads(['SOTA', own]) == dict(SOTA=18, MyCOCO=3)
    dataset = SAMRSMultiSetDataset(sets=[own], split='val', pipeline=[])
    assert dataset.metainfo['sets']['MyCOCO'] == dict(classes=COCO_CLASSES,
                                                      palette=make_palette(3))
    (sample, ) = list(dataset)
    assert sample['img_path'].endswith('00001.jpg')
    assert sample['seg_map_path'] == str(work / 'gray' / '00001.png')
