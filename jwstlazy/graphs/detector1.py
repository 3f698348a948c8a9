"""Detector1Pipeline: raw ramps (``_uncal``) -> ``_rate`` and ``_rateints``, as one lazy graph per exposure.

Step order follows ``jwst/pipeline/calwebb_detector1.py`` (jwst 3.0): near-IR and MIRI differ.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.pipeline import Pipeline
from jwstlazy.steps import detector1 as d1
from jwstlazy.steps.base import Step, without_attr
from jwstlazy.steps.detector1.corrections import without_chain
from jwstlazy.steps.detector1.refpix import BORDER_PIXELS as BORDER
from jwstlazy.steps.detector1.refpix import REFERENCE_BORDERS_ATTR, reads_reference_strips
from jwstlazy.steps.side_products import without_side_products

NEAR_INFRARED_ORDER: tuple[type[Step], ...] = (
    d1.GroupScaleStep, d1.DQInitStep, d1.SaturationStep, d1.IPCStep, d1.SuperBiasStep, d1.RefPixStep,
    d1.LinearityStep, d1.DarkCurrentStep,
)
MIRI_ORDER: tuple[type[Step], ...] = (
    d1.GroupScaleStep, d1.DQInitStep, d1.EmiCorrStep, d1.SaturationStep, d1.IPCStep, d1.FirstFrameStep,
    d1.LastFrameStep, d1.ResetStep, d1.LinearityStep, d1.RscdStep, d1.DarkCurrentStep, d1.RefPixStep,
)
TAIL: tuple[type[Step], ...] = (
    d1.ChargeMigrationStep, d1.JumpStep, d1.PictureFrameStep, d1.CleanFlickerNoiseStep, d1.PersistenceStep,
    d1.RampFitStep, d1.GainScaleStep,
)


class Detector1Pipeline(Pipeline):
    """Stage 1: every detector step for NIRCam, NIRISS, NIRSpec and MIRI ramps.

    ``Detector1Pipeline(steps={"jump": {"rejection_threshold": 5}}, references="refs/").build("x_uncal.fits")``
    returns ``{"rate": Dataset, "rateints": Dataset}``, lazy. ``save_calibrated_ramp=True`` (upstream's option)
    adds ``"ramp"``: the corrected ramp that ramp fitting is given, written as ``_ramp.fits``.
    """

    name = "detector1"
    output_suffixes = ("rate", "rateints")

    def __init__(self, steps=None, references=None, save_calibrated_ramp: bool = False) -> None:
        super().__init__(steps, references)
        self.save_calibrated_ramp = bool(save_calibrated_ramp)
        if self.save_calibrated_ramp:
            self.output_suffixes = (*self.output_suffixes, "ramp")

    def settings_description(self) -> str:
        return super().settings_description() + (" save_calibrated_ramp" if self.save_calibrated_ramp else "")

    def build(self, data, start: str | None = None, stop: str | None = None):
        if isinstance(data, (str, os.PathLike)):
            from jwstlazy.datamodels import open as open_product

            data = open_product(data)
        ramp = None
        before_fit = self._names_before_ramp_fit(data) if self.save_calibrated_ramp else []
        if before_fit and stop is None and start in (None, *before_fit):
            ramp = super().build(data, start, stop=before_fit[-1])
            products = super().build(ramp, start="ramp_fit")
        else:
            products = super().build(data, start, stop)
        if isinstance(products, dict):
            products = {name: without_chain(_without_borders(ds)) for name, ds in products.items()}
            return products if ramp is None else {**products, "ramp": without_side_products(without_chain(_without_borders(ramp)))}
        return without_chain(_without_borders(products))

    def _names_before_ramp_fit(self, data) -> list[str]:
        """Names of the steps that run before ramp_fit on ``data`` (a product or dict of products); a ramp
        product given with ``save_calibrated_ramp`` is an error (its ``_ramp.fits`` would be the input's name)."""
        first = next(iter(data.values())) if isinstance(data, dict) else data
        if first.attrs.get("product") == "ramp":
            raise JwstLazyInputError("the input is already a calibrated ramp", path=first.attrs.get("filename"),
                                     where="save_calibrated_ramp", expected="an uncal input, or save_calibrated_ramp off")
        names = [step.name for step in self.steps_for(first)]
        return names[: names.index("ramp_fit")]

    @classmethod
    def all_step_classes(cls) -> Sequence[type[Step]]:
        seen: dict[str, type[Step]] = {}
        for step in (*NEAR_INFRARED_ORDER, *MIRI_ORDER, *TAIL):
            seen.setdefault(step.name, step)
        return list(seen.values())

    def step_classes_for(self, data: xr.Dataset) -> Sequence[type[Step]]:
        head = MIRI_ORDER if str(data.attrs.get("INSTRUME", "")).upper() == "MIRI" else NEAR_INFRARED_ORDER
        return (*head, *TAIL)

    def before_step(self, step: Step, data, source, earlier: Sequence[Step]):
        """Give near-IR refpix its reference borders from their own small graph.

        refpix needs the reference strips of every pixel block before it can correct any block; taking them
        from the ramp makes every block wait, held in memory, until the last one reaches refpix: the whole
        exposure, which grows with the integrations. So the steps before refpix also run on the exposure chunked
        so that the 4-pixel borders are blocks of their own; refpix reads its strips from that copy, whose other
        blocks are never computed (the side strips are read as whole rows, band by band: see
        ``datamodels.fits_io``). Saturation growth (group flags only; refpix reads SCI and PIXELDQ) is left out
        there, since its halo would pull in the neighbouring blocks. Only full frames and 4-output subarrays get
        the copy: refpix reads the strips for those alone (others use their own reference pixels, per block).
        """
        if not isinstance(data, xr.Dataset) or not isinstance(source, xr.Dataset):
            return data
        if step.name != "refpix":
            return _without_borders(data)
        if str(data.attrs.get("INSTRUME", "")).upper() == "MIRI" or "SCI" not in source or "SCI" not in data:
            return data
        if step.parameters.skip or not reads_reference_strips(data):
            return data  # nothing reads the strips (a subarray's refpix uses its own reference pixels)
        ny, nx = source["SCI"].shape[-2:]
        if min(ny, nx) <= 2 * BORDER:
            return data
        borders = _bordered(source, ny, nx)
        for earlier_step in earlier:
            borders = _without_growth(earlier_step).run(borders, self.references)
        out = data.copy(deep=False)
        out.attrs = {**data.attrs, REFERENCE_BORDERS_ATTR: borders}
        return out


def _without_borders(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without the refpix side input (once refpix has run, or was skipped)."""
    return without_attr(ds, REFERENCE_BORDERS_ATTR)


def _bordered(ds: xr.Dataset, ny: int, nx: int) -> xr.Dataset:
    """``ds`` in blocks that isolate the 4-pixel borders; reopened from its file when it has one, so that
    each border block reads only its own bytes."""
    from pathlib import Path

    from jwstlazy.datamodels import open as open_product

    chunks = {"y": (BORDER, ny - 2 * BORDER, BORDER), "x": (BORDER, nx - 2 * BORDER, BORDER)}
    path = ds.attrs.get("filename")
    if ds.attrs.get("product") == "uncal" and path and Path(path).is_file():
        return open_product(Path(path), chunks=chunks)
    return ds.chunk(chunks)


def _without_growth(step: Step) -> Step:
    """``step``, or for saturation a copy that does not grow flags into neighbours (group DQ only)."""
    if step.name != "saturation":
        return step
    import dataclasses

    parameters = dataclasses.asdict(step.parameters)
    return type(step)(**{**parameters, "n_pix_grow_sat": 0, "use_readpatt": False})
