"""Client time to build an exposure's detector1 graph when the reference folder holds many other files.

A program's exposures each look up ~17 reference types; a real CRDS cache holds thousands of files per
instrument. This simulates a small NIRCam program (8 SUB256 exposures), copies its references into a plain
folder and into a CRDS-cache layout (``references/jwst/nircam``), pads both with ``--padding`` empty files of
other types (CRDS-style names), dates the folders a minute back (as a reference folder usually is), and prints the
median milliseconds to build one exposure's graph (open + ``Detector1Pipeline.build``; nothing computed), after one
build to warm the caches, for 0 and ``--padding`` extra files.

    python benchmarks/reference_lookup.py [--padding 3000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def pad(folder: Path, count: int) -> None:
    """``count`` empty files with CRDS-style names of a type no step asks for."""
    for index in range(count):
        (folder / f"jwst_nircam_other_{index:05d}.fits").touch()


def settle(folder: Path) -> None:
    """Date the folder's last change a minute back."""
    then = time.time() - 60
    os.utime(folder, (then, then))


def build_milliseconds(files: list[Path], finder_options: dict, repeats: int) -> float:
    """Median ms per exposure over ``repeats`` passes of every file, after one warm-up build."""
    from jwstlazy.graphs.detector1 import Detector1Pipeline
    from jwstlazy.graphs.execute import open_exposure
    from jwstlazy.references import ReferenceFinder
    from jwstlazy.references.crds_cache import clear_header_cache

    clear_header_cache()
    pipeline = Detector1Pipeline(references=ReferenceFinder(**finder_options))
    pipeline.build(open_exposure(files[0], memory_limit=2 * 2**30, cluster=True))
    times = []
    for _ in range(repeats):
        for path in files:
            start = time.perf_counter()
            pipeline.build(open_exposure(path, memory_limit=2 * 2**30, cluster=True))
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--padding", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    import logging

    logging.getLogger("jwstlazy").setLevel(logging.ERROR)
    from jwstlazy.simulate import simulate_program

    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        files = sorted(simulate_program("nircam-imaging", root / "sim", seed=1, size="256")["uncal"])
        print(f"detector1 graph build, {len(files)} NIRCam SUB256 exposures, median ms per exposure")
        print(f"{'reference folder':28s} {'other files':>11s} {'ms':>8s}")
        for padding in (0, args.padding):
            plain = root / f"plain_{padding}"
            crds = root / f"crds_{padding}"
            instrument = crds / "references" / "jwst" / "nircam"
            for folder in (plain, instrument):
                shutil.copytree(root / "sim" / "references", folder)
                pad(folder, padding)
                settle(folder)
            for label, options in (("directory", {"directories": [plain]}), ("CRDS cache", {"crds_path": crds})):
                milliseconds = build_milliseconds(files, options, args.repeats)
                print(f"{label:28s} {padding:>11d} {milliseconds:>8.1f}", flush=True)


if __name__ == "__main__":
    main()
