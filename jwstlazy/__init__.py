"""jwstlazy: the JWST calibration pipeline as a lazy, chunked, distributed array pipeline."""

from __future__ import annotations

__version__ = "0.1.0"

from jwstlazy.errors import JwstLazyInputError, MissingReferenceError  # noqa: E402
from jwstlazy.datamodels import open  # noqa: E402,A004

__all__ = ["JwstLazyInputError", "MissingReferenceError", "__version__", "open"]
