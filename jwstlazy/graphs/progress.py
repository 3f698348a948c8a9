"""Progress reporting while a program's graph runs.

Local schedulers (sync, threads, processes): a ``tqdm`` bar of tasks done / total with an ETA, fed by dask
callbacks; a text bar on stderr in a terminal and a ``tqdm.notebook`` widget in a Jupyter kernel, or the text
bar in the notebook's output when ipywidgets (the ``notebook`` extra) is not installed. dask.distributed
clusters: a bar of exposures finished / total with an ETA over the whole run (exposures are submitted as
their graphs are built, so the run's task total is never known at once), the same text bar or widget, plus
the dashboard link logged when the cluster starts for task-level detail. Bars are labelled with what runs,
e.g. ``detector1: 8 exposures``.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections import Counter
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)

DESCRIPTION = "jwstlazy"


def describe(pipeline_name: str, exposures: int) -> str:
    """The bar's label: the pipeline stage and how many exposures go through it, e.g. ``detector1: 8 exposures``."""
    return f"{pipeline_name}: {exposures} exposure{'' if exposures == 1 else 's'}"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (where bars are widgets)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return bool(shell) and "IPKernelApp" in getattr(shell, "config", {})


def widgets_wanted() -> bool:
    """True where bars are drawn as widgets: in a Jupyter kernel with ipywidgets installed."""
    return in_notebook() and _has_ipywidgets()


def tqdm_class() -> type:
    """``tqdm.notebook.tqdm`` in Jupyter when ipywidgets is installed, else the terminal ``tqdm``."""
    if widgets_wanted():
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


class ExposureTally:
    """Counts a cluster run's exposures as their products land, advancing ``bar`` (None: no bar) by one
    exposure when the last of its products is recorded (written or failed)."""

    def __init__(self, bar: Any = None) -> None:
        self.bar = bar
        self.unfinished: Counter[Any] = Counter()  # exposure -> products submitted and not yet recorded

    def submitted(self, exposure: Any, products: int) -> None:
        """``products`` write tasks of ``exposure`` were submitted."""
        self.unfinished[exposure] += products

    def product_finished(self, exposure: Any) -> None:
        """One product of ``exposure`` was recorded."""
        self.unfinished[exposure] -= 1
        if self.unfinished[exposure] <= 0:
            del self.unfinished[exposure]
            self.exposures_finished(1)

    def exposures_finished(self, exposures: int) -> None:
        """``exposures`` are finished as a whole (whole-exposure tasks, or exposures whose graphs could not be built)."""
        if self.bar is not None and exposures:
            self.bar.update(exposures)


@contextlib.contextmanager
def exposure_progress(total: int, enabled: bool = True, description: str = DESCRIPTION) -> Iterator[ExposureTally]:
    """A bar of exposures finished out of ``total`` for a run on a dask.distributed cluster, from its first
    submission to its last product, with an ETA; a widget in Jupyter. Task-level detail is on the dashboard.

    (``distributed.progress`` follows a fixed set of futures: started after every exposure had been
    submitted, it missed the exposures written before, and its terminal form blocks until the end.)
    """
    if not enabled:
        yield ExposureTally()
        return
    from tqdm.contrib.logging import logging_redirect_tqdm

    bar_class = tqdm_class()
    with logging_redirect_tqdm(tqdm_class=bar_class), bar_class(
        total=total, desc=description, file=sys.stderr, unit="exposure", mininterval=0.5
    ) as bar:  # log lines are printed above the bar instead of through it
        yield ExposureTally(bar)


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
