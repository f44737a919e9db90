"""SAMRSVisualizationHook draws on the cropped input with the sample's own set's colours."""
from types import SimpleNamespace as Namespace

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer
from PIL import Image

from mmsamrs.datasets import SIORDataset
from mmsamrs.datasets.class_names import SIOR_CLASSES
from mmsamrs.engine import SAMRSVisualizationHook


def test_draws_crop_with_own_set_palette(tmp_path):
    full = tmp_path / 'big.png'
    Image.fromarray(np.zeros((64, 80, 3), np.uint8)).save(full)  # the uncropped file
    visualizer = SegLocalVisualizer.get_instance(
        'samrs_vis_test', vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path), alpha=0.5)
    hook = SAMRSVisualizationHook(draw=True, interval=1)
    crop_bgr = np.full((16, 24, 3), (200, 100, 0), np.uint8)  # blue in BGR
    label = np.full((16, 24), 255, np.int64)
    label[4:8, 4:8] = 3
    sample = SegDataSample(metainfo=dict(img_path=str(full), dataset_name='SIOR'))
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(label)[None])
    data_batch = dict(inputs=[torch.from_numpy(crop_bgr).permute(2, 0, 1)])
    sets = dict(SIOR=dict(classes=SIOR_CLASSES, palette=SIORDataset.METAINFO['palette']))
    runner = Namespace(iter=0, test_loop=Namespace(dataloader=Namespace(
        dataset=Namespace(metainfo=dict(sets=sets)))))
    hook.before_test(runner)
    hook._after_iter(runner, 0, data_batch, [sample], mode='test')
    (drawn_path, ) = (tmp_path / 'vis_data' / 'vis_image').glob('*.png')
    drawn = np.array(Image.open(drawn_path).convert('RGB')).astype(int)
    assert drawn.shape == (16, 24, 3)  # the crop, not the 64x80 file
    assert visualizer.dataset_meta['classes'] == SIOR_CLASSES
    colour = np.array(SIORDataset.METAINFO['palette'][3])
    expected = (0.5 * np.array([0, 100, 200]) + 0.5 * colour).astype(int)
    assert np.abs(drawn[5, 5] - expected).max() <= 1
    assert drawn[0, 0].tolist() != drawn[5, 5].tolist()
