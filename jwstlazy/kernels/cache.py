"""Numba's on-disk cache of the kernels, kept in step with their sources.

numba invalidates a cached kernel only when the file that defines it changes. Kernels here inline
helpers from other modules (``small_median``, ``sigma_clip``...), so editing a helper would leave every
kernel that inlines it running the old code from the cache (after ``git pull`` in a checkout, say).
:func:`drop_stale_cache` keeps a fingerprint of all kernel sources beside the cache and empties the
cache when it differs. Installing a new version of the package rewrites every file, which numba
already notices; this covers edited checkouts.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba

__all__ = ["cache_state", "drop_stale_cache", "kernel_cache_directory"]

#: The fingerprint's file name, in the cache directory.
FINGERPRINT_NAME = "jwstlazy-kernels.sha256"


def _probe() -> None:
    """A function in this folder, for asking numba where this folder's kernels are cached."""


def kernel_cache_directory() -> Path:
    """The directory numba caches this folder's kernels in (``__pycache__`` beside them, or under
    ``NUMBA_CACHE_DIR``, or a user-wide directory when the package is read-only)."""
    dispatcher = numba.njit(cache=True)(_probe)
    return Path(dispatcher._cache._cache_path)


def sources_fingerprint(folder: Path | None = None) -> str:
    """SHA-256 over the names and contents of the kernel modules (``*.py`` in ``folder``)."""
    folder = folder or Path(__file__).parent
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def cache_state(folder: Path | None = None) -> str:
    """What numba's cache of the kernels depends on: the sources' contents (:func:`sources_fingerprint`) and
    each source file's modification time and size, which numba checks before using a cached kernel."""
    folder = folder or Path(__file__).parent
    stamps = sorted((path.name, path.stat().st_mtime_ns, path.stat().st_size) for path in folder.glob("*.py"))
    return sources_fingerprint(folder) + ":" + hashlib.sha256(repr(stamps).encode()).hexdigest()


def drop_stale_cache(cache_directory: Path | None = None, fingerprint: str | None = None) -> bool:
    """Delete cached kernels built from other sources than the current ones; returns whether it did.

    Best effort: a cache directory that cannot be read or written is left as it is (numba then
    compiles in memory, as it does for such directories anyway).
    """
    cache_directory = cache_directory or kernel_cache_directory()
    fingerprint = fingerprint or sources_fingerprint()
    stamp = cache_directory / FINGERPRINT_NAME
    try:
        if stamp.read_text() == fingerprint:
            return False
    except OSError:
        pass
    try:
        cache_directory.mkdir(parents=True, exist_ok=True)
        for cached in [*cache_directory.glob("*.nbi"), *cache_directory.glob("*.nbc")]:
            cached.unlink(missing_ok=True)
        temporary = stamp.with_name(f"{stamp.name}.{id(stamp)}.tmp")
        temporary.write_text(fingerprint)
        temporary.replace(stamp)
    except OSError:
        return False
    return True
