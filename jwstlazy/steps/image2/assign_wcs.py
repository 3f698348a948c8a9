"""The ``assign_wcs`` step (imaging): build the exposure's gwcs and write S_REGION.

The gwcs (``detector`` → ``v2v3`` → ``v2v3vacorr`` → ``world``) comes from :func:`jwstlazy.wcs.imaging_wcs`,
with the DISTORTION reference when given (``"N/A"``: the SIAF distortion of DETECTOR). It is kept in the
lower-case attr ``wcs`` (not a FITS keyword): :func:`jwstlazy.graphs.product_files.extra_hdus_for` stores it
in the ``ASDF`` extension, where the official datamodels read it as ``meta.wcs``. Only headers are used:
nothing is computed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.wcs import footprint, imaging_wcs, s_region

#: Attr holding the exposure's gwcs object (lower case: jwstlazy metadata, never a FITS keyword).
WCS_ATTR = "wcs"

#: Exposure types whose WCS is an imaging one (detector → sky), as ``jwst.assign_wcs`` treats them.
IMAGING_EXP_TYPES = frozenset({
    "NRC_IMAGE", "NRC_TACQ", "NRC_TACONFIRM", "NRC_FOCUS", "NRC_CORON", "NRC_TSIMAGE",
    "NIS_IMAGE", "NIS_AMI", "NIS_TACQ", "NIS_TACONFIRM", "NIS_FOCUS",
    "MIR_IMAGE", "MIR_TACQ", "MIR_LYOT", "MIR_4QPM", "MIR_CORONCAL", "MIR_TACONFIRM",
    "FGS_IMAGE", "FGS_FOCUS",
})  # fmt: skip


class AssignWcsStep(Step):
    """Attach the imaging gwcs (attr ``wcs``) and the S_REGION footprint keyword."""

    name = "assign_wcs"
    keyword = "WCS"
    reference_types = ("distortion",)

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, data: xr.Dataset, references: Mapping[str, xr.Dataset | None]) -> xr.Dataset:
        exp_type = str(data.attrs.get("EXP_TYPE", "")).strip().upper()
        if exp_type not in IMAGING_EXP_TYPES:
            raise JwstLazyInputError(f"EXP_TYPE {exp_type!r} is not an imaging mode",
                                     path=data.attrs.get("filename"), where="EXP_TYPE",
                                     expected="one of " + ", ".join(sorted(IMAGING_EXP_TYPES)))
        distortion = references.get("distortion")
        distortion_path = distortion.attrs["filename"] if distortion is not None else None
        attrs = {**data.attrs}
        attrs.setdefault("SUBSIZE1", data.sizes["x"])
        attrs.setdefault("SUBSIZE2", data.sizes["y"])
        wcs = imaging_wcs(attrs, distortion_path)
        shape = data.sizes["y"], data.sizes["x"]
        out = data.copy(deep=False)
        out.attrs = {**data.attrs, WCS_ATTR: wcs, "S_REGION": s_region(footprint(wcs, shape))}
        return out
