"""Electromagnetic interference (EMI) on MIRI ramps, and the EMICORR reference that describes it.

MIRI ramps pick up interference from the observatory's electronics at a few fixed frequencies. An
:class:`EmiComponent` adds ``amplitude * sin(2 pi (t / period + phase))`` DN to every read, where ``t`` is the
read's sample time in the clock model that ``jwst.emicorr`` assumes (:mod:`jwstlazy.kernels.emicorr`:
columns ``4k .. 4k+3`` read together, rows ``rowclocks`` apart, frames ``ny * rowclocks + (1024 - ny) * 7``
apart, one reset frame more between FASTR1/SLOWR1 integrations, NSAMPLES = 1 as the simulated headers say)
and ``t = 0`` is the first read of the exposure. It is added before the reads are digitised.

:func:`write_simulated_emicorr_reference` writes the EMICORR reference for these frequencies
(:data:`SIMULATED_EMI_FREQUENCIES`, one sine period each, every subarray case of
:data:`~jwstlazy.kernels.emicorr.SUBARRAY_CLOCKS`), so the emicorr step can remove injected EMI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.emicorr import (
    SUBARRAY_CLOCKS,
    clock_case,
    frame_samples,
    integration_samples,
    period_samples,
)
from jwstlazy.references.emicorr import write_emicorr_reference

#: Frequencies (Hz) of the simulated EMICORR reference, by name, in correction order (MIRI's known lines).
SIMULATED_EMI_FREQUENCIES: dict[str, float] = {
    "Hz390": 390.625, "Hz218a": 218.52055, "Hz164": 164.9305, "Hz10": 10.039216,
}
_MAX_WAVE_SAMPLES = 500
_NSAMPLES = 1


@dataclass(frozen=True)
class EmiComponent:
    """One EMI line: ``frequency`` (Hz), ``amplitude`` (DN, of the sine) and ``phase`` (cycles at t = 0)."""

    frequency: float
    amplitude: float
    phase: float = 0.0


def emi_clocks(subarray: str, readpatt: str) -> tuple[int, int]:
    """(rowclocks, frameclocks) of a MIRI subarray; raises when jwst.emicorr knows no timing for it."""
    case = clock_case(subarray, readpatt)
    if case not in SUBARRAY_CLOCKS:
        raise JwstLazyInputError(f"no EMI read timing for subarray {subarray!r}", where="SUBARRAY",
                                 expected=f"one of {', '.join(sorted(SUBARRAY_CLOCKS))} (FULL for full frame)")
    return SUBARRAY_CLOCKS[case]


def emi_signal(components: Sequence[EmiComponent], subarray: str, readpatt: str, shape: tuple[int, int],
               ngroups: int, integration: int) -> np.ndarray:
    """EMI of one integration per (group, row, column group): float64 (ngroups, ny, nx // 4), DN."""
    ny, nx = shape
    rowclocks, frameclocks = emi_clocks(subarray, readpatt)
    per_frame = frame_samples(ny, rowclocks)
    per_integration = integration_samples(ny, ngroups, rowclocks, frameclocks, readpatt)
    g = np.arange(ngroups, dtype=np.float64)[:, None, None]
    y = np.arange(ny, dtype=np.float64)[None, :, None]
    k = np.arange(nx // 4, dtype=np.float64)[None, None, :]
    t = integration * float(per_integration) + g * per_frame + y * rowclocks + k * _NSAMPLES
    signal = np.zeros((ngroups, ny, nx // 4))
    for component in components:
        cycles = t / period_samples(component.frequency) + component.phase
        signal += component.amplitude * np.sin(2.0 * np.pi * (cycles - np.floor(cycles)))
    return signal


def add_emi_to_flicker(flicker: np.ndarray, read_index: np.ndarray, emi: np.ndarray) -> None:
    """Add ``emi`` (ngroups, ny, nx // 4) to the per-tick noise ``flicker`` (ngroups, n_ticks), in place.

    ``read_index`` (ny, nx): each pixel's read tick; the four columns of a column group share one tick,
    so the EMI reaches every pixel through the noise it already sees at its read time.
    """
    ticks = read_index[:, ::4]
    flicker[:, ticks] += emi.astype(flicker.dtype)


def simulated_emi_waves() -> dict[str, tuple[float, np.ndarray]]:
    """name -> (frequency Hz, one sine period sampled at phases (m + 0.5) / n, n = min(500, period / 2))."""
    waves = {}
    for name, frequency in SIMULATED_EMI_FREQUENCIES.items():
        n = min(_MAX_WAVE_SAMPLES, int(period_samples(frequency) / 2.0))
        waves[name] = (frequency, np.sin(2.0 * np.pi * (np.arange(n) + 0.5) / n))
    return waves


def write_simulated_emicorr_reference(path: str | Path) -> Path:
    """The EMICORR reference (ASDF) for :data:`SIMULATED_EMI_FREQUENCIES`, every subarray case."""
    names = list(SIMULATED_EMI_FREQUENCIES)
    cases = {case: (rowclocks, frameclocks, names) for case, (rowclocks, frameclocks) in SUBARRAY_CLOCKS.items()}
    return write_emicorr_reference(path, simulated_emi_waves(), cases,
                                   description="Simulated MIRI EMI lines, unit sine waves (jwstlazy.simulate)",
                                   author="jwstlazy.simulate")
