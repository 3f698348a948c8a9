"""dark_current: subtract the dark, averaged and skipped to match the science readout (NFRAMES/GROUPGAP)."""

from __future__ import annotations

import dataclasses
import functools

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import PIXEL_DTYPE
from jwstlazy.kernels.corrections import Corrections
from jwstlazy.kernels.dark import collapse_dark_dq, dark_integrations, dark_matches_readout, resample_dark
from jwstlazy.references.derived import derived_image
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.detector1.corrections import CorrectionStage, with_correction
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, reference_array


class DarkCurrentStep(Step):
    """Subtract the DARK reference group by group (MIRI 4-D darks per integration)."""

    name = "dark_current"
    keyword = "DARK"
    reference_types = ("dark",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        average_dark_current: float | None = None
        dark_output: str | None = None  # upstream: a file for the averaged dark; not implemented (an error when set)

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        self.require_supported({"dark_output": None})
        ramp = as_ramp(ds)
        reference = references["dark"]
        nints, ngroups = ramp["SCI"].shape[:2]
        nframes = integer_keyword(ramp, "NFRAMES", 1)
        groupgap = integer_keyword(ramp, "GROUPGAP", 0)
        dark_nframes = int(reference.attrs.get("NFRAMES", 1))
        dark_groupgap = int(reference.attrs.get("GROUPGAP", 0))
        if not dark_matches_readout(nframes, groupgap, dark_nframes, dark_groupgap):
            raise StepSkipped(f"dark readout (NFRAMES={dark_nframes}, GROUPGAP={dark_groupgap}) cannot match the science")
        readout = (nints, ngroups, nframes, groupgap, dark_nframes, dark_groupgap)
        dark = _matched_dark(ramp, reference, readout)
        dark_dq = reference_array(reference, "DQ", np.uint32) if "DQ" in reference else np.zeros(
            dark.shape[-2:], np.uint32
        )
        options = dict(nints=nints, integration_start=integer_keyword(ramp, "INTSTART", 1))
        return with_correction(ramp, CorrectionStage("dark_current", "dark", _prepare_dark, (dark, dark_dq), options))


def _matched_dark(ramp: xr.Dataset, reference: xr.Dataset, readout: tuple) -> da.Array | np.ndarray:
    """The DARK's SCI matched to the science ``readout`` (see :func:`_prepare_dark`), (dark nints, ngroups, y, x)
    float32, NaN kept (the kernel counts NaN as 0): read and averaged by each pixel block's task. A dark that
    must be averaged (NFRAMES/GROUPGAP) is cached per block where the program run says
    (:mod:`jwstlazy.references.derived`), so the exposures of a program after the first read the averaged planes."""
    nints, ngroups, nframes, groupgap, dark_nframes, dark_groupgap = readout
    planes = reference["SCI"]  # the loader made sure a DARK has one
    frames_needed = ngroups * (nframes + groupgap)  # dark frames (NFRAMES=1) that the readout spans
    read = [slice(None)] * (planes.ndim - 2)
    if dark_nframes == 1 and dark_groupgap == 0 and planes.shape[-3] > frames_needed:
        read[-1] = slice(0, frames_needed)  # read only those
    derive = functools.partial(resample_dark, sci_nints=nints, sci_ngroups=ngroups, sci_nframes=nframes,
                               sci_groupgap=groupgap, dark_nframes=dark_nframes, dark_groupgap=dark_groupgap,
                               nan_as_zero=False)
    dark_nints = planes.shape[0] if planes.ndim == 4 else 1
    if not isinstance(planes.data, da.Array):  # a dark held in memory (not read from a file)
        return derive(np.asarray(planes.data[tuple(read)], dtype=np.float32))
    return derived_image(reference, "SCI", derive, (dark_nints, ngroups), np.float32,
                         identity="dark-matched-to-readout-" + "-".join(map(str, readout)), read=tuple(read),
                         key_salt=pixel_array(ramp, "SCI").name,
                         cache=(nframes, groupgap) != (dark_nframes, dark_groupgap))  # worth caching averages only


def _prepare_dark(corrections: Corrections, pixeldq, dark_block, dq_block, *, nints: int, integration_start: int):
    """One pixel block: the dark already matched to the science readout (:func:`_matched_dark`, so the client
    never holds a full resampled dark cube); its DQ ORed into PIXELDQ."""
    corrections.dark = dark_block
    corrections.dark_integrations = dark_integrations(nints, dark_block.shape[0], 0, integration_start)
    return np.bitwise_or(pixeldq, collapse_dark_dq(dq_block)).astype(PIXEL_DTYPE)
