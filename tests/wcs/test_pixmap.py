"""PixelMap: the coarse-grid bicubic pixel map against the exact gwcs → output-grid transform."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from astropy.modeling import Model
from astropy.modeling.models import Identity, Shift

from jwstlazy.wcs import footprint, imaging_wcs, output_grid
from jwstlazy.wcs.pixmap import PixelMap


@pytest.mark.parametrize(("instrument", "detector", "siaf", "name", "rotation", "ratio"), [
    ("NIRCAM", "NRCA1", "NIRCam", "NRCA1_FULL", 0.0, 1.0),
    ("NIRCAM", "NRCBLONG", "NIRCam", "NRCB5_FULL", 0.0, 0.5),
    ("MIRI", "MIRIMAGE", "MIRI", "MIRIM_FULL", 30.0, 1.0),
])
def test_spline_map_matches_the_exact_transform(instrument, detector, siaf, name, rotation, ratio,
                                                aperture, pointing_attrs):
    full = aperture(siaf, name)
    wcs = imaging_wcs(pointing_attrs(instrument, detector, full))
    shape = (full.YSciSize, full.XSciSize)
    scale = 0.031 if instrument == "NIRCAM" and detector == "NRCA1" else (0.063 if instrument == "NIRCAM" else 0.11)
    grid = output_grid([footprint(wcs, shape)], scale * ratio, rotation)
    transform = wcs.forward_transform | grid.pixel_to_sky().inverse
    pixmap = PixelMap.fit(transform, shape)
    assert not pixmap.exact and pixmap.step == 16 and pixmap.max_error < 1e-4

    # every 7th pixel (off the knots), and the array edges, against the exact transform
    for y0, y1, x0, x1, stride in [(3, shape[0], 5, shape[1], 7), (0, 1, 0, shape[1], 1),
                                   (shape[0] - 1, shape[0], 0, shape[1], 1), (0, shape[0], shape[1] - 1, shape[1], 1)]:
        approx = pixmap.block(y0, y1, x0, x1, stride)
        gx, gy = np.meshgrid(np.arange(x0, x1, stride, dtype=float), np.arange(y0, y1, stride, dtype=float))
        exact = np.stack(transform(gx, gy))
        assert np.abs(approx - exact).max() < 1e-3  # brief: < 0.01 pixel; measured ~1e-8
    # one input pixel spans ~1/ratio output pixels
    assert 0.9 / ratio < pixmap.max_output_step < 1.6 / ratio  # |cos| + |sin| of the relative rotation
    # picklable (dask tasks on other workers evaluate their own blocks)
    again = pickle.loads(pickle.dumps(pixmap))
    assert np.array_equal(again.block(10, 20, 30, 45), pixmap.block(10, 20, 30, 45))


class _wiggle(Model):
    """A map with structure on a ~10-pixel scale that a 16-pixel spline cannot follow."""

    n_inputs = 2
    n_outputs = 2

    @staticmethod
    def evaluate(x, y):
        return x + 0.3 * np.sin(x / 1.7), y + 0.3 * np.cos(y / 2.3)


class _nan_corner(Model):
    n_inputs = 2
    n_outputs = 2

    @staticmethod
    def evaluate(x, y):
        return np.where((x > 200) & (y > 200), np.nan, x), y


def test_step_is_refined_or_the_map_falls_back_to_exact():
    shape = (256, 300)
    wiggly = PixelMap.fit(_wiggle(), shape)
    assert wiggly.exact or wiggly.step < 16
    exact = np.stack(_wiggle()(*np.meshgrid(np.arange(300.0), np.arange(256.0))))
    assert np.abs(wiggly.block(0, 256, 0, 300) - exact).max() < 1e-4

    nan = PixelMap.fit(_nan_corner(), shape)
    assert nan.exact and np.isnan(nan.block(250, 256, 250, 300)[0]).all()

    smooth = PixelMap.fit((Shift(2.5) & Shift(-1.0)) | (Identity(1) & Identity(1)), (5, 4))
    assert np.allclose(smooth.block(0, 5, 0, 4)[0], np.arange(4.0) + 2.5)
