"""Big-endian FITS values to native ones in one pass: byte swap plus the FITS sign-flip offset.

FITS stores big-endian integers and IEEE floats; unsigned integers are stored signed with BZERO = 2^(bits-1),
which is the same as flipping the top bit. :func:`swap_bytes` turns an unsigned-integer view of the stored
bytes (any strides, e.g. a block of a memory map) into native values, XOR-ing ``flip`` (0 or the top bit),
without the intermediate copies numpy needs (copy, byte swap, XOR).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["swap_bytes", "swap_bytes_as"]


@numba.njit(cache=True, nogil=True)
def _swap16(src, out, flip):
    """16-bit values swapped, XOR ``flip``, stored into ``out`` (uint16, or a float dtype: the cast astype makes)."""
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for y in range(src.shape[2]):
                for x in range(src.shape[3]):
                    v = np.uint32(src[i, j, y, x])
                    out[i, j, y, x] = ((v >> np.uint32(8)) | ((v & np.uint32(0xFF)) << np.uint32(8))) ^ flip


@numba.njit(cache=True, nogil=True)
def _swap32(src, out, flip):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for y in range(src.shape[2]):
                for x in range(src.shape[3]):
                    v = src[i, j, y, x]
                    v = ((v >> np.uint32(24)) | ((v >> np.uint32(8)) & np.uint32(0xFF00))
                         | ((v << np.uint32(8)) & np.uint32(0xFF0000)) | (v << np.uint32(24)))  # fmt: skip
                    out[i, j, y, x] = v ^ flip


@numba.njit(cache=True, nogil=True)
def _swap64(src, out, flip):
    for i in range(src.shape[0]):
        for j in range(src.shape[1]):
            for y in range(src.shape[2]):
                for x in range(src.shape[3]):
                    v = src[i, j, y, x]
                    r = np.uint64(0)
                    for _ in range(8):
                        r = (r << np.uint64(8)) | (v & np.uint64(0xFF))
                        v >>= np.uint64(8)
                    out[i, j, y, x] = r ^ flip


_KERNELS = {2: _swap16, 4: _swap32, 8: _swap64}


def _four_dimensional(array: np.ndarray) -> np.ndarray:
    """``array`` seen with 4 axes: leading unit axes added (a view), or leading axes merged (may copy)."""
    if array.ndim <= 4:
        return array.reshape((1,) * (4 - array.ndim) + array.shape)
    return array.reshape((-1,) + array.shape[-3:])


def swap_bytes(stored: np.ndarray, flip: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """Native-order copy of ``stored``, an unsigned-integer array holding big-endian values, XOR ``flip``.

    ``stored``: any shape and strides, dtype uint16/uint32/uint64 (uint8 is copied as is, XOR ``flip``).
    Returns a C-contiguous array of the same unsigned dtype (``out`` when given: a C-contiguous array of
    ``stored``'s shape and dtype, which may be ``stored`` itself, swapped in place); view it as the logical
    dtype. One compiled call per array; the GIL is released while it runs.
    """
    if out is None:
        out = np.empty(stored.shape, dtype=stored.dtype)
    if stored.dtype.itemsize == 1 or stored.size == 0:
        np.bitwise_xor(stored, stored.dtype.type(flip), out=out)
        return out
    _KERNELS[stored.dtype.itemsize](_four_dimensional(stored), _four_dimensional(out), stored.dtype.type(flip))
    return out


def swap_bytes_as(stored: np.ndarray, flip: int, dtype: np.dtype) -> np.ndarray:
    """:func:`swap_bytes` of 16-bit ``stored`` values, XOR ``flip``, cast to ``dtype`` in the same pass: a new
    C-contiguous array equal to ``swap_bytes(stored, flip).astype(dtype)`` (every 16-bit value is exact in
    float32), without the intermediate array and its second pass."""
    if stored.dtype != np.uint16:
        raise TypeError(f"swap_bytes_as takes uint16 stored values, not {stored.dtype}")
    out = np.empty(stored.shape, dtype=dtype)
    if stored.size:
        _swap16(_four_dimensional(stored), _four_dimensional(out), np.uint32(flip))
    return out
