"""Background (scene) masks from a draft rate, shared by clean_flicker_noise and picture_frame.

Upstream (``jwst.clean_flicker_noise.create_mask``) fits a draft rate with ramp_fit's default parameters and
masks NaN, zero and sigma-clipped bright pixels of it (with ``mask_science_regions`` for MIRI imaging, first
the non-science regions). Here the draft
rate is lazy and each mask is ONE task over a whole rate image (the clipping statistics need every pixel).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import DO_NOT_USE, NON_SCIENCE
from jwstlazy.kernels.clean_flicker_noise import flicker_scene_mask
from jwstlazy.steps.chunked import delayed_arrays
from jwstlazy.steps.detector1.ramp_fit import RampFitStep


def draft_rate_scene_masks(ramp: xr.Dataset, references, n_sigma: float, single_mask: bool = True,
                           fit_histogram: bool = False, flat: da.Array | None = None,
                           mask_science_regions: bool = False,
                           non_science_flat: xr.Dataset | None = None) -> list[da.Array]:  # fmt: skip
    """Lazy (ny, nx) bool masks (True = background) of a ramp product: one, or one per integration.

    ``references`` must hold the ramp_fit references (gain, readnoise) of the exposure; ``fit_histogram`` as
    :func:`jwstlazy.kernels.clean_flicker_noise.flicker_scene_mask`; the draft rate is divided by ``flat``
    ((ny, nx) float32) first, if given; with ``mask_science_regions`` non-science pixels are left out
    (:func:`science_pixels`, with the FLAT reference ``non_science_flat``).
    """
    draft = RampFitStep().process(ramp, references)
    product = draft["rate"] if single_mask else draft["rateints"]
    usable = science_pixels(product, non_science_flat) if mask_science_regions else None
    if single_mask:
        rates, usable = [product["SCI"].data], [usable]
    else:
        nints = ramp["SCI"].shape[0]
        rates = [product["SCI"].data[i] for i in range(nints)]
        usable = [None if usable is None else usable[i] for i in range(nints)]
    if flat is not None:
        rates = [rate / flat for rate in rates]  # float32, as upstream's in-place division
    return [rate_scene_mask(rate, n_sigma, fit_histogram, good) for rate, good in zip(rates, usable)]


def science_pixels(product: xr.Dataset, flat: xr.Dataset | None) -> da.Array:
    """Lazy bool array shaped like ``product``'s SCI (a rate or rateints): False where the product's DQ, ORed
    with what the flat field flags (:class:`~jwstlazy.steps.image2.flat_field.FlatFieldStep` with the FLAT
    reference ``flat``; None: the DQ alone, as upstream when the flat is N/A), has DO_NOT_USE or NON_SCIENCE:
    upstream's ``mask_science_regions`` for MIRI imaging (its flats flag the coronagraph and LRS regions)."""
    from jwstlazy.steps.image2.flat_field import FlatFieldStep

    flagged = product["DQ"].data
    if flat is not None:
        flagged = flagged | FlatFieldStep().process(product, {"flat": flat})["DQ"].data
    return (flagged & np.uint32(DO_NOT_USE | NON_SCIENCE)) == 0


def rate_scene_mask(rate: da.Array, n_sigma: float, fit_histogram: bool = False,
                    usable: da.Array | None = None) -> da.Array:  # fmt: skip
    """Lazy (ny, nx) bool mask of a (ny, nx) rate image, or of a stack of them (every image must call a pixel
    background: upstream's ``single_mask``); ``usable`` (shaped like ``rate``): pixels to consider at all."""
    return delayed_arrays(_scene_mask, [(rate.shape[-2:], np.bool_)], rate, usable, n_sigma=n_sigma,
                          fit_histogram=fit_histogram)[0]


def _scene_mask(rate: np.ndarray, usable: np.ndarray | None, n_sigma: float, fit_histogram: bool) -> tuple[np.ndarray]:
    """``flicker_scene_mask`` of each image, combined, as a one-output reduction."""
    images = np.asarray(rate).reshape((-1,) + rate.shape[-2:])
    good = [None] * len(images) if usable is None else np.asarray(usable).reshape(images.shape)
    mask = flicker_scene_mask(images[0], n_sigma, fit_histogram, good[0])
    for image, image_good in zip(images[1:], good[1:]):
        mask &= flicker_scene_mask(image, n_sigma, fit_histogram, image_good)
    return (mask,)
