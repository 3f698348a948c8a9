"""Writing a product file with what FITS keywords cannot hold: the gwcs, in the ``ASDF`` extension.

Steps keep an exposure's gwcs in the lower-case attr ``wcs`` (see ``steps/image2/assign_wcs.py``); header
writers skip lower-case attrs, so :func:`write_fits_with_wcs` turns it into the ``ASDF`` extension that the
official datamodels read as ``meta.wcs``.
"""

from __future__ import annotations

import os
from pathlib import Path

import xarray as xr

from jwstlazy.datamodels import write_fits

#: The attr that holds a product's gwcs object.
WCS_ATTR = "wcs"


def extra_hdus_for(ds: xr.Dataset) -> list:
    """The extension HDUs a product needs beyond its variables: the ``ASDF`` extension holding its gwcs
    (``ds.attrs['wcs']``), if it has one (none for stage 1: then gwcs is not even imported)."""
    wcs = ds.attrs.get(WCS_ATTR)
    if wcs is None:
        return []
    from gwcs import WCS

    from jwstlazy.wcs import wcs_to_asdf_hdu

    return [wcs_to_asdf_hdu(wcs)] if isinstance(wcs, WCS) else []


def write_fits_with_wcs(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """:func:`jwstlazy.datamodels.write_fits`, plus the ``ASDF`` extension when ``ds.attrs['wcs']`` is a gwcs."""
    return write_fits(ds, path, overwrite=overwrite, extra_hdus=extra_hdus_for(ds))
