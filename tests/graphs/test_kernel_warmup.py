"""Kernels compiled once in a separate process before a cluster gets work (jwstlazy.graphs.kernel_warmup)."""

from __future__ import annotations

import json
import logging

import pytest
from toy_pipeline import ToyPipeline, write_toy_uncal

import jwstlazy.kernels.cache
from jwstlazy.graphs import kernel_warmup
from jwstlazy.graphs.kernel_warmup import RECORD_NAME, exposure_kind, warm_kernel_cache
from jwstlazy.graphs.program import Exposure

SIZING = {"chunks": None, "memory_limit": 2**30, "threads_per_worker": 1}


@pytest.fixture
def cache_directory(tmp_path, monkeypatch):
    """Record warmed kinds in a fresh directory instead of numba's cache of the package."""
    folder = tmp_path / "numba-cache"
    monkeypatch.setattr(jwstlazy.kernels.cache, "kernel_cache_directory", lambda: folder)
    return folder


@pytest.fixture
def children(monkeypatch):
    """Record the exposures a warm-up would run in a child process, instead of running them."""
    started = []
    monkeypatch.setattr(kernel_warmup, "_run_in_child",
                        lambda pipeline, exposure, sizing: started.append(exposure.name) or True)
    return started


def test_kind_depends_on_settings_instrument_and_input_product(toy_exposures, tmp_path):
    first, second = (Exposure(path) for path in toy_exposures[:2])
    assert exposure_kind(ToyPipeline(), first) == exposure_kind(ToyPipeline(), second)
    slowed = ToyPipeline(steps={"toy_ramp": {"seconds_per_chunk": 0.5}})
    assert exposure_kind(slowed, first) != exposure_kind(ToyPipeline(), first)
    miri = write_toy_uncal(tmp_path / "jw_mirimage_uncal.fits", seed=9)
    from astropy.io import fits

    fits.setval(miri, "INSTRUME", value="MIRI", ext=0)
    assert exposure_kind(ToyPipeline(), Exposure(miri)) != exposure_kind(ToyPipeline(), first)
    rate = miri.rename(tmp_path / "jw_mirimage_rate.fits")
    assert exposure_kind(ToyPipeline(), Exposure(rate)) != exposure_kind(ToyPipeline(), Exposure(miri.with_name("x")))


def test_the_first_exposure_of_each_kind_is_warmed_once(toy_exposures, cache_directory, children):
    exposures = [Exposure(path) for path in toy_exposures]
    assert len(warm_kernel_cache(ToyPipeline(), exposures, SIZING)) == 1
    assert children == [exposures[0].name]
    assert warm_kernel_cache(ToyPipeline(), exposures, SIZING) == []  # recorded: no second child
    slowed = ToyPipeline(steps={"toy_ramp": {"seconds_per_chunk": 0.01}})
    assert len(warm_kernel_cache(slowed, exposures[1:], SIZING)) == 1
    assert children == [exposures[0].name, exposures[1].name]
    assert len(json.loads((cache_directory / RECORD_NAME).read_text())["kinds"]) == 2


def test_edited_kernel_sources_make_the_record_stale(toy_exposures, cache_directory, children, monkeypatch):
    exposures = [Exposure(path) for path in toy_exposures]
    warm_kernel_cache(ToyPipeline(), exposures, SIZING)
    monkeypatch.setattr(jwstlazy.kernels.cache, "cache_state", lambda: "sources edited since")
    warm_kernel_cache(ToyPipeline(), exposures, SIZING)
    assert children == [exposures[0].name] * 2


def test_a_real_child_runs_the_exposure_and_leaves_nothing_behind(toy_exposures, cache_directory, tmp_path):
    exposures = [Exposure(path) for path in toy_exposures]
    before = sorted(p.name for p in toy_exposures[0].parent.iterdir())
    assert len(warm_kernel_cache(ToyPipeline(), exposures, SIZING)) == 1
    assert sorted(p.name for p in toy_exposures[0].parent.iterdir()) == before  # products went to a temporary folder
    assert (cache_directory / RECORD_NAME).exists()


def test_a_failing_child_is_reported_and_not_recorded(tmp_path, cache_directory, caplog):
    broken = write_toy_uncal(tmp_path / "jw_broken_uncal.fits", seed=1, tgroup=-1.0)  # fails when computed
    with caplog.at_level(logging.WARNING, logger=kernel_warmup.__name__):
        assert warm_kernel_cache(ToyPipeline(), [Exposure(broken)], SIZING) == []
    assert "jw_broken_uncal.fits" in caplog.text
    assert not (cache_directory / RECORD_NAME).exists()
