"""Product schemas: which variables, dims, dtypes, units and keywords each JWST product has.

A schema describes an ``xarray.Dataset`` product (see ``docs/architecture.md``). Later work adds a product
(``i2d``, ``x1d``, ...) by calling :func:`register` with a new :class:`ProductSchema`. Products without a
schema are read and written generically (every image extension a variable, every table its columns).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np

#: Instruments the pipeline knows (value of the INSTRUME keyword).
INSTRUMENTS: frozenset[str] = frozenset({"NIRCAM", "NIRISS", "NIRSPEC", "MIRI", "FGS"})

#: Keywords the official files keep in the SCI extension header (stdatamodels core, bunit, photometry and
#: wcsinfo schemas, ``fits_hdu: SCI``); every other header keyword lives in PRIMARY.
SCI_HEADER_KEYWORDS: frozenset[str] = frozenset(
    """
    BUNIT SRCTYPE MJD-BEG MJD-AVG MJD-END TDB-BEG TDB-MID TDB-END XPOSURE TELAPSE
    REFFRAME EPH_TYPE EPH_TIME JWST_X JWST_Y JWST_Z JWST_DX JWST_DY JWST_DZ
    OBSGEO-X OBSGEO-Y OBSGEO-Z OBSGEODX OBSGEODY OBSGEODZ
    PHOTMJSR PHOTUJA2 PIXAR_SR PIXAR_A2
    RADESYS PA_APER RA_V1 DEC_V1 PA_V3 VA_SCALE WCSAXES S_REGION
    CD1_1 CD1_2 CD2_1 CD2_2 PS3_0 PS3_1 WAVSTART WAVEND DISPAXIS SPORDER
    V2_REF V3_REF VPARITY V3I_YANG RA_REF DEC_REF ROLL_REF VELOSYS SPECSYS XREF_SCI YREF_SCI
    MT_RA MT_DEC MT_AVRA MT_AVDEC A_ORDER B_ORDER AP_ORDER BP_ORDER
    """.split()
)

#: Patterns of indexed WCS keywords that also live in SCI: CRPIXn, CRVALn, CTYPEn, CUNITn, CDELTn, PCi_j and
#: the SIP distortion coefficients A_p_q, B_p_q, AP_p_q, BP_p_q.
_SCI_KEYWORD_PATTERN = re.compile(r"^(CRPIX|CRVAL|CTYPE|CUNIT|CDELT)\d$|^PC\d_\d$|^(A|B|AP|BP)_\d_\d$")


def is_sci_keyword(keyword: str) -> bool:
    """True when the official layout keeps ``keyword`` in the SCI extension header (else PRIMARY)."""
    return keyword in SCI_HEADER_KEYWORDS or bool(_SCI_KEYWORD_PATTERN.match(keyword))


@dataclass(frozen=True)
class VariableSpec:
    """One data variable (FITS image extension) of a product.

    ``dims`` are numpy-order dimension names; ``dtype`` the exact numpy dtype; ``bunit`` the default BUNIT
    written when the variable has none (``None``: no BUNIT).
    """

    dims: tuple[str, ...]
    dtype: np.dtype
    required: bool = True
    bunit: str | None = None
    other_dims: tuple[tuple[str, ...], ...] = ()  #: other accepted dims (e.g. a mask per integration)

    def dims_for(self, ndim: int) -> tuple[str, ...] | None:
        """The accepted dims with ``ndim`` axes, or None."""
        return next((dims for dims in (self.dims, *self.other_dims) if len(dims) == ndim), None)


@dataclass(frozen=True)
class ProductSchema:
    """A product: its name (file suffix), official datamodel name, variables and required keywords.

    ``tables`` lists the BinTable extensions written after the images, in order, when present.
    """

    name: str
    datamodel: str
    variables: dict[str, VariableSpec]
    required_keywords: tuple[str, ...]
    tables: tuple[str, ...] = ("INT_TIMES",)
    description: str = ""
    #: official datamodel by the number of SCI axes, where it differs from ``datamodel`` (a mask per integration
    #: is a CubeModel)
    datamodel_by_ndim: tuple[tuple[int, str], ...] = ()

    def datamodel_for(self, sci_ndim: int | None) -> str:
        """The official datamodel name of a product whose SCI has ``sci_ndim`` axes."""
        return dict(self.datamodel_by_ndim).get(sci_ndim, self.datamodel)


def _spec(dims: str, dtype, required: bool = True, bunit: str | None = None, other_dims: tuple[str, ...] = ()) -> VariableSpec:
    return VariableSpec(tuple(dims.split()), np.dtype(dtype), required, bunit, tuple(tuple(d.split()) for d in other_dims))


_EXPOSURE_KEYWORDS = ("INSTRUME", "DETECTOR", "EXP_TYPE")
_READOUT_KEYWORDS = _EXPOSURE_KEYWORDS + (
    "NINTS", "NGROUPS", "NFRAMES", "GROUPGAP", "TFRAME", "TGROUP", "READPATT",
    "SUBARRAY", "SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2",
)  # fmt: skip


def _image_products(name: str, lead: str, datamodel: str, unit: str, calibrated: bool) -> ProductSchema:
    """rate/rateints/cal/calints: SCI, ERR, DQ, VAR_* on dims ``lead + y x``."""
    dims = f"{lead} y x".strip()
    variables = {
        "SCI": _spec(dims, np.float32, bunit=unit),
        "ERR": _spec(dims, np.float32, bunit=unit),
        "DQ": _spec(dims, np.uint32),
        "VAR_POISSON": _spec(dims, np.float32, bunit=f"({unit})^2"),
        "VAR_RNOISE": _spec(dims, np.float32, bunit=f"({unit})^2"),
    }
    if calibrated:
        variables["VAR_FLAT"] = _spec(dims, np.float32, required=False, bunit=f"({unit})^2")
        variables["AREA"] = _spec("y x", np.float32, required=False)
    return ProductSchema(name, datamodel, variables, _EXPOSURE_KEYWORDS)


#: Known products by name (the file-name suffix, e.g. ``rate`` for ``*_rate.fits``).
SCHEMAS: dict[str, ProductSchema] = {}


def register(schema: ProductSchema) -> ProductSchema:
    """Add (or replace) a product schema; returns it."""
    SCHEMAS[schema.name] = schema
    return schema


register(
    ProductSchema(
        "uncal",
        "Level1bModel",
        {
            "SCI": _spec("integration group y x", np.uint16, bunit="DN"),
            "ZEROFRAME": _spec("integration y x", np.uint16, required=False, bunit="DN"),
            "REFOUT": _spec("integration group y x_refout", np.uint16, required=False, bunit="DN"),
        },
        _READOUT_KEYWORDS,
        tables=("GROUP", "INT_TIMES"),
        description="raw ramps (level 1b)",
    )
)
register(
    ProductSchema(
        "ramp",
        "RampModel",
        {
            "SCI": _spec("integration group y x", np.float32, bunit="DN"),
            "PIXELDQ": _spec("y x", np.uint32),
            "GROUPDQ": _spec("integration group y x", np.uint8),
            "ERR": _spec("integration group y x", np.float32, required=False, bunit="DN"),
            "ZEROFRAME": _spec("integration y x", np.float32, required=False, bunit="DN"),
            "REFOUT": _spec("integration group y x_refout", np.float32, required=False, bunit="DN"),
        },
        _READOUT_KEYWORDS,
        tables=("GROUP", "INT_TIMES"),
        description="corrected ramps",
    )
)
register(_image_products("rate", "", "ImageModel", "DN/s", calibrated=False))
register(_image_products("rateints", "integration", "CubeModel", "DN/s", calibrated=False))
register(_image_products("cal", "", "ImageModel", "MJy/sr", calibrated=True))
register(_image_products("calints", "integration", "CubeModel", "MJy/sr", calibrated=True))

# steps' side products (clean_flicker_noise's save_mask/save_background/save_noise, picture_frame's
# save_mask/save_correction), as upstream's models of them: a mask image, or per-group images
register(ProductSchema("mask", "ImageModel", {"SCI": _spec("y x", np.float32, other_dims=("integration y x",))},
                       _EXPOSURE_KEYWORDS, tables=(), datamodel_by_ndim=((3, "CubeModel"),),
                       description="clean_flicker_noise scene mask (1 = background used for the fit), or one per integration"))
register(ProductSchema("pctfrm_mask", "ImageModel", {"SCI": _spec("y x", np.float32)}, _EXPOSURE_KEYWORDS, tables=(),
                       description="picture_frame background mask (1 = background)"))
for _name, _what in (("flicker_bkg", "clean_flicker_noise background per group"),
                     ("flicker_noise", "clean_flicker_noise fitted noise per group"),
                     ("pctfrm_correction", "picture_frame correction per group (output - input)")):
    register(ProductSchema(_name, "RampModel", {"SCI": _spec("integration group y x", np.float32, bunit="DN")},
                           _READOUT_KEYWORDS, tables=(), description=_what))

#: Official DATAMODL value -> product name, used when the file name has no known suffix.
_PRODUCT_OF_DATAMODEL = {"Level1bModel": "uncal", "RampModel": "ramp", "ImageModel": "rate", "CubeModel": "rateints"}

_SUFFIX = re.compile(r"_([A-Za-z0-9]+)\.(fits|fits\.gz|fit|zarr)/?$")


def product_from_filename(path: str | os.PathLike) -> str | None:
    """The product suffix of a file name (``'rate'`` for ``jw..._rate.fits``; a known suffix with an underscore,
    ``'flicker_noise'``, whole), or None."""
    match = _SUFFIX.search(os.fspath(path).rstrip("/"))
    if not match:
        return None
    before = os.fspath(path).rstrip("/")[: match.start()].lower()
    for name in SCHEMAS:
        head, _, tail = name.rpartition("_")
        if head and tail == match.group(1).lower() and before.endswith("_" + head):
            return name
    return match.group(1).lower()


def detect_product(path: str | os.PathLike, keywords: dict) -> str:
    """Product name from the file-name suffix, else from DATAMODL (and S_PHOTOM), else the suffix or ''."""
    suffix = product_from_filename(path)
    if suffix in SCHEMAS:
        return suffix
    product = _PRODUCT_OF_DATAMODEL.get(str(keywords.get("DATAMODL", "")))
    if product in ("rate", "rateints") and keywords.get("S_PHOTOM") == "COMPLETE":
        product = "cal" if product == "rate" else "calints"
    return product or suffix or ""


def schema_for(product: str | None) -> ProductSchema | None:
    """The registered schema of ``product``, or None for generic products."""
    return SCHEMAS.get(product or "")
