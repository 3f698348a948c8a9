"""Running a pipeline over a whole program as ONE dask graph, with products written by graph tasks.

:func:`build_program` turns the program's inputs (files, folders, associations; see
:mod:`jwstlazy.graphs.program`) into one lazy graph holding one write task per product;
:func:`run_program` starts the chosen scheduler, computes that graph and reports what happened; :func:`run`
does both from a pipeline name, for ``jwstlazy.run`` and ``jwstlazy run``.

* Products are written by tasks of the graph (:mod:`jwstlazy.graphs.product_writes`; atomic: temporary
  name, then rename) and the tasks return only the product's path, so the client never gathers pixels. A "wrote PATH" line is logged per product as it
  completes.
* Resume: a product that exists, is not older than its input and whose headers and data size check out
  (:func:`jwstlazy.datamodels.open`, which reads no pixels) is skipped unless ``overwrite``; temporary files
  left by a killed run are removed. When every product is done, no scheduler is started.
* Faults: every task is pure (a write task rewrites its whole product), so a lost worker costs a
  recomputation on dask.distributed. An exposure that fails (corrupt file, missing reference) is reported
  by name while the others finish; :class:`ProgramFailed` is raised at the end.
* Granularity on a cluster: each exposure's graph of pixel-block tasks goes to the cluster (``"blocks"``), or
  each exposure is one task that builds and computes its graph on a worker (``"exposures"``; the client and
  scheduler then handle one task per exposure, not thousands). ``"auto"`` (the default) takes exposures when
  there are at least two per worker thread, so that every thread has work; see docs/scaling.md.
* Kernels: before a cluster gets work, kernels missing from numba's cache are compiled in a separate process
  (:mod:`jwstlazy.graphs.kernel_warmup`), so that workers load them instead of each compiling them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dask
import dask.threaded
import xarray as xr
from dask.callbacks import Callback
from dask.delayed import Delayed

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.allocator import tune_allocator
from jwstlazy.graphs.block_order import block_major_local_order
from jwstlazy.graphs.chunks import choose_chunks, merged_chunks, parse_chunks
from jwstlazy.graphs.garbage_collection import objects_before_run_frozen
from jwstlazy.graphs.kernel_warmup import warm_kernel_cache
from jwstlazy.graphs.naming import product_path, temporary_files_for
from jwstlazy.graphs.optimize import optimize_writes
from jwstlazy.graphs.product_writes import write_task
from jwstlazy.graphs.program import Exposure, exposures_from_inputs
from jwstlazy.graphs.progress import ExposureTally, describe, exposure_progress, progress_bar
from jwstlazy.graphs.schedulers import Execution, parse_memory_limit, parse_scheduler, scheduler_context
from jwstlazy.references.derived import CACHE_CONFIG, cache_directory, cached_derivations
from jwstlazy.steps.side_products import collect_side_products

if TYPE_CHECKING:
    from jwstlazy.graphs.pipeline import Pipeline

log = logging.getLogger(__name__)

Inputs = Iterable[str | os.PathLike | Exposure] | str | os.PathLike


class ProgramFailed(RuntimeError):
    """Some inputs failed; ``result`` says which and what was written for the others."""

    def __init__(self, result: ProgramResult) -> None:
        self.result = result
        lines = [f"{name}: {error}" for name, error in result.failed.items()]
        super().__init__(f"{len(result.failed)} input(s) failed:\n" + "\n".join(lines))


@dataclass
class ProgramResult:
    """What a program run did: products written, products already present, inputs that failed."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


@dataclass
class ProgramGraph:
    """The lazy graph of a program: its products and one write task per product (nothing computed)."""

    products: dict[Path, xr.Dataset] = field(default_factory=dict)  #: target path -> lazy product
    writes: dict[Path, Delayed] = field(default_factory=dict)  #: target path -> task writing it
    sources: dict[Path, Exposure] = field(default_factory=dict)  #: target path -> the exposure it comes from
    skipped: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  #: exposure path -> why it could not be built

    @property
    def task_count(self) -> int:
        """Number of tasks in the (merged) graph."""
        if not self.writes:
            return 0
        return len(dask.base.collections_to_expr(list(self.writes.values())).__dask_graph__())


# -- planning: which products need work ------------------------------------------------------------
def product_is_complete(path: Path, source: Path | None = None) -> bool:
    """True when ``path`` exists, is not older than ``source`` and opens cleanly (headers and size only)."""
    from jwstlazy.datamodels import open as open_product

    try:
        if source is not None and path.stat().st_mtime < Path(source).stat().st_mtime:
            return False
        open_product(path)
    except (JwstLazyInputError, OSError):
        return False
    return True


def expected_products(pipeline: Pipeline, exposure: Exposure, output_dir: Path) -> list[Path]:
    """The products a finished run of ``exposure`` leaves: the pipeline's own, and the side products of the steps
    that ran for it. A step skipped for this exposure (picture_frame on a NIRCam one) writes none; its
    ``S_<KEY> = 'SKIPPED'`` in the first product says so (while that product is missing, every one is expected)."""
    from jwstlazy.datamodels import open as open_product

    side = pipeline.side_product_steps
    own = [product_path(exposure.path, suffix, output_dir) for suffix in pipeline.output_suffixes if suffix not in side]
    statuses: Mapping[str, Any] = {}
    if side and own:
        try:
            statuses = open_product(own[0]).attrs
        except (JwstLazyInputError, OSError):
            statuses = {}
    return own + [product_path(exposure.path, suffix, output_dir) for suffix, status in side.items()
                  if statuses.get(status) != "SKIPPED"]  # fmt: skip


def plan_program(
    pipeline: Pipeline, exposures: list[Exposure], output_dir: Path, overwrite: bool = False
) -> tuple[list[Exposure], list[Path]]:
    """Split ``exposures`` into those to run and the products already complete (skipped)."""
    todo, skipped = [], []
    for exposure in exposures:
        targets = expected_products(pipeline, exposure, output_dir)
        if not overwrite and targets and all(product_is_complete(t, exposure.path) for t in targets):
            log.info("skipping %s: products exist (use overwrite to redo)", exposure.name)
            skipped.extend(targets)
        else:
            todo.append(exposure)
    return todo, skipped


# -- building the graph ----------------------------------------------------------------------------
def open_exposure(
    path: Path, chunks: Mapping[str, int] | None = None, memory_limit: int | None = None, threads_per_worker: int = 1,
    cluster: bool = False,
) -> xr.Dataset:
    """Open an exposure lazily with chunks sized for the workers' memory (``chunks`` overrides by dim);
    ``cluster``: for a dask.distributed cluster (see :mod:`jwstlazy.graphs.chunks`)."""
    from jwstlazy.datamodels import open as open_product

    if memory_limit is None:
        return open_product(path, chunks=dict(chunks) if chunks else None)
    chosen = choose_chunks(open_product(path), memory_limit, threads_per_worker, cluster)
    return open_product(path, chunks=merged_chunks(chosen, chunks))


def build_program(
    pipeline: Pipeline,
    inputs: Inputs,
    output_dir: str | os.PathLike,
    overwrite: bool = False,
    chunks: Mapping[str, int] | str | None = None,
    memory_limit: int | None = None,
    threads_per_worker: int = 1,
    submit: Callable[[Exposure, dict[Path, Delayed]], None] | None = None,
    start: str | None = None,
) -> ProgramGraph:
    """Build the lazy graph of ``pipeline`` over every exposure of ``inputs`` (nothing is computed).

    ``memory_limit`` (bytes per worker) and ``threads_per_worker`` size the pixel-block chunks (see
    :mod:`jwstlazy.graphs.chunks`); ``chunks`` overrides them by dim (``{"y": 512}`` or ``"y=512,x=2048"``).
    ``submit``, if given, receives each exposure and its write tasks as soon as they are built (a cluster can
    start on them while the rest of the program is being built); the returned graph then lists only their
    sources, not their products and tasks, so the client does not hold every exposure's graph. ``start`` names
    the step to begin at, for inputs saved part way through the pipeline (``_ramp.fits`` and ``"ramp_fit"``).
    """
    output_dir = Path(output_dir)
    overrides = parse_chunks(chunks) if isinstance(chunks, str) else chunks
    todo, skipped = plan_program(pipeline, exposures_from_inputs(inputs), output_dir, overwrite)
    graph = ProgramGraph(skipped=skipped)
    for exposure in todo:
        try:
            products = pipeline.build(
                open_exposure(exposure.path, overrides, memory_limit, threads_per_worker, cluster=submit is not None),
                start=start)
            products = collect_side_products(products if isinstance(products, dict)
                                             else {pipeline.output_suffixes[0]: products})  # fmt: skip
            targets = {suffix: product_path(exposure.path, suffix, output_dir) for suffix in products}
            writes = {targets[suffix]: write_task(ds, targets[suffix]) for suffix, ds in products.items()}
        except Exception as error:  # one bad exposure must not stop the program
            graph.failed[os.fspath(exposure.path)] = describe_error(error)
            log.error("%s: %s", exposure.name, graph.failed[os.fspath(exposure.path)])
            continue
        for suffix, ds in products.items():
            graph.sources[targets[suffix]] = exposure
            if submit is None:  # a submitted exposure's futures hold its work; keeping its graph here too
                graph.products[targets[suffix]] = ds  # made the client's memory grow with the program
                graph.writes[targets[suffix]] = writes[targets[suffix]]
        if submit is not None:
            submit(exposure, writes)
    return graph


def describe_error(error: BaseException) -> str:
    """One line for a failed exposure: our input errors as they are, anything else with its type."""
    return str(error) if isinstance(error, (JwstLazyInputError, ExposureFailed)) else f"{type(error).__name__}: {error}"


# -- computing it ----------------------------------------------------------------------------------
@objects_before_run_frozen()
def run_program(
    pipeline: Pipeline,
    inputs: Inputs,
    output_dir: str | os.PathLike,
    scheduler: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
    chunks: Mapping[str, int] | str | None = None,
    memory_limit: int | str | None = None,
    start: str | None = None,
    granularity: str = "auto",
) -> ProgramResult:
    """Build one graph for all ``inputs`` through ``pipeline``, compute it on ``scheduler``, write products.

    ``start``: the step to begin at (see :func:`build_program`). ``granularity`` (a dask.distributed
    cluster's tasks): ``"blocks"``, ``"exposures"`` or ``"auto"`` (see the module's docstring). Raises
    :class:`ProgramFailed` (after finishing the others) when any exposure failed, and
    :class:`JwstLazyInputError` before anything runs for bad arguments or missing inputs.
    """
    _check_step_name(pipeline, start)
    if granularity not in GRANULARITIES:
        raise JwstLazyInputError(f"unknown granularity {granularity!r}", where="granularity", expected=", ".join(GRANULARITIES))
    tune_allocator()  # before any worker process starts: they inherit the settings
    spec = parse_scheduler(scheduler)
    limit = parse_memory_limit(memory_limit)
    overrides = parse_chunks(chunks) if isinstance(chunks, str) else chunks
    exposures = exposures_from_inputs(inputs)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    todo, skipped = plan_program(pipeline, exposures, output_dir, overwrite)
    result = ProgramResult(skipped=skipped)
    if todo:
        label = describe(pipeline.name, len(todo)) if progress else None
        build_options = {"chunks": overrides, "start": start}
        with scheduler_context(spec, limit) as execution, _derived_reference_cache(output_dir, len(todo)):
            build_options.update(memory_limit=execution.memory_limit, threads_per_worker=execution.threads_per_worker)
            if execution.client is None:
                graph = build_program(pipeline, todo, output_dir, overwrite=True, **build_options)
                result.failed.update(graph.failed)
                _remove_temporaries(graph.writes)
                _compute_locally(graph, execution, result, label)
                _remove_temporaries(graph.sources)
            else:
                warm_kernel_cache(pipeline, todo, build_options)  # workers compiling the kernels themselves can stall
                if _exposure_tasks_chosen(granularity, len(todo), execution):
                    _run_exposure_tasks(pipeline, todo, output_dir, build_options, execution, result, label)
                else:
                    graph = _run_on_cluster(pipeline, todo, output_dir, build_options, execution, result, label)
                    _remove_temporaries(graph.sources)  # every product target, submitted or not
    if result.failed:
        raise ProgramFailed(result)
    return result


def _check_step_name(pipeline: Pipeline, name: str | None) -> None:
    """A ``start`` that names no step of ``pipeline`` is an error before anything runs."""
    names = [cls.name for cls in pipeline.all_step_classes()]
    if name is not None and name not in names:
        raise JwstLazyInputError(f"no step {name!r} in {pipeline.name}", where="start", expected=", ".join(names))


def _derived_reference_cache(output_dir: Path, exposures: int) -> contextlib.AbstractContextManager:
    """Exposures of a program share derived reference blocks (the dark averaged to their readout) through a
    cache folder in ``output_dir``, removed after the run (:mod:`jwstlazy.references.derived`); one exposure
    alone has no one to share with."""
    return cached_derivations(output_dir / DERIVED_REFERENCE_DIR) if exposures > 1 else contextlib.nullcontext()


#: Folder of ``output_dir`` holding a run's cached derived reference blocks (removed when the run ends).
DERIVED_REFERENCE_DIR = ".jwstlazy-derived-references"

#: How a program's work is cut into a cluster's tasks (``granularity``).
GRANULARITIES = ("auto", "blocks", "exposures")
#: ``"auto"`` runs exposures as tasks when there are at least this many per worker thread.
EXPOSURES_PER_THREAD_FOR_EXPOSURE_TASKS = 2


def _exposure_tasks_chosen(granularity: str, exposures: int, execution: Execution) -> bool:
    """Whether a cluster run's tasks are whole exposures (else pixel blocks), for ``granularity``."""
    if granularity != "auto":
        return granularity == "exposures"
    threads = max(1, execution.workers) * max(1, execution.threads_per_worker)
    return exposures >= EXPOSURES_PER_THREAD_FOR_EXPOSURE_TASKS * threads


class ExposureFailed(RuntimeError):
    """An exposure task's exposure failed; the message says why (as :func:`describe_error` does)."""


def run_exposure_task(pipeline: Pipeline, exposure: Exposure, output_dir: Path, build_options: dict[str, Any],
                      derived_cache: str | None) -> list[str]:  # fmt: skip
    """Task of granularity ``"exposures"``: build ``exposure``'s graph on this worker and compute it here with
    the sync scheduler (block by block, in the local block-major order), writing its products; returns their
    paths. Raises :class:`ExposureFailed` when the exposure fails. ``derived_cache``: the program's
    derived-reference folder.

    No dask callback records the writes: callbacks are process-wide, and a worker running two exposure tasks at
    once (threads) would hand one task's callbacks to the other's compute. The compute either writes every
    product or raises.
    """
    with dask.config.set({CACHE_CONFIG: derived_cache}):
        graph = build_program(pipeline, [exposure], output_dir, overwrite=True, **build_options)
    if graph.failed:
        raise ExposureFailed("; ".join(graph.failed.values()))
    _remove_temporaries(graph.writes)  # a killed earlier attempt's
    try:
        with block_major_local_order({task.key: 0 for task in graph.writes.values()}):
            dask.compute(*optimize_writes(graph.writes).values(), optimize_graph=False, scheduler="sync")
    except Exception as error:
        raise ExposureFailed(describe_error(error)) from error
    return [os.fspath(path) for path in graph.writes]


def _run_exposure_tasks(pipeline: Pipeline, todo: list[Exposure], output_dir: Path, build_options: dict[str, Any],
                        execution: Execution, result: ProgramResult, progress: str | None) -> None:  # fmt: skip
    """Granularity ``"exposures"``: one cluster task per exposure (:func:`run_exposure_task`), all submitted at
    once (the scheduler queues them, so each worker holds one exposure per thread); record each as it lands."""
    from distributed import as_completed

    options = {**build_options, "memory_limit": execution.memory_limit // max(1, execution.threads_per_worker),
               "threads_per_worker": 1}  # fmt: skip
    futures = {
        execution.client.submit(run_exposure_task, pipeline, exposure, output_dir, options, cache_directory(),
                                key=f"{pipeline.name}-exposure-{exposure.name}-{uuid.uuid4().hex[:8]}", pure=False): exposure
        for exposure in todo
    }  # fmt: skip
    with exposure_progress(len(todo), enabled=progress is not None, description=progress or "") as tally:
        for future in as_completed(list(futures), loop=execution.client.loop):
            exposure = futures.pop(future)
            if future.status == "error":
                _record(result, exposure, exposure.path, future.exception())
            else:
                for path in future.result():
                    _record(result, exposure, Path(path), None)
            future.release()
            tally.exposures_finished(1)
    for exposure in todo:  # a killed attempt's leftovers
        _remove_temporaries(product_path(exposure.path, suffix, output_dir) for suffix in pipeline.output_suffixes)


def _run_on_cluster(pipeline: Pipeline, todo: list[Exposure], output_dir: Path, build_options: dict[str, Any],
                    execution: Execution, result: ProgramResult, progress: str | None) -> ProgramGraph:  # fmt: skip
    """Build each exposure's graph and submit its writes as soon as it is built, a few per worker at a time;
    record each product as it lands. ``progress``: the label of a bar of exposures finished, or None."""
    # each exposure's writes are submitted once built; their futures wait here (future -> (product, exposure))
    # until recorded and released: a future held keeps its task, and the product's plan in it, on the
    # scheduler, so holding them all until the end grew memory with the program
    pending: dict[Any, tuple[Path, Exposure]] = {}
    placement = _ExposurePlacement(len(todo))
    in_flight: list[InFlight] = []  # each submitted exposure's worker (or None) and futures, until done
    with exposure_progress(len(todo), enabled=progress is not None, description=progress or "") as tally:

        def submit(exposure: Exposure, writes: dict[Path, Delayed]) -> None:
            workers = sorted(execution.client.scheduler_info().get("workers", {}))  # they come and go
            _wait_for_room(in_flight, EXPOSURES_IN_FLIGHT_PER_WORKER * max(1, len(workers)))
            _record_finished(pending, result, tally)
            _remove_temporaries(writes)
            tasks = list(optimize_writes(writes).values())
            # fifo_timeout=0: each exposure is its own generation, so its tasks run before later exposures'
            where = placement.next_exposure(workers, in_flight)
            submitted = execution.client.compute(tasks, optimize_graph=False, fifo_timeout=0, **where)
            pending.update({future: (target, exposure) for target, future in zip(writes, submitted)})
            in_flight.append(((where.get("workers") or [None])[0], submitted))
            tally.submitted(exposure.path, len(submitted))

        graph = build_program(pipeline, todo, output_dir, overwrite=True, submit=submit, **build_options)
        result.failed.update(graph.failed)
        tally.exposures_finished(len(graph.failed))  # exposures whose graph could not be built
        _gather_on_client(pending, execution, result, tally)
    return graph


#: Exposures submitted to a cluster and not yet written, per worker. A worker given every exposure at once
#: starts reading the next ones whenever the current one's next tasks are a scheduler round-trip away, so
#: its memory grew with the program (docs/scaling.md); two per worker keep it busy and its memory bounded.
EXPOSURES_IN_FLIGHT_PER_WORKER = 2


#: A submitted exposure: the worker it was placed on (None: not placed) and its write tasks' futures.
InFlight = tuple[str | None, list[Any]]


def _drop_finished(in_flight: list[InFlight]) -> None:
    in_flight[:] = [(worker, futures) for worker, futures in in_flight if not all(f.done() for f in futures)]


def _wait_for_room(in_flight: list[InFlight], limit: int) -> None:
    """Block until fewer than ``limit`` submitted exposures are unfinished (drops finished ones)."""
    from distributed import as_completed

    while True:
        _drop_finished(in_flight)
        if len(in_flight) < limit:
            return
        pending = [future for _, futures in in_flight for future in futures if not future.done()]
        next(iter(as_completed(pending, loop=pending[0].client.loop)))  # the first one to finish


class _ExposurePlacement:
    """Which worker an exposure's tasks should run on, on a cluster with at least as many exposures as workers.

    Exposures are independent, so a worker that runs every task of an exposure never waits for another
    worker's blocks (halos, reference strips) nor sends its own: each exposure goes to the worker with the fewest
    unfinished exposures placed on it (ties: the next in turn), as a preference (``allow_other_workers``: a lost
    or busy worker's tasks still run elsewhere). Strictly in turn, a worker that finished early got no new
    exposure until its turn came, while another worked through two. With fewer exposures than workers they are
    not placed, so their blocks spread over all workers.
    """

    def __init__(self, exposures: int) -> None:
        self.exposures, self.count = exposures, 0

    def next_exposure(self, workers: list[str], in_flight: list[InFlight]) -> dict[str, Any]:
        """Keyword arguments for ``client.compute`` of the next exposure's tasks, given the current workers and the
        exposures submitted so far and maybe unfinished (finished ones are dropped from ``in_flight``)."""
        if not workers or self.exposures < len(workers):
            return {}
        _drop_finished(in_flight)
        load = Counter(worker for worker, _ in in_flight)
        first = self.count % len(workers)
        self.count += 1
        worker = min(workers[first:] + workers[:first], key=lambda w: load[w])  # min keeps the first of ties
        return {"workers": [worker], "allow_other_workers": True}


def _remove_temporaries(targets: Iterable[Path]) -> None:
    """Delete temporary files a killed writer left beside ``targets`` (never a finished product)."""
    for target in targets:
        for temporary in temporary_files_for(target):
            log.debug("removing leftover %s", temporary)
            temporary.unlink(missing_ok=True)


def _record(result: ProgramResult, source: Exposure, target: Path, error: BaseException | None) -> None:
    if error is None:
        result.written.append(target)
        log.info("wrote %s", target)
    else:
        result.failed.setdefault(os.fspath(source.path), describe_error(error))
        log.error("%s failed: %s", source.name, describe_error(error))


def _record_finished(pending: dict[Any, tuple[Path, Exposure]], result: ProgramResult, tally: ExposureTally) -> None:
    """Record each finished future of ``pending`` (future -> (product, exposure)), release it and forget it."""
    for future in [future for future in pending if future.done()]:
        _record_future(pending.pop(future), future, result, tally)


def _record_future(product: tuple[Path, Exposure], future: Any, result: ProgramResult, tally: ExposureTally) -> None:
    target, exposure = product
    _record(result, exposure, target, future.exception() if future.status == "error" else None)
    future.release()
    tally.product_finished(exposure.path)


def _gather_on_client(pending: dict[Any, tuple[Path, Exposure]], execution: Execution, result: ProgramResult,
                      tally: ExposureTally) -> None:  # fmt: skip
    """Wait for the write tasks still ``pending`` (future -> (product, exposure)); each product succeeds or fails
    on its own."""
    from distributed import as_completed

    for future in as_completed(list(pending), loop=execution.client.loop):
        _record_future(pending.pop(future), future, result, tally)


class _WriteLogger(Callback):
    """Local-scheduler callback recording (and logging) each product as its write task finishes."""

    def __init__(self, graph: ProgramGraph, result: ProgramResult) -> None:
        super().__init__()
        self.target_of = {task.key: target for target, task in graph.writes.items()}
        self.graph, self.result = graph, result

    def _posttask(self, key: Any, value: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in self.target_of:
            target = self.target_of[key]
            _record(self.result, self.graph.sources[target], target, None)


def _compute_locally(graph: ProgramGraph, execution: Execution, result: ProgramResult, progress: str | None) -> None:
    """One ``dask.compute`` of every write task; if it fails, redo the unfinished products one by one
    to find the failing exposures (local schedulers stop at the first error). ``progress``: the progress
    bar's label, or None for no bar."""
    exposures: dict[str, int] = {}
    groups = {task.key: exposures.setdefault(os.fspath(graph.sources[target].path), len(exposures))
              for target, task in graph.writes.items()}  # fmt: skip
    with (progress_bar(enabled=progress is not None, description=progress or ""), _WriteLogger(graph, result),
          block_major_local_order(groups)):
        try:
            with _stragglers_awaited(execution.compute_kwargs) as compute_kwargs:
                dask.compute(*optimize_writes(graph.writes).values(), optimize_graph=False, **compute_kwargs)
            return
        except Exception:
            log.debug("the program graph failed; finding the failing exposures one by one", exc_info=True)
        for target, task in graph.writes.items():
            if target in result.written or os.fspath(graph.sources[target].path) in result.failed:
                continue
            try:
                with _stragglers_awaited(execution.compute_kwargs) as compute_kwargs:
                    dask.compute(task, **compute_kwargs)
            except Exception as error:
                _record(result, graph.sources[target], target, error)


@contextlib.contextmanager
def _stragglers_awaited(compute_kwargs: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``compute_kwargs`` for one local compute whose threads are all idle again when the block exits.

    dask's threaded scheduler raises a task's error at once, while its other threads still run their tasks
    (writing product files); redoing those products before they finish races with them (a temporary file
    renamed away under a rerun's write). A pool of the compute's own, shut down with ``wait=True``, waits for
    them. The process pool of ``processes`` is already shut down (waiting) by dask; ``sync`` has no threads.
    """
    if compute_kwargs.get("scheduler") is not dask.threaded.get:
        yield compute_kwargs
        return
    workers = compute_kwargs.get("num_workers") or os.cpu_count() or 1
    pool = getattr(dask.threaded, "ContextAwareThreadPoolExecutor", ThreadPoolExecutor)(workers)  # as dask's own
    try:
        yield {**{k: v for k, v in compute_kwargs.items() if k != "num_workers"}, "pool": pool}
    finally:
        pool.shutdown(wait=True)


def run(
    pipeline: str | Pipeline,
    inputs: Inputs,
    output_dir: str | os.PathLike = ".",
    *,
    scheduler: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
    chunks: Mapping[str, int] | str | None = None,
    memory_limit: int | str | None = None,
    steps: Mapping[str, Mapping[str, Any]] | None = None,
    references: Any = None,
    start: str | None = None,
    granularity: str = "auto",
) -> ProgramResult:
    """Run a pipeline (by name, e.g. ``"detector1"``, or an instance) over a whole program as one graph.

    ``inputs``: exposure files, folders of ``*_uncal.fits`` and association JSON files. ``scheduler``:
    ``sync``, ``threads[:N]``, ``processes[:N]``, ``local:W[xT]``, ``tcp://HOST:PORT``, ``slurm[:J][,k=v]``
    or ``pbs[:J][,k=v]``. ``memory_limit`` per worker (``"4GB"``) and ``chunks`` (``"y=512,x=2048"``) size
    the pixel blocks. ``steps`` and ``references`` configure a pipeline given by name. ``start`` names the step
    to begin at, for products saved part way (``_ramp.fits`` with ``start="ramp_fit"``). ``granularity``: a
    cluster's tasks are ``"blocks"`` of pixels, whole ``"exposures"``, or ``"auto"`` (exposures when there are at
    least two per worker thread).
    Returns a :class:`ProgramResult`; raises :class:`ProgramFailed` if any exposure failed.
    """
    if isinstance(pipeline, str):
        from jwstlazy.graphs.registry import PIPELINES

        if pipeline not in PIPELINES:
            raise JwstLazyInputError(f"unknown pipeline {pipeline!r}", where="pipeline", expected=", ".join(sorted(PIPELINES)))
        pipeline = PIPELINES[pipeline](steps=steps, references=references)
    return run_program(
        pipeline, inputs, output_dir, scheduler=scheduler, overwrite=overwrite, progress=progress,
        chunks=chunks, memory_limit=memory_limit, start=start, granularity=granularity,
    )
