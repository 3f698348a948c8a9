"""Header keywords and the INT_TIMES / GROUP tables of a simulated ``_uncal`` exposure.

Exposure times follow the archive's definitions (see OFFICIAL-OFFLINE.md): EFFINTTM is the time from
reset to last read, EFFEXPTM = XPOSURE = EFFINTTM * NINTS, TMEASURE = (NGROUPS - 1) * TGROUP * NINTS,
DURATION = TELAPSE = EFFINTTM * NINTS + TFRAME * NRESETS * (NINTS - 1). Times are MJD (UTC); no
barycentric correction is simulated (the *_BJD_TDB columns repeat the UTC values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from astropy.time import Time

from jwstlazy.simulate.detectors import Detector
from jwstlazy.simulate.readout import Readout, Subarray

SECONDS_PER_DAY = 86400.0
_MJD_J2000_DAY = 51544.0


@dataclass(frozen=True)
class ExposureId:
    """Program bookkeeping that names the file: jw<program><obs><visit>_<vgroup><seq><act>_<exposure>."""

    program: int = 1234
    observation: int = 1
    visit: int = 1
    visit_group: int = 3
    sequence: int = 1
    activity: int = 1
    exposure: int = 1

    def basename(self, detector: Detector) -> str:
        return (f"jw{self.program:05d}{self.observation:03d}{self.visit:03d}_{self.visit_group:02d}"
                f"{self.sequence:1d}{self.activity:02d}_{self.exposure:05d}_{detector.name.lower()}")

    def keywords(self) -> dict[str, object]:
        visit_id = f"{self.program:05d}{self.observation:03d}{self.visit:03d}"
        return {
            "PROGRAM": f"{self.program:05d}", "OBSERVTN": f"{self.observation:03d}",
            "VISIT": f"{self.visit:03d}", "VISITGRP": f"{self.visit_group:02d}",
            "SEQ_ID": str(self.sequence), "ACT_ID": f"{self.activity:02d}",
            "EXPOSURE": str(self.exposure), "VISIT_ID": visit_id,
            "OBS_ID": f"V{visit_id}P0000000{self.visit_group:02d}{self.sequence:1d}{self.activity:02d}",
        }


def timing_keywords(readout: Readout, expstart: float) -> dict[str, object]:
    """NINTS ... TFRAME, TGROUP, EFFINTTM, EFFEXPTM, XPOSURE, TMEASURE, DURATION, TELAPSE, EXPSTART/MID/END."""
    duration = readout.effinttm * readout.nints + readout.tframe * readout.nresets * (readout.nints - 1)
    expend = expstart + duration / SECONDS_PER_DAY
    start, end = Time(expstart, format="mjd", scale="utc"), Time(expend, format="mjd", scale="utc")
    iso_start = start.isot
    return {
        "READPATT": readout.readpatt, "NINTS": readout.nints, "NGROUPS": readout.ngroups,
        "NFRAMES": readout.nframes, "GROUPGAP": readout.groupgap, "FRMDIVSR": readout.nframes,
        "NSAMPLES": 1, "TSAMPLE": 10.0, "DRPFRMS1": 0, "DRPFRMS3": 0, "NRSTSTRT": 1,
        "NRESETS": readout.nresets, "TFRAME": readout.tframe, "TGROUP": readout.tgroup,
        "EFFINTTM": readout.effinttm, "EFFEXPTM": readout.effinttm * readout.nints,
        "XPOSURE": readout.effinttm * readout.nints,
        "TMEASURE": (readout.ngroups - 1) * readout.tgroup * readout.nints,
        "DURATION": duration, "TELAPSE": duration,
        "EXPSTART": expstart, "EXPMID": (expstart + expend) / 2.0, "EXPEND": expend,
        "MJD-BEG": expstart, "MJD-AVG": (expstart + expend) / 2.0, "MJD-END": expend,
        "DATE-OBS": iso_start[:10], "TIME-OBS": iso_start[11:23], "DATE-BEG": iso_start[:23],
        "DATE-END": end.isot[:23],
    }


def subarray_keywords(detector: Detector, subarray: Subarray) -> dict[str, object]:
    return {
        "SUBARRAY": subarray.name, "SUBSTRT1": subarray.substrt1, "SUBSTRT2": subarray.substrt2,
        "SUBSIZE1": subarray.subsize1, "SUBSIZE2": subarray.subsize2, "NOUTPUTS": subarray.noutputs,
        "FASTAXIS": detector.fastaxis, "SLOWAXIS": detector.slowaxis,
        "APERNAME": subarray.apername, "PPS_APER": subarray.apername,
    }


def int_times_table(readout: Readout, expstart: float) -> dict[str, np.ndarray]:
    """INT_TIMES columns: integration_number and int_{start,mid,end}_{MJD_UTC,BJD_TDB}."""
    start = expstart + np.arange(readout.nints) * readout.integration_cadence / SECONDS_PER_DAY
    end = start + readout.effinttm / SECONDS_PER_DAY
    mid = (start + end) / 2.0
    table = {"integration_number": np.arange(1, readout.nints + 1, dtype=np.int32)}
    for label, values in (("start", start), ("mid", mid), ("end", end)):
        table[f"int_{label}_MJD_UTC"] = values
    for label, values in (("start", start), ("mid", mid), ("end", end)):
        table[f"int_{label}_BJD_TDB"] = values.copy()
    return table


def group_table(readout: Readout, subarray: Subarray, expstart: float) -> dict[str, np.ndarray]:
    """GROUP columns, one row per (integration, group), with the end time of each group's last read."""
    integ, group = np.meshgrid(np.arange(readout.nints), np.arange(readout.ngroups), indexing="ij")
    integ, group = integ.ravel(), group.ravel()
    last_frame = group * (readout.nframes + readout.groupgap) + readout.nframes  # reads are 1-based in time
    seconds = integ * readout.integration_cadence + last_frame * readout.tframe
    mjd = expstart + seconds / SECONDS_PER_DAY
    day = np.floor(mjd - _MJD_J2000_DAY)
    ms_of_day = (mjd - _MJD_J2000_DAY - day) * SECONDS_PER_DAY * 1000.0
    iso = Time(mjd, format="mjd", scale="utc").isot
    n = len(mjd)
    return {
        "integration_number": (integ + 1).astype(np.int16),
        "group_number": (group + 1).astype(np.int16),
        "end_day": day.astype(np.int16),
        "end_milliseconds": np.floor(ms_of_day).astype(np.int32),
        "end_submilliseconds": np.floor((ms_of_day % 1.0) * 1000.0).astype(np.int16),
        "group_end_time": np.array([t.replace("T", " ") for t in np.atleast_1d(iso)], dtype="U26"),
        "number_of_columns": np.full(n, subarray.subsize1, dtype=np.int16),
        "number_of_rows": np.full(n, subarray.subsize2, dtype=np.int16),
        "number_of_gaps": np.zeros(n, dtype=np.int16),
        "completion_code_number": np.zeros(n, dtype=np.int16),
        "completion_code_text": np.full(n, "COMPLETE", dtype="U36"),
        "bary_end_time": mjd.copy(),
        "helio_end_time": mjd.copy(),
    }
