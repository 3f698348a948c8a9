"""Shared fixtures for the program-graph tests: toy exposures and one distributed cluster per module."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # workers (spawned with our sys.path) and tests import toy_pipeline by name


@pytest.fixture
def toy_exposures(tmp_path):
    """Six small uncal files in ``tmp_path / 'uncal'``."""
    from toy_pipeline import write_toy_uncal

    folder = tmp_path / "uncal"
    folder.mkdir()
    return [write_toy_uncal(folder / f"jw01000001001_0110{i}_00001_nrca1_uncal.fits", seed=i) for i in range(1, 7)]


@pytest.fixture(scope="session")
def simulated_program(tmp_path_factory):
    """A small simulated NIRCam program (2 detectors x 4 dithers, 64 x 64 pixels) with its references."""
    from jwstlazy.simulate import simulate_program

    folder = tmp_path_factory.mktemp("program")
    written = simulate_program("nircam-imaging", folder, seed=3, size="64")
    return {"folder": folder, "uncal": written["uncal"], "references": folder / "references"}
