"""The reference-file types jwstlazy knows: how each is selected and what it must contain.

A reference type's *selectors* are the header keywords (besides INSTRUME) that CRDS rules use to pick a
file of that type for an exposure, the union over instruments of the CRDS ``parkey`` lists. A selector
only constrains the choice when both the reference header and the exposure carry it (see
:mod:`jwstlazy.references.finder`). *extensions* are the FITS extensions a file of that type must have.
*leading_dims* names the axes in front of ``(y, x)`` for detector-plane arrays with more than two
dimensions; when an array has fewer axes, the trailing names are used (a 3-D dark SCI gets ``group``).
*detector_ndim* is the fewest axes a detector-plane array of the type has (the IPC kernel is a small 2-D
image or a 4-D per-pixel cube: only the latter is cut to a subarray).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

#: Every exposure keyword that CRDS uses to select a JWST reference file (besides INSTRUME and the
#: observation date/time). Unknown reference types are matched on all of them.
SELECTOR_KEYWORDS: tuple[str, ...] = (
    "DETECTOR",
    "SUBARRAY",
    "READPATT",
    "EXP_TYPE",
    "FILTER",
    "PUPIL",
    "CHANNEL",
    "BAND",
    "MODULE",
    "GRATING",
    "CORONMSK",
    "NOUTPUTS",
)


@dataclass(frozen=True)
class ReferenceType:
    """One reference type: its CRDS name, selectors, required extensions and file format."""

    name: str
    description: str
    selectors: tuple[str, ...] = ("DETECTOR",)
    extensions: tuple[str, ...] = ()
    file_format: Literal["fits", "asdf"] = "fits"
    leading_dims: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    detector_ndim: int = 2


_DARK_AXES = ("integration", "group")
_KNOWN = (
    ReferenceType("mask", "bad-pixel mask (DQ uint32, full frame with reference pixels)",
                  ("DETECTOR", "SUBARRAY", "READPATT", "EXP_TYPE", "FILTER", "BAND"), ("DQ",)),
    ReferenceType("saturation", "saturation threshold in DN (SCI) and DQ",
                  ("DETECTOR", "SUBARRAY", "READPATT", "FILTER", "BAND"), ("SCI", "DQ")),
    ReferenceType("superbias", "superbias in DN (SCI, ERR) and DQ",
                  ("DETECTOR", "SUBARRAY", "READPATT", "GRATING"), ("SCI", "DQ")),
    ReferenceType("linearity", "polynomial coefficients COEFFS (ncoeffs, ny, nx), DQ",
                  ("DETECTOR", "SUBARRAY", "READPATT", "FILTER", "BAND"), ("COEFFS", "DQ"),
                  leading_dims={"COEFFS": ("coeff",), "INV_COEFFS": ("inv_coeff",)}),
    ReferenceType("dark", "dark current in DN per group: SCI (ngroups, ny, nx), MIRI 4-D",
                  ("DETECTOR", "SUBARRAY", "READPATT", "EXP_TYPE", "FILTER", "NOUTPUTS"), ("SCI",),
                  leading_dims={"SCI": _DARK_AXES, "ERR": _DARK_AXES, "DQ": _DARK_AXES}),
    ReferenceType("gain", "gain in e-/DN (SCI)",
                  ("DETECTOR", "SUBARRAY", "READPATT", "FILTER", "BAND"), ("SCI",)),
    ReferenceType("readnoise", "CDS read noise in DN (SCI)",
                  ("DETECTOR", "SUBARRAY", "READPATT", "FILTER", "BAND"), ("SCI",)),
    ReferenceType("flat", "pixel flat (SCI), DQ, ERR",
                  ("DETECTOR", "SUBARRAY", "FILTER", "PUPIL", "BAND", "GRATING", "EXP_TYPE"),
                  ("SCI", "DQ")),
    ReferenceType("area", "relative pixel area (SCI)",
                  ("DETECTOR", "SUBARRAY", "FILTER", "PUPIL", "EXP_TYPE"), ("SCI",)),
    ReferenceType("photom", "PHOTOM table (filter, pupil, photmjsr, uncertainty); PIXAR_SR in header",
                  ("DETECTOR", "EXP_TYPE", "BAND"), ("PHOTOM",)),
    ReferenceType("distortion", "ASDF model: 0-based detector pixels to V2/V3 arcsec",
                  ("DETECTOR", "EXP_TYPE", "CHANNEL", "FILTER", "PUPIL", "BAND"), file_format="asdf"),
    ReferenceType("filteroffset", "ASDF per-filter pointing offsets",
                  ("DETECTOR", "EXP_TYPE", "CHANNEL", "MODULE", "SUBARRAY"), file_format="asdf"),
    ReferenceType("ipc", "inter-pixel capacitance kernel (SCI, 2-D or 4-D)",
                  ("DETECTOR", "SUBARRAY"), ("SCI",),
                  leading_dims={"SCI": ("kernel_y", "kernel_x")}, detector_ndim=4),
    ReferenceType("persat", "persistence saturation in DN (SCI), DQ", ("DETECTOR",), ("SCI", "DQ")),
    ReferenceType("trapdensity", "trap density (SCI), DQ", ("DETECTOR",), ("SCI", "DQ")),
    ReferenceType("trappars", "TRAPPARS table of trap families", ("DETECTOR",), ("TRAPPARS",)),
    ReferenceType("refpix", "NIRSpec IRS2 reference-pixel coefficients", ("DETECTOR", "READPATT")),
    ReferenceType("sirskernel", "ASDF simple-improved reference subtraction kernels",
                  ("DETECTOR",), file_format="asdf"),
    ReferenceType("reset", "MIRI reset anomaly (SCI 4-D), DQ", ("DETECTOR", "SUBARRAY", "READPATT"),
                  ("SCI",), leading_dims={"SCI": _DARK_AXES, "ERR": _DARK_AXES}),
    ReferenceType("rscd", "MIRI RSCD_GROUP_SKIP table (subarray, readpatt, group_skip1, group_skip)",
                  ("DETECTOR",), ("RSCD_GROUP_SKIP",)),
    ReferenceType("lastframe", "MIRI last-frame correction (SCI)",
                  ("DETECTOR", "SUBARRAY", "READPATT"), ("SCI",)),
    ReferenceType("emicorr", "ASDF MIRI EMI frequencies and phase amplitudes", (), file_format="asdf"),
    ReferenceType("pictureframe", "NIRSpec thermal picture-frame rate image (SCI, full frame)", ("DETECTOR",),
                  ("SCI",)),
    ReferenceType("apcorr", "APCORR table (filter, pupil, eefraction, radius, apcorr, skyin, skyout)",
                  ("DETECTOR", "EXP_TYPE", "CHANNEL"), ("APCORR",)),
    ReferenceType("abvegaoffset", "ASDF table of AB minus Vega magnitudes per filter", (),
                  file_format="asdf"),
)

#: Known reference types by lower-case name.
REFERENCE_TYPES: dict[str, ReferenceType] = {t.name: t for t in _KNOWN}


def reference_type(name: str) -> ReferenceType:
    """The :class:`ReferenceType` called ``name`` (case-insensitive).

    An unknown name gives a permissive type: matched on every keyword of :data:`SELECTOR_KEYWORDS`,
    no required extensions, FITS format (ASDF files are still found by their metadata).
    """
    key = name.strip().lower()
    known = REFERENCE_TYPES.get(key)
    if known is not None:
        return known
    return ReferenceType(key, "reference type unknown to jwstlazy", SELECTOR_KEYWORDS)
