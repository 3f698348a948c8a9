"""block_major_order: each product's blocks are finished in pixel-row order, exposure after exposure."""

import dask
import dask.array as da
import numpy as np
from dask.delayed import Delayed
from dask.highlevelgraph import HighLevelGraph
from dask._task_spec import DependenciesMapping
from dask.order import order

from jwstlazy.graphs.block_order import block_major_local_order, block_major_order


def _exposure(seed: int) -> tuple[da.Array, Delayed]:
    """A stencil over 6 row blocks (as jump's neighbour flags) ending in one 'store' task per block."""
    values = np.random.default_rng(seed).random((12, 4))
    stencil = da.from_array(values, chunks=(2, 4)).map_overlap(lambda b: b * 2, depth={0: 1, 1: 0}, boundary="none")
    stored = stencil.map_blocks(lambda b: b.sum(keepdims=True), chunks=(1, 1), name=f"store-{seed}")
    return stored, dask.delayed(sum)(stored.to_delayed().ravel().tolist())


def test_stores_run_by_exposure_then_row():
    stores_a, write_a = _exposure(1)
    stores_b, write_b = _exposure(2)
    graph = dict(HighLevelGraph.merge(write_a.dask, write_b.dask))
    priorities = block_major_order(graph, order(graph), groups={write_b.key: 0, write_a.key: 1})
    b_rows = [priorities[key] for (key,) in stores_b.__dask_keys__()]
    a_rows = [priorities[key] for (key,) in stores_a.__dask_keys__()]
    assert b_rows == sorted(b_rows) and a_rows == sorted(a_rows)
    assert max(b_rows) < min(a_rows)  # exposure b (group 0) is stored completely first
    # every task a store needs comes before that store
    for (key,) in stores_b.__dask_keys__():
        upstream = DependenciesMapping(graph)[key]
        assert all(priorities[dep] < priorities[key] for dep in upstream)


def test_local_order_is_block_major_only_inside_the_block_and_only_in_its_thread():
    import threading

    import dask.local

    stores, write = _exposure(3)
    graph = dict(write.dask)
    with block_major_local_order({write.key: 0}):
        assert dask.local.order(graph) == block_major_order(graph, order(graph), {write.key: 0})
        assert dask.compute(write, scheduler="threads")[0] == dask.compute(write, scheduler="sync")[0]
        elsewhere = []  # another thread computing meanwhile (a worker's other exposure task) keeps dask's order
        thread = threading.Thread(target=lambda: elsewhere.append(dask.local.order(graph)))
        thread.start()
        thread.join()
        assert elsewhere == [order(graph)] != [block_major_order(graph, order(graph), {write.key: 0})]
    assert dask.local.order(graph) == order(graph)
