"""Progress reporting: a terminal bar (tasks done / total, ETA) or a Jupyter widget, or nothing."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def progress_bar(enabled: bool = True) -> Iterator[None]:
    """Show dask's progress for computations on the local schedulers inside this block."""
    if not enabled:
        yield
        return
    from dask.diagnostics import ProgressBar

    with ProgressBar(out=sys.stderr, dt=0.5):
        yield
