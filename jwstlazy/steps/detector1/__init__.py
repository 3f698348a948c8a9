"""Stage 1 (detector1) steps: raw ramps -> count rates. Each wraps a kernel from jwstlazy.kernels."""

from jwstlazy.steps.detector1.dark_current import DarkCurrentStep
from jwstlazy.steps.detector1.dq_init import DQInitStep
from jwstlazy.steps.detector1.gain_scale import GainScaleStep
from jwstlazy.steps.detector1.group_scale import GroupScaleStep
from jwstlazy.steps.detector1.ipc import IPCStep
from jwstlazy.steps.detector1.jump import JumpStep
from jwstlazy.steps.detector1.linearity import LinearityStep
from jwstlazy.steps.detector1.miri_frames import FirstFrameStep, LastFrameStep, ResetStep
from jwstlazy.steps.detector1.ramp_fit import RampFitStep
from jwstlazy.steps.detector1.refpix import RefPixStep
from jwstlazy.steps.detector1.saturation import SaturationStep
from jwstlazy.steps.detector1.superbias import SuperBiasStep

__all__ = [
    "DQInitStep", "DarkCurrentStep", "FirstFrameStep", "GainScaleStep", "GroupScaleStep", "IPCStep", "JumpStep",
    "LastFrameStep", "LinearityStep", "RampFitStep", "RefPixStep", "ResetStep", "SaturationStep", "SuperBiasStep",
]
