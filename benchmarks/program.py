"""Throughput and memory of a detector1 program run as one graph, by program size and worker count.

For N simulated exposures (``nircam-imaging``, 2 detectors x 4 dithers per batch, renamed to new
observation numbers beyond 8) and W single-threaded workers of a ``distributed.LocalCluster``, prints
the median over ``--repeats`` rounds of: wall time of the run (cluster already started and warmed up on up
to 2 W exposures), throughput (exposures/s), scaling efficiency (the median over rounds of throughput(W) /
(W * throughput(1)) within a round), peak resident memory of any worker and of the client process (their
high-water marks, VmHWM, the largest over the rounds; each run in a fresh process), and the CPU seconds per
exposure of the client process (client and scheduler) and of all workers together: on a machine with as many
cores as workers, the client's share is what keeps the scaling under W. A round runs each worker count once,
one after the other, so that the runs a ratio compares are close in time. ``--task-layers`` adds, per worker
count, the workers' task seconds per exposure by graph layer (medians over the rounds; from the scheduler's
task stream), to see which work grows when workers share the machine. ``--granularity`` chooses the cluster's
tasks as ``jwstlazy run --granularity`` does (``auto``, the default: one task per exposure when N >= 2 W).

    python benchmarks/program.py --sizes 4 8 16 --workers 1 2 --repeats 3 --pixels 256
    python benchmarks/program.py --pixels full --memory-limit 4GB --out /tmp/jwstlazy_program_bench  # full frames

``--pixels full`` simulates 2048x2048 exposures (about 2 minutes for the 8 of a batch, several GB with their
truth files); ``--out`` keeps the simulation for the next run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def make_program(folder: Path, n: int, pixels: str) -> tuple[list[Path], Path]:
    """``n`` uncal files (batches of 8 simulated exposures, renamed per batch) and the references folder.
    The simulation is kept in ``folder`` and reused when its files are there."""
    from jwstlazy.simulate import simulate_program

    base = sorted((folder / "sim").glob("*_uncal.fits"))
    if len(base) < 8 or not (folder / "sim" / "references").is_dir():
        base = sorted(simulate_program("nircam-imaging", folder / "sim", seed=1, size=pixels)["uncal"])
    files = []
    for index in range(n):
        source = base[index % len(base)]
        batch = index // len(base)
        target = folder / "uncal" / source.name.replace("jw01234001001", f"jw01234{batch + 1:03d}001")
        target.parent.mkdir(exist_ok=True)
        if not target.exists():
            shutil.copy(source, target)
        files.append(target)
    return files, folder / "sim" / "references"


def cpu_of_process() -> float:
    """User + system CPU seconds of this process so far."""
    import psutil

    times = psutil.Process().cpu_times()
    return times.user + times.system


def task_seconds_by_layer(records: list[dict], exposures: int) -> dict[str, float]:
    """Compute seconds per exposure by graph layer (key name before its token and any product name) from
    ``Client.get_task_stream`` records."""
    from dask.utils import key_split

    seconds: dict[str, float] = {}
    for record in records:
        layer = key_split(record["key"]).split("-jw")[0]
        busy = sum(part["stop"] - part["start"] for part in record["startstops"] if part["action"] == "compute")
        seconds[layer] = seconds.get(layer, 0.0) + busy / exposures
    return seconds


def measure(files: list[Path], references: Path, workers: int, repeats: int, memory: str, chunks: str | None,
            granularity: str = "auto") -> dict:  # fmt: skip
    """One row, in this process (run it in a fresh one: see :func:`measure_in_child`); ``granularity`` as
    ``jwstlazy run --granularity``."""
    import os

    import dask.config
    import jwstlazy
    from distributed import Client, LocalCluster
    from jwstlazy.graphs import Detector1Pipeline
    from jwstlazy.graphs.schedulers import DISTRIBUTED_SETTINGS
    from jwstlazy.peak_memory import peak_rss_bytes

    pipeline = Detector1Pipeline(references=references)
    times, client_cpu, worker_cpu, layers = [], [], [], {}
    with dask.config.set(DISTRIBUTED_SETTINGS), LocalCluster(  # as ``--scheduler local:W`` starts it
        n_workers=workers, threads_per_worker=1, memory_limit=memory, dashboard_address=":0"
    ) as cluster:
        with Client(cluster, set_as_default=False) as client:
            warm = tempfile.mkdtemp()

            def run_all(paths: list[Path], out: str, **options) -> None:
                jwstlazy.run(pipeline, paths, out, scheduler=cluster.scheduler_address, progress=False,
                             granularity=granularity, **options)  # fmt: skip

            # imports, numba; on up to 2 W exposures, so that granularity auto picks what the measured runs get
            run_all(files[: min(len(files), 2 * workers)], warm)
            shutil.rmtree(warm)
            worker_pids = list(client.run(os.getpid).values())
            client.get_task_stream(start=time.time())  # installs the scheduler's task-stream plugin from now on
            for _ in range(repeats):
                out = tempfile.mkdtemp()
                workers_before, client_before = sum(client.run(cpu_of_process).values()), cpu_of_process()
                started_at = time.time()
                start = time.perf_counter()
                run_all(files, out, memory_limit=memory, chunks=chunks)
                times.append(time.perf_counter() - start)
                client_cpu.append((cpu_of_process() - client_before) / len(files))
                worker_cpu.append((sum(client.run(cpu_of_process).values()) - workers_before) / len(files))
                layers = task_seconds_by_layer(client.get_task_stream(start=started_at), len(files))  # last run's
                shutil.rmtree(out)
            worker_peak = max(peak_rss_bytes(pid) for pid in worker_pids)  # each worker's own high-water mark
    return {"seconds": statistics.median(times), "worker_peak": worker_peak, "client_peak": peak_rss_bytes(),
            "client_cpu": statistics.median(client_cpu), "worker_cpu": statistics.median(worker_cpu), "layers": layers}


def measure_in_child(files: list[Path], references: Path, workers: int, repeats: int, memory: str,
                     chunks: str | None, granularity: str = "auto") -> dict:  # fmt: skip
    """:func:`measure` in a fresh Python process, so that its client peak is this row's alone."""
    arguments = {"files": [str(f) for f in files], "references": str(references), "workers": workers,
                 "repeats": repeats, "memory": memory, "chunks": chunks, "granularity": granularity}  # fmt: skip
    child = subprocess.run([sys.executable, __file__, "--row", json.dumps(arguments)], capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"benchmark row failed:\n{child.stderr[-3000:]}")
    return json.loads(child.stdout.strip().splitlines()[-1])


def _quiet_logs() -> None:
    import logging

    logging.getLogger("jwstlazy").setLevel(logging.ERROR)
    logging.getLogger("distributed").setLevel(logging.ERROR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pixels", default="256", help="simulated subarray edge (default 256)")
    parser.add_argument("--memory-limit", default="2GB", help="per worker (default 2GB)")
    parser.add_argument("--chunks", help="pixel blocks, as jwstlazy run --chunks (default: chosen from memory)")
    parser.add_argument("--out", type=Path, help="keep the simulated program here and reuse it (default: a temporary folder)")
    parser.add_argument("--task-layers", action="store_true", help="also print task seconds per exposure by layer")
    parser.add_argument("--granularity", choices=["auto", "blocks", "exposures"], default="auto",
                        help="the cluster's tasks, as jwstlazy run --granularity (default auto: exposures from N = 2W)")
    parser.add_argument("--row", help=argparse.SUPPRESS)  # internal: one row, in the child process
    args = parser.parse_args()
    _quiet_logs()
    if args.row:
        row = json.loads(args.row)
        print(json.dumps(measure([Path(f) for f in row["files"]], Path(row["references"]), row["workers"],
                                 row["repeats"], row["memory"], row["chunks"], row["granularity"])))  # fmt: skip
        return
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.out / f"nircam-{args.pixels}" if args.out else Path(scratch)
        files, references = make_program(folder, max(args.sizes), args.pixels)
        print(f"detector1 (granularity {args.granularity}), {args.pixels}x{args.pixels} NIRCam exposures, "
              f"median of {args.repeats} round(s), memory limit {args.memory_limit}/worker, chunks {args.chunks or 'auto'}")  # fmt: skip
        print(f"{'N':>4} {'workers':>7} {'seconds':>8} {'exp/s':>7} {'efficiency':>10} {'worker peak MB':>14} "
              f"{'client peak MB':>14} {'client CPU s/exp':>16} {'workers CPU s/exp':>17}")  # fmt: skip
        for n in args.sizes:
            # rounds: one run of each worker count after the other, so that a ratio compares runs minutes apart at
            # most (this VM's speed drifts by 10-20 % over tens of minutes; whole rows apart, ratios moved with it)
            rounds = [{workers: measure_in_child(files[:n], references, workers, 1, args.memory_limit, args.chunks,
                                                 args.granularity)
                       for workers in args.workers} for _ in range(args.repeats)]  # fmt: skip
            for workers in args.workers:
                rows = [r[workers] for r in rounds]
                seconds = statistics.median(row["seconds"] for row in rows)
                throughput = n / seconds
                if 1 in args.workers:  # median over rounds of (time with 1 worker / time with W) / W
                    efficiency = statistics.median(r[1]["seconds"] / (workers * r[workers]["seconds"]) for r in rounds)
                    shown = f"{efficiency:10.2f}"
                else:
                    shown = f"{'-':>10}"
                print(f"{n:>4} {workers:>7} {seconds:>8.2f} {throughput:>7.2f} {shown} "
                      f"{max(row['worker_peak'] for row in rows) / 2**20:>14.0f} "
                      f"{max(row['client_peak'] for row in rows) / 2**20:>14.0f} "
                      f"{statistics.median(row['client_cpu'] for row in rows):>16.2f} "
                      f"{statistics.median(row['worker_cpu'] for row in rows):>17.2f}", flush=True)  # fmt: skip
            if args.task_layers:
                for workers in args.workers:
                    names = {name for r in rounds for name in r[workers]["layers"]}
                    medians = {name: statistics.median(r[workers]["layers"].get(name, 0.0) for r in rounds)
                               for name in names}  # fmt: skip
                    largest = sorted(medians.items(), key=lambda item: -item[1])[:8]
                    print(f"     task s/exp by layer, {workers} worker(s), total {sum(medians.values()):.2f}: "
                          + ", ".join(f"{name} {value:.3f}" for name, value in largest), flush=True)  # fmt: skip

if __name__ == "__main__":
    main()
