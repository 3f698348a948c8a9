"""detector1 step tests: make ``ramp_helpers`` importable by name (tests run with --import-mode=importlib)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
