"""Open a JWST FITS product as a lazy ``xarray.Dataset`` (see docs/architecture.md, "Data models").

Only headers are read on open. Each image extension becomes a dask array whose chunk tasks decode only
their own bytes (:class:`~jwstlazy.datamodels.fits_io.FitsImageData`); BinTables (GROUP, INT_TIMES, ...)
are small and read eagerly into ``<TABLE>.<column>`` variables on dim ``<TABLE>_row``. The ASDF extension
is skipped.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr
from astropy.io import fits
from dask.base import tokenize

from jwstlazy.datamodels.chunking import chunks_for, default_chunks, merge_chunks
from jwstlazy.datamodels.fits_io import (
    DIMS_KEYWORD,
    FitsImageData,
    HduInfo,
    header_to_attrs,
    logical_dtype,
    scan_hdus,
)
from jwstlazy.datamodels.schemas import ProductSchema, detect_product, schema_for
from jwstlazy.datamodels.validate import validate
from jwstlazy.errors import JwstLazyInputError

_SKIPPED_TABLES = frozenset({"ASDF"})
_GUESSED_DIMS = {1: ("x",), 2: ("y", "x"), 3: ("integration", "y", "x"), 4: ("integration", "group", "y", "x")}


def open_fits(path: str | os.PathLike, chunks: Mapping | None = None, product: str | None = None) -> xr.Dataset:
    """Open a FITS product lazily and validate it against its schema.

    ``chunks`` overrides the default chunk sizes by dim name; ``product`` overrides detection from the
    file name suffix / DATAMODL.
    """
    path = Path(path)
    summary = _file_summary(path)
    hdus, attrs = summary.hdus, dict(summary.attrs)
    product = product or detect_product(path, attrs)
    schema = schema_for(product)

    images = [hdu for hdu in hdus if hdu.is_image]
    layout = _image_layout(images, schema, path)
    chunk_sizes = merge_chunks(default_chunks(layout), chunks, path)
    variables = {name: _lazy_variable(path, hdu, layout[name][0], chunk_sizes)
                 for name, hdu in zip(layout, images)}  # fmt: skip
    variables.update({name: variable.copy(deep=True) for name, variable in summary.tables.items()})

    attrs["product"] = product
    attrs["filename"] = os.fspath(path)
    dataset = xr.Dataset(variables, attrs=attrs)
    validate(dataset, product, path)
    return dataset


@dataclass(frozen=True)
class _FileSummary:
    """What opening a FITS file reads besides pixels: its HDU layout, header keywords, and tables."""

    hdus: list[HduInfo]
    attrs: dict  #: primary header keywords updated with the SCI extension's
    tables: dict[str, xr.Variable]


#: Summaries of recently opened files, by (resolved path, inode, mtime, size): a program run opens each
#: exposure more than once while building its graph (to choose chunks, for refpix's borders), and parsing
#: headers and tables with astropy was a visible part of the client's time per exposure.
_SUMMARIES: OrderedDict[tuple, _FileSummary] = OrderedDict()
_SUMMARIES_KEPT = 16
_SUMMARIES_LOCK = threading.Lock()

#: The source of each image array opened lately, by the array's dask name (for :func:`read_as`).
_SOURCES: OrderedDict[str, FitsImageData] = OrderedDict()
_SOURCES_KEPT = 1024
_SOURCES_LOCK = threading.Lock()


def _file_summary(path: Path) -> _FileSummary:
    """The file's :class:`_FileSummary`, parsed once per version of the file (the caller copies what it
    changes: attrs and table values)."""
    try:
        stat = path.stat()
    except OSError:
        stat = None
    key = None if stat is None else (os.fspath(path.resolve()), stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _SUMMARIES_LOCK:
        if key in _SUMMARIES:
            _SUMMARIES.move_to_end(key)
            return _SUMMARIES[key]
    hdus = scan_hdus(path)  # a missing or bad file raises here, naming it
    attrs = header_to_attrs(hdus[0].header)
    science = next((hdu for hdu in hdus if hdu.name == "SCI" and hdu.index > 0), None)
    if science is not None:
        attrs.update(header_to_attrs(science.header))
    tables = [hdu for hdu in hdus if hdu.is_table and hdu.name not in _SKIPPED_TABLES]
    summary = _FileSummary(hdus, attrs, _read_tables(path, tables) if tables else {})
    if key is not None:
        with _SUMMARIES_LOCK:
            _SUMMARIES[key] = summary
            while len(_SUMMARIES) > _SUMMARIES_KEPT:
                _SUMMARIES.popitem(last=False)
    return summary


def _image_layout(images: list[HduInfo], schema: ProductSchema | None, path: Path) -> dict:
    """``name -> (dims, shape, dtype)`` for each image HDU, with dims consistent in size across variables."""
    layout: dict[str, tuple] = {}
    sizes: dict[str, int] = {}
    for hdu in images:
        shape = hdu.shape
        if hdu.name in layout:
            raise JwstLazyInputError("duplicate extension name", path, hdu.name, "one extension per EXTNAME")
        try:
            dtype = logical_dtype(hdu.header["BITPIX"], hdu.header.get("BSCALE", 1.0), hdu.header.get("BZERO", 0.0))
        except KeyError:
            raise JwstLazyInputError(f"unsupported BITPIX {hdu.header.get('BITPIX')!r}", path, hdu.name,
                                     "BITPIX one of 8, 16, 32, 64, -32, -64") from None  # fmt: skip
        spec = schema.variables.get(hdu.name) if schema else None
        dims = _dims_of(hdu, spec.dims_for(len(hdu.shape)) if spec else None)
        for axis, (dim, size) in enumerate(zip(dims, shape)):
            if sizes.setdefault(dim, size) == size:
                continue
            if spec is not None and dims == spec.dims_for(len(dims)):
                raise JwstLazyInputError(
                    f"shape {shape} disagrees with other extensions on dim {dim!r} (size {sizes[dim]})",
                    path, hdu.name, f"{dim} of size {sizes[dim]}")  # fmt: skip
            dims = dims[:axis] + (f"{hdu.name}_dim{axis}",) + dims[axis + 1 :]
            sizes[dims[axis]] = size
        layout[hdu.name] = (dims, shape, dtype)
    return layout


def _dims_of(hdu: HduInfo, schema_dims: tuple[str, ...] | None) -> tuple[str, ...]:
    """Dims from the schema, else the DIMNAMES keyword, else guessed from the number of axes."""
    ndim = len(hdu.shape)
    if schema_dims is not None and len(schema_dims) == ndim:
        return schema_dims
    named = tuple(str(hdu.header.get(DIMS_KEYWORD, "")).split(","))
    if len(named) == ndim and all(named):
        return named
    return _GUESSED_DIMS.get(ndim, tuple(f"{hdu.name}_dim{axis}" for axis in range(ndim)))


def _lazy_variable(path: Path, hdu: HduInfo, dims: tuple[str, ...], chunk_sizes: Mapping) -> xr.Variable:
    header = hdu.header
    source = FitsImageData(path, hdu.data_offset, hdu.shape, header["BITPIX"],
                           header.get("BSCALE", 1.0), header.get("BZERO", 0.0))  # fmt: skip
    stamp = path.stat()
    chunks = chunks_for(dims, chunk_sizes)
    # the chunks are part of the name: the same file opened with other chunks must not share task keys
    name = f"fits-{hdu.name}-" + tokenize(os.fspath(path.resolve()), hdu.data_offset, stamp.st_mtime_ns,
                                          stamp.st_size, chunks)  # fmt: skip
    array = _image_array(source, chunks, name)
    with _SOURCES_LOCK:
        _SOURCES[name] = source
        while len(_SOURCES) > _SOURCES_KEPT:
            _SOURCES.popitem(last=False)
    var_attrs = {"BUNIT": header["BUNIT"]} if "BUNIT" in header else {}
    return xr.Variable(dims, array, attrs=var_attrs)


def _image_array(source: FitsImageData, chunks, name: str) -> da.Array:
    return da.from_array(source, chunks=chunks, name=name, lock=False, asarray=True, inline_array=True,
                         meta=np.empty((0,) * source.ndim, dtype=source.dtype))  # fmt: skip


def read_as(array: da.Array, dtype: np.dtype | type) -> da.Array:
    """``array.astype(dtype)``; when ``array`` is an image array as :func:`open_fits` made it, its blocks are
    decoded straight to ``dtype`` instead (one pass over the stored bytes rather than decoding, then casting:
    an uncal ramp's uint16 read as float32). Same values either way."""
    dtype = np.dtype(dtype)
    with _SOURCES_LOCK:
        source = _SOURCES.get(getattr(array, "name", None))
    if source is None or array.dtype == dtype:  # (the name says it is the file's array as opened: same shape)
        return array.astype(dtype)
    prefix = array.name.rsplit("-", 1)[0]  # fits-<HDU>
    return _image_array(source.as_dtype(dtype), array.chunks, f"{prefix}-as-{dtype.name}-" + tokenize(array.name, dtype.str))


def _read_tables(path: Path, tables: list[HduInfo]) -> dict[str, xr.Variable]:
    """Every column of every BinTable as ``<TABLE>.<column>`` on dim ``<TABLE>_row`` (numpy, native order).

    Read as astropy's ``FITS_rec`` (scaled, unsigned and multi-dimensional columns as ``Table.read`` gives
    them; text as ``str``): ``Table.read`` costs several ms per table, a noticeable part of building a graph.
    """
    variables = {}
    with fits.open(path, memmap=False, lazy_load_hdus=True) as hdul:
        for info in tables:
            try:
                hdu = hdul[info.index]
                columns = [(column.name, column.unit, hdu.data[column.name]) for column in hdu.columns]
            except Exception as error:  # astropy raises many types for malformed tables
                raise JwstLazyInputError(f"unreadable table ({error})", path, info.name, "a valid BINTABLE") from None
            for name, unit, column in columns:
                values = np.array(column)
                if values.dtype.kind == "S":
                    values = np.char.decode(values, "ascii")
                if values.dtype.byteorder not in ("=", "|"):
                    values = values.astype(values.dtype.newbyteorder("="))
                extra = tuple(f"{info.name}.{name}_dim{axis}" for axis in range(1, values.ndim))
                attrs = {"TUNIT": str(unit)} if unit else {}
                variables[f"{info.name}.{name}"] = xr.Variable((f"{info.name}_row",) + extra, values, attrs)
    return variables
