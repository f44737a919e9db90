"""Reports: CSVs and Markdown hold the statistics; figures are PNGs of the set size."""
import csv

import numpy as np
from PIL import Image

from mmsamrs.analysis import SetSource, analyze_set, table2_row, write_reports
from mmsamrs.analysis.plots import CLASS_FIGSIZE, DPI, SIZE_FIGSIZE
from mmsamrs.analysis.reports import channels_text, image_size_text


def read_csv(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_text_helpers():
    assert channels_text({}) == '-' and channels_text({'RGB': 4}) == 'RGB'
    assert channels_text({'L': 1, 'RGB': 9}) == 'RGB (9), L (1)'
    assert image_size_text({(1024, 1024): 3}) == '1,024 × 1,024'
    assert image_size_text({(800, 800): 1, (600, 600): 2, (1024, 512): 1}) == \
        '600 × 600 ~ 800 × 800 (3 sizes)'


def test_write_reports(samrs_dirs, tmp_path):
    gen = analyze_set(SetSource.from_root(str(samrs_dirs['generator']), 'GEN',
                                          img_dir=str(samrs_dirs['images'])), progress=False)
    rel = analyze_set(SetSource.from_root(str(samrs_dirs['release']), 'REL set', 'a,b,c'),
                      progress=False)
    out = tmp_path / 'out'
    paths = write_reports([gen, rel], str(out))
    assert sorted(p.split('/')[-1] for p in paths) == sorted([
        'table2.csv', 'classes.csv', 'mask_sizes.csv', 'statistics.md', 'GEN_classes.png',
        'GEN_mask_sizes.png', 'REL_set_classes.png', 'REL_set_mask_sizes.png'])

    table = read_csv(out / 'table2.csv')
    assert [(r['set'], r['images'], r['categories'], r['channels'], r['instances'],
             r['instance_source']) for r in table] == [
        ('GEN', '3', '3', 'RGB (2), L (1)', '6', 'instances.json'),
        ('REL set', '3', '3', 'RGB (2), L (1)', '5', 'connected components')]
    assert table[0]['image_size'] == '10 × 10 ~ 20 × 30 (2 sizes)'
    assert table[0]['empty_masks'] == '1' and table[0]['unlabelled_pixels'] == '978'
    assert table2_row(gen)['labelled_pixels'] == 322

    classes = read_csv(out / 'classes.csv')
    assert [(r['set'], r['class'], r['pixels'], r['instances']) for r in classes] == [
        ('GEN', 'a', '75', '3'), ('GEN', 'b', '120', '2'), ('GEN', 'c', '127', '1'),
        ('REL set', 'a', '75', '2'), ('REL set', 'b', '120', '2'), ('REL set', 'c', '127', '1')]

    sizes = read_csv(out / 'mask_sizes.csv')
    gen_sizes = [r for r in sizes if r['set'] == 'GEN']
    assert (gen_sizes[0]['bin'], gen_sizes[0]['bin_low'], gen_sizes[0]['bin_high'],
            gen_sizes[0]['instances']) == ('<100', '1', '100', '4')
    assert (gen_sizes[1]['bin'], gen_sizes[1]['instances']) == ('100-178', '2')
    assert gen_sizes[-1]['bin_high'] == '' and sum(int(r['instances']) for r in gen_sizes) == 6

    markdown = (out / 'statistics.md').read_text()
    assert '| Set | #Images | #Category | #Channels | Image size (H × W) | Instances |' in markdown
    assert '| GEN | 3 | 3 | RGB (2), L (1) | 10 × 10 ~ 20 × 30 (2 sizes) | 6 |' in markdown
    assert '| 2 | c | 127 | 39.44 | 1 | 16.67 |' in markdown  # 127 / 322, 1 / 6
    assert '| <100 | 4 | 66.67 |' in markdown
    assert 'approximated by the connected components' in markdown
    assert '![REL set mask sizes](REL_set_mask_sizes.png)' in markdown

    expected_size = {'classes': tuple(round(v * DPI) for v in CLASS_FIGSIZE),
                     'mask_sizes': tuple(round(v * DPI) for v in SIZE_FIGSIZE)}
    for stem in ('GEN', 'REL_set'):
        for kind, size in expected_size.items():
            with Image.open(out / f'{stem}_{kind}.png') as image:
                image.verify()
            with Image.open(out / f'{stem}_{kind}.png') as image:
                assert image.format == 'PNG' and image.size == size
                pixels = np.asarray(image.convert('RGB'))
                assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 10  # something drawn
