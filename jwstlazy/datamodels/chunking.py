"""Default dask chunks for products: whole ramps of a block of pixels, about 16 MB per stored chunk.

Every chunk holds all integrations and groups of its pixel block (``{"integration": -1, "group": -1, "y": by,
"x": bx}``), since jump detection and ramp fitting need them; the block shrinks as integrations grow, so a
500-integration time series gets small pixel blocks, not giant chunks. 16 MB stored (uint16) is 32 MB as
float32 in stage 1, a few of which are alive per thread: measured fastest for a 2048x2048x10 ramp on 2 cores
(``benchmarks/detector1.py --chunk-study``: y blocks of 256 rows compute in 1.13 s, 512/1024 in 1.3 s). The pixel block is found by halving first ``y`` (so that
chunks stay whole detector rows, contiguous on disk) and then ``x`` until a chunk of the largest variable
fits the target. All variables of a dataset share the same ``y``/``x`` blocks, so they line up.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from jwstlazy.errors import JwstLazyInputError

TARGET_CHUNK_BYTES = 16 * 2**20  #: aimed size of one chunk of the largest variable, bytes


def default_chunks(variables: Mapping[str, tuple[tuple[str, ...], tuple[int, ...], np.dtype]],
                   target_bytes: int = TARGET_CHUNK_BYTES) -> dict[str, int]:  # fmt: skip
    """Chunk size per dim name for variables given as ``name -> (dims, shape, dtype)``."""
    sizes: dict[str, int] = {}
    for dims, shape, _ in variables.values():
        sizes.update(zip(dims, shape))
    chunks = {dim: -1 for dim in sizes}
    bytes_per_pixel = 1
    for dims, shape, dtype in variables.values():
        per_pixel = np.dtype(dtype).itemsize
        for dim, size in zip(dims, shape):
            if dim not in ("y", "x"):
                per_pixel *= size if chunks[dim] == -1 else chunks[dim]
        bytes_per_pixel = max(bytes_per_pixel, per_pixel)
    block = {dim: sizes[dim] for dim in ("y", "x") if dim in sizes}
    for dim in block:
        while block[dim] > 1 and bytes_per_pixel * int(np.prod(list(block.values()))) > target_bytes:
            block[dim] = -(-block[dim] // 2)
    chunks.update(block)
    return chunks


def merge_chunks(defaults: dict[str, int], overrides: Mapping | None, path=None) -> dict:
    """Defaults updated by the user's ``{dim: size}`` overrides (dims not present are ignored)."""
    if overrides is None:
        return dict(defaults)
    if not isinstance(overrides, Mapping):
        raise JwstLazyInputError(f"chunks must be a dict by dim name, got {type(overrides).__name__}", path,
                                 "chunks", "e.g. {'y': 512, 'x': 512}")  # fmt: skip
    merged = dict(defaults)
    merged.update({dim: size for dim, size in overrides.items() if dim in defaults})
    return merged


def chunks_for(dims: tuple[str, ...], chunks: Mapping) -> tuple:
    """Per-axis chunk spec of one variable, from a per-dim dict (missing dims: whole axis)."""
    return tuple(chunks.get(dim, -1) for dim in dims)
