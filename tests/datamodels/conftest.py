"""Small synthetic products for the data-model tests."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

EXPOSURE_KEYWORDS = {
    "TELESCOP": "JWST", "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1", "MODULE": "A", "CHANNEL": "SHORT",
    "FILTER": "F200W", "PUPIL": "CLEAR", "EXP_TYPE": "NRC_IMAGE", "READPATT": "RAPID",
    "NFRAMES": 1, "GROUPGAP": 0, "TFRAME": 10.73677, "TGROUP": 10.73677,
    "SUBARRAY": "FULL", "SUBSTRT1": 1, "SUBSTRT2": 1, "DATE-OBS": "2022-05-14", "TIME-OBS": "18:15:30.545",
    "ZEROFRAM": False, "TARG_RA": 245.98185, "TARG_DEC": 28.384038,
    "RA_REF": 245.981865, "DEC_REF": 28.3841037, "ROLL_REF": 198.1, "V2_REF": 127.341286, "V3_REF": -405.197041,
    "VPARITY": -1, "V3I_YANG": -0.5, "PA_V3": 198.15, "VA_SCALE": 1.000004, "XPOSURE": 107.368,
    "CRPIX1": 712.0, "CTYPE1": "RA---TAN", "PC1_1": 0.95,
}  # fmt: skip


def make_uncal(nints: int = 2, ngroups: int = 3, ny: int = 8, nx: int = 10, seed: int = 1) -> xr.Dataset:
    """An uncal Dataset with random uint16 ramps (full uint16 range) and an INT_TIMES table."""
    rng = np.random.default_rng(seed)
    sci = rng.integers(0, 65536, size=(nints, ngroups, ny, nx), dtype=np.uint16)
    sci.flat[0], sci.flat[1] = 0, 65535
    attrs = dict(EXPOSURE_KEYWORDS, NINTS=nints, NGROUPS=ngroups, SUBSIZE1=nx, SUBSIZE2=ny, product="uncal")
    ds = xr.Dataset(
        {
            "SCI": (("integration", "group", "y", "x"), sci, {"BUNIT": "DN"}),
            "INT_TIMES.integration_number": (("INT_TIMES_row",), np.arange(1, nints + 1, dtype=np.int32)),
            **{
                f"INT_TIMES.int_{when}_{scale}": (("INT_TIMES_row",), 59713.76 + 0.001 * np.arange(nints) + shift)
                for when, shift in (("start", 0.0), ("mid", 0.0005), ("end", 0.001))
                for scale in ("MJD_UTC", "BJD_TDB")
            },
        },
        attrs=attrs,
    )
    return ds


def make_rate(ny: int = 8, nx: int = 10, ints: int | None = None, seed: int = 2) -> xr.Dataset:
    """A rate (or rateints when ``ints`` is given) Dataset with random values."""
    rng = np.random.default_rng(seed)
    lead = () if ints is None else (ints,)
    dims = ("y", "x") if ints is None else ("integration", "y", "x")
    shape = lead + (ny, nx)

    def floats():
        return rng.normal(size=shape).astype(np.float32)

    data = {
        "SCI": (dims, floats(), {"BUNIT": "DN/s"}),
        "ERR": (dims, np.abs(floats()), {"BUNIT": "DN/s"}),
        "DQ": (dims, rng.integers(0, 2**32, size=shape, dtype=np.uint32)),
        "VAR_POISSON": (dims, np.abs(floats())),
        "VAR_RNOISE": (dims, np.abs(floats())),
    }
    attrs = dict(EXPOSURE_KEYWORDS, NINTS=ints or 1, NGROUPS=3, SUBSIZE1=nx, SUBSIZE2=ny)
    attrs["product"] = "rate" if ints is None else "rateints"
    return xr.Dataset(data, attrs=attrs)


@pytest.fixture
def uncal_factory():
    """The :func:`make_uncal` builder (test modules cannot import conftest under importlib mode)."""
    return make_uncal


@pytest.fixture
def rate_factory():
    """The :func:`make_rate` builder."""
    return make_rate


@pytest.fixture
def uncal() -> xr.Dataset:
    return make_uncal()


@pytest.fixture
def rate() -> xr.Dataset:
    return make_rate()
