"""The pipelines the ``jwstlazy run PIPELINE`` command knows, by name."""

from __future__ import annotations

from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.graphs.image2 import Image2Pipeline
from jwstlazy.graphs.pipeline import Pipeline

PIPELINES: dict[str, type[Pipeline]] = {
    "detector1": Detector1Pipeline,
    "image2": Image2Pipeline,
}
