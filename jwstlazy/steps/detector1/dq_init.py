"""dq_init: start the pixel and group DQ arrays from the MASK reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.datamodels.products import read_first_image
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.dq_init import initialize_dq
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, reference_array, with_arrays


def _initialize_block(groupdq: np.ndarray, pixeldq: np.ndarray, mask_dq: np.ndarray, *user_dq: np.ndarray):
    return initialize_dq(mask_dq, groupdq.shape, pixeldq, groupdq, *user_dq)


class DQInitStep(Step):
    """OR the MASK reference into PIXELDQ; its DO_NOT_USE pixels become DO_NOT_USE in every group.

    ``user_supplied_dq`` (upstream's option): the path of a FITS file whose first image (the exposure's shape,
    integer DQ bits) is ORed into the mask first, as if it were part of the MASK reference.
    """

    name = "dq_init"
    keyword = "DQINIT"
    reference_types = ("mask",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        user_supplied_dq: str | None = None

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        mask = reference_array(references["mask"], "DQ", np.uint32)
        user = [self._user_dq(self.parameters.user_supplied_dq, tuple(mask.shape))] if self.parameters.user_supplied_dq else []
        groupdq = pixel_array(ramp, "GROUPDQ")
        pixeldq, groupdq = map_pixel_blocks(
            _initialize_block,
            [groupdq, pixel_array(ramp, "PIXELDQ"), mask, *user],
            [OutputSpec(np.uint32), OutputSpec(np.uint8, groupdq.shape[:2])],
            name="dq_init",
        )
        return with_arrays(ramp, PIXELDQ=pixeldq, GROUPDQ=groupdq)

    @staticmethod
    def _user_dq(path: str, shape: tuple[int, ...]) -> np.ndarray:
        """The user's DQ image as uint32 of the exposure's pixel ``shape``; another shape, or values that are not
        integer DQ bits, is an error naming the file."""
        values = read_first_image(path)
        if values.shape != shape:
            raise JwstLazyInputError(f"user DQ of shape {values.shape}", path, "steps.dq_init.user_supplied_dq",
                                     f"the exposure's pixel shape {shape}")
        if not (np.issubdtype(values.dtype, np.integer) or np.array_equal(values, np.round(values))) or (values < 0).any():
            raise JwstLazyInputError("values that are not DQ bits", path, "steps.dq_init.user_supplied_dq",
                                     "non-negative integer DQ flags")
        return values.astype(np.uint32)
