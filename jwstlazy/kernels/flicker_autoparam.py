"""clean_flicker_noise ``autoparam``: background method and fit-by-channel chosen from a draft rate image.

jwst 3.0's ``autoparam.nircam_image_parameters`` / ``niriss_image_parameters`` (NRC_IMAGE and NIS_IMAGE):

1. ``quick_clean``: the draft rate (divided by the flat when there is one) with a scene mask (3 sigma below,
   2 above, sigma-clipped statistics), NaN set to 0 and masked, the median background removed (after a 3-sigma
   lower-half clip), clipped again (lower half, 3/2 sigma), median-cleaned along the slow axis (one channel),
   the background restored.
2. Statistics of the cleaned image: a 2-D background model (photutils, as ``background_method='model'``; its
   clip also updates the mask) replaces the masked pixels; the masked fraction; the mean over the middle
   quarter of rows (per column) and of columns (per row); a line fitted to each gives the column and row
   slopes (and, for NIRCam, the residual sigma of the per-column means; for NIRISS that of rows 10/12-11/12 of
   the image, its channel 1); the largest offset between the 4 channels' clipped means of the per-column
   (NIRCam) or per-row (NIRISS) means, for 2048-pixel axes.
3. A decision tree on those numbers (limits per instrument) gives ``background_method`` ('median' or 'model')
   and ``fit_by_channel``; ``apply_flat_field`` is True when a flat was given.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from jwstlazy.kernels.clean_flicker_noise import (
    _SIGMA_LIMIT,
    _clip_to_background,
    _clipped_background_model,
    _line_medians,
    channel_layout,
)

__all__ = ["AUTOPARAM_EXP_TYPES", "auto_parameters", "quick_clean", "image_statistics", "decide"]

#: Exposure types autoparam applies to, and their decision limits (upstream's).
AUTOPARAM_EXP_TYPES = ("NRC_IMAGE", "NIS_IMAGE")
LIMITS = {
    "NRC_IMAGE": {"mask_frac": 0.1, "max_offset_high_mask": 0.07, "max_slope_low_offset": 1e-5,
                  "max_slope_high_offset": 1e-5, "slope_ratio": 3.0, "channel_sigma": 0.02},
    "NIS_IMAGE": {"mask_frac": 0.07, "max_offset_high_mask": 0.07, "max_slope_low_offset": 1e-5,
                  "max_slope_high_offset": 1e-4, "slope_ratio": 5.0, "channel_sigma": 0.02},
}  # fmt: skip


def quick_clean(rate: np.ndarray, axis_to_correct: int, flat: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Step 1: (cleaned (ny, nx) float32, background mask (ny, nx) bool) from a draft rate (DN/s)."""
    image = np.array(rate, dtype=np.float32)
    if flat is not None:
        image /= flat
    mask = np.ones(image.shape, dtype=bool)
    _clip_to_background(image, mask, 3.0, 2.0, False)
    nan = np.isnan(image)
    image[nan] = 0.0
    mask[nan] = False
    _clip_to_background(image, mask, _SIGMA_LIMIT, _SIGMA_LIMIT, True)
    background = np.nanmedian(image[mask])
    image -= background
    _clip_to_background(image, mask, 3.0, 2.0, True)
    array_axis = int(axis_to_correct) - 1
    _, channel = channel_layout(image.shape, axis_to_correct, False)
    stripes = np.zeros((1, image.shape[0] if array_axis == 1 else image.shape[1]), dtype=np.float32)
    _line_medians(image, mask, array_axis, 1, channel, stripes)
    image -= stripes[0][:, None] if array_axis == 1 else stripes[0][None, :]
    image += background
    image[nan] = np.nan
    return image, mask


def _line_fit(data: np.ndarray) -> tuple[float, float]:
    """(slope, sigma of the residuals, 10-sigma clipped) of a line fitted to the finite values of ``data``."""
    from astropy.stats import sigma_clipped_stats

    good = np.isfinite(data)
    x = np.arange(data.size)
    fit = np.polynomial.Polynomial.fit(x[good], data[good], deg=1)
    coefficients = fit.convert().coef
    slope = coefficients[1] if len(coefficients) > 1 else 0.0
    return slope, sigma_clipped_stats(data[good] - fit(x[good]), sigma=10.0)[2]


def _max_channel_offset(means: np.ndarray) -> float:
    """The largest |difference| between neighbouring channels' 3-sigma clipped means (0 unless 2048 long)."""
    from astropy.stats import sigma_clipped_stats

    if means.size != 2048:
        return 0.0
    levels = np.array([sigma_clipped_stats(means[c * 512:(c + 1) * 512], sigma=3.0)[0] for c in range(4)])
    return float(np.max(np.abs(levels[1:] - levels[:-1])))


def _middle_mean(image: np.ndarray, axis: int, start: Fraction, stop: Fraction) -> np.ndarray:
    """Mean over ``axis``'s section [start, stop) (fractions of its length), NaN ignored."""
    n = image.shape[axis]
    section = slice(int(round(start * n)), int(round(stop * n)))
    return np.nanmean(image[section, :] if axis == 0 else image[:, section], axis=axis)


def image_statistics(cleaned: np.ndarray, mask: np.ndarray, exp_type: str) -> dict[str, float]:
    """Step 2: mask_frac, max_offset, max_slope, slope_ratio, channel_sigma of a quick-cleaned image (both
    arguments are changed: masked pixels get the background model; the model's clip updates the mask)."""
    background = _clipped_background_model(cleaned, mask, None)
    cleaned[~mask] = background if np.isscalar(background) or np.ndim(background) == 0 else background[~mask]
    mask_frac = np.sum(~mask) / mask.size
    over_rows = _middle_mean(cleaned, 0, Fraction(3, 8), Fraction(5, 8))  # per column
    over_columns = _middle_mean(cleaned, 1, Fraction(3, 8), Fraction(5, 8))  # per row
    column_slope, channel_sigma = _line_fit(over_rows)
    row_slope, _ = _line_fit(over_columns)
    slopes = np.abs([row_slope, column_slope])
    with np.errstate(divide="ignore", invalid="ignore"):
        slope_ratio = np.max(slopes) / np.min(slopes)
    if exp_type == "NIS_IMAGE":  # channel 1 of NIRISS can differ from the others: rows 10/12-11/12
        _, channel_sigma = _line_fit(_middle_mean(cleaned, 0, Fraction(10, 12), Fraction(11, 12)))
        max_offset = _max_channel_offset(over_columns)
    else:
        max_offset = _max_channel_offset(over_rows)
    return {"mask_frac": float(mask_frac), "max_offset": max_offset, "max_slope": float(np.max(slopes)),
            "slope_ratio": float(slope_ratio), "channel_sigma": float(channel_sigma)}  # fmt: skip


def decide(stats: dict[str, float], limits: dict[str, float]) -> tuple[str, bool]:
    """Step 3: (background_method, fit_by_channel) from the statistics, upstream's decision tree."""
    high_mask = stats["mask_frac"] >= limits["mask_frac"]
    high_offset = stats["max_offset"] >= limits["max_offset_high_mask"]
    steep_low = stats["max_slope"] >= limits["max_slope_low_offset"]
    steep_high = stats["max_slope"] >= limits["max_slope_high_offset"]
    if not high_mask and high_offset:
        return "median", True
    if high_mask:
        return ("model" if (steep_high if high_offset else steep_low) else "median"), False
    if steep_high:
        method = "model"
    elif steep_low:
        method = "median" if stats["slope_ratio"] >= limits["slope_ratio"] else "model"
    else:
        method = "median"
    return method, bool(stats["max_offset"] > 0 and stats["channel_sigma"] >= limits["channel_sigma"])


def auto_parameters(rate: np.ndarray, exp_type: str, axis_to_correct: int,
                    flat: np.ndarray | None = None) -> dict[str, object]:  # fmt: skip
    """The parameters autoparam sets for an NRC_IMAGE or NIS_IMAGE draft rate ((ny, nx) DN/s; ``flat`` from
    ``flat_for_fitting`` or None): apply_flat_field, background_method, fit_by_channel."""
    cleaned, mask = quick_clean(rate, axis_to_correct, flat)
    method, by_channel = decide(image_statistics(cleaned, mask, exp_type), LIMITS[exp_type])
    return {"apply_flat_field": flat is not None, "background_method": method, "fit_by_channel": by_channel}
