"""Header-only scanning of folders of CRDS-format reference files, including a local CRDS cache.

A CRDS-format reference file is a FITS file whose primary header carries REFTYPE, INSTRUME, USEAFTER and
its selector keywords (DETECTOR, SUBARRAY, FILTER, ...), or an ASDF file whose ``meta`` tree carries the same
information (``meta.reftype``, ``meta.instrument.name``, ...). :func:`scan_directory` reads only those
headers, never pixels, and remembers each file's header until the file changes (same size and
modification time), and a folder's scan until the folder changes (see :func:`scan_directory`).

The local CRDS cache layout is ``$CRDS_PATH/references/jwst/<instrument>/jwst_<instrument>_<reftype>_NNNN
.fits|asdf`` (or the flat ``$CRDS_PATH/references/jwst/`` some caches use). No server is ever contacted.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from astropy.io import fits

from jwstlazy.errors import JwstLazyInputError

FITS_SUFFIXES = (".fits", ".fit", ".fits.gz")
ASDF_SUFFIXES = (".asdf",)

#: ASDF ``meta`` paths of reference files and the FITS keyword each stands for.
ASDF_META_KEYWORDS: dict[tuple[str, ...], str] = {
    ("reftype",): "REFTYPE",
    ("useafter",): "USEAFTER",
    ("pedigree",): "PEDIGREE",
    ("description",): "DESCRIP",
    ("author",): "AUTHOR",
    ("instrument", "name"): "INSTRUME",
    ("instrument", "detector"): "DETECTOR",
    ("instrument", "p_detector"): "P_DETECT",
    ("instrument", "channel"): "CHANNEL",
    ("instrument", "p_channel"): "P_CHANNE",
    ("instrument", "band"): "BAND",
    ("instrument", "p_band"): "P_BAND",
    ("instrument", "module"): "MODULE",
    ("instrument", "filter"): "FILTER",
    ("instrument", "p_filter"): "P_FILTER",
    ("instrument", "pupil"): "PUPIL",
    ("instrument", "p_pupil"): "P_PUPIL",
    ("instrument", "grating"): "GRATING",
    ("instrument", "p_grating"): "P_GRATIN",
    ("instrument", "coronagraph"): "CORONMSK",
    ("exposure", "type"): "EXP_TYPE",
    ("exposure", "p_exptype"): "P_EXP_TY",
    ("exposure", "readpatt"): "READPATT",
    ("exposure", "p_readpatt"): "P_READPA",
    ("subarray", "name"): "SUBARRAY",
    ("subarray", "p_subarray"): "P_SUBARR",
    ("subarray", "xstart"): "SUBSTRT1",
    ("subarray", "ystart"): "SUBSTRT2",
    ("subarray", "xsize"): "SUBSIZE1",
    ("subarray", "ysize"): "SUBSIZE2",
}

_CRDS_NAME = re.compile(r"^jwst_(?P<instrument>[a-z]+)_(?P<reftype>[a-z0-9_-]+?)_\d+\.(fits|fit|asdf)$")
_COMMENTARY = {"COMMENT", "HISTORY", ""}


@dataclass(frozen=True)
class ReferenceHeader:
    """The selection-relevant header of one reference file.

    ``keywords`` maps upper-case FITS keyword names to their values (ASDF metadata translated with
    :data:`ASDF_META_KEYWORDS`).
    """

    path: Path
    keywords: Mapping[str, Any]

    def get(self, keyword: str) -> Any:
        """The value of ``keyword`` (upper case), or None when absent."""
        return self.keywords.get(keyword)

    @property
    def reftype(self) -> str:
        """REFTYPE in lower case ('' when absent)."""
        return str(self.keywords.get("REFTYPE", "")).strip().lower()

    @property
    def instrument(self) -> str:
        """INSTRUME in upper case ('' when absent)."""
        return str(self.keywords.get("INSTRUME", "")).strip().upper()


@dataclass(frozen=True)
class DirectoryScan:
    """What a folder holds: readable reference headers, and the files that could not be read (with why)."""

    directory: Path
    headers: tuple[ReferenceHeader, ...]
    unreadable: tuple[tuple[Path, str], ...]


def is_reference_file_name(name: str) -> bool:
    """True for names with a FITS or ASDF suffix (case-insensitive)."""
    lower = name.lower()
    return lower.endswith(FITS_SUFFIXES + ASDF_SUFFIXES)


def read_reference_header(path: str | os.PathLike) -> ReferenceHeader:
    """Read the primary FITS header or the ASDF ``meta`` tree of ``path``, without reading any data.

    Raises :class:`JwstLazyInputError` naming the file when it cannot be read.
    """
    path = Path(path)
    try:
        if path.name.lower().endswith(ASDF_SUFFIXES):
            keywords = _asdf_keywords(path)
        else:
            header = fits.getheader(path, 0)
            keywords = {key.upper(): header[key] for key in header if key.upper() not in _COMMENTARY}
    except JwstLazyInputError:
        raise
    except Exception as exc:  # any failure to parse means "not a readable reference file"
        raise JwstLazyInputError(
            f"cannot read the header: {type(exc).__name__}: {exc}", path=path, where="PRIMARY",
            expected="a FITS or ASDF reference file in CRDS format",
        ) from exc
    return ReferenceHeader(path, keywords)


def _asdf_keywords(path: Path) -> dict[str, Any]:
    """FITS-keyword view of an ASDF reference file's ``meta`` tree (YAML only; models not built)."""
    import asdf.util  # lazy: only needed for ASDF references

    tree = asdf.util.load_yaml(str(path), tagged=False)
    meta = tree.get("meta") if isinstance(tree, dict) else None
    if not isinstance(meta, dict):
        raise JwstLazyInputError("no 'meta' mapping in the ASDF tree", path=path, where="meta",
                                 expected="meta.reftype, meta.instrument.name, ...")
    keywords: dict[str, Any] = {}
    for meta_path, keyword in ASDF_META_KEYWORDS.items():
        node: Any = meta
        for part in meta_path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and not isinstance(node, (dict, list)):
            keywords[keyword] = node
    return keywords


_header_cache: dict[Path, tuple[tuple[int, int], ReferenceHeader | str]] = {}
_cache_lock = threading.Lock()


def _cached_header(path: Path, stat: os.stat_result) -> ReferenceHeader | str:
    """The header of ``path`` (or the reason it is unreadable), re-read only when the file changed."""
    signature = (stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        cached = _header_cache.get(path)
    if cached is not None and cached[0] == signature:
        return cached[1]
    try:
        result: ReferenceHeader | str = read_reference_header(path)
    except JwstLazyInputError as exc:
        result = exc.problem
    with _cache_lock:
        _header_cache[path] = (signature, result)
    return result


def scan_directory(
    directory: str | os.PathLike, name_filter: Callable[[str], bool] | None = None, reftype: str | None = None
) -> DirectoryScan:
    """Headers of the FITS/ASDF files directly inside ``directory`` (not recursive), sorted by name.

    ``name_filter(file_name)`` may exclude files before their header is read. A missing folder gives
    an empty scan. Unreadable files are listed in ``unreadable`` with the reason, never raised.

    With ``reftype`` (the type being looked for), a scan of a folder unchanged since (same modification time,
    and last modified over :data:`SETTLED_SECONDS` before that scan) is reused when every file it found of that
    type is unchanged too: a program's exposures look up ~17 types each, and scanning a CRDS cache of thousands
    of files every time cost more than building the exposure's graph. Files are added, removed and replaced
    through the folder (which changes its time); a file rewritten in place is noticed when it is of the type
    looked for (others: on the folder's next change, or after :func:`clear_header_cache`).
    """
    directory = Path(directory).resolve()
    try:
        folder_time = directory.stat().st_mtime_ns
    except (FileNotFoundError, NotADirectoryError):
        return DirectoryScan(directory, (), ())
    key = _scan_key(directory, folder_time, name_filter) if reftype is not None else None
    if key is not None:
        with _cache_lock:
            remembered = _scan_cache.get(key)
        if remembered is not None and _unchanged(remembered, reftype):
            return remembered[0]
    started = time.time_ns()
    scan, signatures = _scan(directory, name_filter)
    if key is not None and started - folder_time > SETTLED_SECONDS * 1e9:
        with _cache_lock:  # (a folder changed within a tick of its last change may keep its time: not trusted)
            _scan_cache[key] = (scan, signatures)
    return scan


#: A folder's scan is remembered only if the folder was last changed this long before (file systems keep
#: times in ticks of up to 2 s: a change within the same tick would not show).
SETTLED_SECONDS = 2.0

_Signature = tuple[int, int]  # (st_mtime_ns, st_size) of a file
_scan_cache: dict[tuple, tuple[DirectoryScan, dict[Path, _Signature]]] = {}


def _scan_key(directory: Path, folder_time: int, name_filter: Callable[[str], bool] | None) -> tuple | None:
    """The remembered scans' key, or None for a filter that is not a value (never remembered)."""
    key = (directory, folder_time, name_filter)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def _scan(directory: Path, name_filter: Callable[[str], bool] | None) -> tuple[DirectoryScan, dict[Path, _Signature]]:
    """The scan of ``directory``, and the signature of each file whose header it holds."""
    headers: list[ReferenceHeader] = []
    unreadable: list[tuple[Path, str]] = []
    signatures: dict[Path, _Signature] = {}
    try:
        entries = sorted(os.scandir(directory), key=lambda entry: entry.name)
    except (FileNotFoundError, NotADirectoryError):
        return DirectoryScan(directory, (), ()), signatures
    for entry in entries:
        if not is_reference_file_name(entry.name) or (name_filter and not name_filter(entry.name)):
            continue
        try:
            if not entry.is_file():
                continue
            stat = entry.stat()
            result = _cached_header(Path(entry.path), stat)
        except OSError as exc:
            result = f"cannot stat: {exc}"
        if isinstance(result, ReferenceHeader):
            headers.append(result)
            signatures[result.path] = (stat.st_mtime_ns, stat.st_size)
        else:
            unreadable.append((Path(entry.path), result))
    return DirectoryScan(directory, tuple(headers), tuple(unreadable)), signatures


def _unchanged(remembered: tuple[DirectoryScan, dict[Path, _Signature]], reftype: str) -> bool:
    """Whether every file of ``reftype`` in a remembered scan still has the size and time it had."""
    scan, signatures = remembered
    wanted = reftype.strip().lower()
    for header in scan.headers:
        if header.reftype == wanted:
            try:
                stat = header.path.stat()
            except OSError:
                return False
            if (stat.st_mtime_ns, stat.st_size) != signatures[header.path]:
                return False
    return True


def clear_header_cache() -> None:
    """Forget every remembered header and folder scan (files are re-read on the next scan)."""
    with _cache_lock:
        _header_cache.clear()
        _scan_cache.clear()


def default_crds_path() -> Path | None:
    """``$CRDS_PATH`` as a Path, or None when the variable is unset or empty."""
    value = os.environ.get("CRDS_PATH", "").strip()
    return Path(value) if value else None


def crds_reference_directories(crds_path: str | os.PathLike, instrument: str) -> tuple[Path, Path]:
    """Where a local CRDS cache keeps ``instrument``'s references: (per-instrument folder, flat folder)."""
    root = Path(crds_path) / "references" / "jwst"
    return root / instrument.strip().lower(), root


def crds_name_filter(reftype: str, instrument: str) -> CrdsNameFilter:
    """A name filter for CRDS caches: keeps files whose CRDS-style name names ``reftype`` and ``instrument``.

    Files not named in the CRDS style are kept (their header decides).
    """
    return CrdsNameFilter(reftype.strip().lower(), instrument.strip().lower())


@dataclass(frozen=True)
class CrdsNameFilter:
    """:func:`crds_name_filter`'s filter: a value (equal filters share :func:`scan_directory`'s remembered scans)."""

    reftype: str  #: lower case
    instrument: str  #: lower case

    def __call__(self, name: str) -> bool:
        match = _CRDS_NAME.match(name.lower())  # e.g. jwst_nircam_dark_0342.fits
        if match is None:
            return True
        return match.group("reftype") == self.reftype and match.group("instrument") == self.instrument
