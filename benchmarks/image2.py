"""Stage 2 imaging, ours vs the official jwst image2, one NIRCam exposure: wall time and peak memory.

    python benchmarks/image2.py [--size 2048] [--out /tmp/image2_bench]

Writes a synthetic full-frame (``--size``²) NIRCam rate and its DISTORTION/FLAT/PHOTOM/AREA references
(the image2 test exposure, enlarged), then runs each pipeline in its own fresh process (peak RSS of that
process) and prints a table. Both write ``_cal`` and ``_i2d``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import resource
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

    Image2Pipeline(references=references).run(rate, output_dir=output, progress=False, overwrite=True)
    queue.put({"seconds": time.perf_counter() - start,
               "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})


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
    parser.add_argument("--out", type=Path, default=Path("/tmp/jwstlazy_image2_bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    exposure = _synthetic_module(args.size).write_exposure(args.out)

    from jwstlazy.crosscheck.official import run_official_image2_subprocess

    ours = run_ours(exposure.rate, exposure.references, args.out / "ours")
    official = run_official_image2_subprocess(exposure.rate, exposure.references, args.out / "official")
    rows = [("jwstlazy image2", ours["seconds"], ours["peak_rss_bytes"]),
            ("official image2 (pipeline only)", official["pipeline_seconds"], official["peak_rss_bytes"])]
    print(f"NIRCam {args.size}x{args.size} rate -> cal + i2d, one exposure")
    print(f"{'pipeline':34s} {'wall s':>8s} {'peak RSS GB':>12s}")
    for name, seconds, rss in rows:
        print(f"{name:34s} {seconds:8.1f} {rss / 2**30:12.2f}")
    print("official per step:", json.dumps({k: round(v, 2) for k, v in official["step_seconds"].items()}))


if __name__ == "__main__":
    main()
