"""picture_frame: scale and subtract NIRSpec's thermal "picture frame" pattern (jwst 3.0, off by default).

Matches ``jwst.picture_frame.picture_frame.correct_picture_frame`` with ``mask_science_regions=False``:

A. A background mask (True = background) from a draft rate image, as clean_flicker_noise makes it
   (``kernels.clean_flicker_noise.flicker_scene_mask``).
B. :func:`region_masks`: the background pixels of the CENTRE square (rows and columns 76..1983) and of the
   EDGE band (rows or columns 4..74 and 1985..2042, not the 4 reference pixels nor the last 5 rows/columns).
C. :func:`reference_levels`: NaN-medians of the reference image (PICTUREFRAME SCI, a rate, float32) over the
   centre and the edge pixels, ``centre_ref`` and ``edge_ref``.
D. :func:`ramp_levels` (one integration's whole frames): for every group g >= 1 the NaN-medians of
   ``data[g] - data[0]`` over the centre and over the edge pixels (float32, as numpy's median computes it: the
   mean of the middle pair in float32). Rates: :func:`image_levels` on each image itself.
E. :func:`scales_and_offsets`: ``scale = (centre - edge) / (centre_ref - edge_ref)``, ``offset = edge``.
F. :func:`apply_to_ramp` (per pixel block): ``correction = scale * (ref - edge_ref) + offset`` and
   ``out[g] = (data[g] - data[0]) + (data[0] - correction)`` for g >= 1, group 0 as it is; rates:
   ``out = data - correction``. Everything in float32, in upstream's order, so results are bit-identical.

Group DQ is not consulted (upstream neither): saturated and jump groups enter the medians as they are.
The regions are fixed detector pixels of a 2048 x 2048 frame in the stored (DMS) orientation; a smaller frame
(tests) just has fewer of them.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "CENTER_REGION", "LOWER_EDGE_REGION", "UPPER_EDGE_REGION", "apply_to_image", "apply_to_ramp", "image_levels",
    "ramp_levels", "reference_levels", "region_masks", "scales_and_offsets",
]

#: Half-open [first, last) pixel ranges along both axes, as upstream.
LOWER_EDGE_REGION = (4, 75)
UPPER_EDGE_REGION = (1985, 2043)
CENTER_REGION = (76, 1984)


def region_masks(background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(centre, edge) background pixels: two (ny, nx) bool arrays from the (ny, nx) bool ``background``."""
    ny, nx = background.shape
    rows, cols = np.arange(ny)[:, None], np.arange(nx)[None, :]

    def within(index, bounds):
        return (index >= bounds[0]) & (index < bounds[1])

    centre = background & within(rows, CENTER_REGION) & within(cols, CENTER_REGION)
    inside = within(rows, (LOWER_EDGE_REGION[0], UPPER_EDGE_REGION[1])) & within(
        cols, (LOWER_EDGE_REGION[0], UPPER_EDGE_REGION[1]))
    band = (within(rows, LOWER_EDGE_REGION) | within(rows, UPPER_EDGE_REGION)
            | within(cols, LOWER_EDGE_REGION) | within(cols, UPPER_EDGE_REGION))
    return centre, background & band & inside


def _median(values: np.ndarray) -> np.float32:
    """numpy's median of float32 ``values`` without NaN (NaN when empty)."""
    if values.size == 0:
        return np.float32(np.nan)
    return np.float32(np.median(values))


def reference_levels(reference: np.ndarray, centre: np.ndarray, edge: np.ndarray) -> tuple[np.float32, np.float32]:
    """NaN-medians (float32) of the (ny, nx) reference image over the centre and the edge pixels."""
    reference = np.asarray(reference, dtype=np.float32)
    levels = []
    for region in (centre, edge):
        values = reference[region]
        levels.append(_median(values[~np.isnan(values)]))
    return levels[0], levels[1]


@numba.njit(cache=True, nogil=True)
def _gather_differences(frames, group, centre, edge, centre_out, edge_out):
    """Non-NaN ``frames[group] - frames[0]`` (float32; ``group`` 0: the frame itself) of the centre and edge
    pixels into the two buffers; returns how many of each."""
    ny, nx = frames.shape[1], frames.shape[2]
    n_centre = 0
    n_edge = 0
    for y in range(ny):
        for x in range(nx):
            if centre[y, x] or edge[y, x]:
                if group == 0:
                    v = frames[0, y, x]
                else:
                    v = frames[group, y, x] - frames[0, y, x]
                if np.isnan(v):
                    continue
                if centre[y, x]:
                    centre_out[n_centre] = v
                    n_centre += 1
                else:
                    edge_out[n_edge] = v
                    n_edge += 1
    return n_centre, n_edge


def _levels(frames: np.ndarray, groups: range, centre: np.ndarray, edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    frames = np.ascontiguousarray(frames, dtype=np.float32)
    centre_buffer = np.empty(int(centre.sum()), np.float32)
    edge_buffer = np.empty(int(edge.sum()), np.float32)
    centre_levels = np.empty(len(groups), np.float32)
    edge_levels = np.empty(len(groups), np.float32)
    for k, group in enumerate(groups):
        n_centre, n_edge = _gather_differences(frames, group, centre, edge, centre_buffer, edge_buffer)
        centre_levels[k] = _median(centre_buffer[:n_centre])
        edge_levels[k] = _median(edge_buffer[:n_edge])
    return centre_levels, edge_levels


def ramp_levels(frames: np.ndarray, centre: np.ndarray, edge: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre and edge NaN-medians of ``frames[g] - frames[0]`` for g = 1..ngroups-1.

    frames : (ngroups, ny, nx) float32 DN, one integration's whole frames. Returns two (ngroups - 1,) float32.
    """
    return _levels(frames, range(1, frames.shape[0]), centre, edge)


def image_levels(image: np.ndarray, centre: np.ndarray, edge: np.ndarray) -> tuple[np.float32, np.float32]:
    """Centre and edge NaN-medians (float32) of one (ny, nx) rate image."""
    centre_level, edge_level = _levels(np.asarray(image)[None], range(1), centre, edge)
    return centre_level[0], edge_level[0]


def scales_and_offsets(centre_levels: np.ndarray, edge_levels: np.ndarray, centre_ref: np.float32,
                       edge_ref: np.float32) -> tuple[np.ndarray, np.ndarray]:
    """(scale, offset) float32, same shape as the levels: how much of the reference pattern each image has."""
    centre_levels = np.asarray(centre_levels, dtype=np.float32)
    edge_levels = np.asarray(edge_levels, dtype=np.float32)
    scale = (centre_levels - edge_levels) / (np.float32(centre_ref) - np.float32(edge_ref))
    return scale.astype(np.float32), edge_levels.copy()


@numba.njit(cache=True, nogil=True)
def _apply_ramp(data, reference, scale, offset, edge_ref, out):
    nints, ngroups, ny, nx = data.shape
    for i in range(nints):
        for y in range(ny):
            for x in range(nx):
                difference = reference[y, x] - edge_ref
                zero = data[i, 0, y, x]
                out[i, 0, y, x] = zero
                for g in range(1, ngroups):
                    correction = scale[i, g - 1] * difference + offset[i, g - 1]
                    out[i, g, y, x] = (data[i, g, y, x] - zero) + (zero - correction)


def apply_to_ramp(data: np.ndarray, reference: np.ndarray, scale: np.ndarray, offset: np.ndarray,
                  edge_ref: np.float32) -> np.ndarray:
    """Corrected copy of a ramp block.

    data : (nints, ngroups, by, bx) float32 DN; reference : (by, bx) the PICTUREFRAME block; scale, offset :
    (nints, ngroups - 1) float32 from :func:`scales_and_offsets`. Returns (nints, ngroups, by, bx) float32.
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    out = np.empty_like(data)
    _apply_ramp(data, np.ascontiguousarray(reference, dtype=np.float32), np.ascontiguousarray(scale, np.float32),
                np.ascontiguousarray(offset, np.float32), np.float32(edge_ref), out)
    return out


def apply_to_image(data: np.ndarray, reference: np.ndarray, scale: np.ndarray, offset: np.ndarray,
                   edge_ref: np.float32) -> np.ndarray:
    """Corrected copy of a rate block: data (..., by, bx) float32, scale and offset of shape data.shape[:-2]."""
    data = np.asarray(data, dtype=np.float32)
    reference = np.asarray(reference, dtype=np.float32)
    scale = np.asarray(scale, np.float32)[..., None, None]
    offset = np.asarray(offset, np.float32)[..., None, None]
    correction = scale * (reference - np.float32(edge_ref)) + offset
    return data + (np.float32(0.0) - correction)
