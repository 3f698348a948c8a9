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


def read_first_image(path: str | os.PathLike):
    """The data of the first HDU of a FITS file that has any (astropy's ``fits.getdata``), as a numpy array:
    for small user-supplied images (a DQ mask, ...). A missing or unreadable file, or one without image data,
    raises :class:`JwstLazyInputError` naming it."""
    from astropy.io import fits

    path = Path(path)
    try:
        with fits.open(path, memmap=False) as hdul:
            for hdu in hdul:
                if getattr(hdu, "is_image", False) and hdu.data is not None:
                    return hdu.data.copy()
    except (OSError, ValueError) as error:
        raise JwstLazyInputError(f"cannot read FITS file: {error}", path, expected="a FITS image") from error
    raise JwstLazyInputError("no image data in any extension", path, expected="a FITS image")
