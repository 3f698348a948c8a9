"""Per-pixel truths of a detector (full frame, DMS orientation), shared by exposures and references.

Both :func:`jwstlazy.simulate.simulate_exposure` and :func:`jwstlazy.simulate.write_reference_files`
draw them from ``detector_calibration(detector, seed)``, so the reference files describe exactly the
detector that made the data. Arrays are float32 (ny, nx) unless noted.
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from jwstlazy.datamodels import dqflags
from jwstlazy.simulate.amplifiers import amplifier_layout
from jwstlazy.simulate.detectors import MIRI_REFERENCE_COLUMNS, Detector, get_detector
from jwstlazy.simulate.readout import Subarray, resolve_subarray
from jwstlazy.simulate.siaf import get_aperture

#: saturation threshold as a fraction of the full-well charge
SATURATION_FRACTION = 0.95
#: number of linearity coefficients (polynomial degree + 1)
LINEARITY_NCOEFFS = 6
HOT_PIXEL_FRACTION, WARM_PIXEL_FRACTION = 5e-4, 2e-3
DEAD_PIXEL_FRACTION, LOW_QE_FRACTION = 3e-4, 1e-3
ARCSEC2_TO_SR = (math.pi / (180.0 * 3600.0)) ** 2


@dataclass
class DetectorCalibration:
    """Per-pixel truths (full frame).

    bias (DN), gain (e-/DN), readnoise (CDS, DN), dark (e-/s), full_well (e-), beta (1/e-; measured
    charge = Q (1 - beta Q)), flat (relative response in the flat reference), response (what the pixel
    really collects relative to nominal: flat, 0 for dead pixels, 0 on reference pixels), area
    (relative pixel area on the sky), mask (uint32 DQ), reference (bool, reference pixels),
    pixar_sr / pixar_a2 (nominal pixel area).
    """

    detector: Detector
    bias: np.ndarray
    gain: np.ndarray
    readnoise: np.ndarray
    dark: np.ndarray
    full_well: np.ndarray
    beta: np.ndarray
    flat: np.ndarray
    response: np.ndarray
    area: np.ndarray
    mask: np.ndarray
    reference: np.ndarray
    pixar_sr: float
    pixar_a2: float

    @property
    def saturation(self) -> np.ndarray:
        """Saturation threshold in raw DN (bias included): the level of SATURATION_FRACTION x full well."""
        charge = SATURATION_FRACTION * self.full_well
        return (self.bias + charge * (1.0 - self.beta * charge) / self.gain).astype(np.float32)

    def linearity_coefficients(self, ncoeffs: int = LINEARITY_NCOEFFS) -> np.ndarray:
        """COEFFS (ncoeffs, ny, nx): ``sum c_i F^i`` turns bias-free measured DN into linear DN.

        Inverting ``g F = Q (1 - beta Q)`` gives ``Q / g = sum_m C(m-1) (beta g)^(m-1) F^m`` with the
        Catalan numbers C; truncated after ``ncoeffs - 1`` terms the error below saturation is ~2e-4.
        """
        x = (self.beta * self.gain).astype(np.float64)
        coeffs = np.zeros((ncoeffs,) + x.shape, dtype=np.float32)
        for m in range(1, ncoeffs):
            coeffs[m] = math.comb(2 * (m - 1), m - 1) // m * x ** (m - 1)
        return coeffs

    def dark_ramp(self, tframe: float, nframes: int, cut=lambda a: a) -> np.ndarray:
        """Dark reference SCI (nframes, ny, nx) DN: frame k holds dark * (k + 1) * tframe / gain.

        ``cut`` selects the pixels (e.g. a subarray) before the frames are built.
        """
        times = (np.arange(nframes, dtype=np.float32) + 1.0) * np.float32(tframe)
        return (times[:, None, None] * cut(self.dark / self.gain)[None]).astype(np.float32)

    def cutout(self, subarray: Subarray) -> dict[str, np.ndarray]:
        """Views of the per-pixel arrays (and saturation) on ``subarray``."""
        sl = subarray.slices
        names = ("bias", "gain", "readnoise", "dark", "full_well", "beta", "flat", "response", "area",
                 "mask", "reference")
        out = {name: getattr(self, name)[sl] for name in names}
        out["saturation"] = self.saturation[sl]
        return out


def _smooth_field(rng: np.random.Generator, shape: tuple[int, int], nodes: int = 8) -> np.ndarray:
    """Unit-rms smooth random field (cubic interpolation of a ``nodes x nodes`` grid)."""
    coarse = rng.standard_normal((nodes, nodes))
    field = ndimage.zoom(coarse, (shape[0] / nodes, shape[1] / nodes), order=3, mode="nearest")
    field = field[: shape[0], : shape[1]]
    return (field - field.mean()) / max(field.std(), 1e-12)


def reference_pixel_mask(detector: Detector) -> np.ndarray:
    """Bool (ny, nx): the 4-pixel border of near-IR full frames, MIRI's side columns."""
    ny, nx = detector.shape
    ref = np.zeros((ny, nx), dtype=bool)
    if detector.is_miri:
        ref[:, list(MIRI_REFERENCE_COLUMNS)] = True
    else:
        b = detector.reference_border
        ref[:b] = ref[-b:] = True
        ref[:, :b] = ref[:, -b:] = True
    return ref


def relative_pixel_area(detector: Detector, step: int = 64) -> tuple[np.ndarray, float]:
    """Relative pixel area from the SIAF distortion, and the nominal area in arcsec^2.

    The Jacobian of science -> ideal coordinates is evaluated on a grid every ``step`` pixels and
    interpolated; apertures without a usable polynomial get 1.
    """
    aperture = get_aperture(detector.siaf_instrument, detector.full_aperture)
    nominal = float(aperture.XSciScale) * float(aperture.YSciScale)
    ny, nx = detector.shape
    try:
        gy = np.append(np.arange(0, ny, step), ny - 1).astype(float)
        gx = np.append(np.arange(0, nx, step), nx - 1).astype(float)
        yy, xx = np.meshgrid(gy + 1.0, gx + 1.0, indexing="ij")  # 1-based science pixels
        h = 0.5
        x1, y1 = aperture.sci_to_idl(xx + h, yy)
        x0, y0 = aperture.sci_to_idl(xx - h, yy)
        x3, y3 = aperture.sci_to_idl(xx, yy + h)
        x2, y2 = aperture.sci_to_idl(xx, yy - h)
        jac = np.abs((x1 - x0) * (y3 - y2) - (x3 - x2) * (y1 - y0)) / (2 * h) ** 2
        coarse = jac / nominal
        if not np.all(np.isfinite(coarse)):
            raise ValueError("non-finite distortion")
    except Exception:  # noqa: BLE001 - NIRSpec full apertures carry no imaging polynomial
        return np.ones((ny, nx), dtype=np.float32), nominal
    fy = np.interp(np.arange(ny), gy, np.arange(len(gy)))
    fx = np.interp(np.arange(nx), gx, np.arange(len(gx)))
    fyy, fxx = np.meshgrid(fy, fx, indexing="ij")
    area = ndimage.map_coordinates(coarse, [fyy, fxx], order=1, mode="nearest")
    return area.astype(np.float32), nominal


@functools.lru_cache(maxsize=4)
def detector_calibration(detector_name: str, seed: int = 0) -> DetectorCalibration:
    """The simulated detector ``detector_name`` under calibration seed ``seed`` (cached)."""
    det = get_detector(detector_name)
    rng = np.random.default_rng([seed, zlib.crc32(det.name.encode())])
    shape = det.shape
    ny, nx = shape
    amps = amplifier_layout(det, resolve_subarray(det, "FULL")).amplifier

    bias = (det.bias_level + 300.0 * _smooth_field(rng, shape) + rng.normal(0, 150.0, 4)[amps]
            + rng.normal(0, 40.0, nx)[None, :] + rng.normal(0, 60.0, shape))
    gain = det.gain * (1.0 + rng.normal(0, 0.02, 4)[amps] + rng.normal(0, 0.01, shape))
    readnoise = det.readnoise_cds * np.clip(1.0 + rng.normal(0, 0.08, shape), 0.5, None)
    full_well = det.full_well * np.clip(1.0 + rng.normal(0, 0.03, shape), 0.9, 1.1)
    beta = det.nonlinearity_at_full_well / full_well * np.clip(1.0 + rng.normal(0, 0.05, shape), 0.8, 1.2)
    dark = det.dark_current * rng.lognormal(0.0, 0.3, shape)
    flat = 1.0 + 0.02 * _smooth_field(rng, shape) + rng.normal(0, 0.01, shape)

    mask = np.zeros(shape, dtype=np.uint32)
    reference = reference_pixel_mask(det)
    draw = rng.random(shape)
    edges = np.cumsum([HOT_PIXEL_FRACTION, WARM_PIXEL_FRACTION, DEAD_PIXEL_FRACTION, LOW_QE_FRACTION])
    hot, warm = draw < edges[0], (draw >= edges[0]) & (draw < edges[1])
    dead, low_qe = (draw >= edges[1]) & (draw < edges[2]), (draw >= edges[2]) & (draw < edges[3])
    hot &= ~reference
    warm &= ~reference
    dead &= ~reference
    low_qe &= ~reference
    dark[hot] = rng.uniform(2.0, 20.0, hot.sum())
    dark[warm] = rng.uniform(0.1, 1.0, warm.sum())
    flat[low_qe] *= 0.5
    mask[hot] |= dqflags.HOT | dqflags.DO_NOT_USE
    mask[warm] |= dqflags.WARM
    mask[dead] |= dqflags.DEAD | dqflags.DO_NOT_USE
    mask[low_qe] |= dqflags.LOW_QE
    mask[reference] = dqflags.REFERENCE_PIXEL

    response = np.where(dead | reference, 0.0, flat)
    flat[reference] = 1.0
    dark[reference] = 0.0
    area, nominal_a2 = relative_pixel_area(det)

    def f32(a: np.ndarray) -> np.ndarray:
        out = np.ascontiguousarray(a, dtype=np.float32)
        out.flags.writeable = False
        return out

    mask.flags.writeable = False
    reference.flags.writeable = False
    return DetectorCalibration(
        detector=det, bias=f32(bias), gain=f32(gain), readnoise=f32(readnoise), dark=f32(dark),
        full_well=f32(full_well), beta=f32(beta), flat=f32(flat), response=f32(response),
        area=f32(area), mask=mask, reference=reference,
        pixar_sr=nominal_a2 * ARCSEC2_TO_SR, pixar_a2=nominal_a2,
    )
