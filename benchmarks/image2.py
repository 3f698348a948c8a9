"""Stage 2 imaging, ours vs the official jwst image2, one NIRCam exposure: wall time and peak memory.

    python benchmarks/image2.py [--size 2048] [--repeat 3] [--out /tmp/image2_bench]

Writes a synthetic full-frame (``--size``²) NIRCam rate and its DISTORTION/FLAT/PHOTOM/AREA references
(the image2 test exposure, enlarged), then runs each pipeline ``--repeat`` times, each run in its own
fresh process (peak RSS of that process), and prints the medians: import time, run time (``.run`` of the
pipeline: reading, steps, writing) and their sum. Both write ``_cal`` and ``_i2d``. The machine's load
average is printed before and after (timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import statistics
import sys
import time
from pathlib import Path

_SYNTHETIC = Path(__file__).parents[1] / "tests" / "steps" / "image2" / "conftest.py"


def _synthetic_module(size: int):
    spec = importlib.util.spec_from_file_location("image2_synthetic_exposure", _SYNTHETIC)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.NY = module.NX = size
    module.XSTART = module.YSTART = 1
    module.STARS = tuple((x * size / 96, y * size / 80, f) for x, y, f in module.STARS)
    return module


def _ours(rate: str, references: dict, output: str, queue) -> None:
    start = time.perf_counter()
    from jwstlazy.graphs.image2 import Image2Pipeline

    imported = time.perf_counter()
    Image2Pipeline(references=references).run(rate, output_dir=output, progress=False, overwrite=True)
    from jwstlazy.peak_memory import peak_rss_bytes

    queue.put({"import_seconds": imported - start, "seconds": time.perf_counter() - imported,
               "peak_rss_bytes": peak_rss_bytes()})


def run_ours(rate: Path, references: dict, output: Path) -> dict:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_ours, args=(str(rate), {k: str(v) for k, v in references.items()},
                                                   str(output), queue))
    process.start()
    result = queue.get()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("/tmp/jwstlazy_image2_bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    exposure = _synthetic_module(args.size).write_exposure(args.out)

    from jwstlazy.crosscheck.official import run_official_image2_subprocess

    load_before = os.getloadavg()
    ours, official = [], []
    for _ in range(args.repeat):  # alternate, so both see the same load
        ours.append(run_ours(exposure.rate, exposure.references, args.out / "ours"))
        official.append(run_official_image2_subprocess(exposure.rate, exposure.references, args.out / "official"))

    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    rows = [("jwstlazy image2", median(ours, "import_seconds"), median(ours, "seconds"),
             median(ours, "peak_rss_bytes")),
            ("official image2", median(official, "import_seconds"), median(official, "pipeline_seconds"),
             median(official, "peak_rss_bytes"))]
    print(f"NIRCam {args.size}x{args.size} rate -> cal + i2d, one exposure; median of {args.repeat}; "
          f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after, {os.cpu_count()} cores")
    print(f"{'pipeline':18s} {'import s':>9s} {'run s':>8s} {'total s':>8s} {'peak RSS GB':>12s}")
    for name, imported, seconds, rss in rows:
        print(f"{name:18s} {imported:9.1f} {seconds:8.1f} {imported + seconds:8.1f} {rss / 2**30:12.2f}")
    steps = {k: round(statistics.median(run["step_seconds"][k] for run in official), 2) for k in official[0]["step_seconds"]}
    print("official per step (median):", json.dumps(steps))


if __name__ == "__main__":
    main()
