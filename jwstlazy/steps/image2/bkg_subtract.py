"""The ``bkg_subtract`` step (imaging): subtract combined background exposures, or a fitted sky level.

With background exposures (``bkg_list``: paths or lazy Datasets, e.g. the ``background`` members of a
level-2 association) the per-pixel sigma-clipped mean of the backgrounds is subtracted, as
``jwst.background`` (jwst 3.0) does, and their DQ ORed in. Deliberate differences, each a parameter:

* ``propagate_variance`` (default on): the variances of the mean background are added to VAR_POISSON
  and VAR_RNOISE and ERR recomputed (jwst leaves ERR and the variances unchanged);
* ``scale_background`` (default off): the combined background is scaled to the science exposure by the
  ratio of their sigma-clipped medians over pixels good in both;
* ``sky_when_no_background`` (default off, as jwst, which then skips): with no background exposures, the
  sigma-clipped median of the science image's good pixels is subtracted instead.

Everything stays lazy: the sky level and scale factors are 0-d dask arrays.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping

import dask
import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.background import combine_backgrounds, sky_level
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.image2.image_product import pixel_array, require_image, with_variables


def _open_background(member: str | os.PathLike | xr.Dataset, science: xr.Dataset) -> xr.Dataset:
    if isinstance(member, xr.Dataset):
        background = member
    else:
        from jwstlazy.datamodels import open as open_product

        background = open_product(member)
    require_image(background, "bkg_subtract")
    if background["SCI"].shape[-2:] != science["SCI"].shape[-2:]:
        raise JwstLazyInputError(
            f"background shape {background['SCI'].shape[-2:]} differs from the science shape "
            f"{science['SCI'].shape[-2:]}", path=background.attrs.get("filename"), where="SCI",
            expected="a background exposure of the same subarray",
        )
    return background


def _as_2d(array: da.Array) -> da.Array:
    """A rateints background (integration, y, x) averaged over integrations; rate images unchanged."""
    return array if array.ndim == 2 else da.nanmean(array, axis=0)


def _clipped_median(sci: da.Array, dq: da.Array) -> da.Array:
    """0-d dask array: sigma-clipped median (DN/s) of the good pixels of a (y, x) image."""
    return da.from_delayed(dask.delayed(sky_level, pure=True)(sci, dq), shape=(), dtype=np.float64)


class BackgroundStep(Step):
    """Subtract the combined background exposures (or a fitted sky level); propagate DQ and variances."""

    name = "bkg_subtract"
    keyword = "BKDSUB"
    reference_types = ()

    @dataclasses.dataclass
    class Parameters(StepParameters):
        bkg_list: tuple[str, ...] = ()  #: background exposures: paths (or lazy Datasets)
        sigma: float = 3.0  #: clipping threshold (standard deviations, both sides)
        maxiters: int | None = None  #: clipping iterations (None: until convergence)
        propagate_variance: bool = True  #: add the background's variances to the science ones
        scale_background: bool = False  #: scale the background to the science median level
        sky_when_no_background: bool = False  #: subtract a fitted sky level when bkg_list is empty

    def process(self, data: xr.Dataset, references: Mapping[str, xr.Dataset | None]) -> xr.Dataset:
        require_image(data, self.name)
        members = [m for m in self.parameters.bkg_list if not (isinstance(m, str) and not m.strip())]
        if members:
            return self._subtract_backgrounds(data, [_open_background(m, data) for m in members])
        if self.parameters.sky_when_no_background:
            return self._subtract_sky(data)
        raise StepSkipped("no background exposures")

    def _subtract_backgrounds(self, data: xr.Dataset, backgrounds: list[xr.Dataset]) -> xr.Dataset:
        p = self.parameters
        chunks = pixel_array(data, "SCI").chunks[-2:]
        stacks = [
            da.stack([_as_2d(pixel_array(b, name)).rechunk(chunks) for b in backgrounds])
            for name in ("SCI", "VAR_POISSON", "VAR_RNOISE")
        ]
        dq_stack = da.stack([_or_over_integrations(pixel_array(b, "DQ")).rechunk(chunks) for b in backgrounds])
        mean, dq, var_poisson, var_rnoise = map_pixel_blocks(
            combine_backgrounds, [stacks[0], dq_stack, stacks[1], stacks[2]], [OutputSpec(np.float32), OutputSpec(np.uint32),
                                          OutputSpec(np.float32), OutputSpec(np.float32)],
            sigma=p.sigma, maxiters=p.maxiters,
        )
        scale = 1.0
        if p.scale_background:
            science_median = _clipped_median(_as_2d(pixel_array(data, "SCI")),
                                             _or_over_integrations(pixel_array(data, "DQ")))
            scale = science_median / _clipped_median(mean, dq)
        return self._subtracted(data, mean * scale, dq, var_poisson * scale**2, var_rnoise * scale**2)

    def _subtract_sky(self, data: xr.Dataset) -> xr.Dataset:
        level = _clipped_median(_as_2d(pixel_array(data, "SCI")), _or_over_integrations(pixel_array(data, "DQ")))
        return self._subtracted(data, level.astype(np.float32), None, None, None)

    def _subtracted(self, data: xr.Dataset, background: da.Array, dq: da.Array | None,
                    var_poisson: da.Array | None, var_rnoise: da.Array | None) -> xr.Dataset:
        """``data`` minus ``background`` (a (y, x) image or a 0-d level), DQ ORed, variances added."""
        sci = pixel_array(data, "SCI") - background
        arrays = {"SCI": sci.astype(np.float32)}
        if dq is not None:
            arrays["DQ"] = (pixel_array(data, "DQ") | dq).astype(np.uint32)
        if self.parameters.propagate_variance and var_poisson is not None:
            arrays["VAR_POISSON"] = (pixel_array(data, "VAR_POISSON") + var_poisson).astype(np.float32)
            arrays["VAR_RNOISE"] = (pixel_array(data, "VAR_RNOISE") + var_rnoise).astype(np.float32)
            variances = [arrays["VAR_POISSON"], arrays["VAR_RNOISE"]]
            if "VAR_FLAT" in data:
                variances.append(pixel_array(data, "VAR_FLAT"))
            arrays["ERR"] = da.sqrt(sum(variances)).astype(np.float32)
        return with_variables(data, **arrays)


def _or_over_integrations(dq: da.Array) -> da.Array:
    """The OR over integrations of a DQ array (one chunk along integration), as (y, x)."""
    if dq.ndim == 2:
        return dq
    return dq.map_blocks(np.bitwise_or.reduce, axis=0, drop_axis=0, dtype=dq.dtype)
