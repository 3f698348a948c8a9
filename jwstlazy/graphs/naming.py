"""Product file names: ``jw..._nrca1_uncal.fits`` -> ``jw..._nrca1_rate.fits`` and friends.

Also recognises the temporary files the atomic writers (:func:`jwstlazy.datamodels.write_fits`,
:func:`~jwstlazy.datamodels.write_zarr`) create beside a product, ``.<product name>.<32 hex>.tmp``, so that
a run killed half-way can be cleaned up by the next one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

#: Suffixes of JWST products, in the order the pipeline produces them.
KNOWN_SUFFIXES = (
    "uncal", "ramp", "rate", "rateints", "trapsfilled", "cal", "calints", "i2d", "crf", "x1d", "x1dints",
    "s2d", "s3d", "cat", "segm", "phot", "whtlt",
)

#: Name of a writer's temporary file: a dot, the final product name, a uuid4 hex and ``.tmp``.
_TEMPORARY = re.compile(r"^\.(?P<target>.+)\.[0-9a-f]{32}\.tmp$")


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


def temporary_target(path: str | os.PathLike) -> Path | None:
    """The product a writer's temporary file was meant to become, or None if ``path`` is not one."""
    match = _TEMPORARY.match(Path(path).name)
    return Path(path).parent / match.group("target") if match else None


def temporary_files_for(product: str | os.PathLike) -> list[Path]:
    """Leftover temporary files of ``product`` (from a writer that was killed before its rename)."""
    product = Path(product)
    prefix = f".{product.name}."
    try:  # scandir, not Path.glob: in Python 3.11 glob caches a selector per pattern, one per product
        names = [entry.name for entry in os.scandir(product.parent) if entry.name.startswith(prefix)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return sorted(product.parent / name for name in names if temporary_target(product.parent / name) == product)
