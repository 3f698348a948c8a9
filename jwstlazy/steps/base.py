"""The Step: one calibration operation with typed parameters, reference types and a lazy ``process``.

A step is usable alone (``JumpStep(rejection_threshold=5).run(ramp)``), inside a pipeline, and from the
command line (``--steps.jump.rejection_threshold=5``). It records what it did in the product's header
(``S_<KEY> = 'COMPLETE'`` or ``'SKIPPED'`` and ``R_<KEY>`` = the reference file used).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import xarray as xr

from jwstlazy.errors import JwstLazyInputError, MissingReferenceError

log = logging.getLogger(__name__)

#: A step's input/output: one Dataset, or named products (``{"rate": ds, "rateints": ds}``).
Products = xr.Dataset | dict[str, xr.Dataset]


@dataclasses.dataclass
class StepParameters:
    """Parameters every step has. Subclasses add typed fields with defaults and a docstring."""

    skip: bool = False


def _coerce(value: Any, annotation: Any, step: str, name: str) -> Any:
    """Convert a command-line/TOML string (or any value) to the parameter's declared type."""
    if isinstance(annotation, str):
        annotation = eval(annotation, vars(typing))  # dataclass annotations under `from __future__ import annotations`
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        errors = []
        for candidate in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, candidate, step, name)
            except JwstLazyInputError as exc:
                errors.append(str(exc))
        raise JwstLazyInputError(f"cannot use {value!r}", where=f"steps.{step}.{name}", expected=str(annotation))
    try:
        if annotation is bool:
            if isinstance(value, str):
                lowered = value.strip().lower()
                if lowered in ("1", "true", "yes", "on"):
                    return True
                if lowered in ("0", "false", "no", "off"):
                    return False
                raise ValueError(value)
            return bool(value)
        if annotation in (int, float, str):
            return annotation(value)
        if origin in (tuple, list) and isinstance(value, str):
            items = [item.strip() for item in value.strip("()[]").split(",") if item.strip()]
            inner = args[0] if args else str
            return origin(_coerce(item, inner, step, name) for item in items)
        return value
    except (TypeError, ValueError):
        raise JwstLazyInputError(
            f"cannot use {value!r}", where=f"steps.{step}.{name}", expected=getattr(annotation, "__name__", str(annotation))
        ) from None


class StepSkipped(Exception):
    """Raised by :meth:`Step.process` when the step does not apply (e.g. its reference is ``"N/A"``).

    :meth:`Step.run` then returns the input unchanged, marked ``S_<KEY> = 'SKIPPED'``; the message says why.
    """


class Step:
    """Base class of every calibration step.

    Subclasses set ``name`` (the parameter namespace, as upstream: ``"jump"``), ``keyword`` (the header
    suffix of ``S_<keyword>``, as upstream: ``"JUMP"``), ``reference_types`` and a nested ``Parameters``
    dataclass, and implement :meth:`process`, which must stay lazy (dask in, dask out).
    """

    name: ClassVar[str] = "step"
    keyword: ClassVar[str] = "STEP"
    reference_types: ClassVar[tuple[str, ...]] = ()
    #: Skip (with a warning) instead of failing when a reference file cannot be found, as the official
    #: pipeline does for reference types CRDS marks not applicable (ipc, persistence, reset, ...).
    skip_without_references: ClassVar[bool] = False
    #: Header key suffix per reference type (``R_<suffix>``), as the official products name them.
    reference_keywords: ClassVar[dict[str, str]] = {}

    @dataclasses.dataclass
    class Parameters(StepParameters):
        pass

    def __init__(self, **parameters: Any) -> None:
        fields = {f.name: f for f in dataclasses.fields(self.Parameters)}
        unknown = sorted(set(parameters) - set(fields))
        if unknown:
            raise JwstLazyInputError(
                f"unknown parameter {unknown[0]!r}",
                where=f"steps.{self.name}",
                expected="one of " + ", ".join(sorted(fields)),
            )
        coerced = {key: _coerce(value, fields[key].type, self.name, key) for key, value in parameters.items()}
        self.parameters = self.Parameters(**coerced)

    # -- what subclasses implement -------------------------------------------------------------
    def process(self, data: xr.Dataset, references: Mapping[str, xr.Dataset | None]) -> Products:
        """Return the calibrated data (lazy). ``references`` maps reference type -> loaded reference.

        Called once per product when the step is given named products. A step that produces several
        products from one input (ramp fitting: ``rate`` and ``rateints``) returns a dict of them.
        """
        raise NotImplementedError

    def needed_reference_types(self, data: xr.Dataset) -> tuple[str, ...]:
        """The reference types this step's run on ``data`` (its first product) loads: :attr:`reference_types`,
        unless an option or the kind of input needs more or fewer (a step overrides this then)."""
        return self.reference_types

    def side_product_suffixes(self) -> tuple[str, ...]:
        """Suffixes of the side products this step's parameters ask for (``_mask.fits``, ...; see
        :mod:`jwstlazy.steps.side_products`); none by default."""
        return ()

    def require_supported(self, supported: Mapping[str, Any]) -> None:
        """Raise :class:`JwstLazyInputError` naming the first parameter whose value is not the only one
        implemented (``supported``: parameter name -> that value), for upstream options not built yet."""
        for name, value in supported.items():
            if getattr(self.parameters, name) != value:
                raise JwstLazyInputError(f"{name}={getattr(self.parameters, name)!r} is not implemented",
                                         where=f"steps.{self.name}.{name}", expected=repr(value))

    # -- running ---------------------------------------------------------------------------------
    def run(self, data: Products | str | os.PathLike, references: Any = None) -> Products:
        """Apply the step (lazily) to a Dataset, named products, or a file path.

        ``references`` is a :class:`~jwstlazy.references.ReferenceFinder`, a mapping of reference type to
        path (explicit overrides) or ``None`` (look in ``$CRDS_PATH``).
        """
        if isinstance(data, (str, os.PathLike)):
            from jwstlazy.datamodels import open as open_product

            data = open_product(Path(data))
        if self.parameters.skip:
            return _each(data, lambda ds: _with_attrs(ds, {f"S_{self.keyword}": "SKIPPED"}))
        finder = _as_finder(references)
        first = next(iter(data.values())) if isinstance(data, dict) else data
        try:
            loaded = {reftype: finder.load(reftype, first) for reftype in self.needed_reference_types(first)}
        except MissingReferenceError as missing:
            if not self.skip_without_references:
                raise
            log.warning("%s skipped: %s", self.name, missing)
            return _each(data, lambda ds: _with_attrs(ds, {f"S_{self.keyword}": "SKIPPED"}))
        try:
            result = _each(data, lambda ds: self.process(ds, loaded))
        except StepSkipped as reason:
            log.warning("%s skipped: %s", self.name, reason)
            return _each(data, lambda ds: _with_attrs(ds, {f"S_{self.keyword}": "SKIPPED"}))
        record = {f"S_{self.keyword}": "COMPLETE"}
        for reftype, ref in loaded.items():
            if ref is not None:
                key = self.reference_keywords.get(reftype, reftype.upper()[:6])
                record[f"R_{key}"] = os.path.basename(str(ref.attrs.get("filename", "N/A")))
        return _each(result, lambda ds: _with_attrs(ds, record))

    __call__ = run

    def describe_parameters(self) -> dict[str, Any]:
        """The current parameter values, for logs and provenance."""
        return dataclasses.asdict(self.parameters)

    def __repr__(self) -> str:
        changed = {
            f.name: getattr(self.parameters, f.name)
            for f in dataclasses.fields(self.parameters)
            if getattr(self.parameters, f.name) != f.default
        }
        args = ", ".join(f"{k}={v!r}" for k, v in changed.items())
        return f"{type(self).__name__}({args})"


def _as_finder(references: Any):
    from jwstlazy.references import ReferenceFinder

    if isinstance(references, ReferenceFinder):
        return references
    if references is None:
        return ReferenceFinder()
    if isinstance(references, Mapping):
        return ReferenceFinder(overrides=dict(references))
    if isinstance(references, (str, os.PathLike)):
        return ReferenceFinder(directories=[Path(references)])
    raise JwstLazyInputError(
        f"cannot use {type(references).__name__} as references",
        where="references",
        expected="a ReferenceFinder, a dict of reftype -> path, a directory, or None",
    )


def _with_attrs(ds: xr.Dataset, attrs: Mapping[str, Any]) -> xr.Dataset:
    out = ds.copy(deep=False)
    out.attrs = {**ds.attrs, **attrs}
    return out


def without_attr(ds: xr.Dataset, key: str) -> xr.Dataset:
    """A shallow copy of ``ds`` without the attr ``key`` (``ds`` itself when it has none, or is no Dataset)."""
    if not isinstance(ds, xr.Dataset) or key not in ds.attrs:
        return ds
    out = ds.copy(deep=False)
    out.attrs = {name: value for name, value in ds.attrs.items() if name != key}
    return out


def _each(data: Products, function) -> Products:
    if isinstance(data, dict):
        return {key: function(value) for key, value in data.items()}
    return function(data)
