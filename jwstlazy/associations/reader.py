"""Reading JWST association JSON files: ``asn_type``, ``products`` and their ``members``.

Only what running a program needs is read: the association type and id, and per product its name and
members (``expname``, ``exptype``). Member paths are resolved against the folder holding the JSON file, as
the official pipeline does. Problems raise :class:`~jwstlazy.errors.JwstLazyInputError` naming the file
and the place in it (``products[1].members[0].expname``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jwstlazy.errors import JwstLazyInputError


@dataclass(frozen=True)
class AsnMember:
    """One member exposure: its resolved path and its role (``science``, ``background``, ...)."""

    expname: Path
    exptype: str


@dataclass(frozen=True)
class AsnProduct:
    """One product of an association: the output name and the members that go into it."""

    name: str
    members: tuple[AsnMember, ...]


@dataclass(frozen=True)
class Association:
    """A parsed association file."""

    path: Path
    asn_type: str
    asn_id: str | None
    products: tuple[AsnProduct, ...]

    @property
    def members(self) -> list[AsnMember]:
        """Every member of every product, in file order, each path once."""
        unique: dict[Path, AsnMember] = {}
        for product in self.products:
            for member in product.members:
                unique.setdefault(member.expname, member)
        return list(unique.values())


def is_association_file(path: str | os.PathLike) -> bool:
    """True for a path that names an association (a ``.json`` file)."""
    return Path(path).suffix.lower() == ".json"


def read_association(path: str | os.PathLike) -> Association:
    """Read and check the association JSON file at ``path``."""
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise JwstLazyInputError("no such association file", path, expected="an existing JSON file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise JwstLazyInputError(f"cannot read association ({error})", path, expected="a UTF-8 JSON file") from None
    except json.JSONDecodeError as error:
        raise JwstLazyInputError(
            f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}", path,
            expected="an association JSON document",
        ) from None
    if not isinstance(document, dict):
        raise JwstLazyInputError(f"top level is a {type(document).__name__}", path, expected="a JSON object")
    asn_type = _field(document, "asn_type", str, path, "asn_type", default="None")
    asn_id = _field(document, "asn_id", str, path, "asn_id", default=None)
    products = _field(document, "products", list, path, "products")
    if not products:
        raise JwstLazyInputError("no products", path, "products", "a list of at least one product")
    return Association(
        path=path,
        asn_type=asn_type,
        asn_id=asn_id,
        products=tuple(_product(item, path, f"products[{i}]") for i, item in enumerate(products)),
    )


def _product(item: Any, path: Path, where: str) -> AsnProduct:
    if not isinstance(item, dict):
        raise JwstLazyInputError(f"is a {type(item).__name__}", path, where, "an object with 'name' and 'members'")
    name = _field(item, "name", str, path, f"{where}.name", default="")
    members = _field(item, "members", list, path, f"{where}.members")
    if not members:
        raise JwstLazyInputError("no members", path, f"{where}.members", "a list of at least one member")
    return AsnProduct(name, tuple(_member(m, path, f"{where}.members[{j}]") for j, m in enumerate(members)))


def _member(item: Any, path: Path, where: str) -> AsnMember:
    if not isinstance(item, dict):
        raise JwstLazyInputError(f"is a {type(item).__name__}", path, where, "an object with 'expname' and 'exptype'")
    expname = _field(item, "expname", str, path, f"{where}.expname")
    if not expname.strip():
        raise JwstLazyInputError("empty file name", path, f"{where}.expname", "a file name")
    exptype = _field(item, "exptype", str, path, f"{where}.exptype", default="science")
    member_path = Path(expname)
    if not member_path.is_absolute():
        member_path = path.parent / member_path
    return AsnMember(expname=member_path, exptype=exptype.lower())


_MISSING = object()


def _field(document: dict, key: str, kind: type, path: Path, where: str, default: Any = _MISSING) -> Any:
    """``document[key]`` checked to be a ``kind``; ``default`` when absent (required if no default)."""
    if key not in document or document[key] is None:
        if default is _MISSING:
            raise JwstLazyInputError(f"missing {key!r}", path, where, f"a {kind.__name__}")
        return default
    value = document[key]
    if not isinstance(value, kind):
        raise JwstLazyInputError(f"{key!r} is a {type(value).__name__}", path, where, f"a {kind.__name__}")
    return value
