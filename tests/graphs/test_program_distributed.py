"""A program through a ``local:2`` cluster gives exactly what the sync scheduler gives."""

from __future__ import annotations

import os

import numpy as np
import pytest

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


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("JWSTLAZY_SLOW") != "1", reason="minutes on 2 cores; set JWSTLAZY_SLOW=1")
def test_detector1_program_on_local_2_matches_sync(simulated_program, tmp_path):
    inputs, references = [simulated_program["folder"]], simulated_program["references"]
    common = {"references": references, "progress": False, "memory_limit": "1GB"}
    sync = jwstlazy.run("detector1", inputs, tmp_path / "sync", scheduler="sync", **common)
    cluster = jwstlazy.run("detector1", inputs, tmp_path / "local", scheduler="local:2", **common)
    assert len(sync.written) == len(cluster.written) == 2 * len(simulated_program["uncal"])
    for path in sync.written:  # see docs/scaling.md: detector1 is not yet bit-reproducible across processes
        ours, theirs = jwstlazy.open(tmp_path / "local" / path.name), jwstlazy.open(path)
        np.testing.assert_array_equal(ours["DQ"].values, theirs["DQ"].values)
        np.testing.assert_allclose(ours["SCI"].values, theirs["SCI"].values, rtol=1e-5, atol=1e-6)
