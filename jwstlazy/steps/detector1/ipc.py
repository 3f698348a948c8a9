"""ipc: inter-pixel capacitance correction by convolution with the IPC reference kernel."""

from __future__ import annotations

import dataclasses

import numpy as np
import xarray as xr

from jwstlazy.kernels.ipc import convolve_ipc, ipc_halo
from jwstlazy.steps.base import Step, StepParameters
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, reference_array, with_arrays


class IPCStep(Step):
    """Convolve every group with the IPC deconvolution kernel (2-D, or per-pixel 4-D).

    Difference from jwst: the convolution also runs over the 4-pixel reference border (jwst leaves
    reference pixels out); upstream runs IPC only where an IPC reference exists, and it is off here by default.
    """

    name = "ipc"
    keyword = "IPC"
    reference_types = ("ipc",)
    skip_without_references = True

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        kernel = reference_array(references["ipc"], "SCI", np.float32)
        sci = pixel_array(ramp, "SCI")
        halo = max(ipc_halo(kernel.shape[:2]))
        if kernel.ndim == 2:
            (sci,) = map_pixel_blocks(
                convolve_ipc, [sci], [OutputSpec(np.float32, sci.shape[:2])], halo=halo, name="ipc", kernel=kernel
            )
        else:
            (sci,) = map_pixel_blocks(
                lambda data, k: convolve_ipc(data, np.ascontiguousarray(k)),
                [sci, kernel], [OutputSpec(np.float32, sci.shape[:2])], halo=halo, name="ipc",
            )
        return with_arrays(ramp, SCI=sci)
