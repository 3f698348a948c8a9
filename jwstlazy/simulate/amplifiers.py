"""Which amplifier reads each pixel, and when, in DETECTOR orientation.

Near-IR detectors are read by ``noutputs`` amplifiers, each a band of columns along the detector's
fast axis (512 columns at full frame); for NIRSpec and NIRISS, whose DMS orientation is transposed,
these are 512-ROW bands of the stored array. FASTAXIS/SLOWAXIS define the DMS -> detector transform
(see ALGORITHMS.md, refpix). MIRI's four amplifiers read interleaved columns (``x % 4``) of the DMS
array, which is also its detector orientation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from jwstlazy.simulate.detectors import Detector
from jwstlazy.simulate.readout import Subarray

_NEAR_IR_ROW_OVERHEAD = 12
_MIRI_ROW_OVERHEAD = 13


def dms_to_detector_coordinates(
    y: np.ndarray, x: np.ndarray, shape: tuple[int, int], fastaxis: int, slowaxis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Detector (row, column) of full-frame DMS pixels ``(y, x)``; the column is the fast direction."""
    ny, nx = shape
    if abs(fastaxis) == 1:
        row = y if slowaxis > 0 else ny - 1 - y
        col = x if fastaxis > 0 else nx - 1 - x
        return row, col
    y_flipped = y if fastaxis > 0 else ny - 1 - y
    x_flipped = x if slowaxis > 0 else nx - 1 - x
    return x_flipped, y_flipped  # transpose: detector row <- DMS x, column <- DMS y


@dataclass(frozen=True)
class AmplifierLayout:
    """Per-pixel readout bookkeeping of one subarray, DMS orientation, shapes (ny, nx).

    ``read_index``: pixel-clock tick within a frame at which the pixel is read (int32),
    ``n_ticks``: ticks per frame (row overheads included), ``channel``: amplifier * 2 + parity
    (int32; parity is the detector column parity for near-IR, the row parity for MIRI),
    ``n_channels``: 2 * number of amplifiers.
    """

    read_index: np.ndarray
    n_ticks: int
    channel: np.ndarray
    n_channels: int
    amplifier: np.ndarray


def amplifier_layout(detector: Detector, subarray: Subarray) -> AmplifierLayout:
    """Amplifier, parity and read time of every pixel of ``subarray``."""
    sy, sx = subarray.slices
    y = np.arange(sy.start, sy.stop)[:, None]
    x = np.arange(sx.start, sx.stop)[None, :]
    nout = subarray.noutputs
    if detector.is_miri:
        amplifier = x % 4
        parity = y % 2
        per_row = subarray.subsize1 // 4 + _MIRI_ROW_OVERHEAD
        read_index = (y - sy.start) * per_row + (x - sx.start) // 4
        n_ticks = subarray.subsize2 * per_row
    else:
        row, col = dms_to_detector_coordinates(y, x, detector.shape, detector.fastaxis, detector.slowaxis)
        row0, col0 = row.min(), col.min()
        width = col.max() - col0 + 1
        height = row.max() - row0 + 1
        per_amp = width // nout
        amplifier = np.minimum((col - col0) // per_amp, nout - 1)
        parity = col % 2
        per_row = per_amp + _NEAR_IR_ROW_OVERHEAD
        read_index = (row - row0) * per_row + (col - col0) - amplifier * per_amp
        n_ticks = int(height * per_row)

    def full(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.broadcast_to(a, subarray.shape), dtype=np.int32)

    return AmplifierLayout(
        read_index=full(read_index),
        n_ticks=int(n_ticks),
        channel=full(amplifier * 2 + parity),
        n_channels=2 * (4 if detector.is_miri else nout),
        amplifier=full(amplifier),
    )
