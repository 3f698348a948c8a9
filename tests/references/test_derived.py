"""Derived reference images: computed per pixel block from the file's block, cached on disk when asked."""

from __future__ import annotations

import functools
import os

import dask
import numpy as np
import pytest

from jwstlazy.references.derived import CACHE_CONFIG, cached_derivations, derived_image
from jwstlazy.references.loading import load_reference

BLOCKS = ((8, 8), (10, 10))  # the exposure's (y, x) pixel blocks: 4 blocks of a 16x20 frame


def _sum_planes(block: np.ndarray, scale: float) -> np.ndarray:
    """(nplanes, by, bx) -> (1, by, bx) float32: a stand-in derivation (picklable, as tasks need)."""
    return (scale * block.sum(axis=0, dtype=np.float64))[None].astype(np.float32)


@pytest.fixture
def cube(write_reference):
    """A 3-plane 16x20 DARK whose plane k holds (k + 1) * (1000 * y + x)."""
    planes = np.stack([(k + 1) * (1000 * np.mgrid[0:16, 0:20][0] + np.mgrid[0:16, 0:20][1]) for k in range(3)])
    return write_reference("dark.fits", "dark", images={"SCI": planes.astype(np.float32)}), planes


def _derived(path, read=(), key_salt=None, scale=1.0, cache=True):
    reference = load_reference(path, "dark", _blocked_exposure())
    return derived_image(reference, "SCI", functools.partial(_sum_planes, scale=scale), (1,), np.float32,
                         identity=f"sum-{scale}", read=read, key_salt=key_salt, cache=cache)


def _blocked_exposure():
    import dask.array as da
    import xarray as xr

    sci = da.zeros((1, 2, 16, 20), chunks=(1, 2, *BLOCKS), dtype=np.float32)
    return xr.Dataset({"SCI": (("integration", "group", "y", "x"), sci)})


def _entries(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_each_block_is_derived_from_its_own_pixels_without_a_cache(cube, tmp_path):
    path, planes = cube
    image = _derived(path, read=(slice(0, 2),))
    assert image.chunks[-2:] == BLOCKS
    np.testing.assert_array_equal(image.compute(scheduler="sync"), planes[:2].sum(axis=0)[None])
    assert _entries(tmp_path) == ["dark.fits"]  # nothing written beside the file


def test_blocks_are_cached_once_and_read_back(cube, tmp_path):
    path, planes = cube
    folder = tmp_path / "cache"
    with dask.config.set({CACHE_CONFIG: str(folder)}):
        first = _derived(path, key_salt="exposure 1").compute(scheduler="sync")
        entries = _entries(folder)
        assert len(entries) == 4 and all(name.startswith("dark-") and name.endswith(".npy") for name in entries)
        marked = folder / entries[0]
        np.save(marked, np.full_like(np.load(marked), -1))  # only a read of the cache can return this
        second = _derived(path, key_salt="exposure 2")
        assert second.name != _derived(path, key_salt="exposure 1").name  # each exposure's tasks its own
        second = second.compute(scheduler="sync")
    np.testing.assert_array_equal(first, planes.sum(axis=0)[None])
    assert (second == -1).sum() == 8 * 10 and _entries(folder) == entries


def test_another_derivation_or_a_changed_file_is_not_read_stale(cube, tmp_path, write_reference):
    path, planes = cube
    folder = tmp_path / "cache"
    with dask.config.set({CACHE_CONFIG: str(folder)}):
        _derived(path).compute(scheduler="sync")
        np.testing.assert_array_equal(_derived(path, scale=2.0).compute(scheduler="sync"), 2 * planes.sum(axis=0)[None])
        assert len(_entries(folder)) == 8
        os.remove(path)
        write_reference("dark.fits", "dark", images={"SCI": -planes.astype(np.float32)})
        os.utime(path, ns=(1, 1))
        np.testing.assert_array_equal(_derived(path).compute(scheduler="sync"), -planes.sum(axis=0)[None])
    assert not any(name.endswith(".tmp") for name in _entries(folder))


def test_cache_off_when_the_caller_says_so(cube, tmp_path):
    path, _ = cube
    with dask.config.set({CACHE_CONFIG: str(tmp_path / "cache")}):
        _derived(path, cache=False).compute(scheduler="sync")
    assert not (tmp_path / "cache").exists()


def test_a_run_scoped_cache_is_removed_and_a_users_own_is_kept(cube, tmp_path):
    path, _ = cube
    with cached_derivations(tmp_path / "run") as folder:
        assert folder == tmp_path / "run"
        _derived(path).compute(scheduler="sync")
        assert len(_entries(folder)) == 4
    assert not (tmp_path / "run").exists() and dask.config.get(CACHE_CONFIG, None) is None
    with dask.config.set({CACHE_CONFIG: str(tmp_path / "mine")}):
        with cached_derivations(tmp_path / "run") as folder:
            assert folder == tmp_path / "mine"
            _derived(path).compute(scheduler="sync")
    assert len(_entries(tmp_path / "mine")) == 4 and not (tmp_path / "run").exists()


def test_an_image_not_read_lazily_is_an_error(cube):
    path, _ = cube
    reference = load_reference(path, "dark", _blocked_exposure()).load()
    reference["SCI"].encoding.clear()
    with pytest.raises(ValueError, match="dark.fits.*SCI"):
        derived_image(reference, "SCI", _sum_planes, (1,), np.float32, identity="sum")


def test_a_cache_that_cannot_be_written_costs_a_derivation_not_the_result(cube, tmp_path, caplog):
    path, planes = cube
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be")
    with dask.config.set({CACHE_CONFIG: str(blocked / "cache")}):
        result = _derived(path).compute(scheduler="sync")
    np.testing.assert_array_equal(result, planes.sum(axis=0)[None])
    assert "not cached" in caplog.text
