"""Writing a standalone ASDF file (reference files, persistence state) atomically."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def write_asdf(tree: Mapping[str, Any], path: str | os.PathLike) -> Path:
    """Write ``tree`` as an ASDF file at ``path`` (folders created): a temporary name, then a rename."""
    import asdf

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        asdf.AsdfFile(dict(tree)).write_to(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return path
