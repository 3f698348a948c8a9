"""Small CRDS-format reference files written with astropy.io.fits, and exposure headers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.references.crds_cache import clear_header_cache


@pytest.fixture(autouse=True)
def _fresh_header_cache(monkeypatch):
    """Each test starts with no remembered headers and no CRDS_PATH from the environment."""
    monkeypatch.delenv("CRDS_PATH", raising=False)
    clear_header_cache()


def frame(ny: int = 16, nx: int = 20, dtype=np.float32) -> np.ndarray:
    """Pixel (y, x) holds 1000*y + x: every value tells where it came from (0-based, DMS orientation)."""
    y, x = np.mgrid[0:ny, 0:nx]
    return (1000 * y + x).astype(dtype)


@pytest.fixture
def write_reference(tmp_path):
    """Write a CRDS-format FITS reference: ``write(name, reftype, images={EXT: array}, tables={EXT:
    {col: values}}, **primary keywords)``; INSTRUME NIRCAM, DETECTOR NRCA1, USEAFTER 2022-01-01 and a
    16x20 SCI image by default (pass DETECTOR=None to leave it out)."""

    def write(name: str, reftype: str, images: dict | None = None, tables: dict | None = None,
              folder: Path | None = None, **keywords) -> Path:
        header = {"REFTYPE": reftype.upper(), "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1",
                  "USEAFTER": "2022-01-01T00:00:00", "PEDIGREE": "DUMMY", **keywords}
        primary = fits.PrimaryHDU()
        for key, value in header.items():
            if value is not None:
                primary.header[key] = value
        hdus = [primary]
        for ext, array in (images if images is not None else {"SCI": frame()}).items():
            hdus.append(fits.ImageHDU(array, name=ext))
        for ext, columns in (tables or {}).items():
            hdus.append(fits.BinTableHDU.from_columns(
                [fits.Column(name=col, array=np.asarray(v), format=_format(np.asarray(v)))
                 for col, v in columns.items()], name=ext))
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        fits.HDUList(hdus).writeto(path)
        return path

    return write


def _format(values: np.ndarray) -> str:
    if values.dtype.kind in "SU":
        return f"{max(len(str(v)) for v in values)}A"
    return {"i": "J", "u": "J", "f": "E"}[values.dtype.kind]


@pytest.fixture
def exposure():
    """Header keywords of a NIRCam NRCA1 full-frame (16x20 here) F200W imaging exposure."""
    return {
        "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1", "SUBARRAY": "FULL", "READPATT": "RAPID",
        "EXP_TYPE": "NRC_IMAGE", "FILTER": "F200W", "PUPIL": "CLEAR", "CHANNEL": "SHORT",
        "DATE-OBS": "2023-05-01", "TIME-OBS": "12:00:00.000",
        "SUBSTRT1": 1, "SUBSTRT2": 1, "SUBSIZE1": 20, "SUBSIZE2": 16,
        "filename": "jw01234001001_01101_00001_nrca1_uncal.fits",
    }
