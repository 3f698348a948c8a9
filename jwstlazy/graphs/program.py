"""A program's inputs as a list of exposures.

``jwstlazy run`` accepts any mix of exposure files (``*_uncal.fits``, ``*_rate.fits``, zarr stores), folders
of them (their ``*_uncal.fits``, or ``*_rate.fits`` when there are none) and association JSON files (their
members, resolved against the JSON's folder). Every exposure appears once, in the order given. A missing
file or a bad association raises :class:`~jwstlazy.errors.JwstLazyInputError` before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from jwstlazy.associations.reader import is_association_file, read_association
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.naming import temporary_target

#: Folder contents taken as a program's exposures, by preference.
FOLDER_PATTERNS = ("*_uncal.fits", "*_rate.fits")


@dataclass(frozen=True)
class Exposure:
    """One input exposure of a program, and where it came from."""

    path: Path
    exptype: str = "science"
    association: Path | None = None  #: the association file that listed it, if any

    @property
    def name(self) -> str:
        """The file name, for messages."""
        return self.path.name


def exposures_from_inputs(inputs: Iterable[str | os.PathLike | Exposure]) -> list[Exposure]:
    """Expand files, folders and association files into the program's exposures (each once)."""
    found: dict[Path, Exposure] = {}
    for item in [inputs] if isinstance(inputs, (str, os.PathLike)) else inputs:
        for exposure in _expand(item):
            found.setdefault(exposure.path.resolve(), exposure)
    if not found:
        raise JwstLazyInputError("no inputs", where="inputs", expected="exposure files, folders or association files")
    return list(found.values())


def _expand(item: str | os.PathLike | Exposure) -> list[Exposure]:
    if isinstance(item, Exposure):
        return [item]
    path = Path(item)
    if not path.exists():
        raise JwstLazyInputError("no such file", path, expected="an existing input file, folder or association")
    if path.is_dir() and path.suffix != ".zarr":
        return [Exposure(file) for file in _folder_exposures(path)]
    if is_association_file(path):
        return _association_exposures(path)
    return [Exposure(path)]


def _folder_exposures(folder: Path) -> list[Path]:
    for pattern in FOLDER_PATTERNS:
        files = sorted(file for file in folder.glob(pattern) if temporary_target(file) is None)
        if files:
            return files
    raise JwstLazyInputError(
        "no " + " or ".join(FOLDER_PATTERNS) + " files", folder, expected="a folder of exposures"
    )


def _association_exposures(path: Path) -> list[Exposure]:
    association = read_association(path)
    exposures = []
    for member in association.members:
        if not member.expname.exists():
            raise JwstLazyInputError(
                f"member {member.expname.name!r} not found (looked for {member.expname})", path,
                "expname", "member files beside the association or at their given paths",
            )
        exposures.append(Exposure(member.expname, member.exptype, association=path))
    return exposures
