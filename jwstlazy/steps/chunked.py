"""Mapping a per-chunk kernel with several inputs and outputs over pixel-block chunks.

Ramps are dask arrays chunked only along ``y`` and ``x`` (all integrations and groups of a pixel block in
one chunk). A kernel takes the numpy blocks of several arrays whose LAST two axes are (y, x) and returns a
tuple of arrays whose last two axes are the same (y, x). :func:`map_pixel_blocks` runs it once per block
and hands each output back as its own dask array, without running the kernel twice.

With ``halo > 0`` each block is given ``halo`` extra rows and columns from its neighbours (none beyond the
array's edges) and the outputs are trimmed back, for kernels that look at neighbouring pixels. Halos copy
whole blocks (dask concatenates the neighbours' edges), so with ``halo_inputs`` only the named inputs get
one, preferably small uint8 flags: the kernel then receives ``core=(y slice, x slice)``, the block's own
pixels inside the haloed arrays, and returns outputs of the block's own shape.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dask.array as da
import dask.local
import dask.threaded
import numpy as np
from dask.base import tokenize
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from dask.layers import ArrayBlockIdDep


@dataclass(frozen=True)
class OutputSpec:
    """An output of a kernel: its dtype and the shape of its leading (non-pixel) axes.

    ``leading`` is a tuple of sizes of the axes before (y, x): ``()`` for an image, ``(nints,)`` for
    per-integration images, ``(nints, ngroups)`` for ramps.
    """

    dtype: np.dtype | type
    leading: tuple[int, ...] = ()


def _pixel_chunks(arrays: Sequence[da.Array]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    reference = max(arrays, key=lambda a: a.ndim)
    return reference.chunks[-2], reference.chunks[-1]


def _as_pixel_chunked(array: da.Array | np.ndarray, chunks_yx) -> da.Array:
    """Give ``array`` the pixel chunking ``chunks_yx`` and one chunk along every leading axis."""
    if not isinstance(array, da.Array):
        array = da.from_array(np.asarray(array), chunks=(-1,) * (np.ndim(array) - 2) + tuple(chunks_yx))
    if all(len(c) == 1 for c in array.chunks[:-2]) and array.chunks[-2:] == tuple(chunks_yx):
        return array
    target = tuple(-1 for _ in range(array.ndim - 2)) + tuple(chunks_yx)
    return array.rechunk(target, method="tasks")  # a local regrouping of blocks; no p2p (nor its import)


def map_pixel_blocks(
    kernel: Callable[..., tuple[np.ndarray, ...] | np.ndarray],
    arrays: Sequence[da.Array | np.ndarray],
    outputs: Sequence[OutputSpec],
    halo: int = 0,
    name: str | None = None,
    pass_origin: bool = False,
    halo_inputs: Sequence[int] | None = None,
    **kwargs,
) -> list[da.Array]:
    """Run ``kernel(*blocks, **kwargs)`` on every pixel block; return one dask array per output.

    ``arrays`` all end in the same (y, x) shape; the first array with the most dimensions sets the pixel
    chunking, the others are rechunked to it (numpy arrays, e.g. reference files, are wrapped).
    With ``pass_origin`` the kernel also gets ``origin=(y0, x0)``, the block's first pixel in the array.
    """
    chunks_yx = _pixel_chunks([a for a in arrays if isinstance(a, da.Array)] or [da.from_array(np.asarray(arrays[0]))])
    inputs = [_as_pixel_chunked(a, chunks_yx) for a in arrays]
    haloed = set(range(len(inputs)) if halo_inputs is None else halo_inputs) if halo else set()
    inputs = [
        da.overlap.overlap(a, depth={a.ndim - 2: halo, a.ndim - 1: halo}, boundary="none") if k in haloed else a
        for k, a in enumerate(inputs)
    ]
    trim_outputs = bool(halo) and halo_inputs is None
    run_block = _BlockTask(
        kernel=kernel, kwargs=kwargs, halo=halo if haloed else 0, trim_outputs=trim_outputs,
        single=len(outputs) == 1, pass_origin=pass_origin, chunks_yx=tuple(tuple(c) for c in chunks_yx),
        halo_input=min(haloed) if haloed else -1,
    )

    # One object per pixel block (a 2-D grid of tuples). Leading axes are single chunks; each input gets
    # its own leading indices, handed over as nested one-item lists (concatenate=False): no copies.
    pairs: list = [ArrayBlockIdDep(tuple(chunks_yx)), ("y", "x")]
    for k, a in enumerate(inputs):
        pairs += [a, tuple(f"lead{k}.{axis}" for axis in range(a.ndim - 2)) + ("y", "x")]
    if trim_outputs:  # every input is haloed: blocks come out with their halos
        packed_chunks = inputs[0].chunks[-2:]
    else:
        packed_chunks = tuple(chunks_yx)
    packed = da.blockwise(
        run_block,
        ("y", "x"),
        *pairs,
        concatenate=False,
        align_arrays=False,  # haloed and plain inputs differ in chunk sizes but pair up block by block
        adjust_chunks={"y": packed_chunks[0], "x": packed_chunks[1]},
        dtype=object,
        meta=np.empty((0, 0), dtype=object),
        token=name,  # a readable prefix; dask appends a hash of the inputs
    )
    results = []
    for index, spec in enumerate(outputs):
        pixel_chunks = tuple(packed.chunks)
        extracted = da.map_blocks(
            pick_output,
            packed,
            index,
            dtype=spec.dtype,
            chunks=tuple((n,) for n in spec.leading) + pixel_chunks,
            new_axis=list(range(len(spec.leading))) or None,
            meta=np.empty((0,) * (len(spec.leading) + 2), dtype=spec.dtype),
        )
        if trim_outputs:
            extracted = da.overlap.trim_internal(
                extracted, {extracted.ndim - 2: halo, extracted.ndim - 1: halo}, boundary="none"
            )
        results.append(extracted)
    return results


@dataclass(frozen=True, eq=False)
class _BlockTask:
    """The task body of :func:`map_pixel_blocks` for one block: ``self(block_id, *blocks)``.

    A module-level class, not a closure, so that dask.distributed pickles it by reference (a closure is
    pickled by value, code and all, for every task sent to a worker).
    """

    kernel: Callable
    kwargs: dict
    halo: int  #: rows and columns the haloed inputs carry from each neighbour (0: no input is haloed)
    trim_outputs: bool
    single: bool
    pass_origin: bool
    chunks_yx: tuple[tuple[int, ...], tuple[int, ...]]
    halo_input: int  #: index of the first haloed input (-1: none)

    def __call__(self, block_id, *blocks):
        _one_numba_thread_per_task()
        blocks = [_single_block(b) for b in blocks]
        extra = dict(self.kwargs)
        # halo rows/columns before and after this block (none beyond the array's edges)
        before = [self.halo if i > 0 else 0 for i in block_id]
        after = [self.halo if i < len(c) - 1 else 0 for i, c in zip(block_id, self.chunks_yx)]
        if self.pass_origin:
            starts = [sum(c[:i]) for c, i in zip(self.chunks_yx, block_id)]
            extra["origin"] = tuple(start - (b if self.trim_outputs else 0) for start, b in zip(starts, before))
        if self.halo and not self.trim_outputs:
            shape = blocks[self.halo_input].shape[-2:]
            extra["core"] = tuple(slice(b, n - a) for b, a, n in zip(before, after, shape))
        result = self.kernel(*blocks, **extra)
        return (result,) if self.single and not isinstance(result, tuple) else tuple(result)


def _single_block(block):
    """The array inside the nested one-item lists blockwise hands over for contracted (leading) axes."""
    while isinstance(block, list):
        if len(block) != 1:
            raise ValueError("leading axes must be single chunks")
        block = block[0]
    return block


def _one_numba_thread_per_task() -> None:
    """Inside a dask worker thread, let numba kernels use one thread: dask already runs a task per core, and
    numba's own pool on top would oversubscribe the cores (the setting is per thread; ``sync`` keeps numba's)."""
    import threading

    import numba

    if threading.current_thread() is not threading.main_thread():
        numba.set_num_threads(1)


def pick_output(packed_block: np.ndarray | tuple, index: int) -> np.ndarray:
    """Item ``index`` of the tuple a kernel returned for one block."""
    return packed_block[index]


def delayed_arrays(
    function: Callable[..., tuple[np.ndarray, ...]],
    outputs: Sequence[tuple[tuple[int, ...], np.dtype | type]],
    *args,
    **kwargs,
) -> list[da.Array]:
    """Run ``function(*args, **kwargs)`` as ONE task (a reduction); one dask array per returned array.

    For exposure-level statistics that need whole frames (reference-pixel offsets, 1/f stripes): dask
    arrays among ``args`` and ``kwargs`` arrive as numpy. ``outputs`` gives each returned array's (shape, dtype).
    The task is written straight into the graph, next to the arrays' own tasks: ``dask.delayed(f)(array)``
    optimises each array's graph on its own (so everything upstream ran again per argument) and is slow to
    build.
    """
    arrays = [a for a in (*args, *kwargs.values()) if isinstance(a, da.Array)]
    call = _Literal((function, [_slot(a, arrays) for a in args], {k: _slot(v, arrays) for k, v in kwargs.items()}))
    name = f"{getattr(function, '__name__', 'reduction')}-{tokenize(function, args, kwargs)}"
    task = (_call_with_arrays, call, *[(_join_blocks, a.__dask_keys__(), a.ndim) for a in arrays])
    packed = Delayed(name, HighLevelGraph.from_collections(name, {name: task}, dependencies=arrays))
    return [da.from_delayed(packed[index], shape=shape, dtype=dtype) for index, (shape, dtype) in enumerate(outputs)]


def spread_over_pixels(values: da.Array, like: da.Array) -> da.Array:
    """``values`` (..., 1 or ny, 1 or nx) seen as (..., ny, nx) without copying, chunked by ``like``'s blocks:
    small per-integration or per-line results handed to :func:`map_pixel_blocks` (a kernel reads
    ``block[..., 0, 0]`` or one row/column of its block)."""
    leading = values.shape[:-2]
    spread = da.broadcast_to(values, leading + like.shape[-2:])
    return spread.rechunk(tuple(-1 for _ in leading) + like.chunks[-2:])


def as_one_delayed(value):
    """A dask array as one Delayed numpy array sharing the array's graph under its own task keys (not an
    optimised copy, as ``dask.delayed(f)(array)`` makes, which recomputes everything upstream); else as is."""
    if not isinstance(value, da.Array):
        return value
    name = f"join-{value.name}"
    task = (_join_blocks, value.__dask_keys__(), value.ndim)
    return Delayed(name, HighLevelGraph.from_collections(name, {name: task}, dependencies=[value]))


@dataclass(frozen=True)
class _Literal:
    """A task argument dask must not look into (tuples and lists would be read as tasks and keys)."""

    value: Any


@dataclass(frozen=True)
class _ArraySlot:
    """Where the ``index``-th dask array goes among a reduction's arguments."""

    index: int


def _slot(value, arrays: list) -> Any:
    return _ArraySlot(next(i for i, a in enumerate(arrays) if a is value)) if isinstance(value, da.Array) else value


def _call_with_arrays(call: _Literal, *arrays: np.ndarray):
    """Task body of :func:`delayed_arrays`: the function with the computed arrays in their places."""
    function, args, kwargs = call.value

    def fill(value):
        return arrays[value.index] if isinstance(value, _ArraySlot) else value

    return function(*[fill(a) for a in args], **{key: fill(value) for key, value in kwargs.items()})


def _join_blocks(blocks, ndim: int) -> np.ndarray:
    """The numpy array of a dask array's blocks, given as nested lists (one level per axis)."""
    return np.asarray(blocks[0]) if ndim == 0 else da.core.concatenate3(blocks)


def all_over_pixels(mask: da.Array, witness: bool = True) -> da.Array:
    """``mask.all(axis=(-2, -1))``: True where the mask holds in every pixel (leading axes kept), lazily.

    A plain reduction makes whatever uses it wait for every pixel block, holding each block in memory until the
    last one arrives. With ``witness`` (for masks that are rarely true everywhere) the answer is taken from one
    block, the first: where that block already has a False pixel, so has the whole mask. Only when the
    witness is True somewhere is the whole mask reduced, inside that one task, by computing it from its own
    graph again (its blocks' upstream tasks re-run, one block at a time). Exact either way.
    """
    if not witness:
        return da.all(mask, axis=(-2, -1))
    first = (0,) * mask.ndim  # the block schedulers tend to reach first
    (result,) = delayed_arrays(
        _all_over_pixels_from_witness, [(mask.shape[:-2], bool)], mask.blocks[first], _LazyArray(mask)
    )
    return result


def detached_reduction(
    function: Callable[..., tuple[np.ndarray, ...]],
    outputs: Sequence[tuple[tuple[int, ...], np.dtype | type]],
    array: da.Array,
    **kwargs,
) -> list[da.Array]:
    """As ``delayed_arrays(function, outputs, array, **kwargs)``, but the task computes ``array`` itself from
    its own graph (its blocks read again): it waits for nothing, so the pixel blocks that need its result are
    not held until every block of ``array`` has been scheduled. For cheap inputs, e.g. a reference image."""
    return delayed_arrays(_call_on_computed, outputs, function, _LazyArray(array), kwargs)


def _call_on_computed(function, whole: _LazyArray, kwargs: dict) -> tuple[np.ndarray, ...]:
    # Schedulers are passed as functions: named by a string, dask imports distributed to look for a client.
    return function(np.asarray(whole.array.compute(scheduler=dask.local.get_sync)), **kwargs)


@dataclass(frozen=True)
class _LazyArray:
    """A dask array carried as a task argument without becoming a dependency: computed only on demand."""

    array: da.Array

    def __dask_tokenize__(self):
        return ("lazy-array", self.array.name)


def _all_over_pixels_from_witness(witness: np.ndarray, whole: _LazyArray) -> tuple[np.ndarray]:
    """Task body of :func:`all_over_pixels`: the witness block decides unless it is all True somewhere."""
    answer = np.all(witness, axis=(-2, -1))
    if answer.any():  # rare: reduce the whole mask (local threads, also inside a distributed worker)
        answer = np.asarray(da.all(whole.array, axis=(-2, -1)).compute(scheduler=dask.threaded.get))
    return (answer,)
