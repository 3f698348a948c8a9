"""Every parameter of jwst 3.0's detector1 steps is a parameter of ours (a user's parameter file or command line
works unchanged); the ones not implemented are errors naming them when set."""

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.detector1 import Detector1Pipeline

STEP_MODULES = {  # our step name -> jwst module holding its Step class (spec string)
    "group_scale": "group_scale.group_scale_step", "dq_init": "dq_init.dq_init_step",
    "emicorr": "emicorr.emicorr_step", "saturation": "saturation.saturation_step", "ipc": "ipc.ipc_step",
    "firstframe": "firstframe.firstframe_step", "lastframe": "lastframe.lastframe_step", "reset": "reset.reset_step",
    "superbias": "superbias.superbias_step", "refpix": "refpix.refpix_step", "linearity": "linearity.linearity_step",
    "rscd": "rscd.rscd_step", "dark_current": "dark_current.dark_current_step",
    "charge_migration": "charge_migration.charge_migration_step", "jump": "jump.jump_step",
    "picture_frame": "picture_frame.picture_frame_step", "clean_flicker_noise": "clean_flicker_noise.clean_flicker_noise_step",
    "persistence": "persistence.persistence_step", "ramp_fit": "ramp_fitting.ramp_fit_step",
    "gain_scale": "gain_scale.gain_scale_step",
}  # fmt: skip


@pytest.mark.crosscheck
def test_every_upstream_parameter_is_accepted():
    import importlib

    pytest.importorskip("jwst")
    ours = {cls.name: cls for cls in Detector1Pipeline.all_step_classes()}
    assert set(STEP_MODULES) == set(ours)
    for name, module in STEP_MODULES.items():
        source = Path(importlib.import_module(f"jwst.{module}").__file__).read_text()
        spec = re.search(r'spec = """(.*?)"""', source, re.S).group(1)
        upstream = set(re.findall(r"^\s*(\w+)\s*=", spec, re.M))
        missing = upstream - {field.name for field in dataclasses.fields(ours[name].Parameters)}
        assert not missing, f"{name}: {sorted(missing)}"


@pytest.mark.parametrize(("step", "option", "value"), [("dark_current", "dark_output", "dark.fits"),
                                                       ("persistence", "save_persistence", "pers.asdf")])
def test_options_not_implemented_are_errors_naming_them(step, option, value):
    from ramp_helpers import build_ramp

    cls = {c.name: c for c in Detector1Pipeline.all_step_classes()}[step]
    ramp = build_ramp(np.zeros((1, 3, 4, 4), np.float32), INSTRUME="NIRCAM", DETECTOR="NRCA1", EXP_TYPE="NRC_IMAGE",
                      TGROUP=10.0, TFRAME=10.0)  # fmt: skip
    with pytest.raises(JwstLazyInputError, match=option):
        cls(skip=False, **{option: value, **({"persistence_time": 10} if step == "persistence" else {})}).process(ramp, {})
