"""Reference files: finding them (overrides, local folders, a local CRDS cache) and loading them cut to an
exposure's subarray. No CRDS server is ever contacted."""

from __future__ import annotations

from jwstlazy.references.finder import ReferenceFinder
from jwstlazy.references.loading import load_reference
from jwstlazy.references.types import REFERENCE_TYPES, ReferenceType, reference_type

__all__ = ["REFERENCE_TYPES", "ReferenceFinder", "ReferenceType", "load_reference", "reference_type"]
