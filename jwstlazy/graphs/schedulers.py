"""Turning a ``--scheduler`` string into a dask scheduler.

``sync`` (debugging), ``threads[:N]`` (default), ``processes[:N]``, ``local:W[xT]`` (a
``distributed.LocalCluster`` of W workers with T threads each) and ``tcp://HOST:PORT`` (an existing
scheduler).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from jwstlazy.errors import JwstLazyInputError

log = logging.getLogger(__name__)

DEFAULT_SCHEDULER = "threads"


@dataclass
class SchedulerSpec:
    """A parsed scheduler choice: ``kind`` plus its numbers."""

    kind: str  # "sync", "threads", "processes", "local", "address"
    workers: int | None = None
    threads_per_worker: int | None = None
    address: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def distributed(self) -> bool:
        return self.kind in ("local", "address")


def parse_scheduler(spec: str | None) -> SchedulerSpec:
    """Parse a scheduler string; a bad one raises :class:`JwstLazyInputError` saying what is accepted."""
    text = (spec or DEFAULT_SCHEDULER).strip()
    expected = "sync, threads[:N], processes[:N], local:W[xT] or tcp://HOST:PORT"
    if text == "sync":
        return SchedulerSpec("sync")
    match = re.fullmatch(r"(threads|processes)(?::(\d+))?", text)
    if match:
        return SchedulerSpec(match.group(1), workers=int(match.group(2)) if match.group(2) else None)
    match = re.fullmatch(r"local:(\d+)(?:x(\d+))?", text)
    if match:
        return SchedulerSpec("local", workers=int(match.group(1)), threads_per_worker=int(match.group(2) or 1))
    if re.fullmatch(r"(tcp|tls|ucx)://[\w.\-]+:\d+", text):
        return SchedulerSpec("address", address=text)
    raise JwstLazyInputError(f"unknown scheduler {text!r}", where="--scheduler", expected=expected)


@contextlib.contextmanager
def scheduler_context(spec: str | SchedulerSpec | None) -> Iterator[tuple[dict[str, Any], Any]]:
    """Yield ``(compute_kwargs, client_or_None)`` for ``dask.compute``; closes what it started."""
    parsed = spec if isinstance(spec, SchedulerSpec) else parse_scheduler(spec)
    if parsed.kind == "sync":
        yield {"scheduler": "sync"}, None
    elif parsed.kind in ("threads", "processes"):
        kwargs: dict[str, Any] = {"scheduler": parsed.kind}
        if parsed.workers:
            kwargs["num_workers"] = parsed.workers
        yield kwargs, None
    elif parsed.kind == "local":
        from distributed import Client, LocalCluster

        with LocalCluster(
            n_workers=parsed.workers, threads_per_worker=parsed.threads_per_worker, processes=True, dashboard_address=":0"
        ) as cluster, Client(cluster) as client:
            log.info("dask dashboard: %s", client.dashboard_link)
            yield {}, client
    else:
        from distributed import Client

        with Client(parsed.address) as client:
            log.info("connected to %s; dashboard: %s", parsed.address, client.dashboard_link)
            yield {}, client
