"""JWST data-quality flags, with exactly the bit values of the official pipeline.

Pixel DQ arrays are ``uint32``; group DQ arrays are ``uint8`` and use bits 0-7 only.
"""

from __future__ import annotations

import numpy as np

#: Pixel flag name -> value (2**bit), as in ``stdatamodels.jwst.datamodels.dqflags``.
PIXEL: dict[str, int] = {
    "GOOD": 0,
    "DO_NOT_USE": 1 << 0,
    "SATURATED": 1 << 1,
    "JUMP_DET": 1 << 2,
    "DROPOUT": 1 << 3,
    "OUTLIER": 1 << 4,
    "PERSISTENCE": 1 << 5,
    "AD_FLOOR": 1 << 6,
    "CHARGELOSS": 1 << 7,
    "RESERVED_4": 1 << 8,
    "NON_SCIENCE": 1 << 9,
    "DEAD": 1 << 10,
    "HOT": 1 << 11,
    "WARM": 1 << 12,
    "LOW_QE": 1 << 13,
    "RC": 1 << 14,
    "TELEGRAPH": 1 << 15,
    "NONLINEAR": 1 << 16,
    "BAD_REF_PIXEL": 1 << 17,
    "NO_FLAT_FIELD": 1 << 18,
    "NO_GAIN_VALUE": 1 << 19,
    "NO_LIN_CORR": 1 << 20,
    "NO_SAT_CHECK": 1 << 21,
    "UNRELIABLE_BIAS": 1 << 22,
    "UNRELIABLE_DARK": 1 << 23,
    "UNRELIABLE_SLOPE": 1 << 24,
    "UNRELIABLE_FLAT": 1 << 25,
    "OPEN": 1 << 26,
    "ADJ_OPEN": 1 << 27,
    "FLUX_ESTIMATED": 1 << 28,
    "MSA_FAILED_OPEN": 1 << 29,
    "OTHER_BAD_PIXEL": 1 << 30,
    "REFERENCE_PIXEL": 1 << 31,
}

#: Group flag name -> value; the first eight pixel flags.
GROUP: dict[str, int] = {
    name: PIXEL[name]
    for name in (
        "GOOD",
        "DO_NOT_USE",
        "SATURATED",
        "JUMP_DET",
        "DROPOUT",
        "OUTLIER",
        "PERSISTENCE",
        "AD_FLOOR",
        "CHARGELOSS",
    )
}

PIXEL_DTYPE = np.uint32
GROUP_DTYPE = np.uint8

# Short module-level names for kernels and steps (numba sees them as constants).
DO_NOT_USE = PIXEL["DO_NOT_USE"]
SATURATED = PIXEL["SATURATED"]
JUMP_DET = PIXEL["JUMP_DET"]
DROPOUT = PIXEL["DROPOUT"]
OUTLIER = PIXEL["OUTLIER"]
PERSISTENCE = PIXEL["PERSISTENCE"]
AD_FLOOR = PIXEL["AD_FLOOR"]
CHARGELOSS = PIXEL["CHARGELOSS"]
NON_SCIENCE = PIXEL["NON_SCIENCE"]
DEAD = PIXEL["DEAD"]
HOT = PIXEL["HOT"]
WARM = PIXEL["WARM"]
LOW_QE = PIXEL["LOW_QE"]
NO_FLAT_FIELD = PIXEL["NO_FLAT_FIELD"]
NO_GAIN_VALUE = PIXEL["NO_GAIN_VALUE"]
NO_LIN_CORR = PIXEL["NO_LIN_CORR"]
NO_SAT_CHECK = PIXEL["NO_SAT_CHECK"]
UNRELIABLE_BIAS = PIXEL["UNRELIABLE_BIAS"]
UNRELIABLE_DARK = PIXEL["UNRELIABLE_DARK"]
UNRELIABLE_SLOPE = PIXEL["UNRELIABLE_SLOPE"]
UNRELIABLE_FLAT = PIXEL["UNRELIABLE_FLAT"]
FLUX_ESTIMATED = PIXEL["FLUX_ESTIMATED"]
OTHER_BAD_PIXEL = PIXEL["OTHER_BAD_PIXEL"]
REFERENCE_PIXEL = PIXEL["REFERENCE_PIXEL"]


def interpret(value: int, table: dict[str, int] = PIXEL) -> list[str]:
    """Names of the flags set in ``value`` (``["GOOD"]`` for zero)."""
    value = int(value)
    if value == 0:
        return ["GOOD"]
    return [name for name, bit in table.items() if bit and value & bit]


def value_of(names: str | list[str], table: dict[str, int] = PIXEL) -> int:
    """Combined value of flag names (``"DO_NOT_USE, SATURATED"`` or a list)."""
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out = 0
    for name in names:
        out |= table[name.upper()]
    return out


def dq_def_rows(table: dict[str, int] = PIXEL) -> list[tuple[int, int, str, str]]:
    """Rows ``(BIT, VALUE, NAME, DESCRIPTION)`` for a reference file's DQ_DEF table."""
    rows = []
    for name, value in table.items():
        if value == 0:
            continue
        rows.append((int(value).bit_length() - 1, value, name, name.replace("_", " ").lower()))
    return rows
