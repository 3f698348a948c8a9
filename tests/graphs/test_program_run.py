"""Running a program as one graph on the local schedulers: products, logs, resume, failures, progress, kills."""

from __future__ import annotations

import fcntl
import logging
import os
import pty
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import numpy as np
import pytest

import jwstlazy
from jwstlazy.cli import main
from jwstlazy.graphs import execute
from jwstlazy.graphs.execute import ProgramFailed, build_program, run_program
from jwstlazy.graphs.naming import product_path, temporary_target
from toy_pipeline import ToyPipeline, write_toy_uncal

TOY_SCRIPT = Path(__file__).parent / "toy_pipeline.py"
PRODUCTS = ("rate", "rateints")


def _products(exposures, out):
    return [product_path(e, suffix, out) for e in exposures for suffix in PRODUCTS]


def test_one_graph_writes_every_product_logging_each(toy_exposures, tmp_path, caplog):
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="jwstlazy"):
        result = jwstlazy.run(ToyPipeline(), [toy_exposures[0].parent], out, scheduler="threads:2", progress=False)
    assert sorted(result.written) == sorted(_products(toy_exposures, out))
    assert {f"wrote {p}" for p in result.written} <= {r.getMessage() for r in caplog.records}
    rate = jwstlazy.open(out / toy_exposures[0].name.replace("uncal", "rate"))["SCI"].values
    sci = jwstlazy.open(toy_exposures[0])["SCI"].values.astype(np.float32)
    expected = ((sci[:, -1] - sci[:, 0]) / 30.0).mean(axis=0)
    np.testing.assert_allclose(rate, expected, rtol=1e-6)


def test_graph_has_a_write_task_per_product_and_chunks_follow_memory_and_overrides(toy_exposures, tmp_path):
    graph = build_program(ToyPipeline(), toy_exposures[:2], tmp_path, memory_limit=200_000)
    assert len(graph.writes) == 4 and graph.task_count > 4
    assert all(key.startswith("write-") for key in (task.key for task in graph.writes.values()))
    assert max(next(iter(graph.products.values()))["SCI"].chunks[0]) < 32  # rows split to fit 200 kB
    forced = build_program(ToyPipeline(), toy_exposures[:1], tmp_path, chunks="y=4,x=16", memory_limit=2**30)
    assert next(iter(forced.products.values()))["SCI"].chunks == ((4,) * 8, (16, 16))


def test_rerun_skips_complete_products_without_starting_a_scheduler(toy_exposures, tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = run_program(ToyPipeline(), toy_exposures, out, scheduler="sync", progress=False)
    monkeypatch.setattr(execute, "scheduler_context", lambda *a, **k: pytest.fail("started a scheduler"))
    again = run_program(ToyPipeline(), toy_exposures, out, scheduler="sync", progress=False)
    assert again.written == [] and sorted(again.skipped) == sorted(first.written)


def test_overwrite_redoes_and_a_damaged_product_is_redone(toy_exposures, tmp_path):
    out = tmp_path / "out"
    run_program(ToyPipeline(), toy_exposures, out, scheduler="sync", progress=False)
    damaged = product_path(toy_exposures[3], "rate", out)
    damaged.write_bytes(damaged.read_bytes()[:5000])  # truncated: headers promise more bytes
    redo = run_program(ToyPipeline(), toy_exposures, out, scheduler="sync", progress=False)
    assert set(redo.written) == {damaged, product_path(toy_exposures[3], "rateints", out)}
    jwstlazy.open(damaged)
    everything = run_program(ToyPipeline(), toy_exposures, out, scheduler="sync", progress=False, overwrite=True)
    assert len(everything.written) == 12 and everything.skipped == []


def test_corrupt_exposure_is_reported_by_name_and_the_others_finish(toy_exposures, tmp_path, monkeypatch, capsys):
    bad = toy_exposures[2]
    bad.write_bytes(bad.read_bytes()[:4000])
    failing = write_toy_uncal(toy_exposures[0].parent / "jw_fails_in_compute_uncal.fits", seed=9, tgroup=0.0)
    out = tmp_path / "out"
    with pytest.raises(ProgramFailed) as info:
        run_program(ToyPipeline(), [toy_exposures[0].parent], out, scheduler="threads:2", progress=False)
    assert set(info.value.result.failed) == {str(bad), str(failing)}
    assert "truncated" in info.value.result.failed[str(bad)] and "TGROUP" in info.value.result.failed[str(failing)]
    good = [e for e in toy_exposures if e != bad]
    assert sorted(info.value.result.written) == sorted(_products(good, out))
    monkeypatch.setitem(__import__("jwstlazy.graphs.registry").graphs.registry.PIPELINES, "toy", ToyPipeline)
    assert main(["run", "toy", str(toy_exposures[0].parent), "--output-dir", str(out), "--quiet", "--scheduler", "sync"]) == 1
    assert bad.name in capsys.readouterr().err


def _run_in_pty(args: list[str], timeout: float = 60) -> tuple[int, str]:
    """Run the toy ``jwstlazy`` command with a terminal as stdout/stderr; return (status, everything shown)."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # a 100-column terminal
    process = subprocess.Popen([sys.executable, str(TOY_SCRIPT), *args], stdout=follower, stderr=follower, close_fds=True)
    os.close(follower)
    shown, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([leader], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal closes when the command exits
                break
            if not chunk:
                break
            shown += chunk
        elif process.poll() is not None:
            break
    os.close(leader)
    return process.wait(timeout=10), shown.decode(errors="replace")


def test_progress_bar_on_a_terminal_and_quiet(toy_exposures, tmp_path):
    folder = str(toy_exposures[0].parent)
    status, shown = _run_in_pty(["run", "toy", folder, "--output-dir", str(tmp_path / "a"), "--scheduler", "sync"])
    assert status == 0, shown
    assert "toy: 6 exposures: 100%" in shown and "task/s" in shown and "wrote " in shown
    status, shown = _run_in_pty(["run", "toy", folder, "--output-dir", str(tmp_path / "b"), "--quiet"])
    assert status == 0 and "100%" not in shown and "wrote " in shown


def test_killed_run_leaves_no_partial_product_and_a_rerun_completes(toy_exposures, tmp_path):
    out = tmp_path / "out"
    args = [sys.executable, str(TOY_SCRIPT), "run", "toy", str(toy_exposures[0].parent), "--output-dir", str(out),
            "--scheduler", "threads:1", "--chunks", "y=8", "--quiet", "--steps.toy_ramp.seconds_per_chunk=0.15"]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not list(out.glob("*_rate*.fits")) and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    leftover = out / f".{product_path(toy_exposures[5], 'rate', out).name}.{'0' * 32}.tmp"
    leftover.write_bytes(b"SIMPLE  =                    T")  # as if a writer died before its rename
    finished = {p for p in out.iterdir() if temporary_target(p) is None}
    assert 0 < len(finished) < 12
    for product in finished:  # every file under a product name is complete
        jwstlazy.open(product)
    rerun = run_program(ToyPipeline(), toy_exposures, out, scheduler="sync", progress=False)
    assert set(rerun.skipped) >= {p for p in finished if p.name.endswith("_rate.fits")} - {leftover}
    assert sorted(out.iterdir()) == sorted(_products(toy_exposures, out))  # no temporary file remains


def test_a_failed_threaded_compute_returns_after_its_running_tasks():
    """The local rerun of a failed program (one product at a time) must not start while the failed compute's
    other threads still write products: the compute's own pool is waited for."""
    import threading

    import dask

    finished = threading.Event()

    def slow():
        time.sleep(0.3)
        finished.set()

    def fails(_):
        raise ValueError("bad exposure")

    started = dask.delayed(slow)()
    failing = dask.delayed(fails)(dask.delayed(time.sleep)(0.05))
    with pytest.raises(ValueError, match="bad exposure"):
        with execute._stragglers_awaited({"scheduler": dask.threaded.get, "num_workers": 2}) as kwargs:
            dask.compute(started, failing, **kwargs)
    assert finished.is_set()
