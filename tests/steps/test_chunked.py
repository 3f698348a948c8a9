"""map_pixel_blocks: several inputs and outputs per block, halos, reference arrays."""

import dask.array as da
import numpy as np

from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks


def _kernel(ramp, image):
    # ramp (nints, ngroups, ny, nx), image (ny, nx)
    return ramp.sum(axis=(0, 1)) + image, ramp[:, -1] * 2, (ramp > 0).astype(np.uint8)


def test_several_outputs_match_numpy_and_run_kernel_once_per_block():
    rng = np.random.default_rng(1)
    ramp = rng.normal(size=(2, 3, 10, 12)).astype(np.float32)
    image = rng.normal(size=(10, 12)).astype(np.float32)
    calls = []

    def counted(*blocks):
        calls.append(1)
        return _kernel(*blocks)

    lazy = da.from_array(ramp, chunks=(-1, -1, 4, 5))
    total, last, positive = map_pixel_blocks(
        counted, [lazy, image], [OutputSpec(np.float32), OutputSpec(np.float32, (2,)), OutputSpec(np.uint8, (2, 3))]
    )
    assert total.shape == (10, 12) and last.shape == (2, 10, 12) and positive.shape == ramp.shape
    got = da.compute(total, last, positive, scheduler="sync")
    np.testing.assert_allclose(got[0], ramp.sum(axis=(0, 1)) + image, rtol=1e-6)
    np.testing.assert_allclose(got[1], ramp[:, -1] * 2)
    np.testing.assert_array_equal(got[2], ramp > 0)
    assert len(calls) == 3 * 3  # one call per pixel block, not per output


def _neighbour_max(image):
    out = image.copy()
    out[1:] = np.maximum(out[1:], image[:-1])
    out[:-1] = np.maximum(out[:-1], image[1:])
    out[:, 1:] = np.maximum(out[:, 1:], image[:, :-1])
    out[:, :-1] = np.maximum(out[:, :-1], image[:, 1:])
    return out


def test_halo_gives_the_same_answer_as_the_whole_array():
    rng = np.random.default_rng(2)
    image = rng.normal(size=(17, 13))
    (lazy,) = map_pixel_blocks(_neighbour_max, [da.from_array(image, chunks=(5, 4))], [OutputSpec(float)], halo=1)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), _neighbour_max(image))


def test_origin_is_the_block_position():
    image = np.zeros((7, 9))

    def where(block, origin):
        y0, x0 = origin
        yy, xx = np.indices(block.shape)
        return (yy + y0) * 100 + (xx + x0)

    (lazy,) = map_pixel_blocks(where, [da.from_array(image, chunks=(3, 4))], [OutputSpec(float)], pass_origin=True)
    yy, xx = np.indices(image.shape)
    np.testing.assert_array_equal(lazy.compute(scheduler="sync"), yy * 100 + xx)


def test_same_step_name_on_different_inputs_keeps_them_apart():
    first = da.from_array(np.zeros((4, 4)), chunks=2)
    second = da.from_array(np.ones((4, 4)), chunks=2)
    (a,) = map_pixel_blocks(lambda x: x + 1, [first], [OutputSpec(float)], name="step")
    (b,) = map_pixel_blocks(lambda x: x + 1, [second], [OutputSpec(float)], name="step")
    got_a, got_b = da.compute(a, b)  # one graph, as the program graph does
    assert (got_a == 1).all() and (got_b == 2).all()


def _counting_blocks(values: np.ndarray, chunks, calls: list) -> da.Array:
    """``values`` as a dask array whose blocks record their index in ``calls`` when computed."""
    lazy = da.from_array(values, chunks=chunks)

    def record(block, block_info=None):
        calls.append(tuple(block_info[0]["chunk-location"]))
        return block

    return lazy.map_blocks(record, dtype=values.dtype)


def test_all_over_pixels_decides_from_the_first_block_when_it_has_a_false_pixel():
    from jwstlazy.steps.chunked import all_over_pixels

    mask = np.ones((2, 3, 8, 6), dtype=bool)
    mask[0, 1, 0, 0] = False  # plane (0, 1) is False in the witness block
    mask[1, 2, 7, 5] = False  # plane (1, 2) is False only in the last block: the witness alone cannot tell
    calls: list = []
    lazy = _counting_blocks(mask, (-1, -1, 4, 3), calls)
    got = all_over_pixels(lazy).compute(scheduler="sync")
    np.testing.assert_array_equal(got, mask.all(axis=(2, 3)))
    assert calls.count((0, 0, 0, 0)) == 2 and len(calls) == 1 + 4  # the witness, then every block once

    calls.clear()
    mask[:, :, 1, 1] = False  # now the witness block has a False pixel in every plane
    lazy = _counting_blocks(mask, (-1, -1, 4, 3), calls)
    got = all_over_pixels(lazy).compute(scheduler="sync")
    np.testing.assert_array_equal(got, np.zeros((2, 3), dtype=bool))
    assert calls == [(0, 0, 0, 0)]  # no other block was needed
    np.testing.assert_array_equal(all_over_pixels(lazy, witness=False).compute(), np.zeros((2, 3), dtype=bool))


def test_detached_reduction_reads_its_input_again_and_has_no_dependencies():
    from jwstlazy.steps.chunked import detached_reduction

    image = np.arange(48, dtype=np.float32).reshape(8, 6)
    lazy = da.from_array(image, chunks=(4, 3))
    (median,) = detached_reduction(lambda values, scale: (np.array(np.median(values) * scale),), [((), np.float64)],
                                   lazy, scale=2.0)
    assert float(median.compute(scheduler="sync")) == np.median(image) * 2.0
    graph = dict(median.__dask_graph__())
    assert not any(key in graph for key in lazy.__dask_keys__()[0])  # the blocks are not among its tasks
