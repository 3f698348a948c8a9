"""``jwstlazy demo``: simulate a small NIRCam imaging program and run every stage that exists on it.

Stages run now: detector1 (uncal -> rate, rateints) and image2 (rate -> cal, i2d), as ONE dask graph over all
exposures (image2 takes raw input through detector1 itself); products are written by the graph's tasks.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DEMO_SCENARIO = "nircam-imaging"


def run_demo(out: Path, seed: int = 0, scheduler: str | None = None, progress: bool = True) -> dict[str, list[Path]]:
    """Simulate ``DEMO_SCENARIO`` under ``out/simulated`` and calibrate it into ``out/products``.

    Returns the written products by suffix and prints a short summary.
    """
    from jwstlazy.datamodels import open as open_product
    from jwstlazy.graphs.image2 import Image2Pipeline
    from jwstlazy.references import ReferenceFinder
    from jwstlazy.simulate import simulate_program

    out = Path(out)
    simulated = simulate_program(DEMO_SCENARIO, out / "simulated", seed=seed)
    uncal = [Path(p) for p in simulated["uncal"]]
    print(f"simulated {len(uncal)} exposures of '{DEMO_SCENARIO}' in {out / 'simulated'}")
    finder = ReferenceFinder(directories=[out / "simulated" / "references"])
    products = out / "products"
    result = Image2Pipeline(references=finder).run(uncal, output_dir=products, scheduler=scheduler, progress=progress)
    written: dict[str, list[Path]] = {}
    for path in sorted({*result.written, *result.skipped, *products.glob("*_rate*.fits")}):
        written.setdefault(path.stem.rpartition("_")[2], []).append(path)
    print(f"\nproducts in {products}:")
    for suffix, paths in written.items():
        print(f"  {len(paths)} x _{suffix}.fits")
    print("\nexposure                                   median rate (DN/s)  jumps flagged")
    for path in written.get("rate", []):
        rate = open_product(path)
        dq = rate["DQ"].values
        print(f"  {path.name:42s} {float(np.nanmedian(rate['SCI'].values)):10.3f}  {int((dq & 4).astype(bool).sum()):10d}")
    return written
