"""The persistence-array file of jwst 3.0 (``save_persistence`` / ``persistence_array_file``).

The persistence step's state, carried from one exposure of a detector to the next, is per pixel the Unix
epoch (s) at which the pixel's persistence window ends (0 = no open window). Upstream stores it in an ASDF
file holding one entry per detector: ``{DETECTOR: {"filename", "rows", "cols", "vals", "pers_time"}}``
(only the non-zero pixels). These two functions read and write that layout, so that files are exchangeable
with the official pipeline.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from jwstlazy.datamodels.asdf_files import write_asdf

log = logging.getLogger(__name__)

__all__ = ["read_persistence_array", "write_persistence_array"]


def read_persistence_array(
    path: str | os.PathLike, detector: str, shape: tuple[int, int], persistence_time: float
) -> np.ndarray:
    """The (ny, nx) float64 window-end array of ``detector`` from the ASDF file ``path``.

    As upstream, a missing file, a file without ``detector`` or one saved with a different
    ``pers_time`` gives all zeros (logged, not an error).
    """
    import asdf

    array = np.zeros(shape, dtype=np.float64)
    path = Path(path)
    if not path.exists():
        log.info("persistence array file %s does not exist: starting a new persistence array", path)
        return array
    with asdf.open(path) as tree:
        entry = tree.tree.get(detector)
        if entry is None:
            log.info("detector %s not in persistence array file %s: starting a new array", detector, path)
            return array
        if entry["pers_time"] != persistence_time:
            log.info("persistence file %s has pers_time %s, not %s: ignored", path, entry["pers_time"],
                     persistence_time)
            return array
        array[np.asarray(entry["rows"]), np.asarray(entry["cols"])] = np.asarray(entry["vals"])
    return array


def write_persistence_array(
    path: str | os.PathLike,
    detector: str,
    persistence_array: np.ndarray,
    persistence_time: float,
    filename: str | None = None,
) -> Path:
    """Add or replace ``detector``'s entry of the ASDF file ``path`` (suffix forced to ``.asdf``).

    ``persistence_array``: (ny, nx) window ends (epoch s), e.g. the ``PERSISTENCE_END`` variable of a ramp
    after the persistence step. The file is written under a temporary name and renamed.
    """
    import asdf

    path = Path(path).with_suffix(".asdf")
    values = np.asarray(persistence_array, dtype=np.float64)
    rows, cols = np.nonzero(values)
    tree = {}
    if path.exists():
        with asdf.open(path, lazy_load=False, memmap=False) as existing:
            tree = {key: value for key, value in existing.tree.items() if not key.startswith("asdf_")}
    tree[detector] = {"filename": filename, "rows": rows, "cols": cols, "vals": values[rows, cols],
                      "pers_time": persistence_time}
    return write_asdf(tree, path)
