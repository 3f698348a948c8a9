"""persistence: flag groups inside per-pixel persistence time windows (jwst 3.0; off by default).

jwst 3.0 has no trap model any more: it only FLAGS. Its state, carried from one exposure of a detector to
the next, is the *persistence array*: per pixel the Unix epoch (s) at which the pixel's window ends (0 =
none). Here it comes in through ``persistence_array`` (an (ny, nx) array: numpy, dask or the
``PERSISTENCE_END`` DataArray of the previous exposure) or ``persistence_array_file`` (the upstream ASDF
file), and goes out as the data variable ``PERSISTENCE_END`` (dims (y, x), float64, lazy) whose attrs hold
``pers_time``: a program graph passes it to the next exposure of the same detector without computing
anything; ``jwstlazy.datamodels.persistence_array.write_persistence_array`` writes it in the upstream file
layout (what ``save_persistence`` does upstream; a step never writes files).

Per pixel with no halo, but the state runs through the integrations in order: each chunk holds all
integrations (``pixel_array`` gives exactly that). See docs/steps/persistence.md.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels.persistence_array import read_persistence_array
from jwstlazy.errors import JwstLazyInputError
from jwstlazy.kernels.persistence import flag_persistence, integration_start_epochs
from jwstlazy.steps.base import Step, StepParameters, StepSkipped
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import as_ramp, pixel_array, with_arrays

log = logging.getLogger(__name__)

#: The output state variable (the next exposure's ``persistence_array``).
STATE_VARIABLE = "PERSISTENCE_END"
_INT_START = "INT_TIMES.int_start_MJD_UTC"


class PersistenceStep(Step):
    """Flag PERSISTENCE (optionally | DO_NOT_USE) inside windows opened by saturation or ``dn_threshold``.

    Without a positive ``persistence_time`` upstream marks the step FAILED and leaves the data alone; here
    the step is SKIPPED with that reason.
    """

    name = "persistence"
    keyword = "PERSIS"

    @dataclasses.dataclass
    class Parameters(StepParameters):
        skip: bool = True
        #: Seconds a window stays open (upstream: integer, no default).
        persistence_time: int | None = None
        #: DN above which a group opens a window (None: saturation only).
        dn_threshold: float | None = None
        #: Upstream's ASDF persistence-array file (read when it exists; zeros otherwise).
        persistence_array_file: str | None = None
        #: Also set DO_NOT_USE on flagged groups.
        persistence_dnu: bool = False
        #: Upstream: an ASDF file to save the persistence array in for the next exposure; not implemented (an error
        #: when set: a program's exposures would rewrite one shared file in parallel). Use ``persistence_array``.
        save_persistence: str | None = None
        #: jwstlazy: the previous exposure's state, (ny, nx) numpy/dask/DataArray (e.g. its PERSISTENCE_END).
        persistence_array: Any = None

    def process(self, ds: xr.Dataset, references) -> xr.Dataset:
        self.require_supported({"save_persistence": None})
        p = self.parameters
        if p.persistence_time is None or p.persistence_time <= 0:
            raise StepSkipped("persistence_time must be set to a positive number of seconds "
                              "(upstream marks the step FAILED without it)")
        ramp = as_ramp(ds)
        sci, groupdq = pixel_array(ramp, "SCI"), pixel_array(ramp, "GROUPDQ")
        nints, ngroups = sci.shape[:2]
        starts = integration_start_epochs(
            nints,
            _float_keyword(ramp, "EXPSTART"),
            _float_keyword(ramp, "EFFINTTM"),
            np.asarray(ramp[_INT_START].values, dtype=np.float64) if _INT_START in ramp else None,
        )
        groupdq, state = map_pixel_blocks(
            flag_persistence,
            [sci, groupdq, self._initial_state(ramp, sci.shape[-2:])],
            [OutputSpec(np.uint8, (nints, ngroups)), OutputSpec(np.float64)],
            name="persistence",
            integration_starts=starts,
            group_time=_float_keyword(ramp, "TGROUP"),
            persistence_time=float(p.persistence_time),
            dn_threshold=p.dn_threshold,
            persistence_dnu=p.persistence_dnu,
        )
        out = with_arrays(ramp, GROUPDQ=groupdq)
        out[STATE_VARIABLE] = (("y", "x"), state, {"BUNIT": "s", "pers_time": p.persistence_time,
                                                   "description": "persistence window end, Unix epoch s (0: none)"})
        return out

    def _initial_state(self, ramp: xr.Dataset, shape: tuple[int, int]) -> np.ndarray | da.Array:
        """The incoming persistence array: from ``persistence_array``, the ASDF file, or zeros."""
        p = self.parameters
        given = p.persistence_array
        if given is not None and p.persistence_array_file is not None:
            raise JwstLazyInputError("both persistence_array and persistence_array_file given",
                                     where="steps.persistence", expected="at most one of them")
        if p.persistence_array_file is not None:
            return read_persistence_array(p.persistence_array_file, str(ramp.attrs.get("DETECTOR", "")), shape,
                                          p.persistence_time)
        if given is None:
            return np.zeros(shape, dtype=np.float64)
        if isinstance(given, xr.DataArray):
            previous_time = given.attrs.get("pers_time", p.persistence_time)
            if previous_time != p.persistence_time:
                log.info("persistence array was made with pers_time %s, not %s: ignored", previous_time,
                         p.persistence_time)
                return np.zeros(shape, dtype=np.float64)
            given = given.data
        if tuple(given.shape) != tuple(shape):
            raise JwstLazyInputError(f"persistence array of shape {tuple(given.shape)}",
                                     path=ramp.attrs.get("filename"), where="steps.persistence.persistence_array",
                                     expected=f"the exposure's (ny, nx) = {tuple(shape)}")
        return given.astype(np.float64) if isinstance(given, da.Array) else np.asarray(given, dtype=np.float64)


def _float_keyword(ds: xr.Dataset, name: str) -> float:
    """Header keyword ``name`` as a float; a missing one names the file and keyword."""
    value = ds.attrs.get(name)
    if value is None:
        raise JwstLazyInputError("missing keyword", path=ds.attrs.get("filename"), where=name, expected="a number")
    return float(value)
