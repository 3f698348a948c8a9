"""The upstream persistence-array ASDF layout: write per detector, read back, ignore mismatches."""

import numpy as np

from jwstlazy.datamodels.persistence_array import read_persistence_array, write_persistence_array


def test_round_trip_per_detector_and_mismatches(tmp_path):
    a = np.zeros((4, 5)); a[1, 2] = 1.7e9; a[3, 0] = 1.8e9
    b = np.zeros((4, 5)); b[0, 0] = 1.6e9
    path = write_persistence_array(tmp_path / "pers.fits", "NRCA1", a, 300, filename="x_uncal.fits")
    assert path.suffix == ".asdf"
    write_persistence_array(path, "NRCB1", b, 300)  # adds a detector, keeps the first
    np.testing.assert_array_equal(read_persistence_array(path, "NRCA1", (4, 5), 300), a)
    np.testing.assert_array_equal(read_persistence_array(path, "NRCB1", (4, 5), 300), b)
    assert not read_persistence_array(path, "NRCA1", (4, 5), 200).any()  # other persistence_time
    assert not read_persistence_array(path, "NRCA2", (4, 5), 300).any()  # other detector
    assert not read_persistence_array(tmp_path / "none.asdf", "NRCA1", (4, 5), 300).any()
