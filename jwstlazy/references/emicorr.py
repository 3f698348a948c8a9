"""The EMICORR reference (MIRI, ASDF): EMI frequencies, their waves, and which to correct per readout.

Layout, as stdatamodels' ``EmiModel`` stores it (top level of the ASDF tree):

- ``frequencies``: ``{<name>: {frequency: <Hz>, phase_amplitudes: <1-D array, one period of the wave>}}``;
- ``subarray_cases``: ``{<case>: {rowclocks: int, frameclocks: int, freqs: {FAST: [<name>, ...],
  SLOW: {<DETECTOR>: [<name>, ...]}}}}`` where ``<case>`` is SUBARRAY, or ``FULL_FAST``/``FULL_SLOW``;
- ``meta``: ``reftype: emicorr``, ``instrument.name: MIRI``, ``useafter``, ``pedigree``, ``author``,
  ``description`` (what :class:`~jwstlazy.references.ReferenceFinder` selects on).

The finder locates the file like any other type; the emicorr step reads it with
:func:`read_emicorr_reference`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jwstlazy.datamodels.asdf_files import write_asdf
from jwstlazy.errors import JwstLazyInputError

__all__ = ["EmiCase", "EmiCorrReference", "EmiWave", "read_emicorr_reference", "write_emicorr_reference"]

READOUT_SPEEDS = ("FAST", "SLOW")


@dataclass(frozen=True)
class EmiWave:
    """One EMI frequency: ``frequency`` in Hz and ``wave``, one period (float64, sample m at phase (m+0.5)/n)."""

    name: str
    frequency: float
    wave: np.ndarray


@dataclass(frozen=True)
class EmiCase:
    """The readout timing of one subarray case and the frequency names to correct, in order."""

    name: str
    rowclocks: int
    frameclocks: int
    frequencies: tuple[str, ...]


@dataclass(frozen=True)
class EmiCorrReference:
    """An EMICORR reference file's contents."""

    path: Path
    waves: Mapping[str, EmiWave]
    cases: Mapping[str, Mapping[str, Any]]

    def case(self, subarray: str, readpatt: str, detector: str) -> EmiCase | None:
        """The case for an exposure (None when the file has none, as upstream's ``get_subarcase``).

        FULL becomes ``FULL_FAST``/``FULL_SLOW``; FAST readouts list names directly, SLOW ones per DETECTOR.
        """
        pattern = str(readpatt).upper()
        speed = "SLOW" if "SLOW" in pattern else "FAST" if "FAST" in pattern else None
        if speed is None:
            return None
        name = f"{subarray}_{speed}" if "FULL" in str(subarray) else str(subarray)
        entry = self.cases.get(name)
        if not isinstance(entry, Mapping) or "rowclocks" not in entry or "frameclocks" not in entry:
            return None
        names = (entry.get("freqs") or {}).get(speed)
        if speed == "SLOW":
            names = names.get(str(detector)) if isinstance(names, Mapping) else None
        if names is None:
            return None
        return EmiCase(name, int(entry["rowclocks"]), int(entry["frameclocks"]), tuple(str(n) for n in names))

    def wave(self, name: str) -> EmiWave:
        """The frequency called ``name``; raises :class:`JwstLazyInputError` when the file lacks it."""
        if name not in self.waves:
            raise JwstLazyInputError(f"frequency {name!r} is listed in subarray_cases but not defined",
                                     path=self.path, where=f"frequencies.{name}",
                                     expected=f"one of {', '.join(sorted(self.waves)) or 'none'}")
        return self.waves[name]


def read_emicorr_reference(path: str | os.PathLike) -> EmiCorrReference:
    """Read an EMICORR ASDF file; raises :class:`JwstLazyInputError` naming the file and entry on problems."""
    import asdf

    path = Path(path)
    try:
        with asdf.open(path, lazy_load=False, memmap=False) as af:
            tree = _plain(af.tree)
    except (OSError, ValueError) as error:
        raise JwstLazyInputError(f"cannot read ASDF file: {error}", path=path,
                                 expected="an EMICORR reference (ASDF)") from error
    meta = tree.get("meta") if isinstance(tree.get("meta"), Mapping) else {}
    if str(meta.get("reftype", "")).lower() != "emicorr":
        raise JwstLazyInputError(f"reference type is {meta.get('reftype')!r}", path=path, where="meta.reftype",
                                 expected="emicorr")
    frequencies, cases = tree.get("frequencies"), tree.get("subarray_cases")
    for key, value in (("frequencies", frequencies), ("subarray_cases", cases)):
        if not isinstance(value, Mapping):
            raise JwstLazyInputError("missing or not a mapping", path=path, where=key,
                                     expected="a mapping, as stdatamodels' EmiModel writes it")
    waves = {}
    for name, entry in frequencies.items():
        try:
            frequency = float(entry["frequency"])
            wave = np.array(entry["phase_amplitudes"], dtype=np.float64).ravel()
        except (KeyError, TypeError, ValueError) as error:
            raise JwstLazyInputError(f"unreadable frequency entry ({error})", path=path,
                                     where=f"frequencies.{name}",
                                     expected="frequency (Hz) and phase_amplitudes (1-D array)") from error
        if wave.size < 2 or not frequency > 0:
            raise JwstLazyInputError(f"frequency {frequency} Hz with {wave.size} wave samples", path=path,
                                     where=f"frequencies.{name}",
                                     expected="a positive frequency and at least 2 phase amplitudes")
        waves[str(name)] = EmiWave(str(name), frequency, wave)
    return EmiCorrReference(path, waves, {str(k): v for k, v in cases.items()})


def write_emicorr_reference(
    path: str | os.PathLike,
    waves: Mapping[str, tuple[float, np.ndarray]],
    cases: Mapping[str, tuple[int, int, Sequence[str]]],
    detectors: Sequence[str] = ("MIRIMAGE", "MIRIFULONG", "MIRIFUSHORT"),
    *,
    useafter: str = "2022-01-01T00:00:00",
    description: str = "EMI frequencies and waves (jwstlazy)",
    author: str = "jwstlazy",
    pedigree: str = "DUMMY",
) -> Path:
    """Write an EMICORR reference readable by :func:`read_emicorr_reference` and by stdatamodels' ``EmiModel``.

    ``waves``: name -> (frequency Hz, one period of the wave). ``cases``: case name -> (rowclocks,
    frameclocks, frequency names); every case lists the same names for FAST and, per detector in
    ``detectors``, SLOW. Written under a temporary name, then renamed.
    """

    tree = {
        "meta": {"reftype": "emicorr", "telescope": "JWST", "instrument": {"name": "MIRI"},
                 "model_type": "EmiModel", "useafter": useafter, "pedigree": pedigree, "author": author,
                 "description": description},
        "frequencies": {name: {"frequency": float(frequency), "phase_amplitudes": np.asarray(wave, np.float32)}
                        for name, (frequency, wave) in waves.items()},
        "subarray_cases": {
            case: {"rowclocks": int(rowclocks), "frameclocks": int(frameclocks),
                   "freqs": {"FAST": list(names), "SLOW": {det: list(names) for det in detectors}}}
            for case, (rowclocks, frameclocks, names) in cases.items()
        },
    }
    return write_asdf(tree, path)


def _plain(node: Any) -> Any:
    """An ASDF tree as plain dicts, lists and numpy arrays (detached from the file)."""
    if isinstance(node, Mapping):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, (list, tuple)):
        return [_plain(value) for value in node]
    if isinstance(node, np.ndarray) or hasattr(node, "__array__") and not np.isscalar(node):
        return np.array(node)
    return node
