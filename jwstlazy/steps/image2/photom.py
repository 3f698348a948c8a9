"""The ``photom`` step (imaging): DN/s → MJy/sr with the PHOTOM table row of the exposure's FILTER/PUPIL.

As ``jwst.photom`` (jwst 3.0) for imaging: SCI and ERR × PHOTMJSR, VAR_* × PHOTMJSR²; PHOTMJSR and
PHOTUJA2 (µJy/arcsec² per DN/s) written; PIXAR_SR/PIXAR_A2 from the AREA reference's header (else the
PHOTOM reference's); the AREA reference's array attached as ``AREA`` (y, x); NaN and DO_NOT_USE made to
agree. Element-wise scaling by a scalar: plain dask arithmetic, no kernel.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import astropy.units as u
import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.invalid_pixels import match_nans_and_flags
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.image2.image_product import (
    bunit,
    pixel_array,
    reference_array,
    require_image,
    with_variables,
)

#: (MJy/sr) → (µJy/arcsec²)
MJSR_TO_UJA2 = float((u.MJy / u.sr).to(u.uJy / u.arcsec**2))

#: Columns matched against the exposure's keywords (when the table has them), as jwst does for NIRCam.
MATCH_COLUMNS = {"filter": "FILTER", "pupil": "PUPIL", "subarray": "SUBARRAY"}


def _column(reference: xr.Dataset, name: str) -> np.ndarray | None:
    for key in reference.data_vars:
        table, _, column = str(key).partition(".")
        if table == "PHOTOM" and column.lower() == name:
            return np.asarray(reference[key].values)
    return None


def conversion_factor(photom: xr.Dataset, attrs: Mapping) -> float:
    """PHOTMJSR ((MJy/sr) per (DN/s)) of the PHOTOM row matching FILTER, PUPIL (and SUBARRAY if a column).

    Raises JwstLazyInputError naming the reference file when no row, or several rows, match.
    """
    selected = None
    wanted = {}
    for column, keyword in MATCH_COLUMNS.items():
        values = _column(photom, column)
        if values is None:
            continue
        wanted[column] = str(attrs.get(keyword, "")).strip().upper()
        match = np.char.upper(np.char.strip(values.astype(str))) == wanted[column]
        selected = match if selected is None else selected & match
    photmjsr = _column(photom, "photmjsr")
    if photmjsr is None or selected is None:
        raise JwstLazyInputError("no photmjsr/filter columns", path=photom.attrs.get("filename"),
                                 where="PHOTOM", expected="a NIRCam/NIRISS/MIRI imaging PHOTOM table")
    rows = np.flatnonzero(selected)
    if len(rows) != 1:
        description = ", ".join(f"{k}={v!r}" for k, v in wanted.items())
        raise JwstLazyInputError(f"{len(rows)} rows match {description}", path=photom.attrs.get("filename"),
                                 where="PHOTOM", expected="exactly one matching row")
    return float(photmjsr[rows[0]])


def pixel_area_keywords(area: xr.Dataset | None, photom: xr.Dataset) -> dict[str, float]:
    """PIXAR_SR (sr) and PIXAR_A2 (arcsec²) from the AREA header, else from the PHOTOM header."""
    for source in (area, photom):
        if source is not None and source.attrs.get("PIXAR_SR") is not None:
            keywords = {"PIXAR_SR": float(source.attrs["PIXAR_SR"])}
            if source.attrs.get("PIXAR_A2") is not None:
                keywords["PIXAR_A2"] = float(source.attrs["PIXAR_A2"])
            return keywords
    return {}


def _scaled(conversion: float):
    """Block function: scale SCI/ERR by ``conversion``, VAR_* by its square, then match NaNs and flags."""

    def scale(dq, sci, err, *variances):
        values = [sci * np.float32(conversion), err * np.float32(conversion)]
        values += [var * np.float32(conversion * conversion) for var in variances]
        return match_nans_and_flags(dq, *values)

    return scale


class PhotomStep(Step):
    """Convert DN/s to MJy/sr (imaging), record the pixel area and attach the AREA array."""

    name = "photom"
    keyword = "PHOTOM"
    reference_types = ("photom", "area")

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, data: xr.Dataset, references: Mapping[str, xr.Dataset | None]) -> xr.Dataset:
        photom, area = references.get("photom"), references.get("area")
        if photom is None:
            raise StepSkipped("no PHOTOM reference (N/A)")
        require_image(data, self.name)
        conversion = conversion_factor(photom, data.attrs)
        variances = [n for n in ("VAR_POISSON", "VAR_RNOISE", "VAR_FLAT") if n in data]
        names = ["DQ", "SCI", "ERR", *variances]
        leading = data["SCI"].shape[:-2]
        outputs = map_pixel_blocks(
            _scaled(conversion),
            [pixel_array(data, n) for n in names],
            [OutputSpec(np.uint32, leading)] + [OutputSpec(np.float32, leading)] * (len(names) - 1),
        )
        keywords = {"PHOTMJSR": conversion, "PHOTUJA2": conversion * MJSR_TO_UJA2,
                    **pixel_area_keywords(area, photom)}
        result = with_variables(data, attrs=keywords, **dict(zip(names, outputs)))
        if area is not None:
            shape = data.sizes["y"], data.sizes["x"]
            chunks = pixel_array(data, "SCI").chunks[-2:]
            result["AREA"] = (("y", "x"), da.from_array(reference_array(area, "SCI", 1.0, shape), chunks=chunks))
        return bunit(result, "MJy/sr")
