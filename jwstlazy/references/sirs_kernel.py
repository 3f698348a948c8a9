"""The SIRSKERNEL reference (ASDF): Fourier coefficients of refpix's SIRS kernels, per near-IR detector.

Layout, as stdatamodels' ``SIRSKernelModel`` stores it (top level of the ASDF tree): one entry per detector,
named in lower case (``nrca1`` ... ``nrcblong``, ``nrs1``, ``nrs2``, ``nis``), each ``{gamma: (nchan, nfreq)
float64, zeta: (nchan, nfreq) float64}``: per output channel, the transfer from the left (gamma) and right (zeta)
side reference columns to the channel's 1/f noise; and ``meta`` (``reftype: sirskernel``, instrument, useafter,
...: what :class:`~jwstlazy.references.ReferenceFinder` selects on). The refpix step reads it with
:func:`read_sirs_kernel`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from jwstlazy.datamodels.asdf_files import write_asdf
from jwstlazy.errors import JwstLazyInputError

__all__ = ["read_sirs_kernel", "write_sirs_kernel_reference"]


def read_sirs_kernel(path: str | os.PathLike, detector: str) -> tuple[np.ndarray, np.ndarray] | None:
    """(gamma, zeta) of ``detector`` from a SIRSKERNEL file, or None when the file has no entry for it (upstream
    then uses the running median). Raises :class:`JwstLazyInputError` naming the file and entry on problems."""
    import asdf

    path = Path(path)
    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            meta = af.tree.get("meta") if isinstance(af.tree.get("meta"), Mapping) else {}
            entry = af.tree.get(detector.lower())
            if str(meta.get("reftype", "")).lower() != "sirskernel":
                raise JwstLazyInputError(f"reference type is {meta.get('reftype')!r}", path=path,
                                         where="meta.reftype", expected="sirskernel")
            if entry is None:
                return None
            coefficients = []
            for name in ("gamma", "zeta"):
                values = np.array(entry.get(name) if isinstance(entry, Mapping) else None, dtype=np.float64)
                if values.ndim != 2 or values.shape[1] < 2:
                    raise JwstLazyInputError(f"shape {values.shape}", path=path, where=f"{detector.lower()}.{name}",
                                             expected="(channels, frequencies) coefficients")
                coefficients.append(values)
    except (OSError, ValueError, TypeError) as error:
        if isinstance(error, JwstLazyInputError):
            raise
        raise JwstLazyInputError(f"cannot read ASDF file: {error}", path=path,
                                 expected="a SIRSKERNEL reference (ASDF)") from error
    gamma, zeta = coefficients
    if gamma.shape != zeta.shape:
        raise JwstLazyInputError(f"gamma {gamma.shape} and zeta {zeta.shape}", path=path, where=detector.lower(),
                                 expected="gamma and zeta of the same shape")
    return gamma, zeta


def write_sirs_kernel_reference(
    path: str | os.PathLike,
    coefficients: Mapping[str, tuple[np.ndarray, np.ndarray]],
    instrument: str,
    *,
    useafter: str = "2022-01-01T00:00:00",
    description: str = "SIRS kernel coefficients (jwstlazy)",
    author: str = "jwstlazy",
    pedigree: str = "DUMMY",
) -> Path:
    """Write a SIRSKERNEL reference readable by :func:`read_sirs_kernel` and stdatamodels' ``SIRSKernelModel``.

    ``coefficients``: detector -> (gamma, zeta), each (nchan, nfreq). Written under a temporary name, then renamed.
    """
    tree = {
        "meta": {"reftype": "sirskernel", "telescope": "JWST", "instrument": {"name": instrument.upper()},
                 "model_type": "SIRSKernelModel", "useafter": useafter, "pedigree": pedigree, "author": author,
                 "description": description},
        **{detector.lower(): {"gamma": np.asarray(gamma, np.float64), "zeta": np.asarray(zeta, np.float64)}
           for detector, (gamma, zeta) in coefficients.items()},
    }
    return write_asdf(tree, path)
