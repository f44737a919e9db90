"""Stage timers, CPU time and peak memory of a benchmark variant's process tree."""
import contextlib
import functools
import os
import os.path as osp
import platform
import resource
import threading
import time
from collections import defaultdict
from typing import Callable, Dict, List, Tuple

import numpy as np


class StageTimer:
    """Exclusive per-stage wall and CPU times over all threads of this process and its
    forked children.

    :meth:`wrap` replaces ``owner.name`` by a timed version, :meth:`section` times a block.
    A timed call nested in another one is subtracted from the outer stage (exclusive
    times). The CPU time is the calling thread's (``time.thread_time``): for the CPU-side
    stages (loading, painting, RLE, PNG, writing) it is the work done, free of the waiting
    that the wall time of a background thread includes when it shares the cores with SAM;
    for torch stages it misses the intra-op threads, so those are compared by wall time.
    Calls in forked processes (dataloader workers) append their times to
    ``<log_dir>/<pid>.tsv`` and :meth:`totals` adds them up.
    """

    def __init__(self, log_dir: str, cuda_sync: bool = False) -> None:
        self.log_dir = log_dir
        self.cuda_sync = cuda_sync
        self.enabled = True
        self.main_pid = os.getpid()
        self.lock = threading.Lock()
        self.local = threading.local()
        self.wall: Dict[str, float] = defaultdict(float)
        self.cpu: Dict[str, float] = defaultdict(float)
        self.inclusive: Dict[str, float] = defaultdict(float)
        os.makedirs(log_dir, exist_ok=True)

    def add(self, stage: str, wall: float, cpu: float, inclusive: float) -> None:
        """Add one timed call of ``stage`` (in a worker process: to its log file)."""
        if os.getpid() != self.main_pid:
            with open(osp.join(self.log_dir, f'{os.getpid()}.tsv'), 'a') as f:
                f.write(f'{stage}\t{wall!r}\t{cpu!r}\t{inclusive!r}\n')
            return
        with self.lock:
            self.wall[stage] += wall
            self.cpu[stage] += cpu
            self.inclusive[stage] += inclusive

    def _sync(self, sync: bool) -> None:
        if sync and self.cuda_sync:
            import torch
            torch.cuda.synchronize()

    def _enter(self, sync: bool) -> Tuple[float, float]:
        self._sync(sync)
        self.local.__dict__.setdefault('stack', []).append([0.0, 0.0])
        return time.perf_counter(), time.thread_time()

    def _exit(self, stage: str, sync: bool, start: Tuple[float, float]) -> None:
        self._sync(sync)
        wall, cpu = time.perf_counter() - start[0], time.thread_time() - start[1]
        stack = self.local.stack
        nested_wall, nested_cpu = stack.pop()
        if stack:
            stack[-1][0] += wall
            stack[-1][1] += cpu
        self.add(stage, wall - nested_wall, cpu - nested_cpu, wall)

    def timed(self, fn: Callable, stage: str, sync: bool = False) -> Callable:
        """``fn`` timed as ``stage`` (``sync``: synchronise CUDA around it)."""

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not self.enabled:
                return fn(*args, **kwargs)
            start = self._enter(sync)
            try:
                return fn(*args, **kwargs)
            finally:
                self._exit(stage, sync, start)

        return wrapper

    def wrap(self, owner, name: str, stage: str, sync: bool = False) -> None:
        """Replace ``owner.name`` by its timed version."""
        setattr(owner, name, self.timed(getattr(owner, name), stage, sync))

    @contextlib.contextmanager
    def section(self, stage: str, sync: bool = False):
        """Time a block as ``stage``."""
        if not self.enabled:
            yield
            return
        start = self._enter(sync)
        try:
            yield
        finally:
            self._exit(stage, sync, start)

    def totals(self) -> Tuple[Dict[str, float], Dict[str, float], Dict[str, float]]:
        """Exclusive wall, exclusive CPU and inclusive wall seconds per stage."""
        wall, cpu, inclusive = (defaultdict(float, d)
                                for d in (self.wall, self.cpu, self.inclusive))
        for name in os.listdir(self.log_dir):
            with open(osp.join(self.log_dir, name)) as f:
                for line in f:
                    stage, w, c, i = line.split('\t')
                    wall[stage] += float(w)
                    cpu[stage] += float(c)
                    inclusive[stage] += float(i)
        return dict(wall), dict(cpu), dict(inclusive)


def cpu_seconds() -> np.ndarray:
    """User + system CPU seconds of this process (all threads) and of its joined children."""
    return np.array([sum(resource.getrusage(who)[:2])
                     for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)])


def _descendants(pid: int) -> List[int]:
    """Processes whose ancestor is ``pid`` (Linux ``/proc``)."""
    parents: Dict[int, List[int]] = defaultdict(list)
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        try:
            with open(f'/proc/{name}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        parents[ppid].append(int(name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _memory_kib(pid: int) -> Tuple[int, int]:
    """``(Rss, Pss)`` of ``pid`` in KiB from ``smaps_rollup`` (0, 0 once it has exited)."""
    values = {}
    try:
        with open(f'/proc/{pid}/smaps_rollup') as f:
            for line in f:
                key, _, rest = line.partition(':')
                if key in ('Rss', 'Pss'):
                    values[key] = int(rest.split()[0])
    except (OSError, ValueError):
        return 0, 0
    return values.get('Rss', 0), values.get('Pss', 0)


class MemorySampler:
    """Peak memory of this process and all its descendants, sampled in a thread.

    While a :meth:`measuring` block runs, every ``interval`` seconds the PSS (proportional
    set size: a page shared by ``n`` processes counts ``1/n`` in each, so forked
    dataloader workers do not count the model twice) and the RSS of the process tree are
    summed; :attr:`peak_pss_mib` and :attr:`peak_rss_sum_mib` are the largest sums seen.
    Writer threads are part of the main process. Linux only; elsewhere it records nothing.
    """

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak_pss_mib = 0.0
        self.peak_rss_sum_mib = 0.0

    def _sample(self) -> None:
        pids = [os.getpid(), *_descendants(os.getpid())]
        rss, pss = np.sum([_memory_kib(pid) for pid in pids], axis=0) / 1024
        self.peak_pss_mib = max(self.peak_pss_mib, float(pss))
        self.peak_rss_sum_mib = max(self.peak_rss_sum_mib, float(rss))

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval):
            self._sample()

    @contextlib.contextmanager
    def measuring(self):
        """Sample the process tree while the block runs (peaks accumulate over blocks)."""
        if not osp.isdir('/proc'):
            yield
            return
        stop = threading.Event()
        thread = threading.Thread(target=self._run, args=(stop, ), daemon=True)
        self._sample()
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self._sample()


def memory_report(device: str) -> dict:
    """Peak RSS of this process and of its (joined) children, peak CUDA memory (MiB)."""
    import torch
    scale = 1024 if platform.system() == 'Linux' else 1024 * 1024  # ru_maxrss units
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    report = dict(rss_peak_mib=own.ru_maxrss / scale,
                  rss_children_peak_mib=children.ru_maxrss / scale)
    if device == 'cuda':
        report['cuda_peak_mib'] = torch.cuda.max_memory_allocated() / 2**20
    return report
