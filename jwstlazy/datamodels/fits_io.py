"""Low-level FITS access without reading pixels: HDU layout scanning and on-disk pixel views.

:func:`scan_hdus` parses only the headers and checks that the file holds every byte they promise.
:class:`FitsImageData` is an array-like over one image HDU's bytes; indexing memory-maps the file and
decodes only the requested block (big-endian, BZERO/BSCALE applied), so it is cheap to pickle and safe to
use from dask tasks on distributed workers. :class:`FitsImageTarget` is its writable twin.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.byteswap import swap_bytes, swap_bytes_as
from jwstlazy.kernels.file_runs import pread_runs, pwrite_runs

BLOCK = 2880  #: FITS block size in bytes
CARD = 80  #: FITS header card length in bytes

#: Extension keyword holding the comma-separated xarray dims of a variable no schema describes.
DIMS_KEYWORD = "DIMNAMES"

#: Keywords describing a HDU's structure: owned by the reader/writer, never dataset attrs.
_STRUCTURAL = re.compile(
    r"^(SIMPLE|BITPIX|NAXIS\d*|EXTEND|XTENSION|PCOUNT|GCOUNT|BSCALE|BZERO|BLANK|EXTNAME|EXTVER|EXTLEVEL|TFIELDS|THEAP"
    r"|T(TYPE|FORM|UNIT|DIM|NULL|SCAL|ZERO|DISP)\d+|CHECKSUM|DATASUM|COMMENT|HISTORY|DIMNAMES|)$"
)
_KEYWORD = re.compile(r"^[A-Z0-9_-]+$")


def is_header_keyword(key: object) -> bool:
    """True for an attrs key written to FITS headers (upper case, not structural); lower case keys are ours."""
    return isinstance(key, str) and bool(_KEYWORD.match(key)) and not _STRUCTURAL.match(key)


def header_to_attrs(header: fits.Header) -> dict:
    """Non-structural keywords of a header as a flat dict (undefined values become None)."""
    attrs = {}
    for key, value in header.items():
        if is_header_keyword(key):
            attrs[key] = None if isinstance(value, fits.card.Undefined) else value
    return attrs


#: BITPIX -> big-endian dtype of the stored values.
_STORED = {8: np.dtype("u1"), 16: np.dtype(">i2"), 32: np.dtype(">i4"), 64: np.dtype(">i8"),
           -32: np.dtype(">f4"), -64: np.dtype(">f8")}  # fmt: skip

#: (BITPIX, BZERO) of the FITS unsigned/signed-byte conventions -> logical dtype.
_OFFSET_INTEGERS = {(16, 1 << 15): np.dtype(np.uint16), (32, 1 << 31): np.dtype(np.uint32),
                    (64, 1 << 63): np.dtype(np.uint64), (8, -128): np.dtype(np.int8)}  # fmt: skip

#: Logical dtype -> (BITPIX, BZERO) used when writing.
_STORAGE_OF = {np.dtype(np.uint8): (8, 0), np.dtype(np.int16): (16, 0), np.dtype(np.int32): (32, 0),
               np.dtype(np.int64): (64, 0), np.dtype(np.float32): (-32, 0), np.dtype(np.float64): (-64, 0)}
_STORAGE_OF.update({dtype: key for key, dtype in _OFFSET_INTEGERS.items()})


@dataclass(frozen=True)
class HduInfo:
    """One HDU: its position, parsed header and where its data bytes lie (offset/size in bytes)."""

    index: int
    name: str
    header: fits.Header
    data_offset: int
    data_size: int

    @property
    def is_image(self) -> bool:
        """True for a primary or IMAGE extension holding at least one pixel."""
        is_image_type = self.index == 0 or self.header.get("XTENSION", "").strip() == "IMAGE"
        return is_image_type and self.header.get("NAXIS", 0) > 0 and self.data_size > 0

    @property
    def is_table(self) -> bool:
        """True for a BINTABLE extension."""
        return self.header.get("XTENSION", "").strip() == "BINTABLE"

    @property
    def shape(self) -> tuple[int, ...]:
        """Numpy-order shape of an image HDU."""
        naxis = self.header.get("NAXIS", 0)
        return tuple(int(self.header[f"NAXIS{i}"]) for i in range(naxis, 0, -1))


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK


def _read_header(handle, path: Path, index: int) -> fits.Header | None:
    """Read blocks up to the END card; None at a clean end of file."""
    chunks = []
    while True:
        block = handle.read(BLOCK)
        if not block and not chunks:
            return None
        if len(block) < BLOCK:
            where = "PRIMARY" if index == 0 else f"HDU {index}"
            raise JwstLazyInputError("file is truncated inside a header", path, where,
                                     "complete 2880-byte header blocks ending with an END card")  # fmt: skip
        chunks.append(block)
        cards = [block[i : i + CARD] for i in range(0, BLOCK, CARD)]
        if any(card.startswith(b"END") and not card[3:].strip() for card in cards):
            break
    raw = b"".join(chunks)
    try:
        return fits.Header.fromstring(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as error:
        raise JwstLazyInputError(f"unreadable header ({error})", path, f"HDU {index}", "ASCII FITS cards") from None


def _data_size(header: fits.Header) -> int:
    """Unpadded data size in bytes: |BITPIX|/8 * GCOUNT * (PCOUNT + NAXIS1*...*NAXISn)."""
    naxis = int(header.get("NAXIS", 0))
    if naxis == 0:
        return 0
    count = 1
    for i in range(1, naxis + 1):
        count *= int(header[f"NAXIS{i}"])
    return abs(int(header["BITPIX"])) // 8 * int(header.get("GCOUNT", 1)) * (int(header.get("PCOUNT", 0)) + count)


def scan_hdus(path: str | os.PathLike) -> list[HduInfo]:
    """Parse every header of a FITS file and check the file holds all the data bytes they promise.

    Raises JwstLazyInputError for an empty, non-FITS or truncated file.
    """
    path = Path(path)
    file_size = path.stat().st_size
    if file_size == 0:
        raise JwstLazyInputError("file is empty", path, expected="a FITS file")
    hdus: list[HduInfo] = []
    with path.open("rb") as handle:
        if not handle.read(30).startswith(b"SIMPLE  =                    T"):
            raise JwstLazyInputError("not a FITS file", path, "PRIMARY", "a file starting with 'SIMPLE  =  T'")
        handle.seek(0)
        while True:
            index = len(hdus)
            start = handle.tell()
            if index > 0 and handle.read(8) != b"XTENSION":
                break  # end of file or trailing bytes after the last HDU (ignored, as astropy does)
            handle.seek(start)
            header = _read_header(handle, path, index)
            if header is None:
                break
            try:
                size = _data_size(header)
            except (KeyError, ValueError, TypeError):
                raise JwstLazyInputError("header lacks a valid BITPIX/NAXISn", path, f"HDU {index}",
                                         "integer BITPIX, NAXIS and NAXISn keywords") from None  # fmt: skip
            name = str(header.get("EXTNAME", "PRIMARY" if index == 0 else f"HDU{index}")).strip().upper()
            offset = handle.tell()
            if offset + size > file_size:
                raise JwstLazyInputError(
                    f"file is truncated: {file_size} bytes, but the header promises data up to byte {offset + size}",
                    path, name, f"at least {offset + size} bytes")  # fmt: skip
            hdus.append(HduInfo(index, name, header, offset, size))
            handle.seek(offset + _padded(size))
    return hdus


def logical_dtype(bitpix: int, bscale: float = 1.0, bzero: float = 0.0) -> np.dtype:
    """The numpy dtype of the values an image HDU represents (after BSCALE/BZERO)."""
    if bscale == 1 and (bitpix, bzero) in _OFFSET_INTEGERS:
        return _OFFSET_INTEGERS[(bitpix, bzero)]
    stored = _STORED[bitpix]
    if bscale == 1 and bzero == 0:
        return stored.newbyteorder("=")
    return np.dtype(np.float32) if abs(bitpix) <= 32 and bitpix != 32 else np.dtype(np.float64)


def storage_of(dtype: np.dtype) -> tuple[int, int]:
    """(BITPIX, BZERO) that store values of ``dtype`` exactly; KeyError if FITS cannot."""
    return _STORAGE_OF[np.dtype(dtype)]


def _sign_flip_dtype(bitpix: int) -> tuple[np.dtype, int]:
    """Unsigned dtype of BITPIX's width and its top bit: XOR with it adds the FITS offset BZERO."""
    bits = abs(bitpix)
    return np.dtype(f"=u{bits // 8}"), 1 << (bits - 1)


def _decode(raw: np.ndarray, bitpix: int, bscale: float, bzero: float, dtype: np.dtype) -> np.ndarray:
    """Stored (big-endian) values, any strides (e.g. a block of a memory map) -> new array of ``dtype``."""
    width = abs(bitpix) // 8
    offset = bscale == 1 and (bitpix, bzero) in _OFFSET_INTEGERS
    flip = 1 << (8 * width - 1) if offset else 0
    native = swap_bytes(raw.view(f"u{width}"), flip)  # one pass: byte swap (+ FITS offset as a sign flip)
    if offset:
        return native.view(dtype)
    values = native.view(_STORED[bitpix].newbyteorder("="))
    if bscale == 1 and bzero == 0:
        return values.astype(dtype, copy=False)
    return (values.astype(dtype) * dtype.type(bscale) + dtype.type(bzero)).astype(dtype, copy=False)


def _decode_in_place(stored: np.ndarray, bitpix: int, bscale: float, bzero: float, dtype: np.dtype) -> np.ndarray:
    """As :func:`_decode` for a C-contiguous array this module owns (just read): swapped in its own buffer."""
    width = abs(bitpix) // 8
    unsigned = stored.view(f"=u{width}")  # the stored bytes, not yet in native order
    offset = bscale == 1 and (bitpix, bzero) in _OFFSET_INTEGERS
    swap_bytes(unsigned, 1 << (8 * width - 1) if offset else 0, out=unsigned)
    if offset:
        return unsigned.view(dtype)
    values = unsigned.view(_STORED[bitpix].newbyteorder("="))
    if bscale == 1 and bzero == 0:
        return values.astype(dtype, copy=False)
    return (values.astype(dtype) * dtype.type(bscale) + dtype.type(bzero)).astype(dtype, copy=False)


def _decode_as(raw: np.ndarray, bitpix: int, bscale: float, bzero: float, target: np.dtype) -> np.ndarray:
    """Stored (big-endian) values, any strides -> a new array of ``target``: ``_decode(...).astype(target)``,
    in one pass for unsigned 16-bit integers (an uncal ramp read as float32)."""
    if bitpix == 16 and bscale == 1 and bzero == 1 << 15:
        return swap_bytes_as(raw.view("u2"), 1 << 15, target)
    return _decode(raw, bitpix, bscale, bzero, logical_dtype(bitpix, bscale, bzero)).astype(target, copy=False)


def _encode(values: np.ndarray, bitpix: int, bzero: int) -> np.ndarray:
    """Logical values -> stored big-endian values for BITPIX/BZERO."""
    stored = _STORED[bitpix]
    if not bzero:
        return values.astype(stored)
    unsigned, top_bit = _sign_flip_dtype(bitpix)
    flipped = values.view(unsigned) ^ unsigned.type(top_bit)
    return flipped.astype(stored.str.replace("i", "u")).view(stored)


class FitsImageData:
    """Read-only array-like view of one image HDU's pixels; indexing decodes only the requested block.

    ``as_dtype``: blocks come as this dtype (the values cast as ``astype`` would), decoded straight to it.
    Picklable (it holds only the path and layout), so dask tasks can carry it to distributed workers.
    """

    def __init__(self, path: str | os.PathLike, offset: int, shape: tuple[int, ...], bitpix: int,
                 bscale: float = 1.0, bzero: float = 0.0, as_dtype: np.dtype | None = None) -> None:  # fmt: skip
        self.path = os.fspath(path)
        self.offset = int(offset)
        self.shape = tuple(int(n) for n in shape)
        self.bitpix, self.bscale, self.bzero = int(bitpix), float(bscale), float(bzero)
        logical = logical_dtype(self.bitpix, self.bscale, self.bzero)
        self.dtype = logical if as_dtype is None else np.dtype(as_dtype)
        self._cast = self.dtype != logical
        self.ndim = len(self.shape)

    def as_dtype(self, dtype: np.dtype) -> FitsImageData:
        """The same pixels read as ``dtype``."""
        return FitsImageData(self.path, self.offset, self.shape, self.bitpix, self.bscale, self.bzero, dtype)

    def __getitem__(self, key) -> np.ndarray:
        if 0 in self.shape:
            return np.empty(self.shape, dtype=self.dtype)[key]
        slices = _unit_slices(key, self.shape)
        if slices is not None and _scattered(slices, self.shape, _STORED[self.bitpix].itemsize):  # e.g. a time-series block: read run by run
            stored = _read_runs(self.path, self.offset, self.shape, _STORED[self.bitpix], slices)
            return self._decoded(stored, own_buffer=True)
        raw = np.memmap(self.path, dtype=_STORED[self.bitpix], mode="r", offset=self.offset, shape=self.shape)
        try:
            return self._decoded(np.asarray(raw[key], dtype=raw.dtype), own_buffer=False)
        finally:
            del raw

    def _decoded(self, stored: np.ndarray, own_buffer: bool) -> np.ndarray:
        """A block's stored values as ``self.dtype`` (swapped in ``stored``'s own buffer when the caller owns it)."""
        if self._cast:
            return _decode_as(stored, self.bitpix, self.bscale, self.bzero, self.dtype)
        decode = _decode_in_place if own_buffer else _decode
        return decode(stored, self.bitpix, self.bscale, self.bzero, self.dtype)

    def __dask_tokenize__(self) -> tuple:
        return ("FitsImageData", self.path, self.offset, self.shape, self.bitpix, self.bscale, self.bzero, self.dtype.str)

    def __repr__(self) -> str:
        return f"FitsImageData({self.path!r}, offset={self.offset}, shape={self.shape}, dtype={self.dtype})"


def _unit_slices(key, shape: tuple[int, ...]) -> tuple[slice, ...] | None:
    """``key`` as one step-1 slice per axis (None for any other key: integers, steps, ellipsis, arrays)."""
    key = key if isinstance(key, tuple) else (key,)
    if len(key) != len(shape) or not all(isinstance(k, slice) for k in key):
        return None
    slices = tuple(slice(*k.indices(n)) for k, n in zip(key, shape))
    return slices if all(k.step == 1 and k.stop >= k.start for k in slices) else None


def _scattered(slices: tuple[slice, ...], shape: tuple[int, ...], itemsize: int) -> bool:
    """True when a block's contiguous runs of bytes are short (< 256 kB), as in a time series (a few rows of
    every group of every integration): a memory map then maps far more of the file than the block (and counts
    it in the process's memory); for long runs the map is faster."""
    sizes = [k.stop - k.start for k in slices]
    axis = len(shape) - 1
    while axis > 0 and sizes[axis] == shape[axis]:
        axis -= 1
    run = sizes[axis] * int(np.prod(shape[axis + 1:], dtype=np.int64))
    return run * itemsize < 256 * 1024 and run < int(np.prod(sizes, dtype=np.int64))


#: A run shorter than this within one row (a strip a few pixels wide) is read as part of whole rows instead.
NARROW_RUN_BYTES = 4096
#: Largest read of whole rows made for a narrow strip.
BAND_BYTES = 1 << 20


def _read_runs(path: str, offset: int, shape: tuple[int, ...], stored: np.dtype,
               slices: tuple[slice, ...]) -> np.ndarray:  # fmt: skip
    """The stored (big-endian) values of a block, read with one ``pread`` per contiguous run of bytes.

    Unlike a memory map, this leaves no file pages mapped in the process: a block strided through the file
    (a time series: a few rows of every group of every integration) would otherwise map most of the file.
    Runs of a few bytes (a reference-pixel strip 4 columns wide) are read as whole rows, band by band.
    """
    sizes = [k.stop - k.start for k in slices]
    out = np.empty(sizes, dtype=stored)
    if out.size == 0:
        return out
    run_axis, run = _run_layout(shape, sizes)
    if run * stored.itemsize < NARROW_RUN_BYTES and run_axis == len(shape) - 1 and run_axis > 0:
        return _read_narrow_runs(path, offset, shape, stored, slices, run_axis, out)  # part of each row
    buffer, run_bytes, positions = _byte_runs(out, shape, slices, run_axis, offset)
    with open(path, "rb", buffering=0) as handle:
        descriptor = handle.fileno()
        done = pread_runs(descriptor, buffer, run_bytes, positions)  # thousands of runs: a loop without the GIL
        for row in range(done, len(positions)):  # after a short read (or where that loop is not available)
            _pread_exactly(descriptor, buffer[row * run_bytes : (row + 1) * run_bytes], int(positions[row]), path)
    return out


def _run_layout(shape: tuple[int, ...], sizes: list[int]) -> tuple[int, int]:
    """``(run_axis, run)`` of a block of ``sizes`` in an array of ``shape``: the first axis from the end not
    taken whole, and the elements in one contiguous run (that axis's range times the whole axes after it)."""
    ndim = len(shape)
    whole = 0
    while whole < ndim - 1 and sizes[ndim - 1 - whole] == shape[ndim - 1 - whole]:
        whole += 1
    run_axis = ndim - 1 - whole
    return run_axis, sizes[run_axis] * int(np.prod(shape[run_axis + 1:], dtype=np.int64))


def _byte_runs(block: np.ndarray, shape: tuple[int, ...], slices: tuple[slice, ...], run_axis: int,
               offset: int) -> tuple[np.ndarray, int, np.ndarray]:  # fmt: skip
    """A C-contiguous ``block`` of the file's array as (its bytes as a uint8 view, bytes per contiguous run,
    int64 file position of each run), for one ``pread``/``pwrite`` per run: run i is
    ``bytes[i * run_bytes : (i + 1) * run_bytes]``."""
    run_bytes = int(np.prod(block.shape[run_axis:], dtype=np.int64)) * block.itemsize
    positions = offset + _run_starts(shape, slices, run_axis) * block.itemsize
    return block.reshape(-1).view(np.uint8), run_bytes, positions


def _run_starts(shape: tuple[int, ...], slices: tuple[slice, ...], run_axis: int) -> np.ndarray:
    """Flat element offset of each contiguous run of the block, in C order (int64 array)."""
    strides = _element_strides(shape)
    starts = np.array([slices[run_axis].start * int(strides[run_axis])], dtype=np.int64)
    for axis in range(run_axis - 1, -1, -1):  # outer axes vary slowest
        steps = np.arange(slices[axis].start, slices[axis].stop, dtype=np.int64) * int(strides[axis])
        starts = (steps[:, None] + starts[None, :]).reshape(-1)
    return starts


def _read_narrow_runs(path: str, offset: int, shape: tuple[int, ...], stored: np.dtype, slices: tuple[slice, ...],
                      run_axis: int, out: np.ndarray) -> np.ndarray:  # fmt: skip
    """:func:`_read_runs` for runs of a few bytes: read the whole rows (axis ``run_axis - 1``) they lie in, at
    most ``BAND_BYTES`` at a time, and keep the strip: one ``pread`` per band instead of one per row."""
    band_axis = run_axis - 1
    row_shape = tuple(shape[run_axis:])
    row = int(np.prod(row_shape, dtype=np.int64))  # elements per step along the band axis
    rows_per_band = max(1, BAND_BYTES // (row * stored.itemsize))
    scratch = np.empty(rows_per_band * row, dtype=stored)
    strides = _element_strides(shape)
    first_row, last_row = slices[band_axis].start, slices[band_axis].stop
    keep = (slice(None),) + tuple(slices[run_axis:])
    with open(path, "rb", buffering=0) as handle:
        for index in np.ndindex(*out.shape[:band_axis]):
            first = _first_element(slices, index, strides)
            for start in range(first_row, last_row, rows_per_band):
                count = min(rows_per_band, last_row - start)
                band = scratch[: count * row]
                _pread_exactly(handle.fileno(), band, offset + (first + start * int(strides[band_axis])) * stored.itemsize, path)
                out[index + (slice(start - first_row, start - first_row + count),)] = band.reshape((count, *row_shape))[keep]
    return out


def _write_runs(path: str, offset: int, shape: tuple[int, ...], values: np.ndarray, slices: tuple[slice, ...]) -> None:
    """Write a block's stored (big-endian) ``values`` with one ``pwrite`` per contiguous run of bytes."""
    run_axis, _ = _run_layout(shape, list(values.shape))
    buffer, run_bytes, positions = _byte_runs(np.ascontiguousarray(values), shape, slices, run_axis, offset)
    with open(path, "r+b", buffering=0) as handle:
        descriptor = handle.fileno()
        done = pwrite_runs(descriptor, buffer, run_bytes, positions)  # thousands of runs: a loop without the GIL
        for row in range(done, len(positions)):  # after a short write (or where that loop is not available)
            _pwrite_all(descriptor, buffer[row * run_bytes : (row + 1) * run_bytes], int(positions[row]))


def _pwrite_all(descriptor: int, values: np.ndarray | memoryview, position: int) -> None:
    """Write the contiguous array (or byte view) ``values`` to the file from ``position`` (short writes resumed)."""
    view = memoryview(values).cast("B")
    done = 0
    while done < len(view):
        done += os.pwritev(descriptor, [view[done:]], position + done)


def _element_strides(shape: tuple[int, ...]) -> np.ndarray:
    """Elements per step along each axis of a C-ordered array of ``shape``."""
    return np.cumprod((1,) + tuple(shape[::-1]))[:-1][::-1]


def _first_element(slices: tuple[slice, ...], index: tuple[int, ...], strides: np.ndarray) -> int:
    """Flat element offset of the block's element ``index`` over its leading axes (later axes at 0)."""
    return sum((k.start + i) * int(n) for k, i, n in zip(slices, index, strides))


def _pread_exactly(descriptor: int, values: np.ndarray | memoryview, position: int, path: str) -> None:
    """Fill the contiguous array (or byte view) ``values`` with the file's bytes from ``position`` (short reads
    resumed)."""
    view = memoryview(values).cast("B")
    done = 0
    while done < len(view):
        count = os.preadv(descriptor, [view[done:]], position + done)
        if count == 0:
            raise JwstLazyInputError("file is truncated", path, expected="the data its header promises")
        done += count


class FitsImageTarget:
    """Writable twin of :class:`FitsImageData` for ``dask.array.store``: ``target[block] = values``.

    The file must already have its final size; each assignment memory-maps and writes only that block.
    """

    def __init__(self, path: str | os.PathLike, offset: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.path = os.fspath(path)
        self.offset = int(offset)
        self.shape = tuple(int(n) for n in shape)
        self.dtype = np.dtype(dtype)
        self.bitpix, self.bzero = storage_of(self.dtype)

    def __setitem__(self, key, values) -> None:
        if 0 in self.shape:
            return
        stored = _encode(np.asarray(values, dtype=self.dtype), self.bitpix, self.bzero)
        slices = _unit_slices(key, self.shape)
        if slices is not None:
            # one pwrite per contiguous run: through a memory map every page of a new file is faulted in
            # (twice as slow for a full-frame block), and for a block of a time series' per-integration
            # images (a few rows of every integration) nearly the whole map, counted in the process's memory
            sizes = tuple(k.stop - k.start for k in slices)
            block = stored if stored.shape == sizes else np.broadcast_to(stored, sizes)  # (keeps it writable)
            _write_runs(self.path, self.offset, self.shape, block, slices)
            return
        out = np.memmap(self.path, dtype=_STORED[self.bitpix], mode="r+", offset=self.offset, shape=self.shape)
        try:
            out[key] = stored
        finally:  # unmapping leaves the bytes in the page cache, seen by every process; no msync needed
            del out


def data_bytes_padded(shape: tuple[int, ...], dtype: np.dtype) -> int:
    """Size in bytes of an image HDU's data including the padding to a whole FITS block."""
    bitpix, _ = storage_of(dtype)
    return _padded(abs(bitpix) // 8 * int(np.prod(shape, dtype=np.int64)))
