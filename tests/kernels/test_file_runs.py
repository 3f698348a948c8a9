"""Tests for jwstlazy.kernels.file_runs: scattered reads and writes against Python's own file calls."""

import os

import numpy as np
import pytest

from jwstlazy.kernels import file_runs
from jwstlazy.kernels.file_runs import pread_runs, pwrite_runs

pytestmark = pytest.mark.skipif(not file_runs.AVAILABLE, reason="needs POSIX pread/pwrite")


def test_reads_and_writes_runs_at_scattered_positions(tmp_path):
    path = tmp_path / "bytes"
    content = np.random.default_rng(2).integers(0, 256, 50_000, dtype=np.uint8)
    path.write_bytes(content.tobytes())
    positions = np.array([40_000, 17, 3_000, 17, 49_990], dtype=np.int64)  # any order, repeats allowed
    buffer = np.zeros(len(positions) * 10, dtype=np.uint8)
    with open(path, "rb") as handle:
        assert pread_runs(handle.fileno(), buffer, 10, positions) == len(positions)
    np.testing.assert_array_equal(buffer.reshape(-1, 10), [content[p : p + 10] for p in positions])

    new = np.arange(30, dtype=np.uint8)
    with open(path, "r+b") as handle:
        assert pwrite_runs(handle.fileno(), new, 10, np.array([0, 25_000, 49_990])) == 3
    expected = content.copy()
    for run, position in enumerate((0, 25_000, 49_990)):
        expected[position : position + 10] = new[run * 10 : (run + 1) * 10]
    assert path.read_bytes() == expected.tobytes()


def test_stops_at_the_first_short_read(tmp_path):
    """A run past the end of the file is read short: the count says where the caller must take over."""
    path = tmp_path / "bytes"
    path.write_bytes(bytes(range(100)))
    buffer = np.zeros(30, dtype=np.uint8)
    with open(path, "rb") as handle:
        assert pread_runs(handle.fileno(), buffer, 10, np.array([0, 95, 10])) == 1
    np.testing.assert_array_equal(buffer[:10], np.arange(10))


def test_a_failed_call_stops_the_loop(tmp_path):
    path = tmp_path / "bytes"
    path.write_bytes(bytes(100))
    with open(path, "rb") as handle:  # read-only: every pwrite fails
        assert pwrite_runs(handle.fileno(), np.zeros(20, np.uint8), 10, np.array([0, 10])) == 0


def test_rejects_buffers_it_cannot_address(tmp_path):
    descriptor = os.open(tmp_path / "empty", os.O_CREAT | os.O_RDWR)
    try:
        with pytest.raises(ValueError, match="C-contiguous"):
            pread_runs(descriptor, np.zeros((4, 4), np.uint8)[:, ::2].reshape(-1)[::2], 1, np.array([0]))
        with pytest.raises(ValueError, match="too short"):
            pread_runs(descriptor, np.zeros(5, np.uint8), 4, np.array([0, 4]))
        assert pread_runs(descriptor, np.zeros(0, np.uint8), 4, np.array([], np.int64)) == 0
    finally:
        os.close(descriptor)
