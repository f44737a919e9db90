"""Shared test fixtures: the real sample data in ``../shared/realdata``, one torch thread."""
import os
from pathlib import Path

import pytest
import torch

import mmsamrs  # noqa: F401  (applies the compatibility fixes before other imports)

REALDATA = Path(
    os.environ.get('MMSAMRS_REALDATA',
                   Path(__file__).resolve().parents[1].parent / 'shared' / 'realdata'))


@pytest.fixture(scope='session')
def realdata() -> Path:
    """Root of the real samples (DOTA, DIOR, HRSC2016, Potsdam); CI has it beside the repo."""
    if not REALDATA.is_dir():
        raise FileNotFoundError(
            f'real sample data not found at {REALDATA}; put shared/ beside the checkout '
            'or set MMSAMRS_REALDATA')
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
