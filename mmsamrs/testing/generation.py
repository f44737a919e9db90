"""Running label generation in tests: one Runner call and a hook that records who did what."""
import uuid
from pathlib import Path

from mmengine.config import Config
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmsamrs.registry import HOOKS


def run_generation(config: Path, work_dir: Path, resume: bool = False, **options) -> Runner:
    """Build a Runner from ``config`` (plus dotted ``options``), generate into ``work_dir``."""
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(options)
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = uuid.uuid4().hex
    cfg.test_cfg.resume = resume
    runner = Runner.from_cfg(cfg)
    runner.test()
    return runner


@HOOKS.register_module()
class RecordProcessedImages(Hook):
    """Append the id of every image a rank segments to ``processed_rank{rank}.txt`` in the
    work dir (``custom_hooks=[dict(type='RecordProcessedImages')]``, with
    ``custom_imports=dict(imports=['mmsamrs', 'mmsamrs.testing.generation'])``), so that
    tests can check that each image is processed exactly once."""

    def after_test_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Record the ids of this iteration's images."""
        with open(Path(runner.work_dir) / f'processed_rank{get_rank()}.txt', 'a') as f:
            f.writelines(result['img_id'] + '\n' for result in outputs)
