"""Stage 1 (detector1) steps: raw ramps -> count rates. Each wraps a kernel from jwstlazy.kernels."""

from jwstlazy.steps.detector1.charge_migration import ChargeMigrationStep
from jwstlazy.steps.detector1.clean_flicker_noise import CleanFlickerNoiseStep
from jwstlazy.steps.detector1.dark_current import DarkCurrentStep
from jwstlazy.steps.detector1.dq_init import DQInitStep
from jwstlazy.steps.detector1.emicorr import EmiCorrStep
from jwstlazy.steps.detector1.gain_scale import GainScaleStep
from jwstlazy.steps.detector1.group_scale import GroupScaleStep
from jwstlazy.steps.detector1.ipc import IPCStep
from jwstlazy.steps.detector1.jump import JumpStep
from jwstlazy.steps.detector1.linearity import LinearityStep
from jwstlazy.steps.detector1.miri_frames import FirstFrameStep, LastFrameStep, ResetStep
from jwstlazy.steps.detector1.persistence import PersistenceStep
from jwstlazy.steps.detector1.picture_frame import PictureFrameStep
from jwstlazy.steps.detector1.ramp_fit import RampFitStep
from jwstlazy.steps.detector1.refpix import RefPixStep
from jwstlazy.steps.detector1.rscd import RscdStep
from jwstlazy.steps.detector1.saturation import SaturationStep
from jwstlazy.steps.detector1.superbias import SuperBiasStep

__all__ = [
    "ChargeMigrationStep", "CleanFlickerNoiseStep", "DQInitStep", "DarkCurrentStep", "EmiCorrStep",
    "FirstFrameStep", "GainScaleStep", "GroupScaleStep", "IPCStep", "JumpStep", "LastFrameStep", "LinearityStep",
    "PersistenceStep", "PictureFrameStep", "RampFitStep", "RefPixStep", "ResetStep", "RscdStep", "SaturationStep", "SuperBiasStep",
]
