"""Combining background exposures and measuring a sky level, for one pixel block (image background).

Plain NumPy + ``astropy.stats`` (the clipping is the official one; numba would not pay). No dask,
xarray or I/O. Matches ``jwst.background.background_sub.average_background`` (jwst 3.0) for 2-D
backgrounds: per pixel, the values of the background exposures are sigma-clipped (median centre, std
width, ``sigma`` both sides, ``maxiters`` iterations or until convergence) and the survivors averaged.
"""

from __future__ import annotations

import warnings

import numpy as np
from astropy.stats import sigma_clip, sigma_clipped_stats
from astropy.utils.exceptions import AstropyUserWarning


def _clip(stack: np.ndarray, sigma: float, maxiters: int | None) -> np.ma.MaskedArray:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=AstropyUserWarning)
        warnings.filterwarnings("ignore", category=RuntimeWarning)
        return sigma_clip(stack, sigma=sigma, maxiters=maxiters, axis=0)


def combine_backgrounds(
    sci: np.ndarray,
    dq: np.ndarray,
    var_poisson: np.ndarray,
    var_rnoise: np.ndarray,
    sigma: float = 3.0,
    maxiters: int | None = None,
) -> tuple[np.ndarray, ...]:
    """Sigma-clipped mean of ``nbkg`` background images, per pixel.

    ``sci`` float (nbkg, y, x) in DN/s; ``dq`` uint32 (nbkg, y, x); ``var_*`` float (nbkg, y, x) in
    (DN/s)². Returns ``(mean, dq, var_poisson, var_rnoise)`` of shape (y, x): the clipped mean (float32;
    NaN where every value was clipped or NaN), the OR of all DQ, and the variances of that mean
    (``Σ var_i / n²`` over the n kept exposures, float32).
    """
    clipped = _clip(sci.astype(np.float64), sigma, maxiters)
    kept = ~np.ma.getmaskarray(clipped)
    count = kept.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, np.where(kept, clipped.data, 0.0).sum(axis=0) / count, np.nan)
        variances = [
            np.where(count > 0, np.where(kept, var, 0.0).sum(axis=0) / (count * count.astype(np.float64)), np.nan)
            for var in (var_poisson, var_rnoise)
        ]
    combined_dq = np.bitwise_or.reduce(dq.astype(np.uint32), axis=0)
    return (mean.astype(np.float32), combined_dq, *(v.astype(np.float32) for v in variances))


def sky_level(sci: np.ndarray, dq: np.ndarray, sigma: float = 3.0, maxiters: int | None = 5) -> np.ndarray:
    """Sigma-clipped median (DN/s) of the pixels of ``sci`` (y, x) that are finite and have DQ 0.

    Returns a 0-d float64 array; NaN when no pixel is usable.
    """
    usable = np.isfinite(sci) & (dq == 0)
    if not usable.any():
        return np.array(np.nan)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=AstropyUserWarning)
        _, median, _ = sigma_clipped_stats(sci[usable], sigma=sigma, maxiters=maxiters)
    return np.array(float(median))
