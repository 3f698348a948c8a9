"""jwstlazy: the JWST calibration pipeline as a lazy, chunked, distributed array pipeline."""

from __future__ import annotations

__version__ = "0.1.0"

from jwstlazy.allocator import tune_allocator  # noqa: E402

tune_allocator()  # before numpy and its threads allocate: glibc's arena limit binds only threads that come later

from jwstlazy.errors import JwstLazyInputError, MissingReferenceError  # noqa: E402
from jwstlazy.datamodels import open  # noqa: E402,A004

__all__ = ["JwstLazyInputError", "MissingReferenceError", "__version__", "open", "run"]


def __getattr__(name: str):
    """``jwstlazy.run`` is imported on first use (it pulls in the pipelines and their kernels)."""
    if name == "run":
        from jwstlazy.graphs.execute import run

        return run
    raise AttributeError(f"module 'jwstlazy' has no attribute {name!r}")
