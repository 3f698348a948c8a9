"""Reference images derived block by block from a reference file, computed once and cached on disk.

The example that pays: a program's exposures of one detector and readout all subtract the same dark, averaged
from the DARK file's NFRAMES=1 frames to their NFRAMES/GROUPGAP (a SHALLOW4 full frame of 6 groups reads 29
dark frames, 490 MB, to use 6). A :class:`DerivedImage` computes a pixel block from the reference's block on
first use and saves it in the cache directory, so the next exposure reads the derived planes instead.

The tasks do this themselves, on whichever worker runs them: nothing is computed when the graph is built, and
a cache entry missing where a task runs (another node, a deleted folder) costs a recomputation, never a wrong
result. Entries are written under a temporary name and renamed, so a killed task leaves no half entry, and
named by the reference file's path, size and modification time, the derivation and the block, so a changed
reference is never read stale.

The cache is off unless the dask config key :data:`CACHE_CONFIG` names a folder: :func:`cached_derivations`
sets it for a program run (``jwstlazy.run`` with several exposures) and removes the folder afterwards; set it
yourself (``dask.config.set({"jwstlazy.derived-reference-dir": "/scratch/me/derived"})``) to keep entries
between runs.
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import xarray as xr
from dask.base import tokenize

from jwstlazy.references.loading import LAYOUT, lazy_image

log = logging.getLogger(__name__)

#: dask config key naming the folder of cached derived blocks (unset or None: no cache).
CACHE_CONFIG = "jwstlazy.derived-reference-dir"


def cache_directory() -> str | None:
    """The folder derived blocks are cached in, from dask's config; None when caching is off."""
    directory = dask.config.get(CACHE_CONFIG, None)
    return os.fspath(directory) if directory else None


@contextmanager
def cached_derivations(directory: str | os.PathLike) -> Iterator[Path]:
    """Cache derived blocks in ``directory`` for graphs built inside the block; remove it on leaving.

    Entries are only valid for the run (the folder is deleted), unless the user's config already names a
    folder: then that one is used and kept.
    """
    if cache_directory() is not None:
        yield Path(cache_directory())
        return
    directory = Path(directory)
    try:
        with dask.config.set({CACHE_CONFIG: os.fspath(directory)}):
            yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class DerivedImage:
    """Array-like (for ``dask.array.from_array``): ``derive(source[(*read, ys, xs)])`` for each pixel block.

    ``source``: the reference image (:class:`~jwstlazy.datamodels.fits_io.FitsImageData`, shape (..., ny, nx)).
    ``read``: slices of its first leading axes to read (e.g. the dark frames a readout spans; the others whole). ``derive``: a picklable
    function of one block, (..., by, bx) -> ``leading_shape + (by, bx)`` of ``dtype``, the same for any block;
    ``identity`` names what it computes (part of the cache entry's name: two derivations must not share one).
    ``cache_dir``: where blocks are cached (None: derived every time).
    """

    def __init__(self, source: Any, derive: Callable[[np.ndarray], np.ndarray], leading_shape: tuple[int, ...],
                 dtype: Any, identity: str, cache_dir: str | None = None, read: tuple[slice, ...] = ()) -> None:  # fmt: skip
        self.source, self.derive, self.identity, self.cache_dir = source, derive, identity, cache_dir
        self.read = (*read, *(slice(None),) * (source.ndim - 2 - len(read)))  # a slice per leading axis
        self.path = source.path
        self.shape = (*leading_shape, *source.shape[-2:])
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)

    def __dask_tokenize__(self) -> tuple:
        return ("DerivedImage", self.source, self.identity, self.read, self.shape, self.dtype.str, self.cache_dir)

    def __getitem__(self, key: tuple[slice, ...]) -> np.ndarray:
        """One block: ``key`` is a slice per axis (as dask gives); the pixel axes select the block."""
        *leading, ys, xs = key
        entry = self._entry(ys, xs)
        block = _load(entry) if entry is not None else None
        if block is None:
            block = self.derive(self.source[(*self.read, ys, xs)])
            if block.shape[:-2] != self.shape[:-2] or block.dtype != self.dtype:
                raise ValueError(f"{self.identity}: derived block is {block.dtype}{block.shape}, expected "
                                 f"{self.dtype}{self.shape[:-2]} + the block's pixels")
            if entry is not None:
                try:
                    _save_atomically(block, entry)
                except OSError as error:  # a cache that cannot be written costs the next exposure a derivation
                    log.warning("%s: derived block not cached in %s: %s", self.identity, entry.parent, error)
        return block[tuple(leading)]

    def _entry(self, ys: slice, xs: slice) -> Path | None:
        """The cache file of the block (``ys``, ``xs``), or None without a cache."""
        if self.cache_dir is None:
            return None
        stat = os.stat(self.source.path)
        token = tokenize(self.source, stat.st_size, stat.st_mtime_ns, self.identity, self.read,
                         ys.indices(self.shape[-2]), xs.indices(self.shape[-1]))
        return Path(self.cache_dir) / f"{Path(self.source.path).stem}-{token}.npy"


def derived_image(reference: xr.Dataset, extension: str, derive: Callable[[np.ndarray], np.ndarray],
                  leading_shape: tuple[int, ...], dtype: Any, identity: str, read: tuple[slice, ...] = (),
                  key_salt: Any = None, cache: bool = True) -> da.Array:  # fmt: skip
    """``derive`` applied to each pixel block of ``reference[extension]``, as a dask array in the same pixel
    blocks and subarray cut as the extension's, cached where :func:`cache_directory` says.

    ``extension`` must be a lazily read detector-plane image (darks, linearity coefficients, ...);
    ``key_salt`` (e.g. the exposure's SCI name) keeps one exposure's tasks from being another's, so that each
    exposure's tasks stay its own; ``cache=False`` never caches (a derivation cheaper than reading its result).
    See :class:`DerivedImage` for the other arguments.
    """
    layout = reference[extension].encoding.get(LAYOUT)
    if layout is None:
        raise ValueError(f"{reference.attrs.get('filename')}[{extension}] is not a lazily read detector-plane image")
    image = DerivedImage(layout.source, derive, leading_shape, dtype, identity, cache_directory() if cache else None, read)
    return lazy_image(image, layout.cut, layout.blocks, key_salt)


def _load(entry: Path) -> np.ndarray | None:
    try:
        return np.load(entry)
    except (FileNotFoundError, ValueError, OSError):  # absent (first use), or unreadable: derive again
        return None


def _save_atomically(block: np.ndarray, entry: Path) -> None:
    """Write ``block`` to ``entry`` under a temporary name, then rename (another task may race: same bytes)."""
    entry.parent.mkdir(parents=True, exist_ok=True)
    temporary = entry.with_name(f"{entry.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as stream:
            np.save(stream, np.ascontiguousarray(block))
        os.replace(temporary, entry)
    finally:
        temporary.unlink(missing_ok=True)
