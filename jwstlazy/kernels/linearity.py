"""linearity: classic polynomial linearity correction, and the read-level variant for averaged groups.

Matches ``stcal.linearity.linearity.linearity_correction`` as called by jwst 3.0:

* Coefficients: PIXELDQ |= linearity DQ. Pixels flagged NO_LIN_CORR in the reference DQ, with any NaN
  coefficient, or with a zero linear term get the identity polynomial (c1 = 1, others 0); the last two cases
  also add NO_LIN_CORR to PIXELDQ. (The inverse coefficients, when used, are checked the same way.)
* Classic correction: corrected = sum_i c_i F^i by Horner's rule in float32; groups flagged SATURATED keep
  their value. The ZEROFRAME is corrected the same way, values of exactly 0 (unusable) stay 0.
* Read-level correction (jwst uses it when the reference has INV_COEFFS, NFRAMES > 1 and the exposure has no
  READ_TIMES): per pixel and integration, the count rate in linearised counts per frame comes from the first
  group and the last unsaturated-but-one group (at least the second group); each group's frames are
  re-created along that rate, made non-linear with the inverse polynomial, shifted so that their mean equals
  the measured group value, linearised frame by frame, and averaged. SATURATED groups keep their value.

Per-pixel: no halo; chunk freely in y and x.
"""

from __future__ import annotations

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import NO_LIN_CORR, PIXEL_DTYPE, SATURATED
from jwstlazy.kernels.corrections import Corrections, apply_corrections

__all__ = ["prepare_coefficients", "correct_linearity", "correct_linearity_zeroframe"]


@numba.njit(cache=True, nogil=True)
def _prepare(coeffs, lin_dq, pixeldq):
    ncoeffs, ny, nx = coeffs.shape
    out = coeffs.copy()
    pdq = np.empty((ny, nx), dtype=np.uint32)
    for y in range(ny):
        for x in range(nx):
            flags = pixeldq[y, x] | lin_dq[y, x]
            flagged = (lin_dq[y, x] & NO_LIN_CORR) != 0
            has_nan = False
            for k in range(ncoeffs):
                if np.isnan(coeffs[k, y, x]):
                    has_nan = True
            zero_linear = coeffs[1, y, x] == 0
            if flagged or has_nan or zero_linear:
                for k in range(ncoeffs):
                    out[k, y, x] = 0.0
                out[1, y, x] = 1.0
                if has_nan or zero_linear:
                    flags |= NO_LIN_CORR
            pdq[y, x] = flags
    return out, pdq


def prepare_coefficients(
    coeffs: np.ndarray, lin_dq: np.ndarray, pixeldq: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Replace unusable coefficients by the identity; returns (coeffs (ncoeffs, ny, nx) float32, pixeldq)."""
    out, pdq = _prepare(
        np.ascontiguousarray(coeffs, dtype=np.float32),
        np.ascontiguousarray(lin_dq, dtype=PIXEL_DTYPE),
        np.ascontiguousarray(pixeldq, dtype=PIXEL_DTYPE),
    )
    return out, pdq


@numba.njit(cache=True, inline="always")
def _horner32(coeffs, y, x, value):
    """Sum_k c_k value^k in float32, the same operation order as stcal's apply_polynomial."""
    n = coeffs.shape[0]
    result = coeffs[n - 1, y, x] * value
    for k in range(n - 2, 0, -1):
        result = (result + coeffs[k, y, x]) * value
    return result + coeffs[0, y, x]


@numba.njit(cache=True, inline="always")
def _horner64(coeffs, y, x, value):
    n = coeffs.shape[0]
    result = np.float64(coeffs[n - 1, y, x]) * value
    for k in range(n - 2, 0, -1):
        result = (result + np.float64(coeffs[k, y, x])) * value
    return result + np.float64(coeffs[0, y, x])


@numba.njit(cache=True, parallel=True, nogil=True)
def _read_level(data, gdq, coeffs, inv_coeffs, nframes):
    nints, ngroups, ny, nx = data.shape
    out = data.copy()
    first_mean = (nframes + 1) / 2.0  # mean frame number of group 0 (frames numbered from 1)
    for y in numba.prange(ny):
        for i in range(nints):
            for x in range(nx):
                n_unsat = -1
                for g in range(ngroups):
                    if (gdq[i, g, y, x] & SATURATED) == 0:
                        n_unsat += 1
                if n_unsat < 2:
                    n_unsat = 2
                last = min(n_unsat - 1, ngroups - 1)
                v0 = data[i, 0, y, x]
                first_lin = v0 if gdq[i, 0, y, x] & SATURATED else _horner32(coeffs, y, x, v0)
                vl = data[i, last, y, x]
                last_lin = vl if gdq[i, last, y, x] & SATURATED else _horner32(coeffs, y, x, vl)
                frames_between = (last * nframes + first_mean) - first_mean
                rate = np.float64(last_lin - first_lin) / frames_between
                for g in range(ngroups):
                    if gdq[i, g, y, x] & SATURATED:
                        continue
                    predicted = 0.0
                    for f in range(nframes):
                        since_first = (g * nframes + f + 1) - first_mean
                        predicted += _horner64(inv_coeffs, y, x, first_lin + rate * since_first)
                    offset = data[i, g, y, x] - predicted / nframes
                    total = 0.0
                    for f in range(nframes):
                        since_first = (g * nframes + f + 1) - first_mean
                        raw = _horner64(inv_coeffs, y, x, first_lin + rate * since_first) + offset
                        total += _horner64(coeffs, y, x, raw)
                    out[i, g, y, x] = total / nframes
    return out


def correct_linearity(
    data: np.ndarray,
    groupdq: np.ndarray,
    pixeldq: np.ndarray,
    coeffs: np.ndarray,
    lin_dq: np.ndarray,
    inverse_coeffs: np.ndarray | None = None,
    nframes: int = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Linearity-correct one ramp chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN.
    groupdq : (nints, ngroups, ny, nx) uint8 (only SATURATED is read).
    pixeldq : (ny, nx) uint32.
    coeffs : (ncoeffs, ny, nx) float32, LINEARITY ``COEFFS`` (ncoeffs >= 2).
    lin_dq : (ny, nx) uint32, LINEARITY ``DQ``.
    inverse_coeffs : (ncoeffs', ny, nx) float32 ``INV_COEFFS`` or None. The read-level correction is used only
        when given AND ``nframes > 1`` AND ngroups >= 2 (the step passes None when the exposure has
        READ_TIMES; upstream fails on a one-group ramp).
    nframes : NFRAMES of the exposure.

    Returns
    -------
    data : (nints, ngroups, ny, nx) float32, new array.
    pixeldq : (ny, nx) uint32, new array.
    """
    prepared, pdq = prepare_coefficients(coeffs, lin_dq, pixeldq)
    data = np.ascontiguousarray(data, dtype=np.float32)
    gdq = np.ascontiguousarray(groupdq)
    if inverse_coeffs is not None and nframes > 1 and data.shape[1] >= 2:
        inverse, pdq = prepare_coefficients(inverse_coeffs, lin_dq, pdq)
        return _read_level(data, gdq, prepared, inverse, int(nframes)), pdq
    return apply_corrections(data, gdq, Corrections(coefficients=prepared)), pdq


def correct_linearity_zeroframe(zeroframe: np.ndarray, coeffs: np.ndarray, lin_dq: np.ndarray) -> np.ndarray:
    """Classic correction of a ZEROFRAME chunk (nints, ny, nx) float32; exact zeros stay zero."""
    prepared, _ = prepare_coefficients(coeffs, lin_dq, np.zeros(np.shape(lin_dq), dtype=PIXEL_DTYPE))
    zf = np.ascontiguousarray(zeroframe, dtype=np.float32)[:, None]
    zdq = np.where(zf == 0.0, SATURATED, 0).astype(np.uint8)
    return apply_corrections(zf, zdq, Corrections(coefficients=prepared))[:, 0]
