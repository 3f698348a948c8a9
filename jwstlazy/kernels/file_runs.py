"""Reading and writing a block's runs of bytes at scattered file positions, one system call per run, without
holding the GIL.

A block of a time series (a few rows of every group of every integration) lies in the file as thousands of
short runs. A Python loop of ``os.preadv`` calls releases and retakes the GIL around every call: while another
thread runs Python code, each retake waits up to the interpreter's switch interval (5 ms), so 5000 runs took
minutes beside a busy thread and twice as long beside a second reading thread (docs/performance.md). Here the
loop is compiled and calls the C library's ``pread``/``pwrite`` directly (POSIX; elsewhere :data:`AVAILABLE` is
False and callers keep their Python loop).

The C functions are declared by name (``types.ExternalFunction``), resolved when the compiled code is loaded,
so the kernel is cached like the others. Buffer addresses are passed as unsigned integers of pointer size,
which the 64-bit System V and AArch64 calling conventions pass exactly as pointers.
"""

from __future__ import annotations

import os
import sys

import numba
import numpy as np
from numba import types

__all__ = ["AVAILABLE", "pread_runs", "pwrite_runs"]

#: True where the compiled loop can be used (POSIX ``pread``/``pwrite`` and 64-bit pointers).
AVAILABLE = os.name == "posix" and sys.maxsize > 2**32

_SIGNATURE = types.intp(types.intc, types.uintp, types.uintp, types.int64)  # (fd, buffer, count, offset)
_pread = types.ExternalFunction("pread", _SIGNATURE)
_pwrite = types.ExternalFunction("pwrite", _SIGNATURE)


@numba.njit(cache=True, nogil=True)
def _transfer(descriptor, buffer, run_bytes, positions, write):
    """Run i is ``buffer[i * run_bytes : (i + 1) * run_bytes]`` at file position ``positions[i]``; returns the
    number of runs moved whole before the first short or failed call (all of them when none)."""
    base = buffer.ctypes.data
    fd = np.intc(descriptor)
    for i in range(positions.shape[0]):
        address = base + i * run_bytes
        if write:
            done = _pwrite(fd, address, run_bytes, positions[i])
        else:
            done = _pread(fd, address, run_bytes, positions[i])
        if done != run_bytes:
            return i
    return positions.shape[0]


def pread_runs(descriptor: int, buffer: np.ndarray, run_bytes: int, positions: np.ndarray) -> int:
    """Read run i of ``run_bytes`` bytes from file position ``positions[i]`` into ``buffer`` (C-contiguous
    uint8, ``len(positions) * run_bytes`` long). Returns how many runs were read whole, in order: fewer than
    ``len(positions)`` after a short read or an error, which the caller redoes from there with Python's calls
    (they resume short reads and raise errors with their message)."""
    return _call(descriptor, buffer, run_bytes, positions, False)


def pwrite_runs(descriptor: int, buffer: np.ndarray, run_bytes: int, positions: np.ndarray) -> int:
    """Write run i of ``buffer`` to file position ``positions[i]``, as :func:`pread_runs` reads."""
    return _call(descriptor, buffer, run_bytes, positions, True)


def _call(descriptor: int, buffer: np.ndarray, run_bytes: int, positions: np.ndarray, write: bool) -> int:
    if not AVAILABLE or len(positions) == 0:
        return 0
    if buffer.dtype != np.uint8 or buffer.ndim != 1 or not buffer.flags.c_contiguous:
        raise ValueError("buffer must be a C-contiguous 1-D uint8 array")
    if buffer.size < len(positions) * run_bytes:
        raise ValueError(f"buffer of {buffer.size} bytes is too short for {len(positions)} runs of {run_bytes}")
    positions = np.ascontiguousarray(positions, dtype=np.int64)
    return int(_transfer(int(descriptor), buffer, int(run_bytes), positions, bool(write)))
