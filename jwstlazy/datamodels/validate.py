"""Schema checks of a product Dataset: variables, dims, dtypes, required keywords, known instrument.

Only metadata is inspected (shapes, dtypes, attrs), so validating a lazy dataset reads no pixels.
"""

from __future__ import annotations

import numbers
import os

import xarray as xr

from jwstlazy.datamodels.schemas import INSTRUMENTS, schema_for
from jwstlazy.errors import JwstLazyInputError

#: Keywords that must be whole numbers / real numbers when present.
_INTEGER_KEYWORDS = ("NINTS", "NGROUPS", "NFRAMES", "GROUPGAP", "SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2",
                     "INTSTART", "INTEND")  # fmt: skip
_REAL_KEYWORDS = ("TFRAME", "TGROUP")


def validate(ds: xr.Dataset, product: str | None = None, path: str | os.PathLike | None = None) -> None:
    """Raise JwstLazyInputError (naming ``path``, the extension/keyword and the expectation) on a problem.

    ``product`` defaults to ``ds.attrs['product']`` and ``path`` to ``ds.attrs['filename']``. Products
    without a schema get only the keyword checks.
    """
    product = product if product is not None else ds.attrs.get("product")
    path = path if path is not None else ds.attrs.get("filename")
    schema = schema_for(product)
    if schema is not None:
        _check_variables(ds, schema, path)
        for keyword in schema.required_keywords:
            if ds.attrs.get(keyword) is None:
                raise JwstLazyInputError(f"missing required keyword for a {product} product", path, keyword,
                                         "a value in the PRIMARY or SCI header")  # fmt: skip
    _check_keyword_types(ds, path)
    instrument = ds.attrs.get("INSTRUME")
    if instrument is not None and str(instrument).strip().upper() not in INSTRUMENTS:
        raise JwstLazyInputError(f"unknown instrument {instrument!r}", path, "INSTRUME",
                                 "one of " + ", ".join(sorted(INSTRUMENTS)))  # fmt: skip
    _check_readout_shape(ds, path)


def _check_variables(ds: xr.Dataset, schema, path) -> None:
    for name, spec in schema.variables.items():
        expected = f"{spec.dtype} array with dims ({', '.join(spec.dims)})"
        if name not in ds.variables:
            if spec.required:
                raise JwstLazyInputError(f"missing extension for a {schema.name} product", path, name, expected)
            continue
        variable = ds[name]
        if variable.dims != spec.dims and variable.dims not in spec.other_dims:
            raise JwstLazyInputError(
                f"has {variable.ndim} dimensions {variable.dims} of shape {variable.shape}", path, name, expected)
        if variable.dtype != spec.dtype:
            raise JwstLazyInputError(f"has dtype {variable.dtype}", path, name, expected)


def _check_keyword_types(ds: xr.Dataset, path) -> None:
    for keyword in _INTEGER_KEYWORDS + _REAL_KEYWORDS:
        value = ds.attrs.get(keyword)
        if value is None:
            continue
        wanted = numbers.Integral if keyword in _INTEGER_KEYWORDS else numbers.Real
        if isinstance(value, bool) or not isinstance(value, wanted):
            kind = "an integer" if wanted is numbers.Integral else "a number"
            raise JwstLazyInputError(f"value {value!r} has the wrong type", path, keyword, kind)


def _check_readout_shape(ds: xr.Dataset, path) -> None:
    """NGROUPS (and NINTS, or INTEND-INTSTART+1 for segments) must match the SCI array of ramps."""
    if "SCI" not in ds.variables or "group" not in ds["SCI"].dims:
        return
    sizes = ds["SCI"].sizes
    ngroups = ds.attrs.get("NGROUPS")
    if ngroups is not None and ngroups != sizes["group"]:
        raise JwstLazyInputError(f"NGROUPS={ngroups} disagrees with the SCI shape {ds['SCI'].shape}", path,
                                 "NGROUPS", f"{sizes['group']} (the SCI group axis)")  # fmt: skip
    start, end, nints = (ds.attrs.get(k) for k in ("INTSTART", "INTEND", "NINTS"))
    expected_ints = end - start + 1 if start is not None and end is not None else nints
    if expected_ints is not None and "integration" in sizes and expected_ints != sizes["integration"]:
        keyword = "INTSTART/INTEND" if start is not None and end is not None else "NINTS"
        problem = f"{keyword} gives {expected_ints} integrations but SCI has shape {ds['SCI'].shape}"
        raise JwstLazyInputError(problem, path, keyword, f"{sizes['integration']} integrations")
