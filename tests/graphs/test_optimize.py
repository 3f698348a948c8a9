"""Tests for jwstlazy.graphs.optimize: the program graph is fused and root reads run inside their consumer."""

from pathlib import Path

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph

from jwstlazy.graphs.optimize import fold_root_reads, optimize_writes


def _write_like(arrays: list[da.Array], name: str) -> Delayed:
    """A task needing every block of ``arrays`` (as a product write does): returns their total."""
    keys = [key for array in arrays for key in dask.core.flatten(array.__dask_keys__())]
    layer = {name: (lambda *blocks: float(sum(np.sum(b) for b in blocks)), *keys)}
    return Delayed(name, HighLevelGraph.from_collections(name, layer, dependencies=arrays))


class _FileLike:
    """An array-like read block by block (as FitsImageData is), so dask keeps its reads as tasks."""

    shape, dtype, ndim = (8, 8), np.dtype(float), 2

    def __getitem__(self, key):
        return np.ones(self.shape)[key]


def test_same_results_fewer_tasks_and_write_keys_kept():
    data = da.arange(64.0, chunks=16).reshape(8, 8).rechunk((4, 8))
    reference = da.from_array(_FileLike(), chunks=(4, 8), inline_array=True, name="reference-test")
    corrected = ((data - reference) * 2).astype(np.float32)
    writes = {Path("a"): _write_like([corrected], "write-a"), Path("b"): _write_like([data + 1], "write-b")}
    optimized = optimize_writes(writes)
    assert [task.key for task in optimized.values()] == ["write-a", "write-b"]
    assert dask.compute(*optimized.values(), optimize_graph=False) == dask.compute(*writes.values())
    unoptimized = HighLevelGraph.merge(*[task.dask for task in writes.values()])
    assert len(optimized[Path("a")].dask) < len(dict(unoptimized))
    assert not any(str(key[0] if isinstance(key, tuple) else key).startswith("reference-test")
                   for key in optimized[Path("a")].dask)  # fmt: skip


def test_only_roots_with_one_consumer_are_folded():
    graph = {
        "read-a": (np.ones, 3),  # one consumer: folded into it
        "read-b": (np.zeros, 3),  # two consumers: kept, read once
        "use-1": (np.add, "read-a", "read-b"),
        "use-2": (np.subtract, "read-b", "use-1"),
    }
    from dask._task_spec import convert_legacy_graph

    folded = fold_root_reads(convert_legacy_graph(graph), ["use-2"])
    assert set(folded) == {"read-b", "use-1", "use-2"}
    np.testing.assert_array_equal(dask.get(folded, "use-2"), -np.ones(3))


def test_an_output_key_is_never_folded():
    from dask._task_spec import convert_legacy_graph

    graph = convert_legacy_graph({"root": (np.ones, 2), "sum": (np.sum, "root")})
    assert set(fold_root_reads(graph, ["root", "sum"])) == {"root", "sum"}


def test_view_tasks_are_copied_into_each_user_and_dropped():
    import operator

    from dask._task_spec import convert_legacy_graph

    from jwstlazy.graphs.optimize import fold_cheap_tasks
    from jwstlazy.steps.chunked import pick_output

    graph = convert_legacy_graph({
        "kernel": (divmod, np.arange(6), 4),  # a tuple of two outputs
        "quotient": (pick_output, "kernel", 0),
        "remainder": (operator.getitem, (pick_output, "kernel", 1), slice(0, 3)),
        "head": (operator.getitem, "quotient", slice(0, 3)),  # a view of a view, used twice
        "sum": (np.add, "head", "remainder"),
        "product": (np.multiply, "head", 2),
        "total": (lambda a, b: np.concatenate([a, b]), "sum", "product"),
    })
    expected = dask.get(graph, "total")
    folded = fold_cheap_tasks(graph, ["total"])
    assert set(folded) == {"kernel", "sum", "product", "total"}
    np.testing.assert_array_equal(dask.get(folded, "total"), expected)
