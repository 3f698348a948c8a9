"""ramp_fit: optimally weighted OLS slopes -> the ``rate`` and ``rateints`` products."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import DO_NOT_USE
from jwstlazy.kernels.ramp_fit import fit_ramps
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array
from jwstlazy.errors import JwstLazyInputError

#: The variables of a rate product, in the order the kernel wrapper returns them.
RATE_VARIABLES = ("SCI", "DQ", "VAR_POISSON", "VAR_RNOISE", "ERR")
RATE_UNITS = {"SCI": "DN/s", "ERR": "DN/s", "VAR_POISSON": "DN^2/s^2", "VAR_RNOISE": "DN^2/s^2"}


class RampFitStep(Step):
    """Fit every ramp (see docs/steps/ramp_fit.md); returns ``{"rate": ds, "rateints": ds}``."""

    name = "ramp_fit"
    keyword = "RAMP"
    reference_types = ("readnoise", "gain")
    reference_keywords = {"readnoise": "READNO"}

    @dataclasses.dataclass
    class Parameters(StepParameters):
        algorithm: str = "OLS_C"
        suppress_one_group: bool = True
        firstgroup: int | None = None
        lastgroup: int | None = None
        maximum_cores: str = "1"  # accepted for compatibility; parallelism comes from the dask scheduler
        save_opt: bool = False  # upstream's optional _fitopt product: not implemented (an error when set)
        int_name: str = ""  # upstream's file names for a step run alone; jwstlazy names products by exposure
        opt_name: str = ""

    def process(self, ds: xr.Dataset, references) -> dict[str, xr.Dataset]:
        p = self.parameters
        self.require_supported({"save_opt": False})  # its arrays' segment axis depends on the data
        if p.algorithm.upper() not in ("OLS", "OLS_C"):
            raise JwstLazyInputError(
                f"ramp-fitting algorithm {p.algorithm!r} is not available", where="steps.ramp_fit.algorithm",
                expected="OLS_C",
            )
        ramp = as_ramp(ds)
        gain = reference_array(references["gain"], "SCI", np.float32)
        readnoise = reference_array(references["readnoise"], "SCI", np.float32)
        sci, groupdq = pixel_array(ramp, "SCI"), pixel_array(ramp, "GROUPDQ")
        nints, ngroups = sci.shape[:2]
        ignored = np.zeros(ngroups, dtype=bool)
        if p.firstgroup is not None:
            ignored[: p.firstgroup] = True
        if p.lastgroup is not None:
            ignored[p.lastgroup + 1:] = True
        options = dict(
            group_time=float(ramp.attrs["TGROUP"]),
            frame_time=float(ramp.attrs["TFRAME"]),
            nframes=integer_keyword(ramp, "NFRAMES", 1),
            suppress_one_group=p.suppress_one_group,
        )

        types = (np.float32, np.uint32, np.float32, np.float32, np.float32)
        outputs = [OutputSpec(t) for t in types] + [OutputSpec(t, (nints,)) for t in types]
        arrays = map_pixel_blocks(
            _fit_block, [sci, groupdq, pixel_array(ramp, "PIXELDQ"), gain, readnoise], outputs, name="ramp_fit",
            ignored=ignored, options=options,
        )
        return {
            "rate": _product(ramp, "rate", ("y", "x"), arrays[:5]),
            "rateints": _product(ramp, "rateints", ("integration", "y", "x"), arrays[5:]),
        }


def _fit_block(data, gdq, pdq, gain_block, rn_block, *, ignored: np.ndarray, options: dict):
    """One pixel block: groups outside firstgroup..lastgroup (``ignored``) flagged DO_NOT_USE, then fitted."""
    if ignored.any():
        gdq = gdq | (ignored[None, :, None, None] * np.uint8(DO_NOT_USE)).astype(np.uint8)
    rate, rateints = fit_ramps(data, gdq, pdq, gain_block, rn_block, **options)
    return tuple(rate) + tuple(rateints)


def _product(ramp: xr.Dataset, product: str, dims: tuple[str, ...], arrays) -> xr.Dataset:
    """A rate-like Dataset from the kernel outputs (slope, dq, var_poisson, var_rnoise, err order)."""
    by_kernel_order = dict(zip(("SCI", "DQ", "VAR_POISSON", "VAR_RNOISE", "ERR"), arrays))
    variables = {
        name: (dims, by_kernel_order[name], {"BUNIT": RATE_UNITS[name]} if name in RATE_UNITS else {})
        for name in ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE")
    }
    if product == "rateints":  # per-integration times travel with the per-integration product
        for name, variable in ramp.data_vars.items():
            if name.startswith("INT_TIMES."):
                variables[name] = variable
    attrs = {key: value for key, value in ramp.attrs.items() if key != "filename"}
    attrs["product"] = product
    return xr.Dataset(variables, attrs=attrs)
