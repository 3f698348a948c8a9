"""clean_flicker_noise: remove 1/f (near-IR) or vertical flicker (MIRI) noise from ramps (off by default).

jwst 3.0's ``fit_method='median'`` (per-line medians) and ``'fft'`` (NSClean, NIRSpec only: a per-pixel noise
model fitted in frequency space, :mod:`jwstlazy.kernels.nsclean`), in three lazy passes (see
docs/steps/clean_flicker_noise.md):

1. draft rate: :class:`RampFitStep` with default parameters on the step's input (as upstream), then the
   scene mask (one task on the whole rate image; one per integration with ``single_mask=False``). A rate or
   rateints product given to the step is cleaned image by image instead, with masks made from its images, each
   image as a 2-group ramp (0, image) whose one difference is the image;
2. a REDUCTION per integration over its full frames: background and per-line stripes (or, for 'fft', a noise
   image) of every group difference (``flicker_fit``);
3. an APPLY per pixel block (``flicker_apply``) with the stripes or noise images cut to the block.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.clean_flicker_noise import channel_layout, flat_for_fitting, flicker_apply, flicker_fit
from jwstlazy.kernels.flicker_autoparam import AUTOPARAM_EXP_TYPES, auto_parameters
from jwstlazy.kernels.nsclean import ALLSLITS_CUTOFFS, SUBARRAY_CUTOFFS
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, delayed_arrays, map_pixel_blocks, spread_over_pixels
from jwstlazy.steps.detector1.ramp_fit import RampFitStep
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array, with_arrays
from jwstlazy.steps.detector1.scene_mask import draft_rate_scene_masks, rate_scene_mask, science_pixels
from jwstlazy.steps.side_products import side_product, with_side_products

log = logging.getLogger(__name__)

#: Upstream options this implementation does not have, with the value that is supported.
_UNSUPPORTED: dict[str, object] = {}

#: Side products (suffix of ``<exposure>_<suffix>.fits``) by the parameter asking for them, as upstream.
SIDE_PRODUCTS = {"save_mask": "mask", "save_background": "flicker_bkg", "save_noise": "flicker_noise"}

#: Exposure types ``fit_method='fft'`` (NSClean) applies to, as upstream; the step is skipped for others.
FFT_EXP_TYPES = ("NRS_MSASPEC", "NRS_IFU", "NRS_FIXEDSLIT", "NRS_BRIGHTOBJ")


class CleanFlickerNoiseStep(Step):
    """Fit and subtract 1/f noise from every group difference: per-line medians (``fit_method='median'``) or
    NSClean's frequency-space model (``'fft'``, NIRSpec).

    The draft rate needs the ramp_fit references (gain, readnoise). ``user_mask``: a (ny, nx) array
    (True = background) or the path of a product whose SCI is the mask; it replaces the draft-rate mask.
    """

    name = "clean_flicker_noise"
    keyword = "CLNFNS"
    reference_types = ("gain", "readnoise")
    reference_keywords = {"readnoise": "READNO"}

    @dataclasses.dataclass
    class Parameters(StepParameters):
        skip: bool = True
        autoparam: bool = False
        fit_method: str = "median"
        fit_by_channel: bool = False
        background_method: str | None = "median"
        background_box_size: tuple[int, ...] | None = None
        mask_science_regions: bool = False
        apply_flat_field: bool = False
        n_sigma: float = 2.0
        fit_histogram: bool = False
        single_mask: bool = True
        user_mask: Any = None
        save_mask: bool = False
        save_background: bool = False
        save_noise: bool = False

    def side_product_suffixes(self) -> tuple[str, ...]:
        """``mask``, ``flicker_bkg``, ``flicker_noise`` as ``save_mask``, ``save_background``, ``save_noise`` ask."""
        if self.parameters.skip:
            return ()
        return tuple(suffix for option, suffix in SIDE_PRODUCTS.items() if getattr(self.parameters, option))

    def needed_reference_types(self, data: xr.Dataset) -> tuple[str, ...]:
        """The ramp_fit references for the draft rate (a ramp without ``user_mask``), and the FLAT with
        ``apply_flat_field``."""
        p = self.parameters
        draft_rate = data["SCI"].ndim == 4 and (p.user_mask is None or self._autoparam(data))
        flat = p.apply_flat_field or (self._masks_non_science(data) and p.user_mask is None) or self._autoparam(data)
        return (self.reference_types if draft_rate else ()) + (("flat",) if flat else ())

    def _autoparam(self, data: xr.Dataset) -> bool:
        """Whether ``autoparam`` chooses the parameters (NRC_IMAGE and NIS_IMAGE, as upstream; others keep theirs,
        with a warning in :meth:`process`)."""
        return self.parameters.autoparam and _exp_type(data) in AUTOPARAM_EXP_TYPES

    def _masks_non_science(self, data: xr.Dataset) -> bool:
        """Whether ``mask_science_regions`` leaves out non-science regions (MIRI imaging; upstream does nothing
        more for the other modes it does not name, and NIRSpec and SOSS are refused in :meth:`process`)."""
        return self.parameters.mask_science_regions and _exp_type(data) == "MIR_IMAGE"

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        self._check_supported()
        rates = ds["SCI"].ndim < 4  # a rate or rateints product: each image is cleaned itself
        ramp = ds if rates else as_ramp(ds)
        p = self.parameters
        exp_type = _exp_type(ramp)
        miri = exp_type.startswith("MIR")
        if miri and exp_type != "MIR_IMAGE":
            raise StepSkipped(f"EXP_TYPE {exp_type} is not supported (MIRI: MIR_IMAGE only)")
        fft = p.fit_method == "fft"
        if fft and exp_type not in FFT_EXP_TYPES:
            raise StepSkipped(f"fit method 'fft' cannot be applied to EXP_TYPE {exp_type} (only {', '.join(FFT_EXP_TYPES)})")
        if p.mask_science_regions and (exp_type.startswith("NRS") or exp_type == "NIS_SOSS"):
            raise JwstLazyInputError(
                f"mask_science_regions=True for EXP_TYPE {exp_type} is not implemented (it needs NIRSpec's "
                "slit and IFU geometry or the SOSS trace reference)", path=ramp.attrs.get("filename"),
                where=f"steps.{self.name}.mask_science_regions", expected="False for NIRSpec and NIRISS SOSS")
        if rates:
            images = pixel_array(ramp, "SCI").reshape((-1,) + ramp["SCI"].shape[-2:])  # (nints, ny, nx)
            sci = da.stack([da.zeros_like(images), images], axis=1).rechunk({1: 2})  # image = group 1 - group 0
            groupdq = da.zeros(sci.shape, np.uint8, chunks=sci.chunks)  # upstream masks no DQ in images
        else:
            sci, groupdq = pixel_array(ramp, "SCI"), pixel_array(ramp, "GROUPDQ")
        nints, ngroups, ny, nx = sci.shape
        axis = 1 if miri else abs(integer_keyword(ramp, "SLOWAXIS"))
        channels_allowed = not miri and str(ramp.attrs.get("SUBARRAY", "")).upper() == "FULL"
        by_channel = p.fit_by_channel and channels_allowed
        background_method = None if str(p.background_method).lower() == "none" else p.background_method
        auto = self._autoparam(ramp)
        if p.autoparam and not auto:
            log.warning("%s: autoparam is not available for EXP_TYPE %s; the parameters given are used", self.name,
                        exp_type)
        flat = self._flat(references, sci, apply=references.get("flat") is not None if auto else p.apply_flat_field)
        masks = self._scene_masks(ramp, references, flat, images if rates else None)
        decision = self._auto_decision(ramp, references, flat, images if rates else None, axis) if auto else None
        if auto:  # the widest shapes: any of autoparam's choices fits them
            background_method, by_channel = "model", channels_allowed
        nchan, channel = channel_layout((ny, nx), axis, by_channel and not fft)
        ndiff, nlines = max(ngroups - 1, 0), (ny if axis == 2 else nx)
        model = background_method == "model"  # a background image per difference, not one value
        fft_options = {"fit_method": "fft", "detector": str(ramp.attrs.get("DETECTOR", "")),
                       "fft_cutoffs": ALLSLITS_CUTOFFS if str(ramp.attrs.get("SUBARRAY", "")).upper() == "ALLSLITS"
                       else SUBARRAY_CUTOFFS} if fft else {}  # fmt: skip
        fits = [
            delayed_arrays(
                flicker_fit,
                [((ndiff, ny, nx) if fft else (ndiff, nchan, nlines), np.float32),
                 ((ndiff, ny, nx) if model else (ndiff,), np.float32), ((ndiff,), np.bool_)],
                sci[i], groupdq[i], masks[min(i, len(masks) - 1)],
                axis_to_correct=axis, fit_by_channel=by_channel, n_sigma=p.n_sigma,
                background_method=background_method, background_box_size=p.background_box_size, flat=flat,
                **fft_options, **({"decision": decision} if auto else {}),
            )
            for i in range(nints)
        ]
        noise, background, cleaned = (da.stack([fit[k] for fit in fits]) for k in range(3))
        if not fft:  # per-line stripes, seen per pixel
            noise = noise[..., :, None] if axis == 2 else noise[..., None, :]
        per_group = (background if model else background[..., None, None], cleaned[..., None, None])

        def apply_block(data, noise_block, background_block, cleaned_block, *flat_block, origin):
            y0, x0 = origin
            by, bx = data.shape[-2:]
            levels = background_block if model else background_block[..., 0, 0]
            if fft:
                return flicker_apply(data, None, None, levels, cleaned_block[..., 0, 0], axis, *flat_block,
                                     noise=noise_block)  # fmt: skip
            lines = noise_block[..., :, 0] if axis == 2 else noise_block[..., 0, :]
            along = channel[x0: x0 + bx] if axis == 2 else channel[y0: y0 + by]
            return flicker_apply(data, lines, along, levels, cleaned_block[..., 0, 0], axis, *flat_block)

        (corrected,) = map_pixel_blocks(
            apply_block,
            [sci, *(spread_over_pixels(a, sci) for a in (noise, *per_group, *([flat] if flat is not None else [])))],
            [OutputSpec(np.float32, (nints, ngroups))],
            pass_origin=True,
            name="clean_flicker_noise",
        )
        side = self._side_products(ramp, masks, sci, corrected, background if model else background[..., None, None],
                                   cleaned, rates)  # fmt: skip
        if rates:  # group 1 of each 2-group ramp (0 + cleaned image: the same bits)
            corrected = corrected[:, 1].reshape(ramp["SCI"].shape)
        out = with_arrays(ramp, SCI=corrected)
        return with_side_products(out, side) if side else out

    def _side_products(self, ramp: xr.Dataset, masks: list[da.Array], sci: da.Array, corrected: da.Array,
                       background: da.Array, cleaned: da.Array, rates: bool) -> dict[str, xr.Dataset]:  # fmt: skip
        """The side products asked for, lazy: the scene mask (``mask``, float32 1 = background, as upstream's
        ImageModel; a CubeModel of one mask per integration with ``single_mask=False``), and per group the background removed before the fit (``flicker_bkg``: 0 in group 0 and
        in differences left uncleaned) and the noise removed (``flicker_noise``: output - input), both
        (nints, ngroups, ny, nx) float32 as upstream's RampModels. ``background``: (nints, ndiff, 1 or ny, 1 or nx)."""
        wanted = self.side_product_suffixes()
        if not wanted:
            return {}
        where = f"steps.{self.name}"
        if rates and set(wanted) - {"mask"}:
            raise JwstLazyInputError("save_background and save_noise for a rate or rateints input are not implemented",
                                     path=ramp.attrs.get("filename"), where=where, expected="a ramp input")  # fmt: skip
        side = {}
        if "mask" in wanted:  # one image, or with single_mask=False one per integration (upstream's CubeModel)
            mask, dims = (masks[0], ("y", "x")) if len(masks) == 1 else (da.stack(masks), ("integration", "y", "x"))
            side["mask"] = side_product(ramp, "mask", dims, mask.astype(np.float32), bunit=None)
        dims = ramp["SCI"].dims
        if "flicker_bkg" in wanted:
            nints, ngroups, ny, nx = sci.shape
            per_difference = da.where(cleaned[..., None, None], da.broadcast_to(background, (nints, ngroups - 1, ny, nx)),
                                      np.float32(0)).astype(np.float32)  # fmt: skip
            first = da.zeros((nints, 1, ny, nx), dtype=np.float32)
            levels = da.concatenate([first, per_difference], axis=1).rechunk(sci.chunks)
            side["flicker_bkg"] = side_product(ramp, "flicker_bkg", dims, levels)
        if "flicker_noise" in wanted:
            side["flicker_noise"] = side_product(ramp, "flicker_noise", dims, corrected - sci)
        return side

    def _check_supported(self) -> None:
        p = self.parameters
        self.require_supported(_UNSUPPORTED)
        if p.fit_method not in ("median", "fft"):
            raise JwstLazyInputError(f"fit_method={p.fit_method!r} is not implemented",
                                     where=f"steps.{self.name}.fit_method", expected="'median' or 'fft'")
        if str(p.background_method).lower() not in ("median", "model", "none"):
            raise JwstLazyInputError(f"background_method={p.background_method!r} is not implemented",
                                     where=f"steps.{self.name}.background_method",
                                     expected="'median', 'model' or None")

    def _auto_decision(self, ramp: xr.Dataset, references, flat: da.Array | None, images: da.Array | None,
                       axis: int) -> da.Array:  # fmt: skip
        """autoparam's choice, lazy (2,) bool [background 'model', fit by channel], from the draft rate (a ramp;
        upstream makes it with ramp_fit's defaults), or the rate image (the mean of a rateints' images)."""
        if images is None:
            rate = RampFitStep().process(ramp, references)["rate"]["SCI"].data
        else:
            rate = images[0] if images.shape[0] == 1 and ramp["SCI"].ndim == 2 else da.nanmean(images, axis=0)
        return delayed_arrays(_auto_choice, [((2,), np.bool_)], rate, flat, exp_type=_exp_type(ramp), axis=axis)[0]

    def _flat(self, references, sci: da.Array, apply: bool) -> da.Array | None:
        """When ``apply`` (``apply_flat_field``, or autoparam with a FLAT), the FLAT's SCI made fit for dividing
        (:func:`flat_for_fitting`, one task on the whole frame), (ny, nx) float32; None without it, or when the
        FLAT override is "N/A" (upstream then goes on without a flat, with a warning)."""
        if not apply:
            return None
        reference = references.get("flat")
        if reference is None:
            log.warning("%s: no FLAT reference (N/A): the noise is fitted without a flat", self.name)
            return None
        flat = reference_array(reference, "SCI", np.float32)
        if tuple(flat.shape) != tuple(sci.shape[-2:]):
            raise JwstLazyInputError(f"FLAT SCI of shape {tuple(flat.shape)}", path=reference.attrs.get("filename"),
                                     where="SCI", expected=f"the exposure's frame shape {tuple(sci.shape[-2:])}")
        return delayed_arrays(_flat_for_fitting, [(tuple(flat.shape), np.float32)], flat)[0]

    def _scene_masks(self, ramp: xr.Dataset, references, flat: da.Array | None,
                     images: da.Array | None = None) -> list[da.Array]:  # fmt: skip
        """One (ny, nx) background mask (True = background), or one per integration without single_mask; for
        ``images`` (nints, ny, nx) of a rate product given to the step, the masks of the images themselves
        (with single_mask, one pixel must be background in all of them: upstream's ``create_mask``)."""
        p = self.parameters
        shape = ramp["SCI"].shape[-2:]
        if p.user_mask is not None:
            return [da.from_array(_user_mask(p.user_mask, shape, ramp.attrs.get("filename")))]
        non_science = self._masks_non_science(ramp)
        if images is not None:
            divided = images if flat is None else images / flat
            usable = science_pixels(ramp, references.get("flat")).reshape(images.shape) if non_science else None
            if p.single_mask:
                return [rate_scene_mask(divided, p.n_sigma, p.fit_histogram, usable)]
            return [rate_scene_mask(divided[i], p.n_sigma, p.fit_histogram, None if usable is None else usable[i])
                    for i in range(images.shape[0])]
        return draft_rate_scene_masks(ramp, references, p.n_sigma, p.single_mask, p.fit_histogram, flat,
                                      non_science, references.get("flat"))


def _exp_type(ds: xr.Dataset) -> str:
    return str(ds.attrs.get("EXP_TYPE", "")).upper()


def _auto_choice(rate: np.ndarray, flat: np.ndarray | None, exp_type: str, axis: int) -> tuple[np.ndarray]:
    """Task: autoparam's parameters for the draft rate, as (2,) bool [background 'model', fit by channel]."""
    chosen = auto_parameters(rate, exp_type, axis, flat)
    log.info("clean_flicker_noise autoparam for %s: %s", exp_type, chosen)
    return (np.array([chosen["background_method"] == "model", chosen["fit_by_channel"]]),)


def _flat_for_fitting(flat: np.ndarray) -> tuple[np.ndarray]:
    """:func:`flat_for_fitting` as a one-output reduction."""
    return (flat_for_fitting(flat),)


def _user_mask(mask: Any, shape: tuple[int, int], source: Any) -> np.ndarray:
    """A user's background mask as a (ny, nx) bool array (path of a product with SCI, or array-like)."""
    if isinstance(mask, (str, os.PathLike)):
        from jwstlazy.datamodels import open as open_product

        mask = open_product(mask)["SCI"]
    values = np.asarray(mask).astype(np.bool_)
    if values.shape != tuple(shape):
        raise JwstLazyInputError(f"user_mask of shape {values.shape}", path=source,
                                 where="steps.clean_flicker_noise.user_mask", expected=f"shape {tuple(shape)}")
    return values
