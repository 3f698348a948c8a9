"""peak_rss_bytes: this process's own peak, not a parent's carried over by ru_maxrss."""

import subprocess
import sys

import numpy as np

from jwstlazy.peak_memory import peak_rss_bytes

_CHILD = """
import sys
import numpy as np
from jwstlazy.peak_memory import peak_rss_bytes
block = np.ones(int(sys.argv[1]), dtype=np.uint8)  # touched
print(peak_rss_bytes())
"""


def _child_peak(touch_bytes: int) -> int:
    output = subprocess.run([sys.executable, "-c", _CHILD, str(touch_bytes)], capture_output=True, text=True, check=True)
    return int(output.stdout)


def test_peak_counts_what_the_process_touches():
    assert _child_peak(768 * 2**20) - _child_peak(0) > 700 * 2**20


def test_child_does_not_inherit_the_parent_peak():
    ballast = np.ones(2 * 2**30, dtype=np.uint8)  # the parent's peak is at least 2 GiB
    assert _child_peak(0) < ballast.nbytes // 2


def test_peak_of_another_process():
    child = subprocess.Popen([sys.executable, "-c", "import numpy as np, sys; b = np.ones(512 * 2**20, np.uint8); "
                              "print('ready', flush=True); sys.stdin.readline()"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        assert 512 * 2**20 < peak_rss_bytes(child.pid) < 1024 * 2**20  # the child's block and interpreter
    finally:
        child.communicate("\n")
