"""DMS <-> detector orientation of JWST near-IR arrays (FASTAXIS / SLOWAXIS).

Files store pixels in the DMS ("science") orientation; reference-pixel work happens in the DETECTOR
orientation, where the amplifiers are 512-column bands and the reference rows are rows 0-3 and 2044-2047.

DMS -> detector: if |FASTAXIS| == 1, flip y by sign(SLOWAXIS) and x by sign(FASTAXIS); otherwise flip y by
sign(FASTAXIS) and x by sign(SLOWAXIS), then swap the last two axes. Detector -> DMS is the exact inverse.
Same convention as ``jwst.lib.reffile_utils.science_detector_frame_transform``.

Functions here only slice, flip and swap axes, so they work on numpy and dask arrays alike (views, no copy).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "is_transposed",
    "dms_to_detector",
    "detector_to_dms",
    "detector_column_vector_to_dms",
    "detector_row_vector_to_dms",
]


def _sign(value: int) -> int:
    return 1 if value > 0 else -1


def is_transposed(fastaxis: int) -> bool:
    """True when the detector's fast (column) axis runs along DMS y, i.e. the arrays are transposed."""
    return abs(int(fastaxis)) != 1


def dms_to_detector(array: Any, fastaxis: int, slowaxis: int) -> Any:
    """Transform the last two axes of ``array`` from DMS to detector orientation (a view)."""
    if not is_transposed(fastaxis):
        return array[..., :: _sign(slowaxis), :: _sign(fastaxis)]
    flipped = array[..., :: _sign(fastaxis), :: _sign(slowaxis)]
    return np.swapaxes(flipped, -2, -1)


def detector_to_dms(array: Any, fastaxis: int, slowaxis: int) -> Any:
    """Transform the last two axes of ``array`` from detector to DMS orientation (inverse of dms_to_detector)."""
    if not is_transposed(fastaxis):
        return array[..., :: _sign(slowaxis), :: _sign(fastaxis)]
    swapped = np.swapaxes(array, -2, -1)
    return swapped[..., :: _sign(fastaxis), :: _sign(slowaxis)]


def detector_column_vector_to_dms(vector: Any, fastaxis: int, slowaxis: int) -> Any:
    """Re-index a per-detector-column vector (last axis) as a vector along its DMS axis.

    The DMS axis is x when not transposed and y when transposed (see ``is_transposed``); either way the
    detector column order is flipped by sign(FASTAXIS).
    """
    return vector[..., :: _sign(fastaxis)]


def detector_row_vector_to_dms(vector: Any, fastaxis: int, slowaxis: int) -> Any:
    """Re-index a per-detector-row vector (last axis) as a vector along its DMS axis.

    The DMS axis is y when not transposed and x when transposed; the order is flipped by sign(SLOWAXIS).
    """
    return vector[..., :: _sign(slowaxis)]
