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


def _empty_tree_document() -> bytes:
    """A valid ASDF file with an empty tree, written without the ``asdf`` package: its first use in a process
    loads every installed ASDF extension (the largest cold-start cost of a stage-1 run), which stage-1 products
    (no gwcs) do not need."""
    from jwstlazy import __version__

    return (
        "#ASDF 1.0.0\n#ASDF_STANDARD 1.6.0\n%YAML 1.1\n%TAG ! tag:stsci.edu:asdf/\n--- !core/asdf-1.1.0\n"
        f"asdf_library: !core/software-1.0.0 {{name: jwstlazy, version: '{__version__}'}}\n...\n"
    ).encode("ascii")


def asdf_extension_hdu(tree: Mapping[str, Any] | None = None) -> fits.BinTableHDU:
    """The ``ASDF`` binary-table HDU holding ``tree`` (an empty tree by default)."""
    if tree:
        import asdf

        buffer = io.BytesIO()
        asdf.AsdfFile(dict(tree)).write_to(buffer)
        document = buffer.getvalue()
    else:
        document = _empty_tree_document()
    data = np.frombuffer(document, dtype=np.uint8)[None, :]
    column = fits.Column(name=ASDF_COLUMN_NAME, format=f"{data.shape[1]}B", array=data)
    return fits.BinTableHDU.from_columns([column], name=ASDF_EXTENSION_NAME)
