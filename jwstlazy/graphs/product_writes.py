"""Graph tasks that write products: a lazy product Dataset becomes tasks that fill its file block by block.

The file is planned on the client (:func:`jwstlazy.datamodels.fits_write.plan_fits`: headers, tables and
each image's byte offset; no pixel is computed). In the graph, one task creates the temporary file, one task
per block of each dask-backed image stores that block into its place as soon as the block is computed (so a
product is never assembled in one worker's memory, whatever its size), and the final task, keyed
``write-<file name>-...``, renames the complete file over the product and returns its path. The client never
holds pixels. Every task is idempotent, so dask may rerun any of them after a lost worker.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize
from dask.core import flatten
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from jwstlazy.datamodels.fits_write import FitsPlan, create_file, finish_file, image_target, plan_fits
from jwstlazy.graphs.product_files import extra_hdus_for


def write_task(ds: xr.Dataset, path: Path) -> Delayed:
    """The lazy task writing product ``ds`` to ``path``; its key starts with ``write-<file name>``."""
    plan = plan_fits(ds, path, overwrite=True, extra_hdus=extra_hdus_for(ds), check_target_now=False)
    token = tokenize(plan, [ds[slot.name].data for slot in plan.images])
    eager = {slot.name: np.asarray(ds[slot.name].data) for slot in plan.images
             if not dask.is_dask_collection(ds[slot.name].data)}  # fmt: skip
    created = dask.delayed(_create, pure=True)(plan, eager, dask_key_name=f"create-{path.name}-{token}")
    created_marker = da.from_delayed(created, shape=(), dtype=bool)
    by_chunks: dict[tuple, list[str]] = {}  # variables blocked alike are stored by the same tasks
    for slot in plan.images:
        if slot.name not in eager:
            by_chunks.setdefault(ds[slot.name].data.chunks, []).append(slot.name)
    stored = [
        da.map_blocks(_store_blocks, *[ds[name].data for name in names], created_marker, plan=plan,
                      variables=names, chunks=tuple((1,) * len(c) for c in chunks), dtype=bool,
                      token=f"store-{path.name}")  # fmt: skip
        for chunks, names in by_chunks.items()
    ]
    # the final task, written straight into the graph: it needs every store task's marker
    name = f"write-{path.name}-{token}"
    markers = [key for marker in stored for key in flatten(marker.__dask_keys__())]
    layer = {name: (_finish, plan, created.key, markers)}
    return Delayed(name, HighLevelGraph.from_collections(name, layer, dependencies=[created, *stored]))


def _create(plan: FitsPlan, eager: dict[str, np.ndarray]) -> bool:
    """Task: the temporary file with headers, tables and the numpy-backed images."""
    create_file(plan)
    for name, values in eager.items():
        image_target(plan, name)[...] = values
    return True


def _store_blocks(*blocks: Any, plan: FitsPlan, variables: list[str], block_info=None) -> np.ndarray:
    """Task: the same block of each image in ``variables`` (``blocks`` then the creation marker) into its
    place in the temporary file; returns a tiny marker."""
    where = tuple(slice(start, stop) for start, stop in block_info[0]["array-location"])
    for name, block in zip(variables, blocks):
        image_target(plan, name)[where] = block
    return np.ones((1,) * len(where), dtype=bool)


def _finish(plan: FitsPlan, created: bool, stored: list[np.ndarray]) -> str:
    """Task: every block is in place; the atomic rename. Returns the product's path (never pixels)."""
    return os.fspath(finish_file(plan))
