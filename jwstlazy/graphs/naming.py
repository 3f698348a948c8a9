"""Product file names: ``jw..._nrca1_uncal.fits`` -> ``jw..._nrca1_rate.fits`` and friends."""

from __future__ import annotations

import os
from pathlib import Path

#: Suffixes of JWST products, in the order the pipeline produces them.
KNOWN_SUFFIXES = (
    "uncal", "ramp", "rate", "rateints", "trapsfilled", "cal", "calints", "i2d", "crf", "x1d", "x1dints",
    "s2d", "s3d", "cat", "segm", "phot", "whtlt",
)


def root_name(path: str | os.PathLike) -> str:
    """The exposure root of a product file name: its stem without a known product suffix."""
    stem = Path(path).name
    for extension in (".fits", ".zarr", ".json"):
        if stem.endswith(extension):
            stem = stem[: -len(extension)]
    head, _, suffix = stem.rpartition("_")
    return head if head and suffix in KNOWN_SUFFIXES else stem


def product_path(source: str | os.PathLike, suffix: str, output_dir: str | os.PathLike) -> Path:
    """Where the ``suffix`` product of ``source`` goes, e.g. ``output_dir/<root>_rate.fits``."""
    return Path(output_dir) / f"{root_name(source)}_{suffix}.fits"
