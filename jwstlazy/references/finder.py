"""Choosing the reference file of a given type for an exposure, without ever contacting a CRDS server.

Places are tried in this order, and the first that yields a file wins:

1. an explicit override for the type (a path; the string ``"N/A"`` means "no file": :meth:`find` and
   :meth:`ReferenceFinder.load` return None and the step is expected to skip; an override of None is the
   same as giving none);
2. each of the given directories, in order;
3. the local CRDS cache ``$CRDS_PATH/references/jwst/<instrument>/`` (then ``references/jwst/``).

In a folder, a FITS or ASDF file is a candidate when its REFTYPE is the type asked for (case-insensitive),
its INSTRUME is the exposure's, and every selector of the type (:mod:`jwstlazy.references.types`) that
both the file and the exposure carry agrees. A file's selector value may list alternatives with ``|``
(and the ``P_<KEY>`` pattern keywords of CRDS take precedence over the plain keyword); ``ANY``, ``N/A``,
``GENERIC``, ``MULTIPLE`` or an empty value match everything. SUBARRAY is special: a file for the same
subarray matches exactly; a FULL or GENERIC file matches any subarray (it is cut on loading) unless its
SUBSTRT/SUBSIZE show it does not contain the exposure's; a file for another named subarray never matches.
A file whose USEAFTER is later than the exposure's DATE-OBS/TIME-OBS is not a candidate.

Among candidates the finder prefers, in order: an exact SUBARRAY match; more selectors matched by a
specific (non-wildcard) value; the latest USEAFTER; the last file name in sort order (the highest CRDS
serial number).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import xarray as xr

from jwstlazy.errors import JwstLazyInputError, MissingReferenceError
from jwstlazy.references.crds_cache import (
    DirectoryScan,
    ReferenceHeader,
    crds_name_filter,
    crds_reference_directories,
    default_crds_path,
    scan_directory,
)
from jwstlazy.references.loading import (
    SUBARRAY_KEYWORDS,
    exposure_attrs,
    exposure_pixel_blocks,
    exposure_window,
    load_reference,
)
from jwstlazy.references.types import REFERENCE_TYPES, ReferenceType, reference_type

NOT_APPLICABLE = "N/A"
WILDCARD_VALUES = frozenset({"", "ANY", "N/A", "GENERIC", "MULTIPLE"})
FULL_FRAME_SUBARRAYS = frozenset({"FULL", "GENERIC"})
_USEAFTER_FORMATS = ("%b %d %Y %H:%M:%S", "%b %d %Y")
_MAX_REASONS = 6


@dataclass(frozen=True)
class _Candidate:
    header: ReferenceHeader
    exact_subarray: bool
    specificity: int
    useafter: datetime

    def rank(self) -> tuple:
        return (self.exact_subarray, self.specificity, self.useafter, self.header.path.name)


class ReferenceFinder:
    """Finds and loads reference files from overrides, local directories and a local CRDS cache.

    Parameters
    ----------
    overrides : mapping of reftype → path, ``"N/A"`` or None
        Explicit choices; ``"N/A"`` means the type is not to be used (``find`` returns None).
    directories : paths
        Folders of CRDS-format reference files, searched in order (not recursively).
    crds_path : path, optional
        Root of a local CRDS cache; defaults to ``$CRDS_PATH`` (read when the finder is made).
    """

    def __init__(
        self,
        overrides: Mapping[str, str | os.PathLike | None] | None = None,
        directories: Iterable[str | os.PathLike] = (),
        crds_path: str | os.PathLike | None = None,
    ) -> None:
        self.overrides = {key.strip().lower(): value for key, value in (overrides or {}).items()
                          if value is not None}
        self.directories = [Path(d) for d in directories]
        self.crds_path = Path(crds_path) if crds_path is not None else default_crds_path()
        self._loaded: dict[tuple, xr.Dataset] = {}  #: lazily loaded references, see :meth:`load`

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_loaded": {}}  # the cache of loaded references stays in this process

    def __repr__(self) -> str:
        return (f"ReferenceFinder(overrides={self.overrides!r}, directories={self.directories!r}, "
                f"crds_path={self.crds_path!r})")

    def find(self, reftype: str, exposure: Mapping[str, Any] | xr.Dataset,
             source: str | os.PathLike | None = None) -> Path | None:
        """The reference file of ``reftype`` for ``exposure`` (its header keywords or its Dataset).

        Returns None when the override for the type is ``"N/A"``. ``source`` names the exposure in
        messages (default: its ``filename`` attribute). Raises :class:`MissingReferenceError` naming the
        type, the exposure and every place looked in; :class:`JwstLazyInputError` for an override that does
        not exist or an exposure without INSTRUME.
        """
        kind = reference_type(reftype)
        attrs = exposure_attrs(exposure)
        source = source if source is not None else attrs.get("filename")
        if kind.name in self.overrides:
            return self._override(kind)
        instrument = str(attrs.get("INSTRUME") or "").strip().upper()
        if not instrument:
            raise JwstLazyInputError(f"cannot choose a {kind.name} reference file", path=source,
                                     where="INSTRUME", expected="the instrument name, e.g. 'NIRCAM'")
        observed = _observation_time(attrs, source)
        looked = [f"override: none given for '{kind.name}'"]
        for label, directory, name_filter in self._places(kind, instrument):
            scan = scan_directory(directory, name_filter, kind.name)
            chosen, report = _choose(scan, kind, instrument, attrs, observed)
            if chosen is not None:
                return chosen
            looked.append(f"{label} {directory}: {report}")
        if self.crds_path is None:
            looked.append("CRDS cache: none ($CRDS_PATH not set and no crds_path given)")
        raise MissingReferenceError(
            f"no {kind.name} reference file for {_describe_exposure(attrs, kind, source)}. Looked in: "
            + "; ".join(f"({i}) {place}" for i, place in enumerate(looked, 1)),
            path=source, where=f"reftype {kind.name}",
        )

    def load(self, reftype: str, exposure: Mapping[str, Any] | xr.Dataset,
             source: str | os.PathLike | None = None) -> xr.Dataset | None:
        """:meth:`find` then :func:`~jwstlazy.references.loading.load_reference`: the reference cut to the
        exposure's subarray, or None when the type's override is ``"N/A"``."""
        path = self.find(reftype, exposure, source)
        if path is None:
            return None
        # exposures of one detector and subarray share their references: load each (lazily) once
        key = (reftype.lower(), os.fspath(Path(path).resolve()), Path(path).stat().st_mtime_ns,
               exposure_window(exposure_attrs(exposure)), exposure_pixel_blocks(exposure))  # fmt: skip
        if key not in self._loaded:
            self._loaded[key] = load_reference(path, reftype, exposure)
        return self._loaded[key].copy(deep=False)

    def describe(self, exposure: Mapping[str, Any] | xr.Dataset,
                 reftypes: Iterable[str] | None = None) -> dict[str, str]:
        """reftype → chosen file (or ``"N/A"``, or ``"not found"``), for logs.

        ``reftypes`` defaults to every known type and every overridden one.
        """
        names = reftypes if reftypes is not None else sorted(set(REFERENCE_TYPES) | set(self.overrides))
        description = {}
        for name in names:
            try:
                path = self.find(name, exposure)
                description[name] = NOT_APPLICABLE if path is None else str(path)
            except MissingReferenceError:
                description[name] = "not found"
        return description

    def _override(self, kind: ReferenceType) -> Path | None:
        value = self.overrides[kind.name]
        if str(value).strip().upper() == NOT_APPLICABLE:
            return None
        path = Path(value)
        if not path.is_file():
            raise JwstLazyInputError("override file does not exist", path=path,
                                     where=f"override for {kind.name}",
                                     expected="an existing reference file or 'N/A'")
        return path

    def _places(self, kind: ReferenceType, instrument: str) -> list[tuple[str, Path, Any]]:
        """(label, folder, name filter) for each folder to search, in order."""
        places = [("directory", directory, None) for directory in self.directories]
        if self.crds_path is not None:
            name_filter = crds_name_filter(kind.name, instrument)
            per_instrument, flat = crds_reference_directories(self.crds_path, instrument)
            places.append(("CRDS cache", per_instrument, name_filter))
            if flat.is_dir():
                places.append(("CRDS cache", flat, name_filter))
        return places


def _choose(scan: DirectoryScan, kind: ReferenceType, instrument: str, exposure: Mapping[str, Any],
            observed: datetime | None) -> tuple[Path | None, str]:
    """The best candidate in ``scan``, or None and a report of why nothing matched."""
    if not scan.headers and not scan.unreadable and not scan.directory.is_dir():
        return None, "folder does not exist"
    candidates, reasons = [], []
    for header in scan.headers:
        if header.reftype != kind.name:
            continue
        outcome = _match(header, kind, instrument, exposure, observed)
        if isinstance(outcome, str):
            reasons.append(f"{header.path.name}: {outcome}")
        else:
            candidates.append(outcome)
    if candidates:
        return max(candidates, key=_Candidate.rank).header.path, ""
    reasons += [f"{path.name}: unreadable ({why})" for path, why in scan.unreadable]
    same = sum(1 for header in scan.headers if header.reftype == kind.name)
    report = (f"{same} {kind.name} file(s), {len(scan.headers) - same} of other types, "
              f"{len(scan.unreadable)} unreadable")
    if reasons:
        shown = reasons[:_MAX_REASONS]
        more = f"; ... and {len(reasons) - len(shown)} more" if len(reasons) > len(shown) else ""
        report += f"; rejected {'; '.join(shown)}{more}"
    return None, report


def _match(header: ReferenceHeader, kind: ReferenceType, instrument: str,
           exposure: Mapping[str, Any], observed: datetime | None) -> _Candidate | str:
    """A candidate, or the reason ``header`` does not fit the exposure."""
    if header.instrument != instrument:
        return f"INSTRUME {header.instrument or 'missing'} is not {instrument}"
    specificity, exact_subarray = 0, False
    for keyword in kind.selectors:
        wanted = _exposure_value(exposure, keyword)
        allowed = _reference_values(header, keyword)
        if wanted is None:
            continue
        if allowed is not None and wanted in allowed:
            specificity += 1
            exact_subarray = exact_subarray or keyword == "SUBARRAY"
        elif keyword == "SUBARRAY" and (allowed is None or allowed <= FULL_FRAME_SUBARRAYS):
            if not _contains(header, exposure):  # a FULL/GENERIC file is cut on loading
                return "its SUBSTRT/SUBSIZE do not contain the exposure's subarray"
        elif allowed is not None:
            return f"{keyword} {'|'.join(sorted(allowed))} does not match {wanted}"
    useafter = _parse_useafter(header.get("USEAFTER"))
    if useafter is None:
        return f"unreadable USEAFTER {header.get('USEAFTER')!r}"
    if observed is not None and useafter > observed:
        return f"USEAFTER {header.get('USEAFTER')} is after the exposure ({observed.isoformat()})"
    return _Candidate(header, exact_subarray, specificity, useafter)


def _exposure_value(exposure: Mapping[str, Any], keyword: str) -> str | None:
    value = exposure.get(keyword)
    text = "" if value is None else str(value).strip().upper()
    return text or None


def _reference_values(header: ReferenceHeader, keyword: str) -> frozenset[str] | None:
    """The values a reference accepts for ``keyword`` (P_ pattern first); None when it accepts any."""
    raw = header.get(f"P_{keyword[:6]}")
    if raw is None or not str(raw).strip(" |"):
        raw = header.get(keyword)
    if raw is None:
        return None
    values = frozenset(part.strip().upper() for part in str(raw).split("|")) - {""}
    if not values or "ANY" in values or (len(values) == 1 and values <= WILDCARD_VALUES):
        return None
    return values


def _contains(header: ReferenceHeader, exposure: Mapping[str, Any]) -> bool:
    """False only when both headers give their subarray geometry and the reference's misses the exposure's."""
    try:
        ref = [int(header.get(k)) for k in SUBARRAY_KEYWORDS]
        exp = [int(exposure.get(k)) for k in SUBARRAY_KEYWORDS]
    except (TypeError, ValueError):
        return True
    (rx, ry, rnx, rny), (ex, ey, enx, eny) = ref, exp
    return rx <= ex and ry <= ey and ex + enx <= rx + rnx and ey + eny <= ry + rny


def _parse_useafter(value: Any) -> datetime | None:
    """USEAFTER as a datetime (ISO or CRDS's 'Jan 01 2015 00:00:00'); datetime.min when absent."""
    if value is None or not str(value).strip():
        return datetime.min
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError:
        pass
    for form in _USEAFTER_FORMATS:
        try:
            return datetime.strptime(text, form)
        except ValueError:
            continue
    return None


def _observation_time(exposure: Mapping[str, Any], source: Any) -> datetime | None:
    """DATE-OBS (+ TIME-OBS) of the exposure; None when DATE-OBS is absent."""
    date = exposure.get("DATE-OBS")
    if date is None or not str(date).strip():
        return None
    text = str(date).strip()
    time = exposure.get("TIME-OBS")
    if "T" not in text and time is not None and str(time).strip():
        text += "T" + str(time).strip()
    try:
        return datetime.fromisoformat(text).replace(tzinfo=None)
    except ValueError as exc:
        raise JwstLazyInputError(f"cannot read the observation time {text!r}", path=source,
                                 where="DATE-OBS/TIME-OBS",
                                 expected="'YYYY-MM-DD' and 'HH:MM:SS[.sss]'") from exc


def _describe_exposure(exposure: Mapping[str, Any], kind: ReferenceType, source: Any) -> str:
    """``name (INSTRUME=NIRCAM DETECTOR=NRCA1 SUBARRAY=FULL ...)`` for messages."""
    keys = ("INSTRUME", *kind.selectors, "DATE-OBS", "TIME-OBS")
    shown = " ".join(f"{key}={exposure[key]}" for key in dict.fromkeys(keys) if exposure.get(key) is not None)
    name = Path(source).name if source is not None else "the exposure"
    return f"{name} ({shown})"
