"""charge_migration: flag groups of bright pixels, and of their 4 neighbours, CHARGELOSS | DO_NOT_USE.

Off by default, as in calwebb_detector1 (jwst 3.0). See docs/steps/charge_migration.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.charge_migration import CHARGE_MIGRATION_HALO, flag_charge_migration
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, with_arrays


class ChargeMigrationStep(Step):
    """Flag charge migration above ``signal_threshold`` DN (a one-pixel halo gives exact chunk edges)."""

    name = "charge_migration"
    keyword = "CHGMIG"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        skip: bool = True
        signal_threshold: float = 25000.0

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        sci, groupdq = pixel_array(ramp, "SCI"), pixel_array(ramp, "GROUPDQ")
        if sci.shape[1] < 3:
            raise StepSkipped(f"too few groups per integration ({sci.shape[1]} < 3), as upstream")
        (groupdq,) = map_pixel_blocks(
            flag_charge_migration,
            [sci, groupdq],
            [OutputSpec(np.uint8, sci.shape[:2])],
            halo=CHARGE_MIGRATION_HALO,
            name="charge_migration",
            signal_threshold=self.parameters.signal_threshold,
        )
        return with_arrays(ramp, GROUPDQ=groupdq)
