"""superbias, refpix, linearity and dark_current fused into one pass per block: the same bits as step by step."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import xarray as xr

from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.detector1 import DarkCurrentStep, LinearityStep
from jwstlazy.steps.detector1.corrections import without_chain
from jwstlazy.steps.detector1.ramp_model import pixel_array, with_arrays

FUSED = ("superbias", "refpix", "linearity", "dark_current")


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    """A strip read through 4 outputs (refpix's column and side-pixel row offsets) with bright stars."""
    folder = tmp_path_factory.mktemp("corrections")
    write_reference_files("NRCA1", folder, subarray="GRISMTS256", dark_frames=4)
    uncal, _ = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="GRISMTS256", ngroups=4, seed=2))
    return uncal, ReferenceFinder(directories=[folder])


class AddOne(Step):
    """A user's step that changes SCI: it must end the chain before it."""

    name = "add_one"
    keyword = "ADDONE"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        return with_arrays(ds, SCI=pixel_array(ds, "SCI") + np.float32(1))


def _layers(ds: xr.Dataset) -> set[str]:
    return {str(name).rsplit("-", 1)[0] for name in ds["SCI"].data.dask.layers}


def _step_by_step(pipeline: Detector1Pipeline, uncal, stop: str, insert: tuple[str, Step] | None = None) -> xr.Dataset:
    """The pipeline up to ``stop`` with every step's output cut from the chain (one pass per step)."""
    data = pipeline.build(uncal, stop="saturation")
    for step in pipeline.steps_for(data)[2:]:
        data = step.run(without_chain(data), pipeline.references)
        if insert and step.name == insert[0]:
            data = insert[1].run(without_chain(data))
        if step.name == stop:
            return data
    raise AssertionError(stop)


def _same(fused: xr.Dataset, separate: xr.Dataset) -> None:
    for name in ("SCI", "PIXELDQ", "GROUPDQ"):
        np.testing.assert_array_equal(fused[name].values, separate[name].values, err_msg=name)


def test_four_steps_make_one_pass_with_the_same_bits(exposure):
    uncal, finder = exposure
    pipeline = Detector1Pipeline(references=finder)
    fused = pipeline.build(uncal, stop="dark_current")
    assert "+".join(FUSED) in _layers(fused)
    separate = _step_by_step(pipeline, uncal, "dark_current")
    assert not any("+" in layer for layer in _layers(separate))
    _same(fused, separate)
    assert all(fused.attrs[f"S_{key}"] == "COMPLETE" for key in ("SUPERB", "REFPIX", "LINEAR", "DARK"))


def test_a_skipped_step_is_left_out_of_the_pass(exposure):
    uncal, finder = exposure
    pipeline = Detector1Pipeline(steps={"linearity": {"skip": True}}, references=finder)
    fused = pipeline.build(uncal, stop="dark_current")
    assert "superbias+refpix+dark_current" in _layers(fused)
    _same(fused, _step_by_step(pipeline, uncal, "dark_current"))
    assert fused.attrs["S_LINEAR"] == "SKIPPED"


def test_a_step_changing_sci_in_between_splits_the_pass(exposure):
    uncal, finder = exposure
    pipeline = Detector1Pipeline(references=finder).insert_after("refpix", AddOne())
    fused = pipeline.build(uncal, stop="dark_current")
    assert {"superbias+refpix", "linearity+dark_current"} <= _layers(fused)
    separate = _step_by_step(Detector1Pipeline(references=finder), uncal, "dark_current", insert=("refpix", AddOne()))
    _same(fused, separate)


def test_out_of_order_steps_start_a_new_pass(exposure):
    """MIRI's order puts dark after linearity but a step may run alone in any order: dark then linearity."""
    uncal, finder = exposure
    pipeline = Detector1Pipeline(references=finder)
    ramp = pipeline.build(uncal, stop="refpix")
    dark_then_linearity = LinearityStep().run(DarkCurrentStep().run(ramp, finder), finder)
    layers = _layers(dark_then_linearity)
    assert {"dark_current", "linearity"} <= layers and "dark_current+linearity" not in layers
    separate = LinearityStep().run(without_chain(DarkCurrentStep().run(without_chain(ramp), finder)), finder)
    _same(dark_then_linearity, separate)
