"""The detector → V2/V3 distortion model, built from SIAF or read from a DISTORTION reference file.

Input: 0-based full-frame detector pixels (x, y) in DMS orientation. Output: V2, V3 in arcsec.
The model carries its analytic inverse (V2/V3 → detector) from the SIAF Idl2Sci polynomials.

A DISTORTION reference file (CRDS ``reftype: distortion``) is an ASDF file whose tree holds the model
under ``model`` and the metadata under ``meta`` (``meta.input_units = pix``, ``meta.output_units =
arcsec``, ``meta.instrument.name/detector``, ``meta.reftype``, ...), as the official
``stdatamodels.jwst.datamodels.DistortionModel`` reads it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping as MappingABC
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.modeling import Model
from astropy.modeling.models import AffineTransformation2D, Mapping, Polynomial2D, Shift

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.wcs.siaf import ApertureGeometry

#: DETECTOR keyword → (MODULE, CHANNEL) for NIRCam, which the official DistortionModel requires.
_NIRCAM_MODULE_CHANNEL = {
    **{f"NRC{m}{n}": (m, "SHORT") for m in "AB" for n in "1234"},
    "NRCALONG": ("A", "LONG"),
    "NRCBLONG": ("B", "LONG"),
}


def _polynomial_pair(x_coefficients: dict[str, float], y_coefficients: dict[str, float],
                     degree: int) -> Model:
    """(x, y) → (X(x, y), Y(x, y)) from two Polynomial2D coefficient dicts."""
    return Mapping((0, 1, 0, 1)) | (
        Polynomial2D(degree, **x_coefficients) & Polynomial2D(degree, **y_coefficients)
    )


def ideal_to_v2v3(geometry: ApertureGeometry) -> AffineTransformation2D:
    """Ideal (arcsec) → V2/V3 (arcsec): rotation by V3IdlYAngle with VIdlParity, then +V2Ref/V3Ref.

    The planar approximation used by the SIAF and the official pipeline.
    """
    angle = np.deg2rad(geometry.v3_idl_y_angle)
    parity = geometry.vidl_parity
    matrix = [[parity * np.cos(angle), np.sin(angle)],
              [-parity * np.sin(angle), np.cos(angle)]]
    return AffineTransformation2D(
        matrix=matrix, translation=[geometry.v2_ref, geometry.v3_ref], name="idl2v2v3"
    )


def _sci_offset_grid(geometry: ApertureGeometry, n: int, inset: float) -> tuple[np.ndarray, np.ndarray]:
    """An n×n grid of sci offsets from the reference point (pix) over the aperture's pixel edges."""
    x = np.linspace(0.5 + inset, geometry.x_sci_size + 0.5 - inset, n) - geometry.x_sci_ref
    y = np.linspace(0.5 + inset, geometry.y_sci_size + 0.5 - inset, n) - geometry.y_sci_ref
    return tuple(np.meshgrid(x, y))


def _term_degree(coefficient_name: str) -> int:
    """Total degree p + q of the Polynomial2D coefficient ``c{p}_{q}``."""
    p, q = coefficient_name[1:].split("_")
    return int(p) + int(q)


def _inverse_error(sci_to_idl: Model, idl_to_sci: Model, geometry: ApertureGeometry) -> float:
    """Largest |idl_to_sci(sci_to_idl(p)) − p| (pix) on a check grid over the aperture."""
    x, y = _sci_offset_grid(geometry, 77, inset=0.2)
    x_back, y_back = idl_to_sci(*sci_to_idl(x, y))
    return float(np.hypot(x_back - x, y_back - y).max())


def _fit_idl_to_sci(sci_to_idl: Model, geometry: ApertureGeometry, tolerance: float,
                    max_degree: int = 9) -> Model:
    """Least-squares ideal → sci-offset polynomials of the lowest degree meeting ``tolerance`` (pix).

    Fitted on normalised ideal coordinates for conditioning, then rescaled to arcsec so the result
    is a plain Polynomial2D pair like the SIAF's.
    """
    from astropy.modeling.fitting import LinearLSQFitter

    x, y = _sci_offset_grid(geometry, 60, inset=0.0)
    x_idl, y_idl = sci_to_idl(x, y)
    norm = float(max(np.abs(x_idl).max(), np.abs(y_idl).max()))
    fitter = LinearLSQFitter()
    for degree in range(geometry.degree, max_degree + 1):
        pair = []
        for target in (x, y):
            fitted = fitter(Polynomial2D(degree), x_idl / norm, y_idl / norm, target)
            pair.append({name: value / norm ** _term_degree(name)
                         for name, value in zip(fitted.param_names, fitted.parameters)})
        idl_to_sci = _polynomial_pair(pair[0], pair[1], degree)
        if _inverse_error(sci_to_idl, idl_to_sci, geometry) <= tolerance:
            break
    return idl_to_sci


def siaf_distortion(geometry: ApertureGeometry, inverse_tolerance: float = 1e-3) -> Model:
    """Detector (0-based full-frame pixels) → V2/V3 (arcsec) for a full-frame SIAF aperture.

    Forward: Shift(+1) (to 1-based sci), Shift(−XSciRef, −YSciRef), Sci2Idl polynomials, ideal →
    V2/V3. Inverse: V2/V3 → ideal, Idl2Sci polynomials, Shift(+XSciRef − 1, +YSciRef − 1).
    Where the SIAF Idl2Sci polynomials round-trip worse than ``inverse_tolerance`` pixels (MIRI,
    NIRISS, FGS: 0.05–0.2 pix), they are replaced by a least-squares fit of higher degree.
    """
    to_one_based = Shift(1.0) & Shift(1.0)
    about_reference = Shift(-geometry.x_sci_ref) & Shift(-geometry.y_sci_ref)
    sci_to_idl = _polynomial_pair(geometry.sci_to_idl_x, geometry.sci_to_idl_y, geometry.degree)
    idl_to_tel = ideal_to_v2v3(geometry)
    forward = to_one_based | about_reference | sci_to_idl | idl_to_tel

    idl_to_sci = _polynomial_pair(geometry.idl_to_sci_x, geometry.idl_to_sci_y, geometry.degree)
    if _inverse_error(sci_to_idl, idl_to_sci, geometry) > inverse_tolerance:
        idl_to_sci = _fit_idl_to_sci(sci_to_idl, geometry, inverse_tolerance)
    backward = idl_to_tel.inverse | idl_to_sci | about_reference.inverse | to_one_based.inverse

    forward.inverse = backward
    forward.name = f"{geometry.name}_distortion"
    return forward


def write_distortion_reference(
    path: str | os.PathLike,
    model: Model,
    instrument: str,
    detector: str,
    *,
    exp_type: str | None = None,
    pupil: str = "ANY",
    useafter: str = "2022-01-01T00:00:00",
    description: str = "Distortion detector pixels to V2/V3, from SIAF polynomials (jwstlazy)",
    author: str = "jwstlazy",
) -> Path:
    """Write ``model`` (0-based detector pixels → V2/V3 arcsec) as a CRDS-style DISTORTION ASDF file.

    NIRCam files also get MODULE, CHANNEL and P_PUPIL, which the official ``DistortionModel``
    requires. Returns the path written.
    """
    import asdf

    instrument = instrument.upper()
    detector = detector.upper()
    instrument_meta: dict[str, str] = {"name": instrument, "detector": detector}
    if instrument == "NIRCAM":
        module, channel = _NIRCAM_MODULE_CHANNEL[detector]
        instrument_meta.update(module=module, channel=channel, p_pupil=f"{pupil}|")
    meta = {
        "reftype": "distortion",
        "telescope": "JWST",
        "instrument": instrument_meta,
        "input_units": u.pix,
        "output_units": u.arcsec,
        "author": author,
        "description": description,
        "pedigree": "DUMMY",
        "useafter": useafter,
        "model_type": "DistortionModel",
        "subarray": {"name": "GENERIC"},
    }
    if exp_type is not None:
        meta["exposure"] = {"type": exp_type, "p_exptype": f"{exp_type}|"}
    path = Path(path)
    asdf.AsdfFile({"meta": meta, "model": model}).write_to(path)
    return path


def read_distortion_reference(path: str | os.PathLike) -> Model:
    """The detector → V2/V3 model of a DISTORTION reference ASDF file.

    Checks ``meta.reftype`` (distortion), ``meta.input_units`` (pix) and ``meta.output_units``
    (arcsec); raises :class:`JwstLazyInputError` naming the entry otherwise.
    """
    import asdf

    path = Path(path)
    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            tree = dict(af.tree)
    except (OSError, ValueError) as error:
        raise JwstLazyInputError(f"cannot read ASDF file: {error}", path=path) from error
    meta = tree.get("meta")
    if not isinstance(meta, MappingABC):
        raise JwstLazyInputError("missing metadata", path=path, where="meta")
    reftype = str(meta.get("reftype", "")).lower()
    if reftype != "distortion":
        raise JwstLazyInputError(
            f"reference type is {reftype!r}", path=path, where="meta.reftype", expected="distortion"
        )
    for key, expected in (("input_units", u.pix), ("output_units", u.arcsec)):
        try:
            unit = u.Unit(meta.get(key))
        except (TypeError, ValueError):
            unit = None
        if unit != expected:
            raise JwstLazyInputError(
                f"units are {meta.get(key)!r}", path=path, where=f"meta.{key}",
                expected=str(expected),
            )
    model = tree.get("model")
    if not isinstance(model, Model) or model.n_inputs != 2 or model.n_outputs != 2:
        raise JwstLazyInputError(
            "no usable model", path=path, where="model", expected="an astropy model with 2 inputs "
            "and 2 outputs",
        )
    return model
