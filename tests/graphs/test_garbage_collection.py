"""Runs leave the objects that existed before them out of garbage collections, and unfreeze them after."""

import gc
import weakref

import pytest

import jwstlazy
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.garbage_collection import objects_before_run_frozen


class _Node:
    pass


def test_objects_are_frozen_only_inside_the_block():
    gc.unfreeze()
    existing = len(gc.get_objects())
    with objects_before_run_frozen():
        frozen = gc.get_freeze_count()
        assert frozen >= existing * 0.9
        cycle = _Node()
        cycle.self = cycle  # garbage made during the run is still collected
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert alive() is None
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_a_failing_run_unfreezes_too(tmp_path):
    gc.unfreeze()
    with pytest.raises(JwstLazyInputError):
        jwstlazy.run("detector1", [tmp_path / "missing_uncal.fits"], tmp_path, scheduler="sync", progress=False)
    assert gc.get_freeze_count() == 0
