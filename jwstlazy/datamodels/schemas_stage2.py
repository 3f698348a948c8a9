"""Stage-2/3 imaging product schemas: ``i2d`` (a drizzled image), registered on import.

``cal``/``calints`` are in :mod:`jwstlazy.datamodels.schemas`. An ``i2d`` has SCI, ERR (MJy/sr), WHT,
VAR_POISSON/RNOISE/FLAT ((MJy/sr)^2) on (y, x), and CON int32 (plane, y, x): bit ``i % 32`` of plane
``i // 32`` set where input ``i`` contributed. No DQ. Official datamodel: ``ImageModel``.
"""

from __future__ import annotations

import numpy as np

from jwstlazy.datamodels.schemas import ProductSchema, VariableSpec, register

I2D = register(
    ProductSchema(
        "i2d",
        "ImageModel",
        {
            "SCI": VariableSpec(("y", "x"), np.dtype(np.float32), bunit="MJy/sr"),
            "ERR": VariableSpec(("y", "x"), np.dtype(np.float32), required=False, bunit="MJy/sr"),
            "CON": VariableSpec(("plane", "y", "x"), np.dtype(np.int32)),
            "WHT": VariableSpec(("y", "x"), np.dtype(np.float32)),
            "VAR_POISSON": VariableSpec(("y", "x"), np.dtype(np.float32), required=False, bunit="(MJy/sr)^2"),
            "VAR_RNOISE": VariableSpec(("y", "x"), np.dtype(np.float32), required=False, bunit="(MJy/sr)^2"),
            "VAR_FLAT": VariableSpec(("y", "x"), np.dtype(np.float32), required=False, bunit="(MJy/sr)^2"),
        },
        ("INSTRUME", "DETECTOR", "EXP_TYPE"),
        tables=(),
        description="resampled (drizzled) image",
    )
)
