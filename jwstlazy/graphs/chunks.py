"""Choosing pixel-block chunk sizes for a program from the detector size, the ramp length and worker memory.

A pipeline step works on all integrations and groups of a block of pixels at once (see
:mod:`jwstlazy.steps.chunked`), so one task's working set grows with ``nints * ngroups * block pixels``.
While a step runs, a task holds its input block and its output block in float32 with the group DQ and the
error arrays beside them: about :data:`WORKING_BYTES_PER_SAMPLE` bytes per raw sample. A worker runs
``threads`` tasks at a time and keeps some finished blocks in memory for the next step, so the block is
sized to use at most :data:`USABLE_MEMORY_FRACTION` of the worker's memory limit (dask.distributed
starts spilling to disk at 60 % and pauses a worker at 80 %) divided over
``threads * BLOCKS_IN_FLIGHT_PER_THREAD`` blocks, and never more than :data:`RAMP_CHUNK_BYTES` of raw data
per chunk (half the data model's default): with the graph optimised (``graphs/optimize.py``) a full-frame
NIRCam detector1 ran faster and in less memory with 128-row blocks than with 256-row ones (see
docs/performance.md). On a dask.distributed cluster every task also costs the scheduler and the client about a
millisecond of CPU, so blocks there may hold :data:`CLUSTER_RAMP_CHUNK_BYTES` (docs/scaling.md).

Blocks are whole detector rows when they fit (contiguous on disk), then rows are split in halves, as
:func:`jwstlazy.datamodels.chunking.default_chunks` does. Users override with ``--chunks``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import xarray as xr

from jwstlazy.datamodels.chunking import default_chunks
from jwstlazy.errors import JwstLazyInputError

WORKING_BYTES_PER_SAMPLE = 24  #: bytes of task memory per raw (uint16) sample while a step runs
USABLE_MEMORY_FRACTION = 0.5  #: share of a worker's memory limit the chunk working sets may use
BLOCKS_IN_FLIGHT_PER_THREAD = 2  #: blocks per thread resident at once (running + waiting for the next step)
RAW_SAMPLE_BYTES = 2  #: bytes of one uint16 raw sample
RAMP_CHUNK_BYTES = 8 * 2**20  #: most raw bytes per chunk (2048 x 128 pixels x 10 groups x 2 bytes = 5.2 MB)
CLUSTER_RAMP_CHUNK_BYTES = 16 * 2**20  #: the same on a dask.distributed cluster (256 rows of 10 groups)
#: Blocks thinner than this many rows (a long time series: 2 rows of 256 x 500 integrations x 10 groups fill
#: 8 MB) pay each task's fixed costs, the halos of the neighbour steps and one system call per row run on few
#: pixels; for them the cap above is doubled (the memory budget still bounds it).
MIN_BLOCK_ROWS = 4

_CHUNKS_EXPECTED = "'auto', 'N' (N x N pixel blocks), 'YxX', or dim=size pairs such as 'y=512,x=2048'"


def chunk_budget_bytes(memory_limit: int, threads_per_worker: int = 1, cluster: bool = False,
                       thin: bool = False) -> int:  # fmt: skip
    """Raw-data bytes one chunk may hold so that a worker's tasks stay within ``memory_limit`` (``cluster``:
    the run is on a dask.distributed cluster, where fewer, larger tasks pay; ``thin``: the blocks would be
    thinner than :data:`MIN_BLOCK_ROWS` rows, and the cap doubles)."""
    usable = memory_limit * USABLE_MEMORY_FRACTION / (max(1, threads_per_worker) * BLOCKS_IN_FLIGHT_PER_THREAD)
    cap = (CLUSTER_RAMP_CHUNK_BYTES if cluster else RAMP_CHUNK_BYTES) * (2 if thin else 1)
    return int(min(cap, usable * RAW_SAMPLE_BYTES / WORKING_BYTES_PER_SAMPLE))


def choose_chunks(ds: xr.Dataset, memory_limit: int, threads_per_worker: int = 1, cluster: bool = False) -> dict[str, int]:
    """Chunk size per dim for opening ``ds``'s file in a program run on workers with ``memory_limit`` bytes.

    All integrations and groups go into each chunk (``-1``), as the steps need them; ``y``/``x`` blocks are
    chosen by :func:`chunk_budget_bytes` (with its doubled cap where blocks would be thinner than
    :data:`MIN_BLOCK_ROWS` rows).
    """
    variables = {name: (var.dims, var.shape, var.dtype) for name, var in ds.data_vars.items() if "y" in var.dims}
    budget = chunk_budget_bytes(memory_limit, threads_per_worker, cluster)
    chunks = default_chunks(variables, target_bytes=max(1, budget))
    if chunks.get("y", -1) != -1 and chunks["y"] < MIN_BLOCK_ROWS:
        thin = chunk_budget_bytes(memory_limit, threads_per_worker, cluster, thin=True)
        chunks = default_chunks(variables, target_bytes=max(1, thin))
    return {dim: (-1 if dim in ("integration", "group") else size) for dim, size in chunks.items()}


def parse_chunks(text: str | None) -> dict[str, int] | None:
    """Read a ``--chunks`` value: ``None``/``'auto'`` (choose from memory), ``'512'``, ``'256x2048'`` or
    ``'y=256,x=2048'``; sizes are pixels (``-1``: the whole axis). Bad text raises JwstLazyInputError."""
    if text is None or text.strip().lower() in ("", "auto"):
        return None
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        chunks = {"y": int(text), "x": int(text)}
    elif match := re.fullmatch(r"(\d+)x(\d+)", text):
        chunks = {"y": int(match.group(1)), "x": int(match.group(2))}
    elif re.fullmatch(r"\w+=-?\d+(,\w+=-?\d+)*", text):
        chunks = {dim: int(size) for dim, size in (item.split("=") for item in text.split(","))}
    else:
        raise JwstLazyInputError(f"cannot read chunks {text!r}", where="--chunks", expected=_CHUNKS_EXPECTED)
    if any(size == 0 or size < -1 for size in chunks.values()):
        raise JwstLazyInputError(f"chunk sizes must be positive in {text!r}", where="--chunks", expected=_CHUNKS_EXPECTED)
    return chunks


def merged_chunks(chosen: Mapping[str, int], overrides: Mapping[str, int] | None) -> dict[str, int]:
    """``chosen`` with the user's ``overrides`` applied to the dims it has."""
    return {dim: (overrides or {}).get(dim, size) for dim, size in chosen.items()}


def chunk_bytes(ds: xr.Dataset) -> int:
    """Bytes of the largest chunk of any dask-backed variable of ``ds`` (for reports and tests)."""
    sizes = [
        int(np.prod([max(c) for c in var.chunks])) * var.dtype.itemsize for var in ds.data_vars.values() if var.chunks
    ]
    return max(sizes, default=0)
