"""Data models: products as lazy ``xarray.Dataset`` objects; FITS and zarr I/O; schemas; validation.

See ``docs/architecture.md`` ("Data models") for the conventions (dims, variable names, attrs).
"""

from __future__ import annotations

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels import schemas_stage2  # noqa: F401  (registers the i2d schema)
from jwstlazy.datamodels.fits_write import write_fits
from jwstlazy.datamodels.products import open
from jwstlazy.datamodels.summary import describe
from jwstlazy.datamodels.validate import validate
from jwstlazy.datamodels.zarr_io import write_zarr

__all__ = ["describe", "dqflags", "open", "validate", "write_fits", "write_zarr"]
