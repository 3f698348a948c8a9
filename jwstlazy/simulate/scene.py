"""Sky scenes (stars, galaxies, uniform sky) and their count-rate image on a detector.

Sources are placed with the pysiaf aperture (distortion included) under the exposure's attitude.
Stars: a pixel-integrated double Gaussian (85 % core with the filter's diffraction FWHM, 15 % wing
three times wider). Galaxies: elliptical Sersic profiles softened by the PSF core, sampled 3x3 per
pixel and normalised to their flux. Units: see :mod:`jwstlazy.simulate.filters`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.special import erf

from jwstlazy.simulate.filters import UJY_TO_MJY, Filter

STAR, GALAXY = "star", "galaxy"
_CORE_FRACTION, _WING_SCALE = 0.85, 3.0
_GALAXY_OVERSAMPLE = 3
_MAX_STAMP_HALF = 80


@dataclass(frozen=True)
class Source:
    """A star or a galaxy: position (deg), flux density (uJy), shape (galaxies only)."""

    ra: float
    dec: float
    flux_ujy: float
    kind: str = STAR
    r_eff_arcsec: float = 0.0
    axis_ratio: float = 1.0
    position_angle_deg: float = 0.0
    sersic_n: float = 1.0


@dataclass
class Scene:
    """Sources plus a uniform sky (MJy/sr; None: the filter's typical sky)."""

    sources: list[Source] = field(default_factory=list)
    sky_mjysr: float | None = None


def ab_mag_to_ujy(mag: np.ndarray | float) -> np.ndarray:
    return 3631e6 * 10.0 ** (-0.4 * np.asarray(mag, dtype=float))


def random_field(
    ra: float, dec: float, radius_arcsec: float, n_stars: int, n_galaxies: int,
    rng: np.random.Generator, brightest_mag: float = 16.0, sky_mjysr: float | None = None,
) -> Scene:
    """Stars (AB brightest_mag..26, more faint ones) and galaxies (AB 20..27) in a disk around (ra, dec)."""

    def positions(n: int) -> tuple[np.ndarray, np.ndarray]:
        r = radius_arcsec * np.sqrt(rng.random(n)) / 3600.0
        theta = rng.uniform(0, 2 * np.pi, n)
        return ra + r * np.sin(theta) / np.cos(np.radians(dec)), dec + r * np.cos(theta)

    sources = []
    star_ra, star_dec = positions(n_stars)
    star_mag = brightest_mag + (26.0 - brightest_mag) * rng.random(n_stars) ** 0.5
    for a, d, m in zip(star_ra, star_dec, star_mag):
        sources.append(Source(float(a), float(d), float(ab_mag_to_ujy(m))))
    gal_ra, gal_dec = positions(n_galaxies)
    gal_mag = rng.uniform(20.0, 27.0, n_galaxies)
    for a, d, m in zip(gal_ra, gal_dec, gal_mag):
        sources.append(Source(
            float(a), float(d), float(ab_mag_to_ujy(m)), GALAXY,
            r_eff_arcsec=float(rng.uniform(0.08, 0.6) * 10 ** (-0.1 * (m - 22.0))),
            axis_ratio=float(rng.uniform(0.3, 1.0)), position_angle_deg=float(rng.uniform(0, 180)),
            sersic_n=float(rng.choice([1.0, 1.0, 2.0, 4.0])),
        ))
    return Scene(sources, sky_mjysr)


def _integrated_gaussian(edges: np.ndarray, center: float, sigma: float) -> np.ndarray:
    cdf = 0.5 * (1.0 + erf((edges - center) / (np.sqrt(2.0) * sigma)))
    return np.diff(cdf)


def _star_stamp(x: float, y: float, sigma_pix: float) -> tuple[int, int, np.ndarray]:
    half = min(int(np.ceil(5 * _WING_SCALE * sigma_pix)) + 1, _MAX_STAMP_HALF)
    x0, y0 = int(np.floor(x + 0.5)) - half, int(np.floor(y + 0.5)) - half
    ex = np.arange(x0, x0 + 2 * half + 2) - 0.5
    ey = np.arange(y0, y0 + 2 * half + 2) - 0.5
    stamp = np.zeros((len(ey) - 1, len(ex) - 1))
    for weight, sigma in ((_CORE_FRACTION, sigma_pix), (1 - _CORE_FRACTION, _WING_SCALE * sigma_pix)):
        stamp += weight * np.outer(_integrated_gaussian(ey, y, sigma), _integrated_gaussian(ex, x, sigma))
    return y0, x0, stamp


def _galaxy_stamp(x: float, y: float, source: Source, scale: float, sigma_pix: float):
    r_eff = max(source.r_eff_arcsec / scale, 0.3)
    half = min(int(np.ceil(6 * r_eff + 3 * sigma_pix)) + 1, _MAX_STAMP_HALF)
    x0, y0 = int(np.floor(x + 0.5)) - half, int(np.floor(y + 0.5)) - half
    n = 2 * half + 1
    sub = (np.arange(n * _GALAXY_OVERSAMPLE) + 0.5) / _GALAXY_OVERSAMPLE - 0.5
    yy, xx = np.meshgrid(y0 + sub - y, x0 + sub - x, indexing="ij")
    pa = np.radians(source.position_angle_deg)
    u = xx * np.cos(pa) + yy * np.sin(pa)
    v = -xx * np.sin(pa) + yy * np.cos(pa)
    r = np.sqrt(u**2 + (v / source.axis_ratio) ** 2 + sigma_pix**2)
    b_n = 2.0 * source.sersic_n - 1.0 / 3.0
    fine = np.exp(-b_n * ((r / r_eff) ** (1.0 / source.sersic_n) - 1.0))
    stamp = fine.reshape(n, _GALAXY_OVERSAMPLE, n, _GALAXY_OVERSAMPLE).sum(axis=(1, 3))
    return y0, x0, stamp / stamp.sum()


def _add_stamp(image: np.ndarray, y0: int, x0: int, stamp: np.ndarray, total: float) -> None:
    ny, nx = image.shape
    sy, sx = stamp.shape
    ya, xa = max(y0, 0), max(x0, 0)
    yb, xb = min(y0 + sy, ny), min(x0 + sx, nx)
    if ya < yb and xa < xb:
        image[ya:yb, xa:xb] += total * stamp[ya - y0 : yb - y0, xa - x0 : xb - x0]


def render_rate(
    scene: Scene, aperture, substrt: tuple[int, int], shape: tuple[int, int], band: Filter,
    pixar_sr: float, area: np.ndarray,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Count rate (DN/s, float32 (ny, nx), before the flat-field response) and the source table.

    ``aperture``: full-frame SIAF aperture with the attitude set; ``substrt``: (SUBSTRT1, SUBSTRT2);
    ``area``: relative pixel area of the subarray (the sky scales with it, sources do not).
    Table columns: ra, dec, x, y (0-based subarray pixels), flux_ujy, rate_dn (DN/s), kind.
    """
    sky = band.sky_mjysr if scene.sky_mjysr is None else scene.sky_mjysr
    image = (sky / band.photmjsr) * area.astype(np.float64)
    scale = float(np.sqrt(float(aperture.XSciScale) * float(aperture.YSciScale)))
    sigma_pix = band.psf_fwhm_arcsec / scale / 2.3548
    n = len(scene.sources)
    ra = np.array([s.ra for s in scene.sources], dtype=float)
    dec = np.array([s.dec for s in scene.sources], dtype=float)
    flux = np.array([s.flux_ujy for s in scene.sources], dtype=float)
    if n:
        x_sci, y_sci = aperture.sky_to_sci(ra, dec)
        x = np.atleast_1d(x_sci) - substrt[0]
        y = np.atleast_1d(y_sci) - substrt[1]
    else:
        x = y = np.zeros(0)
    rate_dn = flux * UJY_TO_MJY / (band.photmjsr * pixar_sr)
    ny, nx = shape
    for i, source in enumerate(scene.sources):
        if not (-_MAX_STAMP_HALF < x[i] < nx + _MAX_STAMP_HALF and -_MAX_STAMP_HALF < y[i] < ny + _MAX_STAMP_HALF):
            continue
        if source.kind == GALAXY:
            y0, x0, stamp = _galaxy_stamp(x[i], y[i], source, scale, sigma_pix)
        else:
            y0, x0, stamp = _star_stamp(x[i], y[i], sigma_pix)
        _add_stamp(image, y0, x0, stamp, rate_dn[i])
    kinds = np.array([s.kind for s in scene.sources], dtype="U6")
    return image.astype(np.float32), _source_table(ra, dec, x, y, flux, rate_dn, kinds)


def _source_table(ra, dec, x, y, flux, rate_dn, kinds) -> dict[str, np.ndarray]:
    return {"ra": np.asarray(ra, float), "dec": np.asarray(dec, float), "x": np.asarray(x, float),
            "y": np.asarray(y, float), "flux_ujy": np.asarray(flux, float),
            "rate_dn": np.asarray(rate_dn, float), "kind": np.asarray(kinds, dtype="U6")}


def empty_source_table() -> dict[str, np.ndarray]:
    """The source table of a scene without sources (dark exposures)."""
    empty = np.zeros(0)
    return _source_table(empty, empty, empty, empty, empty, empty, np.zeros(0, dtype="U6"))
