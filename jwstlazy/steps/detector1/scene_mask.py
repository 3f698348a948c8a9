"""Background (scene) masks from a draft rate, shared by clean_flicker_noise and picture_frame.

Upstream (``jwst.clean_flicker_noise.create_mask`` with ``mask_science_regions=False``) fits a draft rate
with ramp_fit's default parameters and masks NaN, zero and sigma-clipped bright pixels of it. Here the draft
rate is lazy and each mask is ONE task over a whole rate image (the clipping statistics need every pixel).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.kernels.clean_flicker_noise import flicker_scene_mask
from jwstlazy.steps.chunked import delayed_arrays
from jwstlazy.steps.detector1.ramp_fit import RampFitStep


def draft_rate_scene_masks(ramp: xr.Dataset, references, n_sigma: float, single_mask: bool = True,
                           fit_histogram: bool = False, flat: da.Array | None = None) -> list[da.Array]:  # fmt: skip
    """Lazy (ny, nx) bool masks (True = background) of a ramp product: one, or one per integration.

    ``references`` must hold the ramp_fit references (gain, readnoise) of the exposure; ``fit_histogram`` as
    :func:`jwstlazy.kernels.clean_flicker_noise.flicker_scene_mask`; the draft rate is divided by ``flat``
    ((ny, nx) float32) first, if given.
    """
    draft = RampFitStep().process(ramp, references)
    if single_mask:
        rates = [draft["rate"]["SCI"].data]
    else:
        rates = [draft["rateints"]["SCI"].data[i] for i in range(ramp["SCI"].shape[0])]
    if flat is not None:
        rates = [rate / flat for rate in rates]  # float32, as upstream's in-place division
    return [rate_scene_mask(rate, n_sigma, fit_histogram) for rate in rates]


def rate_scene_mask(rate: da.Array, n_sigma: float, fit_histogram: bool = False) -> da.Array:
    """Lazy (ny, nx) bool mask of a (ny, nx) rate image, or of a stack of them (every image must call a pixel
    background: upstream's ``single_mask``)."""
    return delayed_arrays(_scene_mask, [(rate.shape[-2:], np.bool_)], rate, n_sigma=n_sigma,
                          fit_histogram=fit_histogram)[0]


def _scene_mask(rate: np.ndarray, n_sigma: float, fit_histogram: bool) -> tuple[np.ndarray]:
    """``flicker_scene_mask`` of each image, combined, as a one-output reduction."""
    images = np.asarray(rate).reshape((-1,) + rate.shape[-2:])
    mask = flicker_scene_mask(images[0], n_sigma, fit_histogram)
    for image in images[1:]:
        mask &= flicker_scene_mask(image, n_sigma, fit_histogram)
    return (mask,)
