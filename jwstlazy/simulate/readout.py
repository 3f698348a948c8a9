"""Subarrays, readout patterns and exposure timing.

Frame ``k`` (0-based, counted from the reset, dropped frames included) is read at ``(k + 1) * tframe``
seconds after the reset. Group ``g`` averages frames ``g*(nframes+groupgap) ... + nframes - 1``; the
``groupgap`` frames after it are read but dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.simulate.detectors import Detector
from jwstlazy.simulate.siaf import get_aperture, has_aperture

#: READPATT -> (nframes, groupgap).
READOUT_PATTERNS: dict[str, tuple[int, int]] = {
    "RAPID": (1, 0), "BRIGHT1": (1, 1), "BRIGHT2": (2, 0), "SHALLOW2": (2, 3), "SHALLOW4": (4, 1),
    "MEDIUM2": (2, 8), "MEDIUM8": (8, 2), "DEEP2": (2, 18), "DEEP8": (8, 12),
    "NISRAPID": (1, 0), "NIS": (4, 0), "NRSRAPID": (1, 0), "NRS": (4, 0),
    "FAST": (1, 0), "FASTR1": (1, 0), "SLOW": (1, 0), "SLOWR1": (1, 0),
}

#: MIRI FAST frame times (s) per subarray (the MIRI readout is not a simple function of size).
MIRI_FAST_FRAME_TIMES = {
    "FULL": 2.77504, "BRIGHTSKY": 0.86528, "SUB256": 0.29952, "SUB128": 0.11904, "SUB64": 0.08544,
}
MIRI_SLOW_OVER_FAST = 23.88992 / 2.77504

_PIXEL_CLOCK = 10e-6  # s per pixel for the near-IR SIDECAR readout
_ROW_OVERHEAD = 12  # pixel times per row
_FRAME_OVERHEAD_ROWS = 1


@dataclass(frozen=True)
class Subarray:
    """Where an exposure sits on the full frame (SUBSTRT are 1-based, as in the keywords)."""

    name: str
    substrt1: int  #: first column (x), 1-based
    substrt2: int  #: first row (y), 1-based
    subsize1: int  #: number of columns (x)
    subsize2: int  #: number of rows (y)
    noutputs: int
    apername: str

    @property
    def shape(self) -> tuple[int, int]:
        return (self.subsize2, self.subsize1)

    @property
    def slices(self) -> tuple[slice, slice]:
        """numpy (y, x) slices of this subarray in a full-frame array."""
        y0, x0 = self.substrt2 - 1, self.substrt1 - 1
        return (slice(y0, y0 + self.subsize2), slice(x0, x0 + self.subsize1))


def _science_corner(detector: Detector, aperture) -> tuple[int, int]:
    """1-based DMS (science-frame) corner of a SIAF subarray on its detector's full frame.

    (``Aperture.dms_corner`` gives the OSS/detector-frame corner, which differs where the detector's
    readout axes are flipped.)
    """
    full = get_aperture(detector.siaf_instrument, detector.full_aperture)
    x_ref, y_ref = full.tel_to_sci(aperture.V2Ref, aperture.V3Ref)
    return (int(round(float(x_ref) - (aperture.XSciRef - 1))), int(round(float(y_ref) - (aperture.YSciRef - 1))))


def resolve_subarray(detector: Detector, name: str | int = "FULL") -> Subarray:
    """Subarray by name ("FULL", "SUB160", "SUB64P", ...) or square size (``256`` or "256").

    Positions come from the SIAF aperture ``<prefix>_<name>`` when it exists; other names of the
    form ``SUB<N>[P]`` (or a bare size) give an ``N x N`` subarray centred on the detector.
    """
    ny_full, nx_full = detector.shape
    label = str(name).upper()
    if label.isdigit():
        label = f"SUB{label}"
    if label in ("FULL", f"SUB{nx_full}"):
        return Subarray("FULL", 1, 1, nx_full, ny_full, 4, detector.full_aperture)
    apername = f"{detector.siaf_prefix}_{label}"
    if has_aperture(detector.siaf_instrument, apername):
        aperture = get_aperture(detector.siaf_instrument, apername)
        x1, y1 = _science_corner(detector, aperture)
        nx, ny = int(aperture.XSciSize), int(aperture.YSciSize)
        x1, y1 = max(x1, 1), max(y1, 1)
        nx, ny = min(nx, nx_full - x1 + 1), min(ny, ny_full - y1 + 1)
    else:
        match = re.fullmatch(r"SUB(\d+)P?", label)
        if not match or not 0 < int(match.group(1)) <= min(nx_full, ny_full):
            raise JwstLazyInputError(
                f"unknown subarray {name!r} for {detector.name}", where="SUBARRAY",
                expected="FULL, a SIAF subarray name, or SUB<N> with N up to the detector size",
            )
        nx = ny = int(match.group(1))
        x1, y1 = (nx_full - nx) // 2 + 1, (ny_full - ny) // 2 + 1
        apername = detector.full_aperture
    noutputs = 4 if (detector.is_miri or nx == nx_full) else 1
    return Subarray(label, x1, y1, nx, ny, noutputs, apername)


def frame_time(detector: Detector, subarray: Subarray, readpatt: str) -> float:
    """TFRAME in seconds.

    Near-IR: ``(n_fast / noutputs + 12) * (n_slow + 1) * 10 us`` with the sizes along the detector's
    fast and slow read directions (10.737 s for a full frame). MIRI: tabulated FAST times (SLOW is
    8.6 times longer); unlisted MIRI subarrays scale with their pixel count.
    """
    if detector.is_miri:
        base = MIRI_FAST_FRAME_TIMES.get(subarray.name)
        if base is None:
            npix = subarray.subsize1 * subarray.subsize2
            base = MIRI_FAST_FRAME_TIMES["FULL"] * npix / (1032 * 1024)
        return base * (MIRI_SLOW_OVER_FAST if readpatt.startswith("SLOW") else 1.0)
    if abs(detector.fastaxis) == 1:
        n_fast, n_slow = subarray.subsize1, subarray.subsize2
    else:
        n_fast, n_slow = subarray.subsize2, subarray.subsize1
    pixels = (n_fast // subarray.noutputs + _ROW_OVERHEAD) * (n_slow + _FRAME_OVERHEAD_ROWS)
    return pixels * _PIXEL_CLOCK


@dataclass(frozen=True)
class Readout:
    """Readout of one exposure: pattern, group/integration counts and frame time (s)."""

    readpatt: str
    ngroups: int
    nints: int
    nframes: int
    groupgap: int
    tframe: float
    nresets: int = 1

    @property
    def tgroup(self) -> float:
        return (self.nframes + self.groupgap) * self.tframe

    @property
    def frames_per_integration(self) -> int:
        """Frames read from reset to the last read of the integration (dropped ones included)."""
        return self.ngroups * (self.nframes + self.groupgap) - self.groupgap

    @property
    def effinttm(self) -> float:
        """EFFINTTM (s): time from the reset to the last read of an integration."""
        return self.frames_per_integration * self.tframe

    @property
    def integration_cadence(self) -> float:
        """Seconds from one integration's start to the next (readout plus resets)."""
        return self.effinttm + self.nresets * self.tframe

    def frame_groups(self) -> np.ndarray:
        """Group index of every frame of an integration, -1 for dropped frames; int32 (nframes_int,)."""
        period = self.nframes + self.groupgap
        k = np.arange(self.frames_per_integration)
        group = k // period
        return np.where(k % period < self.nframes, group, -1).astype(np.int32)

    def first_group_seeing_frame(self, frame: np.ndarray) -> np.ndarray:
        """Index of the first group whose average contains read ``frame`` or a later one."""
        period = self.nframes + self.groupgap
        frame = np.asarray(frame)
        return np.maximum(0, -((-(frame - (self.nframes - 1))) // period)).astype(np.int32)

    def group_times(self) -> np.ndarray:
        """Mean read time (s after reset) of each group; float64 (ngroups,)."""
        start = np.arange(self.ngroups) * (self.nframes + self.groupgap)
        return (start + (self.nframes - 1) / 2.0 + 1.0) * self.tframe


def resolve_readout(
    detector: Detector,
    subarray: Subarray,
    readpatt: str,
    ngroups: int,
    nints: int = 1,
    nframes: int | None = None,
    groupgap: int | None = None,
) -> Readout:
    """Readout from a READPATT name; ``nframes``/``groupgap`` override the pattern's values."""
    pattern = str(readpatt).upper()
    if pattern not in READOUT_PATTERNS and (nframes is None or groupgap is None):
        raise JwstLazyInputError(
            f"unknown readout pattern {readpatt!r}", where="READPATT",
            expected=f"one of {sorted(READOUT_PATTERNS)} or explicit nframes and groupgap",
        )
    default_frames, default_gap = READOUT_PATTERNS.get(pattern, (1, 0))
    nframes = default_frames if nframes is None else int(nframes)
    groupgap = default_gap if groupgap is None else int(groupgap)
    for keyword, value, low in (("NGROUPS", ngroups, 1), ("NINTS", nints, 1), ("NFRAMES", nframes, 1),
                                ("GROUPGAP", groupgap, 0)):
        if int(value) < low:
            raise JwstLazyInputError(f"{keyword}={value}", where=keyword, expected=f"an integer >= {low}")
    return Readout(pattern, int(ngroups), int(nints), nframes, groupgap,
                   frame_time(detector, subarray, pattern))
