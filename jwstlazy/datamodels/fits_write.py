"""Write a product Dataset as a FITS file in the official JWST layout, atomically and chunk by chunk.

Layout: an empty PRIMARY holding the primary keywords and DATAMODL; then SCI (with the pointing/WCS/
photometry keywords, see :func:`~jwstlazy.datamodels.schemas.is_sci_keyword`), the other image variables in
schema order, other image variables, and the BinTables (GROUP, INT_TIMES, ...). No ASDF extension is
written: stdatamodels builds its model from the FITS keywords when it is absent.

Headers and tables are written first, leaving (sparse) room for the pixels; then each image variable is
stored block by block into a memory map of its own bytes (``dask.array.store`` for dask-backed variables,
so no more than a few chunks are in memory at once). Everything goes to a temporary file in the target's
folder that is renamed over the target at the end, and removed on any failure.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Sequence
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


def write_fits(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = False,
               extra_hdus: Sequence[fits.BinTableHDU] = ()) -> Path:
    """Write ``ds`` to ``path`` (FITS, official layout); returns the path. Never leaves a partial file.

    ``extra_hdus`` (e.g. the ``ASDF`` extension holding a gwcs) are written last, as given; without an
    ``ASDF`` extension among them an empty one is added, as official products always have one.
    """
    path = Path(path)
    check_target(path, overwrite)
    product = ds.attrs.get("product") or product_from_filename(path) or ""
    schema = schema_for(product)
    if schema is not None:
        validate(ds, product, path)
    images = _image_order(ds, schema)
    hdus = [_primary_header(ds, schema, path)] + [_image_header(ds, name, schema, path) for name in images]
    tables = [_table_bytes(ds, table, columns, path) for table, columns in _tables(ds, schema).items()]
    if not any(hdu.name == ASDF_EXTENSION_NAME for hdu in extra_hdus):
        extra_hdus = (*extra_hdus, asdf_extension_hdu())
    tables += [_hdu_bytes(hdu) for hdu in extra_hdus]

    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        offsets = _write_layout(temporary, hdus, [ds[name] for name in images], tables)
        for name, offset in zip(images, offsets):
            _store_pixels(ds[name], FitsImageTarget(temporary, offset, ds[name].shape, _storage_dtype(ds[name])))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


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
        header["DATAMODL"] = schema.datamodel
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


def _hdu_bytes(hdu: fits.BinTableHDU) -> bytes:
    """Header + data bytes of one extension HDU."""
    buffer = io.BytesIO()
    hdu.writeto(buffer)  # preceded by a minimal primary header, dropped below
    return buffer.getvalue()[_PRIMARY_HEADER_BYTES:]


def _write_layout(temporary: Path, headers: list[fits.Header], variables: list, tables: list[bytes]) -> list[int]:
    """Write headers and tables, leaving zero-filled room for the image data; return each image's data offset."""
    offsets = []
    with temporary.open("xb") as handle:
        handle.write(headers[0].tostring().encode("ascii"))
        for header, variable in zip(headers[1:], variables):
            handle.write(header.tostring().encode("ascii"))
            offsets.append(handle.tell())
            handle.seek(data_bytes_padded(variable.shape, _storage_dtype(variable)), os.SEEK_CUR)
        for raw in tables:
            handle.write(raw)
        handle.truncate(handle.tell())
    return offsets


def _store_pixels(variable: xr.DataArray, target: FitsImageTarget) -> None:
    """Write the variable's values block by block (dask chunks) or at once (numpy)."""
    data = variable.data
    if isinstance(data, da.Array):
        da.store(data.astype(target.dtype), target, lock=False, compute=True)
    else:
        target[...] = np.asarray(data, dtype=target.dtype)
