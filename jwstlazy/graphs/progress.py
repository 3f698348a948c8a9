"""Progress reporting while a program's graph runs.

Local schedulers (sync, threads, processes): a ``tqdm`` bar of tasks done / total with an ETA, fed by dask
callbacks; a text bar on stderr in a terminal and a widget in Jupyter (``tqdm.auto``), or the text bar in
the notebook's output when ipywidgets is not installed. dask.distributed clusters: ``distributed.progress``
(a text bar in a terminal, a widget in Jupyter), plus the dashboard link logged when the cluster starts.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from typing import Any

DESCRIPTION = "jwstlazy"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where bars are widgets)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and "IPKernelApp" in getattr(shell, "config", {})


def tqdm_class() -> type:
    """``tqdm.notebook.tqdm`` in Jupyter when ipywidgets is installed, else the terminal ``tqdm``."""
    if in_notebook() and _has_ipywidgets():
        from tqdm.notebook import tqdm as notebook_tqdm

        return notebook_tqdm
    from tqdm import tqdm

    return tqdm


@contextlib.contextmanager
def progress_bar(enabled: bool = True, description: str = DESCRIPTION) -> Iterator[None]:
    """Show progress of dask computations on the local schedulers run inside this block."""
    if not enabled:
        yield
        return
    from tqdm.contrib.logging import logging_redirect_tqdm
    from tqdm.dask import TqdmCallback

    bar = tqdm_class()
    with logging_redirect_tqdm(tqdm_class=bar), TqdmCallback(
        tqdm_class=bar, desc=description, file=sys.stderr, unit="task", mininterval=0.5
    ):  # log lines are printed above the bar instead of through it
        yield


def cluster_progress(futures: Sequence[Any], client: Any, enabled: bool = True) -> None:
    """Show ``distributed.progress`` of ``futures`` on ``client``'s scheduler: a text bar that blocks until
    they are done in a terminal, a widget in Jupyter."""
    if not enabled or not futures:
        return
    from distributed import progress

    notebook = in_notebook() and _has_ipywidgets()
    progress(futures, notebook=notebook, multi=False, scheduler=client.scheduler.address)


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
