"""Reading one reference file into an in-memory ``xarray.Dataset``, cut to an exposure's subarray.

Layout of the result (FITS references):

- one numpy-backed variable per image extension, named as the extension (``SCI``, ``DQ``, ``ERR``,
  ``COEFFS``, ...), in native byte order. Detector-plane arrays (those whose last two axes have the
  reference frame's shape) have dims ``(..., "y", "x")`` and are cut to the exposure's subarray; their
  leading axes are named by :attr:`ReferenceType.leading_dims` (``group`` for darks, ``coeff`` for
  linearity). Other images get dims ``<EXT>_axis<i>`` and are kept whole.
- one variable per table column, ``<EXT>.<column>`` on dim ``<EXT>_row`` (DQ_DEF included); strings as
  numpy ``str``; multi-valued columns get extra dims ``<EXT>.<column>_axis<i>``.
- ``attrs``: the primary header (commentary cards dropped), plus ``filename`` (the file's path) and
  ``reftype``. After a cut, SUBSTRT1/2 and SUBSIZE1/2 describe the returned arrays.
- each variable's ``attrs`` hold ``BUNIT`` when its extension has one.

ASDF references (distortion, filteroffset, emicorr, ...) are not deserialised here: the result has no
variables and its attrs hold the ``meta`` tree translated to FITS keywords plus ``filename``; the module
that needs the model (e.g. ``jwstlazy.wcs``) opens ``attrs["filename"]`` itself.

Subarray geometry is 1-based in DMS orientation: SUBSTRT1/SUBSIZE1 along x (last axis), SUBSTRT2/SUBSIZE2
along y. A reference without SUBSTRT1/2 is taken to start at pixel (1, 1).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import math

import dask.array as da
import numpy as np
import xarray as xr
from astropy.io import fits
from dask.base import tokenize

from jwstlazy.datamodels.fits_io import FitsImageData
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references.crds_cache import ASDF_SUFFIXES, read_reference_header
from jwstlazy.references.types import ReferenceType, reference_type

log = logging.getLogger(__name__)

SUBARRAY_KEYWORDS = ("SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2")
_SKIPPED_HDUS = {"PRIMARY", "ASDF"}
_COMMENTARY = {"COMMENT", "HISTORY", ""}


class ImageLayout(NamedTuple):
    """How a detector-plane reference image was made lazy: its bytes, the subarray cut from it and the exposure's
    pixel blocks. Kept in the variable's ``encoding[LAYOUT]`` so that a derived image
    (:mod:`jwstlazy.references.derived`) reads the same blocks of the same bytes."""

    source: FitsImageData
    cut: tuple[slice, slice] | None
    blocks: tuple[tuple[int, ...], tuple[int, ...]] | None


LAYOUT = "jwstlazy_layout"


@dataclass(frozen=True)
class Window:
    """A rectangle of detector pixels: 1-based start and size along x (axis -1) and y (axis -2)."""

    xstart: int
    ystart: int
    xsize: int
    ysize: int

    def describe(self) -> str:
        """Columns and rows covered, 1-based inclusive, for messages."""
        return (f"columns {self.xstart}-{self.xstart + self.xsize - 1}, "
                f"rows {self.ystart}-{self.ystart + self.ysize - 1}")


def exposure_attrs(exposure: Mapping[str, Any] | xr.Dataset | None) -> Mapping[str, Any]:
    """The header keywords of an exposure given as a Dataset (its ``attrs``) or a mapping."""
    if exposure is None:
        return {}
    if isinstance(exposure, xr.Dataset):
        return exposure.attrs
    return exposure


def exposure_pixel_blocks(exposure: Any) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """The (y, x) chunks of a dask-backed exposure's SCI, so that reference images can be read in the same
    pixel blocks (no rechunking, each task reads just its block); None for other exposures."""
    if not isinstance(exposure, xr.Dataset) or "SCI" not in exposure:
        return None
    chunks = exposure["SCI"].chunks
    if chunks is None or exposure["SCI"].dims[-2:] != ("y", "x"):
        return None
    return tuple(chunks[-2]), tuple(chunks[-1])


def exposure_window(exposure: Mapping[str, Any]) -> Window | None:
    """The exposure's subarray from SUBSTRT1/2, SUBSIZE1/2; None when it has none of them.

    Raises :class:`JwstLazyInputError` when only some are present or they are not positive integers.
    """
    present = [key for key in SUBARRAY_KEYWORDS if exposure.get(key) is not None]
    if not present:
        return None
    source = exposure.get("filename", "exposure")
    missing = [key for key in SUBARRAY_KEYWORDS if key not in present]
    if missing:
        raise JwstLazyInputError("incomplete subarray keywords", path=source, where=missing[0],
                                 expected="all of SUBSTRT1, SUBSTRT2, SUBSIZE1, SUBSIZE2")
    values = [_positive_int(exposure[key], source, key) for key in SUBARRAY_KEYWORDS]
    return Window(*values)


def _positive_int(value: Any, source: Any, keyword: str) -> int:
    try:
        number = int(value)
        valid = number >= 1 and float(value) == number
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise JwstLazyInputError(f"bad value {value!r}", path=source, where=keyword,
                                 expected="a positive integer (1-based pixel position or size)")
    return number


def load_reference(
    path: str | os.PathLike,
    reftype: str,
    exposure: Mapping[str, Any] | xr.Dataset | None = None,
) -> xr.Dataset:
    """Read the reference file ``path`` of type ``reftype``, cut to ``exposure``'s subarray.

    ``exposure`` (its attrs) supplies SUBSTRT1/2 and SUBSIZE1/2; without them (or with None) arrays are
    returned as stored. Raises :class:`JwstLazyInputError` naming the file when it cannot be read, its
    REFTYPE differs from ``reftype``, an extension the type needs is missing, or its arrays do not cover
    the exposure's subarray. See the module docstring for the layout of the result.
    """
    path = Path(path)
    kind = reference_type(reftype)
    if path.name.lower().endswith(ASDF_SUFFIXES):
        header = read_reference_header(path)
        _check_reftype(header.get("REFTYPE"), kind, path)
        return xr.Dataset(attrs={**header.keywords, "filename": str(path), "reftype": kind.name})
    window = exposure_window(exposure_attrs(exposure))
    try:
        with fits.open(path) as hdul:
            return _dataset_from_hdul(hdul, path, kind, window, exposure_pixel_blocks(exposure))
    except JwstLazyInputError:
        raise
    except Exception as exc:  # astropy raises many types for damaged files
        raise JwstLazyInputError(f"cannot read: {type(exc).__name__}: {exc}", path=path,
                                 expected="a FITS reference file in CRDS format") from exc


def _check_reftype(found: Any, kind: ReferenceType, path: Path) -> None:
    if found is None or str(found).strip().lower() != kind.name:
        raise JwstLazyInputError(f"REFTYPE is {found!r}", path=path, where="REFTYPE",
                                 expected=repr(kind.name.upper()))


def _dataset_from_hdul(hdul: fits.HDUList, path: Path, kind: ReferenceType, window: Window | None,
                       blocks: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> xr.Dataset:
    primary = hdul[0].header
    _check_reftype(primary.get("REFTYPE"), kind, path)
    hdus = _named_hdus(hdul)
    missing = [ext for ext in kind.extensions if ext not in hdus]
    if missing:
        raise JwstLazyInputError(f"missing extension {missing[0]} (has {', '.join(hdus) or 'none'})",
                                 path=path, where=missing[0],
                                 expected=f"extensions {', '.join(kind.extensions)} for a {kind.name} file")
    frame_shape = _frame_shape(hdus, kind)
    cut = _cut_slices(primary, frame_shape, window, path) if frame_shape else None

    variables: dict[str, xr.Variable] = {}
    for name, hdu in hdus.items():
        if isinstance(hdu, (fits.BinTableHDU, fits.TableHDU)):
            variables.update(_table_variables(name, hdu))
        elif hdu.shape:
            variables[name] = _image_variable(name, hdu, kind, frame_shape, cut, variables, blocks)
    attrs = {key: primary[key] for key in primary if key.upper() not in _COMMENTARY}
    if cut is not None and window is not None:
        attrs.update(SUBSTRT1=window.xstart, SUBSTRT2=window.ystart,
                     SUBSIZE1=window.xsize, SUBSIZE2=window.ysize)
    attrs.update(filename=str(path), reftype=kind.name)
    return xr.Dataset(variables, attrs=attrs)


def _named_hdus(hdul: fits.HDUList) -> dict[str, fits.hdu.base.ExtensionHDU]:
    """Extensions by name (``NAME_<EXTVER>`` for repeated names), without PRIMARY and the ASDF tree."""
    named: dict[str, Any] = {}
    for hdu in hdul[1:]:
        name = hdu.name.upper()
        if name in _SKIPPED_HDUS:
            continue
        if name in named:
            name = f"{name}_{hdu.ver}"
        named[name] = hdu
    return named


def _frame_shape(hdus: Mapping[str, Any], kind: ReferenceType) -> tuple[int, int] | None:
    """The (ny, nx) of the reference's detector plane: last two axes of its main image, if any."""
    images = [(name, hdu) for name, hdu in hdus.items()
              if isinstance(hdu, (fits.ImageHDU, fits.CompImageHDU))
              and len(hdu.shape) >= kind.detector_ndim]
    preferred = [item for item in images if item[0] in kind.extensions] or images
    return tuple(preferred[0][1].shape[-2:]) if preferred else None


def _cut_slices(primary: fits.Header, frame_shape: tuple[int, int], window: Window | None,
                path: Path) -> tuple[slice, slice] | None:
    """(y, x) slices taking ``window`` out of a reference frame; None when nothing is to be cut."""
    ny, nx = frame_shape
    ref = Window(int(primary.get("SUBSTRT1", 1)), int(primary.get("SUBSTRT2", 1)), nx, ny)
    for keyword, size in (("SUBSIZE1", nx), ("SUBSIZE2", ny)):
        if keyword in primary and int(primary[keyword]) != size:
            log.warning("%s: %s=%s differs from the array size %d; using the array size",
                        path, keyword, primary[keyword], size)
    if window is None:
        return None
    x0, y0 = window.xstart - ref.xstart, window.ystart - ref.ystart
    if x0 < 0 or y0 < 0 or x0 + window.xsize > nx or y0 + window.ysize > ny:
        raise JwstLazyInputError(
            f"reference covers {ref.describe()} but the exposure needs {window.describe()}",
            path=path, where="SUBSTRT1/2, SUBSIZE1/2",
            expected="a reference frame (full frame or larger subarray) containing the exposure's subarray",
        )
    return slice(y0, y0 + window.ysize), slice(x0, x0 + window.xsize)


def _image_variable(name: str, hdu: Any, kind: ReferenceType, frame_shape: tuple[int, int] | None,
                    cut: tuple[slice, slice] | None, existing: Mapping[str, xr.Variable],
                    blocks: tuple[tuple[int, ...], tuple[int, ...]] | None = None) -> xr.Variable:
    shape = tuple(hdu.shape)
    on_detector = (frame_shape is not None and len(shape) >= kind.detector_ndim
                   and shape[-2:] == frame_shape)
    if on_detector:
        source = _image_source(hdu)
        dims = (*_leading_dims(name, shape[:-2], kind, existing), "y", "x")
        layout = ImageLayout(source, cut, blocks)
        return xr.Variable(dims, lazy_image(*layout), attrs=_unit_attrs(hdu.header), encoding={LAYOUT: layout})
    else:
        data = hdu.data
        dims = tuple(f"{name}_axis{i}" for i in range(len(shape)))
    return xr.Variable(dims, _native(data), attrs=_unit_attrs(hdu.header))


def _image_source(hdu: Any) -> FitsImageData:
    """Where an image HDU's pixels lie in its file, for tasks that read them."""
    header, location = hdu.header, hdu.fileinfo()
    return FitsImageData(location["file"].name, location["datLoc"], tuple(hdu.shape), header["BITPIX"],
                         header.get("BSCALE", 1.0), header.get("BZERO", 0.0))


def lazy_image(source: Any, cut: tuple[slice, slice] | None = None,
               blocks: tuple[tuple[int, ...], tuple[int, ...]] | None = None, key_salt: Any = None) -> da.Array:
    """A detector-plane image as a dask array whose chunk tasks read only their own bytes, cut to ``cut``.

    ``source``: an array-like (a :class:`FitsImageData`, or a derived image over one) with ``shape``, ``dtype``
    and ``path``. Reference cubes (darks, linearity coefficients) are hundreds of MB: nothing is read until a
    task needs its pixel block, the client never holds them, and the graph carries a file reference, not the
    pixels. With the exposure's pixel ``blocks``, the chunks inside the ``cut`` are exactly those blocks;
    otherwise whole rows of ~64 MB. ``key_salt`` makes the task keys differ from another array's over the same
    source and chunks.
    """
    pixel_chunks = _aligned_chunks(source.shape[-2:], cut, blocks)
    if pixel_chunks is None:
        row_bytes = source.dtype.itemsize * math.prod(source.shape) // max(1, source.shape[-2])
        rows = max(1, min(source.shape[-2], (64 << 20) // max(1, row_bytes)))  # ~64 MB per chunk
        pixel_chunks = (rows, -1)
    chunks = (*(-1 for _ in source.shape[:-2]), *pixel_chunks)
    # the same file read in other blocks (another exposure's chunking) must not share task keys
    name = "reference-" + tokenize(source, os.stat(source.path).st_mtime_ns, chunks, key_salt)
    data = da.from_array(source, chunks=chunks, name=name, lock=False, asarray=False, inline_array=True,
                         meta=np.empty((0,) * len(source.shape), source.dtype))
    return data if cut is None else data[(Ellipsis, *cut)]


def _aligned_chunks(frame: tuple[int, ...], cut: tuple[slice, slice] | None,
                    blocks: tuple[tuple[int, ...], tuple[int, ...]] | None) -> tuple[tuple[int, ...], ...] | None:
    """Chunks of the whole frame whose part inside ``cut`` is ``blocks``; None when they do not fit."""
    if blocks is None:
        return None
    window = cut if cut is not None else (slice(0, frame[0]), slice(0, frame[1]))
    chunks = []
    for size, part, inner in zip(frame, window, blocks):
        if sum(inner) != part.stop - part.start:
            return None
        chunks.append(tuple(n for n in (part.start, *inner, size - part.stop) if n > 0))
    return tuple(chunks)


def _leading_dims(name: str, sizes: tuple[int, ...], kind: ReferenceType,
                  existing: Mapping[str, xr.Variable]) -> tuple[str, ...]:
    """Names of the axes before (y, x): the type's declared names (trailing ones), unless a name is taken
    with another size by a variable already read, or none is declared; then ``<EXT>_axis<i>``."""
    declared = kind.leading_dims.get(name, ())
    declared = declared[len(declared) - len(sizes):] if len(declared) >= len(sizes) else ()
    taken = {dim: size for var in existing.values() for dim, size in zip(var.dims, var.shape)}
    names = []
    for i, size in enumerate(sizes):
        candidate = declared[i] if declared else f"{name}_axis{i}"
        if taken.get(candidate, size) != size:
            candidate = f"{name}_axis{i}"
        names.append(candidate)
    return tuple(names)


def _table_variables(name: str, hdu: Any) -> dict[str, xr.Variable]:
    """One variable per column, ``<EXT>.<column>`` on dim ``<EXT>_row``."""
    variables = {}
    if hdu.data is None:
        return variables
    for column in hdu.columns.names:
        values = np.asarray(hdu.data[column])
        if values.dtype.kind in "SU":
            values = np.char.strip(values.astype(str))
        values = _native(values)
        key = f"{name}.{column}"
        dims = (f"{name}_row", *(f"{key}_axis{i}" for i in range(1, values.ndim)))
        variables[key] = xr.Variable(dims, values)
    return variables


def _native(data: Any) -> np.ndarray:
    """A C-contiguous copy in native byte order (detached from any memory map)."""
    array = np.asarray(data)
    return np.array(array, dtype=array.dtype.newbyteorder("="), order="C", copy=True)


def _unit_attrs(header: fits.Header) -> dict[str, Any]:
    return {"BUNIT": header["BUNIT"]} if "BUNIT" in header else {}
