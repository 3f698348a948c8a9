"""Step base class: typed parameters, skip, provenance keywords, reference lookup."""

import dataclasses

import numpy as np
import pytest
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.steps.base import Step, StepParameters


class ScaleStep(Step):
    """Multiply SCI by a factor (a test step)."""

    name = "scale"
    keyword = "SCALE"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        factor: float = 2.0
        times: int = 1
        label: str | None = None
        flags: tuple[int, ...] = (1, 2)

    def process(self, data, references):
        out = data.copy()
        out["SCI"] = data["SCI"] * self.parameters.factor**self.parameters.times
        return out


def _dataset():
    return xr.Dataset({"SCI": (("y", "x"), np.ones((2, 3), np.float32))}, attrs={"INSTRUME": "NIRCAM"})


def test_parameters_are_coerced_from_strings():
    step = ScaleStep(factor="3", times="2", skip="false", label="none", flags="(3, 4)")
    assert step.parameters.factor == 3.0 and step.parameters.times == 2 and step.parameters.skip is False
    assert step.parameters.label is None and step.parameters.flags == (3, 4)
    result = step.run(_dataset())
    np.testing.assert_array_equal(result["SCI"].values, 9.0)
    assert result.attrs["S_SCALE"] == "COMPLETE" and result.attrs["INSTRUME"] == "NIRCAM"


def test_skip_records_skipped_and_leaves_data():
    result = ScaleStep(skip=True).run(_dataset())
    assert result.attrs["S_SCALE"] == "SKIPPED"
    np.testing.assert_array_equal(result["SCI"].values, 1.0)


def test_step_applies_to_each_named_product():
    result = ScaleStep().run({"rate": _dataset(), "rateints": _dataset()})
    assert set(result) == {"rate", "rateints"}
    assert all(ds.attrs["S_SCALE"] == "COMPLETE" for ds in result.values())


@pytest.mark.parametrize("kwargs, where", [({"nonsense": 1}, "steps.scale"), ({"times": "many"}, "steps.scale.times")])
def test_bad_parameters_name_the_parameter(kwargs, where):
    with pytest.raises(JwstLazyInputError) as info:
        ScaleStep(**kwargs)
    assert where in str(info.value)


def test_missing_reference_names_the_type(tmp_path):
    class NeedsGain(ScaleStep):
        reference_types = ("gain",)

    with pytest.raises(JwstLazyInputError) as info:
        NeedsGain().run(_dataset(), references=tmp_path)
    assert "gain" in str(info.value)
