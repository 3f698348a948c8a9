"""emicorr (MIRI, off by default): fit and subtract electromagnetic-interference (EMI) waves from ramps.

jwst 3.0 ``EmiCorrStep``. The frequencies are those the EMICORR reference lists for the exposure's subarray,
read pattern and detector (or ``onthefly_corr_freq``), corrected one after another: each fit sees the data
corrected for the earlier ones. Per frequency the graph is

- ``algorithm='joint'`` (default): per-block pixel scatter -> ONE task for its exposure median (the
  good-pixel cut) -> per-block sums of good pixels' ramps by EMI phase, added over blocks -> ONE small task
  fits the wave's amplitude and phase -> per-block subtraction;
- ``algorithm='sequential'``: ONE task on the full frames of the first ``nints_to_phase`` integrations builds
  the phased waveform and its look-up table -> per-block subtraction.

Kernels: :mod:`jwstlazy.kernels.emicorr`; reference: :mod:`jwstlazy.references.emicorr`;
docs/steps/emicorr.md.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import warnings
from dataclasses import dataclass
from typing import ClassVar

import dask
import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.emicorr import (
    SUBARRAY_CLOCKS,
    accumulate_phased,
    clock_case,
    fit_joint,
    frame_samples,
    integration_samples,
    lookup_table,
    period_samples,
    phased_waveform,
    pixel_std,
    rebinned_size,
    scatter_threshold,
    sequential_nbins,
    sequential_nints_to_phase,
    subtract_lookup,
    subtract_wave,
    wave_spline,
)
from jwstlazy.references.emicorr import read_emicorr_reference
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, as_one_delayed, delayed_arrays, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import (
    as_ramp,
    integer_keyword,
    pixel_array,
    with_arrays,
)

log = logging.getLogger(__name__)

READ_PATTERNS = ("FAST", "FASTR1", "SLOW", "SLOWR1")
ALGORITHMS = ("joint", "sequential")
#: Columns per MIRI row read at once (the four outputs).
_OUTPUTS = 4
#: Fewest column groups the sequential cleaning needs (it repairs groups 1 and 2 from 0 and 3).
_MIN_COLUMN_GROUPS = 4
#: ``int(SUBSIZE1 / 4 + SUBSTRT1 - 1)`` of a full frame: its last column group is read 3 samples late.
_FULL_FRAME_COLSTOP = 258


@dataclass(frozen=True)
class _Plan:
    """What to correct: algorithm, readout timing, and (name, Hz, wave or None) per frequency, in order."""

    algorithm: str
    rowclocks: int
    frameclocks: int
    frequencies: tuple[tuple[str, float, np.ndarray | None], ...]


class EmiCorrStep(Step):
    """Remove MIRI EMI: waves from the EMICORR reference (joint fit) or measured from the data (sequential).

    Skipped (``S_MIREMI = 'SKIPPED'``, reason logged) for other instruments, read patterns other than
    FAST/FASTR1/SLOW/SLOWR1, fewer than 3 groups, and subarrays without a case in the reference (or in the
    built-in clock table for ``onthefly_corr_freq``).
    """

    name = "emicorr"
    keyword = "MIREMI"
    reference_types = ("emicorr",)
    reference_keywords: ClassVar[dict[str, str]] = {"emicorr": "MIREMI"}
    skip_without_references = True

    @dataclasses.dataclass
    class Parameters(StepParameters):
        skip: bool = True
        algorithm: str = "joint"
        nints_to_phase: int | None = None
        nbins: int | None = None
        scale_reference: bool = True
        onthefly_corr_freq: tuple[float, ...] | None = None
        use_n_cycles: int | None = 3
        fit_ints_separately: bool = False
        user_supplied_reffile: str | None = None
        save_intermediate_results: bool = False

    def needed_reference_types(self, data: xr.Dataset) -> tuple[str, ...]:
        """No reference is looked up when the waves come from elsewhere."""
        p = self.parameters
        from_elsewhere = bool(p.onthefly_corr_freq) or p.user_supplied_reffile is not None
        return () if from_elsewhere else self.reference_types

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        self._check_parameters()
        ramp = as_ramp(ds)
        attrs = ramp.attrs
        instrument = str(attrs.get("INSTRUME", "")).upper()
        readpatt = str(attrs.get("READPATT", "")).upper()
        if instrument != "MIRI":
            raise StepSkipped(f"EMI correction is not implemented for instrument {instrument or 'unknown'}")
        if readpatt not in READ_PATTERNS:
            raise StepSkipped(f"EMI correction is not implemented for read pattern {readpatt or 'unknown'}")
        sci, pixeldq = pixel_array(ramp, "SCI"), pixel_array(ramp, "PIXELDQ")
        ngroups, nx = sci.shape[1], sci.shape[3]
        if ngroups < 3:
            raise StepSkipped(f"EMI correction cannot be performed for ngroups={ngroups}")
        if nx % _OUTPUTS or nx // _OUTPUTS < _MIN_COLUMN_GROUPS:
            raise StepSkipped(f"{nx} columns are not whole groups of the 4 MIRI outputs")
        plan = self._plan(attrs, readpatt, references)
        nsamples = integer_keyword(ramp, "NSAMPLES", 9 if readpatt.startswith("SLOW") else 1)
        names = ", ".join(f"{name} ({frequency} Hz)" for name, frequency, _ in plan.frequencies)
        log.info("emicorr: %s algorithm, %s", plan.algorithm, names)
        if plan.algorithm == "joint":
            reset = plan.frameclocks if readpatt.endswith("R1") else 0
            for _, frequency, wave in plan.frequencies:
                sci = _joint_correction(sci, pixeldq, wave, frequency, plan.rowclocks, reset, nsamples,
                                        self.parameters.fit_ints_separately)
        else:
            sci = self._sequential(sci, ramp, readpatt, plan, nsamples)
        return with_arrays(ramp, SCI=sci)

    # -- parameters and references ---------------------------------------------------------------------
    def _check_parameters(self) -> None:
        p = self.parameters
        where = f"steps.{self.name}"
        if p.algorithm not in ALGORITHMS:
            raise JwstLazyInputError(f"algorithm={p.algorithm!r}", where=f"{where}.algorithm",
                                     expected="'joint' or 'sequential'")
        for field in ("nints_to_phase", "nbins", "use_n_cycles"):
            value = getattr(p, field)
            if value is not None and int(value) < 1:
                raise JwstLazyInputError(f"{field}={value!r}", where=f"{where}.{field}",
                                         expected="None or a positive integer")
        if p.save_intermediate_results and p.onthefly_corr_freq:
            raise JwstLazyInputError("saving the on-the-fly reference file is not implemented",
                                     where=f"{where}.save_intermediate_results", expected="False")

    def _plan(self, attrs, readpatt: str, references) -> _Plan:
        p = self.parameters
        subarray = str(attrs.get("SUBARRAY", "")).upper()
        detector = str(attrs.get("DETECTOR", "")).upper()
        if p.onthefly_corr_freq:
            if p.algorithm == "joint":
                log.warning("emicorr: the 'joint' algorithm needs a reference wave; using 'sequential' for "
                            "the on-the-fly frequencies")
            case = clock_case(subarray, readpatt)
            if case not in SUBARRAY_CLOCKS:
                raise StepSkipped(f"no readout timing for subarray {subarray} ({case})")
            rowclocks, frameclocks = SUBARRAY_CLOCKS[case]
            freqs = tuple((repr(float(f)), float(f), None) for f in p.onthefly_corr_freq)
            return _Plan("sequential", rowclocks, frameclocks, freqs)
        if p.user_supplied_reffile is not None:
            message = "'user_supplied_reffile' is deprecated; give the file as the 'emicorr' reference instead"
            warnings.warn(message, DeprecationWarning, stacklevel=3)
            log.warning("emicorr: %s", message)
            path = p.user_supplied_reffile
        elif references.get("emicorr") is None:
            raise StepSkipped("no EMICORR reference file (N/A)")
        else:
            path = references["emicorr"].attrs["filename"]
        reference = read_emicorr_reference(path)
        case = reference.case(subarray, readpatt, detector)
        if case is None or not case.frequencies:
            raise StepSkipped(f"no correction match for SUBARRAY={subarray} READPATT={readpatt} "
                              f"DETECTOR={detector} in {os.path.basename(str(path))}")
        waves = tuple(reference.wave(name) for name in case.frequencies)
        return _Plan(p.algorithm, case.rowclocks, case.frameclocks,
                     tuple((w.name, w.frequency, w.wave) for w in waves))

    # -- sequential algorithm ---------------------------------------------------------------------------
    def _sequential(self, sci: da.Array, ramp: xr.Dataset, readpatt: str, plan: _Plan, nsamples: int) -> da.Array:
        p = self.parameters
        nints, ngroups, ny, nx = sci.shape
        if ngroups < 10:
            log.warning("emicorr: 'sequential' with ngroups=%d; 'joint' is recommended below 10 groups", ngroups)
        colstop = int(integer_keyword(ramp, "SUBSIZE1", nx) / 4 + integer_keyword(ramp, "SUBSTRT1", 1) - 1)
        shifted_group = nx // _OUTPUTS - 1 if colstop == _FULL_FRAME_COLSTOP else -1
        # Upstream decides the integrations to bin with the first frequency and keeps that number.
        first_period = period_samples(plan.frequencies[0][1])
        n_phase = sequential_nints_to_phase(p.nints_to_phase, p.use_n_cycles, nints, ngroups, first_period,
                                            plan.frameclocks)
        timing = {"rowclocks": plan.rowclocks, "frame": frame_samples(ny, plan.rowclocks),
                  "integration": integration_samples(ny, ngroups, plan.rowclocks, plan.frameclocks, readpatt),
                  "nsamples": nsamples, "shifted_group": shifted_group}
        for _, frequency, wave in plan.frequencies:
            period = period_samples(frequency)
            sci = _sequential_correction(sci, wave, period, min(n_phase, nints), sequential_nbins(p.nbins, period),
                                         p.scale_reference, **timing)
        return sci


# -- joint algorithm ---------------------------------------------------------------------------------------

def _joint_correction(sci: da.Array, pixeldq: da.Array, wave: np.ndarray, frequency: float, rowclocks: int,
                      reset_samples: int, nsamples: int, separate_integrations: bool) -> da.Array:
    """One frequency of the joint algorithm on a lazy ramp (nints, ngroups, ny, nx) float32 -> same."""
    nints, ngroups, ny = sci.shape[:3]
    period = period_samples(frequency)
    values, second = wave_spline(np.ascontiguousarray(wave, dtype=np.float64))
    dphase = (frame_samples(ny, rowclocks) / period) % 1
    dphase_frame = dphase * ngroups + reset_samples / period
    (scatter,) = map_pixel_blocks(pixel_std, [sci], [OutputSpec(np.float32, (nints,))], name="emicorr-scatter")
    (threshold,) = delayed_arrays(_threshold, [((), np.float32)], scatter)
    sums, counts = _phased_sums(sci, pixeldq, threshold, wave.size, rowclocks, nsamples, period)
    phases, amplitudes = delayed_arrays(
        fit_joint, [((nints,), np.float64), ((nints,), np.float64)], sums, counts, values, second, dphase,
        dphase_frame, bool(separate_integrations),
    )
    fit = da.concatenate([phases, amplitudes])

    def apply_block(data, fit_block, origin):
        fitted = np.ascontiguousarray(fit_block[:, 0, 0])
        return subtract_wave(data, origin[0], origin[1], values, second, rowclocks, nsamples, period, dphase,
                             fitted[:nints], fitted[nints:])

    (corrected,) = map_pixel_blocks(apply_block, [sci, _over_pixels(fit, sci)],
                                    [OutputSpec(np.float32, (nints, ngroups))], pass_origin=True,
                                    name="emicorr-subtract")
    return corrected


def _threshold(scatter: np.ndarray) -> tuple[np.ndarray]:
    """The good-pixel cut (twice the median scatter) as a one-output reduction."""
    return (np.asarray(scatter_threshold(scatter), dtype=np.float32),)


def _phased_sums(sci: da.Array, pixeldq: da.Array, threshold: da.Array, nphases: int, rowclocks: int,
                 nsamples: int, period: float) -> tuple[da.Array, da.Array]:
    """:func:`accumulate_phased` on every pixel block, added over blocks.

    Returns sums (nints, nphases, ngroups) and counts (nints, nphases), float64.
    """
    nints, ngroups = sci.shape[:2]
    pixeldq = pixeldq.rechunk(sci.chunks[-2:])
    sci_blocks = sci.to_delayed(optimize_graph=False)  # keep the keys shared with the other consumers
    dq_blocks = pixeldq.to_delayed(optimize_graph=False)
    row_starts = np.cumsum((0,) + sci.chunks[-2])[:-1]
    column_starts = np.cumsum((0,) + sci.chunks[-1])[:-1]
    accumulate = dask.delayed(_accumulate_block, nout=2, pure=True)
    cut = as_one_delayed(threshold)
    sums, counts = [], []
    for by, y0 in enumerate(row_starts):
        for bx, x0 in enumerate(column_starts):
            block_sums, block_counts = accumulate(sci_blocks[0, 0, by, bx], dq_blocks[by, bx], cut,
                                                  int(y0), int(x0), nphases, rowclocks, nsamples, period)
            sums.append(da.from_delayed(block_sums, (nints, nphases, ngroups), np.float64))
            counts.append(da.from_delayed(block_counts, (nints, nphases), np.float64))
    return da.stack(sums).sum(axis=0), da.stack(counts).sum(axis=0)


def _accumulate_block(data, pixeldq, threshold, y0, x0, nphases, rowclocks, nsamples, period):
    """:func:`accumulate_phased` of one block, the cut given as a 0-d array."""
    return accumulate_phased(data, pixeldq, np.float32(threshold), y0, x0, nphases, rowclocks, nsamples, period)


# -- sequential algorithm ----------------------------------------------------------------------------------

def _sequential_correction(sci: da.Array, wave: np.ndarray | None, period: float, n_phase: int, nbins: int,
                           scale_reference: bool, *, rowclocks: int, frame: float, integration: int,
                           nsamples: int, shifted_group: int) -> da.Array:
    """One frequency of the sequential algorithm on a lazy ramp (nints, ngroups, ny, nx) float32 -> same."""
    nints, ngroups = sci.shape[:2]
    reference = np.empty(0) if wave is None else np.ascontiguousarray(wave, dtype=np.float64)
    size = rebinned_size(reference.size or nbins, period)
    (table,) = delayed_arrays(
        _table, [((size,), np.float64)], sci[:n_phase], rowclocks, frame, integration, nsamples, period, nbins,
        shifted_group, reference, scale_reference,
    )

    def apply_block(data, table_block, origin):
        return subtract_lookup(data, origin[0], origin[1], np.ascontiguousarray(table_block[:, 0, 0]), rowclocks,
                               frame, integration, nsamples, period, shifted_group)

    (corrected,) = map_pixel_blocks(apply_block, [sci, _over_pixels(table, sci)],
                                    [OutputSpec(np.float32, (nints, ngroups))], pass_origin=True,
                                    name="emicorr-subtract")
    return corrected


def _table(data, rowclocks, frame, integration, nsamples, period, nbins, shifted_group, reference,
           scale_reference) -> tuple[np.ndarray]:
    """Phased waveform of ``data`` and its look-up table, as a one-output reduction."""
    waveform = phased_waveform(np.ascontiguousarray(data, dtype=np.float32), rowclocks, frame, integration,
                               nsamples, period, nbins, shifted_group)
    return (lookup_table(waveform, period, reference, scale_reference),)


# -- graph helpers -----------------------------------------------------------------------------------------

def _over_pixels(vector: da.Array, like: da.Array) -> da.Array:
    """A (n,) vector seen as (n, ny, nx) without copying, chunked like ``like``'s pixel blocks."""
    n = vector.shape[0]
    column = vector.rechunk(-1)[:, None, None]
    return da.broadcast_to(column, (n,) + like.shape[-2:], chunks=((n,),) + like.chunks[-2:])
