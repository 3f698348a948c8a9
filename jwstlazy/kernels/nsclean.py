"""NSClean: a frame's 1/f noise fitted in frequency space to its background pixels (Rauscher 2024, PASP 136).

The noise model of ``clean_flicker_noise`` with ``fit_method='fft'`` (jwst 3.0's ``fft_clean_full_frame`` and
``fft_clean_subarray``), for NIRSpec. Both work in detector coordinates, where the fast-scan direction runs
along rows: NRS1 frames are transposed, NRS2 frames transposed and flipped (:func:`to_detector`); the model is
returned in the frame's own (DMS) orientation.

* Full frame (2048 x 2048, :func:`full_frame_noise`): line by line (the 4 reference lines at each end are left
  out), a weighted least-squares fit of the lowest Fourier frequencies of the line (those a cosine low-pass
  filter with half power at ``fc`` cycles/pixel and width ``kill_width`` passes) to the line's background
  pixels, after replacing values beyond ``sigrej`` robust sigmas (median, 1.4826 MAD) with the line median. A
  background pixel's weight is the reciprocal of the local density of background pixels along its line
  (a Gaussian of ``weights_kernel_sigma`` pixels). The fitted coefficients, apodized by the filter, give the
  line's model by an inverse real FFT; the model is then "buffed" by a Gaussian of ``buffer_sigma`` pixels
  across lines. (Upstream builds both Gaussian kernels centred one pixel off the FFT origin; so do we, as
  that is the algorithm's output.)
* Subarray (:func:`subarray_noise`): pixels beyond ``sigrej`` robust sigmas of the whole frame's background and
  their 4 neighbours leave the mask; the frame is cut into overlapping sections of consecutive lines holding
  about ``npix_iter`` background pixels each (a section starts half a section after the previous one); each
  section is fitted as one time series in the detector's clocking order (``LINE_OVERHEAD`` idle ticks after
  each line of ``nx`` pixels, ``PIXEL_TIME`` s per tick) with the frequencies an apodizer passes (unity below
  ``fc[0]`` Hz, cosine roll-off to ``fc[1]``, zero, cosine roll-on from ``fc[2]`` to ``fc[3]``, unity above: 1/f
  noise and alternating-column noise), weighted by the reciprocal of the background samples' local density
  in time; sections with fewer than ``minfrac`` background pixels get no model; the sections' models are
  blended with triangular weights.

These are dense linear algebra and FFTs on whole frames (numpy), not per-pixel loops: no numba here. Numerics
follow upstream's dtypes (complex64 bases, float64 weights and models); the step applies the model in float32,
so cleaned values can differ from upstream's in the last bit.
"""

from __future__ import annotations

import logging

import numpy as np

__all__ = ["full_frame_noise", "subarray_noise", "lowpass_filter", "to_detector", "from_detector",
           "SUBARRAY_CUTOFFS", "ALLSLITS_CUTOFFS"]  # fmt: skip

log = logging.getLogger(__name__)

#: Subarray apodizer cutoffs in Hz (upstream's default, tuned on NIRSpec BOTS), and those for ALLSLITS.
SUBARRAY_CUTOFFS = (1061.0, 1211.0, 49943.0, 49957.0)
ALLSLITS_CUTOFFS = (150.0, 200.0, 49943.0, 49957.0)
LINE_OVERHEAD = 12  #: idle clock ticks at the end of each detector line (new-line overhead)
PIXEL_TIME = 10.0e-6  #: seconds per clock tick (pixel dwell time)
FULL_FRAME_SHAPE = (2048, 2048)


def to_detector(frame: np.ndarray, detector: str) -> np.ndarray:
    """A (ny, nx) DMS frame (or mask) as a view in detector coordinates: NRS1 transposed, others (NRS2)
    transposed and flipped, so that the fast-scan direction runs along rows."""
    return frame.T if detector.upper() == "NRS1" else frame.T[::-1]


def from_detector(frame: np.ndarray, detector: str) -> np.ndarray:
    """The inverse of :func:`to_detector` (a view)."""
    return frame.T if detector.upper() == "NRS1" else frame[::-1].T


def lowpass_filter(f_half_power: float, w_cutoff: float, n: int) -> np.ndarray:
    """Gain (n//2+1,) float64 at the real-FFT frequencies of ``n`` samples (cycles/sample): 1 up to
    ``f_half_power - w_cutoff/2``, a half cosine down to 0 at ``f_half_power + w_cutoff/2``, 0 beyond."""
    freq = np.fft.rfftfreq(n)
    cosine = (1 + np.cos(np.pi * (freq - f_half_power) / w_cutoff + np.pi / 2)) / 2
    gain = np.where(freq <= f_half_power - w_cutoff / 2, 1.0, cosine)
    return np.where(freq <= f_half_power + w_cutoff / 2, gain, 0.0)


def _off_origin_kernel(shape: tuple[int, int], profile: np.ndarray, axis: int) -> np.ndarray:
    """A float32 (ny, nx) kernel holding ``profile`` along ``axis`` in line ny//2+1 (axis 1) or column nx//2+1
    (axis 0), moved to the FFT origin by ``ifftshift``: centred one pixel off the origin, as upstream's."""
    kernel = np.zeros(shape, dtype=np.float32)
    if axis == 1:
        kernel[shape[0] // 2 + 1] = profile
    else:
        kernel[:, shape[1] // 2 + 1] = profile
    return np.fft.ifftshift(kernel)


def _weighted_pseudo_inverse(basis: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(A^H A)^-1 A^H for A = diag(weights) @ basis: (nvec, nsamples)."""
    a = basis * weights[:, None]
    a_h = np.conjugate(a.T)
    return np.linalg.inv(a_h @ a) @ a_h


def full_frame_noise(image: np.ndarray, mask: np.ndarray, detector: str, fc: float = 1 / 256,
                     kill_width: float = 1 / 1024, buffer_sigma: float = 1.5, sigrej: float = 3.0,
                     weights_kernel_sigma: float = 32) -> np.ndarray:  # fmt: skip
    """The NSClean noise model of a full frame.

    Parameters
    ----------
    image : (2048, 2048) float32 DN, background subtracted, DMS orientation (NaN already replaced and masked).
    mask : (2048, 2048) bool, True = background pixel to fit.
    detector : 'NRS1' or 'NRS2'.
    fc, kill_width : low-pass half-power frequency and cosine width, cycles/pixel (upstream's defaults).
    buffer_sigma, sigrej, weights_kernel_sigma : pixels, sigmas, pixels (upstream's defaults).

    Returns
    -------
    (2048, 2048) float64 DN in DMS orientation; raises ``numpy.linalg.LinAlgError`` when a line's fit is singular.
    """
    data = to_detector(np.asarray(image, dtype=np.float32), detector)
    good = np.ascontiguousarray(to_detector(np.asarray(mask, dtype=bool), detector))
    ny, nx = data.shape
    apodizer = lowpass_filter(fc, kill_width, nx)
    nvec = int(np.sum(apodizer > 0))
    x = np.arange(nx)
    density = np.exp(-((x - (nx // 2 + 1)) ** 2) / weights_kernel_sigma**2 / 2) / weights_kernel_sigma / np.sqrt(2 * np.pi)
    density_kernel = _off_origin_kernel((ny, nx), density, axis=1)
    with np.errstate(divide="ignore"):
        weights = 1 / np.fft.irfft2(np.fft.rfft2(good.astype(np.float32)) * np.fft.rfft2(density_kernel), (ny, nx))
    weights = np.where(good, weights, 0.0)
    weights[~np.isfinite(weights)] = 0.0
    frequencies = np.arange(nvec).reshape(1, -1)
    model = np.zeros((ny, nx), dtype=np.float32)
    for y in range(4, ny - 4):
        columns = np.flatnonzero(good[y])
        if columns.size == 0:
            continue
        values, w = data[y, columns], weights[y, columns]
        centre = np.median(values)
        spread = 1.4826 * np.median(np.abs(values - centre))
        values = np.where((centre - sigrej * spread <= values) & (values <= centre + sigrej * spread), values, centre)
        basis = np.array(np.exp(2j * np.pi * columns.reshape(-1, 1) * frequencies / nx) / columns.size,
                         dtype=np.complex64)  # fmt: skip
        spectrum = np.zeros(nx // 2 + 1, dtype=np.complex64)
        spectrum[:nvec] = _weighted_pseudo_inverse(basis, w) @ (w * values)
        spectrum *= nx / columns.size
        if kill_width > 0:
            spectrum[:nvec] *= apodizer[:nvec]
        model[y] = np.fft.irfft(spectrum, nx)
    across = np.exp(-(((np.arange(ny) - (nx // 2 + 1)) / buffer_sigma) ** 2) / 2) / buffer_sigma / np.sqrt(2 * np.pi)
    buff_kernel = _off_origin_kernel((ny, nx), across, axis=0)
    buffed = np.fft.irfft2(np.fft.rfft2(model) * np.array(np.fft.rfft2(buff_kernel), dtype=np.complex64), s=(ny, nx))
    return from_detector(buffed, detector)


def _section_model(data: np.ndarray, good: np.ndarray, cutoffs: tuple[float, ...]) -> np.ndarray:
    """Upstream's ``NSCleanSubarray(...).clean(weight_fit=True, return_model=True)`` of one section (detector
    coordinates, outliers already masked): (ny, nx) float64."""
    ny, nx = data.shape
    good = good & ~np.isnan(data)
    n = ny * (nx + LINE_OVERHEAD)  # clock ticks of the section
    tick = np.float32(PIXEL_TIME)  # float32 arithmetic below where upstream's is (its tick is float32)
    freq = np.array(np.fft.rfftfreq(np.int32(n), tick), dtype=np.float32)
    f0, f1, f2, f3 = np.array(cutoffs, dtype=np.float32)
    apodizer = np.zeros(freq.size, dtype=np.float32)
    apodizer[freq < f0] = 1.0
    here = (f0 <= freq) & (freq < f1)
    apodizer[here] = 0.5 * (np.cos((np.pi / (f1 - f0)) * (freq[here] - f0)) + 1)
    here = (f2 <= freq) & (freq < f3)
    apodizer[here] = 0.5 * (np.cos((np.pi / (f3 - f2)) * (freq[here] - f2) + np.pi) + 1)
    apodizer[freq >= f3] = 1.0
    ticks = (np.arange(ny).reshape(-1, 1) * (nx + LINE_OVERHEAD) + np.arange(nx).reshape(1, -1))[good].reshape(-1, 1)
    fitted = np.flatnonzero(apodizer > 0.0)
    basis = np.array(np.exp(2j * np.pi * ticks * fitted.reshape(1, -1) / n) / ticks.shape[0], dtype=np.complex64)
    # weights: reciprocal of the background samples' density in time (a Gaussian, centred one tick off origin)
    sigma = np.float32(1 / ((cutoffs[0] + cutoffs[1]) / 2) / tick / 2 / 4)
    x = np.arange(n, dtype=np.float32)
    gaussian = np.exp(-((x - np.float32(n // 2 + 1)) ** 2) / sigma**2 / 2) / sigma / np.sqrt(2 * np.pi)
    sampled = np.hstack((good, np.zeros((ny, LINE_OVERHEAD), dtype=bool))).ravel()
    with np.errstate(divide="ignore"):
        weights = 1 / np.fft.irfft(np.fft.rfft(sampled.astype(np.float32)) * np.fft.rfft(np.fft.ifftshift(gaussian)), n)
    weights = weights[sampled]
    weights[~np.isfinite(weights)] = 0.0
    spectrum = np.zeros(freq.size, dtype=np.complex64)
    spectrum[fitted] = (_weighted_pseudo_inverse(basis, weights) * weights.reshape(1, -1)) @ data[good]
    spectrum *= n / ticks.shape[0]
    return np.fft.irfft(spectrum * apodizer, n).reshape(ny, -1)[:, :nx]


def _outliers_masked(data: np.ndarray, good: np.ndarray, sigrej: float) -> np.ndarray:
    """``good`` without pixels beyond ``sigrej`` robust sigmas (median, 1.4825 MAD of the good values) and their
    4 nearest neighbours (upstream's ``fft_clean_subarray`` outlier exclusion)."""
    centre = np.median(data[good])
    spread = 1.4825 * np.median(np.abs((data - centre)[good]))
    outlier = good & (np.abs(data - centre) > sigrej * spread)
    good = good & ~outlier
    good[1:] &= ~outlier[:-1]
    good[:-1] &= ~outlier[1:]
    good[:, 1:] &= ~outlier[:, :-1]
    good[:, :-1] &= ~outlier[:, 1:]
    return good


def subarray_noise(image: np.ndarray, mask: np.ndarray, detector: str, cutoffs: tuple[float, ...] = SUBARRAY_CUTOFFS,
                   npix_iter: int = 512, sigrej: float = 4.0, minfrac: float = 0.05) -> np.ndarray | None:  # fmt: skip
    """The NSClean noise model of a subarray (any frame but 2048 x 2048).

    Parameters
    ----------
    image : (ny, nx) float32 DN, background subtracted, DMS orientation.
    mask : (ny, nx) bool, True = background pixel to fit.
    detector : 'NRS1' or 'NRS2'.
    cutoffs : apodizer frequencies in Hz (:data:`SUBARRAY_CUTOFFS`; :data:`ALLSLITS_CUTOFFS` for ALLSLITS).
    npix_iter, sigrej, minfrac : background pixels per section, outlier sigmas, least background fraction.

    Returns
    -------
    (ny, nx) float64 DN in DMS orientation, or None when no background pixel is left. Raises
    ``numpy.linalg.LinAlgError`` when a section's fit is singular.
    """
    data = np.ascontiguousarray(to_detector(np.asarray(image, dtype=np.float32), detector))
    good = np.ascontiguousarray(to_detector(np.asarray(mask, dtype=bool), detector))
    if not good.any():
        return None
    good = _outliers_masked(data, good, sigrej)
    per_line = good.sum(axis=1)
    lines = np.flatnonzero(per_line)
    if lines.size == 0:
        return None
    before = np.concatenate(([0], np.cumsum(per_line)))  # before[i]: background pixels in lines < i
    first, last = int(lines[0]), int(lines[-1])
    model = np.zeros(data.shape)
    total_weight = np.zeros(data.shape)
    start = first
    while start <= last:
        stop = start + 1  # this section: lines start..stop-1, ~npix_iter background pixels, or to the end
        while stop <= last and not (before[stop] - before[start] > npix_iter
                                    and before[-1] - before[start] > 1.5 * npix_iter):  # fmt: skip
            stop += 1
        height = stop - start
        if np.mean(good[start:stop]) > minfrac:
            section = _section_model(data[start:stop], good[start:stop].copy(), cutoffs)
        else:
            log.warning("Insufficient background pixels for NSClean around line %d; no correction there.", start)
            section = np.zeros((height, data.shape[1]))
        blend = 1.001 - np.abs(np.linspace(-1, 1, height))[:, None]
        model[start:stop] += blend * section
        total_weight[start:stop] += blend
        if stop == last + 1:
            break
        start += max(int(np.round(height / 2)), 1)
    total_weight[model == 0] = 1
    return from_detector(model / total_weight, detector)
