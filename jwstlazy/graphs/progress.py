"""Progress reporting for local schedulers: tasks done / total with an ETA.

Uses ``tqdm.auto`` through dask callbacks, so the same code shows a text bar in a terminal and a widget in
Jupyter. (Runs on a ``distributed`` cluster use ``distributed.progress`` instead; see ``execute.py``.)
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def progress_bar(enabled: bool = True, description: str = "jwstlazy") -> Iterator[None]:
    """Show progress of dask computations on the local schedulers run inside this block."""
    if not enabled:
        yield
        return
    from tqdm.auto import tqdm
    from tqdm.dask import TqdmCallback

    with TqdmCallback(tqdm_class=tqdm, desc=description, file=sys.stderr, unit="task", mininterval=0.5):
        yield
