"""Flat-field correction of one pixel block: divide by the flat, propagate variances, flag bad flats.

Plain NumPy (element-wise arithmetic; numba would not pay). No dask, xarray or I/O. Matches
``jwst.flatfield.flat_field.apply_flat_field`` (jwst 3.0) for imaging:

* a flat value that is NaN or zero, or whose flat DQ has NO_FLAT_FIELD, gets DO_NOT_USE | NO_FLAT_FIELD
  in the flat DQ; wherever the flat DQ has DO_NOT_USE the flat is taken as 1 (no correction);
* ``SCI' = SCI / flat``; ``VAR_POISSON' = VAR_POISSON / flat²``; ``VAR_RNOISE' = VAR_RNOISE / flat²``;
  ``VAR_FLAT = SCI'² · flat_err² / flat²`` (note: with the CORRECTED science value, as jwst does);
  ``ERR' = sqrt(VAR_POISSON' + VAR_RNOISE' + VAR_FLAT)``; ``DQ' = DQ | flat DQ``;
* then NaN values and DO_NOT_USE are made to agree (:func:`~jwstlazy.kernels.invalid_pixels.match_nans_and_flags`).
"""

from __future__ import annotations

import numpy as np

from jwstlazy.kernels.invalid_pixels import match_nans_and_flags

DO_NOT_USE = np.uint32(1 << 0)
NO_FLAT_FIELD = np.uint32(1 << 18)


def usable_flat(flat: np.ndarray, flat_dq: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The flat with bad values replaced by 1, and its DQ with the bad-flat flags added.

    ``flat`` float (y, x), dimensionless; ``flat_dq`` uint32 (y, x). Returns new arrays.
    """
    flat_dq = flat_dq.astype(np.uint32, copy=True)
    bad_value = ~np.isfinite(flat) | (flat == 0.0)
    flat_dq[bad_value] |= DO_NOT_USE | NO_FLAT_FIELD
    flat_dq[(flat_dq & NO_FLAT_FIELD) != 0] |= DO_NOT_USE
    flat = np.where((flat_dq & DO_NOT_USE) != 0, 1.0, flat).astype(np.float32)
    return flat, flat_dq


def apply_flat(
    sci: np.ndarray,
    dq: np.ndarray,
    var_poisson: np.ndarray,
    var_rnoise: np.ndarray,
    flat: np.ndarray,
    flat_dq: np.ndarray,
    flat_err: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Flat-field one block. Returns ``(sci, err, dq, var_poisson, var_rnoise, var_flat)``.

    ``sci`` float32 (..., y, x) in DN/s; ``dq`` uint32 like ``sci``; ``var_*`` float32 like ``sci`` in
    (DN/s)²; ``flat``/``flat_err`` float32 (y, x) dimensionless (a NaN flat_err makes the pixel invalid, as in jwst); ``flat_dq`` uint32 (y, x). Leading
    axes (integrations) broadcast against the 2-D flat. Outputs keep the science dtypes.
    """
    flat, flat_dq = usable_flat(flat, flat_dq)
    flat_squared = flat * flat
    corrected = (sci / flat).astype(sci.dtype)
    var_flat = (corrected * corrected / flat_squared * flat_err * flat_err).astype(sci.dtype)
    var_poisson = (var_poisson / flat_squared).astype(sci.dtype)
    var_rnoise = (var_rnoise / flat_squared).astype(sci.dtype)
    err = np.sqrt(var_poisson + var_rnoise + var_flat).astype(sci.dtype)
    dq = (dq | flat_dq).astype(np.uint32)
    dq, corrected, err, var_poisson, var_rnoise, var_flat = match_nans_and_flags(
        dq, corrected, err, var_poisson, var_rnoise, var_flat
    )
    return corrected, err, dq, var_poisson, var_rnoise, var_flat
