"""``Image2Pipeline``: stage 2 imaging, ``_rate`` → ``_cal`` (+ the single-exposure ``_i2d``).

``Image2Pipeline(references={...}).build(rate)`` takes a ``_rate.fits``/``_rateints.fits`` path or a lazy
rate Dataset (e.g. straight from detector1, with no file in between) and returns
``{"cal": ds, "i2d": ds}`` (``{"calints": ds}`` for rateints, which are not resampled), all lazy.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import ClassVar
from pathlib import Path

import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.pipeline import Pipeline
from jwstlazy.steps.base import Products, Step
from jwstlazy.steps.image2 import AssignWcsStep, BackgroundStep, FlatFieldStep, PhotomStep, ResampleStep

#: Products that image2 first takes through detector1 (in the same graph).
RAW_PRODUCTS = ("uncal", "ramp")
#: Input product → calibrated product name.
CALIBRATED = {"rate": "cal", "rateints": "calints", "cal": "cal", "calints": "calints"}


class Image2Pipeline(Pipeline):
    """bkg_subtract → assign_wcs → flat_field → photom → resample, as ``calwebb_image2``."""

    name = "image2"
    output_suffixes = ("cal", "i2d")
    #: Detector1 step parameters used when the input is raw (``uncal``): ``{"jump": {...}}``.
    stage1_steps: ClassVar[dict] = {}

    @classmethod
    def all_step_classes(cls) -> Sequence[type[Step]]:
        return (BackgroundStep, AssignWcsStep, FlatFieldStep, PhotomStep, ResampleStep)

    def build(self, data: Products | str | os.PathLike, start: str | None = None,
              stop: str | None = None) -> dict[str, xr.Dataset]:
        """The lazy products: ``{"cal": ..., "i2d": ...}`` (``{"calints": ...}`` for rateints input).

        A raw (``uncal``) input is first taken through detector1 in the same graph, and its ``rate`` and
        ``rateints`` are returned too.
        """
        if isinstance(data, (str, os.PathLike)):
            from jwstlazy.datamodels import open as open_product

            data = open_product(Path(data))
        stage1: dict[str, xr.Dataset] = {}
        if not isinstance(data, dict) and data.attrs.get("product") in RAW_PRODUCTS:
            # uncal -> rate -> cal -> i2d as ONE graph: detector1's lazy products feed image2 directly
            from jwstlazy.graphs.detector1 import Detector1Pipeline

            stage1 = Detector1Pipeline(steps=self.stage1_steps, references=self.references).build(data)
            data = stage1
        if isinstance(data, dict):
            data = _rate_product(data)
        product = CALIBRATED.get(str(data.attrs.get("product", "rate")))
        if product is None:
            raise JwstLazyInputError(f"cannot run image2 on a {data.attrs.get('product')!r} product",
                                     path=data.attrs.get("filename"), where="product",
                                     expected="a rate or rateints exposure")
        calibration_stop = "photom" if stop in (None, "resample") else stop
        calibrated = super().build(data, start=start, stop=calibration_stop)
        calibrated.attrs = {**calibrated.attrs, "product": product}
        products = {product: calibrated}
        if product == "cal" and stop in (None, "resample"):
            resample = next(s for s in self.steps_for(calibrated) if s.name == "resample")
            products["i2d"] = resample.run(calibrated, self.references)
        return {**stage1, **products}


def _rate_product(products: dict[str, xr.Dataset]) -> xr.Dataset:
    """The ``rate`` of detector1's named products (``rateints`` when there is no rate)."""
    for name in ("rate", "rateints"):
        if name in products:
            return products[name]
    raise JwstLazyInputError("no rate product among " + ", ".join(products), where="image2 input",
                             expected="a 'rate' or 'rateints' product")
