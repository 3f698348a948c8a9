"""glibc ``malloc`` settings for graphs that allocate and free many blocks of tens of MB.

By default glibc serves an allocation above its mmap threshold (128 kB, rising to at most 32 MB) with a fresh
``mmap`` and returns it to the system on ``free``, and trims the heap top above 128 kB. A pixel block of a
full-frame ramp is ~21 MB as float32, and every step makes new ones, so each block was new memory: ~5000
page faults each: much of a 2048x2048x10 detector1 run was system time.
Keeping such blocks in the heap and not trimming it lets freed blocks be reused. glibc also gives each thread
its own arena, and a block freed in one thread's arena cannot serve another thread, so with dask's worker
threads the peak memory was the sum of per-thread peaks; one arena serves all (allocations here are few and
large, so its lock is not contended).

:func:`tune_allocator` applies the settings to this process (``mallopt``; ``import jwstlazy`` does it first
thing, before numpy starts threads) and puts them in the environment, where glibc reads them when worker
processes start. Values a user already set in the environment win.
Elsewhere than glibc (macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

#: environment variable -> (mallopt parameter, value in bytes)
SETTINGS = {
    "MALLOC_MMAP_THRESHOLD_": (-3, 32 * 2**20),  # M_MMAP_THRESHOLD: its maximum; blocks up to 32 MB in the heap
    "MALLOC_TRIM_THRESHOLD_": (-1, 512 * 2**20),  # M_TRIM_THRESHOLD: keep up to 512 MB free at the heap top
    "MALLOC_TOP_PAD_": (-2, 64 * 2**20),  # M_TOP_PAD: grow the heap 64 MB at a time
    "MALLOC_ARENA_MAX": (-8, 1),  # M_ARENA_MAX: one arena for every thread
}

_applied = False


def tune_allocator() -> bool:
    """Apply :data:`SETTINGS` (once per process); True when glibc took them."""
    global _applied
    for name, (_, value) in SETTINGS.items():
        os.environ.setdefault(name, str(value))
    if _applied:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _applied = all(mallopt(parameter, int(os.environ[name])) == 1 for name, (parameter, _) in SETTINGS.items())
    return _applied
