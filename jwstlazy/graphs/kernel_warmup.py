"""Compiling the kernels once, in a separate process, before a cluster's workers get work.

numba compiles a kernel on its first call and caches it on disk (:mod:`jwstlazy.kernels.cache`); a process
that finds a kernel cached loads it in milliseconds. With a cold cache (a fresh install, an edited checkout)
every worker process of a cluster compiles every kernel itself: a minute and a half of LLVM work per worker,
and ~0.9 GB resident instead of ~0.4 GB afterwards (LLVM keeps what it built), enough to cross a small
``--memory-limit``'s pause threshold (80%), where dask.distributed stops giving the worker tasks and the run
never ends.

:func:`warm_kernel_cache` avoids that: for each kind of exposure of the program (pipeline and its settings,
instrument, input product) whose kernels the cache is not known to hold, it runs the pipeline on the first
such exposure in a separate process (chunked as for the workers, computed with the sync scheduler, written to
a temporary folder that is then deleted) after the cluster has started and before any task is submitted.
That process compiles and caches the kernels and exits, so neither the client nor the workers keep LLVM's
memory; the workers then load the cached kernels. The kinds warmed are recorded beside numba's cache,
with :func:`jwstlazy.kernels.cache.cache_state`, so a warm cache costs only a read of each exposure's
primary header. On a remote cluster this helps when the workers see the same cache directory (a shared
file system, as usual on HPC systems).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jwstlazy.graphs.program import Exposure

if TYPE_CHECKING:
    from jwstlazy.graphs.pipeline import Pipeline

log = logging.getLogger(__name__)

#: The record of warmed kinds, in numba's cache directory of the kernels.
RECORD_NAME = "jwstlazy-warmed.json"


def exposure_kind(pipeline: Pipeline, exposure: Exposure) -> str:
    """What decides which kernels (and signatures) a run compiles: the pipeline, its step settings and
    replacements, the instrument and the input product's suffix (``uncal``, ``rate``...)."""
    from astropy.io import fits

    try:
        instrument = str(fits.getval(exposure.path, "INSTRUME", ext=0))
    except (OSError, KeyError, IndexError):
        instrument = "?"  # the run itself reports an unreadable file
    suffix = exposure.path.stem.rsplit("_", 1)[-1]
    return f"{pipeline.settings_description()} {instrument} {suffix}"


def warm_kernel_cache(pipeline: Pipeline, exposures: Iterable[Exposure],
                      build_options: Mapping[str, Any]) -> list[str]:  # fmt: skip
    """Compile and cache, in a separate process, the kernels of each kind of exposure not yet warmed (see the
    module's docstring); returns the kinds warmed now. ``build_options``: the cluster run's ``chunks``,
    ``memory_limit``, ``threads_per_worker`` and ``start`` (:func:`~jwstlazy.graphs.execute.build_program`), so
    that the child's blocks have the workers' layouts (numba compiles per array layout too). Failures are logged, never raised: the run itself then compiles in its
    workers and reports any error of its inputs. Costs a primary-header read per exposure when warm."""
    from jwstlazy.kernels.cache import cache_state, kernel_cache_directory

    record_path = kernel_cache_directory() / RECORD_NAME
    if not _writable(record_path.parent):
        log.debug("numba cannot cache kernels in %s: no warm-up", record_path.parent)
        return []
    state = cache_state()
    warmed = _read_record(record_path, state)
    first_of_kind: dict[str, Exposure] = {}
    for exposure in exposures:
        first_of_kind.setdefault(exposure_kind(pipeline, exposure), exposure)
    done = []
    for kind, exposure in first_of_kind.items():
        if kind in warmed:
            continue
        log.info("compiling kernels on %s in a separate process before the workers get work (once)", exposure.name)
        start = time.perf_counter()
        if _run_in_child(pipeline, exposure, build_options):
            done.append(kind)
            log.info("kernels compiled and cached in %.0f s", time.perf_counter() - start)
    if done:
        _write_record(record_path, state, warmed | set(done))
    return done


def _run_in_child(pipeline: Pipeline, exposure: Exposure, build_options: Mapping[str, Any]) -> bool:
    """Run ``pipeline`` on ``exposure`` in a spawned process (see :func:`_run_one`)."""
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing compiled, nothing inherited
    try:
        child = context.Process(target=_run_one, args=(pipeline, exposure, dict(build_options)),
                                name="jwstlazy-kernel-warmup")
        child.start()
    except Exception as error:  # e.g. a user's pipeline that cannot be pickled
        log.warning("no kernel warm-up (%s: %s); the workers compile the kernels themselves",
                    type(error).__name__, error)
        return False
    child.join()
    if child.exitcode != 0:
        log.warning("kernel warm-up on %s ended with exit code %s; the workers compile what is missing",
                    exposure.name, child.exitcode)  # fmt: skip
    return child.exitcode == 0


def _run_one(pipeline: Pipeline, exposure: Exposure, build_options: dict[str, Any]) -> None:
    """The child's work: ``exposure``'s graph built as for the cluster (same chunks: kernels are compiled per
    array layout too), computed with the sync scheduler into a folder deleted afterwards."""
    import dask

    from jwstlazy.graphs.execute import build_program
    from jwstlazy.graphs.optimize import optimize_writes

    with tempfile.TemporaryDirectory(prefix="jwstlazy-warmup-") as folder:
        writes: dict = {}
        graph = build_program(pipeline, [exposure], folder, overwrite=True,
                              submit=lambda _, built: writes.update(built), **build_options)
        if graph.failed:
            raise RuntimeError(next(iter(graph.failed.values())))
        dask.compute(*optimize_writes(writes).values(), optimize_graph=False, scheduler="sync")


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _read_record(path: Path, state: str) -> set[str]:
    """The kinds recorded as warmed for the kernels' current ``state`` (none if the sources changed since)."""
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return set()
    return set(record.get("kinds", [])) if record.get("state") == state else set()


def _write_record(path: Path, state: str, kinds: set[str]) -> None:
    temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(json.dumps({"state": state, "kinds": sorted(kinds)}, indent=1))
        temporary.replace(path)
    except OSError as error:
        log.debug("could not record the warmed kernels in %s: %s", path, error)
