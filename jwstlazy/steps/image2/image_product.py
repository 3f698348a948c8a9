"""Helpers shared by the stage-2 imaging steps: checking a rate/cal-like product and swapping its arrays.

An image product (``rate``, ``rateints``, ``cal``, ``calints``) has SCI, ERR, DQ, VAR_POISSON, VAR_RNOISE on
dims ``([integration,] y, x)`` as dask arrays chunked by pixel block (see ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Iterable

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError

IMAGE_VARIABLES = ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE")


def require_image(ds: xr.Dataset, step: str, variables: Iterable[str] = IMAGE_VARIABLES) -> None:
    """Raise JwstLazyInputError unless ``ds`` has ``variables`` on dims ending in (y, x)."""
    for name in variables:
        if name not in ds or ds[name].dims[-2:] != ("y", "x"):
            raise JwstLazyInputError(
                f"{step} needs variable {name} with dims (..., y, x)",
                path=ds.attrs.get("filename"),
                where=name,
                expected="a rate, rateints, cal or calints product",
            )


def pixel_array(ds: xr.Dataset, name: str) -> da.Array:
    """Variable ``name`` as a dask array with one chunk along every leading (integration) axis."""
    data = ds[name].data
    data = data if isinstance(data, da.Array) else da.from_array(np.asarray(data))
    return data.rechunk({axis: -1 for axis in range(data.ndim - 2)})


def reference_array(reference: xr.Dataset, name: str, default: float, shape: tuple[int, int],
                    dtype=np.float32) -> np.ndarray:
    """A reference's (y, x) array ``name``; a constant ``default`` array when the file has no such extension.

    Raises JwstLazyInputError (naming the reference file) when its shape is not ``shape``.
    """
    if name not in reference:
        return np.full(shape, default, dtype=dtype)
    values = np.asarray(reference[name].values, dtype=dtype)
    if values.shape != tuple(shape):
        raise JwstLazyInputError(
            f"array shape {values.shape} does not match the science array {tuple(shape)}",
            path=reference.attrs.get("filename"), where=name,
            expected="a reference covering the exposure's subarray",
        )
    return values


def with_variables(ds: xr.Dataset, attrs: dict | None = None, **arrays: da.Array) -> xr.Dataset:
    """A shallow copy of ``ds`` with variables replaced or added (dims of SCI, or of the old variable).

    ``attrs`` (header keywords) are merged into the copy's attrs.
    """
    out = ds.copy(deep=False)
    for name, array in arrays.items():
        if name in ds:
            dims, var_attrs = ds[name].dims, ds[name].attrs
        else:
            dims, var_attrs = ds["SCI"].dims[-array.ndim:], {}
        out[name] = (dims, array, dict(var_attrs))
    out.attrs = {**ds.attrs, **(attrs or {})}
    return out


def bunit(ds: xr.Dataset, unit: str) -> xr.Dataset:
    """A copy of ``ds`` whose SCI/ERR have BUNIT ``unit`` and VAR_* ``(unit)^2`` (``ds`` is not changed)."""
    out = ds.copy(deep=False)
    for name in list(out.data_vars):
        if name in ("SCI", "ERR") or str(name).startswith("VAR_"):
            variable = out[name].variable.copy(deep=False)
            variable.attrs = {**variable.attrs, "BUNIT": unit if name in ("SCI", "ERR") else f"({unit})^2"}
            out[name] = variable
    out.attrs = {**ds.attrs, "BUNIT": unit}
    return out
