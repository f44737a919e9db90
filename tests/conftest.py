"""Shared test fixtures: the real sample data in ``tests/data``, one torch thread."""
from pathlib import Path

import pytest
import torch

import mmsamrs  # noqa: F401  (applies the compatibility fixes before other imports)

REALDATA = Path(__file__).resolve().parent / 'data'


@pytest.fixture(scope='session')
def realdata() -> Path:
    """Root of the real samples (DOTA, DIOR, HRSC2016, Potsdam; see tests/data/README.md)."""
    return REALDATA


@pytest.fixture(scope='session', autouse=True)
def one_thread():
    """One intra-op thread: the tests' tiny models run many times faster on a busy 2-core
    machine than with two threads contending (tools run in subprocesses set
    OMP_NUM_THREADS=1 themselves)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
