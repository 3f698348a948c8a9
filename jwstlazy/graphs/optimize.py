"""Optimising a program's write tasks before they run: fewer, fused tasks.

The write tasks (:mod:`jwstlazy.graphs.product_writes`) are ``Delayed`` objects over array graphs, and dask
optimises a ``Delayed`` only by culling: the array optimisations (fusing blockwise layers and linear chains)
never ran. :func:`optimize_writes` applies them, then folds every *root read* (a task with no dependencies,
such as reading one pixel block of a reference file, that feeds exactly one task) into the task that
consumes it, so the block is read when it is used: a scheduler runs roots early, and each one read ahead
holds its block in memory until its consumer runs. Keys of the write tasks are kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from dask._task_spec import DependenciesMapping, GraphNode, Task
from dask.array.optimization import optimize as optimize_array_graph
from dask.core import reverse_dict
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph


def optimize_writes(writes: Mapping[Path, Delayed]) -> dict[Path, Delayed]:
    """The same write tasks (same keys) over one optimised graph; compute them with ``optimize_graph=False``."""
    if not writes:
        return {}
    keys = [task.key for task in writes.values()]
    graph = optimize_array_graph(HighLevelGraph.merge(*[task.dask for task in writes.values()]), keys)
    graph = fold_root_reads(dict(graph), keys)
    return {target: Delayed(task.key, graph) for target, task in writes.items()}


def fold_root_reads(graph: dict, keys: list) -> dict:
    """``graph`` with each root task that has one dependent (and is not an output) fused into that dependent."""
    dependencies = DependenciesMapping(graph)
    dependents = reverse_dict(dependencies)
    outputs = set(keys)
    folded = dict(graph)
    for key, node in graph.items():
        roots = [
            dep for dep in dependencies[key]
            if dep in graph and dep not in outputs and not dependencies[dep] and len(dependents[dep]) == 1
            and isinstance(graph[dep], Task)
        ]  # fmt: skip
        if roots:
            folded[key] = GraphNode.fuse(*(graph[root] for root in roots), node, key=key)
            for root in roots:
                del folded[root]
    return folded
