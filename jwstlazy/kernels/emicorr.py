"""emicorr (MIRI): fit and subtract electromagnetic-interference (EMI) waves from ramps.

Follows ``jwst.emicorr.emicorr`` (jwst 3.0); see docs/steps/emicorr.md for the differences.

**Read clock.** MIRI's four outputs read columns ``x % 4`` of a row at the same moment, so the columns
``4k .. 4k+3`` (column group ``k = x // 4``) share one read time. Times are counted in 10 µs samples
(pixel clocks) from the first read of the file's first integration::

    t(i, g, y, k) = i * int_samples + g * frame_samples + y * rowclocks + k * nsamples
    frame_samples = ny * rowclocks + (1024 - ny) * 7          (rows outside a subarray cost 7 samples)
    int_samples   = ngroups * frame_samples (+ frameclocks for FASTR1/SLOWR1: one extra reset frame)

``rowclocks``/``frameclocks`` are per subarray (EMICORR reference, or :data:`SUBARRAY_CLOCKS`), ``nsamples``
is NSAMPLES. A wave of frequency f has the period ``period = 1 / f / 10 µs`` samples; its phase at a read
is ``frac(t / period)``. Integration, group, row, column indices are 0-based and relative to the file's
arrays (``y0, x0`` = a pixel block's first row and column in those arrays).

**Joint algorithm** (default; needs a reference wave): a cubic spline through the wave
(:func:`wave_spline`), ramps of "good" pixels (pixel DQ 0, group scatter below twice the exposure's
median, :func:`pixel_std`) summed by the phase of their first read (:func:`accumulate_phased`), then
amplitude and phase of the wave that make those ramps straightest (:func:`fit_joint`) and the scaled,
phased wave is subtracted (:func:`subtract_wave`).

**Sequential algorithm** (measured from the data): per integration, a crude slope and a median bias are
removed, the 4 outputs averaged and each frame's median removed; the values are binned by phase and each
bin's sigma-clipped mean is the phased waveform (:func:`phased_waveform`); optionally matched in phase (and
scaled) to a reference wave, it becomes a look-up table of one period (:func:`lookup_table`) that is
subtracted (:func:`subtract_lookup`).

Arrays: ramps ``data`` float32 (nints, ngroups, ny, nx) DN; ``pixeldq`` uint32 (ny, nx); waves float64.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "PHASE_STEPS",
    "SAMPLE_SECONDS",
    "SUBARRAY_CLOCKS",
    "accumulate_phased",
    "clock_case",
    "fit_joint",
    "frame_samples",
    "integration_samples",
    "lookup_table",
    "period_samples",
    "phased_waveform",
    "pixel_std",
    "read_sample",
    "rebin_nearest",
    "rebinned_size",
    "scatter_threshold",
    "sequential_nbins",
    "sequential_nints_to_phase",
    "spline_at",
    "subtract_lookup",
    "subtract_wave",
    "wave_spline",
]

#: Seconds per pixel-clock sample.
SAMPLE_SECONDS = 10.0e-6
#: Samples spent on each full-frame row outside the subarray (``4 + 3``).
_SKIPPED_ROW_SAMPLES = 4 + 3.0
_FULL_FRAME_ROWS = 1024.0
#: Column groups holding the bad reference column, left out of the joint fit.
_BAD_COLUMN_GROUPS = (1, 2)
#: Trial phases of the joint fit (upstream ``nphases_opt``).
PHASE_STEPS = 500

#: (rowclocks, frameclocks) per subarray case, for frequencies given without a reference file.
SUBARRAY_CLOCKS: dict[str, tuple[int, int]] = {
    "SLITLESSPRISM": (28, 15904), "MASKLYOT": (90, 32400), "SUB64": (28, 8512), "SUB128": (44, 11904),
    "MASK1140": (82, 23968), "MASK1550": (82, 23968), "MASK1065": (82, 23968), "FULL_FAST": (271, 277504),
    "FULL_SLOW": (2333, 2388992), "BRIGHTSKY": (162, 86528), "SUB256": (96, 29952),
}


def clock_case(subarray: str, readpatt: str) -> str:
    """Subarray case name: SUBARRAY, with ``_FAST``/``_SLOW`` appended for full frames."""
    name = str(subarray).upper()
    if "FULL" in name:
        name += "_FAST" if "FAST" in str(readpatt).upper() else "_SLOW"
    return name


def period_samples(frequency: float) -> float:
    """Period of a wave of ``frequency`` Hz, in samples (float)."""
    return (1.0 / frequency) / SAMPLE_SECONDS


def frame_samples(ny: int, rowclocks: int) -> float:
    """Samples from one frame's first read to the next frame's, for ``ny`` rows."""
    return ny * rowclocks + (_FULL_FRAME_ROWS - ny) * _SKIPPED_ROW_SAMPLES


def integration_samples(ny: int, ngroups: int, rowclocks: int, frameclocks: int, readpatt: str) -> int:
    """Samples from one integration's first read to the next one's (extra reset frame for ``*R1``)."""
    reset = frameclocks if str(readpatt).upper() in ("FASTR1", "SLOWR1") else 0
    return int(ngroups * frame_samples(ny, rowclocks)) + reset


def sequential_nints_to_phase(nints_to_phase: int | None, use_n_cycles: int | None, nints: int,
                              ngroups: int, period: float, frameclocks: int) -> int:
    """Integrations the sequential algorithm bins (upstream rules; at most ``nints`` are used)."""
    if nints_to_phase is None and use_n_cycles is None:
        return nints
    if nints_to_phase is None:
        return math.ceil((use_n_cycles * period) / (frameclocks * ngroups))
    return min(nints_to_phase, nints) if use_n_cycles == 3 else nints_to_phase


def sequential_nbins(nbins: int | None, period: float) -> int:
    """Phase bins of the sequential waveform: ``period / 2`` by default; more than 501 become 500."""
    bins = int(period / 2.0) if nbins is None else int(nbins)
    return 500 if bins > 501 else bins


@numba.njit(cache=True, nogil=True)
def read_sample(i, g, row, group_k, int_samples, frame_samples, rowclocks, nsamples):
    """Sample time (int64) of the read of column group ``group_k`` of ``row`` in group ``g``, integration ``i``."""
    return (np.int64(i) * np.int64(int_samples) + np.int64(g) * np.int64(frame_samples)
            + np.int64(row) * np.int64(rowclocks) + np.int64(group_k) * np.int64(nsamples))


# -- the reference wave as a function of phase ---------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def wave_spline(wave):
    """Cubic spline through one period of a wave, as ``scipy.interpolate.interp1d(kind="cubic")`` upstream.

    ``wave`` (n >= 2,): sample m sits at phase (m + 0.5) / n. The nodes are extended by one sample at each
    end (``wave[-1]`` at -0.5 / n, ``wave[0]`` at 1 + 0.5 / n); not-a-knot ends. Returns the node values and
    the spline's second derivatives, both float64 (n + 2,), for :func:`spline_at`.
    """
    n = wave.size
    m = n + 2
    values = np.empty(m)
    values[0] = wave[n - 1]
    for k in range(n):
        values[k + 1] = wave[k]
    values[m - 1] = wave[0]
    h = 1.0 / n
    rhs = np.zeros(m)
    for k in range(1, m - 1):
        rhs[k] = 6.0 * (values[k + 1] - 2.0 * values[k] + values[k - 1]) / (h * h)
    second = np.zeros(m)
    # Uniform nodes: the not-a-knot condition at node 1 (and m - 2) fixes its second derivative alone.
    second[1] = rhs[1] / 6.0
    second[m - 2] = rhs[m - 2] / 6.0
    # M[k-1] + 4 M[k] + M[k+1] = rhs[k] for k = 2 .. m-3 (Thomas algorithm).
    size = m - 4
    if size > 0:
        diag = np.empty(size)
        right = np.empty(size)
        for q in range(size):
            k = q + 2
            right[q] = rhs[k]
            diag[q] = 4.0
        right[0] -= second[1]
        right[size - 1] -= second[m - 2]
        for q in range(1, size):
            factor = 1.0 / diag[q - 1]
            diag[q] -= factor
            right[q] -= factor * right[q - 1]
        second[size + 1] = right[size - 1] / diag[size - 1]
        for q in range(size - 2, -1, -1):
            second[q + 2] = (right[q] - second[q + 3]) / diag[q]
    second[0] = 2.0 * second[1] - second[2]
    second[m - 1] = 2.0 * second[m - 2] - second[m - 3]
    return values, second


@numba.njit(cache=True, nogil=True)
def spline_at(values, second, phase):
    """The spline of :func:`wave_spline` at ``phase`` (in [0, 1))."""
    n = values.size - 2
    h = 1.0 / n
    k = int(np.floor(phase * n + 0.5))
    k = min(max(k, 0), n)
    x0 = (k - 0.5) / n
    b = (phase - x0) / h
    a = 1.0 - b
    return (a * values[k] + b * values[k + 1]
            + ((a * a * a - a) * second[k] + (b * b * b - b) * second[k + 1]) * (h * h) / 6.0)


# -- joint algorithm ---------------------------------------------------------------------------------

@numba.njit(cache=True, nogil=True)
def pixel_std(data):
    """Standard deviation over groups, (nints, ny, nx) float32, in float32 arithmetic as ``np.std(axis=1)``."""
    nints, ngroups, ny, nx = data.shape
    out = np.empty((nints, ny, nx), dtype=np.float32)
    count = np.float32(ngroups)
    for i in range(nints):
        for y in range(ny):
            for x in range(nx):
                total = np.float32(0.0)
                for g in range(ngroups):
                    total += data[i, g, y, x]
                mean = total / count
                squares = np.float32(0.0)
                for g in range(ngroups):
                    d = np.float32(data[i, g, y, x] - mean)
                    squares += d * d
                out[i, y, x] = np.sqrt(squares / count)
    return out


@numba.njit(cache=True, nogil=True)
def _median(values):
    """Median of a 1-D array (mean of the two middle values for an even size); NaN if any value is NaN."""
    n = values.size
    if n == 0:
        return np.nan
    for v in values:
        if np.isnan(v):
            return np.nan
    ordered = np.sort(values)
    half = n // 2
    if n % 2 == 1:
        return ordered[half]
    return (ordered[half - 1] + ordered[half]) / 2


@numba.njit(cache=True, nogil=True)
def scatter_threshold(std):
    """Twice the median of the per-pixel scatter (any shape, float32), float32: the joint fit's good-pixel cut."""
    flat = std.ravel()
    middle = _median(flat)
    return np.float32(2.0) * np.float32(middle)


@numba.njit(cache=True, nogil=True)
def accumulate_phased(data, pixeldq, threshold, y0, x0, nphases, rowclocks, nsamples, period):
    """Sum the ramps of good pixels of one block by the EMI phase of their first read.

    A pixel is used in integration i when its PIXELDQ is 0, its column group is not 1 or 2 and
    ``pixel_std < threshold``. Phase bin = ``int(frac((y * rowclocks + k * nsamples) / period) * nphases)``.
    Returns ``sums`` (nints, nphases, ngroups) float64 DN and ``counts`` (nints, nphases) float64; add the
    blocks' results for the whole exposure.
    """
    nints, ngroups, by, bx = data.shape
    sums = np.zeros((nints, nphases, ngroups))
    counts = np.zeros((nints, nphases))
    std = pixel_std(data)
    for j in range(by):
        for xx in range(bx):
            k = (x0 + xx) // 4
            if k == _BAD_COLUMN_GROUPS[0] or k == _BAD_COLUMN_GROUPS[1] or pixeldq[j, xx] != 0:
                continue
            start = float((y0 + j) * rowclocks + k * nsamples)
            index = int(((start / period) % 1.0) * nphases)
            for i in range(nints):
                if std[i, j, xx] < threshold:
                    counts[i, index] += 1.0
                    for g in range(ngroups):
                        sums[i, index, g] += data[i, g, j, xx]
    return sums, counts


@numba.njit(cache=True, nogil=True)
def _fit_terms(sums, counts, values, second, dphase):
    """Per integration and trial phase offset k: the quadratic coefficients of chi^2 in the amplitude.

    For trial offset ``k / PHASE_STEPS`` added to every bin's first-read phase, the wave z at each bin and
    group gives the linear-fit residual sum of squares ``chi2(c) = A c^2 + B c`` (+ const) of
    ``sums - c z`` weighted by ``counts``. Returns A, B (nints, PHASE_STEPS) float64.
    """
    nints, nphases, ngroups = sums.shape
    s_t = 0.0
    s_tt = 0.0
    for g in range(ngroups):
        s_t += g
        s_tt += g * g
    delta = ngroups * s_tt - s_t * s_t
    s_y = np.zeros((nints, nphases))
    s_ty = np.zeros((nints, nphases))
    for i in range(nints):
        for p in range(nphases):
            for g in range(ngroups):
                s_y[i, p] += sums[i, p, g]
                s_ty[i, p] += g * sums[i, p, g]
    template = np.empty((nphases, ngroups))
    for p in range(nphases):
        centre = ((p + 1) - 0.5) / nphases
        for g in range(ngroups):
            template[p, g] = (centre + g * dphase) % 1.0
    quad = np.zeros((nints, PHASE_STEPS))
    lin = np.zeros((nints, PHASE_STEPS))
    cross = np.zeros((nints, PHASE_STEPS))
    for k in range(PHASE_STEPS):
        offset = k * 1.0 / PHASE_STEPS
        for p in range(nphases):
            s_z = 0.0
            s_tz = 0.0
            s_zz = 0.0
            for g in range(ngroups):
                z = spline_at(values, second, (template[p, g] + offset) % 1.0)
                s_z += z
                s_tz += g * z
                s_zz += z * z
                for i in range(nints):
                    cross[i, k] += z * sums[i, p, g]
            for i in range(nints):
                quad[i, k] += counts[i, p] / delta * (-s_tt * s_z ** 2 + 2 * s_t * s_z * s_tz
                                                     - ngroups * s_tz ** 2 + s_zz * delta)
                lin[i, k] += (s_tt * s_z * s_y[i, p] - s_t * s_tz * s_y[i, p]
                              - s_t * s_z * s_ty[i, p] + ngroups * s_tz * s_ty[i, p])
    for i in range(nints):
        for k in range(PHASE_STEPS):
            lin[i, k] = (2 / delta) * lin[i, k] - 2 * cross[i, k]
    return quad, lin


@numba.njit(cache=True, nogil=True)
def _chisq_amplitude(quad, lin, phase, first, last, dphase_frame):
    """Best chi^2 and amplitude at ``phase`` for integrations first..last-1 (upstream grid look-up)."""
    a = 0.0
    b = 0.0
    for i in range(first, last):
        shift = dphase_frame * i
        best = 0
        best_distance = np.inf
        for k in range(PHASE_STEPS):
            distance = abs(((k * 1.0 / PHASE_STEPS) - phase - shift) % 1.0)
            if distance < best_distance:
                best_distance = distance
                best = k
        a += quad[i, best]
        b += lin[i, best]
    if abs(a) <= 1e-8 or not np.isfinite(a) or not np.isfinite(b):
        return np.nan, 0.0
    c = -b / (2 * a)
    return a * c * c + b * c, c


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _best_phase(chisq):
    """Vertex of the parabola through the lowest chi^2 and its two (wrapped) neighbours on the phase grid."""
    n = chisq.size
    best = -1
    for k in range(n):
        if np.isfinite(chisq[k]) and (best < 0 or chisq[k] < chisq[best]):
            best = k
    if best < 0:
        return 0.0
    before = best - 1 if best > 0 else n - 1
    after = best + 1 if best < n - 1 else 0
    x = np.array([before * 1.0 / n, best * 1.0 / n, after * 1.0 / n])
    y = np.array([chisq[before], chisq[best], chisq[after]])
    if not (np.isfinite(y[0]) and np.isfinite(y[2])):
        return x[1]
    if y[0] == y[1] and y[1] == y[2]:
        return x[1]
    slope01 = (y[1] - y[0]) / (x[1] - x[0])
    slope12 = (y[2] - y[1]) / (x[2] - x[1])
    curvature = (slope12 - slope01) / (x[2] - x[0])
    linear = slope01 - curvature * (x[0] + x[1])
    return -linear / (2 * curvature)


@numba.njit(cache=True, nogil=True)
def fit_joint(sums, counts, values, second, dphase, dphase_frame, separate_integrations):
    """Phase and amplitude (DN) of the wave for each integration, from :func:`accumulate_phased` sums.

    ``dphase``: phase step between groups, ``frac(frame_samples / period)``; ``dphase_frame``: phase step
    between integrations, ``dphase * ngroups + reset_samples / period``. One phase and amplitude fit to all
    integrations (phases then step by ``dphase_frame``), or one per integration. Returns phases (nints,)
    (of column group 0, row 0, group 0) and amplitudes (nints,), float64.
    """
    nints = sums.shape[0]
    quad, lin = _fit_terms(sums, counts, values, second, dphase)
    phases = np.empty(nints)
    amplitudes = np.empty(nints)
    chisq = np.empty(PHASE_STEPS)
    if separate_integrations:
        for i in range(nints):
            for k in range(PHASE_STEPS):
                chisq[k] = _chisq_amplitude(quad, lin, k * 1.0 / PHASE_STEPS, i, i + 1, dphase_frame)[0]
            best = _best_phase(chisq)
            phases[i] = best + i * dphase_frame
            amplitudes[i] = _chisq_amplitude(quad, lin, best, i, i + 1, dphase_frame)[1]
        return phases, amplitudes
    for k in range(PHASE_STEPS):
        chisq[k] = _chisq_amplitude(quad, lin, k * 1.0 / PHASE_STEPS, 0, nints, dphase_frame)[0]
    best = _best_phase(chisq)
    amplitude = _chisq_amplitude(quad, lin, best, 0, nints, dphase_frame)[1]
    for i in range(nints):
        phases[i] = (best + i * dphase_frame) % 1.0
        amplitudes[i] = amplitude
    return phases, amplitudes


@numba.njit(cache=True, nogil=True)
def subtract_wave(data, y0, x0, values, second, rowclocks, nsamples, period, dphase, phases, amplitudes):
    """``data - amplitude[i] * wave(phase)`` for one block (float32 out), phases from :func:`fit_joint`."""
    nints, ngroups, by, bx = data.shape
    out = np.empty(data.shape, dtype=np.float32)
    for j in range(by):
        for xx in range(bx):
            k = (x0 + xx) // 4
            start = float((y0 + j) * rowclocks + k * nsamples)
            first = (start / period) % 1.0
            for i in range(nints):
                for g in range(ngroups):
                    phase = ((first + dphase * g) + phases[i]) % 1.0
                    wave = spline_at(values, second, phase)
                    out[i, g, j, xx] = np.float32(np.float64(data[i, g, j, xx]) - amplitudes[i] * wave)
    return out


# -- sequential algorithm ----------------------------------------------------------------------------

def rebinned_size(n: int, length: float) -> int:
    """Samples :func:`rebin_nearest` returns when ``n`` values are resampled to ``length``."""
    step = float(n) / length
    return math.ceil(n / step)


@numba.njit(cache=True, nogil=True)
def rebin_nearest(values, length):
    """Nearest-lower resampling to a (float) ``length`` (IDL ``congrid``): ``values[int(i * n / length)]``.

    Has ``ceil(n / (n / length))`` samples (``ceil(length)`` up to rounding), as upstream's ``rebin``.
    """
    n = values.size
    step = float(n) / length
    size = math.ceil(n / step)
    out = np.empty(size)
    for i in range(size):
        out[i] = values[min(int(i * step), n - 1)]
    return out


@numba.njit(cache=True, nogil=True)
def _clipped_mean(values):
    """Mean after iterative 3-sigma clipping about the median (astropy ``sigma_clipped_stats`` defaults)."""
    kept = values[np.isfinite(values)].copy()
    for _ in range(5):
        size = kept.size
        if size == 0:
            break
        centre = _median(kept)
        std = np.sqrt(np.mean((kept - np.mean(kept)) ** 2))
        low = centre - std * 3.0
        high = centre + std * 3.0
        kept = kept[(kept >= low) & (kept <= high)]
        if kept.size == size:
            break
    if kept.size == 0:
        return np.nan
    return np.mean(kept)


@numba.njit(cache=True, error_model="numpy", nogil=True)
def _cleaned_channel_means(data):
    """One integration with source and bias removed, 4 outputs averaged, each frame's median subtracted.

    ``data`` (ngroups, ny, nx) float32 -> (ngroups, ny, nx // 4) float64 (float32 values, as upstream).
    Slope: least squares over groups 1 .. ngroups-2; bias: their median (minimum for <= 2 groups).
    """
    ngroups, ny, nx = data.shape
    nx4 = nx // 4
    used = ngroups - 2
    slope = np.zeros((ny, nx))
    s_x = 0.0
    s_xx = 0.0
    for c in range(used):
        s_x += float(c)
        s_xx += float(c) ** 2
    for y in range(ny):
        for x in range(nx):
            s_xy = 0.0
            s_y = 0.0
            for c in range(used):
                s_xy += float(c) * data[c + 1, y, x]
                s_y += data[c + 1, y, x]
            slope[y, x] = (used * s_xy - s_x * s_y) / (used * s_xx - s_x * s_x)
    work = np.empty((ngroups, ny, nx), dtype=np.float32)
    for g in range(ngroups):
        for y in range(ny):
            for x in range(nx):
                work[g, y, x] = np.float32(data[g, y, x] - slope[y, x] * g)
    bias = np.empty((ny, nx), dtype=np.float32)
    column = np.empty(max(used, 1), dtype=np.float32)
    for y in range(ny):
        for x in range(nx):
            for c in range(used):
                column[c] = work[c + 1, y, x]
            if used <= 2:
                bias[y, x] = np.nanmin(column[:used])
            else:
                bias[y, x] = np.float32(_nan_median32(column[:used]))
    out = np.empty((ngroups, ny, nx4))
    frame = np.empty((ny, nx4), dtype=np.float32)
    for g in range(ngroups):
        for y in range(ny):
            for k in range(nx4):
                total = np.float32(work[g, y, 4 * k] - bias[y, 4 * k])
                for c in range(1, 4):
                    total += np.float32(work[g, y, 4 * k + c] - bias[y, 4 * k + c])
                frame[y, k] = total / np.float32(4.0)
            fix = (frame[y, 0] + frame[y, 3]) / np.float32(2.0)
            frame[y, 1] = fix
            frame[y, 2] = fix
        middle = np.float32(_median(frame.ravel()))
        for y in range(ny):
            for k in range(nx4):
                out[g, y, k] = np.float32(frame[y, k] - middle)
    return out


@numba.njit(cache=True, nogil=True)
def _nan_median32(values):
    """Median ignoring NaN (float32 mean of the two middle values); NaN when all are NaN."""
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return np.nan
    ordered = np.sort(finite)
    half = ordered.size // 2
    if ordered.size % 2 == 1:
        return ordered[half]
    return np.float32(ordered[half - 1] + ordered[half]) / np.float32(2.0)


@numba.njit(cache=True, nogil=True)
def _phase_bin(phase, nbins):
    """Bin b with b / nbins < phase <= (b + 1) / nbins, or -1 (phase 0 belongs to no bin, as upstream)."""
    guess = int(phase * nbins)
    for b in range(guess - 1, guess + 2):
        if 0 <= b < nbins and phase > b / nbins and phase <= (b + 1) / nbins:
            return b
    return -1


@numba.njit(cache=True, nogil=True)
def phased_waveform(data, rowclocks, frame_samples, int_samples, nsamples, period, nbins, shifted_group):
    """The phased waveform (nbins,) float64 DN of the integrations in ``data`` (nints_to_phase, ngroups, ny, nx).

    Each integration is cleaned (:func:`_cleaned_channel_means`); every (group, row, column group) value is
    binned by its read phase ``frac(t / period)``; bin value = sigma-clipped mean; the median over bins is
    subtracted (NaN everywhere if any bin is empty). ``shifted_group``: column group read 3 samples late
    (the right reference column of a full frame), -1 for none.
    """
    nints, ngroups, ny, nx = data.shape
    nx4 = nx // 4
    total = nints * ngroups * ny * nx4
    values = np.empty(total)
    bins = np.empty(total, dtype=np.int64)
    n = 0
    for i in range(nints):
        cleaned = _cleaned_channel_means(data[i])
        for g in range(ngroups):
            for y in range(ny):
                for k in range(nx4):
                    t = read_sample(i, g, y, k, int_samples, frame_samples, rowclocks, nsamples)
                    if k == shifted_group:
                        t += 3
                    cycles = t / period
                    values[n] = cleaned[g, y, k]
                    bins[n] = _phase_bin(cycles - np.floor(cycles), nbins)
                    n += 1
    counts = np.zeros(nbins + 1, dtype=np.int64)
    for q in range(n):
        if bins[q] >= 0:
            counts[bins[q] + 1] += 1
    starts = np.cumsum(counts)
    ordered = np.empty(starts[-1])
    fill = starts[:-1].copy()
    for q in range(n):
        if bins[q] >= 0:
            ordered[fill[bins[q]]] = values[q]
            fill[bins[q]] += 1
    waveform = np.empty(nbins)
    for b in range(nbins):
        waveform[b] = _clipped_mean(ordered[starts[b]:starts[b + 1]])
    return waveform - _median(waveform)


@numba.njit(cache=True, nogil=True)
def _correlation(x, y):
    """Pearson correlation of two equal-length arrays (NaN when either is constant or holds NaN)."""
    mx = np.mean(x)
    my = np.mean(y)
    sxy = 0.0
    sxx = 0.0
    syy = 0.0
    for q in range(x.size):
        sxy += (x[q] - mx) * (y[q] - my)
        sxx += (x[q] - mx) ** 2
        syy += (y[q] - my) ** 2
    if sxx == 0.0 or syy == 0.0:
        return np.nan
    return max(-1.0, min(1.0, sxy / np.sqrt(sxx * syy)))


@numba.njit(cache=True, nogil=True)
def lookup_table(waveform, period, reference, scale_reference):
    """Noise per sample of one period (about ``ceil(period)`` samples), float64 DN.

    Without a reference (``reference.size == 0``) the waveform itself, resampled to the period. With one,
    the reference rolled by the shift that best correlates it with the waveform, resampled to the period,
    and (``scale_reference``) scaled by the least-squares slope of the waveform's table against it.
    """
    table = rebin_nearest(waveform, period)
    n = reference.size
    if n == 0:
        return table
    resampled = rebin_nearest(waveform, float(n))
    best = 0
    best_value = -np.inf
    rolled = np.empty(n)
    for shift in range(n):
        for q in range(n):
            rolled[q] = reference[(q - shift) % n]
        value = _correlation(rolled, resampled)
        if np.isnan(value):  # numpy's argmax stops at the first NaN
            best = shift
            break
        if value > best_value:
            best_value = value
            best = shift
    for q in range(n):
        rolled[q] = reference[(q - best) % n]
    matched = rebin_nearest(rolled, period)
    if not scale_reference:
        return matched
    size = min(matched.size, table.size)
    mx = np.mean(matched[:size])
    my = np.mean(table[:size])
    sxy = 0.0
    sxx = 0.0
    for q in range(size):
        sxy += (matched[q] - mx) * (table[q] - my)
        sxx += (matched[q] - mx) ** 2
    return matched * (sxy / sxx) if sxx != 0.0 else matched * np.nan


@numba.njit(cache=True, nogil=True)
def subtract_lookup(data, y0, x0, table, rowclocks, frame_samples, int_samples, nsamples, period,
                    shifted_group):
    """``data - table[int(frac(t / period) * period)]`` for one block (float32 out); non-finite noise = 0."""
    nints, ngroups, by, bx = data.shape
    out = np.empty(data.shape, dtype=np.float32)
    last = table.size - 1
    for i in range(nints):
        for g in range(ngroups):
            for j in range(by):
                for xx in range(bx):
                    k = (x0 + xx) // 4
                    t = read_sample(i, g, y0 + j, k, int_samples, frame_samples, rowclocks, nsamples)
                    if k == shifted_group:
                        t += 3
                    cycles = t / period
                    noise = table[min(int((cycles - np.floor(cycles)) * period), last)]
                    if not np.isfinite(noise):
                        noise = 0.0
                    out[i, g, j, xx] = np.float32(np.float64(data[i, g, j, xx]) - noise)
    return out
