"""Stage 1 (detector1), ours vs the official jwst Detector1Pipeline on the same simulated exposure.

    python benchmarks/detector1.py [--cases full,tso] [--repeats 3] [--out /tmp/jwstlazy_detector1_bench]

Cases: ``full`` = NIRCam NRCA1 2048x2048, 10 groups, 1 integration; ``tso`` = NRCA1 256x256 (centred),
10 groups, 500 integrations (``--tso-nints`` to change). Simulated files and references are cached in --out.
Each run is a fresh process (so peak RSS is that run's): ours = open + build the lazy graph + compute + write
_rate/_rateints; official = jwst's pipeline with the same references (import time reported apart). Ours is
also timed step by step (each step's output persisted before the next; the sum exceeds the fused run).
``--repeats`` rounds each run ours, then the official pipeline. Prints a table of medians (peaks: the largest);
the speed-up is the median of the rounds' ratios; throughput is pixels x groups x integrations per second.
``--runs-per-process N``: each process runs its pipeline N times; the table above stays the first (cold) runs,
a second table gives runs 2-N (an exposure of a program in a running process: imports, numba's kernels and the
official pipeline's step classes loaded, files in the page cache), with peaks over all runs.
``--chunk-study``: build/compute seconds by pixel-block height; ``--task-profile``: cold/warm runs in one process
and task seconds by graph layer (both on the first of ``--cases``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CASES = {
    "full": dict(subarray="FULL", ngroups=10, nints=1),
    "tso": dict(subarray="256", ngroups=10, nints=500),
}

_OURS_CHILD = r"""
import json, sys, time
start = time.perf_counter()
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
imported = time.perf_counter()
from jwstlazy.peak_memory import peak_rss_bytes
uncal, refs, out, scheduler, runs = sys.argv[1:6]
seconds = []
for _ in range(int(runs)):  # the first run is the cold one; later ones are an exposure in a running process
    run_start = time.perf_counter()
    Detector1Pipeline(references=ReferenceFinder(directories=[refs])).run(
        [uncal], output_dir=out, scheduler=scheduler, overwrite=True, progress=False)
    seconds.append(time.perf_counter() - run_start)
print(json.dumps({"seconds": seconds[0], "later_run_seconds": seconds[1:], "import_seconds": imported - start,
                  "peak_rss_bytes": peak_rss_bytes()}))
"""

_STEPS_CHILD = r"""
import json, sys, time
import logging; logging.disable(logging.WARNING)
from jwstlazy.datamodels import open as open_product
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
from jwstlazy.steps.detector1.corrections import without_chain
uncal, refs = sys.argv[1:3]
pipeline = Detector1Pipeline(references=ReferenceFinder(directories=[refs]))
data = open_product(uncal)
times = {}
start = time.perf_counter()
data = data.persist()
times["read"] = time.perf_counter() - start
for step in pipeline.steps_for(data):
    start = time.perf_counter()
    data = step.run(data, pipeline.references)
    data = {k: v.persist() for k, v in data.items()} if isinstance(data, dict) else without_chain(data.persist())
    times[step.name] = time.perf_counter() - start  # (without_chain: the next step does not redo this one)
print(json.dumps(times))
"""


_CHUNKS_CHILD = r"""
import json, statistics, sys, time
import logging; logging.disable(logging.WARNING)
import dask
from jwstlazy.datamodels import open as open_product
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
uncal, refs, rows, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pipeline = Detector1Pipeline(references=ReferenceFinder(directories=[refs]))
build, compute = [], []
for _ in range(repeats + 1):  # the first run warms numba's cache and is dropped
    start = time.perf_counter()
    products = pipeline.build(open_product(uncal, chunks={"y": rows}))
    built = time.perf_counter()
    dask.compute(products["rate"], products["rateints"])
    build.append(built - start)
    compute.append(time.perf_counter() - built)
print(json.dumps({"build": statistics.median(build[1:]), "compute": statistics.median(compute[1:])}))
"""


_PROFILE_CHILD = r"""
import json, sys, tempfile, time
import logging; logging.disable(logging.WARNING)
from collections import defaultdict
from dask.callbacks import Callback
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
from jwstlazy.peak_memory import peak_rss_bytes
uncal, refs = sys.argv[1:3]
imported_rss = peak_rss_bytes()

def resident_libraries():
    # resident bytes of each shared library mapped now (file pages count in RSS), largest first
    import re
    sizes, library = defaultdict(int), None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            if re.match(r"[0-9a-f]+-[0-9a-f]+ ", line):
                path = line.split()[-1]
                library = path.rsplit("/", 1)[-1] if path.startswith("/") and ".so" in path else None
            elif line.startswith("Rss:") and library:
                sizes[library] += int(line.split()[1]) * 1024
    return sorted(sizes.items(), key=lambda item: -item[1])
libraries = resident_libraries()

class TaskTimes(Callback):
    def __init__(self):
        super().__init__()
        self.started, self.seconds = {}, defaultdict(float)
    def _pretask(self, key, dsk, state):
        self.started[key] = time.perf_counter()
    def _posttask(self, key, result, dsk, state, worker_id):
        name = key[0] if isinstance(key, tuple) else key
        prefix, _, token = name.rpartition("-")
        self.seconds[prefix if len(token) >= 16 else name] += time.perf_counter() - self.started.pop(key)

walls = []
for run in range(3):  # the first is cold (numba cache loads, lazy imports), the others warm
    with tempfile.TemporaryDirectory() as out, TaskTimes() as times:
        start = time.perf_counter()
        Detector1Pipeline(references=ReferenceFinder(directories=[refs])).run(
            [uncal], output_dir=out, overwrite=True, progress=False)
        walls.append(time.perf_counter() - start)
top = sorted(times.seconds.items(), key=lambda item: -item[1])[:15]
print(json.dumps({"walls": walls, "task_seconds": sum(times.seconds.values()), "top": top,
                  "imported_rss": imported_rss, "peak_rss": peak_rss_bytes(), "libraries": libraries}))
"""


def task_profile(uncal: Path, refs: Path) -> None:
    """Where a run's time goes: cold and warm wall time in one process, task seconds by graph layer (threads)."""
    result = _child(_PROFILE_CHILD, str(uncal), str(refs))
    walls = ", ".join(f"{wall:.2f}" for wall in result["walls"])
    print(f"\ntask profile, {uncal.name} (threads): run wall s (cold, warm, warm): {walls}")
    print(f"RSS after imports {result['imported_rss'] / 1e9:.2f} GB, peak {result['peak_rss'] / 1e9:.2f} GB; "
          f"task seconds in the last run {result['task_seconds']:.2f}")
    libraries = result["libraries"]
    largest = ", ".join(f"{name} {size / 1e9:.3f}" for name, size in libraries[:4])
    print(f"  of the RSS after imports, shared libraries {sum(size for _, size in libraries) / 1e9:.2f} GB; "
          f"largest (GB): {largest}")
    for name, seconds in result["top"]:
        print(f"  {name[:60]:60s} {seconds:6.3f}")


def chunk_study(uncal: Path, refs: Path, repeats: int) -> None:
    """Graph-build and compute seconds (no writing) by pixel-block height, threads scheduler, in one process."""
    print(f"\nchunk study, {uncal.name}: median of {repeats} (after a warm-up run)")
    print(f"{'y rows':>7s} {'build s':>8s} {'compute s':>10s}")
    for rows in (64, 128, 256, 512):
        result = _child(_CHUNKS_CHILD, str(uncal), str(refs), str(rows), str(repeats))
        print(f"{rows:7d} {result['build']:8.2f} {result['compute']:10.2f}")


def simulate_case(name: str, folder: Path, tso_nints: int) -> tuple[Path, Path]:
    """Simulated uncal + references for a case (cached)."""
    from jwstlazy.datamodels import write_fits
    from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files

    settings = dict(CASES[name])
    if name == "tso":
        settings["nints"] = tso_nints
    folder = folder / f"{name}_{settings['nints']}"
    uncal = folder / "jw01234001001_01101_00001_nrca1_uncal.fits"
    if not uncal.exists():
        folder.mkdir(parents=True, exist_ok=True)
        write_reference_files("NRCA1", folder / "references", subarray=settings["subarray"], dark_frames=20)
        dataset, _ = simulate_exposure(ExposureConfig(detector="NRCA1", seed=1, **settings))
        write_fits(dataset, uncal)
    return uncal, folder / "references"


def _child(code: str, *args: str) -> dict:
    output = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    return json.loads(output.stdout.strip().splitlines()[-1])


def run_ours(uncal: Path, refs: Path, scheduler: str, runs: int = 1) -> dict:
    with tempfile.TemporaryDirectory() as out:
        return _child(_OURS_CHILD, str(uncal), str(refs), out, scheduler, str(runs))


def run_official(uncal: Path, refs: Path, runs: int = 1) -> dict | None:
    try:
        from jwstlazy.crosscheck.official import run_official_detector1_subprocess
    except ImportError:
        return None
    references = {p.name.split("_")[2]: p for p in refs.glob("jwst_*.fits")}
    with tempfile.TemporaryDirectory() as out:
        result = run_official_detector1_subprocess(uncal, references, Path(out), runs=runs)
    return {"seconds": result["pipeline_seconds"], "import_seconds": result.get("import_seconds"),
            "peak_rss_bytes": result.get("peak_rss_bytes"), "steps": result.get("step_seconds", {}),
            "later_run_seconds": result["later_run_seconds"]}


def _later_runs(ours: list[dict], official: list[dict]) -> dict:
    """Medians of the runs after each process's first (``--runs-per-process``), and the speed-up as the median
    of each round's ratio; None where there were none."""
    def median_later(results: list[dict]) -> list[float]:
        return [statistics.median(r["later_run_seconds"]) for r in results if r.get("later_run_seconds")]

    ours_later, official_later = median_later(ours), median_later(official)
    return {"ours_later_s": statistics.median(ours_later) if ours_later else None,
            "official_later_s": statistics.median(official_later) if official_later else None,
            "later_speedup": statistics.median(o / u for o, u in zip(official_later, ours_later))
            if ours_later and official_later else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="full,tso")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tso-nints", type=int, default=500)
    parser.add_argument("--scheduler", default="threads")
    parser.add_argument("--no-official", action="store_true")
    parser.add_argument("--runs-per-process", type=int, default=1,
                        help="run each pipeline this many times in its process; runs after the first are also "
                             "reported (an exposure of a program in a running process)")
    parser.add_argument("--chunk-study", action="store_true", help="only time build/compute by block height")
    parser.add_argument("--task-profile", action="store_true", help="only profile tasks by graph layer")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "jwstlazy_detector1_bench")
    args = parser.parse_args()
    if args.chunk_study or args.task_profile:
        uncal, refs = simulate_case(args.cases.split(",")[0], args.out, args.tso_nints)  # the first case given
        if args.chunk_study:
            chunk_study(uncal, refs, args.repeats)
        if args.task_profile:
            task_profile(uncal, refs)
        return
    rows = []
    for name in args.cases.split(","):
        uncal, refs = simulate_case(name, args.out, args.tso_nints)
        import numpy as np  # noqa: F401  (after simulation, keeps the child processes' imports honest)
        from jwstlazy.datamodels import open as open_product

        nints, ngroups, ny, nx = open_product(uncal)["SCI"].shape
        samples = nints * ngroups * ny * nx
        # rounds of ours then the official pipeline: the VM's speed drifts by 10-20 % over tens of minutes, so
        # the speed-up is the median of each round's ratio, of two runs seconds apart
        ours, official = [], []
        for _ in range(args.repeats):
            ours.append(run_ours(uncal, refs, args.scheduler, args.runs_per_process))
            if not args.no_official and (result := run_official(uncal, refs, args.runs_per_process)) is not None:
                official.append(result)
        steps = _child(_STEPS_CHILD, str(uncal), str(refs))
        ours_s = statistics.median(r["seconds"] for r in ours)
        ours_rss = max(r["peak_rss_bytes"] for r in ours) / 1e9
        official_peaks = [r["peak_rss_bytes"] for r in official if r["peak_rss_bytes"]]
        row = {"case": name, "shape": f"{nints}x{ngroups}x{ny}x{nx}", "samples": samples, "ours_s": ours_s,
               "ours_rss_gb": ours_rss,
               "ours_throughput": samples / ours_s, "ours_steps": steps,
               "official_s": statistics.median(r["seconds"] for r in official) if official else None,
               "official_rss_gb": max(official_peaks) / 1e9 if official_peaks else None,
               "official_steps": {step: statistics.median(r["steps"].get(step, float("nan")) for r in official)
                                  for step in official[0]["steps"]} if official else None,
               "speedup": statistics.median(o["seconds"] / u["seconds"] for o, u in zip(official, ours))
               if official else None,
               **_later_runs(ours, official)}  # fmt: skip
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    print(f"\n{'case':6s} {'shape (ints x groups x y x x)':30s} {'ours s':>8s} {'ours GB':>8s} {'Mpix*grp/s':>11s}"
          f" {'official s':>11s} {'official GB':>12s} {'speed-up':>9s}")
    for row in rows:
        speedup = row["speedup"] or float("nan")
        official_s = f"{row['official_s']:.2f}" if row["official_s"] else "n/a"
        official_gb = f"{row['official_rss_gb']:.2f}" if row["official_rss_gb"] else "n/a"
        print(f"{row['case']:6s} {row['shape']:30s} {row['ours_s']:8.2f} {row['ours_rss_gb']:8.2f}"
              f" {row['ours_throughput'] / 1e6:11.1f} {official_s:>11s} {official_gb:>12s} {speedup:9.1f}")
    if args.runs_per_process > 1:
        print(f"\nper exposure in a running process (runs 2-{args.runs_per_process} of each process; median)")
        print(f"{'case':6s} {'ours s':>8s} {'Mpix*grp/s':>11s} {'official s':>11s} {'speed-up':>9s}")
        for row in rows:
            official_s = f"{row['official_later_s']:.2f}" if row["official_later_s"] else "n/a"
            print(f"{row['case']:6s} {row['ours_later_s']:8.2f} {row['samples'] / row['ours_later_s'] / 1e6:11.1f}"
                  f" {official_s:>11s} {row['later_speedup'] or float('nan'):9.1f}")
    for row in rows:
        print(f"\n{row['case']}: seconds per step (ours persisted step by step | official)")
        official_steps = row["official_steps"] or {}
        for step, seconds in row["ours_steps"].items():
            print(f"  {step:22s} {seconds:7.2f} | {official_steps.get(step, float('nan')):7.2f}")


if __name__ == "__main__":
    main()
