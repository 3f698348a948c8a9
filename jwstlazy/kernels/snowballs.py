"""Snowball flagging: large cosmic-ray events with saturated cores (stcal 1.20 ``flag_large_events``).

Near-infrared detectors show "snowballs": a saturated core surrounded by a halo of charge that the
two-point detection flags only partly. After jump detection, for each integration and each group
g >= 1 (in order, since earlier groups' flags feed later ones):

1. Regions (8-connected, area with holes filled >= ``min_sat_area``) of groups newly SATURATED in
   g (and in g + 1) and regions of JUMP_DET pixels (area >= ``min_jump_area``) are described by
   their centroid, axis lengths minus one, and orientation (scikit-image's region properties).
2. A jump region is a snowball when its centroid is within ``edge_size`` of the detector edge, or a
   new saturated region's centroid (this group or the next) lies inside its ellipse.
3. New saturated regions with a minor axis above ``min_sat_radius_extend`` are grown by
   ``2 * sat_expand`` pixels: the ellipse is set to SATURATED (replacing the flags) in this and all
   later groups, and remembered for the next integration.
4. Each snowball's ellipse, enlarged ``expand_factor`` times along the minor axis (the major axis
   grows by the same number of pixels), gets JUMP_DET in group g except where SATURATED.
5. With ``mask_snowball_core_next_int``, the remembered cores get JUMP_DET in groups
   1 .. ``snowball_time_masked_next_int // group_time - 1`` of the next integration.

This is whole-image work (numpy and scipy.ndimage, not numba). On a chunk, pass ``origin`` and
``detector_shape`` so the edge test uses detector coordinates, and give the chunk a halo larger
than the largest event (its region plus expansion, at most ``2 * max_extended_radius`` wide):
the interior is then exact. See ``docs/steps/jump.md``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import ndimage

from jwstlazy.datamodels.dqflags import JUMP_DET, SATURATED

__all__ = ["Ellipse", "flag_snowballs", "region_ellipses"]

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


class Ellipse(NamedTuple):
    """A region as stcal describes it (pixels; angle in degrees, scikit-image orientation)."""

    x: float  #: centroid column
    y: float  #: centroid row
    minor: float  #: minor axis length - 1 (full length)
    major: float  #: major axis length - 1 (full length)
    angle: float  #: degrees between the row axis and the major axis


class SnowballResult(NamedTuple):
    groupdq: np.ndarray  #: (nints, ngroups, ny, nx) uint8
    n_snowballs: int  #: snowballs found (events whose centroid is in a halo are counted too)


def flag_snowballs(
    groupdq: np.ndarray,
    *,
    group_time: float,
    min_jump_area: float = 5.0,
    min_sat_area: float = 1.0,
    expand_factor: float = 2.0,
    sat_required_snowball: bool = True,
    min_sat_radius_extend: float = 2.5,
    sat_expand: int = 2,
    edge_size: int = 25,
    max_extended_radius: int = 200,
    mask_snowball_core_next_int: bool = True,
    snowball_time_masked_next_int: float = 4000.0,
    origin: tuple[int, int] = (0, 0),
    detector_shape: tuple[int, int] | None = None,
) -> SnowballResult:
    """Flag snowballs in a group DQ cube after jump detection, as stcal 1.20 (jwst 3.0 defaults).

    Parameters
    ----------
    groupdq : (nints, ngroups, ny, nx) uint8 group DQ flags (after :func:`detect_jumps`)
    group_time : seconds per group (TGROUP), converts ``snowball_time_masked_next_int``
    min_jump_area, min_sat_area, expand_factor, sat_required_snowball, min_sat_radius_extend,
    sat_expand, edge_size, max_extended_radius, mask_snowball_core_next_int,
    snowball_time_masked_next_int : the jwst ``jump`` step parameters of the same names
    origin : (row, column) of ``groupdq[..., 0, 0]`` on the detector
    detector_shape : (rows, columns) of the whole exposure; default the chunk's own shape

    Returns
    -------
    SnowballResult with a new group DQ array (the input is not modified).
    """
    gdq = np.array(groupdq, dtype=np.uint8, copy=True)
    nints, ngroups, ny, nx = gdq.shape
    detector_rows = (detector_shape or (ny, nx))[0]
    max_width = 2 * max_extended_radius
    cores = np.zeros((nints, ny, nx), dtype=bool)
    n_snowballs = 0
    for i in range(nints):
        for g in range(1, ngroups):
            saturated = gdq[i, g] & SATURATED != 0
            new_saturation = _Regions(saturated & (gdq[i, g - 1] & SATURATED == 0), min_sat_area).ellipses()
            next_new_saturation = []
            if g < ngroups - 1:
                next_saturated = gdq[i, g + 1] & SATURATED != 0
                next_new_saturation = _Regions(next_saturated & ~saturated, min_sat_area).ellipses()
            jumps = _Regions(gdq[i, g] & JUMP_DET != 0, min_jump_area)
            if sat_required_snowball:
                snowballs = _snowballs(
                    jumps, new_saturation + next_new_saturation, origin, edge_size, detector_rows
                )
                _grow_saturated_cores(
                    gdq[i], g, new_saturation, cores[i], min_sat_radius_extend, 2 * sat_expand, max_width
                )
            else:
                snowballs = jumps.ellipses()
            n_snowballs += len(snowballs)
            for snowball in snowballs:
                _flag_expanded_snowball(gdq[i, g], snowball, expand_factor, max_width)

    n_masked = int(snowball_time_masked_next_int // group_time)
    if mask_snowball_core_next_int and n_masked >= 1:
        last = min(n_masked, ngroups)
        for i in range(1, nints):
            gdq[i, 1:last][:, cores[i - 1]] |= JUMP_DET
    return SnowballResult(gdq, n_snowballs)


def region_ellipses(mask: np.ndarray, min_area: float) -> list[Ellipse]:
    """Regions of ``mask`` (8-connected) with hole-filled area >= ``min_area``, as ellipses.

    Centroid, axis lengths (4 sqrt of the inertia-tensor eigenvalues, minus one) and orientation
    follow ``skimage.measure.regionprops``.
    """
    return _Regions(mask, min_area).ellipses()


class _Regions:
    """The regions of a mask that pass the area test, with centroids; ellipses on demand.

    Most jump regions are single cosmic rays that can never be snowballs, so their moments are
    only computed when a test needs them; labels, areas, centroids and a bound on each ellipse's
    extent come from a few array operations for all regions at once.
    """

    def __init__(self, mask: np.ndarray, min_area: float):
        self.indices = np.zeros(0, dtype=np.int64)
        self.x = self.y = self.reach = np.zeros(0)
        self._ellipses: dict[int, Ellipse] = {}
        if not mask.any():
            return
        labels, n = ndimage.label(mask, structure=_EIGHT_CONNECTED)
        flat = np.flatnonzero(mask)
        rows, cols = np.divmod(flat, mask.shape[1])
        pixel_labels = labels.ravel()[flat]
        counts = np.bincount(pixel_labels, minlength=n + 1).astype(np.float64)
        # Integer coordinates: these sums are exact, so the centroids are scikit-image's bit for bit.
        row_sums = np.bincount(pixel_labels, weights=rows, minlength=n + 1)
        col_sums = np.bincount(pixel_labels, weights=cols, minlength=n + 1)
        spread = np.bincount(pixel_labels, weights=rows.astype(float) ** 2 + cols.astype(float) ** 2, minlength=n + 1)
        order = np.argsort(pixel_labels, kind="stable")
        self._rows, self._cols = rows[order], cols[order]
        self._ends = np.cumsum(counts.astype(np.int64))
        candidates = np.arange(1, n + 1)
        # Filling holes only adds area, and an 8-connected hole needs >= 8 surrounding pixels.
        small = counts[candidates] < min_area
        fillable = small & (counts[candidates] >= 8)
        keep = ~small
        keep[fillable] = [self._filled_area(index) >= min_area for index in candidates[fillable]]
        self.indices = candidates[keep]
        count = counts[self.indices]
        self.x = col_sums[self.indices] / count
        self.y = row_sums[self.indices] / count
        variance = np.maximum(spread[self.indices] / count - self.x**2 - self.y**2, 0.0)
        # Any point of the ellipse is within sqrt(2) * max semi-axis <= sqrt(2) (2 sqrt(var) + 0.5).
        self.reach = 1.5 * (2.0 * np.sqrt(variance) + 1.0)

    def __len__(self) -> int:
        return len(self.indices)

    def _image(self, index: int) -> tuple[np.ndarray, int, int]:
        """The region's pixels in its bounding box, and the box's first row and column."""
        start = self._ends[index - 1]
        rows, cols = self._rows[start : self._ends[index]], self._cols[start : self._ends[index]]
        row0, col0 = rows.min(), cols.min()
        image = np.zeros((rows.max() - row0 + 1, cols.max() - col0 + 1), dtype=bool)
        image[rows - row0, cols - col0] = True
        return image, row0, col0

    def _filled_area(self, index: int) -> int:
        return int(np.count_nonzero(ndimage.binary_fill_holes(self._image(index)[0], _EIGHT_CONNECTED)))

    def may_contain(self, k: int, x: float, y: float) -> bool:
        """False when (x, y) is certainly outside the k-th region's ellipse."""
        return (x - self.x[k]) ** 2 + (y - self.y[k]) ** 2 <= self.reach[k] ** 2

    def ellipse(self, k: int) -> Ellipse:
        """The k-th region as an ellipse (scikit-image region properties)."""
        if k not in self._ellipses:
            tensor = _inertia_tensor(self._image(self.indices[k])[0])
            eigenvalues = sorted(np.clip(np.linalg.eigvalsh(tensor), 0, None), reverse=True)
            major = 4 * math.sqrt(eigenvalues[0])
            minor = 4 * math.sqrt(eigenvalues[-1])
            a, b, _, c = tensor.flat
            if a - c == 0:
                orientation = math.pi / 4 if b < 0 else -math.pi / 4
            else:
                orientation = 0.5 * math.atan2(-2 * b, c - a)
            angle = math.degrees(orientation)
            self._ellipses[k] = Ellipse(float(self.x[k]), float(self.y[k]), minor - 1, major - 1, angle)
        return self._ellipses[k]

    def ellipses(self) -> list[Ellipse]:
        return [self.ellipse(k) for k in range(len(self))]


def _inertia_tensor(image: np.ndarray) -> np.ndarray:
    """2x2 inertia tensor of a region image, computed exactly as scikit-image does.

    The same operations in the same order matter: drawn ellipses test ``distance < 1`` on
    integer grids, where the last bit of the orientation decides boundary pixels.
    """
    raw = _moments(image, (0.0, 0.0))
    centroid = (raw[1, 0] / raw[0, 0], raw[0, 1] / raw[0, 0])
    mu = _moments(image, centroid)
    diagonal = mu[[2, 0], [0, 2]]
    tensor = np.zeros((2, 2))
    tensor[[0, 1], [0, 1]] = (np.sum(diagonal) - diagonal) / mu[0, 0]
    tensor[0, 1] = tensor[1, 0] = -mu[1, 1] / mu[0, 0]
    return tensor


def _moments(image: np.ndarray, center: tuple[float, float]) -> np.ndarray:
    """Central moments up to order 3 about ``center`` (scikit-image's einsum formulation)."""
    calc = image.astype(np.float64)
    orders = np.arange(4, dtype=np.float64)
    for dim, length in enumerate(image.shape):
        powers = (np.arange(length, dtype=np.float64) - center[dim])[:, np.newaxis] ** orders
        labels = [0, 1]
        labels[dim] = 2
        output = [0, 1]
        output[dim] = 3
        calc = np.einsum(calc, labels, powers, [2, 3], output, optimize="greedy")
    return calc


def _snowballs(jumps: _Regions, cores: list[Ellipse], origin, edge_size, detector_rows) -> list[Ellipse]:
    """Jump regions near the detector edge or with a new saturated core's centroid inside."""
    high = max(0, detector_rows - edge_size)  # stcal uses the row count for both axes
    snowballs = []
    for k in range(len(jumps)):
        x, y = jumps.x[k] + origin[1], jumps.y[k] + origin[0]
        near_edge = x < edge_size or y < edge_size or x > high or y > high
        if near_edge or any(
            jumps.may_contain(k, core.x, core.y) and _inside(core, jumps.ellipse(k)) for core in cores
        ):
            snowballs.append(jumps.ellipse(k))
    return snowballs


def _inside(point: Ellipse, ellipse: Ellipse) -> bool:
    """Whether ``point``'s centroid lies inside ``ellipse`` (stcal's ``point_inside_ellipse``)."""
    angle = np.radians(180.0 - ellipse.angle)
    dx, dy = np.float64(point.x - ellipse.x), np.float64(point.y - ellipse.y)
    along = dx * np.cos(angle) - dy * np.sin(angle)
    across = dx * np.sin(angle) + dy * np.cos(angle)
    semi_major = np.float64(max(ellipse.minor, ellipse.major) * 0.5)
    semi_minor = np.float64(min(ellipse.minor, ellipse.major) * 0.5)
    with np.errstate(divide="ignore", invalid="ignore"):
        return bool(along**2 / semi_major**2 + across**2 / semi_minor**2 <= 1)


def _grow_saturated_cores(cube, group, new_saturation, cores, min_radius, expand, max_width) -> None:
    """Set grown saturated cores SATURATED in ``group`` and later groups of ``cube``; mark the
    (ungrown) cores in ``cores`` for the next integration."""
    for core in new_saturation:
        if min(core.minor, core.major) <= min_radius:
            continue
        axis_minor = min(core.minor + expand, max_width)
        axis_major = min(core.major + expand, max_width)
        box, grown = _ellipse_in_box(core, axis_minor, axis_major, cube.shape[1:])
        for plane in cube[group:]:
            plane[box][grown] = SATURATED
        box, footprint = _ellipse_in_box(core, core.minor, core.major, cube.shape[1:])
        cores[box] |= footprint


def _flag_expanded_snowball(plane, snowball, expand_factor, max_width) -> None:
    """JUMP_DET on the snowball's enlarged ellipse in one group plane, except SATURATED pixels."""
    if snowball.major < snowball.minor:  # never for regionprops ellipses; kept for symmetry with stcal
        axis_minor = snowball.minor + (expand_factor - 1.0) * snowball.major
        axis_major = snowball.major * expand_factor
    else:
        axis_minor = snowball.minor * expand_factor
        axis_major = snowball.major + (expand_factor - 1.0) * snowball.minor
    axis_minor = 2 * round(min(axis_minor, max_width) / 2)
    axis_major = 2 * round(min(axis_major, max_width) / 2)
    box, inside = _ellipse_in_box(snowball, axis_minor, axis_major, plane.shape)
    plane[box][inside & (plane[box] & SATURATED != SATURATED)] |= JUMP_DET


def _ellipse_in_box(
    ellipse: Ellipse, axis_minor: float, axis_major: float, shape: tuple[int, int]
) -> tuple[tuple[slice, slice], np.ndarray]:
    """A filled ellipse at the rounded centroid, in a box around it (stcal's ``ellipse_subim``).

    Returns the box (slices into ``shape``) and a boolean mask of the box. Semi-axes are
    ``round(axis / 2)``; the major one lies along rows before the rotation by ``ellipse.angle``.
    """
    row, col = round(ellipse.y), round(ellipse.x)
    half_minor, half_major = round(axis_minor / 2), round(axis_major / 2)
    half_box = max(half_minor, half_major) + 2
    r0, r1 = max(row - half_box, 0), min(row + half_box + 1, shape[0])
    c0, c1 = max(col - half_box, 0), min(col + half_box + 1, shape[1])
    inside = np.zeros((r1 - r0, c1 - c0), dtype=bool)
    if half_minor != 0 and half_major != 0:
        rotation = np.radians(ellipse.angle)
        rows, cols = _filled_ellipse(row - r0, col - c0, half_major, half_minor, inside.shape, rotation)
        inside[rows, cols] = True
    return (slice(r0, r1), slice(c0, c1)), inside


def _filled_ellipse(row, col, row_radius, col_radius, shape, rotation):
    """Pixels strictly inside an ellipse, as ``skimage.draw.ellipse`` computes them."""
    rotation %= np.pi
    sin, cos = np.sin(rotation), np.cos(rotation)
    center = np.array([row, col], dtype=float)
    extent = np.array([abs(row_radius * cos) + col_radius * sin, row_radius * sin + abs(col_radius * cos)])
    upper_left = np.maximum(np.ceil(center - extent).astype(int), 0)
    lower_right = np.minimum(np.floor(center + extent).astype(int), np.array(shape) - 1)
    box_rows = np.arange(0.0, float(lower_right[0] - upper_left[0] + 1))[:, None] - (center[0] - upper_left[0])
    box_cols = np.arange(0.0, float(lower_right[1] - upper_left[1] + 1))[None, :] - (center[1] - upper_left[1])
    along = (box_rows * cos + box_cols * sin) / row_radius
    across = (box_rows * sin - box_cols * cos) / col_radius
    distance = along**2 + across**2
    rows, cols = np.nonzero(distance < 1)
    return rows + upper_left[0], cols + upper_left[1]
