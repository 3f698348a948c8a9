"""dark_current: match the dark reference to the science readout, then subtract it group by group.

Matches ``stcal.dark_current.dark_sub`` (stcal 1.20) as called by jwst 3.0:

* Darks are taken with NFRAMES=1, GROUPGAP=0. If the science readout spans more frames than the dark, the dark
  is first extrapolated with the difference of its last two groups. If the dark's NFRAMES or GROUPGAP exceed
  the science ones the step is SKIPPED (``dark_matches_readout`` says so). NaN dark values become 0.
* If NFRAMES and GROUPGAP match, dark groups are used as they are; otherwise each science group is the mean of
  NFRAMES consecutive dark planes, then GROUPGAP planes are skipped.
* MIRI darks are 4-D (integration-dependent): science integration i uses dark integration i while
  i < dark nints and the exposure starts at integration 1 (INTSTART, segmented data), otherwise the last one.
* PIXELDQ |= dark DQ: a 2-D DQ as is; a MIRI 4-D DQ is the OR over integrations of its first group
  (``collapse_dark_dq``).

Per-pixel: no halo. ``integration_offset`` says which science integration a chunk starts at.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import PIXEL_DTYPE
from jwstlazy.kernels.corrections import Corrections, apply_corrections

__all__ = ["dark_matches_readout", "resample_dark", "collapse_dark_dq", "dark_integrations", "subtract_dark"]


def dark_matches_readout(sci_nframes: int, sci_groupgap: int, dark_nframes: int, dark_groupgap: int) -> bool:
    """False when the dark cannot be matched to the science readout (jwst then skips the step)."""
    return not (dark_nframes > sci_nframes or dark_groupgap > sci_groupgap)


@numba.njit(cache=True, nogil=True)
def _extrapolate(dark, n_extra):
    """dark (nints, ngroups, ny, nx) -> (nints, ngroups + n_extra, ny, nx) float64, linear from the last two."""
    nints, ngroups, ny, nx = dark.shape
    out = np.empty((nints, ngroups + n_extra, ny, nx), dtype=np.float64)
    for i in range(nints):
        for g in range(ngroups):
            out[i, g] = dark[i, g]
        for y in range(ny):
            for x in range(nx):
                last = np.float64(dark[i, ngroups - 1, y, x])
                step = last - np.float64(dark[i, ngroups - 2, y, x])
                for k in range(n_extra):
                    out[i, ngroups + k, y, x] = (k + 1) * step + last
    return out


@numba.njit(cache=True, nogil=True)
def _average_frames(dark, ngroups, nframes, groupgap, use_nints):
    """Mean of NFRAMES planes per group, skipping GROUPGAP planes; NaN -> 0 first. Float32 result.

    Row by row: each plane's row is added to a float64 row of sums (NaN skipped) in a loop over x that the
    compiler vectorises; per pixel the same additions in the same order as the pixel-by-pixel loop it replaced
    (which read the planes across a pixel's frames, several times slower; commit 0c42be2)."""
    nints, nplanes, ny, nx = dark.shape
    out = np.zeros((nints, ngroups, ny, nx), dtype=np.float32)
    total = np.empty(nx, dtype=np.float64)
    for i in range(use_nints):
        for y in range(ny):
            start = 0
            for g in range(ngroups):
                first = dark[i, start, y]
                for x in range(nx):
                    value = first[x]
                    total[x] = 0.0 if np.isnan(value) else np.float64(value)
                for f in range(start + 1, start + nframes):
                    plane = dark[i, f, y]
                    for x in range(nx):
                        value = plane[x]
                        total[x] = total[x] if np.isnan(value) else total[x] + value
                row = out[i, g, y]
                for x in range(nx):
                    row[x] = total[x] / nframes
                start += nframes + groupgap
    return out


def resample_dark(
    dark: np.ndarray,
    sci_nints: int,
    sci_ngroups: int,
    sci_nframes: int,
    sci_groupgap: int,
    dark_nframes: int = 1,
    dark_groupgap: int = 0,
    nan_as_zero: bool = True,
) -> np.ndarray:
    """Dark planes matching the science groups, for one chunk.

    Parameters
    ----------
    dark : (dark_ngroups, ny, nx) or MIRI (dark_nints, dark_ngroups, ny, nx) float32 DN, DARK ``SCI``.
    sci_nints, sci_ngroups, sci_nframes, sci_groupgap : the science readout (NINTS, NGROUPS, NFRAMES, GROUPGAP).
    dark_nframes, dark_groupgap : the dark's readout (1 and 0 for all CRDS darks).
    nan_as_zero : False leaves NaN in a dark already in the science readout, which is then returned as read
        (a view, no copy): for :func:`jwstlazy.kernels.corrections.apply_corrections`, which counts NaN as 0.

    Returns
    -------
    (dark_nints, sci_ngroups, ny, nx) float32 DN with NaN replaced by 0 (dark_nints = 1 for 3-D darks).
    Raises ValueError when ``dark_matches_readout`` is False.
    """
    if not dark_matches_readout(sci_nframes, sci_groupgap, dark_nframes, dark_groupgap):
        raise ValueError("dark NFRAMES/GROUPGAP exceed the science readout; the dark step must be skipped")
    planes = np.asarray(dark)
    if planes.ndim == 3:
        planes = planes[None]
    planes = np.ascontiguousarray(planes)
    dark_ngroups = planes.shape[1]
    sci_frames = sci_ngroups * sci_nframes + (sci_ngroups - 1) * sci_groupgap
    dark_frames = dark_ngroups * dark_nframes + (dark_ngroups - 1) * dark_groupgap
    if sci_frames > dark_frames:
        n_extra = math.ceil((sci_frames - dark_frames + dark_groupgap) / (dark_nframes + dark_groupgap))
        planes = _extrapolate(planes, int(n_extra))
    if sci_nframes == dark_nframes and sci_groupgap == dark_groupgap:
        if not nan_as_zero:
            return planes[:, :sci_ngroups].astype(np.float32, copy=False)
        matched = np.array(planes[:, :sci_ngroups], dtype=np.float32)  # one copy (the input is left as it is)
        matched[np.isnan(matched)] = 0
        return matched
    use_nints = min(planes.shape[0], sci_nints)
    return _average_frames(planes, sci_ngroups, sci_nframes, sci_groupgap, use_nints)


def collapse_dark_dq(dark_dq: np.ndarray) -> np.ndarray:
    """Dark DQ as a 2-D (ny, nx) uint32: as is, or for a MIRI 4-D DQ the OR over integrations of group 0."""
    dq = np.asarray(dark_dq)
    if dq.ndim == 4:
        return np.bitwise_or.reduce(dq[:, 0], axis=0).astype(PIXEL_DTYPE)
    return dq.astype(PIXEL_DTYPE)


def dark_integrations(nints: int, dark_nints: int, integration_offset: int = 0,
                      integration_start: int | None = 1) -> np.ndarray:
    """(nints,) int64: the dark integration each science integration of a chunk uses (MIRI 4-D darks).

    ``integration_offset`` is the index in the exposure of the chunk's first integration; an INTSTART
    (``integration_start``) other than 1 (a segment) makes every integration use the last dark integration.
    """
    science = np.arange(nints, dtype=np.int64) + int(integration_offset)
    use_last_only = integration_start is not None and int(integration_start) != 1
    return np.where(use_last_only | (science >= dark_nints), dark_nints - 1, science)


def subtract_dark(
    data: np.ndarray,
    pixeldq: np.ndarray,
    dark: np.ndarray,
    dark_dq: np.ndarray,
    integration_offset: int = 0,
    integration_start: int | None = 1,
) -> tuple[np.ndarray, np.ndarray]:
    """Subtract a resampled dark from one chunk.

    Parameters
    ----------
    data : (nints, ngroups, ny, nx) float32 DN.
    pixeldq : (ny, nx) uint32.
    dark : (dark_nints, ngroups, ny, nx) float32 from ``resample_dark``.
    dark_dq : (ny, nx) uint32 from ``collapse_dark_dq``.
    integration_offset : index in the exposure of the chunk's first integration.
    integration_start : INTSTART of the exposure (segments); anything but 1 makes every integration use the
        last dark integration (upstream behaviour). None counts as 1.

    Returns
    -------
    data : (nints, ngroups, ny, nx) float32, new array; pixeldq : (ny, nx) uint32, new array.
    """
    chosen = dark_integrations(np.shape(data)[0], np.shape(dark)[0], integration_offset, integration_start)
    out = apply_corrections(data, None, Corrections(dark=dark, dark_integrations=chosen))
    return out, np.bitwise_or(pixeldq, dark_dq).astype(PIXEL_DTYPE)
