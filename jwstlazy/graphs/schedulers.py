"""Turning a ``--scheduler`` string into a running dask scheduler.

``sync`` (debugging), ``threads[:N]`` (default), ``processes[:N]``, ``local:W[xT]`` (a
``distributed.LocalCluster`` of W worker processes with T threads each), ``tcp://HOST:PORT`` (an existing
scheduler) and ``slurm[:J][,key=value...]`` / ``pbs[:J][,key=value...]`` (J batch jobs of workers started
through dask-jobqueue, the optional ``cluster`` extra; the key=value pairs are passed to
``SLURMCluster``/``PBSCluster``, e.g. ``slurm:4,queue=normal,cores=8,memory=32GB,walltime=02:00:00``;
anything not given comes from dask-jobqueue's configuration file, ``~/.config/dask/jobqueue.yaml``).

:func:`scheduler_context` starts what the string asks for, yields a :class:`Execution` saying how to
compute on it and how much memory and how many threads each worker has (chunk sizes are chosen from
these), and closes what it started.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jwstlazy.errors import JwstLazyInputError

log = logging.getLogger(__name__)

DEFAULT_SCHEDULER = "threads"
EXPECTED_SCHEDULERS = (
    "sync, threads[:N], processes[:N], local:W[xT], tcp://HOST:PORT, slurm[:J][,key=value...] or pbs[:J][,key=value...]"
)
#: Memory assumed per worker of a cluster that has no worker yet and whose size was not given.
FALLBACK_WORKER_MEMORY = 4 * 2**30
JOBQUEUE_CLASSES = {"slurm": "SLURMCluster", "pbs": "PBSCluster"}


@dataclass
class SchedulerSpec:
    """A parsed scheduler choice: ``kind`` plus its numbers."""

    kind: str  # "sync", "threads", "processes", "local", "address", "slurm", "pbs"
    workers: int | None = None
    threads_per_worker: int | None = None
    address: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def distributed(self) -> bool:
        """True when the work runs on dask.distributed workers (through a ``Client``)."""
        return self.kind in ("local", "address", *JOBQUEUE_CLASSES)


@dataclass
class Execution:
    """A started scheduler: how to compute on it and what each worker has."""

    compute_kwargs: dict[str, Any]
    client: Any = None  #: a ``distributed.Client``, or None for the local schedulers
    workers: int = 1
    threads_per_worker: int = 1
    memory_limit: int = FALLBACK_WORKER_MEMORY  #: bytes per worker
    dashboard_link: str | None = None


def parse_scheduler(spec: str | None) -> SchedulerSpec:
    """Parse a scheduler string; a bad one raises :class:`JwstLazyInputError` saying what is accepted."""
    text = (spec or DEFAULT_SCHEDULER).strip()
    if text == "sync":
        return SchedulerSpec("sync")
    if match := re.fullmatch(r"(threads|processes)(?::(\d+))?", text):
        return SchedulerSpec(match.group(1), workers=int(match.group(2)) if match.group(2) else None)
    if match := re.fullmatch(r"local:(\d+)(?:x(\d+))?", text):
        return SchedulerSpec("local", workers=int(match.group(1)), threads_per_worker=int(match.group(2) or 1))
    if re.fullmatch(r"(tcp|tls|ucx)://[\w.\-]+:\d+", text):
        return SchedulerSpec("address", address=text)
    if match := re.fullmatch(r"(slurm|pbs)(?::(\d+))?((?:,[A-Za-z_]\w*=[^,=]+)*)", text):
        options = dict(item.split("=", 1) for item in match.group(3).split(",") if item)
        return SchedulerSpec(match.group(1), workers=int(match.group(2) or 1), options={k: _number_or_text(v) for k, v in options.items()})
    raise JwstLazyInputError(f"unknown scheduler {text!r}", where="--scheduler", expected=EXPECTED_SCHEDULERS)


def parse_memory_limit(text: str | int | None) -> int | None:
    """Bytes from ``'4GB'``, ``'512MiB'``, ``'2e9'`` or an int; ``None``/``'auto'`` stays None."""
    if text is None or (isinstance(text, str) and text.strip().lower() in ("", "auto")):
        return None
    from dask.utils import parse_bytes

    try:
        limit = int(text) if isinstance(text, int) else int(parse_bytes(text))
    except (ValueError, TypeError):
        limit = 0
    if limit <= 0:
        raise JwstLazyInputError(f"cannot read memory limit {text!r}", where="--memory-limit", expected="a size such as 4GB or 512MiB")
    return limit


@contextlib.contextmanager
def scheduler_context(spec: str | SchedulerSpec | None, memory_limit: int | None = None) -> Iterator[Execution]:
    """Start the scheduler ``spec`` asks for and yield its :class:`Execution`; closes what it started.

    ``memory_limit`` (bytes per worker) is enforced on ``local`` clusters and used to size chunks
    everywhere; by default a local cluster divides the machine's memory between its workers.
    """
    parsed = spec if isinstance(spec, SchedulerSpec) else parse_scheduler(spec)
    if parsed.kind in ("sync", "threads", "processes"):
        yield _local_execution(parsed, memory_limit)
        return
    import dask.config
    import distributed  # noqa: F401  (loads its configuration defaults, which the settings below then amend)

    with dask.config.set(DISTRIBUTED_SETTINGS):  # read as the client, scheduler and workers start
        yield from _distributed_execution(parsed, memory_limit)


#: dask.distributed settings for the clients and clusters jwstlazy starts. Every client, scheduler and worker
#: stream (``BatchedSend``) keeps its last ``low-level-log-length`` messages (default 1000) for debugging, each
#: under 1 MB kept as the live objects: the client's kept every exposure graph it had sent (about 0.8 MB of Python
#: objects each), so the client's memory grew with the program until 1000 messages had been sent.
DISTRIBUTED_SETTINGS = {"distributed.admin.low-level-log-length": 0}


def _distributed_execution(parsed: SchedulerSpec, memory_limit: int | None) -> Iterator[Execution]:
    from distributed import Client

    if parsed.kind == "local":
        from distributed import LocalCluster

        with LocalCluster(
            n_workers=parsed.workers, threads_per_worker=parsed.threads_per_worker, processes=True,
            dashboard_address=":0", memory_limit=memory_limit or "auto",
        ) as cluster, Client(cluster, set_as_default=False) as client:
            yield _client_execution(client, memory_limit)
    elif parsed.kind == "address":
        with Client(parsed.address, set_as_default=False) as client:
            log.info("connected to %s", parsed.address)
            yield _client_execution(client, memory_limit)
    else:
        with _jobqueue_cluster(parsed) as cluster, Client(cluster, set_as_default=False) as client:
            yield _client_execution(client, memory_limit or _jobqueue_worker_memory(parsed))


def _number_or_text(value: str) -> int | float | str:
    for kind in (int, float):
        with contextlib.suppress(ValueError):
            return kind(value)
    return value


def _machine_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def local_scheduler(kind: str) -> Callable:
    """dask's ``get`` function for ``sync``, ``threads`` or ``processes``: given as a function, dask does not
    import ``distributed`` to look for a client, as it does for a scheduler's name."""
    import dask.local
    import dask.multiprocessing
    import dask.threaded

    return {"sync": dask.local.get_sync, "threads": dask.threaded.get, "processes": dask.multiprocessing.get}[kind]


def _local_execution(parsed: SchedulerSpec, memory_limit: int | None) -> Execution:
    """The single-machine schedulers: memory per worker is the limit given, or the machine's share."""
    cores = os.cpu_count() or 1
    if parsed.kind == "sync":
        return Execution({"scheduler": local_scheduler("sync")}, memory_limit=memory_limit or _machine_memory())
    kwargs: dict[str, Any] = {"scheduler": local_scheduler(parsed.kind)}
    if parsed.workers:
        kwargs["num_workers"] = parsed.workers
    if parsed.kind == "threads":
        return Execution(kwargs, threads_per_worker=parsed.workers or cores, memory_limit=memory_limit or _machine_memory())
    workers = parsed.workers or cores
    return Execution(kwargs, workers=workers, memory_limit=memory_limit or _machine_memory() // workers)


def _client_execution(client: Any, fallback_memory: int | None) -> Execution:
    """Read the workers' sizes from the scheduler (the smallest worker decides)."""
    link = client.dashboard_link
    log.info("dask dashboard: %s", link)
    workers = client.scheduler_info(n_workers=-1).get("workers", {}).values()
    limits = [w["memory_limit"] for w in workers if w.get("memory_limit")]
    threads = [w["nthreads"] for w in workers if w.get("nthreads")]
    return Execution(
        {},
        client=client,
        workers=max(1, len(workers)),
        threads_per_worker=min(threads, default=1),
        memory_limit=min(limits, default=fallback_memory or FALLBACK_WORKER_MEMORY),
        dashboard_link=link,
    )


@contextlib.contextmanager
def _jobqueue_cluster(parsed: SchedulerSpec) -> Iterator[Any]:
    """A dask-jobqueue cluster of ``parsed.workers`` jobs; clear error if dask-jobqueue is missing."""
    class_name = JOBQUEUE_CLASSES[parsed.kind]
    try:
        import dask_jobqueue
    except ImportError:
        raise JwstLazyInputError(
            f"scheduler {parsed.kind!r} needs dask-jobqueue, which is not installed", where="--scheduler",
            expected="pip install 'jwstlazy[cluster]' (or pip install dask-jobqueue)",
        ) from None
    cluster = getattr(dask_jobqueue, class_name)(**parsed.options)
    try:
        log.info("submitting %d %s job(s):\n%s", parsed.workers, parsed.kind, cluster.job_script())
        cluster.scale(jobs=parsed.workers)
        yield cluster
    finally:
        cluster.close()


def _jobqueue_worker_memory(parsed: SchedulerSpec) -> int | None:
    """Memory per worker of a batch job from its options or the dask-jobqueue configuration."""
    import dask.config
    from dask.utils import parse_bytes

    memory = parsed.options.get("memory") or dask.config.get(f"jobqueue.{parsed.kind}.memory", None)
    processes = parsed.options.get("processes") or dask.config.get(f"jobqueue.{parsed.kind}.processes", None) or 1
    return int(parse_bytes(str(memory)) // int(processes)) if memory else None
