"""rscd (MIRI): flag the first groups of each integration DO_NOT_USE (reset switch charge decay).

jwst 3.0 only flags (nothing is subtracted). The number of groups comes from the RSCD reference table
``RSCD_GROUP_SKIP`` (a small exposure-level look-up done when the graph is built); the flagging is per
pixel, with no halo. See docs/steps/rscd.md.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.rscd import flag_rscd, rscd_group_skip, rscd_skip_counts
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, with_arrays

#: The reference table and its columns (stdatamodels ``RSCDModel.rscd_group_skip_table``).
TABLE = "RSCD_GROUP_SKIP"
COLUMNS = ("subarray", "readpatt", "group_skip1", "group_skip")


class RscdStep(Step):
    """Flag RSCD-affected first groups of MIRI integrations (skipped when no table row matches)."""

    name = "rscd"
    keyword = "RSCD"
    reference_types = ("rscd",)
    skip_without_references = True

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        if not str(ramp.attrs.get("DETECTOR", "")).upper().startswith("MIR"):
            raise StepSkipped("RSCD correction is only for MIRI data")
        subarray, readpatt = str(ramp.attrs.get("SUBARRAY", "")), str(ramp.attrs.get("READPATT", ""))
        counts = rscd_group_skip(*_table_columns(references["rscd"]), subarray, readpatt)
        if counts is None:
            raise StepSkipped(f"READPATT {readpatt!r}, SUBARRAY {subarray!r} combination not found in the "
                              f"RSCD reference {references['rscd'].attrs.get('filename')}")
        groupdq = pixel_array(ramp, "GROUPDQ")
        nints, ngroups = groupdq.shape[:2]
        counts = rscd_skip_counts(*counts, integer_keyword(ramp, "NGROUPS", ngroups),
                                  integer_keyword(ramp, "NINTS", nints))
        if counts is None:
            raise StepSkipped("too few groups (< 3) to apply the RSCD flagging")
        groupdq, pixeldq = map_pixel_blocks(
            flag_rscd,
            [groupdq, pixel_array(ramp, "PIXELDQ")],
            [OutputSpec(np.uint8, (nints, ngroups)), OutputSpec(np.uint32)],
            name="rscd",
            skip_int1=counts[0],
            skip_int2p=counts[1],
            first_integration=integer_keyword(ramp, "INTSTART", 1) - 1,
        )
        return with_arrays(ramp, GROUPDQ=groupdq, PIXELDQ=pixeldq)


def _table_columns(reference: xr.Dataset) -> list[np.ndarray]:
    """The subarray, readpatt, group_skip1 and group_skip columns of the RSCD_GROUP_SKIP table."""
    names = [f"{TABLE}.{column}" for column in COLUMNS]
    missing = [name for name in names if name not in reference]
    if missing:
        raise JwstLazyInputError("RSCD reference lacks a table column", path=reference.attrs.get("filename"),
                                 where=missing[0], expected=f"a {TABLE} table with columns {', '.join(COLUMNS)}")
    return [np.asarray(reference[name].values) for name in names]
