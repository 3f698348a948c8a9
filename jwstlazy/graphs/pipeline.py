"""Pipelines: ordered lists of steps that users can tune, skip, replace, extend and partly rerun.

``Detector1Pipeline(steps={"jump": {"rejection_threshold": 5}}).build(path)`` returns the lazy products;
``.run(path, output_dir=...)`` computes them and writes the files.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import xarray as xr

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.steps.base import Products, Step, _as_finder
from jwstlazy.steps.side_products import collect_side_products


class Pipeline:
    """An ordered list of steps.

    Parameters
    ----------
    steps : mapping, optional
        Per-step parameters by step name, e.g. ``{"jump": {"rejection_threshold": 5}, "ipc": {"skip": True}}``.
    references : ReferenceFinder, mapping of reftype -> path, directory, or None
        Where reference files come from (see :class:`jwstlazy.references.ReferenceFinder`).
    """

    name: ClassVar[str] = "pipeline"
    #: Product suffixes this pipeline writes, in order (e.g. ``("rate", "rateints")``); an instance adds the
    #: side products its step parameters ask for.
    output_suffixes: tuple[str, ...] = ()

    def __init__(self, steps: Mapping[str, Mapping[str, Any]] | None = None, references: Any = None) -> None:
        self.step_parameters: dict[str, dict[str, Any]] = {k: dict(v) for k, v in (steps or {}).items()}
        self.references = _as_finder(references)
        self._replacements: dict[str, Step] = {}
        self._insertions: list[tuple[str, Step]] = []
        known = {cls.name for cls in self.all_step_classes()}
        unknown = sorted(set(self.step_parameters) - known)
        if unknown:
            raise JwstLazyInputError(
                f"unknown step {unknown[0]!r}", where=f"{self.name} steps", expected="one of " + ", ".join(sorted(known))
            )
        #: Side-product suffix -> the status keyword (``S_<KEY>``) of the step writing it.
        self.side_product_steps: dict[str, str] = {
            suffix: f"S_{cls.keyword}" for cls in self.all_step_classes()
            for suffix in cls(**self.step_parameters.get(cls.name, {})).side_product_suffixes()
        }  # fmt: skip
        self.output_suffixes = (*type(self).output_suffixes, *self.side_product_steps)

    # -- the step list ---------------------------------------------------------------------------
    @classmethod
    def all_step_classes(cls) -> Sequence[type[Step]]:
        """Every step class this pipeline may run (for parameter validation and help)."""
        raise NotImplementedError

    def step_classes_for(self, data: xr.Dataset) -> Sequence[type[Step]]:
        """The default step order for this input (may depend on instrument or mode)."""
        return self.all_step_classes()

    def replace(self, name: str, step: Step) -> Pipeline:
        """Run ``step`` in place of the step called ``name``."""
        self._replacements[name] = step
        return self

    def insert_after(self, name: str, step: Step) -> Pipeline:
        """Run a user's own ``step`` right after the step called ``name``."""
        self._insertions.append((name, step))
        return self

    def settings_description(self) -> str:
        """The pipeline's configuration in one line: its class, step parameters, replaced and inserted steps
        (e.g. to tell runs that compile different kernels apart)."""
        parameters = json.dumps(self.step_parameters, sort_keys=True, default=repr)
        replaced = sorted(f"{name}={type(step).__qualname__}" for name, step in self._replacements.items())
        inserted = [f"{after}+{type(step).__qualname__}" for after, step in self._insertions]
        return " ".join([f"{type(self).__module__}.{type(self).__qualname__}", parameters, *replaced, *inserted])

    def steps_for(self, data: xr.Dataset) -> list[Step]:
        """The configured step instances, in order, for this input."""
        steps: list[Step] = []
        for cls in self.step_classes_for(data):
            step = self._replacements.get(cls.name) or cls(**self.step_parameters.get(cls.name, {}))
            steps.append(step)
            steps.extend(extra for after, extra in self._insertions if after == cls.name)
        return steps

    # -- building and running --------------------------------------------------------------------
    def build(self, data: Products | str | os.PathLike, start: str | None = None, stop: str | None = None) -> Products:
        """Return the lazy products of the pipeline for one input (nothing is computed).

        ``start``/``stop`` name the first and last step to run, to rerun part of a pipeline on an
        intermediate product. Steps' side products (``save_mask``, ...) come as products of their own suffix
        when the result is a dict of products (:mod:`jwstlazy.steps.side_products`).
        """
        if isinstance(data, (str, os.PathLike)):
            from jwstlazy.datamodels import open as open_product

            data = open_product(Path(data))
        first = next(iter(data.values())) if isinstance(data, dict) else data
        steps = self.steps_for(first)
        names = [s.name for s in steps]
        for bound in (start, stop):
            if bound is not None and bound not in names:
                raise JwstLazyInputError(f"no step {bound!r} in this pipeline", where=self.name, expected=", ".join(names))
        lo = names.index(start) if start else 0
        hi = names.index(stop) + 1 if stop else len(steps)
        source = data
        for index in range(lo, hi):
            data = self.before_step(steps[index], data, source, steps[lo:index])
            data = steps[index].run(data, self.references)
        return collect_side_products(data) if isinstance(data, dict) else data

    def before_step(self, step: Step, data: Products, source: Products, earlier: Sequence[Step]) -> Products:
        """Hook: what ``step`` gets, given the build's ``source`` and the ``earlier`` steps run on it (default:
        ``data`` unchanged). Subclasses may add lazily computed side inputs here."""
        return data

    def run(
        self,
        inputs: Iterable[str | os.PathLike] | str | os.PathLike,
        output_dir: str | os.PathLike = ".",
        scheduler: str | None = None,
        overwrite: bool = False,
        progress: bool = True,
        start: str | None = None,
    ) -> list[Path]:
        """Build the graph for every input, compute it and write the products; returns written paths.
        ``start``: the step to begin at, for inputs saved part way (``_ramp.fits`` and ``"ramp_fit"``)."""
        from jwstlazy.graphs.execute import run_program

        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        return run_program(self, list(inputs), Path(output_dir), scheduler=scheduler, overwrite=overwrite,
                           progress=progress, start=start)
