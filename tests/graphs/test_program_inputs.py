"""A program's inputs (files, folders, associations) as exposures, and chunk sizes chosen from memory."""

import json

import numpy as np
import pytest
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.chunks import chunk_budget_bytes, choose_chunks, parse_chunks
from jwstlazy.graphs.program import exposures_from_inputs


def test_folder_files_and_association_each_once_in_order(tmp_path, toy_exposures):
    folder = toy_exposures[0].parent
    (folder / f".{toy_exposures[0].name}.{'a' * 32}.tmp").write_bytes(b"half a file")  # a killed writer's leftover
    asn = tmp_path / "jw_image2_asn.json"
    asn.write_text(json.dumps({"asn_type": "image2", "products": [
        {"name": "p", "members": [{"expname": f"uncal/{toy_exposures[5].name}", "exptype": "science"}]}]}))  # fmt: skip
    exposures = exposures_from_inputs([toy_exposures[2], folder, asn])
    assert [e.path.name for e in exposures] == [toy_exposures[i].name for i in (2, 0, 1, 3, 4, 5)]
    assert exposures[-1].path == toy_exposures[5] and exposures[0].association is None


def test_association_member_missing_names_association_and_member(tmp_path):
    asn = tmp_path / "jw_asn.json"
    asn.write_text(json.dumps({"products": [{"members": [{"expname": "gone_uncal.fits"}]}]}))
    with pytest.raises(JwstLazyInputError) as info:
        exposures_from_inputs([asn])
    assert str(asn) in str(info.value) and "gone_uncal.fits" in str(info.value)


@pytest.mark.parametrize("make", [lambda p: p / "missing_uncal.fits", lambda p: p])
def test_missing_file_or_empty_folder(tmp_path, make):
    with pytest.raises(JwstLazyInputError) as info:
        exposures_from_inputs([make(tmp_path)])
    assert str(make(tmp_path)) in str(info.value)


@pytest.mark.parametrize(
    "text, chunks", [(None, None), ("auto", None), ("512", {"y": 512, "x": 512}), ("256x2048", {"y": 256, "x": 2048}),
                     ("y=128,x=-1", {"y": 128, "x": -1})],
)  # fmt: skip
def test_parse_chunks(text, chunks):
    assert parse_chunks(text) == chunks


@pytest.mark.parametrize("text", ["big", "0", "y=0", "12x", "y:5"])
def test_bad_chunks_name_the_option(text):
    with pytest.raises(JwstLazyInputError, match="--chunks"):
        parse_chunks(text)


def _ramp(nints, ngroups, ny=2048, nx=2048) -> xr.Dataset:
    import dask.array as da

    sci = da.zeros((nints, ngroups, ny, nx), dtype=np.uint16, chunks=(1, -1, 256, 256))
    return xr.Dataset({"SCI": (("integration", "group", "y", "x"), sci)})


def test_chunks_shrink_with_memory_threads_and_ramp_length():
    big = choose_chunks(_ramp(2, 10), memory_limit=16 * 2**30)
    small = choose_chunks(_ramp(2, 10), memory_limit=1 * 2**30)
    threaded = choose_chunks(_ramp(2, 10), memory_limit=1 * 2**30, threads_per_worker=8)
    longer = choose_chunks(_ramp(4, 20), memory_limit=16 * 2**30)
    assert big["integration"] == big["group"] == -1 and big["x"] == 2048  # whole rows first
    assert small["y"] > threaded["y"] and big["y"] >= small["y"] and big["y"] > longer["y"]


@pytest.mark.parametrize("memory, threads", [(2**30, 1), (4 * 2**30, 4), (64 * 2**30, 2)])
def test_chunk_working_set_fits_the_worker(memory, threads):
    nints, ngroups = 3, 12
    chunks = choose_chunks(_ramp(nints, ngroups), memory_limit=memory, threads_per_worker=threads)
    raw_bytes = nints * ngroups * chunks["y"] * chunks["x"] * 2
    assert raw_bytes <= chunk_budget_bytes(memory, threads) <= 64 * 2**20
    assert raw_bytes * 12 * 2 * threads <= memory * 0.5  # 24 B working set per 2 B sample, 2 blocks per thread


def test_long_time_series_blocks_are_not_thinner_than_needed():
    """500 integrations x 10 groups of 256 x 256: 2 rows would fill the 8 MB cap; the doubled cap for thin
    blocks gives 4 rows, while a small memory limit still bounds the working set, and 4000 integrations
    (one row over the doubled cap) stay thin rather than grow with the number of integrations."""
    from jwstlazy.graphs.chunks import MIN_BLOCK_ROWS, RAMP_CHUNK_BYTES

    roomy = choose_chunks(_ramp(500, 10, 256, 256), memory_limit=16 * 2**30, threads_per_worker=2)
    assert roomy["y"] == MIN_BLOCK_ROWS and roomy["x"] == 256
    tight = choose_chunks(_ramp(500, 10, 256, 256), memory_limit=2**30, threads_per_worker=2)
    assert 500 * 10 * tight["y"] * tight["x"] * 2 * 12 * 2 * 2 <= 2**30 * 0.5
    longest = choose_chunks(_ramp(4000, 10, 256, 256), memory_limit=16 * 2**30, threads_per_worker=2)
    assert 4000 * 10 * longest["y"] * longest["x"] * 2 <= 2 * RAMP_CHUNK_BYTES


def test_cluster_blocks_may_be_larger_than_local_ones():
    local = choose_chunks(_ramp(2, 10), memory_limit=16 * 2**30)
    cluster = choose_chunks(_ramp(2, 10), memory_limit=16 * 2**30, cluster=True)
    assert cluster["y"] * cluster["x"] > local["y"] * local["x"]
    assert chunk_budget_bytes(2**28, 1, cluster=True) == chunk_budget_bytes(2**28, 1)  # memory still bounds both
