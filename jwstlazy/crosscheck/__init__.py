"""Cross-checks against the official JWST pipeline (optional; needs the ``crosscheck`` extra).

Only ``tests/crosscheck`` and ``benchmarks`` use this package. Its modules import ``jwst``, ``crds`` and
``stdatamodels`` lazily, inside functions, so importing :mod:`jwstlazy.crosscheck` never needs them.

- :mod:`jwstlazy.crosscheck.official`: run the official Detector1 / Image2 pipelines offline (a hand-made
  minimal CRDS cache, every reference type overridden), in this process or in a fresh one that reports
  per-step wall times and peak RSS.
"""

from __future__ import annotations

from jwstlazy.crosscheck.official import (
    DETECTOR1_DEFAULT_SKIPS,
    OfficialRunResult,
    offline_crds_environment,
    offline_official,
    run_official_detector1,
    run_official_detector1_subprocess,
    run_official_image2,
    run_official_image2_subprocess,
)

__all__ = [
    "DETECTOR1_DEFAULT_SKIPS",
    "OfficialRunResult",
    "offline_crds_environment",
    "offline_official",
    "run_official_detector1",
    "run_official_detector1_subprocess",
    "run_official_image2",
    "run_official_image2_subprocess",
]
