"""Each compatibility fix acts where its problem is present and nowhere else."""
import collections
import importlib.util
import pickle
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from mmsamrs import compat


def run_python(code: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (imports not polluted by this test session)."""
    return subprocess.run([sys.executable, '-c', textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=300)


def torchvision_broken_without_fix() -> bool:
    """Return True when plain ``import torchvision`` fails on this machine."""
    return run_python('import torchvision').returncode != 0


class TestTorchvisionNms:

    def test_applied_exactly_when_plain_import_fails(self):
        broken = torchvision_broken_without_fix()
        assert ('torchvision_nms' in compat.APPLIED) == broken
        result = run_python("""
            import mmsamrs, torch, torchvision, segment_anything
            keep = torch.ops.torchvision.nms(
                torch.tensor([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30.]]),
                torch.tensor([0.9, 0.8, 0.7]), 0.5)
            print(keep.tolist())
        """)
        assert result.returncode == 0, result.stderr
        # box 1 overlaps box 0 with IoU 81/100 > 0.5 and is suppressed
        assert result.stdout.strip() == '[0, 2]'

    def test_not_applied_when_ops_already_exist(self):
        result = run_python("""
            import torch
            lib = torch.library.Library('torchvision', 'DEF')
            lib.define('nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
            lib.define('qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
            from mmsamrs import compat
            print(compat.fix_torchvision_nms())
        """)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == 'False'

    def test_not_applied_without_torchvision(self, monkeypatch):
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util, 'find_spec',
            lambda name, *a: None if name == 'torchvision' else real_find_spec(name, *a))
        monkeypatch.delattr(torch.ops.torchvision, 'nms', raising=False)
        assert compat.torchvision_ops_unloadable() is False

    def test_nms_cpu_matches_mmcv(self):
        from mmcv.ops import nms as mmcv_nms
        gen = torch.Generator().manual_seed(0)
        xy = torch.rand(200, 2, generator=gen) * 100
        wh = torch.rand(200, 2, generator=gen) * 30 + 1
        boxes = torch.cat([xy, xy + wh], dim=1)
        scores = torch.rand(200, generator=gen)
        _, mmcv_keep = mmcv_nms(boxes, scores, 0.3)
        assert compat.nms_cpu(boxes, scores, 0.3).tolist() == mmcv_keep.tolist()
        assert compat.nms_cpu(boxes[:0], scores[:0], 0.3).numel() == 0


class TestCollectionsSequence:

    def test_mmrotate_models_import(self):
        result = run_python('import mmsamrs, mmrotate.models; print("ok")')
        assert result.returncode == 0, result.stderr

    def test_state_matches_detection(self):
        spec = importlib.util.find_spec('mmrotate')
        path = spec.submodule_search_locations[0] + \
            '/models/detectors/refine_single_stage.py'
        with open(path) as f:
            uses_alias = 'from collections import Sequence' in f.read()
        expected = uses_alias and sys.version_info >= (3, 10)
        assert ('collections_sequence' in compat.APPLIED) == expected

    def test_not_applied_when_alias_exists(self, monkeypatch):
        monkeypatch.setattr(collections, 'Sequence', collections.abc.Sequence, raising=False)
        assert compat.fix_collections_sequence() is False

    def test_not_applied_when_mmrotate_is_fixed(self, monkeypatch, tmp_path):
        monkeypatch.delattr(collections, 'Sequence', raising=False)
        pkg = tmp_path / 'mmrotate'
        (pkg / 'models' / 'detectors').mkdir(parents=True)
        (pkg / '__init__.py').write_text('')
        (pkg / 'models' / 'detectors' / 'refine_single_stage.py').write_text(
            'from collections.abc import Sequence\n')
        fake_spec = types.SimpleNamespace(origin=str(pkg / '__init__.py'))
        real_find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util, 'find_spec',
            lambda name, *a: fake_spec if name == 'mmrotate' else real_find_spec(name, *a))
        assert compat.mmrotate_needs_collections_sequence() is False
        assert compat.fix_collections_sequence() is False
        assert not hasattr(collections, 'Sequence')


class CodeOnLoad:
    """A pickled object that writes ``marker`` when unpickled (a crafted checkpoint)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return exec, (f'open({str(self.marker)!r}, "w").write("ran")', )


def hostile_checkpoint(tmp_path: Path) -> tuple:
    """A ``.pth`` that looks like a checkpoint and runs code when unpickled; its marker."""
    marker = tmp_path / 'code_ran'
    path = tmp_path / 'hostile.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': CodeOnLoad(marker)}, path)
    return path, marker


TOY_RUNNER = """
    import sys
    import mmsamrs, torch
    from mmengine.model import BaseModel
    from mmengine.runner import Runner

    class Toy(BaseModel):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(2))

        def forward(self, inputs, data_samples=None, mode='loss'):
            return dict(loss=((inputs * self.w).sum(1) - 1).pow(2).mean())

    class Data(torch.utils.data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            return dict(inputs=torch.tensor([1.0, float(i)]))

    def runner(iters, resume):
        return Runner(
            model=Toy(), work_dir=sys.argv[1], default_scope='mmengine',
            train_dataloader=dict(dataset=Data(), batch_size=2,
                                  sampler=dict(type='DefaultSampler', shuffle=True),
                                  collate_fn=dict(type='default_collate')),
            train_cfg=dict(by_epoch=False, max_iters=iters),
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
            param_scheduler=dict(type='LinearLR', by_epoch=False, start_factor=0.5, end=3),
            default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2,
                                               by_epoch=False)),
            randomness=dict(seed=0), resume=resume)

    runner(2, False).train()
    resumed = runner(4, True)
    resumed.train()
    print('losses', len(resumed.message_hub.get_scalar('train/loss').data[0]),
          'weights_only default', torch.load.__defaults__)
"""


class TestCheckpointWeightsOnly:

    @pytest.fixture
    def runner_checkpoint(self, tmp_path):
        from mmengine.logging import HistoryBuffer
        path = tmp_path / 'iter_2.pth'
        buffer = HistoryBuffer()
        buffer.update(1.5)
        torch.save({'state_dict': {'w': torch.ones(2)}, 'message_hub': {'loss': buffer}}, path)
        return path

    def test_plain_mmengine_fails_and_fixed_one_loads(self, runner_checkpoint):
        plain = run_python(f"""
            from mmengine.runner import CheckpointLoader
            CheckpointLoader.load_checkpoint({str(runner_checkpoint)!r})
        """)
        fixed = run_python(f"""
            import mmsamrs
            from mmengine.runner import CheckpointLoader
            ckpt = CheckpointLoader.load_checkpoint({str(runner_checkpoint)!r})
            print(ckpt['message_hub']['loss'].current(), ckpt['state_dict']['w'].tolist())
        """)
        assert fixed.returncode == 0, fixed.stderr
        assert fixed.stdout.strip().splitlines()[-1] == '1.5 [1.0, 1.0]'
        problem_present = compat.torch_load_defaults_to_weights_only()
        assert (plain.returncode != 0) == problem_present
        assert ('checkpoint_weights_only' in compat.APPLIED) == problem_present

    def test_empty_history_buffer_loads(self, tmp_path):
        """A buffer that never logged pickles its empty arrays' data as ``bytes()``."""
        from mmengine.logging import HistoryBuffer
        path = tmp_path / 'iter_0.pth'
        torch.save({'message_hub': {'loss': HistoryBuffer()}}, path)
        loaded = run_python(f"""
            import mmsamrs
            from mmengine.runner import CheckpointLoader
            ckpt = CheckpointLoader.load_checkpoint({str(path)!r})
            print(len(ckpt['message_hub']['loss'].data[0]))
        """)
        assert loaded.returncode == 0, loaded.stderr
        assert loaded.stdout.strip().splitlines()[-1] == '0'

    def test_runner_resumes_its_own_checkpoint(self, tmp_path):
        """Train 2 iterations, resume to 4: message hub, optimizer and schedulers load."""
        result = run_python(TOY_RUNNER.replace('sys.argv[1]', repr(str(tmp_path))))
        assert result.returncode == 0, result.stderr[-3000:]
        assert 'resumed epoch: 0, iter: 2' in result.stderr + result.stdout
        assert (tmp_path / 'iter_4.pth').exists()
        # the 2 logged losses of the first run came back from iter_2.pth
        assert 'losses 4 ' in result.stdout

    def test_hostile_checkpoint_is_refused_and_runs_nothing(self, tmp_path):
        path, marker = hostile_checkpoint(tmp_path)
        refused = run_python(f"""
            import pickle
            import mmsamrs, torch
            from mmengine.runner import CheckpointLoader
            for load in (lambda: CheckpointLoader.load_checkpoint({str(path)!r}),
                         lambda: torch.load({str(path)!r})):
                try:
                    load()
                except pickle.UnpicklingError as error:
                    print('refused', 'GLOBAL exec' in str(error))
        """)
        assert refused.returncode == 0, refused.stderr
        verdicts = [line for line in refused.stdout.splitlines() if line.startswith('refused')]
        assert verdicts == ['refused True'] * 2
        assert not marker.exists()
        # the file is really hostile: an unrestricted load runs its code
        unsafe = run_python(f'import torch; torch.load({str(path)!r}, weights_only=False)')
        assert unsafe.returncode == 0, unsafe.stderr
        assert marker.read_text() == 'ran'

    def test_getattr_is_limited_to_history_buffer_statistics(self, tmp_path):
        from mmengine.logging import HistoryBuffer

        class Reach:
            def __reduce__(self):
                return getattr, (HistoryBuffer, '__init__')

        torch.save({'x': Reach()}, tmp_path / 'reach.pth')
        with pytest.raises(pickle.UnpicklingError, match='only the statistics methods'):
            torch.load(tmp_path / 'reach.pth')
        assert compat.history_buffer_method(HistoryBuffer, 'mean') is HistoryBuffer.mean
        with pytest.raises(pickle.UnpicklingError, match="getattr.*'__class__'"):
            compat.history_buffer_method(np.ndarray, '__class__')

    def test_mmengine_keeps_its_own_local_loader(self):
        """No loader with ``weights_only=False`` is registered for local files."""
        from mmengine.runner.checkpoint import CheckpointLoader, load_from_local
        assert CheckpointLoader._schemes[''] is load_from_local

    def test_not_applied_when_mmengine_passes_weights_only(self, monkeypatch):
        from mmengine.runner import checkpoint

        def load_from_local(filename, map_location):
            return torch.load(filename, map_location=map_location, weights_only=False)

        monkeypatch.setattr(checkpoint, 'load_from_local', load_from_local)
        assert compat.mmengine_loads_without_weights_only() is False
        assert compat.fix_checkpoint_weights_only() is False

    def test_not_applied_when_torch_loads_everything_by_default(self, monkeypatch):
        added = []
        monkeypatch.setattr(compat, 'torch_load_defaults_to_weights_only', lambda: False)
        monkeypatch.setattr(torch.serialization, 'add_safe_globals', added.append)
        assert compat.fix_checkpoint_weights_only() is False
        assert added == []


def test_apply_all_runs_each_fix_once():
    calls = []
    fixes = {'demo_fix_x': lambda: calls.append(1) or True}
    assert compat.apply_all(fixes) == ['demo_fix_x']
    assert compat.apply_all(fixes) == []
    assert calls == [1]
    compat.APPLIED.remove('demo_fix_x')


class TestCpuDistributed:

    def test_applied_exactly_without_cuda(self):
        assert ('cpu_distributed' in compat.APPLIED) == (not torch.cuda.is_available())

    def test_two_cpu_processes_train_a_ddp_step_with_the_default_nccl_setting(self, tmp_path):
        if torch.cuda.is_available():
            pytest.skip('the fix only exists for machines without CUDA')
        script = tmp_path / 'ddp.py'
        script.write_text(textwrap.dedent("""
            import mmsamrs, torch
            from mmengine.dist import init_dist, get_dist_info
            from mmengine.model import BaseModel, MMDistributedDataParallel
            init_dist('pytorch', backend='nccl')

            class Linear(BaseModel):
                def __init__(self):
                    super().__init__()
                    self.w = torch.nn.Parameter(torch.zeros(1))

                def forward(self, x, mode='loss'):
                    return dict(loss=(self.w * x).sum())

            ddp = MMDistributedDataParallel(module=Linear(), device_ids=[0])
            rank = get_dist_info()[0]
            ddp(torch.tensor([rank + 1.0]))['loss'].backward()
            # DDP averages the gradients (1 and 2) of the two ranks
            with open(f'{__file__}.rank{rank}', 'w') as out:  # ranks' stdout interleaves
                out.write(f'grad {ddp.module.w.grad.item()} {torch.distributed.get_backend()}')
        """))
        proc = subprocess.run(
            [sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2',
             '--master_port=29533', str(script)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-2000:]
        grads = [(tmp_path / f'ddp.py.rank{rank}').read_text() for rank in (0, 1)]
        assert grads == ['grad 1.5 gloo'] * 2

    def test_not_applied_with_cuda(self, monkeypatch):
        monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
        assert compat.mmengine_distributed_needs_cuda() is False
        assert compat.fix_cpu_distributed() is False

    def test_not_applied_when_mmengine_handles_cpu(self, monkeypatch):
        from mmengine.dist import utils

        def init_without_cuda(backend, **kwargs):
            torch.distributed.init_process_group(backend=backend, **kwargs)

        monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
        monkeypatch.setattr(utils, '_init_dist_pytorch', init_without_cuda)
        assert compat.fix_cpu_distributed() is False
        assert utils._init_dist_pytorch is init_without_cuda
