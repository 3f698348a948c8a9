"""clean_flicker_noise autoparam: the decision tree and the parameters chosen for rate images, against jwst."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from jwstlazy.kernels.flicker_autoparam import LIMITS, auto_parameters, decide


def _rate(rng, shape=(256, 256), gradient=0.0, stripes=0.02, channel_step=0.0, sources=True):
    """A sky rate (DN/s) with 1/f row stripes, optional gradient along x, channel offsets and sources."""
    ny, nx = shape
    y, x = np.mgrid[:ny, :nx]
    rate = 1.0 + gradient * x / nx + rng.normal(0, 0.01, shape) + rng.normal(0, stripes, (ny, 1))
    if channel_step:
        rate += channel_step * (x // 512)
    if sources:
        for cy, cx in rng.integers(10, min(ny, nx) - 10, (12, 2)):
            rate[cy - 2:cy + 3, cx - 2:cx + 3] += 5.0
    return rate.astype(np.float32)


@pytest.mark.parametrize("exp_type", sorted(LIMITS))
def test_decision_tree_matches_jwst(exp_type):
    autoparam = pytest.importorskip("jwst.clean_flicker_noise.autoparam")
    values = {"mask_frac": (0.01, 0.2), "max_offset": (0.0, 0.05, 0.1), "max_slope": (1e-6, 5e-5, 1e-3),
              "slope_ratio": (1.0, 10.0), "channel_sigma": (0.001, 0.05)}  # fmt: skip
    limits = {**LIMITS[exp_type], "max_offset_low_mask": 0.02}
    for combination in itertools.product(*values.values()):
        stats = dict(zip(values, combination))
        theirs = {"background_method": None, "fit_by_channel": None}
        autoparam._image_decision_tree(theirs, limits, *combination)
        assert decide(stats, LIMITS[exp_type]) == (theirs["background_method"], theirs["fit_by_channel"]), stats


@pytest.mark.crosscheck
@pytest.mark.parametrize(
    ("exp_type", "case"),
    [("NRC_IMAGE", {}), ("NRC_IMAGE", {"gradient": 0.05}), ("NIS_IMAGE", {"gradient": 0.05}),
     ("NRC_IMAGE", {"shape": (2048, 2048), "channel_step": 0.1, "sources": False})],
)  # fmt: skip
def test_parameters_match_jwst_for_rate_images(exp_type, case):
    autoparam = pytest.importorskip("jwst.clean_flicker_noise.autoparam")
    from stdatamodels.jwst import datamodels

    rate = _rate(np.random.default_rng(3), **case)
    model = datamodels.ImageModel(data=rate.copy())
    model.meta.subarray.slowaxis = 2 if exp_type == "NRC_IMAGE" else -1
    model.meta.exposure.type = exp_type
    chosen = getattr(autoparam, "nircam_image_parameters" if exp_type == "NRC_IMAGE" else "niriss_image_parameters")
    theirs = chosen(model, None)
    ours = auto_parameters(rate, exp_type, abs(model.meta.subarray.slowaxis))
    assert ours == theirs


def test_a_gradient_asks_for_a_model_background_and_channel_offsets_for_fitting_by_channel():
    rng = np.random.default_rng(4)
    assert auto_parameters(_rate(rng), "NRC_IMAGE", 2)["background_method"] == "median"
    assert auto_parameters(_rate(rng, gradient=0.05), "NRC_IMAGE", 2)["background_method"] == "model"
    full = auto_parameters(_rate(rng, (2048, 2048), channel_step=0.1, sources=False), "NRC_IMAGE", 2)
    assert full["fit_by_channel"] and not full["apply_flat_field"]
    assert auto_parameters(_rate(rng), "NRC_IMAGE", 2, flat=np.ones((256, 256), np.float32))["apply_flat_field"]
