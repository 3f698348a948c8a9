"""A tiny pipeline for the program-graph tests: small uncal files in, rate/rateints out.

Kept in its own top-level module (``tests/graphs`` is put on ``sys.path`` by ``conftest.py``) so that
dask.distributed workers can import the kernel by name. ``seconds_per_chunk`` slows the kernel down, for
tests that interrupt a run half-way.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels import write_fits
from jwstlazy.graphs.pipeline import Pipeline
from jwstlazy.steps.base import Step, StepParameters

KEYWORDS = {
    "TELESCOP": "JWST", "INSTRUME": "NIRCAM", "DETECTOR": "NRCA1", "EXP_TYPE": "NRC_IMAGE", "READPATT": "RAPID",
    "NFRAMES": 1, "GROUPGAP": 0, "TFRAME": 10.0, "TGROUP": 10.0, "SUBARRAY": "SUB64P", "SUBSTRT1": 1, "SUBSTRT2": 1,
}  # fmt: skip


def write_toy_uncal(
    path: Path, seed: int, nints: int = 2, ngroups: int = 4, ny: int = 32, nx: int = 32, tgroup: float = 10.0
) -> Path:
    """Write an uncal file whose ramps rise by a random per-pixel rate (``tgroup <= 0``: fails in compute)."""
    rng = np.random.default_rng(seed)
    rate = rng.uniform(1, 50, size=(ny, nx))
    ramp = 1000 + rate * np.arange(ngroups)[:, None, None] * abs(tgroup)
    sci = np.broadcast_to(ramp, (nints, ngroups, ny, nx)) + rng.normal(0, 3, size=(nints, ngroups, ny, nx))
    attrs = dict(KEYWORDS, NINTS=nints, NGROUPS=ngroups, SUBSIZE1=nx, SUBSIZE2=ny, TGROUP=tgroup, product="uncal")
    ds = xr.Dataset({"SCI": (("integration", "group", "y", "x"), sci.astype(np.uint16), {"BUNIT": "DN"})}, attrs=attrs)
    return write_fits(ds, path)


def ramp_slopes(sci: np.ndarray, tgroup: float, seconds_per_chunk: float) -> np.ndarray:
    """Per-integration slope (DN/s) of a ``(nints, ngroups, y, x)`` block: last minus first group."""
    time.sleep(seconds_per_chunk)
    if tgroup <= 0:
        raise ValueError(f"TGROUP must be positive, got {tgroup}")
    ngroups = sci.shape[1]
    return ((sci[:, -1].astype(np.float32) - sci[:, 0]) / ((ngroups - 1) * tgroup)).astype(np.float32)


class ToyRampStep(Step):
    """Fit the ramps crudely into ``rate`` and ``rateints`` products."""

    name = "toy_ramp"
    keyword = "TOYRMP"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        seconds_per_chunk: float = 0.0

    def process(self, ds: xr.Dataset, references) -> dict[str, xr.Dataset]:
        sci = ds["SCI"].data
        slopes = sci.map_blocks(
            ramp_slopes, float(ds.attrs["TGROUP"]), self.parameters.seconds_per_chunk, drop_axis=1, dtype=np.float32
        )
        return {
            "rate": _image_product(slopes.mean(axis=0), ("y", "x"), ds.attrs, "rate"),
            "rateints": _image_product(slopes, ("integration", "y", "x"), ds.attrs, "rateints"),
        }


def _image_product(sci: da.Array, dims: tuple[str, ...], attrs: dict, product: str) -> xr.Dataset:
    variance = (abs(sci) / 100).astype(np.float32)
    variables = {
        "SCI": (dims, sci.astype(np.float32), {"BUNIT": "DN/s"}),
        "ERR": (dims, da.sqrt(variance), {"BUNIT": "DN/s"}),
        "DQ": (dims, da.zeros_like(sci, dtype=np.uint32)),
        "VAR_POISSON": (dims, variance),
        "VAR_RNOISE": (dims, da.full_like(sci, 0.5, dtype=np.float32)),
    }
    keep = {key: value for key, value in attrs.items() if key.isupper()}
    return xr.Dataset(variables, attrs={**keep, "product": product})


class ToyPipeline(Pipeline):
    """One toy step: uncal -> {rate, rateints}."""

    name = "toy"
    output_suffixes = ("rate", "rateints")

    @classmethod
    def all_step_classes(cls):
        return (ToyRampStep,)


if __name__ == "__main__":  # ``python toy_pipeline.py run toy ...``: the jwstlazy command, knowing "toy"
    import sys

    from jwstlazy.cli import main
    from jwstlazy.graphs.registry import PIPELINES

    PIPELINES["toy"] = ToyPipeline
    sys.exit(main(sys.argv[1:]))
