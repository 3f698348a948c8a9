"""gain_scale: rescale rate products taken with a non-standard gain setting by GAINFACT.

Matches ``jwst.gain_scale`` (jwst 3.0): SCI and ERR are multiplied by the factor, VAR_POISSON and VAR_RNOISE by
its square (the square computed in double precision, the products in float32). The factor comes from the
exposure's GAINFACT keyword, else from the GAIN reference file's GAINFACT; the step decides that.
"""

from __future__ import annotations

import numpy as np

__all__ = ["scale_by_gain_factor"]


def scale_by_gain_factor(
    sci: np.ndarray,
    err: np.ndarray,
    var_poisson: np.ndarray | None,
    var_rnoise: np.ndarray | None,
    gain_factor: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Scale one chunk of a rate/rateints product; any shape, float32; returns new arrays.

    Element-wise only (NumPy is as fast as a kernel here, and this works on dask arrays too).
    """
    factor = np.float32(gain_factor)
    factor_squared = np.float32(float(gain_factor) ** 2)
    scaled_var_poisson = None if var_poisson is None else var_poisson * factor_squared
    scaled_var_rnoise = None if var_rnoise is None else var_rnoise * factor_squared
    return sci * factor, err * factor, scaled_var_poisson, scaled_var_rnoise
