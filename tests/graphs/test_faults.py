"""Faults on a dask.distributed cluster: a worker killed mid-run costs recomputation, not products."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

import jwstlazy
from jwstlazy.graphs.execute import run_program
from jwstlazy.graphs.naming import product_path, temporary_target
from toy_pipeline import ToyPipeline

SLOW = {"toy_ramp": {"seconds_per_chunk": 0.1}}


@pytest.fixture(scope="module")
def cluster():
    """One LocalCluster of two single-threaded worker processes for this module."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0", memory_limit="1GiB") as local:
        yield local


def _kill_a_worker_when_a_product_appears(address: str, out, killed: list[int]) -> None:
    from distributed import Client

    with Client(address, set_as_default=False) as client:
        deadline = time.monotonic() + 30
        while not list(out.glob("*_rate*.fits")) and time.monotonic() < deadline:
            time.sleep(0.02)
        pid = next(iter(client.run(os.getpid).values()))
        os.kill(pid, signal.SIGKILL)
        killed.append(pid)


@pytest.mark.parametrize("granularity", ["blocks", "exposures"])
def test_killing_a_worker_mid_run_still_writes_identical_products(cluster, toy_exposures, tmp_path, granularity):
    reference = run_program(ToyPipeline(), toy_exposures, tmp_path / "sync", scheduler="sync", progress=False)
    out = tmp_path / "cluster"
    out.mkdir()
    killed: list[int] = []
    killer = threading.Thread(target=_kill_a_worker_when_a_product_appears, args=(cluster.scheduler_address, out, killed))
    killer.start()
    result = run_program(
        ToyPipeline(steps=SLOW), toy_exposures, out, scheduler=cluster.scheduler_address, progress=False, chunks="y=8",
        granularity=granularity,
    )
    killer.join()
    assert killed, "no worker was killed"
    assert len(result.written) == 12 and not result.failed
    assert all(temporary_target(p) is None for p in out.iterdir())
    for path in reference.written:
        ours, theirs = jwstlazy.open(out / path.name), jwstlazy.open(path)
        for name in ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE"):
            np.testing.assert_array_equal(ours[name].values, theirs[name].values)
    assert product_path(toy_exposures[0], "rate", out).exists()
