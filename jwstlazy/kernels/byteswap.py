"""Big-endian FITS values to native ones in one pass: byte swap plus the FITS sign-flip offset.

FITS stores big-endian integers and IEEE floats; unsigned integers are stored signed with BZERO = 2^(bits-1),
which is the same as flipping the top bit. :func:`swap_bytes` turns an unsigned-integer view of the stored
bytes (any strides, e.g. a block of a memory map) into native values, XOR-ing ``flip`` (0 or the top bit),
without the intermediate copies numpy needs (copy, byte swap, XOR).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["swap_bytes"]


@numba.njit(cache=True, nogil=True)
def _swap16(src, out, flip):
    for y in range(src.shape[0]):
        for x in range(src.shape[1]):
            v = src[y, x]
            out[y, x] = ((v >> np.uint16(8)) | (v << np.uint16(8))) ^ flip


@numba.njit(cache=True, nogil=True)
def _swap32(src, out, flip):
    for y in range(src.shape[0]):
        for x in range(src.shape[1]):
            v = src[y, x]
            v = ((v >> np.uint32(24)) | ((v >> np.uint32(8)) & np.uint32(0xFF00))
                 | ((v << np.uint32(8)) & np.uint32(0xFF0000)) | (v << np.uint32(24)))  # fmt: skip
            out[y, x] = v ^ flip


@numba.njit(cache=True, nogil=True)
def _swap64(src, out, flip):
    for y in range(src.shape[0]):
        for x in range(src.shape[1]):
            v = src[y, x]
            r = np.uint64(0)
            for _ in range(8):
                r = (r << np.uint64(8)) | (v & np.uint64(0xFF))
                v >>= np.uint64(8)
            out[y, x] = r ^ flip


_KERNELS = {2: _swap16, 4: _swap32, 8: _swap64}


def swap_bytes(stored: np.ndarray, flip: int = 0) -> np.ndarray:
    """Native-order copy of ``stored``, an unsigned-integer array holding big-endian values, XOR ``flip``.

    ``stored``: any shape and strides, dtype uint16/uint32/uint64 (uint8 is copied as is, XOR ``flip``).
    Returns a C-contiguous array of the same unsigned dtype; view it as the logical dtype.
    """
    out = np.empty(stored.shape, dtype=stored.dtype)
    if stored.dtype.itemsize == 1 or stored.size == 0:
        np.bitwise_xor(stored, stored.dtype.type(flip), out=out)
        return out
    kernel = _KERNELS[stored.dtype.itemsize]
    flip_value = stored.dtype.type(flip)
    planes_in = stored.reshape(-1, *stored.shape[-2:]) if stored.ndim >= 2 else stored.reshape(1, 1, -1)
    planes_out = out.reshape(planes_in.shape)
    for src, dst in zip(planes_in, planes_out):
        kernel(src, dst, flip_value)
    return out
