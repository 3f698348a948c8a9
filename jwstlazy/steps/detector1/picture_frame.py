"""picture_frame: subtract NIRSpec's thermal "picture frame" from full-frame ramps or rates (off by default).

jwst 3.0's ``PictureFrameStep`` with ``mask_science_regions=False`` (see :mod:`jwstlazy.kernels.picture_frame`),
in three lazy passes:

1. a background mask from a draft rate (ramp input; as clean_flicker_noise) or from the rate itself, then the
   centre and edge pixels and the reference's levels there: one task each, small outputs kept whole-frame;
2. per integration (ramp) or image (rate), ONE task over its whole frames: the centre and edge medians of
   each group minus group 0, giving a scale and an offset per group (small arrays);
3. per pixel block, the scaled reference subtracted from groups 1.. (ramp) or from the image (rate).

Like clean_flicker_noise, pass 2 needs every block of the exposure before pass 3 can finish any block.
"""

from __future__ import annotations

import dataclasses
import logging

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.picture_frame import (
    apply_to_image,
    apply_to_ramp,
    image_levels,
    ramp_levels,
    reference_levels,
    region_masks,
    scales_and_offsets,
)
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, delayed_arrays, map_pixel_blocks, spread_over_pixels
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, reference_array, with_arrays
from jwstlazy.steps.detector1.scene_mask import draft_rate_scene_masks, rate_scene_mask
from jwstlazy.steps.side_products import side_product, with_side_products

log = logging.getLogger(__name__)

#: Upstream options this implementation does not have, with the value that is supported.
_UNSUPPORTED = {"mask_science_regions": False}


class PictureFrameStep(Step):
    """Scale the PICTUREFRAME reference to each group's centre-minus-edge level and subtract it.

    NIRSpec full frames only (others are skipped, as upstream). ``mask_science_regions=True`` (upstream's
    default) needs NIRSpec's WCS and MSA shutter flags, which jwstlazy does not have yet: the step then stops
    with an error naming the parameter; pass ``mask_science_regions=False``.
    """

    name = "picture_frame"
    keyword = "PCTFRM"
    reference_types = ("pictureframe", "gain", "readnoise")
    reference_keywords = {"pictureframe": "PCTFRM", "readnoise": "READNO"}
    #: No PICTUREFRAME reference for the exposure: skipped with a warning (upstream's "N/A").
    skip_without_references = True

    @dataclasses.dataclass
    class Parameters(StepParameters):
        skip: bool = True
        mask_science_regions: bool = True
        n_sigma: float = 2.0
        save_mask: bool = False
        save_correction: bool = False

    def side_product_suffixes(self) -> tuple[str, ...]:
        """``pctfrm_mask`` and ``pctfrm_correction`` as ``save_mask`` and ``save_correction`` ask (upstream's)."""
        if self.parameters.skip:
            return ()
        return tuple(suffix for option, suffix in (("save_mask", "pctfrm_mask"), ("save_correction", "pctfrm_correction"))
                     if getattr(self.parameters, option))  # fmt: skip

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        self.require_supported(_UNSUPPORTED)
        instrument = str(ds.attrs.get("INSTRUME", "")).upper()
        subarray = str(ds.attrs.get("SUBARRAY", "")).upper()
        if instrument != "NIRSPEC" or subarray != "FULL":
            raise StepSkipped(f"only NIRSpec full frames are corrected (INSTRUME={instrument}, SUBARRAY={subarray})")
        if ds["SCI"].ndim == 4:
            ds = as_ramp(ds)  # an uncal exposure is converted, as for every detector1 step
        sci = pixel_array(ds, "SCI")
        reference = reference_array(references["pictureframe"], "SCI", np.float32)
        if tuple(reference.shape) != tuple(sci.shape[-2:]):
            raise JwstLazyInputError(
                f"PICTUREFRAME SCI of shape {tuple(reference.shape)}", path=references["pictureframe"].attrs.get("filename"),
                where="SCI", expected=f"the exposure's frame shape {tuple(sci.shape[-2:])}")
        ramp = sci.ndim == 4
        if ramp and sci.shape[1] < 2:
            raise StepSkipped("a single-group ramp cannot be corrected")
        if ramp:
            mask = draft_rate_scene_masks(ds, references, self.parameters.n_sigma)[0]
        else:
            mask = rate_scene_mask(sci, self.parameters.n_sigma)
        centre, edge, reference_stats = delayed_arrays(
            _regions_and_reference_levels,
            [(sci.shape[-2:], np.bool_), (sci.shape[-2:], np.bool_), ((3,), np.float32)],
            mask, reference, filename=str(ds.attrs.get("filename", "")),
        )
        scale, offset = _scales_and_offsets(sci, centre, edge, reference_stats)
        (corrected,) = map_pixel_blocks(
            _apply_block,
            [sci, reference, *(spread_over_pixels(a[..., None, None], sci) for a in (scale, offset, reference_stats))],
            [OutputSpec(np.float32, sci.shape[:-2])],
            name="picture_frame",
        )
        out = with_arrays(ds, SCI=corrected)
        side = {}
        if self.parameters.save_mask:  # the background mask, 1 = background (upstream's ImageModel)
            side["pctfrm_mask"] = side_product(ds, "pctfrm_mask", ("y", "x"), mask.astype(np.float32), bunit=None)
        if self.parameters.save_correction:  # what was subtracted, output - input (upstream's RampModel)
            if not ramp:
                raise JwstLazyInputError("save_correction for a rate or rateints input is not implemented",
                                         path=ds.attrs.get("filename"), where=f"steps.{self.name}.save_correction",
                                         expected="a ramp input")  # fmt: skip
            side["pctfrm_correction"] = side_product(ds, "pctfrm_correction", ds["SCI"].dims, corrected - sci)
        return with_side_products(out, side) if side else out


def _regions_and_reference_levels(mask: np.ndarray, reference: np.ndarray, filename: str):
    """(centre, edge, [centre_ref, edge_ref, usable]): usable is 0 when the centre or the edge has no
    background pixel, and the data are then left as they are (upstream: step SKIPPED)."""
    centre, edge = region_masks(np.asarray(mask, dtype=bool))
    usable = bool(centre.any() and edge.any())
    if not usable:
        log.error("picture_frame: %s has no background pixel in the centre or the edge region; not corrected",
                  filename or "the exposure")
    centre_ref, edge_ref = reference_levels(reference, centre, edge) if usable else (np.nan, np.nan)
    return centre, edge, np.array([centre_ref, edge_ref, float(usable)], dtype=np.float32)


def _scales_and_offsets(sci: da.Array, centre, edge, reference_stats) -> tuple[da.Array, da.Array]:
    """Lazy scales and offsets: (nints, ngroups - 1) for a ramp, one per image for a rate: () or (nints,)."""
    ramp = sci.ndim == 4
    if ramp:
        images, per_image, leading = [sci[i] for i in range(sci.shape[0])], sci.shape[1] - 1, sci.shape[:1]
    else:
        stack = sci[None] if sci.ndim == 2 else sci
        images, per_image, leading = [stack[i][None] for i in range(stack.shape[0])], 1, sci.shape[:-2]
    fits = [
        delayed_arrays(_image_scales, [((per_image,), np.float32)] * 2, image, centre, edge, reference_stats, ramp=ramp)
        for image in images
    ]
    shape = leading + ((per_image,) if ramp else ())
    scale, offset = (da.concatenate([fit[k] for fit in fits]).reshape(shape) for k in range(2))
    return scale, offset


def _image_scales(frames: np.ndarray, centre: np.ndarray, edge: np.ndarray, reference_stats: np.ndarray,
                  ramp: bool) -> tuple[np.ndarray, np.ndarray]:
    """Scale and offset of one integration's groups 1.. (``frames`` (ngroups, ny, nx)) or of one rate image
    (``frames`` (1, ny, nx))."""
    if not reference_stats[2]:
        count = frames.shape[0] - 1 if ramp else 1
        return np.zeros(count, np.float32), np.zeros(count, np.float32)
    if ramp:
        centre_levels, edge_levels = ramp_levels(frames, centre, edge)
    else:
        centre_levels, edge_levels = (np.array([level], np.float32) for level in image_levels(frames[0], centre, edge))
    return scales_and_offsets(centre_levels, edge_levels, reference_stats[0], reference_stats[1])


def _apply_block(data, reference, scale, offset, reference_stats):
    """One pixel block: the ramp or rate block corrected (a copy when the frame had no usable regions)."""
    _, edge_ref, usable = reference_stats[:, 0, 0]
    if not usable:
        return data.copy()
    scale, offset = scale[..., 0, 0], offset[..., 0, 0]
    apply = apply_to_ramp if data.ndim == 4 else apply_to_image
    return apply(data, reference, scale, offset, edge_ref)
