"""Lazy, cached access to pysiaf apertures (pysiaf ships its SIAF files offline).

pysiaf's import attempts an online version check; it is imported only inside these functions,
with its warnings silenced, so importing :mod:`jwstlazy.simulate` never touches the network.
"""

from __future__ import annotations

import functools
import warnings

from jwstlazy.errors import JwstLazyInputError


@functools.lru_cache(maxsize=8)
def load_siaf(instrument: str):
    """The ``pysiaf.Siaf`` of one instrument ("NIRCam", "NIRISS", "NIRSpec", "MIRI")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pysiaf

        return pysiaf.Siaf(instrument)


def has_aperture(instrument: str, name: str) -> bool:
    return name in load_siaf(instrument).apertures


def get_aperture(instrument: str, name: str):
    """A fresh copy-free handle on a SIAF aperture; raises JwstLazyInputError if unknown."""
    siaf = load_siaf(instrument)
    if name not in siaf.apertures:
        raise JwstLazyInputError(
            f"aperture {name!r} is not in the {instrument} SIAF", where="APERNAME",
            expected="a SIAF aperture name",
        )
    return siaf[name]
