"""Block-major task order for dask's local schedulers: finish the pixel blocks of a product one after another.

dask's local schedulers (``threads``, ``processes``, ``sync``) run ready tasks by ``dask.order``'s static
priorities. On a detector1 graph those visit the pixel blocks in a scattered order (middle blocks first, then
the last ones, then the first), and since each block's jump flags need its neighbours' detection, a block's
ramp waits, held in memory, until a neighbour visited much later is done: several blocks of every step are held
at once. This order ranks every task by the first output block that needs it: exposures in turn (the products of
one exposure together), and within an exposure its last per-block tasks (the stores) by pixel-block row.
dask's own order breaks ties. Exposure-wide work that every block needs (reference-pixel offsets) comes first.

dask.local takes no order from its caller, so the function it calls is replaced once by one that re-ranks within
:func:`block_major_local_order`, per thread. The distributed scheduler is not affected (it has priorities of its own).
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator, Mapping

import dask.local
from dask._task_spec import DependenciesMapping
from dask.core import reverse_dict

_SWAP_LOCK = threading.Lock()


def block_major_order(graph: Mapping, dask_order: Mapping, groups: Mapping | None = None) -> dict:
    """Priorities (0 first) for ``graph`` given ``dask_order`` (``dask.order.order(graph)``), as described above.

    ``groups`` ranks final tasks (a product's write task -> its exposure's number); other final tasks follow in
    dask's order. A block key is a tuple ``(name, i, ..., row, column)``; a block's last task is a block key none
    of whose dependents is one (for detector1, the tasks storing a block of a product).
    """
    groups = groups or {}
    dependents = reverse_dict(DependenciesMapping(graph))
    rank: dict = {}
    for key in sorted(graph, key=dask_order.__getitem__, reverse=True):  # every dependent before its dependencies
        below = [rank[d] for d in dependents[key]]
        if not below:
            rank[key] = (groups.get(key, len(groups) + dask_order[key]), math.inf)  # a final task (one per product)
        elif _row(key) is not None and all(_row(d) is None for d in dependents[key]):
            rank[key] = (min(r[0] for r in below), _row(key))  # a block's last task
        else:
            rank[key] = min(below)
    ranked = sorted(graph, key=lambda k: (rank[k], dask_order[k]))
    return {key: position for position, key in enumerate(ranked)}


def _row(key) -> int | None:
    """The pixel-block row of a block key (the second-to-last index), None for other keys."""
    if isinstance(key, tuple) and len(key) >= 3 and all(isinstance(i, int) for i in key[1:]):
        return key[-2]
    return None


@contextlib.contextmanager
def block_major_local_order(groups: Mapping | None = None) -> Iterator[None]:
    """Within this block, computes started by this thread on dask's local schedulers use
    :func:`block_major_order` (``dask.local`` orders a graph in the thread that computes it, so threads running
    computes of their own at once, as a worker's exposure tasks do, each keep their own order)."""
    _install_ordering()
    previous = getattr(_ORDER_GROUPS, "groups", None)
    _ORDER_GROUPS.groups = groups or {}
    try:
        yield
    finally:
        _ORDER_GROUPS.groups = previous


_ORDER_GROUPS = threading.local()  #: ``groups`` of the thread's :func:`block_major_local_order`, or None
_INSTALL_LOCK = threading.Lock()


def _install_ordering() -> None:
    """Once per process: ``dask.local.order`` becomes dask's order, re-ranked by :func:`block_major_order` in a
    thread inside :func:`block_major_local_order` (dask's own everywhere else)."""
    with _INSTALL_LOCK:
        if getattr(dask.local.order, "_jwstlazy_block_major", False):
            return
        original: Callable = dask.local.order

        def ordered(graph, *args, **kwargs):
            order = original(graph, *args, **kwargs)
            groups = getattr(_ORDER_GROUPS, "groups", None)
            return order if groups is None else block_major_order(graph, order, groups)

        ordered._jwstlazy_block_major = True
        dask.local.order = ordered
