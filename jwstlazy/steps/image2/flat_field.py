"""The ``flat_field`` step (imaging): divide by the pixel flat, propagate variances, flag bad flats.

The arithmetic is :func:`jwstlazy.kernels.flat_field.apply_flat`, mapped over pixel blocks (lazy).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import xarray as xr

from jwstlazy.kernels.flat_field import apply_flat
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.image2.image_product import pixel_array, reference_array, require_image, with_variables


class FlatFieldStep(Step):
    """Divide SCI by the FLAT reference; VAR_POISSON, VAR_RNOISE / flat²; add VAR_FLAT; OR the flat DQ.

    Flat values that are NaN, zero or flagged NO_FLAT_FIELD give the pixel DO_NOT_USE | NO_FLAT_FIELD
    and are not applied. A ``"N/A"`` flat skips the step (``S_FLAT = 'SKIPPED'``).
    """

    name = "flat_field"
    keyword = "FLAT"
    reference_types = ("flat",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, data: xr.Dataset, references: Mapping[str, xr.Dataset | None]) -> xr.Dataset:
        flat = references.get("flat")
        if flat is None:
            raise StepSkipped("no FLAT reference (N/A)")
        require_image(data, self.name)
        shape = data.sizes["y"], data.sizes["x"]
        flat_sci = reference_array(flat, "SCI", 1.0, shape)
        flat_dq = reference_array(flat, "DQ", 0, shape, dtype=np.uint32)
        flat_err = reference_array(flat, "ERR", 0.0, shape)
        names = ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE", "VAR_FLAT")
        dtypes = (np.float32, np.float32, np.uint32, np.float32, np.float32, np.float32)
        leading = data["SCI"].shape[:-2]
        outputs = map_pixel_blocks(
            apply_flat,
            [pixel_array(data, n) for n in ("SCI", "DQ", "VAR_POISSON", "VAR_RNOISE")] + [flat_sci, flat_dq, flat_err],
            [OutputSpec(dtype, leading) for dtype in dtypes],
        )
        return with_variables(data, **dict(zip(names, outputs)))
