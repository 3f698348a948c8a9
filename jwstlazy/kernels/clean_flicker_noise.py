"""clean_flicker_noise: remove 1/f (NIR) or vertical flicker (MIRI) noise from ramps.

Matches ``jwst.clean_flicker_noise.clean_flicker_noise.do_correction`` (jwst 3.0, off by default) for ramp input
with its defaults ``fit_method='median'``, ``background_method='median'`` (or None), ``n_sigma=2``,
``single_mask=True``, ``mask_science_regions=False``, no flat, no user mask (a user mask is simply passed in as
``scene_mask``), and ``fit_histogram``:

A. Scene mask (``flicker_scene_mask``) from a draft RATE image (upstream runs ramp_fit with default parameters
   on the step's input): True = background. NaN or exactly 0 rate -> False; then ``clip``: sigma-clipped stats
   of the masked values (astropy ``sigma_clipped_stats``: 3 sigma, 5 iterations, median centre, population
   std), pixels below centre - 3 sigma or above centre + ``n_sigma`` sigma -> False. ``fit_histogram``: the
   centre is the clipped mean, then centre and sigma come from a Gaussian fitted (scipy ``curve_fit``) to a
   2000-bin histogram of the values within centre +- 4 sigma.
B. Per integration i and group difference j (``flicker_fit``, needs WHOLE frames): image = data[j+1] - data[j]
   (float32, original data); mask = scene mask AND NOT (DO_NOT_USE or JUMP_DET in groupdq[j+1]); NaN -> 0 and
   masked. No background pixel left: the difference is not cleaned. Otherwise (background 'median'):
   clip at 3/3 sigma with the "lower half" statistics (values <= centre mirrored about the centre, stats redone),
   background = median of the masked values (float32), bkg_sub = image - background, clip again at
   n_sigma/n_sigma (lower half). Stripes: median of the masked bkg_sub values of each line along the axis
   that is averaged (``axis_to_correct`` 2 -> each row, median over x; 1 -> each column, median over y; MIRI
   always 1; NIR = |SLOWAXIS|), 0 where no pixel is left; with ``fit_by_channel`` (full-frame NIR only,
   and only when that axis has 2048 pixels) separately in 4 bands of 512 along the median axis.
C. Apply (``flicker_apply``, per pixel block): out[0] = data[0]; cleaned differences are accumulated,
   out[j+1] = out[j] + (((data[j+1] - data[j]) - background) - stripe) + background (float32, NaN propagates
   to the later groups as upstream); a difference that was not cleaned gives out[j+1] = data[j+1].

Dask split (like ``kernels.refpix``): ``flicker_fit`` is a REDUCTION over one integration's full frames
(chunks ``{"group": -1, "y": -1, "x": -1}``), returning small arrays (stripes (ngroups-1, nchan, nlines) and
scalars); ``flicker_apply`` runs on pixel blocks with the stripes cut to the block (``channel_layout`` gives
the channel of each pixel along the median axis).

``background_method='model'``: the background of each difference is photutils' ``Background2D`` of the clipped
image (as upstream), a (ny, nx) image instead of one value; the same formulas use it pixel by pixel.

``apply_flat_field``: ``flat_for_fitting`` fills a FLAT's zero and non-finite values with a smoothed level (the
'model' background of its good values, as upstream's ``read_flat_file``); the draft rate is divided by it before
the scene mask, each difference before its fit, and each cleaned difference is multiplied back by it.

``mask_science_regions`` (MIRI imaging): ``usable`` of ``flicker_scene_mask`` leaves non-science pixels out first.

``fit_method='fft'`` (NIRSpec): in B, instead of line medians, NSClean's noise image of the clipped ``bkg_sub``
(:mod:`jwstlazy.kernels.nsclean`: ``full_frame_noise`` for 2048 x 2048 frames, else ``subarray_noise``); in C it
is subtracted pixel by pixel where the stripe was: out[j+1] = out[j] + (((diff - background) - noise) + background).

Not done: ``background_method='median_image'``, ``mask_science_regions`` for NIRSpec and SOSS.
(Rate and rateints products are cleaned by the step as 2-group ramps (0, image), with these kernels.)
Numerics: float64 statistics as upstream; our sums are sequential where numpy's are pairwise, so a pixel
exactly on a clipping limit can (very rarely) be classed differently.
"""

from __future__ import annotations

import logging

import numba
import numpy as np

from jwstlazy.datamodels.dqflags import DO_NOT_USE, JUMP_DET
from jwstlazy.kernels.nsclean import FULL_FRAME_SHAPE, SUBARRAY_CUTOFFS, full_frame_noise, subarray_noise

__all__ = ["channel_layout", "flicker_scene_mask", "flicker_fit", "flicker_apply", "flat_for_fitting"]

log = logging.getLogger(__name__)

_SIGMA_LIMIT = 3.0
_MAXITERS = 5


def channel_layout(shape: tuple[int, int], axis_to_correct: int, fit_by_channel: bool) -> tuple[int, np.ndarray]:
    """(n_channels, channel index (int64) of every position along the median axis) for a (ny, nx) frame.

    ``axis_to_correct`` follows upstream: 1 = median over y (one stripe per column), 2 = median over x (one
    stripe per row). Four 512-pixel channels only with ``fit_by_channel`` and 2048 pixels along that axis.
    """
    n_along = shape[axis_to_correct - 1]
    if fit_by_channel and n_along == 2048:
        return 4, np.arange(n_along, dtype=np.int64) // 512
    return 1, np.zeros(n_along, dtype=np.int64)


@numba.njit(cache=True, nogil=True)
def _median_range(s, lo, hi):
    n = hi - lo
    if n % 2 == 1:
        return s[lo + n // 2]
    return (s[lo + n // 2 - 1] + s[lo + n // 2]) / 2.0


@numba.njit(cache=True, nogil=True)
def _std_range(s, lo, hi):
    n = hi - lo
    total = 0.0
    for k in range(lo, hi):
        total += s[k]
    mean = total / n
    squares = 0.0
    for k in range(lo, hi):
        d = s[k] - mean
        squares += d * d
    return np.sqrt(squares / n)


@numba.njit(cache=True, nogil=True)
def _clipped_stats_sorted(s):
    """astropy sigma_clipped_stats(sigma=3, maxiters=5) -> (median, std, mean) of SORTED finite float64 values.

    The kept values are always a contiguous range of the sorted array, so each iteration is a median look-up,
    one std pass and two binary searches (instead of a selection over the whole array). The mean is summed
    in sorted order (astropy's pairwise in the data's order: the same to ~1e-16 relative).
    """
    lo = 0
    hi = s.size
    iteration = 0
    nchanged = 1
    while nchanged != 0 and iteration < _MAXITERS and hi > lo:
        iteration += 1
        cen = _median_range(s, lo, hi)
        std = _std_range(s, lo, hi)
        low = cen - std * _SIGMA_LIMIT
        high = cen + std * _SIGMA_LIMIT
        new_lo = lo + np.searchsorted(s[lo:hi], low, side="left")
        new_hi = lo + np.searchsorted(s[lo:hi], high, side="right")
        nchanged = (hi - lo) - (new_hi - new_lo)
        lo = new_lo
        hi = new_hi
    if hi <= lo:
        return np.nan, np.nan, np.nan
    total = 0.0
    for k in range(lo, hi):
        total += s[k]
    return _median_range(s, lo, hi), _std_range(s, lo, hi), total / (hi - lo)


@numba.njit(cache=True, nogil=True)
def _mirror_lower_half(values, center):
    """Values <= centre (sorted input), mirrored about the centre, returned sorted: (v - c) + c rises with v,
    (c - v) + c falls with v (rounding is monotonic), and the first set is <= c <= the second."""
    m = np.searchsorted(values, center, side="right")
    mirrored = np.empty(2 * m, dtype=np.float64)
    for j in range(m):
        mirrored[j] = (values[j] - center) + center
        mirrored[2 * m - 1 - j] = (center - values[j]) + center
    return mirrored


@numba.njit(cache=True, parallel=True, nogil=True)
def _clip_mask(image, mask, low, high):
    ny, nx = image.shape
    for y in numba.prange(ny):
        for x in range(nx):
            v = np.float64(image[y, x])
            if v < low or v > high:
                mask[y, x] = False


def _clip_to_background(image, mask, sigma_lower, sigma_upper, lower_half_only, fit_histogram=False):
    """jwst ``clip_to_background``: image (ny, nx) float32/64, mask updated in place.

    Centre and sigma from sigma-clipped statistics (the median; the mean with ``fit_histogram``), of the values
    mirrored below the centre with ``lower_half_only``; ``fit_histogram`` refines both with a Gaussian fitted
    to a histogram of those values (:func:`_gaussian_fit_to_histogram`). Pixels below ``centre - sigma_lower *
    sigma`` or above ``centre + sigma_upper * sigma`` leave the mask. Statistics in float64; the sort is NumPy's
    (several times faster than numba's on millions of values).
    """
    values = image[mask].astype(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return
    values.sort()
    median, sigma, mean = _clipped_stats_sorted(values)
    center = mean if fit_histogram else median
    if lower_half_only:
        values = _mirror_lower_half(values, center)
        median, sigma, mean = _clipped_stats_sorted(values)
        center = mean if fit_histogram else median
    if fit_histogram:
        center, sigma = _gaussian_fit_to_histogram(values, center, sigma)
    _clip_mask(image, mask, center - sigma_lower * sigma, center + sigma_upper * sigma)


def _gaussian(x, amplitude, mean, sigma):
    return amplitude * np.exp(-0.5 * ((x - mean) / sigma) ** 2)


def _gaussian_fit_to_histogram(values: np.ndarray, center: float, sigma: float) -> tuple[float, float]:
    """(mean, sigma) of a Gaussian least-squares fit (scipy ``curve_fit``) to a 2000-bin histogram of ``values``
    within ``center`` +- 4 ``sigma``, started at the histogram's peak, as jwst's ``clip_to_background`` does;
    (``center``, ``sigma``) unchanged, with an error logged, when the histogram or the fit fails."""
    from scipy.optimize import curve_fit

    try:
        counts, edges = np.histogram(values, bins=2000, range=(center - 4.0 * sigma, center + 4.0 * sigma))
    except ValueError:
        log.error("Histogram failed; using clip center and sigma.")
        return center, sigma
    bins = (edges[1:] + edges[:-1]) / 2.0
    peak = int(np.argmax(counts))
    start = (counts[peak], bins[peak], sigma)
    bounds = [(0, bins[0], 0), (np.inf, bins[-1], bins[-1] - bins[0])]
    try:
        fitted, _ = curve_fit(_gaussian, bins, counts, p0=start, bounds=bounds)
    except RuntimeError:
        log.error("Gaussian fit failed; using clip center and sigma.")
        return center, sigma
    return float(fitted[1]), float(fitted[2])


@numba.njit(cache=True, nogil=True)
def _median32(values):
    """Median of a float32 1-D array as numpy computes it for float32 (mean of the middle pair in float32)."""
    n = values.size
    s = np.sort(values)
    if n % 2 == 1:
        return s[n // 2]
    return np.float32(np.float32(s[n // 2 - 1] + s[n // 2]) / np.float32(2.0))


def flicker_scene_mask(rate: np.ndarray, n_sigma: float = 2.0, fit_histogram: bool = False,
                       usable: np.ndarray | None = None) -> np.ndarray:  # fmt: skip
    """Background mask from a draft rate image.

    rate : (ny, nx) float32 DN/s, whole frame. ``fit_histogram``: centre and sigma of the clipping from a
    Gaussian fit to a histogram of the rates (upstream's option). ``usable``: (ny, nx) bool, False for pixels
    left out before the statistics (``mask_science_regions``: non-science regions). Returns (ny, nx) bool,
    True = background pixel.
    """
    rate = np.ascontiguousarray(rate, dtype=np.float32)
    mask = ~(np.isnan(rate) | (rate == 0))
    if usable is not None:
        mask &= usable
    if n_sigma > 0:
        _clip_to_background(rate, mask, _SIGMA_LIMIT, float(n_sigma), False, fit_histogram)
    return mask


@numba.njit(cache=True, parallel=True, nogil=True)
def _difference(first, second, dq, scene_mask, flat):
    """image = (second - first) / flat (float32, NaN -> 0) and the mask without NaN, DO_NOT_USE and JUMP_DET
    pixels (``flat`` all ones, broadcast, without ``apply_flat_field``: dividing by 1 changes no bit)."""
    ny, nx = first.shape
    image = np.empty((ny, nx), dtype=np.float32)
    mask = np.empty((ny, nx), dtype=np.bool_)
    for y in numba.prange(ny):
        for x in range(nx):
            v = (second[y, x] - first[y, x]) / flat[y, x]
            good = scene_mask[y, x] and (dq[y, x] & (DO_NOT_USE | JUMP_DET)) == 0
            if np.isnan(v):
                v = np.float32(0.0)
                good = False
            image[y, x] = v
            mask[y, x] = good
    return image, mask


@numba.njit(cache=True, parallel=True, nogil=True)
def _line_medians(image, mask, array_axis, nchan, channel, stripes):
    """stripes[c, line] = float32 median of the masked values of each line (0 if none) per channel."""
    nlines = stripes.shape[1]
    n_along = image.shape[1] if array_axis == 1 else image.shape[0]
    for line in numba.prange(nlines):
        buf = np.empty(n_along, dtype=np.float32)
        for c in range(nchan):
            m = 0
            for a in range(n_along):
                if channel[a] != c:
                    continue
                if array_axis == 1:
                    good = mask[line, a]
                    v = image[line, a]
                else:
                    good = mask[a, line]
                    v = image[a, line]
                if good:
                    buf[m] = v
                    m += 1
            stripes[c, line] = _median32(buf[:m]) if m > 0 else np.float32(0.0)


def _fit_one(first, second, dq, scene_mask, flat, array_axis, nchan, channel, n_sigma, background_method, box_size,
             stripes, background, fft=None):  # fmt: skip
    """Stripes of one group difference into ``stripes`` (or, with ``fft`` = (detector, cutoffs), its NSClean noise
    image, (ny, nx)) and its background into ``background`` (a 0-d array for 'median', (ny, nx) for 'model');
    False when no background pixel is left or the NSClean fit is singular (nothing fitted)."""
    image, mask = _difference(first, second, dq, scene_mask, flat)
    if not mask.any():
        return False
    bkg_sub = image
    if background_method is not None:
        if background_method == "model":
            background[...] = _clipped_background_model(image, mask, box_size)
        else:
            _clip_to_background(image, mask, _SIGMA_LIMIT, _SIGMA_LIMIT, True)
            values = image[mask]
            background[...] = np.float32(np.median(values)) if values.size else np.float32(np.nan)
        bkg_sub = image - (background if background.ndim else background[()])
        if n_sigma > 0:
            _clip_to_background(bkg_sub, mask, n_sigma, n_sigma, True)
    if fft is None:
        _line_medians(bkg_sub, mask, array_axis, nchan, channel, stripes)
        return True
    detector, cutoffs = fft
    try:
        if bkg_sub.shape == FULL_FRAME_SHAPE:
            noise = full_frame_noise(bkg_sub, mask, detector)
        else:
            noise = subarray_noise(bkg_sub, mask, detector, cutoffs)
    except np.linalg.LinAlgError:
        log.warning("NSClean fit is singular for a group difference; it is left uncleaned")
        return False
    stripes[...] = noise
    return True


def default_box_size(shape: tuple[int, int]) -> tuple[int, int]:
    """Upstream's default ``background_box_size``: per axis the largest size up to 32 that divides it evenly."""
    return tuple(max(n for n in range(1, 33) if size % n == 0) for size in shape)


def _clipped_background_model(image: np.ndarray, mask: np.ndarray, box_size: tuple[int, int] | None) -> np.ndarray:
    """jwst's ``background_level(image, mask, 'model')``: ``mask`` clipped at 3 sigma (lower-half statistics),
    then photutils' ``Background2D`` of the masked image (boxes of ``box_size``, 5x5 median filter, 3-sigma
    clipped medians), float32 like the image; the median of the background pixels, with an error logged, when
    the model cannot be fitted. photutils is the field's implementation (and upstream's): the box statistics,
    their interpolation and its edge cases come with it."""
    import warnings

    from astropy.stats import SigmaClip
    from astropy.utils.exceptions import AstropyUserWarning
    from photutils.background import Background2D, MedianBackground

    _clip_to_background(image, mask, _SIGMA_LIMIT, _SIGMA_LIMIT, True)
    box_size = tuple(box_size) if box_size is not None else default_box_size(image.shape)
    if image.shape[0] % box_size[0] or image.shape[1] % box_size[1]:
        log.warning("Background box size %s does not divide evenly into the image shape %s.", box_size, image.shape)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(action="ignore", category=AstropyUserWarning)
            model = Background2D(image, box_size=box_size, filter_size=(5, 5), mask=~mask,
                                 sigma_clip=SigmaClip(sigma=_SIGMA_LIMIT, maxiters=_MAXITERS),
                                 bkg_estimator=MedianBackground())
        return model.background
    except ValueError:
        log.error("Background fit failed, using median value.")
        return np.nanmedian(image[mask])


def flicker_fit(
    data: np.ndarray,
    groupdq: np.ndarray,
    scene_mask: np.ndarray,
    axis_to_correct: int = 2,
    fit_by_channel: bool = False,
    n_sigma: float = 2.0,
    background_method: str | None = "median",
    background_box_size: tuple[int, int] | None = None,
    flat: np.ndarray | None = None,
    fit_method: str = "median",
    detector: str = "",
    fft_cutoffs: tuple[float, ...] = SUBARRAY_CUTOFFS,
    decision: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit the flicker noise of ONE integration (whole frames).

    Parameters
    ----------
    data : (ngroups, ny, nx) float32 DN, whole frame (or whole subarray).
    groupdq : (ngroups, ny, nx) uint8.
    scene_mask : (ny, nx) bool, True = background (``flicker_scene_mask`` or a user mask).
    axis_to_correct : 1 (median over y: MIRI) or 2 (median over x); NIR upstream uses |SLOWAXIS|.
    fit_by_channel, n_sigma, background_method ('median', 'model' or None), background_box_size (for 'model';
        None: :func:`default_box_size`): upstream names and defaults.
    flat : (ny, nx) float32 from :func:`flat_for_fitting` (``apply_flat_field``): the differences are fitted
        divided by it; None: not.
    fit_method : 'median' (line medians) or 'fft' (NSClean noise images; ``detector`` 'NRS1' or 'NRS2' and,
        for subarrays, ``fft_cutoffs`` in Hz; ``axis_to_correct`` and ``fit_by_channel`` unused).
    decision : autoparam's choice, (2,) bool: [background 'model' (else 'median'), fit by channel]; it replaces
        ``background_method`` and fits by channel only where ``fit_by_channel`` allows it. The outputs then have
        the shapes of the widest choice: background images, and stripes on every allowed channel (the same
        stripes repeated when not fitted by channel).

    Returns
    -------
    noise : (ngroups-1, n_channels, n_lines) float32 DN stripes, n_lines = ny (axis 2) or nx (axis 1); for 'fft'
        (ngroups-1, ny, nx) float32 noise images.
    background : (ngroups-1,) float32 DN (0 for background_method None), or (ngroups-1, ny, nx) for 'model'.
    cleaned : (ngroups-1,) bool; False = the difference had no background pixel and is left alone.
    """
    if str(background_method).lower() == "none":
        background_method = None
    if background_method not in ("median", "model", None):
        raise ValueError(f"background_method {background_method!r} is not supported (use 'median', 'model' or None)")
    if fit_method not in ("median", "fft"):
        raise ValueError(f"fit_method {fit_method!r} is not supported (use 'median' or 'fft')")
    fft = (detector, tuple(fft_cutoffs)) if fit_method == "fft" else None
    if decision is not None:
        stripes, background, cleaned = flicker_fit(
            data, groupdq, scene_mask, axis_to_correct, bool(fit_by_channel and decision[1]), n_sigma,
            "model" if decision[0] else "median", background_box_size, flat)
        ngroups, ny, nx = np.shape(data)
        if not decision[0]:
            background = np.ascontiguousarray(np.broadcast_to(background[:, None, None], (len(background), ny, nx)))
        nchan, _ = channel_layout((ny, nx), int(axis_to_correct), fit_by_channel)
        return np.ascontiguousarray(np.broadcast_to(stripes, (stripes.shape[0], nchan, stripes.shape[2]))), background, cleaned
    data = np.ascontiguousarray(data, dtype=np.float32)
    gdq = np.ascontiguousarray(groupdq, dtype=np.uint8)
    ngroups, ny, nx = data.shape
    array_axis = int(axis_to_correct) - 1
    nchan, channel = channel_layout((ny, nx), int(axis_to_correct), fit_by_channel)
    nlines = ny if array_axis == 1 else nx
    ndiff = max(ngroups - 1, 0)
    stripes = np.zeros((ndiff, ny, nx) if fft else (ndiff, nchan, nlines), dtype=np.float32)
    background = np.zeros((ndiff, ny, nx) if background_method == "model" else ndiff, dtype=np.float32)
    cleaned = np.zeros(ndiff, dtype=np.bool_)
    scene_mask = np.ascontiguousarray(scene_mask, dtype=np.bool_)
    flat = _flat_or_ones(flat, (ny, nx))
    for j in range(ndiff):
        cleaned[j] = _fit_one(data[j], data[j + 1], gdq[j + 1], scene_mask, flat, array_axis, nchan, channel,
                              float(n_sigma), background_method, background_box_size, stripes[j], background[j, ...],
                              fft)
    return stripes, background, cleaned


@numba.njit(cache=True, parallel=True, nogil=True)
def _apply(data, stripes, channel, noise, background, cleaned, flat, array_axis, out):
    """out = data with each cleaned difference re-accumulated; the noise subtracted is the line's stripe plus
    ``noise`` (nints, ndiff, ny, nx): zeros (zero strides) with stripes, or NSClean's images with zero stripes
    (adding 0 changes no bit); ``background`` (nints, ndiff, ny, nx), a per-difference value broadcast over the
    pixels (zero strides) or a per-pixel model; ``flat`` (ny, nx), ones (broadcast) without
    ``apply_flat_field``: dividing and multiplying by 1 change no bit."""
    nints, ngroups, ny, nx = data.shape
    for y in numba.prange(ny):
        for i in range(nints):
            for x in range(nx):
                out[i, 0, y, x] = data[i, 0, y, x]
            for j in range(ngroups - 1):
                for x in range(nx):
                    if not cleaned[i, j]:
                        out[i, j + 1, y, x] = data[i, j + 1, y, x]
                        continue
                    if array_axis == 1:
                        s = stripes[i, j, channel[x], y] + noise[i, j, y, x]
                    else:
                        s = stripes[i, j, channel[y], x] + noise[i, j, y, x]
                    bkg = background[i, j, y, x]
                    f = flat[y, x]
                    diff = (data[i, j + 1, y, x] - data[i, j, y, x]) / f
                    out[i, j + 1, y, x] = out[i, j, y, x] + ((((diff - bkg) - s) + bkg) * f)


def flicker_apply(
    data: np.ndarray,
    stripes: np.ndarray,
    channel: np.ndarray,
    background: np.ndarray,
    cleaned: np.ndarray,
    axis_to_correct: int = 2,
    flat: np.ndarray | None = None,
    noise: np.ndarray | None = None,
) -> np.ndarray:
    """Subtract fitted stripes (or NSClean noise images) from one pixel block.

    Parameters
    ----------
    data : (nints, ngroups, by, bx) float32 DN.
    stripes : (nints, ngroups-1, n_channels, n_lines) float32, lines cut to the block (by rows for axis 2,
        bx columns for axis 1).
    channel : int64 channel index of each block position along the median axis (bx for axis 2, by for 1),
        cut from ``channel_layout``.
    background : (nints, ngroups-1) float32, or (nints, ngroups-1, by, bx) for 'model', cut to the block.
    cleaned : (nints, ngroups-1) bool.
    flat : (by, bx) float32, the block of :func:`flat_for_fitting`'s flat (None without ``apply_flat_field``).
    noise : (nints, ngroups-1, by, bx) float32 NSClean noise images cut to the block (``fit_method='fft'``);
        then ``stripes`` and ``channel`` are None.

    Returns
    -------
    (nints, ngroups, by, bx) float32, new array.
    """
    data = np.ascontiguousarray(data, dtype=np.float32)
    out = np.empty_like(data)
    background = np.asarray(background, dtype=np.float32)
    if background.ndim == 2:
        background = np.broadcast_to(background[:, :, None, None], background.shape + data.shape[-2:])
    nints, ngroups, by, bx = data.shape
    per_difference = (nints, max(ngroups - 1, 0), by, bx)
    if noise is None:
        noise = np.broadcast_to(np.zeros(1, dtype=np.float32), per_difference)
        stripes = np.ascontiguousarray(stripes, dtype=np.float32)
    else:  # NSClean images: zero stripes on one channel
        stripes = np.broadcast_to(np.zeros(1, dtype=np.float32), per_difference[:2] + (1, max(by, bx)))
        channel = np.zeros(max(by, bx), dtype=np.int64)
        noise = np.asarray(noise, dtype=np.float32)
    _apply(data, np.asarray(stripes, dtype=np.float32), np.ascontiguousarray(channel, dtype=np.int64), noise,
           background, np.ascontiguousarray(cleaned, dtype=np.bool_), _flat_or_ones(flat, data.shape[-2:]),
           int(axis_to_correct) - 1, out)
    return out


def _flat_or_ones(flat: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray:
    """``flat`` as contiguous float32, or ones of ``shape`` that allocate nothing (zero strides)."""
    if flat is None:
        return np.broadcast_to(np.ones(1, dtype=np.float32), shape)
    return np.ascontiguousarray(flat, dtype=np.float32)


def flat_for_fitting(flat: np.ndarray) -> np.ndarray:
    """The flat that ``apply_flat_field`` divides by, as jwst's ``read_flat_file``: (ny, nx) float32 cut to the
    exposure, zero and non-finite values replaced by a smoothed local level (:func:`_clipped_background_model`
    of the good values, default boxes). A new array."""
    flat = np.array(flat, dtype=np.float32)
    bad = (flat == 0) | ~np.isfinite(flat)
    if bad.any():
        smoothed = _clipped_background_model(flat, ~bad, None)
        flat[bad] = smoothed if np.ndim(smoothed) == 0 else smoothed[bad]
    return flat
