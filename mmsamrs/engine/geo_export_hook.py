"""Runner hook writing georeferenced scene outputs after generation over GeoTIFF scenes."""
import os.path as osp
from typing import Dict, Optional

from mmengine.dist import barrier, is_main_process
from mmengine.hooks import Hook

from mmsamrs.generation import GeoSceneWriter
from mmsamrs.registry import HOOKS


@HOOKS.register_module()
class GeoSceneExportHook(Hook):
    """After a generation run over a ``GeoTIFFSceneDataset``, assemble its windows into
    each scene's frame (label GeoTIFF, GeoPackage of polygons, scene COCO JSON; see
    :class:`~mmsamrs.generation.GeoSceneWriter`) under ``<out_dir>/geo/``.

    Config: ``custom_hooks = [dict(type='GeoSceneExportHook', block_size=1024)]`` next to
    ``test_cfg = dict(type='GenerationLoop', ...)``. Runs on rank 0 once every rank has
    finished (windows of all ranks are included), after every run, so a resumed run
    rewrites the scene files with all windows done so far. The per-scene counts are kept
    as :attr:`report` and logged.

    Args:
        block_size: side of the blocks the label rasters are written in.
    """

    priority = 'LOW'

    def __init__(self, block_size: int = 1024) -> None:
        self.block_size = block_size
        self.report: Optional[Dict] = None

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Write the scene outputs from the finished windows (rank 0)."""
        loop = runner.test_loop
        dataset = loop.dataloader.dataset
        dataset = getattr(dataset, 'dataset', dataset)
        if not hasattr(dataset, 'scenes'):
            raise TypeError(f'GeoSceneExportHook needs a GeoTIFFSceneDataset as test '
                            f'dataset, got {type(dataset).__name__}')
        if is_main_process():
            writer = GeoSceneWriter(loop.out_dir, dataset.metainfo['classes'],
                                    dataset.metainfo['palette'],
                                    img_root=dataset.data_root or None,
                                    block_size=self.block_size)
            self.report = writer.write(dataset.scenes)
            runner.logger.info(
                f'georeferenced outputs in {osp.join(loop.out_dir, "geo")}: ' + '; '.join(
                    f'{scene}: {r["done"]}/{r["windows"]} windows, {r["polygons"]} polygons'
                    for scene, r in self.report.items()))
        barrier()
