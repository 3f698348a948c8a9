"""The working ramp of stage 1: an uncal exposure converted once to float32 with DQ arrays.

``SCI`` (integration, group, y, x) float32 DN, ``GROUPDQ`` same dims uint8, ``PIXELDQ`` (y, x) uint32, all
dask arrays with the pixel-block chunking of the input (one chunk along integration and group).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.fits_read import read_as
from jwstlazy.errors import JwstLazyInputError

RAMP_DIMS = ("integration", "group", "y", "x")


def _pixel_chunked(array: xr.DataArray, dtype: type | None = None) -> da.Array:
    """``array`` as a dask array chunked by pixel block only (as ``dtype``: converted as it is read)."""
    data = array.data if isinstance(array.data, da.Array) else da.from_array(array.data)
    if dtype is not None:
        data = read_as(data, dtype)
    return data.rechunk({axis: -1 for axis in range(data.ndim - 2)})


def as_ramp(ds: xr.Dataset) -> xr.Dataset:
    """Return ``ds`` as a ramp product (lazy). Uncal input is converted; a ramp is returned unchanged."""
    product = ds.attrs.get("product")
    if product == "ramp":
        return ds
    if product not in ("uncal", None) or "SCI" not in ds or ds["SCI"].dims != RAMP_DIMS:
        raise JwstLazyInputError(
            f"cannot run stage 1 on a {product!r} product",
            path=ds.attrs.get("filename"),
            where="SCI",
            expected=f"an uncal or ramp exposure with SCI dims {RAMP_DIMS}",
        )
    sci = _pixel_chunked(ds["SCI"], np.float32)
    ramp = ds.copy(deep=False)
    ramp["SCI"] = (RAMP_DIMS, sci, {"BUNIT": "DN"})
    ramp["GROUPDQ"] = (RAMP_DIMS, da.zeros(sci.shape, dtype=np.uint8, chunks=sci.chunks))
    ramp["PIXELDQ"] = (("y", "x"), da.zeros(sci.shape[-2:], dtype=np.uint32, chunks=sci.chunks[-2:]))
    if "ZEROFRAME" in ds:
        ramp["ZEROFRAME"] = (ds["ZEROFRAME"].dims, _pixel_chunked(ds["ZEROFRAME"], np.float32), {"BUNIT": "DN"})
    ramp.attrs = {**ds.attrs, "product": "ramp"}
    return ramp


def pixel_array(ds: xr.Dataset, name: str) -> da.Array:
    """Variable ``name`` of a ramp as a dask array chunked by pixel block only."""
    return _pixel_chunked(ds[name])


def with_arrays(ds: xr.Dataset, **arrays: da.Array) -> xr.Dataset:
    """A shallow copy of ``ds`` with the named variables replaced (dims and attrs kept)."""
    out = ds.copy(deep=False)
    for name, array in arrays.items():
        if name in ds:
            out[name] = (ds[name].dims, array, ds[name].attrs)
        else:
            raise KeyError(name)
    return out


def reference_array(reference: xr.Dataset, extension: str, dtype: type) -> da.Array | np.ndarray:
    """A reference file's extension (already cut to the subarray) as ``dtype``, lazy when the file's is.

    Detector-plane reference images are dask arrays reading their own blocks, so the client never holds
    a dark cube; small ones (an IPC kernel) are numpy.
    """
    if extension not in reference:
        raise JwstLazyInputError(
            "reference file lacks an extension",
            path=reference.attrs.get("filename"),
            where=extension,
            expected=f"a {extension} extension",
        )
    data = reference[extension].data
    if isinstance(data, da.Array):
        return data.astype(dtype)
    return np.ascontiguousarray(np.asarray(data), dtype=dtype)


def integer_keyword(ds: xr.Dataset, name: str, default: int | None = None) -> int:
    """Header keyword ``name`` as an int; a missing one (without default) names the file and keyword."""
    value = ds.attrs.get(name, default)
    if value is None:
        raise JwstLazyInputError("missing keyword", path=ds.attrs.get("filename"), where=name, expected="an integer")
    return int(value)
