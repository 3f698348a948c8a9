"""gain_scale: rescale rates taken with a non-standard gain setting by the gain reference's GAINFACT."""

from __future__ import annotations

import dataclasses

import xarray as xr

from jwstlazy.kernels.gain_scale import scale_by_gain_factor
from jwstlazy.steps.base import Step, StepParameters, StepSkipped


class GainScaleStep(Step):
    """Multiply SCI/ERR by GAINFACT and the variances by its square, when the gain reference defines it."""

    name = "gain_scale"
    keyword = "GANSCL"
    reference_types = ("gain",)
    skip_without_references = True

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        factor = references["gain"].attrs.get("GAINFACT")
        if factor is None:
            raise StepSkipped("the gain reference has no GAINFACT keyword")
        sci, err, var_p, var_r = scale_by_gain_factor(
            ds["SCI"].data, ds["ERR"].data, ds["VAR_POISSON"].data, ds["VAR_RNOISE"].data, float(factor)
        )
        out = ds.copy(deep=False)
        for name, array in zip(("SCI", "ERR", "VAR_POISSON", "VAR_RNOISE"), (sci, err, var_p, var_r)):
            out[name] = (ds[name].dims, array, ds[name].attrs)
        out.attrs = {**ds.attrs, "GAINFACT": float(factor)}
        return out
