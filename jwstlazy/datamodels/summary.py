"""``describe(ds)``: a readable multi-line summary of any product (for ``jwstlazy info FILE``)."""

from __future__ import annotations

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.datamodels import dqflags
from jwstlazy.datamodels.schemas import schema_for

#: Keywords shown when present, by topic.
_KEYWORDS_OF_INTEREST = {
    "configuration": ("INSTRUME", "DETECTOR", "MODULE", "CHANNEL", "FILTER", "PUPIL", "GRATING", "BAND",
                      "EXP_TYPE", "READPATT", "SUBARRAY", "APERNAME"),
    "readout": ("NINTS", "NGROUPS", "NFRAMES", "GROUPGAP", "TFRAME", "TGROUP", "EFFEXPTM", "XPOSURE",
                "SUBSTRT1", "SUBSTRT2", "SUBSIZE1", "SUBSIZE2"),
    "target/pointing": ("TARGNAME", "TARG_RA", "TARG_DEC", "RA_REF", "DEC_REF", "ROLL_REF", "DATE-OBS",
                        "TIME-OBS"),
    "photometry": ("BUNIT", "PHOTMJSR", "PIXAR_SR"),
}  # fmt: skip

#: DQ arrays up to this size (bytes) get their flags counted; larger ones would cost a read.
CHEAP_DQ_BYTES = 32 * 2**20


def describe(ds: xr.Dataset) -> str:
    """Multi-line text: product, configuration keywords, exposure shape, variables, DQ flag counts if cheap."""
    product = ds.attrs.get("product") or "unknown"
    schema = schema_for(product)
    title = f"product: {product}"
    if schema is not None:
        title += f" ({schema.datamodel}: {schema.description or product})"
    lines = [str(ds.attrs.get("filename", "<in memory>")), title]
    for topic, keywords in _KEYWORDS_OF_INTEREST.items():
        present = [f"{key}={ds.attrs[key]}" for key in keywords if ds.attrs.get(key) is not None]
        if present:
            lines.append(f"{topic}: " + "  ".join(present))
    if "SCI" in ds.data_vars:
        shape = " x ".join(f"{size} {dim}" for dim, size in ds["SCI"].sizes.items())
        lines.append(f"exposure: {shape}")
    lines.append("variables:")
    width = max((len(str(name)) for name in ds.data_vars), default=0)
    for name, variable in ds.data_vars.items():
        unit = variable.attrs.get("BUNIT") or variable.attrs.get("TUNIT") or ""
        storage = f"dask, {variable.data.npartitions} chunks" if isinstance(variable.data, da.Array) else "numpy"
        dims = ", ".join(map(str, variable.dims))
        lines.append(f"  {str(name):<{width}}  ({dims}) {variable.shape} {variable.dtype} {unit}  [{storage}]")
    lines.extend(_dq_lines(ds))
    return "\n".join(lines)


def _dq_lines(ds: xr.Dataset) -> list[str]:
    """Pixel counts per flag of DQ/PIXELDQ when the array is small enough to read cheaply."""
    lines = []
    for name in ("DQ", "PIXELDQ"):
        if name not in ds.data_vars or ds[name].nbytes > CHEAP_DQ_BYTES:
            continue
        values = np.asarray(ds[name].values).astype(np.uint32, copy=False)
        counts = {flag: int(np.count_nonzero(values & np.uint32(bit)))
                  for flag, bit in dqflags.PIXEL.items() if bit}  # fmt: skip
        flagged = ", ".join(f"{flag} {count}" for flag, count in counts.items() if count)
        lines.append(f"{name} flags ({values.size} pixels): {flagged or 'none set'}")
    return lines
