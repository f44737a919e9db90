"""Give the memory that the C heap keeps after ``free`` back to the operating system."""
import ctypes
import functools
import sys
from typing import Callable, Optional


@functools.lru_cache(maxsize=None)
def _malloc_trim() -> Optional[Callable[[int], int]]:
    """glibc's ``malloc_trim``, or ``None`` where the C library has none (macOS, Windows,
    musl)."""
    if not sys.platform.startswith('linux'):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the symbols already loaded in this process
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_freed_memory() -> bool:
    """Return the pages of freed C-heap memory to the operating system (glibc
    ``malloc_trim(0)``); a no-op returning ``False`` where glibc is not the C library.

    Why: glibc serves allocations below its mmap threshold from its heap and keeps what is
    freed there, resident, for reuse. The threshold rises on its own (up to 32 MiB) the
    first time a larger freed block is seen, after which tensors of a few MiB (SAM's
    per-chunk decoder tensors on the CPU) come from the heap, whose freed, fragmented
    blocks stay resident: one step of a few hundred MiB of resident memory part-way through
    a run, which is why a long generation run peaked higher than a short one.
    ``malloc_trim(0)`` gives every whole free page of every arena back (``madvise``); it
    costs a walk over the free blocks (about 1-12 ms on a fragmented heap of a few hundred
    MiB), against seconds per batch of SAM on the CPU. Memory in use is not touched.

    Returns:
        ``True`` if ``malloc_trim`` was called.
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
