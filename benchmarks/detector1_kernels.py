import time, numpy as np
import numba
from jwstlazy.kernels.dq_init import initialize_dq
from jwstlazy.kernels.saturation import flag_saturation
from jwstlazy.kernels.superbias import subtract_superbias
from jwstlazy.kernels.linearity import correct_linearity
from jwstlazy.kernels.dark import resample_dark, subtract_dark
from jwstlazy.kernels.refpix import full_frame_offsets, split_reference_strips, subtract_offsets
from jwstlazy.kernels.refpix_miri import miri_reference_offsets, subtract_miri_offsets
from jwstlazy.kernels.group_scale import scale_groups
from jwstlazy.kernels.small_median import _median_by_selection, median_of_first
rng = np.random.default_rng(0)
shape = (1, 10, 2048, 2048)
data = (rng.random(shape, dtype=np.float32) * 30000 + 1000)
gdq = np.zeros(shape, np.uint8); pdq = np.zeros(shape[2:], np.uint32)
mask = np.zeros(shape[2:], np.uint32); thr = np.full(shape[2:], 25000, np.float32)
coeffs = np.zeros((5, 2048, 2048), np.float32); coeffs[1] = 1; coeffs[2] = 1e-6
inv = coeffs.copy(); inv[2] = -1e-6
dark = rng.random((40, 2048, 2048), dtype=np.float32)
bias = np.full(shape[2:], 100, np.float32)
def t(name, f, n=2):
    f(); best = 1e9
    for _ in range(n):
        t0 = time.perf_counter(); f(); best = min(best, time.perf_counter() - t0)
    print(f"{name:40s} {best:7.3f} s")
t("group_scale", lambda: scale_groups(data, 5, 4))
t("dq_init", lambda: initialize_dq(mask, shape))
t("saturation (grow 1, nframes=1)", lambda: flag_saturation(data, gdq, pdq, thr, mask, 1, 1, bias))
t("saturation (grow 1, nframes=4)", lambda: flag_saturation(data, gdq, pdq, thr, mask, 1, 4, bias))
t("superbias", lambda: subtract_superbias(data, pdq, bias, mask))
t("linearity classic (5 coeffs)", lambda: correct_linearity(data, gdq, pdq, coeffs, mask))
t("linearity read-level (nframes=4)", lambda: correct_linearity(data, gdq, pdq, coeffs, mask, inv, 4), 1)
t("dark resample (nframes=4, gap=0)", lambda: resample_dark(dark, 1, 10, 4, 0))
dk = resample_dark(dark, 1, 10, 1, 0)
t("dark subtract", lambda: subtract_dark(data, pdq, dk, mask))
s = split_reference_strips(data); q = split_reference_strips(pdq)
t("refpix NIR reduction (strips)", lambda: full_frame_offsets(*s, *q))
c, r = full_frame_offsets(*s, *q)
t("refpix NIR apply", lambda: subtract_offsets(data, c, r, True))
md = data[..., :1024, :1032].copy(); mq = pdq[:1024, :1032]
t("refpix MIRI reduction (1024x1032x10)", lambda: miri_reference_offsets(md[..., :4], md[..., 1028:], mq[:, :4], mq[:, 1028:]))
o = miri_reference_offsets(md[..., :4], md[..., 1028:], mq[:, :4], mq[:, 1028:])
t("refpix MIRI apply (1024x1032x10)", lambda: subtract_miri_offsets(md, o))

# Per-pixel medians of a time series' first differences (jump detection): the sample-bracketed selection
# that median_of_first uses from BRACKETED_MEDIAN values, against plain quickselect on the same values.
@numba.njit
def _medians(rows, work, bracketed):
    total = 0.0
    for row in rows:
        work[: row.size] = row
        total += median_of_first(work, row.size) if bracketed else _median_by_selection(work, row.size)
    return total


for n in (500, 4500):
    rows = rng.normal(20.0, 10.0, (2000, n)) + 1000.0 * (rng.random((2000, n)) < 0.002)
    work = np.empty(n)
    for label, bracketed in (("quickselect", False), ("median_of_first", True)):
        _medians(rows[:2], work, bracketed)
        start = time.perf_counter()
        _medians(rows, work, bracketed)
        print(f"{f'median of {n} values, {label}':40s} {(time.perf_counter() - start) / len(rows) * 1e6:7.1f} us")
