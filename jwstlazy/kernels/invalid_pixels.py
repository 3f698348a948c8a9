"""Make NaN values and the DO_NOT_USE flag agree, as the official ``match_nans_and_flags`` does.

Plain NumPy (element-wise logic; numba would not pay). No dask, xarray or I/O.
"""

from __future__ import annotations

import numpy as np

DO_NOT_USE = np.uint32(1)  #: the DO_NOT_USE pixel flag (bit 0), as in ``jwstlazy.datamodels.dqflags``


def match_nans_and_flags(
    dq: np.ndarray, *values: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Invalid pixels become NaN in every value array and DO_NOT_USE in ``dq``.

    ``dq`` uint32 (..., y, x); ``values`` float arrays of the same shape (SCI, ERR, VAR_POISSON, ...).
    A pixel is invalid when any value is NaN or ``dq`` has DO_NOT_USE. Returns new arrays
    ``(dq, *values)`` in the input dtypes; the inputs are not modified.
    """
    invalid = (dq & DO_NOT_USE).astype(bool)
    for array in values:
        invalid |= np.isnan(array)
    new_dq = np.where(invalid, dq | DO_NOT_USE, dq).astype(dq.dtype, copy=False)
    new_values = tuple(np.where(invalid, np.nan, array).astype(array.dtype, copy=False) for array in values)
    return (new_dq, *new_values)
