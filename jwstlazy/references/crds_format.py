"""Writing reference files in the CRDS FITS layout.

Layout: an empty PRIMARY HDU whose header carries REFTYPE, USEAFTER, PEDIGREE, DESCRIP, AUTHOR,
TELESCOP, INSTRUME, DETECTOR, SUBARRAY (plus any selectors given, e.g. READPATT, FILTER, PIXAR_SR);
one ImageHDU per array, named as the extension (SCI, ERR, DQ, COEFFS, ...); one BinTableHDU per table
(PHOTOM, ...); a DQ_DEF table (BIT, VALUE, NAME, DESCRIPTION) whenever a DQ array is written.
The file is written under a temporary name in the same folder and renamed at the end.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from astropy.table import Table

from jwstlazy.datamodels import dqflags
from jwstlazy.errors import JwstLazyInputError

REQUIRED_KEYWORDS = ("USEAFTER", "PEDIGREE", "DESCRIP", "AUTHOR", "INSTRUME", "DETECTOR", "SUBARRAY")
DEFAULTS = {"TELESCOP": "JWST", "PEDIGREE": "DUMMY", "AUTHOR": "jwstlazy"}

ArrayLike = np.ndarray | tuple[np.ndarray, Mapping[str, Any]]


def dq_def_table() -> Table:
    """The DQ_DEF table listing every JWST pixel flag."""
    rows = dqflags.dq_def_rows()
    return Table(
        rows=rows, names=("BIT", "VALUE", "NAME", "DESCRIPTION"), dtype=(np.int32, np.uint32, "U40", "U80")
    )


def _table_hdu(name: str, table: Any, path: Path) -> fits.BinTableHDU:
    if isinstance(table, Mapping):
        table = Table(dict(table))
    elif isinstance(table, np.ndarray):
        table = Table(table)
    if not isinstance(table, Table):
        raise JwstLazyInputError(f"table {name!r} has type {type(table).__name__}", path=path, where=name,
                                 expected="an astropy Table, a structured array or a dict of columns")
    return fits.BinTableHDU(table, name=name)


def _image_hdu(name: str, value: ArrayLike) -> fits.ImageHDU:
    data, header = (value if isinstance(value, tuple) else (value, {}))
    hdu = fits.ImageHDU(np.asarray(data), name=name)
    for key, item in header.items():
        hdu.header[key] = item
    return hdu


def write_reference_file(
    path: str | os.PathLike,
    reftype: str,
    header: Mapping[str, Any],
    arrays: Mapping[str, ArrayLike],
    tables: Mapping[str, Any] | None = None,
    overwrite: bool = True,
) -> Path:
    """Write one CRDS-format reference file and return its path.

    ``header``: primary keywords (must include USEAFTER, DESCRIP, INSTRUME, DETECTOR, SUBARRAY;
    PEDIGREE, AUTHOR and TELESCOP get defaults). ``arrays``: extension name -> array, or
    (array, extension-header dict). ``tables``: extension name -> astropy Table, structured array or
    dict of columns. A DQ array brings a DQ_DEF table unless one is given.
    """
    path = Path(path)
    merged = {**DEFAULTS, **{k.upper(): v for k, v in header.items()}, "REFTYPE": reftype.upper()}
    missing = [key for key in REQUIRED_KEYWORDS if merged.get(key) in (None, "")]
    if missing:
        raise JwstLazyInputError("reference header incomplete", path=path, where=", ".join(missing),
                                 expected=f"values for {', '.join(REQUIRED_KEYWORDS)}")
    if path.exists() and not overwrite:
        raise JwstLazyInputError("file exists", path=path, expected="a new path or overwrite=True")
    primary = fits.PrimaryHDU()
    for key, value in merged.items():
        primary.header[key] = value
    hdus: list[fits.hdu.base.ExtensionHDU] = [_image_hdu(name.upper(), value) for name, value in arrays.items()]
    tables = {k.upper(): v for k, v in (tables or {}).items()}
    if any(name.upper() == "DQ" for name in arrays) and "DQ_DEF" not in tables:
        tables["DQ_DEF"] = dq_def_table()
    hdus += [_table_hdu(name, table, path) for name, table in tables.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        fits.HDUList([primary, *hdus]).writeto(tmp, overwrite=True)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
