"""Tests of jwstlazy.kernels.cache: cached kernels are dropped when any kernel source changes."""

from __future__ import annotations

from jwstlazy.kernels.cache import FINGERPRINT_NAME, drop_stale_cache, kernel_cache_directory, sources_fingerprint


def test_cache_is_emptied_once_per_change_of_sources(tmp_path):
    cached = [tmp_path / "jump._detect_chunk-286.py311.nbi", tmp_path / "jump._detect_chunk-286.py311.1.nbc"]
    for path in cached:
        path.write_bytes(b"old")
    (tmp_path / "module.cpython-311.pyc").write_bytes(b"kept")

    assert drop_stale_cache(tmp_path, "first")
    assert not any(path.exists() for path in cached)
    assert (tmp_path / "module.cpython-311.pyc").exists()
    assert (tmp_path / FINGERPRINT_NAME).read_text() == "first"

    cached[0].write_bytes(b"built from the first sources")
    assert not drop_stale_cache(tmp_path, "first")
    assert cached[0].exists()
    assert drop_stale_cache(tmp_path, "second")
    assert not cached[0].exists()


def test_fingerprint_covers_every_kernel_source(tmp_path):
    (tmp_path / "small_median.py").write_text("SMALL_MEDIAN = 24\n")
    (tmp_path / "jump.py").write_text("TILE = 128\n")
    before = sources_fingerprint(tmp_path)
    (tmp_path / "small_median.py").write_text("SMALL_MEDIAN = 16\n")
    assert sources_fingerprint(tmp_path) != before


def test_the_package_cache_carries_the_current_fingerprint():
    import jwstlazy.kernels  # noqa: F401 - importing the package checks the cache

    stamp = kernel_cache_directory() / FINGERPRINT_NAME
    assert stamp.read_text() == sources_fingerprint()
