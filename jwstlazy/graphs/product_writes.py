"""Graph tasks that write products: a lazy product Dataset becomes one task returning only its path.

A product's dask-backed variables are handed to the write task as plain dask arrays, with a small
picklable :class:`ProductLayout` holding everything else (dims, attrs, the numpy variables, the order).
Dask computes the arrays on the workers and the task rebuilds the Dataset there and writes it atomically
(:func:`jwstlazy.graphs.product_files.write_fits_with_wcs`), so the client never holds pixels.

Passing the arrays rather than the Dataset itself is also required: with xarray 2026.9 and dask 2026.8,
``dask.compute(dataset)`` (and so ``dask.delayed(f)(dataset)``) fails with "Missing dependency" whenever
two variables share an intermediate result, as a rate's SCI and ERR always do.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import xarray as xr
from dask.base import tokenize
from dask.delayed import Delayed


@dataclass(frozen=True)
class ProductLayout:
    """Everything about a product except its dask arrays: enough to rebuild the Dataset in a task."""

    attrs: dict[str, Any]
    order: tuple[str, ...]  #: variable names, coordinates first, in the Dataset's order
    coords: frozenset[str]
    lazy: dict[str, tuple[tuple[str, ...], dict[str, Any]]]  #: name -> (dims, attrs) of dask-backed variables
    eager: dict[str, xr.Variable]  #: numpy-backed variables (tables, small coordinates)

    def rebuild(self, arrays: dict[str, Any]) -> xr.Dataset:
        """The Dataset again, with the computed ``arrays`` in place of the dask-backed variables."""
        variables = {
            name: xr.Variable(self.lazy[name][0], arrays[name], self.lazy[name][1]) if name in self.lazy else self.eager[name]
            for name in self.order
        }
        data = {name: variable for name, variable in variables.items() if name not in self.coords}
        coords = {name: variable for name, variable in variables.items() if name in self.coords}
        return xr.Dataset(data, coords=coords, attrs=dict(self.attrs))


def split_product(ds: xr.Dataset) -> tuple[ProductLayout, dict[str, Any]]:
    """``ds`` as a :class:`ProductLayout` plus its dask arrays by variable name."""
    arrays = {name: var.data for name, var in ds.variables.items() if dask.is_dask_collection(var.data)}
    layout = ProductLayout(
        attrs=dict(ds.attrs),
        order=tuple(ds.coords) + tuple(ds.data_vars),
        coords=frozenset(ds.coords),
        lazy={name: (ds.variables[name].dims, dict(ds.variables[name].attrs)) for name in arrays},
        eager={name: var for name, var in ds.variables.items() if name not in arrays},
    )
    return layout, arrays


def write_product(layout: ProductLayout, arrays: dict[str, Any], path: str) -> str:
    """Graph task: rebuild the computed product and write it atomically; returns its path (never pixels)."""
    from jwstlazy.graphs.product_files import write_fits_with_wcs  # a gwcs in attrs["wcs"] -> ASDF extension

    return os.fspath(write_fits_with_wcs(layout.rebuild(arrays), path, overwrite=True))


def write_task(ds: xr.Dataset, path: Path) -> Delayed:
    """The lazy task writing product ``ds`` to ``path``; its key starts with ``write-<file name>``."""
    layout, arrays = split_product(ds)
    key = f"write-{path.name}-{tokenize(arrays, layout.order, os.fspath(path))}"
    return dask.delayed(write_product, pure=True)(layout, arrays, os.fspath(path), dask_key_name=key)
