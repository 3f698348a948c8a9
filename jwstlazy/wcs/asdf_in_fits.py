"""Storing a gwcs in a FITS file the way the official datamodels do: an ``ASDF`` binary-table HDU.

The HDU named ``ASDF`` has one row and one column ``ASDF_METADATA`` (format ``<n>B``) holding the
bytes of an ASDF file whose tree carries the WCS at ``meta.wcs``. ``stdatamodels`` reads it back as
``model.meta.wcs``; FITS header keywords still override the tree's other metadata on reading.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping

import numpy as np
from astropy.io import fits
from gwcs import WCS

from jwstlazy.errors import JwstLazyInputError

from jwstlazy.datamodels.asdf_extension import ASDF_COLUMN_NAME, ASDF_EXTENSION_NAME, asdf_extension_hdu


def _merged(base: dict, extra: Mapping) -> dict:
    """``base`` updated with ``extra``, merging nested mappings instead of replacing them."""
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merged(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def wcs_to_asdf_hdu(wcs: WCS, tree_extra: Mapping | None = None) -> fits.BinTableHDU:
    """The ``ASDF`` extension holding ``wcs`` at ``meta.wcs`` (plus ``tree_extra``, merged in)."""

    return asdf_extension_hdu(_merged({"meta": {"wcs": wcs}}, tree_extra or {}))


def wcs_from_asdf_hdu(hdu: fits.BinTableHDU) -> WCS | None:
    """The gwcs at ``meta.wcs`` in an ``ASDF`` extension, or None when the tree has none."""
    import asdf

    payload = np.asarray(hdu.data[ASDF_COLUMN_NAME]).tobytes()
    with asdf.open(io.BytesIO(payload), lazy_load=False, memmap=False) as af:
        meta = af.tree.get("meta") or {}
        wcs = meta.get("wcs")
    return wcs if isinstance(wcs, WCS) else None


def wcs_from_fits(path: str | os.PathLike) -> WCS | None:
    """The gwcs stored in a FITS file's ``ASDF`` extension; None when there is none."""
    try:
        with fits.open(path) as hdulist:
            if ASDF_EXTENSION_NAME not in hdulist:
                return None
            return wcs_from_asdf_hdu(hdulist[ASDF_EXTENSION_NAME])
    except JwstLazyInputError:
        raise
    except (OSError, ValueError) as error:
        raise JwstLazyInputError(f"cannot read the embedded WCS: {error}", path=path,
                                 where=ASDF_EXTENSION_NAME) from error
