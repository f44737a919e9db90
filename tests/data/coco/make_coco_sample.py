"""Write the tiny COCO detection sample of this folder from the real DOTA and DIOR samples.

``images/P0706.jpg``: the region x 440-960, y 180-700 of ``dota/images/P0706.png`` at half
size (260 x 260), with the ships and the harbor lying whole inside it (at most 20 ships);
``images/00001.jpg``: ``dior/JPEGImages/00001.jpg`` at quarter size (200 x 200) with its
golf field. ``annotations/instances.json``: their boxes as COCO ``bbox`` (the H-Box of each
quadrilateral, scaled), categories ship, harbor, golffield; one ship keeps its polygon as
``segmentation`` (ignored by the reader) and one extra ``iscrowd=1`` box covers a group of
ships (skipped by default). Run from anywhere: ``python tests/data/coco/make_coco_sample.py``.
"""
import json
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
DOTA_REGION = (440, 180, 960, 700)  # x1, y1, x2, y2 in P0706
MAX_SHIPS = 20
CATEGORIES = [dict(id=1, name='ship'), dict(id=2, name='harbor'), dict(id=3, name='golffield')]


def dota_objects():
    """(class, quad in the region's half-size frame) of P0706's objects inside the region."""
    x1, y1, x2, y2 = DOTA_REGION
    lines = (DATA / 'dota' / 'labelTxt' / 'P0706.txt').read_text().splitlines()[2:]
    objects, ships = [], 0
    for line in lines:
        fields = line.split()
        xs, ys = [float(v) for v in fields[0:8:2]], [float(v) for v in fields[1:8:2]]
        inside = min(xs) >= x1 and max(xs) <= x2 and min(ys) >= y1 and max(ys) <= y2
        if inside and (fields[8] != 'ship' or ships < MAX_SHIPS):
            ships += fields[8] == 'ship'
            quad = [v for x, y in zip(xs, ys) for v in ((x - x1) / 2, (y - y1) / 2)]
            objects.append((fields[8], quad))
    return objects


def coco_bbox(quad):
    """``[x, y, w, h]`` of the H-Box of a quadrilateral, rounded to 0.1 pixel."""
    xs, ys = quad[0::2], quad[1::2]
    return [round(min(xs), 1), round(min(ys), 1), round(max(xs) - min(xs), 1),
            round(max(ys) - min(ys), 1)]


def golf_field():
    """The quadrilateral of DIOR 00001's golf field (its DIOR-R ``robndbox``), quarter size."""
    return [v / 4 for v in (133, 237, 684, 237, 684, 672, 133, 672)]


def main() -> None:
    """Write the images and ``annotations/instances.json``."""
    (HERE / 'images').mkdir(exist_ok=True)
    (HERE / 'annotations').mkdir(exist_ok=True)
    dota = Image.open(DATA / 'dota' / 'images' / 'P0706.png').convert('RGB').crop(DOTA_REGION)
    dota.resize((260, 260), Image.BILINEAR).save(HERE / 'images' / 'P0706.jpg', quality=90)
    dior = Image.open(DATA / 'dior' / 'JPEGImages' / '00001.jpg').convert('RGB')
    dior.resize((200, 200), Image.BILINEAR).save(HERE / 'images' / '00001.jpg', quality=90)
    cat_ids = {c['name']: c['id'] for c in CATEGORIES}
    objects = dota_objects()
    annotations = []
    for name, quad in objects:
        annotations.append(dict(image_id=1, category_id=cat_ids[name], bbox=coco_bbox(quad),
                                iscrowd=0))
    annotations[0]['segmentation'] = [[round(v, 1) for v in objects[0][1]]]
    ship_boxes = [a['bbox'] for a in annotations if a['category_id'] == 1][:5]
    left = min(b[0] for b in ship_boxes)
    top = min(b[1] for b in ship_boxes)
    right = max(b[0] + b[2] for b in ship_boxes)
    bottom = max(b[1] + b[3] for b in ship_boxes)
    annotations.append(dict(image_id=1, category_id=1, iscrowd=1,
                            bbox=[left, top, round(right - left, 1), round(bottom - top, 1)]))
    annotations.append(dict(image_id=2, category_id=3, bbox=coco_bbox(golf_field()),
                            iscrowd=0))
    for i, ann in enumerate(annotations, 1):
        ann['id'] = i
        ann['area'] = round(ann['bbox'][2] * ann['bbox'][3], 2)
    coco = dict(
        images=[dict(id=1, file_name='P0706.jpg', width=260, height=260),
                dict(id=2, file_name='00001.jpg', width=200, height=200)],
        annotations=annotations, categories=CATEGORIES)
    (HERE / 'annotations' / 'instances.json').write_text(json.dumps(coco, indent=1) + '\n')


if __name__ == '__main__':
    main()
