"""The ``ASDF`` extension of JWST FITS products: one row, one byte column, an ASDF file inside.

Official products always carry it; the official tools read metadata through it (``read_metadata`` fails
without one), FITS keywords overriding the tree. A gwcs is stored at ``meta.wcs`` in it.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import numpy as np
from astropy.io import fits

ASDF_EXTENSION_NAME = "ASDF"
ASDF_COLUMN_NAME = "ASDF_METADATA"


def asdf_extension_hdu(tree: Mapping[str, Any] | None = None) -> fits.BinTableHDU:
    """The ``ASDF`` binary-table HDU holding ``tree`` (an empty tree by default)."""
    import asdf

    buffer = io.BytesIO()
    asdf.AsdfFile(dict(tree or {})).write_to(buffer)
    data = np.frombuffer(buffer.getvalue(), dtype=np.uint8)[None, :]
    column = fits.Column(name=ASDF_COLUMN_NAME, format=f"{data.shape[1]}B", array=data)
    return fits.BinTableHDU.from_columns([column], name=ASDF_EXTENSION_NAME)
