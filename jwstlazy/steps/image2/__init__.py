"""Stage 2 imaging steps, in the order ``calwebb_image2`` runs them.

bkg_subtract → assign_wcs → flat_field → photom (``_rate`` → ``_cal``), then resample (``_cal`` → ``_i2d``).
"""

from jwstlazy.steps.image2.assign_wcs import AssignWcsStep
from jwstlazy.steps.image2.bkg_subtract import BackgroundStep
from jwstlazy.steps.image2.flat_field import FlatFieldStep
from jwstlazy.steps.image2.photom import PhotomStep
from jwstlazy.steps.image2.resample import ResampleStep

__all__ = ["AssignWcsStep", "BackgroundStep", "FlatFieldStep", "PhotomStep", "ResampleStep"]
