"""What the simulator injected, to test the pipeline against; saved as one ``.npz`` file.

Images are float32 (ny, nx) on the exposure's (sub)array, DMS orientation:
- ``rate_e``: signal collected, e-/s (sky + sources, after the flat-field response; dark excluded;
  zero on reference and dead pixels),
- ``rate_dn``: ``rate_e / gain``, DN/s: what a dark-subtracted, linearised ramp fit should give,
- ``dark_dn``: dark current, DN/s,
- ``cal_mjysr``: ``rate_dn / flat * PHOTMJSR``, MJy/sr: what flat_field + photom should give.
``first_saturated``: int16 (nints, ny, nx), the first group at or above the saturation threshold
before read noise (-1: never). ``cosmic_rays``: per (event, pixel) rows, see
:class:`~jwstlazy.simulate.cosmic_rays.CosmicRayHits`. ``sources``: ra, dec, x, y (0-based subarray
pixels), flux_ujy, rate_dn (total DN/s before flat), kind.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.simulate.cosmic_rays import CosmicRayHits

_IMAGES = ("rate_e", "rate_dn", "dark_dn", "cal_mjysr", "first_saturated")


@dataclass
class Truth:
    rate_e: np.ndarray
    rate_dn: np.ndarray
    dark_dn: np.ndarray
    cal_mjysr: np.ndarray
    first_saturated: np.ndarray
    cosmic_rays: CosmicRayHits
    sources: dict[str, np.ndarray]
    attrs: dict = field(default_factory=dict)

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` (.npz, atomically); returns the path."""
        path = Path(path)
        arrays = {name: getattr(self, name) for name in _IMAGES}
        arrays.update({f"cosmic_rays.{k}": v for k, v in self.cosmic_rays.columns().items()})
        arrays.update({f"sources.{k}": v for k, v in self.sources.items()})
        arrays["attrs_json"] = np.array(json.dumps(self.attrs))
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)
        os.replace(tmp, path)
        return path


def load_truth(path: str | os.PathLike) -> Truth:
    """Read a truth file written by :meth:`Truth.save`."""
    try:
        with np.load(path, allow_pickle=False) as data:
            content = {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise JwstLazyInputError(f"cannot read truth file: {exc}", path=path, expected="a .npz truth file") from exc
    missing = [k for k in _IMAGES + ("attrs_json",) if k not in content]
    if missing:
        raise JwstLazyInputError("missing arrays", path=path, where=", ".join(missing),
                                 expected="a truth file written by jwstlazy.simulate")
    hits = CosmicRayHits(**{k.split(".", 1)[1]: v for k, v in content.items() if k.startswith("cosmic_rays.")})
    sources = {k.split(".", 1)[1]: v for k, v in content.items() if k.startswith("sources.")}
    return Truth(*(content[k] for k in _IMAGES), cosmic_rays=hits, sources=sources,
                 attrs=json.loads(str(content["attrs_json"])))
