"""Write a product Dataset as a FITS file in the official JWST layout, atomically and chunk by chunk.

Layout: an empty PRIMARY holding the primary keywords and DATAMODL; then SCI (with the pointing/WCS/
photometry keywords, see :func:`~jwstlazy.datamodels.schemas.is_sci_keyword`), the other image variables in
schema order, other image variables, the BinTables (GROUP, INT_TIMES, ...) and the ASDF extension.

The file is planned first (:class:`FitsPlan`: headers, tables, each image's byte offset), headers and tables
are written leaving (sparse) room for the pixels, then each image variable is stored block by block into a
memory map of its own bytes (``dask.array.store`` for dask-backed variables, so no more than a few chunks are
in memory at once; graph tasks can store their own blocks, see ``jwstlazy.graphs.product_writes``).
Everything goes to a temporary file in the target's folder that is renamed over the target at the end, and
removed on any failure.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import io
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr
from astropy.io import fits
from astropy.table import Table

from jwstlazy.datamodels.asdf_extension import ASDF_EXTENSION_NAME, asdf_extension_hdu

from jwstlazy.datamodels.fits_io import DIMS_KEYWORD, FitsImageTarget, data_bytes_padded, is_header_keyword, storage_of
from jwstlazy.datamodels.schemas import ProductSchema, is_sci_keyword, product_from_filename, schema_for
from jwstlazy.datamodels.validate import validate
from jwstlazy.errors import JwstLazyInputError

_PRIMARY_HEADER_BYTES = len(fits.PrimaryHDU().header.tostring())


@dataclass(frozen=True)
class ImageSlot:
    """Where one image variable's pixels go in a planned file."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype  #: the logical dtype stored (bool is stored as uint8)
    offset: int  #: byte offset of the data in the file


@dataclass(frozen=True)
class FitsPlan:
    """A product file laid out before any pixel is computed: headers, tables and where each image goes.

    Small and picklable, so graph tasks on any worker can fill their part of the file: :func:`create_file`
    (headers and tables, room for the pixels), :func:`store_image_block` per block, :func:`finish_file`
    (the atomic rename). :func:`write_fits` does all of it in one call.
    """

    path: Path
    temporary: Path
    head: bytes  #: the primary header
    image_headers: tuple[bytes, ...]
    images: tuple[ImageSlot, ...]
    tables: tuple[bytes, ...]  #: extension HDUs written after the images (tables, ASDF)
    size: int  #: the file's size in bytes


def plan_fits(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = False,
              extra_hdus: Sequence[fits.BinTableHDU] = (), check_target_now: bool = True) -> FitsPlan:
    """Validate ``ds`` and lay out its file (headers, tables, image offsets); reads no pixel.

    ``extra_hdus`` (e.g. the ``ASDF`` extension holding a gwcs) are written last, as given; without an
    ``ASDF`` extension among them an empty one is added, as official products always have one.
    ``check_target_now=False`` leaves the checks of the target (exists, folder) to :func:`create_file`, for
    graphs planned before their output folder is made.
    """
    path = Path(path)
    if check_target_now:
        check_target(path, overwrite)
    product = ds.attrs.get("product") or product_from_filename(path) or ""
    schema = schema_for(product)
    if schema is not None:
        validate(ds, product, path)
    names = _image_order(ds, schema)
    head = _primary_header(ds, schema, path).tostring().encode("ascii")
    headers = tuple(_image_header(ds, name, schema, path).tostring().encode("ascii") for name in names)
    tables = [_table_bytes(ds, table, columns, path) for table, columns in _tables(ds, schema).items()]
    tables += [_hdu_bytes(hdu) for hdu in extra_hdus]
    if not any(hdu.name == ASDF_EXTENSION_NAME for hdu in extra_hdus):
        tables.append(_empty_asdf_extension_bytes())
    images, position = [], len(head)
    for name, header in zip(names, headers):
        position += len(header)
        dtype = _storage_dtype(ds[name])
        images.append(ImageSlot(name, tuple(ds[name].shape), dtype, position))
        position += data_bytes_padded(ds[name].shape, dtype)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    return FitsPlan(path, temporary, head, headers, tuple(images), tuple(tables),
                    position + sum(len(raw) for raw in tables))  # fmt: skip


def create_file(plan: FitsPlan) -> None:
    """Write the headers and tables of ``plan`` into its temporary file, leaving (sparse, zero) room for the
    pixels. Idempotent: a rerun (e.g. after a lost worker) rewrites the same bytes and keeps pixels written."""
    if not plan.path.parent.is_dir():
        raise JwstLazyInputError("output folder does not exist", plan.path, expected="an existing folder")
    # O_CREAT without O_EXCL: two runs of this task can overlap (a threaded compute that failed elsewhere lets
    # its running tasks finish while the exposure is rerun alone); both write the same bytes
    descriptor = os.open(plan.temporary, os.O_RDWR | os.O_CREAT, 0o666)
    with os.fdopen(descriptor, "r+b") as handle:
        handle.write(plan.head)
        for header, slot in zip(plan.image_headers, plan.images):
            handle.seek(slot.offset - len(header))
            handle.write(header)
        handle.seek(plan.images[-1].offset + data_bytes_padded(plan.images[-1].shape, plan.images[-1].dtype)
                    if plan.images else len(plan.head))  # fmt: skip
        for raw in plan.tables:
            handle.write(raw)
        handle.truncate(plan.size)
        _allocate_blocks(handle.fileno(), plan.size, plan.temporary)


def _fallocate() -> ctypes._CFuncPtr | None:
    """Linux's ``fallocate(fd, mode, offset, length)`` from the C library, or None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).fallocate
    except (OSError, AttributeError):
        return None
    function.argtypes = (ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64)
    function.restype = ctypes.c_int
    return function


_FALLOCATE = _fallocate()


def _allocate_blocks(descriptor: int, size: int, path: Path) -> None:
    """Give the file its disk blocks now (Linux ``fallocate``, mode 0: data already written is kept, the rest
    reads as zeros). A time series' pixels then go in as thousands of short writes that need not each allocate
    blocks (about a fifth less time per write on ext4), and a full disk is reported here, before any pixel is
    computed. Where the file system cannot (or off Linux) the file stays sparse, as before."""
    if _FALLOCATE is None or size <= 0:
        return
    if _FALLOCATE(descriptor, 0, 0, size) != 0:
        code = ctypes.get_errno()
        if code in (errno.ENOSPC, errno.EDQUOT):
            raise OSError(code, f"no room for the product's {size} bytes ({os.strerror(code)})", os.fspath(path))


def image_target(plan: FitsPlan, name: str) -> FitsImageTarget:
    """The writable view of image ``name``'s bytes in the temporary file (``target[block] = values``)."""
    slot = next(slot for slot in plan.images if slot.name == name)
    return FitsImageTarget(plan.temporary, slot.offset, slot.shape, slot.dtype)


def finish_file(plan: FitsPlan) -> Path:
    """Rename the complete temporary file over the product (idempotent once done)."""
    if plan.temporary.exists() or not plan.path.exists():
        os.replace(plan.temporary, plan.path)
    return plan.path


def write_fits(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = False,
               extra_hdus: Sequence[fits.BinTableHDU] = ()) -> Path:
    """Write ``ds`` to ``path`` (FITS, official layout); returns the path. Never leaves a partial file.

    ``extra_hdus`` as in :func:`plan_fits`. Dask-backed variables are stored block by block.
    """
    plan = plan_fits(ds, path, overwrite, extra_hdus)
    try:
        create_file(plan)
        for slot in plan.images:
            _store_pixels(ds[slot.name], image_target(plan, slot.name))
        return finish_file(plan)
    except BaseException:
        plan.temporary.unlink(missing_ok=True)
        raise


def check_target(path: Path, overwrite: bool) -> None:
    """Raise JwstLazyInputError if ``path`` exists (without ``overwrite``) or its folder does not."""
    if path.exists() and (not overwrite or path.is_dir()):
        raise JwstLazyInputError("output already exists", path,
                                 expected="a new path, or overwrite=True for an existing file")  # fmt: skip
    if not path.parent.is_dir():
        raise JwstLazyInputError("output folder does not exist", path, expected="an existing folder")


def _image_order(ds: xr.Dataset, schema: ProductSchema | None) -> list[str]:
    """SCI first, then the schema's variables in order, then any other non-table variable."""
    known = list(schema.variables) if schema else []
    names = [name for name in ["SCI", *known] if name in ds.data_vars]
    names += [name for name in ds.data_vars if "." not in str(name) and name not in names]
    return list(dict.fromkeys(names))


def _storage_dtype(variable: xr.DataArray) -> np.dtype:
    return np.dtype(np.uint8) if variable.dtype == bool else variable.dtype


def _cards(header: fits.Header, attrs: dict, path: Path) -> None:
    for key, value in attrs.items():
        if isinstance(value, np.generic):
            value = value.item()
        if value is not None and not isinstance(value, (bool, int, float, str)):
            raise JwstLazyInputError(f"value of type {type(value).__name__} cannot be a FITS keyword", path,
                                     key, "a bool, int, float, str or None")  # fmt: skip
        try:
            header[key] = value
        except (ValueError, TypeError) as error:
            raise JwstLazyInputError(f"cannot write keyword ({error})", path, key, "a valid FITS value") from None


def _header_attrs(ds: xr.Dataset, sci: bool) -> dict:
    return {k: v for k, v in ds.attrs.items() if is_header_keyword(k) and is_sci_keyword(k) == sci and k != "BUNIT"}


def _primary_header(ds: xr.Dataset, schema: ProductSchema | None, path: Path) -> fits.Header:
    header = fits.PrimaryHDU().header
    _cards(header, _header_attrs(ds, sci=False), path)
    header["FILENAME"] = path.name
    if schema is not None:
        header["DATAMODL"] = schema.datamodel_for(ds["SCI"].ndim if "SCI" in ds else None)
    return header


def _image_header(ds: xr.Dataset, name: str, schema: ProductSchema | None, path: Path) -> fits.Header:
    variable = ds[name]
    if variable.ndim == 0:
        raise JwstLazyInputError("a 0-dimensional variable cannot be a FITS image", path, name, "1 or more dims")
    try:
        bitpix, bzero = storage_of(_storage_dtype(variable))
    except KeyError:
        raise JwstLazyInputError(f"dtype {variable.dtype} cannot be written to FITS", path, name,
                                 "an integer or float32/float64 array") from None  # fmt: skip
    header = fits.Header([("XTENSION", "IMAGE", "Image extension"), ("BITPIX", bitpix), ("NAXIS", variable.ndim)])
    for axis, size in enumerate(reversed(variable.shape), start=1):
        header[f"NAXIS{axis}"] = size
    header["PCOUNT"], header["GCOUNT"] = 0, 1
    if bzero:
        header["BSCALE"], header["BZERO"] = 1, bzero
    header["EXTNAME"] = (name, "extension name")
    spec = schema.variables.get(name) if schema else None
    if spec is None:
        header[DIMS_KEYWORD] = (",".join(map(str, variable.dims)), "xarray dims of this array (numpy order)")
    if name == "SCI":
        _cards(header, _header_attrs(ds, sci=True), path)
    bunit = variable.attrs.get("BUNIT") or (ds.attrs.get("BUNIT") if name == "SCI" else None)
    bunit = bunit or (spec.bunit if spec else None)
    if bunit:
        header["BUNIT"] = (bunit, "physical units of the array values")
    return header


def _tables(ds: xr.Dataset, schema: ProductSchema | None) -> dict[str, list[str]]:
    """``TABLE -> [variable names]`` for the ``<TABLE>.<column>`` variables, schema tables first."""
    tables: dict[str, list[str]] = {name: [] for name in (schema.tables if schema else ())}
    for name in ds.data_vars:
        if "." in str(name):
            tables.setdefault(str(name).split(".", 1)[0], []).append(name)
    return {table: columns for table, columns in tables.items() if columns}


def _table_bytes(ds: xr.Dataset, table: str, columns: list[str], path: Path) -> bytes:
    """Header + data bytes of one BinTable extension rebuilt from its column variables."""
    try:
        data = Table({name.split(".", 1)[1]: np.asarray(ds[name].values) for name in columns})
        for name in columns:
            if "TUNIT" in ds[name].attrs:
                data[name.split(".", 1)[1]].unit = ds[name].attrs["TUNIT"]
        hdu = fits.table_to_hdu(data)
    except (ValueError, TypeError) as error:
        raise JwstLazyInputError(f"cannot build the table ({error})", path, table,
                                 "columns of equal length with numeric or string values") from None  # fmt: skip
    hdu.name = table
    return _hdu_bytes(hdu)


@functools.cache
def _empty_asdf_extension_bytes() -> bytes:
    """The ``ASDF`` extension with an empty tree, as bytes: the same in every product (1.4 ms to build)."""
    return _hdu_bytes(asdf_extension_hdu())


def _hdu_bytes(hdu: fits.BinTableHDU) -> bytes:
    """Header + data bytes of one extension HDU."""
    buffer = io.BytesIO()
    hdu.writeto(buffer)  # preceded by a minimal primary header, dropped below
    return buffer.getvalue()[_PRIMARY_HEADER_BYTES:]


def _store_pixels(variable: xr.DataArray, target: FitsImageTarget) -> None:
    """Write the variable's values block by block (dask chunks) or at once (numpy)."""
    data = variable.data
    if isinstance(data, da.Array):
        da.store(data.astype(target.dtype), target, lock=False, compute=True)
    else:
        target[...] = np.asarray(data, dtype=target.dtype)
