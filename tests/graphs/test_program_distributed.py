"""A program through a ``local:2`` cluster, as pixel-block tasks or one task per exposure, gives exactly what
the sync scheduler gives."""

from __future__ import annotations

import pytest

import jwstlazy
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.execute import DERIVED_REFERENCE_DIR, ProgramFailed, _exposure_tasks_chosen
from jwstlazy.graphs.schedulers import Execution
from toy_pipeline import ToyPipeline

VARIABLES = ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE")


def _assert_identical_products(written, other_folder):
    for path in written:
        ours, theirs = jwstlazy.open(other_folder / path.name), jwstlazy.open(path)
        for name in VARIABLES:
            assert ours[name].values.tobytes() == theirs[name].values.tobytes(), f"{path.name} {name}"


@pytest.mark.parametrize(("scheduler", "granularity"),
                         [("local:2", "blocks"), ("local:2", "exposures"), ("local:1x2", "exposures")])
def test_six_exposures_on_local_2_are_byte_identical_to_sync(toy_exposures, tmp_path, capsys, scheduler, granularity):
    """(local:1x2: two exposure tasks at once in one worker process, each computing its graph in its thread.)"""
    common = {"memory_limit": "1GB", "chunks": "y=16"}
    sync = jwstlazy.run(ToyPipeline(), toy_exposures, tmp_path / "sync", scheduler="sync", progress=False, **common)
    capsys.readouterr()
    cluster = jwstlazy.run(ToyPipeline(), toy_exposures, tmp_path / "local", scheduler=scheduler,
                           granularity=granularity, **common)  # fmt: skip
    assert len(sync.written) == len(cluster.written) == 12
    _assert_identical_products(sync.written, tmp_path / "local")
    # the bar counts exposures over the whole run: it starts at 0 of 6 before the first one is submitted
    shown = capsys.readouterr().err
    assert "toy: 6 exposures:   0%" in shown and "0/6" in shown
    assert "toy: 6 exposures: 100%" in shown and "6/6" in shown and "exposure" in shown


@pytest.mark.parametrize("granularity", ["blocks", "exposures"])
def test_detector1_program_on_local_2_is_byte_identical_to_sync(simulated_program, tmp_path, granularity):
    inputs, references = [simulated_program["folder"]], simulated_program["references"]
    common = {"references": references, "progress": False, "memory_limit": "1GB"}
    sync = jwstlazy.run("detector1", inputs, tmp_path / "sync", scheduler="sync", **common)
    cluster = jwstlazy.run("detector1", inputs, tmp_path / "local", scheduler="local:2", granularity=granularity,
                           **common)  # fmt: skip
    assert len(sync.written) == len(cluster.written) == 2 * len(simulated_program["uncal"])
    _assert_identical_products(sync.written, tmp_path / "local")
    assert not (tmp_path / "local" / DERIVED_REFERENCE_DIR).exists()


@pytest.mark.parametrize(
    ("exposures", "workers", "threads", "expected"),
    [(4, 2, 1, True), (3, 2, 1, False), (8, 2, 2, True), (7, 2, 2, False), (1, 1, 1, False)],
)
def test_auto_granularity_takes_exposures_when_each_thread_gets_two(exposures, workers, threads, expected):
    execution = Execution({}, workers=workers, threads_per_worker=threads)
    assert _exposure_tasks_chosen("auto", exposures, execution) is expected
    assert _exposure_tasks_chosen("blocks", 100, execution) is False
    assert _exposure_tasks_chosen("exposures", 1, execution) is True


def test_unknown_granularity_is_an_error_before_anything_runs(toy_exposures, tmp_path):
    with pytest.raises(JwstLazyInputError, match="granularity.*expected auto, blocks, exposures"):
        jwstlazy.run(ToyPipeline(), toy_exposures, tmp_path, scheduler="local:2", granularity="pixels")
    assert not list(tmp_path.glob("*.fits"))


def test_corrupt_exposure_task_is_reported_by_name_and_the_others_finish(toy_exposures, tmp_path):
    bad = toy_exposures[2]
    bad.write_bytes(bad.read_bytes()[:4000])
    with pytest.raises(ProgramFailed) as info:
        jwstlazy.run(ToyPipeline(), toy_exposures, tmp_path, scheduler="local:2", granularity="exposures",
                     progress=False, memory_limit="1GB")  # fmt: skip
    assert list(info.value.result.failed) == [str(bad)] and "truncated" in info.value.result.failed[str(bad)]
    assert len(info.value.result.written) == 10 and all(p.exists() for p in info.value.result.written)


def test_exposures_go_to_the_workers_in_turn_as_a_preference():
    from jwstlazy.graphs.execute import _ExposurePlacement

    placement = _ExposurePlacement(exposures=5)
    workers = ["tcp://a:1", "tcp://b:1"]
    chosen = [placement.next_exposure(workers, []) for _ in range(3)]
    assert [c["workers"] for c in chosen] == [["tcp://a:1"], ["tcp://b:1"], ["tcp://a:1"]]
    assert all(c["allow_other_workers"] for c in chosen)
    workers.append("tcp://c:1")  # a worker joining is used from then on
    assert {placement.next_exposure(workers, [])["workers"][0] for _ in range(3)} == {"tcp://a:1", "tcp://b:1", "tcp://c:1"}


def test_an_exposure_goes_to_the_worker_with_fewest_unfinished_ones():
    from types import SimpleNamespace

    from jwstlazy.graphs.execute import _ExposurePlacement

    def future(done: bool) -> SimpleNamespace:
        return SimpleNamespace(done=lambda: done)

    placement = _ExposurePlacement(exposures=8)
    workers = ["tcp://a:1", "tcp://b:1"]
    assert [placement.next_exposure(workers, [])["workers"] for _ in range(2)] == [["tcp://a:1"], ["tcp://b:1"]]
    in_flight = [("tcp://a:1", [future(False)]), ("tcp://b:1", [future(True)]), (None, [future(False)])]
    # b's exposure has ended (dropped), a's has not, the unplaced one counts for no worker: b, though a is in turn
    assert placement.next_exposure(workers, in_flight)["workers"] == ["tcp://b:1"]
    assert [worker for worker, _ in in_flight] == ["tcp://a:1", None]


def test_fewer_exposures_than_workers_are_not_placed():
    from jwstlazy.graphs.execute import _ExposurePlacement

    assert _ExposurePlacement(exposures=2).next_exposure(["tcp://a:1", "tcp://b:1", "tcp://c:1"], []) == {}


def test_submission_waits_while_too_many_exposures_are_unfinished():
    import time

    from distributed import Client, LocalCluster

    from jwstlazy.graphs.execute import _wait_for_room

    with LocalCluster(n_workers=1, threads_per_worker=3, processes=False, dashboard_address=":0") as cluster, \
            Client(cluster) as client:  # fmt: skip
        slow = [client.submit(time.sleep, 0.3, pure=False), client.submit(time.sleep, 0.3, pure=False)]
        done = [client.submit(int, 1)]
        done[0].result()
        in_flight = [(None, done), (None, [slow[0]]), (None, [slow[1]])]
        start = time.perf_counter()
        _wait_for_room(in_flight, 2)  # the finished one is dropped; then one of the two slow ones must end
        assert time.perf_counter() - start >= 0.2
        assert len(in_flight) <= 1
        start = time.perf_counter()
        _wait_for_room(in_flight, 2)  # room already: returns at once
        assert time.perf_counter() - start < 0.2


def test_a_programs_shared_dark_cache_gives_what_each_exposure_alone_gives(simulated_program, tmp_path, monkeypatch):
    """SHALLOW4 exposures share the dark averaged per block through a cache folder in the output folder
    (jwstlazy.references.derived); the products are those of each exposure run alone, and the folder is gone."""
    from jwstlazy.graphs import execute
    from jwstlazy.references import derived

    folders = []
    monkeypatch.setattr(execute, "cached_derivations", lambda folder: folders.append(folder) or derived.cached_derivations(folder))
    inputs, common = simulated_program["uncal"][:3], {"references": simulated_program["references"], "progress": False}
    program = jwstlazy.run("detector1", inputs, tmp_path / "program", scheduler="threads:2", **common)
    assert folders == [tmp_path / "program" / execute.DERIVED_REFERENCE_DIR] and not folders[0].exists()
    for uncal in inputs:
        jwstlazy.run("detector1", [uncal], tmp_path / "alone", scheduler="sync", **common)
    assert len(folders) == 1  # an exposure alone shares nothing
    _assert_identical_products(program.written, tmp_path / "alone")


def test_image2_program_as_exposure_tasks_is_byte_identical_to_sync(simulated_program, tmp_path):
    """Stage 2 (uncal -> rate -> cal -> i2d) plugs into the same machinery: one task per exposure on local:2."""
    inputs, references = simulated_program["uncal"][:4], simulated_program["references"]
    common = {"references": references, "progress": False, "memory_limit": "1GB"}
    sync = jwstlazy.run("image2", inputs, tmp_path / "sync", scheduler="sync", **common)
    cluster = jwstlazy.run("image2", inputs, tmp_path / "local", scheduler="local:2", granularity="exposures", **common)
    assert sorted(p.name for p in sync.written) == sorted(p.name for p in cluster.written)
    assert {p.name.rsplit("_", 1)[1] for p in sync.written} == {"rate.fits", "rateints.fits", "cal.fits", "i2d.fits"}
    for path in sync.written:
        ours, theirs = jwstlazy.open(tmp_path / "local" / path.name), jwstlazy.open(path)
        assert set(ours.data_vars) == set(theirs.data_vars)
        for name in theirs.data_vars:
            assert ours[name].values.tobytes() == theirs[name].values.tobytes(), f"{path.name} {name}"
