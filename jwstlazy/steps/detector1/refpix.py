"""refpix: subtract the reference-pixel signal (amplifier offsets, odd/even columns, side-pixel 1/f).

The statistics need whole amplifiers, so the step is a small REDUCTION over the reference strips (one task
per exposure, reading only the 4-pixel borders) followed by a per-chunk APPLY (see kernels/refpix.py and
docs/steps/refpix.md). Near-IR work happens in detector orientation (FASTAXIS/SLOWAXIS); MIRI uses its side
reference columns.
"""

from __future__ import annotations

import dataclasses
import logging

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.dqflags import REFERENCE_PIXEL
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.corrections import Corrections
from jwstlazy.kernels.orientation import (
    detector_column_vector_to_dms,
    detector_row_vector_to_dms,
    dms_to_detector,
    is_transposed,
)
from jwstlazy.kernels.refpix import (
    AMPLIFIER_WIDTH,
    embed_in_full_frame,
    full_frame_offsets,
    single_output_offsets,
    sirs_kernels,
    sirs_row_offsets,
    split_reference_strips,
)
from jwstlazy.kernels.refpix_miri import miri_reference_offsets, subtract_miri_offsets
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, delayed_arrays, map_pixel_blocks
from jwstlazy.steps.detector1.corrections import CorrectionStage, with_correction
from jwstlazy.references.sirs_kernel import read_sirs_kernel
from jwstlazy.steps.detector1.ramp_model import as_ramp, integer_keyword, pixel_array, with_arrays

log = logging.getLogger(__name__)

FULL_FRAME = (2048, 2048)
BORDER_PIXELS = 4  #: reference pixels at each edge of a near-IR detector
#: Lower-case attr a pipeline may set: a lazy copy of the ramp in blocks isolating the 4-pixel borders, from
#: which the strips are read (see ``jwstlazy.graphs.detector1.Detector1Pipeline.before_step``).
REFERENCE_BORDERS_ATTR = "reference_borders"
MIRI_FULL_SHAPE = (1024, 1032)


def reads_reference_strips(ramp: xr.Dataset) -> bool:
    """Whether near-IR refpix takes its offsets from the full-frame reference strips (a full frame, or a
    subarray read through 4 outputs) rather than from the subarray's own reference pixels."""
    ny, nx = ramp["SCI"].shape[-2:]
    return (ny, nx) == FULL_FRAME or integer_keyword(ramp, "NOUTPUTS", 1) == 4


class RefPixStep(Step):
    """Reference-pixel correction, near-IR (NIRCam, NIRISS, NIRSpec traditional readout) and MIRI.

    ``refpix_algorithm="sirs"``: near-IR full frames take the side-pixel signal from the SIRSKERNEL reference's
    kernels (``sigreject``, ``gaussmooth``, ``halfwidth``) instead of the running median, as upstream.
    """

    name = "refpix"
    keyword = "REFPIX"
    reference_keywords = {"sirskernel": "SIRSKL"}  #: R_SIRSKL, upstream's keyword

    @dataclasses.dataclass
    class Parameters(StepParameters):
        odd_even_columns: bool = True
        use_side_ref_pixels: bool = True
        side_smoothing_length: int = 11
        side_gain: float = 1.0
        odd_even_rows: bool = True
        refpix_algorithm: str = "median"
        sigreject: float = 4.0
        gaussmooth: float = 1.0
        halfwidth: int = 30
        siglimit: float = 3.0
        # upstream's IRS2 options (NIRSpec IRS2 readouts, which jwstlazy does not process yet): accepted, unused
        ovr_corr_mitigation_ftr: float = 3.0
        preserve_irs2_refpix: bool = False
        irs2_mean_subtraction: bool = False

    def needed_reference_types(self, data: xr.Dataset) -> tuple[str, ...]:
        """SIRSKERNEL for ``refpix_algorithm="sirs"`` on near-IR full frames (upstream: a SUBARRAY name with FULL)."""
        return ("sirskernel",) if self._sirs_applies(data) else ()

    def _sirs_applies(self, data: xr.Dataset) -> bool:
        p = self.parameters
        if p.refpix_algorithm not in ("median", "sirs"):
            raise JwstLazyInputError(f"refpix_algorithm={p.refpix_algorithm!r}", where=f"steps.{self.name}.refpix_algorithm",
                                     expected="'median' or 'sirs'")
        near_ir = str(data.attrs.get("INSTRUME", "")).upper() != "MIRI"
        full = "FULL" in str(data.attrs.get("SUBARRAY", "")).upper()
        return p.refpix_algorithm == "sirs" and p.use_side_ref_pixels and near_ir and full

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        ramp = as_ramp(ds)
        if ramp.attrs.get("INSTRUME", "").upper() == "MIRI":
            return self._miri(ramp)
        return self._near_infrared(ramp, self._sirs_kernels(ramp, references))

    def _sirs_kernels(self, ramp: xr.Dataset, references) -> tuple[np.ndarray, np.ndarray] | None:
        """The detector's SIRS kernels, or None for the running median (not asked for, a SIRSKERNEL override of
        "N/A", or no entry for the detector in the file: upstream's fallbacks, with a warning)."""
        if not self._sirs_applies(ramp):
            return None
        reference = references.get("sirskernel")
        detector = str(ramp.attrs.get("DETECTOR", ""))
        coefficients = None if reference is None else read_sirs_kernel(reference.attrs["filename"], detector)
        if coefficients is None:
            log.warning("refpix: no SIRS kernel for %s; the side pixels use the running median", detector)
            return None
        p = self.parameters
        return sirs_kernels(*coefficients, gaussmooth=p.gaussmooth, halfwidth=int(p.halfwidth))

    # -- near-IR ---------------------------------------------------------------------------------
    def _near_infrared(self, ramp: xr.Dataset, sirs: tuple[np.ndarray, np.ndarray] | None = None) -> xr.Dataset:
        p = self.parameters
        fast, slow = integer_keyword(ramp, "FASTAXIS"), integer_keyword(ramp, "SLOWAXIS")
        sci, pixeldq = pixel_array(ramp, "SCI"), pixel_array(ramp, "PIXELDQ")
        nints, ngroups, ny, nx = sci.shape
        columns_along_x = not is_transposed(fast)
        full = (ny, nx) == FULL_FRAME
        if reads_reference_strips(ramp):
            # the strips come from the pipeline's border-blocked copy when it made one (no wait on every block)
            borders = ramp.attrs.get(REFERENCE_BORDERS_ATTR)
            if isinstance(borders, xr.Dataset):
                strip_sci, strip_dq = pixel_array(as_ramp(borders), "SCI"), pixel_array(as_ramp(borders), "PIXELDQ")
            else:
                strip_sci, strip_dq = sci, pixeldq
            if not full:
                sci_full, dq_full = embed_in_full_frame(
                    strip_sci, strip_dq, integer_keyword(ramp, "SUBSTRT1"), integer_keyword(ramp, "SUBSTRT2"),
                    FULL_FRAME,
                )
            else:
                sci_full, dq_full = strip_sci, strip_dq
            strips = split_reference_strips(dms_to_detector(sci_full, fast, slow))
            dq_strips = split_reference_strips(dms_to_detector(dq_full, fast, slow))
            shape = (nints, ngroups, FULL_FRAME[1])
            if sirs is None:
                column_offsets, row_offsets = delayed_arrays(
                    full_frame_offsets, [(shape, np.float32), (shape, np.float64)], *strips, *dq_strips,
                    odd_even_columns=p.odd_even_columns, use_side_ref_pixels=p.use_side_ref_pixels,
                    side_smoothing_length=p.side_smoothing_length, side_gain=p.side_gain, siglimit=p.siglimit,
                )
            else:  # per detector row and output channel: the channel axis goes last in the stage
                nchan = len(sirs[0])
                column_offsets, row_offsets = delayed_arrays(
                    _sirs_offsets, [(shape, np.float32), ((nints, ngroups, nchan, FULL_FRAME[0]), np.float64)],
                    *strips, *dq_strips, *sirs, odd_even_columns=p.odd_even_columns, siglimit=p.siglimit,
                    sigreject=p.sigreject,
                )
            column_offsets = detector_column_vector_to_dms(column_offsets, fast, slow)
            row_offsets = detector_row_vector_to_dms(row_offsets, fast, slow)
            if sirs is not None:
                amplifiers = da.from_array(np.arange(FULL_FRAME[1]) // AMPLIFIER_WIDTH)[None, None, :]
                amplifiers = detector_column_vector_to_dms(amplifiers, fast, slow)
                return with_correction(ramp, _offsets_stage(sci, column_offsets, row_offsets, columns_along_x,
                                                            amplifiers))  # fmt: skip
            if not full:  # cut the full-frame vectors to the subarray along their DMS axes
                x0, y0 = integer_keyword(ramp, "SUBSTRT1") - 1, integer_keyword(ramp, "SUBSTRT2") - 1
                col_range, row_range = ((x0, nx), (y0, ny)) if columns_along_x else ((y0, ny), (x0, nx))
                column_offsets = column_offsets[..., col_range[0]: col_range[0] + col_range[1]]
                row_offsets = row_offsets[..., row_range[0]: row_range[0] + row_range[1]]
        elif not self._may_hold_reference_pixels(ramp):
            return ramp  # nothing to correct with (offsets 0): no exposure-wide reduction, memory stays per block
        else:
            has_reference = da.any((pixeldq & REFERENCE_PIXEL) != 0)
            det_sci, det_dq = dms_to_detector(sci, fast, slow), dms_to_detector(pixeldq, fast, slow)
            column_origin = self._detector_column_origin(ramp, fast, slow)
            n_det_columns = det_sci.shape[-1]
            (column_offsets,) = delayed_arrays(
                _single_output_or_zero, [((nints, ngroups, n_det_columns), np.float32)], det_sci, det_dq,
                has_reference, column_origin=column_origin, odd_even_columns=p.odd_even_columns, siglimit=p.siglimit,
            )
            column_offsets = detector_column_vector_to_dms(column_offsets, fast, slow)
            row_offsets = None
        return with_correction(ramp, _offsets_stage(sci, column_offsets, row_offsets, columns_along_x))

    @staticmethod
    def _may_hold_reference_pixels(ramp: xr.Dataset) -> bool:
        """False for a near-IR subarray at least 4 pixels from every detector edge (the reference pixels are
        the outer 4 rows and columns); NIRSpec is always True (jwst flags the outer columns of some of its
        subarrays as reference pixels)."""
        if str(ramp.attrs.get("INSTRUME", "")).upper() == "NIRSPEC":
            return True
        ny, nx = ramp["SCI"].shape[-2:]
        x0, y0 = integer_keyword(ramp, "SUBSTRT1", 1) - 1, integer_keyword(ramp, "SUBSTRT2", 1) - 1
        inner = FULL_FRAME[0] - BORDER_PIXELS
        return x0 < BORDER_PIXELS or y0 < BORDER_PIXELS or x0 + nx > inner or y0 + ny > inner

    @staticmethod
    def _detector_column_origin(ramp: xr.Dataset, fast: int, slow: int) -> int:
        """Full-frame detector column of the subarray's first detector column (sets odd/even parity)."""
        ny, nx = ramp["SCI"].shape[-2:]
        x0, y0 = integer_keyword(ramp, "SUBSTRT1") - 1, integer_keyword(ramp, "SUBSTRT2") - 1
        start, size = (x0, nx) if not is_transposed(fast) else (y0, ny)
        return start if fast > 0 else FULL_FRAME[1] - (start + size)

    # -- MIRI -----------------------------------------------------------------------------------
    def _miri(self, ramp: xr.Dataset) -> xr.Dataset:
        sci, pixeldq = pixel_array(ramp, "SCI"), pixel_array(ramp, "PIXELDQ")
        nints, ngroups, ny, nx = sci.shape
        if (ny, nx) != MIRI_FULL_SHAPE:
            raise StepSkipped("MIRI subarrays have no side reference columns to use")
        (offsets,) = delayed_arrays(
            miri_reference_offsets, [((nints, ngroups, 4, 2), np.float32)],
            sci[..., :4], sci[..., -4:], pixeldq[:, :4], pixeldq[:, -4:],
            odd_even_rows=self.parameters.odd_even_rows, siglimit=self.parameters.siglimit,
        )
        offsets = da.broadcast_to(offsets[..., None, None], offsets.shape + (ny, nx),
                                  chunks=tuple((n,) for n in offsets.shape) + sci.chunks[-2:])

        def apply_block(data, offsets_block, origin):
            return subtract_miri_offsets(data, np.ascontiguousarray(offsets_block[..., 0, 0]), *origin)

        (corrected,) = map_pixel_blocks(
            apply_block, [sci, offsets], [OutputSpec(np.float32, sci.shape[:2])], pass_origin=True, name="refpix_miri"
        )
        return with_arrays(ramp, SCI=corrected)


def _single_output_or_zero(det_sci, det_dq, has_reference, column_origin, odd_even_columns, siglimit):
    """One-output subarray offsets, or zeros when the subarray holds no reference pixel."""
    if not has_reference:
        return (np.zeros(det_sci.shape[:2] + det_sci.shape[-1:], np.float32),)
    return (single_output_offsets(det_sci, det_dq, column_origin, odd_even_columns=odd_even_columns, siglimit=siglimit),)


def _sirs_offsets(bottom, top, left, right, bottom_dq, top_dq, left_dq, right_dq, kernels_left, kernels_right,
                  odd_even_columns, siglimit, sigreject):  # fmt: skip
    """Reduction for SIRS: the top/bottom column offsets, then the side signal per channel and detector row."""
    columns, _ = full_frame_offsets(bottom, top, left, right, bottom_dq, top_dq, left_dq, right_dq,
                                    odd_even_columns=odd_even_columns, use_side_ref_pixels=False, siglimit=siglimit)
    return columns, sirs_row_offsets(left, right, columns, kernels_left, kernels_right, sigreject=sigreject)


def _offsets_stage(sci: da.Array, column_offsets: da.Array, row_offsets: da.Array | None, columns_along_x: bool,
                   amplifiers: da.Array | None = None):  # fmt: skip
    """The fused-pass stage subtracting per-column (and per-row) offset vectors from every block of ``sci``;
    with ``amplifiers`` (the output channel of each position along the column axis, (1, 1, n)), ``row_offsets``
    is (nints, ngroups, nchan, m): one row vector per channel (SIRS)."""
    inputs = [_broadcast_vector(column_offsets, columns_along_x, sci)]
    if amplifiers is not None:
        inputs.append(_broadcast_vector(amplifiers, columns_along_x, sci))
        inputs.extend(_broadcast_vector(row_offsets[:, :, c], not columns_along_x, sci) for c in range(row_offsets.shape[2]))
    elif row_offsets is not None:
        inputs.append(_broadcast_vector(row_offsets, not columns_along_x, sci))
    options = {"columns_along_x": columns_along_x, "by_amplifier": amplifiers is not None}
    return CorrectionStage("refpix", "offsets", _prepare_offsets, tuple(inputs), options)


def _prepare_offsets(corrections: Corrections, pixeldq, columns, *rows, columns_along_x: bool, by_amplifier: bool = False):
    """One block: the broadcast column (and row) offset blocks back to vectors; PIXELDQ is unchanged. With
    ``by_amplifier``, ``rows`` are the channel index block then one row-offset block per channel."""

    def along_columns(block):
        return block[:, :, 0, :] if columns_along_x else block[:, :, :, 0]

    def along_rows(block):
        return block[:, :, :, 0] if columns_along_x else block[:, :, 0, :]

    corrections.column_offsets = along_columns(columns)
    if by_amplifier:
        corrections.amplifiers = along_columns(rows[0])[0, 0]
        corrections.row_offsets = np.stack([along_rows(block) for block in rows[1:]], axis=-1)
    else:
        corrections.row_offsets = along_rows(rows[0]) if rows else None
    corrections.columns_along_x = columns_along_x
    return pixeldq


def _broadcast_vector(vector: da.Array, along_x: bool, like: da.Array) -> da.Array:
    """A (nints, ngroups, n) vector seen as a (nints, ngroups, ny, nx) array without copying it."""
    expanded = vector[..., None, :] if along_x else vector[..., :, None]
    # the vector split into ``like``'s pixel blocks along its own axis, then broadcast block by block
    vector_chunks = tuple(-1 for _ in expanded.shape[:-2]) + tuple(
        blocks if size > 1 else -1 for blocks, size in zip(like.chunks[-2:], expanded.shape[-2:])
    )
    chunks = tuple((n,) for n in like.shape[:-2]) + like.chunks[-2:]
    return da.broadcast_to(expanded.rechunk(vector_chunks, method="tasks"), like.shape, chunks=chunks)
