"""``open(path)``: any product, from a FITS file or a zarr store, as a lazy validated Dataset."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import xarray as xr

from jwstlazy.datamodels.fits_read import open_fits
from jwstlazy.datamodels.zarr_io import open_zarr
from jwstlazy.errors import JwstLazyInputError


def open(path: str | os.PathLike, chunks: Mapping | None = None) -> xr.Dataset:  # noqa: A001 (like xr.open_*)
    """Open a product lazily: a FITS file (``*_uncal.fits``, ``*_rate.fits``, ...) or a zarr store.

    ``chunks`` overrides the default chunk sizes by dim name (e.g. ``{"y": 512, "x": 512}``). Raises
    JwstLazyInputError (naming the file, the extension/keyword and the expectation) for bad input.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise JwstLazyInputError(f"cannot open a {type(path).__name__}", None, "path", "a file path")
    path = Path(path)
    if not path.exists():
        raise JwstLazyInputError("no such file or folder", path, expected="an existing FITS file or zarr store")
    if path.is_dir():
        return open_zarr(path, chunks)
    return open_fits(path, chunks)
