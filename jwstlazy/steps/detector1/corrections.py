"""Consecutive per-sample corrections of SCI, fused into one pass over each pixel block.

superbias, refpix (its apply), linearity (classic) and dark_current each change SCI sample by sample.
Run one after the other, every step reads a block and writes a new one. Instead, each step hands
:func:`with_correction` a :class:`CorrectionStage` (its reference blocks and how to prepare them), and when
the ramp's SCI is still the output of the previous stages, the new stage joins them: ONE task per block
prepares every stage's references and makes one pass with :func:`jwstlazy.kernels.corrections.
apply_corrections`. Results are the same bit for bit (the kernel keeps each step's arithmetic).

Each step stays usable alone (a chain of one stage), skippable (a skipped step adds no stage) and
replaceable: any step that changes SCI, GROUPDQ or PIXELDQ in between ends the chain, which is noticed from
the arrays' dask names, and the next stage starts a new one. Stages join only in the kernel's order
(bias, offsets, linearity, dark); one out of that order starts a new chain.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from jwstlazy.kernels.corrections import Corrections, apply_corrections
from jwstlazy.steps.chunked import OutputSpec, map_pixel_blocks
from jwstlazy.steps.detector1.ramp_model import pixel_array, with_arrays

#: Lower-case Dataset attr (never a header keyword) holding the chain that produced the ramp's SCI.
CHAIN_ATTR = "pending_corrections"

#: ``Corrections`` fields in the kernel's order: a stage joins a chain only after the stages before it.
ORDER = ("bias", "offsets", "linearity", "dark")


@dataclass(frozen=True)
class CorrectionStage:
    """One step's part of the fused pass.

    ``prepare(corrections, pixeldq, *blocks, **options)`` runs in the block's task: it fills its fields of
    ``corrections`` (a :class:`~jwstlazy.kernels.corrections.Corrections`) from ``blocks``, the blocks of
    ``inputs`` (dask arrays ending in the ramp's (y, x) pixel axes), and returns the new PIXELDQ block.
    It must be a module-level function (tasks are pickled by reference).
    """

    step: str  #: the step's name, for the task names (``superbias+refpix+linearity+dark``)
    kind: str  #: one of :data:`ORDER`
    prepare: Callable[..., np.ndarray]
    inputs: tuple[da.Array | np.ndarray, ...] = ()
    options: dict[str, Any] = field(default_factory=dict)
    needs_groupdq: bool = False  #: linearity reads the SATURATED flags


@dataclass(frozen=True)
class _Chain:
    """Stages applied, in one pass, to the ramp arrays ``sci``, ``groupdq``, ``pixeldq`` as they were before
    the first; ``produced`` names the SCI and PIXELDQ arrays the pass made."""

    sci: da.Array
    groupdq: da.Array
    pixeldq: da.Array
    stages: tuple[CorrectionStage, ...]
    produced: tuple[str, str]


def with_correction(ramp: xr.Dataset, stage: CorrectionStage) -> xr.Dataset:
    """``ramp`` with ``stage`` applied to SCI and PIXELDQ, fused with the stages that made its SCI if any."""
    sci, groupdq, pixeldq = (pixel_array(ramp, name) for name in ("SCI", "GROUPDQ", "PIXELDQ"))
    chain = ramp.attrs.get(CHAIN_ATTR)
    if _continues(chain, sci, groupdq, pixeldq, stage):
        sci, groupdq, pixeldq, stages = chain.sci, chain.groupdq, chain.pixeldq, (*chain.stages, stage)
    else:
        stages = (stage,)
    with_groupdq = any(s.needs_groupdq for s in stages)
    arrays = [sci, *([groupdq] if with_groupdq else []), pixeldq, *(a for s in stages for a in s.inputs)]
    plan = tuple((s.prepare, len(s.inputs), s.options) for s in stages)
    new_sci, new_pixeldq = map_pixel_blocks(
        _corrected_block, arrays, [OutputSpec(np.float32, sci.shape[:2]), OutputSpec(np.uint32)],
        name="+".join(s.step for s in stages), plan=plan, with_groupdq=with_groupdq,
    )
    out = with_arrays(ramp, SCI=new_sci, PIXELDQ=new_pixeldq)
    out.attrs[CHAIN_ATTR] = _Chain(sci, groupdq, pixeldq, stages, (new_sci.name, new_pixeldq.name))
    return out


def without_chain(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` without the chain attr (a pipeline's products need not carry the graphs behind it)."""
    if CHAIN_ATTR not in ds.attrs:
        return ds
    out = ds.copy(deep=False)
    out.attrs = {key: value for key, value in ds.attrs.items() if key != CHAIN_ATTR}
    return out


def _continues(chain: Any, sci: da.Array, groupdq: da.Array, pixeldq: da.Array, stage: CorrectionStage) -> bool:
    """Whether ``stage`` may join ``chain``: the ramp is still the chain's output and the order allows it."""
    return (
        isinstance(chain, _Chain)
        and chain.produced == (sci.name, pixeldq.name)
        and chain.groupdq.name == groupdq.name
        and ORDER.index(chain.stages[-1].kind) < ORDER.index(stage.kind)
    )


def _corrected_block(data, *blocks, plan: tuple, with_groupdq: bool):
    """Task body for one pixel block: (SCI, PIXELDQ) after every stage of ``plan``."""
    groupdq = blocks[0] if with_groupdq else None
    pixeldq = blocks[1 if with_groupdq else 0]
    rest = blocks[2 if with_groupdq else 1:]
    corrections = Corrections()
    for prepare, count, options in plan:
        pixeldq = prepare(corrections, pixeldq, *rest[:count], **options)
        rest = rest[count:]
    return apply_corrections(data, groupdq, corrections), pixeldq
