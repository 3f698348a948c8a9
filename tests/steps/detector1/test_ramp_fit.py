"""RampFitStep options: what is not implemented says so, naming the parameter."""

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.steps.detector1 import RampFitStep
from ramp_helpers import build_ramp

ATTRS = dict(INSTRUME="NIRCAM", DETECTOR="NRCA1", EXP_TYPE="NRC_IMAGE", SUBARRAY="SUB24", TGROUP=10.0, TFRAME=10.0)


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    folder = tmp_path_factory.mktemp("refs")
    header = dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test", INSTRUME="NIRCAM", DETECTOR="NRCA1",
                  SUBARRAY="GENERIC")
    return {reftype: write_reference_file(folder / f"{reftype}.fits", reftype, header,
                                          {"SCI": np.full((8, 8), value, np.float32)})
            for reftype, value in (("gain", 2.0), ("readnoise", 5.0))}  # fmt: skip


@pytest.mark.parametrize(("option", "value"), [("algorithm", "LIKELY"), ("save_opt", True)])
def test_unimplemented_options_are_errors_naming_them(references, option, value):
    ramp = build_ramp(np.ones((1, 3, 8, 8), np.float32) * np.arange(3, dtype=np.float32)[None, :, None, None], **ATTRS)
    assert float(RampFitStep().run(ramp, references)["rate"]["SCI"].values.mean()) == pytest.approx(0.1)
    with pytest.raises(JwstLazyInputError, match=option):
        RampFitStep(**{option: value}).run(ramp, references)
