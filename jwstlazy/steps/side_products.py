"""Side products: extra files a step writes beside the pipeline's products (upstream's ``save_mask``, ...).

A step that makes one attaches it, lazy, to its output under the attr :data:`SIDE_PRODUCTS_ATTR` (suffix ->
Dataset, e.g. ``{"mask": ...}``), with :func:`with_side_products`; later steps carry attrs along, and the
pipeline takes them out of its products' attrs and adds them to its products (:func:`collect_side_products`),
so they are written by graph tasks like any product, as ``<exposure>_<suffix>.fits``. A step lists the
suffixes its parameters ask for in ``Step.side_product_suffixes`` (the pipeline's ``output_suffixes`` include
them, so a rerun checks them too, except where the first product records the step as skipped for the exposure:
``graphs.execute.expected_products``).
"""

from __future__ import annotations

from collections.abc import Mapping

import xarray as xr

from jwstlazy.steps.base import without_attr

__all__ = ["SIDE_PRODUCTS_ATTR", "side_product", "with_side_products", "without_side_products", "collect_side_products"]

#: Attr holding a product's side products, suffix -> lazy Dataset (lower case: never a header keyword).
SIDE_PRODUCTS_ATTR = "side_products"


def side_product(exposure: xr.Dataset, product: str, dims: tuple[str, ...], sci, bunit: str | None = "DN") -> xr.Dataset:
    """A side product: ``sci`` (lazy) as its SCI with ``dims``, the exposure's header keywords, and ``product``
    (its schema's name, the file suffix) to write it as; ``bunit`` None for unitless data (masks)."""
    attrs = {key: value for key, value in exposure.attrs.items() if key.isupper()}
    return xr.Dataset({"SCI": (dims, sci, {"BUNIT": bunit} if bunit else {})}, attrs={**attrs, "product": product})


def with_side_products(ds: xr.Dataset, products: Mapping[str, xr.Dataset]) -> xr.Dataset:
    """A shallow copy of ``ds`` also carrying ``products`` (suffix -> Dataset) as side products."""
    out = ds.copy(deep=False)
    out.attrs = {**ds.attrs, SIDE_PRODUCTS_ATTR: {**ds.attrs.get(SIDE_PRODUCTS_ATTR, {}), **products}}
    return out


def without_side_products(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without its side products (``ds`` itself when it has none)."""
    return without_attr(ds, SIDE_PRODUCTS_ATTR)


def collect_side_products(products: Mapping[str, xr.Dataset]) -> dict[str, xr.Dataset]:
    """``products`` (suffix -> Dataset) without side products in their attrs, plus those side products under
    their own suffixes (one product's suffix is never replaced by a side product)."""
    found: dict[str, xr.Dataset] = {}
    for ds in products.values():
        if isinstance(ds, xr.Dataset):
            found.update(ds.attrs.get(SIDE_PRODUCTS_ATTR, {}))
    stripped = {suffix: without_side_products(ds) for suffix, ds in products.items()}
    return {**stripped, **{suffix: ds for suffix, ds in found.items() if suffix not in stripped}}
