"""Pipelines, program graphs, schedulers, progress and product writing."""

from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.graphs.execute import ProgramFailed, ProgramResult, run_program
from jwstlazy.graphs.pipeline import Pipeline

__all__ = ["Detector1Pipeline", "Pipeline", "ProgramFailed", "ProgramResult", "run_program"]
