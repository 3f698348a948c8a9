"""Per-sample ramp corrections in one pass over a block: superbias, reference-pixel offsets, linearity, dark.

Each correction is its step's arithmetic (see the step kernels: ``superbias``, ``refpix``, ``linearity``,
``dark``), in the same float32/float64 order, so the result is the same bit for bit whether the corrections
run one step at a time or together. Together, a ramp block is read and written once instead of once per
step, and no intermediate ramp is allocated (``steps.detector1.corrections`` chains consecutive steps).

The order is fixed: bias, offsets, linearity, dark (the near-IR order of jwst's Detector1Pipeline).
Per-pixel: no halo.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import SATURATED

__all__ = ["Corrections", "apply_corrections"]

BIAS, OFFSETS, ROW_OFFSETS, LINEARITY, DARK, AMPLIFIER_ROW_OFFSETS = 1, 2, 4, 8, 16, 32  #: bits of ``stages``


@dataclass
class Corrections:
    """What to apply to one (nints, ngroups, ny, nx) block; ``None`` leaves a correction out.

    bias : (ny, nx) float32 DN, NaN already replaced by 0 (superbias).
    column_offsets : (nints, ngroups, n) float32 DN per detector column along the block's DMS axis (x when
        ``columns_along_x``, else y); subtracted in float32 (refpix).
    row_offsets : (nints, ngroups, m) float64 DN along the other axis, subtracted in float64 after the
        column offsets, the result rounded to float32 (refpix's side pixels; needs ``column_offsets``); or
        (nints, ngroups, m, namps): one per detector row and amplifier (refpix's SIRS), with ``amplifiers``.
    amplifiers : (n,) int64 amplifier of each position along the column axis (as ``column_offsets``), for
        per-amplifier ``row_offsets``.
    coefficients : (ncoeffs, ny, nx) float32 from ``linearity.prepare_coefficients``; groups flagged
        SATURATED in the group DQ keep their value.
    dark : (dark_nints, ngroups, ny, nx) float32 DN (NaN counts as 0), science integration i using
        ``dark[dark_integrations[i]]`` (dark_current).
    """

    bias: np.ndarray | None = None
    column_offsets: np.ndarray | None = None
    row_offsets: np.ndarray | None = None
    amplifiers: np.ndarray | None = None
    columns_along_x: bool = True
    coefficients: np.ndarray | None = None
    dark: np.ndarray | None = None
    dark_integrations: np.ndarray | None = None


def apply_corrections(data: np.ndarray, groupdq: np.ndarray | None, corrections: Corrections) -> np.ndarray:
    """``data`` (nints, ngroups, ny, nx) float32 DN with ``corrections`` applied, as a new float32 array.

    ``groupdq`` (same shape, uint8) is read only for linearity (SATURATED groups are left as they are).
    """
    c = corrections
    data = np.ascontiguousarray(data, dtype=np.float32)
    nints = data.shape[0]
    stages = 0
    if c.bias is not None:
        stages |= BIAS
    by_amplifier = c.row_offsets is not None and np.ndim(c.row_offsets) == 4
    if c.column_offsets is not None:
        stages |= OFFSETS
        if c.row_offsets is not None:
            stages |= AMPLIFIER_ROW_OFFSETS if by_amplifier else ROW_OFFSETS
    if c.coefficients is not None:
        stages |= LINEARITY
        if groupdq is None:
            raise ValueError("linearity needs the group DQ")
    if c.dark is not None:
        stages |= DARK
    dark_integrations = c.dark_integrations if c.dark_integrations is not None else np.zeros(nints, np.int64)
    return _apply(
        data,
        _array(groupdq if stages & LINEARITY else None, np.uint8, 4),
        stages,
        _array(c.bias, np.float32, 2),
        _array(c.column_offsets, np.float32, 3),
        _array(None if by_amplifier else c.row_offsets, np.float64, 3),
        _array(c.row_offsets if by_amplifier else None, np.float64, 4),
        _array(c.amplifiers if by_amplifier else None, np.int64, 1),
        bool(c.columns_along_x),
        _array(c.coefficients, np.float32, 3),
        _array(c.dark, np.float32, 4),
        np.ascontiguousarray(dark_integrations, dtype=np.int64),
    )


def _array(values: np.ndarray | None, dtype: type, ndim: int) -> np.ndarray:
    """``values`` as a C-contiguous array of ``dtype``, or a one-element stand-in of that type when left out
    (so that every call has the same argument types and numba loads one compiled version)."""
    if values is None:
        return np.zeros((1,) * ndim, dtype=dtype)
    return np.ascontiguousarray(values, dtype=dtype)


@numba.njit(cache=True, parallel=True, nogil=True)
def _apply(data, gdq, stages, bias, column_offsets, row_offsets, amplifier_row_offsets, amplifiers, columns_along_x,
           coeffs, dark, dark_integrations):  # fmt: skip
    """Row by row (the rows of one integration together); each correction is a loop over a row that LLVM can
    vectorise."""
    nints, ngroups, ny, nx = data.shape
    n = coeffs.shape[0]
    out = np.empty_like(data)
    for y in numba.prange(ny):
        polynomial = np.empty((ngroups, nx), dtype=np.float32)  # linearity's sums, one row per group
        for i in range(nints):
            for g in range(ngroups):
                row = out[i, g, y]
                raw = data[i, g, y]
                for x in range(nx):
                    row[x] = raw[x]
                if stages & BIAS:
                    b = bias[y]
                    for x in range(nx):
                        row[x] = row[x] - b[x]
                if stages & OFFSETS:
                    if columns_along_x:
                        columns = column_offsets[i, g]
                        for x in range(nx):
                            row[x] = row[x] - columns[x]
                    else:
                        column = column_offsets[i, g, y]
                        for x in range(nx):
                            row[x] = row[x] - column
                    if stages & ROW_OFFSETS:
                        if columns_along_x:
                            side = row_offsets[i, g, y]
                            for x in range(nx):
                                row[x] = np.float32(np.float64(row[x]) - side)
                        else:
                            sides = row_offsets[i, g]
                            for x in range(nx):
                                row[x] = np.float32(np.float64(row[x]) - sides[x])
                    if stages & AMPLIFIER_ROW_OFFSETS:
                        if columns_along_x:  # this block row is a detector row; x runs over amplifiers
                            levels = amplifier_row_offsets[i, g, y]
                            for x in range(nx):
                                row[x] = np.float32(np.float64(row[x]) - levels[amplifiers[x]])
                        else:  # this block row is a detector column, in one amplifier; x runs over rows
                            amplifier = amplifiers[y]
                            for x in range(nx):
                                row[x] = np.float32(np.float64(row[x]) - amplifier_row_offsets[i, g, x, amplifier])
            if stages & LINEARITY:
                # Horner's rule one coefficient at a time over the integration's rows (each pass vectorises;
                # per pixel the operations of linearity._horner32, in the same order)
                top = coeffs[n - 1, y]
                for g in range(ngroups):
                    value, total = out[i, g, y], polynomial[g]
                    for x in range(nx):
                        total[x] = top[x] * value[x]
                for k in range(n - 2, 0, -1):
                    term = coeffs[k, y]
                    for g in range(ngroups):
                        value, total = out[i, g, y], polynomial[g]
                        for x in range(nx):
                            total[x] = (total[x] + term[x]) * value[x]
                constant = coeffs[0, y]
                for g in range(ngroups):
                    row, total, flags = out[i, g, y], polynomial[g], gdq[i, g, y]
                    for x in range(nx):
                        corrected = total[x] + constant[x]
                        row[x] = row[x] if flags[x] & SATURATED else corrected
            if stages & DARK:
                for g in range(ngroups):
                    row, planes = out[i, g, y], dark[dark_integrations[i], g, y]
                    for x in range(nx):
                        level = planes[x]
                        row[x] = row[x] - (np.float32(0.0) if np.isnan(level) else level)
    return out
