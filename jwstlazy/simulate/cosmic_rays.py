"""Cosmic rays, near-IR snowballs and MIRI showers, as per-pixel charge deposits.

Event rates are per cm^2 of detector per second; arrival times are uniform over the integration. An
event arriving between reads ``k-1`` and ``k`` adds its charge to read ``k`` and all later reads.
- ordinary cosmic rays (all detectors, ``COSMIC_RAY_RATE``): log-normal charge (median 700 e-, 150 to
  30000 e-) in one pixel with 1-8 % shared into each of its 4 neighbours; 20 % are oblique tracks 2-6
  pixels long. With 18 um pixels this is about 1.6e-5 events and 1e-4 pixel hits per pixel per second.
- snowballs (near-IR, ``SNOWBALL_RATE``): a saturated core of radius 1.5-4 pixels (2 x full well) and a
  halo to 2.5 core radii falling from 1000-5000 e-.
- showers (MIRI, ``SHOWER_RATE``): a 1.5-pixel core of 5000-20000 e- and a faint halo of radius 15-40
  pixels starting at 50-200 e- per pixel.
Reference pixels are left untouched (so the reference-pixel signal is exactly bias + noise + drift).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from jwstlazy.simulate.readout import Readout

COSMIC_RAY_RATE = 5.0  # events / cm^2 / s
SNOWBALL_RATE = 1.0e-3
SHOWER_RATE = 2.0e-3
KIND_COSMIC_RAY, KIND_SNOWBALL, KIND_SHOWER = 0, 1, 2
_MIN_DEPOSIT = 5.0  # e-; smaller halo deposits are dropped


@dataclass
class CosmicRayHits:
    """One row per (event, pixel): 1-D arrays of equal length.

    integration, frame (first read that sees the charge), group (first group whose value holds it),
    y, x (subarray pixel), charge (e-), event (id within the exposure), kind (0 CR, 1 snowball, 2 shower).
    """

    integration: np.ndarray
    frame: np.ndarray
    group: np.ndarray
    y: np.ndarray
    x: np.ndarray
    charge: np.ndarray
    event: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.charge)

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def per_pixel(self, integration: int, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR form for one integration: ``(ptr (ny*nx+1,) int64, frame int32, charge float32)``."""
        ny, nx = shape
        sel = self.integration == integration
        pixel = self.y[sel].astype(np.int64) * nx + self.x[sel]
        frame = self.frame[sel]
        order = np.lexsort((frame, pixel))
        counts = np.bincount(pixel, minlength=ny * nx)
        ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return ptr, frame[order].astype(np.int32), self.charge[sel][order].astype(np.float32)


def _disk_stamp(radius: float, profile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    half = int(np.ceil(radius))
    dy, dx = np.mgrid[-half : half + 1, -half : half + 1]
    r = np.hypot(dy, dx)
    charge = np.where(r <= radius, profile(r), 0.0)
    keep = charge >= _MIN_DEPOSIT
    return dy[keep], dx[keep], charge[keep]


def _cosmic_ray_stamp(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    amplitude = float(np.clip(rng.lognormal(np.log(700.0), 0.8), 150.0, 3.0e4))
    if rng.random() < 0.2:  # oblique track: charge per pixel proportional to path length
        length = rng.uniform(2.0, 6.0)
        angle = rng.uniform(0.0, np.pi)
        t = np.linspace(0.0, length, int(length * 4) + 1)
        py = np.rint(t * np.sin(angle)).astype(int)
        px = np.rint(t * np.cos(angle)).astype(int)
        cells, counts = np.unique(np.stack([py, px]), axis=1, return_counts=True)
        return cells[0], cells[1], amplitude * counts / counts.max()
    share = rng.uniform(0.01, 0.08, 4)
    dy = np.array([0, -1, 1, 0, 0])
    dx = np.array([0, 0, 0, -1, 1])
    return dy, dx, amplitude * np.concatenate([[1.0], share])


def _snowball_stamp(rng: np.random.Generator, full_well: float):
    core = rng.uniform(1.5, 4.0)
    halo = rng.uniform(1000.0, 5000.0)
    return _disk_stamp(2.5 * core, lambda r: np.where(
        r <= core, 2.0 * full_well, halo * np.exp(-(r - core) / (0.5 * core))))


def _shower_stamp(rng: np.random.Generator):
    radius = rng.uniform(15.0, 40.0)
    core = rng.uniform(5000.0, 20000.0)
    halo = rng.uniform(50.0, 200.0)
    return _disk_stamp(radius, lambda r: np.where(r <= 1.5, core, halo * np.exp(-r / (0.5 * radius))))


def generate_cosmic_rays(
    shape: tuple[int, int],
    readout: Readout,
    pixel_area_cm2: float,
    full_well: float,
    is_miri: bool,
    sensitive: np.ndarray,
    rng: np.random.Generator,
    rate_scale: float = 1.0,
    large_event_rate: float | None = None,
) -> CosmicRayHits:
    """Draw every event of an exposure.

    ``sensitive`` is a bool (ny, nx) mask of pixels that may receive charge (False on reference
    pixels). ``rate_scale`` multiplies the ordinary rate; ``large_event_rate`` overrides the
    snowball/shower rate (events / cm^2 / s).
    """
    ny, nx = shape
    area = ny * nx * pixel_area_cm2
    large_rate = (SHOWER_RATE if is_miri else SNOWBALL_RATE) if large_event_rate is None else large_event_rate
    large_kind = KIND_SHOWER if is_miri else KIND_SNOWBALL
    rows: list[tuple] = []
    event_id = 0
    for integration in range(readout.nints):
        n_small = rng.poisson(COSMIC_RAY_RATE * rate_scale * area * readout.effinttm)
        n_large = rng.poisson(large_rate * area * readout.effinttm)
        kinds = np.concatenate([np.full(n_small, KIND_COSMIC_RAY), np.full(n_large, large_kind)])
        for kind in kinds:
            if kind == KIND_COSMIC_RAY:
                dy, dx, charge = _cosmic_ray_stamp(rng)
            elif kind == KIND_SNOWBALL:
                dy, dx, charge = _snowball_stamp(rng, full_well)
            else:
                dy, dx, charge = _shower_stamp(rng)
            y = rng.integers(0, ny) + dy
            x = rng.integers(0, nx) + dx
            frame = int(rng.uniform(0.0, readout.effinttm) // readout.tframe)
            inside = (y >= 0) & (y < ny) & (x >= 0) & (x < nx)
            y, x, charge = y[inside], x[inside], charge[inside]
            keep = sensitive[y, x]
            if keep.any():
                rows.append((integration, frame, y[keep], x[keep], charge[keep], event_id, kind))
                event_id += 1
    return _assemble(rows, readout)


def _assemble(rows: list[tuple], readout: Readout) -> CosmicRayHits:
    sizes = [len(r[2]) for r in rows]

    def repeat(index: int, dtype) -> np.ndarray:
        return np.repeat(np.array([r[index] for r in rows], dtype=dtype), sizes)

    def concat(index: int, dtype) -> np.ndarray:
        return np.concatenate([r[index] for r in rows]).astype(dtype) if rows else np.zeros(0, dtype)

    frame = repeat(1, np.int32)
    return CosmicRayHits(
        integration=repeat(0, np.int32), frame=frame, group=readout.first_group_seeing_frame(frame),
        y=concat(2, np.int32), x=concat(3, np.int32), charge=concat(4, np.float32),
        event=repeat(5, np.int32), kind=repeat(6, np.int8),
    )
