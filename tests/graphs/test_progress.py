"""Tests of jwstlazy.graphs.progress: the exposure tally behind a cluster run's bar."""

from __future__ import annotations

from jwstlazy.graphs.progress import ExposureTally, describe


class _Bar:
    def __init__(self) -> None:
        self.n = 0

    def update(self, count: int) -> None:
        self.n += count


def test_an_exposure_counts_once_all_its_products_are_recorded():
    bar = _Bar()
    tally = ExposureTally(bar)
    tally.submitted("a_uncal.fits", 2)
    tally.submitted("b_uncal.fits", 2)
    tally.product_finished("a_uncal.fits")
    tally.product_finished("b_uncal.fits")
    assert bar.n == 0
    tally.product_finished("b_uncal.fits")
    assert bar.n == 1
    tally.exposures_finished(1)  # an exposure whose graph could not be built
    tally.product_finished("a_uncal.fits")
    assert bar.n == 3 and not tally.unfinished


def test_a_tally_without_a_bar_counts_quietly():
    tally = ExposureTally()
    tally.submitted("a_uncal.fits", 1)
    tally.product_finished("a_uncal.fits")
    tally.exposures_finished(2)
    assert not tally.unfinished


def test_labels_name_the_stage_and_its_size():
    assert describe("detector1", 1) == "detector1: 1 exposure"
    assert describe("image2", 8) == "image2: 8 exposures"
