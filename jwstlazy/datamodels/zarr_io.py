"""zarr 3 stores of product Datasets: the working format for chunked, cluster-side reads and writes.

Stores are compressed (zarr's default zstd), chunked like the dask chunks, and round-trip exactly
(values, dtypes, variable and dataset attrs). Writing goes to a temporary folder next to the target
that is renamed into place at the end and removed on any failure.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
import warnings
from collections.abc import Mapping
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.schemas import product_from_filename
from jwstlazy.datamodels.validate import validate
from jwstlazy.errors import JwstLazyInputError


def is_zarr_store(path: str | os.PathLike) -> bool:
    """True for a folder holding a zarr (v3 ``zarr.json`` or v2 ``.zgroup``) group."""
    path = Path(path)
    return path.is_dir() and ((path / "zarr.json").is_file() or (path / ".zgroup").is_file())


def open_zarr(path: str | os.PathLike, chunks: Mapping | None = None) -> xr.Dataset:
    """Open a zarr store lazily (dask arrays with the stored chunks unless ``chunks`` overrides) and validate."""
    path = Path(path)
    if not is_zarr_store(path):
        raise JwstLazyInputError("folder is not a zarr store", path, expected="a zarr group (zarr.json) or a file")
    if chunks is not None and not isinstance(chunks, Mapping):
        raise JwstLazyInputError("chunks must be a dict by dim name", path, "chunks", "e.g. {'y': 512}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            ds = xr.open_zarr(path, chunks={} if chunks is None else dict(chunks), consolidated=False,
                              mask_and_scale=False, decode_times=False, zarr_format=None)  # fmt: skip
    except (ValueError, KeyError, OSError) as error:
        raise JwstLazyInputError(f"unreadable zarr store ({error})", path,
                                 expected="a store written by write_zarr") from None  # fmt: skip
    ds.attrs.setdefault("product", product_from_filename(path) or "")
    ds.attrs["filename"] = os.fspath(path)
    validate(ds, ds.attrs["product"], path)
    return ds


def write_zarr(ds: xr.Dataset, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write ``ds`` as a zarr 3 store at ``path`` (atomic); returns the path."""
    path = Path(path)
    if path.exists() and not (overwrite and is_zarr_store(path)):
        raise JwstLazyInputError("output already exists", path,
                                 expected="a new path, or overwrite=True for an existing zarr store")  # fmt: skip
    if not path.parent.is_dir():
        raise JwstLazyInputError("output folder does not exist", path, expected="an existing folder")
    prepared = _prepared(ds, path)
    temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*does not have a Zarr V3 specification.*")
            encoding = {name: {"_FillValue": None} for name in prepared.variables}
            prepared.to_zarr(temporary, mode="w-", zarr_format=3, consolidated=False, encoding=encoding)
        if path.exists():
            shutil.rmtree(path)
        os.replace(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return path


def _prepared(ds: xr.Dataset, path: Path) -> xr.Dataset:
    """A copy with JSON-safe attrs, no stale encodings and regular dask chunks (zarr needs them)."""
    out = ds.copy(deep=False)
    out.attrs = {key: _json_safe(value, key, path) for key, value in ds.attrs.items() if key != "filename"}
    for name, variable in list(out.variables.items()):
        variable.encoding = {}
        variable.attrs = {key: _json_safe(value, f"{name}.{key}", path) for key, value in variable.attrs.items()}
        if isinstance(variable.data, da.Array) and not _regular(variable.data.chunks):
            out[name] = variable.chunk({dim: max(sizes) for dim, sizes in zip(variable.dims, variable.data.chunks)})
    return out


def _regular(chunks: tuple[tuple[int, ...], ...]) -> bool:
    """True when every chunk but the last of each axis has the same size and the last is not larger."""
    return all(len(set(sizes[:-1])) <= 1 and (len(sizes) < 2 or sizes[-1] <= sizes[0]) for sizes in chunks)


def _json_safe(value, where: str, path: Path):
    if isinstance(value, np.generic):
        value = value.item()
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        raise JwstLazyInputError(f"attribute of type {type(value).__name__} cannot be stored", path, where,
                                 "JSON-serialisable values (bool, int, float, str, None, lists)") from None  # fmt: skip
    return value
