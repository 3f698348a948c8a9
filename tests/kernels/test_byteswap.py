"""Tests for jwstlazy.kernels.byteswap against numpy's byte swapping."""

import numpy as np
import pytest

from jwstlazy.kernels.byteswap import swap_bytes, swap_bytes_as


@pytest.mark.parametrize("dtype", [">u2", ">i2", ">u4", ">i4", ">f4", ">u8", ">f8"])
@pytest.mark.parametrize("flip", [False, True])
def test_matches_numpy_on_strided_blocks(dtype, flip):
    rng = np.random.default_rng(1)
    stored = (rng.normal(0, 1e4, (2, 3, 9, 11))).astype(dtype)
    block = stored[:, 1:, 2:7, 3:10]  # not contiguous
    width = stored.dtype.itemsize
    top = 1 << (8 * width - 1) if flip else 0
    got = swap_bytes(block.view(f"u{width}"), top)
    want = block.view(f">u{width}").astype(f"=u{width}") ^ np.dtype(f"u{width}").type(top)
    assert got.flags.c_contiguous and got.dtype == np.dtype(f"u{width}")
    np.testing.assert_array_equal(got, want)
    if not flip:
        np.testing.assert_array_equal(got.view(stored.dtype.newbyteorder("=")), block)


def test_fits_unsigned_16_bit_convention():
    values = np.array([[0, 1, 32767, 32768, 65535]], dtype=np.uint16)
    stored = (values.astype(np.int32) - 32768).astype(">i2")  # FITS: BZERO = 32768
    np.testing.assert_array_equal(swap_bytes(stored.view("u2"), 1 << 15).view(np.uint16), values)


def test_one_and_zero_dimensional_and_empty():
    np.testing.assert_array_equal(swap_bytes(np.array([1, 2], ">u2").view("u2")), [1, 2])
    assert swap_bytes(np.array(5, ">u4").view("u4")) == 5
    assert swap_bytes(np.zeros((0, 3), ">u2").view("u2")).shape == (0, 3)
    np.testing.assert_array_equal(swap_bytes(np.array([1, 200], np.uint8), 128), [129, 72])


@pytest.mark.parametrize("shape", [(7,), (3, 5), (2, 3, 4, 5), (2, 2, 3, 4, 5)])
def test_in_place_and_any_number_of_axes(shape):
    rng = np.random.default_rng(2)
    stored = rng.integers(0, 2**16, shape).astype(">u2")
    want = stored.astype("=u2") ^ np.uint16(1 << 15)
    buffer = stored.view("=u2")  # the stored bytes, swapped where they are
    assert swap_bytes(buffer, 1 << 15, out=buffer) is buffer
    np.testing.assert_array_equal(buffer, want)


def test_swap_and_cast_in_one_pass_equals_swap_then_astype():
    """swap_bytes_as: the FITS unsigned 16-bit values, byte-swapped and cast to float32/float64 in one pass."""
    rng = np.random.default_rng(3)
    native = rng.integers(0, 65536, size=(3, 5, 7, 9), dtype=np.uint16)
    native.flat[:3] = [0, 65535, 32768]
    stored = (native ^ np.uint16(1 << 15)).astype(">u2").view("u2")[:, 1:, ::2]  # strided, stored big-endian
    for dtype in (np.float32, np.float64):
        got = swap_bytes_as(stored, 1 << 15, dtype)
        assert got.dtype == dtype and got.flags.c_contiguous
        np.testing.assert_array_equal(got, native[:, 1:, ::2].astype(dtype))
    with pytest.raises(TypeError, match="uint16"):
        swap_bytes_as(stored.astype(np.uint32), 0, np.float32)
