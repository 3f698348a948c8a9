"""Tests for jwstlazy.kernels.charge_migration."""

import numpy as np
import pytest

from jwstlazy.datamodels.dqflags import CHARGELOSS, DO_NOT_USE, SATURATED
from jwstlazy.kernels.charge_migration import CHARGE_MIGRATION_HALO, flag_charge_migration

CHLO_DNU = CHARGELOSS | DO_NOT_USE


def reference_charge_migration(data, gdq, threshold):
    """Slow, literal version: every trigger flags itself and its 4 neighbours from its group on."""
    out = gdq.copy()
    nints, ngroups, ny, nx = data.shape
    for i, g, y, x in zip(*np.nonzero((data > np.float32(threshold)) & (gdq != DO_NOT_USE))):
        for yy, xx in ((y, x), (y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= yy < ny and 0 <= xx < nx:
                out[i, g:, yy, xx] |= CHLO_DNU
    return out


def _random_case(rng, nints=2, ngroups=5, ny=19, nx=17):
    rates = rng.uniform(0, 9000, (ny, nx)).astype(np.float32)
    g = np.arange(1, ngroups + 1, dtype=np.float32)[None, :, None, None]
    data = (rates[None, None] * g + rng.normal(0, 10, (nints, ngroups, ny, nx))).astype(np.float32)
    data[0, 1, 4, 4] = np.nan
    gdq = rng.choice(np.array([0, 0, 0, 0, DO_NOT_USE, SATURATED, DO_NOT_USE | SATURATED, 4], np.uint8),
                     size=data.shape)
    return data, gdq


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_reference_on_random_data(seed):
    data, gdq = _random_case(np.random.default_rng(seed))
    np.testing.assert_array_equal(flag_charge_migration(data, gdq, 25000.0),
                                  reference_charge_migration(data, gdq, 25000.0))


def test_hand_computed():
    data = np.zeros((1, 4, 4, 4), np.float32)
    data[0, 2:, 1, 1] = 30000.0  # trigger from group 2
    data[0, 1, 3, 3] = 30000.0  # trigger in group 1, corner pixel
    data[0, 0, 0, 3] = 30000.0  # not a trigger: its group is exactly DO_NOT_USE
    data[0, 0, 2, 3] = 25000.0  # not above the threshold
    gdq = np.zeros(data.shape, np.uint8)
    gdq[0, 0, 0, 3] = DO_NOT_USE
    out = flag_charge_migration(data, gdq)
    for y, x in ((1, 1), (0, 1), (2, 1), (1, 0), (1, 2)):
        assert list(out[0, :, y, x]) == [0, 0, CHLO_DNU, CHLO_DNU], (y, x)
    assert not out[0, :, 0, 0].any() and not out[0, :, 2, 2].any()  # diagonals untouched
    for y, x in ((3, 3), (2, 3), (3, 2)):
        assert list(out[0, :, y, x]) == [0, CHLO_DNU, CHLO_DNU, CHLO_DNU], (y, x)
    assert out[0, 0, 0, 3] == DO_NOT_USE and not out[0, 1:, 0, 3].any()
    assert not out[0, :, 1, 3].any()


def test_chunk_with_halo_matches_whole_array():
    data, gdq = _random_case(np.random.default_rng(5), ny=30, nx=20)
    whole = flag_charge_migration(data, gdq, 20000)
    h = CHARGE_MIGRATION_HALO
    y0, y1, x0, x1 = 10, 20, 5, 12
    part = flag_charge_migration(data[..., y0 - h:y1 + h, x0 - h:x1 + h], gdq[..., y0 - h:y1 + h, x0 - h:x1 + h],
                                 20000)
    np.testing.assert_array_equal(part[..., h:-h, h:-h], whole[..., y0:y1, x0:x1])


@pytest.mark.crosscheck
def test_crosscheck_jwst():
    cm = pytest.importorskip("jwst.charge_migration.charge_migration")
    from stdatamodels.jwst import datamodels

    data, gdq = _random_case(np.random.default_rng(9))
    model = datamodels.RampModel(data=data.copy(), groupdq=gdq.copy(), pixeldq=np.zeros(data.shape[2:], np.uint32))
    want = cm.charge_migration(model, 25000.0).groupdq
    np.testing.assert_array_equal(flag_charge_migration(data, gdq, 25000.0), want)
