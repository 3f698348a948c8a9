"""DQInitStep: the MASK reference, and a user's own DQ file (upstream's user_supplied_dq), into the DQ arrays."""

import numpy as np
import pytest
from astropy.io import fits

from jwstlazy.datamodels.dqflags import DO_NOT_USE, HOT, WARM
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.references.crds_format import write_reference_file
from jwstlazy.steps.detector1 import DQInitStep
from ramp_helpers import build_ramp

ATTRS = dict(INSTRUME="NIRCAM", DETECTOR="NRCA1", EXP_TYPE="NRC_IMAGE", SUBARRAY="GENERIC")


@pytest.fixture()
def mask_reference(tmp_path):
    dq = np.zeros((8, 10), np.uint32)
    dq[1, 2] = WARM
    header = dict(USEAFTER="2022-01-01T00:00:00", DESCRIP="test", INSTRUME="NIRCAM", DETECTOR="NRCA1", SUBARRAY="GENERIC")
    return {"mask": write_reference_file(tmp_path / "mask.fits", "mask", header, {"DQ": dq})}


def test_user_supplied_dq_is_ored_into_the_mask(mask_reference, tmp_path):
    ramp = build_ramp(np.zeros((2, 3, 8, 10), np.float32), chunks=(4, 5), **ATTRS)
    user = np.zeros((8, 10), np.int32)
    user[1, 2] = HOT
    user[5, 7] = DO_NOT_USE | HOT
    fits.PrimaryHDU(user).writeto(tmp_path / "my_bad_pixels.fits")
    out = DQInitStep(user_supplied_dq=str(tmp_path / "my_bad_pixels.fits")).run(ramp, mask_reference)
    plain = DQInitStep().run(ramp, mask_reference)
    pixeldq, groupdq = out["PIXELDQ"].values, out["GROUPDQ"].values
    assert pixeldq[1, 2] == WARM | HOT and pixeldq[5, 7] == DO_NOT_USE | HOT
    assert (groupdq[:, :, 5, 7] == DO_NOT_USE).all()  # as a MASK's DO_NOT_USE pixel: every group
    others = np.ones((8, 10), bool)
    others[1, 2] = others[5, 7] = False
    np.testing.assert_array_equal(pixeldq[others], plain["PIXELDQ"].values[others])


def test_user_supplied_dq_of_the_wrong_shape_or_kind_names_the_file(mask_reference, tmp_path):
    ramp = build_ramp(np.zeros((1, 2, 8, 10), np.float32), **ATTRS)
    fits.PrimaryHDU(np.zeros((8, 9), np.int32)).writeto(tmp_path / "wrong_shape.fits")
    fits.PrimaryHDU(np.full((8, 10), 0.5, np.float32)).writeto(tmp_path / "not_bits.fits")
    for name, problem in (("wrong_shape.fits", "shape"), ("not_bits.fits", "DQ bits"), ("missing.fits", "cannot read")):
        with pytest.raises(JwstLazyInputError, match=problem) as info:
            DQInitStep(user_supplied_dq=str(tmp_path / name)).run(ramp, mask_reference)
        assert name in str(info.value)
