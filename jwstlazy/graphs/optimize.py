"""Optimising a program's write tasks before they run: fewer, fused tasks.

The write tasks (:mod:`jwstlazy.graphs.product_writes`) are ``Delayed`` objects over array graphs, and dask
optimises a ``Delayed`` only by culling: the array optimisations (fusing blockwise layers and linear chains)
never ran. :func:`optimize_writes` applies them, then folds every *root read* (a task with no dependencies,
such as reading one pixel block of a reference file, that feeds exactly one task) into the task that
consumes it, so the block is read when it is used: a scheduler runs roots early, and each one read ahead
holds its block in memory until its consumer runs. Before that, :func:`fold_cheap_tasks` copies every task
that only makes a view (picking one output of a kernel, slicing, broadcasting, aliasing) into the tasks that
use it: over half of a detector1 graph's tasks were such, and each task costs a scheduler and a worker far
more than the view. Keys of the write tasks are kept.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dask._task_spec import Alias, DependenciesMapping, GraphNode, Task
from dask.array.optimization import optimize as optimize_array_graph
from dask.core import reverse_dict
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from jwstlazy.steps.chunked import pick_output

#: Functions whose tasks only make a view of their input (no copy, no work), folded into their dependents.
VIEW_FUNCTIONS = frozenset({pick_output, operator.getitem, np.broadcast_to})


def optimize_writes(writes: Mapping[Path, Delayed]) -> dict[Path, Delayed]:
    """The same write tasks (same keys) over one optimised graph; compute them with ``optimize_graph=False``."""
    if not writes:
        return {}
    keys = [task.key for task in writes.values()]
    graph = optimize_array_graph(HighLevelGraph.merge(*[task.dask for task in writes.values()]), keys)
    graph = fold_root_reads(fold_cheap_tasks(dict(graph), keys), keys)
    return {target: Delayed(task.key, graph) for target, task in writes.items()}


def fold_root_reads(graph: dict, keys: list) -> dict:
    """``graph`` with each root read fused into its only consumer.

    A root read is a task with no dependencies, possibly behind a chain of aliases or one-input tasks, where
    every link has exactly one dependent and none is an output (``keys``).
    """
    dependencies = DependenciesMapping(graph)
    dependents = reverse_dict(dependencies)
    outputs = set(keys)

    def chain_to_root(key) -> list | None:
        chain = []
        while key in graph and key not in outputs and len(dependents[key]) == 1 and isinstance(graph[key], (Task, Alias)):
            chain.append(graph[key])
            if not dependencies[key]:
                return chain[::-1]
            if len(dependencies[key]) != 1:
                return None
            (key,) = dependencies[key]
        return None

    folded = dict(graph)
    for key, node in graph.items():
        chains = [chain for dep in dependencies[key] if (chain := chain_to_root(dep))]
        if chains:
            folded[key] = GraphNode.fuse(*(link for chain in chains for link in chain), node, key=key)
            for chain in chains:
                for link in chain:
                    folded.pop(link.key, None)
    return folded


def fold_cheap_tasks(graph: dict, keys: list) -> dict:
    """``graph`` with every alias or view task (:data:`VIEW_FUNCTIONS`) that is not an output copied into each
    task using it, directly or through other such tasks, and then dropped."""
    outputs = set(keys)
    dependencies = DependenciesMapping(graph)

    def is_cheap(key) -> bool:
        node = graph.get(key)
        return key not in outputs and (
            isinstance(node, Alias) or (isinstance(node, Task) and node.func in VIEW_FUNCTIONS)
        )

    def cheap_upstream(key, found: dict) -> None:
        for dep in dependencies[key]:
            if dep not in found and is_cheap(dep):
                cheap_upstream(dep, found)
                found[dep] = graph[dep]  # after its own inputs: the subgraph in dependency order

    folded = {}
    for key, node in graph.items():
        if is_cheap(key):
            continue
        found: dict = {}
        cheap_upstream(key, found)
        folded[key] = GraphNode.fuse(*found.values(), node, key=key) if found else node
    return folded
