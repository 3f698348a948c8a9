"""Progress reporting while a program's graph runs.

Local schedulers (sync, threads, processes): a ``tqdm`` bar of tasks done / total with an ETA, fed by dask
callbacks; a text bar on stderr in a terminal and a ``tqdm.notebook`` widget in a Jupyter kernel, or the text
bar in the notebook's output when ipywidgets (the ``notebook`` extra) is not installed. dask.distributed
clusters: ``distributed.progress``, a text bar that blocks until the end in a terminal and a widget in
Jupyter, plus the dashboard link logged when the cluster starts. Bars are labelled with what runs, e.g.
``detector1: 8 exposures``.
"""

from __future__ import annotations

import contextlib
import html
import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

log = logging.getLogger(__name__)

DESCRIPTION = "jwstlazy"
#: How long the distributed widget may take to connect to the scheduler, and to draw its last state.
WIDGET_WAIT_S = 10.0


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


@contextlib.contextmanager
def cluster_progress(
    futures: Sequence[Any], client: Any, enabled: bool = True, description: str = DESCRIPTION
) -> Iterator[None]:
    """Show ``distributed.progress`` of ``futures`` on ``client``'s scheduler while the block collects them.

    In a terminal: the text bar, which blocks until they are done, on entering. In Jupyter: its widget,
    labelled ``description``, displayed at once and fed from the client's event loop (the kernel's own
    loop is blocked while the block waits for the futures); on leaving, the widget's last state is drawn
    before the cluster may close.
    """
    if not enabled or not futures:
        yield
        return
    from distributed import progress

    address = client.scheduler.address
    if not widgets_wanted():
        progress(futures, notebook=False, multi=False, scheduler=address)
        yield
        return
    from IPython.display import display
    from ipywidgets import HTML

    bar = progress(futures, notebook=True, multi=False, scheduler=address)  # returned, not yet shown
    bar.widget.children = (HTML(f"<b>{html.escape(description)}</b>"), *bar.widget.children)
    display(bar.widget)
    finished = threading.Event()

    async def listen() -> None:
        try:
            await bar.listen()
        except Exception:  # a progress bar must never fail the program
            log.debug("progress widget stopped", exc_info=True)
        finally:
            finished.set()

    client.loop.add_callback(listen)
    deadline = time.monotonic() + WIDGET_WAIT_S
    while getattr(bar, "status", None) is None and not finished.is_set() and time.monotonic() < deadline:
        time.sleep(0.02)  # until the scheduler tracks the futures: the block may release them once done
    yield
    finished.wait(WIDGET_WAIT_S)  # not after an error or an interrupt: those leave at once


def _has_ipywidgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True
