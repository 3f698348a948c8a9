"""Python's cyclic garbage collector during a run: the objects that existed before it are left out.

A process that has imported jwstlazy holds ~250,000 objects (numpy, dask, xarray, astropy and, once the
first kernel runs, numba's typing registries). Each full collection (generation 2) walks all of them, ~80 ms
here, and building and running a graph creates enough objects to set off a few: 0.16 s of a fresh
full-frame detector1 run. :func:`objects_before_run_frozen` moves them to the collector's permanent
generation for the run (``gc.freeze``) and back afterwards (``gc.unfreeze``), so collections during the run
walk only the objects it made; nothing is leaked (cycles made during the run are collected as usual, and
after the run every object is collectable again).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def objects_before_run_frozen() -> Iterator[None]:
    """Leave the objects that exist now out of garbage collections until the block ends (also usable as a
    decorator, ``@objects_before_run_frozen()``: then for each call)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
