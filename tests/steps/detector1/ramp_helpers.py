"""Small hand-made ramps for the detector1 step tests: several pixel-block chunks, known header keywords.

Imported by name (``from ramp_helpers import build_ramp``): conftest.py puts this folder on sys.path.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

RAMP_DIMS = ("integration", "group", "y", "x")


def build_ramp(
    sci: np.ndarray,
    groupdq: np.ndarray | None = None,
    pixeldq: np.ndarray | None = None,
    chunks: tuple[int, int] = (7, 9),
    **attrs,
) -> xr.Dataset:
    """A lazy ``ramp`` product from numpy arrays, chunked by (y, x) blocks of ``chunks`` pixels."""
    nints, ngroups, ny, nx = sci.shape
    groupdq = np.zeros(sci.shape, np.uint8) if groupdq is None else groupdq
    pixeldq = np.zeros((ny, nx), np.uint32) if pixeldq is None else pixeldq
    ramp_chunks = (-1, -1) + tuple(chunks)
    ds = xr.Dataset(
        {
            "SCI": (RAMP_DIMS, da.from_array(sci.astype(np.float32), chunks=ramp_chunks), {"BUNIT": "DN"}),
            "GROUPDQ": (RAMP_DIMS, da.from_array(groupdq.astype(np.uint8), chunks=ramp_chunks)),
            "PIXELDQ": (("y", "x"), da.from_array(pixeldq.astype(np.uint32), chunks=chunks)),
        },
        attrs={"product": "ramp", "NINTS": nints, "NGROUPS": ngroups, "NFRAMES": 1, **attrs},
    )
    return ds


def assert_several_chunks(array: xr.DataArray) -> None:
    """The variable is lazy and split into more than one pixel block."""
    assert isinstance(array.data, da.Array)
    assert len(array.data.chunks[-1]) > 1 and len(array.data.chunks[-2]) > 1
