"""Numba kernels for the per-pixel work; importing the package first drops cached kernels built from older sources."""

from jwstlazy.kernels.cache import drop_stale_cache

drop_stale_cache()
