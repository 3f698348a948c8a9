"""A program through a ``local:2`` cluster gives exactly what the sync scheduler gives."""

from __future__ import annotations

import jwstlazy
from toy_pipeline import ToyPipeline

VARIABLES = ("SCI", "ERR", "DQ", "VAR_POISSON", "VAR_RNOISE")


def _assert_identical_products(written, other_folder):
    for path in written:
        ours, theirs = jwstlazy.open(other_folder / path.name), jwstlazy.open(path)
        for name in VARIABLES:
            assert ours[name].values.tobytes() == theirs[name].values.tobytes(), f"{path.name} {name}"


def test_six_exposures_on_local_2_are_byte_identical_to_sync(toy_exposures, tmp_path):
    common = {"progress": False, "memory_limit": "1GB", "chunks": "y=16"}
    sync = jwstlazy.run(ToyPipeline(), toy_exposures, tmp_path / "sync", scheduler="sync", **common)
    cluster = jwstlazy.run(ToyPipeline(), toy_exposures, tmp_path / "local", scheduler="local:2", **common)
    assert len(sync.written) == len(cluster.written) == 12
    _assert_identical_products(sync.written, tmp_path / "local")


def test_detector1_program_on_local_2_is_byte_identical_to_sync(simulated_program, tmp_path):
    inputs, references = [simulated_program["folder"]], simulated_program["references"]
    common = {"references": references, "progress": False, "memory_limit": "1GB"}
    sync = jwstlazy.run("detector1", inputs, tmp_path / "sync", scheduler="sync", **common)
    cluster = jwstlazy.run("detector1", inputs, tmp_path / "local", scheduler="local:2", **common)
    assert len(sync.written) == len(cluster.written) == 2 * len(simulated_program["uncal"])
    _assert_identical_products(sync.written, tmp_path / "local")
