"""Run the official ``jwst`` Detector1 and Image2 pipelines offline, with per-step wall times.

No CRDS server is reachable here, so (following ``shared/OFFICIAL-OFFLINE.md``):

1. :func:`offline_crds_environment` writes a minimal CRDS cache (``server_config`` plus a hand-made
   pmap -> imap -> rmap) and returns the environment that points CRDS at it, makes any stray server call fail
   at once (``CRDS_SERVER_URL=https://localhost:1``) and turns off parameter reference files.
2. Every reference type declared by every step that runs is overridden: with the caller's file, or ``"N/A"``
   (which the steps accept without asking CRDS, and then skip themselves or the correction).
3. ``prefetch_references`` is switched off on the step classes that prefetch although near-IR data need no
   reference (``RefPixStep``, ``ResetStep``, ``RscdStep``), and restored afterwards.

When CRDS reads its settings: ``import crds`` reads ``CRDS_SERVER_URL`` once (``crds.client.api.URL``);
``CRDS_PATH``, ``CRDS_CONTEXT`` and ``CRDS_MODE`` are read at call time, but the answers built from them
(server config, context name, loaded mappings) are memoised per process by ``crds.core.utils.cached``.
:func:`offline_official` therefore sets the environment AND, when ``crds`` is already imported, re-points
its server URL and clears those memos, on entry and on exit. The ``*_subprocess`` runners avoid the question:
the environment is set before the fresh interpreter starts, and that process's peak RSS is the number a
benchmark wants.

``jwst``/``crds`` are imported lazily inside functions: importing this module needs neither.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypedDict

from jwstlazy.peak_memory import peak_rss_bytes

log = logging.getLogger(__name__)

OFFLINE_CONTEXT = "jwst_0001.pmap"
"""Name of the hand-made pipeline mapping (what products record as CRDS_CTX)."""

UNREACHABLE_SERVER_URL = "https://localhost:1"
"""A CRDS server address that refuses connections at once (never hangs, never reaches the network)."""

CRDS_DEFAULT_SERVER_URL = "https://crds-serverless-mode.stsci.edu"
"""What ``import crds`` uses when ``CRDS_SERVER_URL`` is unset (restored after :func:`offline_official`)."""

JWST_INSTRUMENTS = ("fgs", "miri", "nircam", "niriss", "nirspec")

DETECTOR1_DEFAULT_SKIPS: tuple[str, ...] = (
    "group_scale",
    "emicorr",
    "ipc",
    "persistence",
    "charge_migration",
    "picture_frame",
    "clean_flicker_noise",
)
"""Detector1 steps skipped unless the caller says otherwise: their references are not simulated."""

TIMED_MAXIMUM_CORES_STEPS = ("jump", "ramp_fit")
"""Steps that take ``maximum_cores``; '1' makes timings comparable (on 2 cores 'all' is slower)."""

_INPUT_SUFFIXES = ("uncal", "ramp", "rate", "rateints", "cal", "calints")

_PREFETCHLESS_STEP_CLASSES = (
    ("jwst.refpix.refpix_step", "RefPixStep"),
    ("jwst.reset.reset_step", "ResetStep"),
    ("jwst.rscd.rscd_step", "RscdStep"),
)


class OfficialRunResult(TypedDict):
    """What a run of an official pipeline returns (paths are :class:`~pathlib.Path`).

    - ``products``: product suffix -> written file, e.g. ``{"rate": ..., "rateints": ...}`` for Detector1,
      ``{"cal": ..., "i2d": ...}`` for Image2; only files that exist are listed.
    - ``step_seconds``: wall seconds of each step that ran (not skipped), in the order they ran; a step run
      twice (``gain_scale`` on rate and rateints) has its times summed.
    - ``pipeline_seconds``: wall seconds of ``Pipeline.run`` (reading input, prefetch, steps, saving).
    - ``import_seconds``: wall seconds to import ``jwst.pipeline`` (subprocess runs; ``None`` in-process).
    - ``peak_rss_bytes``: peak resident memory of the process that ran the pipeline (subprocess runs;
      ``None`` in-process, where the figure would include the caller's own memory).
    - ``references_not_applied``: reference types that were given as ``"N/A"`` because none was supplied.
    - ``log_path``: the captured stdout/stderr of the subprocess (``None`` in-process).
    - ``later_run_seconds``: subprocess runs asked for ``runs > 1``: ``pipeline_seconds`` of each run after the
      first, in the same process (imports done, files in the page cache); empty otherwise.
    """

    products: dict[str, Path]
    step_seconds: dict[str, float]
    pipeline_seconds: float
    import_seconds: float | None
    peak_rss_bytes: int | None
    references_not_applied: list[str]
    log_path: Path | None
    later_run_seconds: list[float]


# --------------------------------------------------------------------------------------------------------
# The minimal offline CRDS cache and its environment
# --------------------------------------------------------------------------------------------------------


def _mapping_text(header: Mapping[str, Any], selector: str) -> str:
    """Return a CRDS mapping file's text with the ``sha1sum`` that CRDS checks on loading.

    CRDS computes the checksum over the file's text minus the line that holds ``sha1sum``.
    """
    lines = [f"    {key!r} : {value!r},\n" for key, value in header.items()]
    body_before, body_after = "header = {\n" + "".join(lines), "}\n\nselector = " + selector + "\n"
    checksum = hashlib.sha1((body_before + body_after).encode("utf-8")).hexdigest()
    return body_before + f"    'sha1sum' : {checksum!r},\n" + body_after


def _write_mappings(mapping_dir: Path, instruments: Iterable[str]) -> list[str]:
    """Write a pmap -> one imap per instrument -> one ``mask`` rmap each; return the file names.

    The rmaps select nothing (an empty ``Match``): the runs override every reference, so the mappings only
    have to exist, load and name the context that products record.
    """
    derived_from = "hand made by jwstlazy.crosscheck.official for offline runs"
    instrument_maps: dict[str, str] = {}
    written: list[str] = []
    for instrument in instruments:
        rmap_name = f"jwst_{instrument}_mask_0001.rmap"
        rmap_header = {
            "classes": ("Match", "UseAfter"),
            "derived_from": derived_from,
            "file_ext": ".fits",
            "filekind": "MASK",
            "filetype": "MASK",
            "instrument": instrument.upper(),
            "mapping": "REFERENCE",
            "name": rmap_name,
            "observatory": "JWST",
            "parkey": (("META.INSTRUMENT.DETECTOR", "META.SUBARRAY.NAME"),
                       ("META.OBSERVATION.DATE", "META.OBSERVATION.TIME")),
            "suffix": "mask",
            "text_descr": "Bad Pixel Mask",
        }
        imap_name = f"jwst_{instrument}_0001.imap"
        imap_header = {
            "derived_from": derived_from,
            "instrument": instrument.upper(),
            "mapping": "INSTRUMENT",
            "name": imap_name,
            "observatory": "JWST",
            "parkey": (("META.EXPOSURE.TYPE",),),
        }
        (mapping_dir / rmap_name).write_text(_mapping_text(rmap_header, "Match({\n})"))
        (mapping_dir / imap_name).write_text(_mapping_text(imap_header, f"{{\n    'mask' : {rmap_name!r},\n}}"))
        instrument_maps[instrument.upper()] = imap_name
        written += [imap_name, rmap_name]
    pmap_header = {
        "derived_from": derived_from,
        "mapping": "PIPELINE",
        "name": OFFLINE_CONTEXT,
        "observatory": "JWST",
        "parkey": ("META.INSTRUMENT.NAME",),
    }
    selector = "{\n" + "".join(f"    {name!r} : {imap!r},\n" for name, imap in instrument_maps.items()) + "}"
    (mapping_dir / OFFLINE_CONTEXT).write_text(_mapping_text(pmap_header, selector))
    return [OFFLINE_CONTEXT, *written]


def offline_crds_environment(root: Path, instruments: Iterable[str] = JWST_INSTRUMENTS) -> dict[str, str]:
    """Create a minimal CRDS cache under ``root`` and return the environment variables that use it.

    Writes ``root/config/jwst/server_config`` (a one-line dict literal naming :data:`OFFLINE_CONTEXT` and the
    installed crds version) and ``root/mappings/jwst/`` (pmap -> imap -> rmap). Idempotent. Does not import
    ``crds`` or ``jwst``. Set the returned variables before ``jwst`` runs (see :func:`offline_official`).
    """
    root = Path(root).absolute()
    config_dir = root / "config" / "jwst"
    mapping_dir = root / "mappings" / "jwst"
    config_dir.mkdir(parents=True, exist_ok=True)
    mapping_dir.mkdir(parents=True, exist_ok=True)
    (root / "references" / "jwst").mkdir(parents=True, exist_ok=True)
    mappings = _write_mappings(mapping_dir, instruments)
    server_config = {
        "observatory": "jwst",
        "operational_context": OFFLINE_CONTEXT,
        "edit_context": OFFLINE_CONTEXT,
        "mappings": mappings,
        "bad_files_list": [],
        "force_remote_mode": False,
        "crds_version": {"str": importlib.metadata.version("crds")},
        "reference_url": {},
        "mapping_url": {},
        "last_synced": "offline (hand-made cache)",
    }
    (config_dir / "server_config").write_text(repr(server_config) + "\n")
    return {
        "CRDS_PATH": str(root),
        "CRDS_SERVER_URL": UNREACHABLE_SERVER_URL,
        "CRDS_CONTEXT": OFFLINE_CONTEXT,
        "CRDS_MODE": "local",
        "STPIPE_DISABLE_CRDS_STEPPARS": "true",
    }


_REDIRECTING_CRDS_VARIABLES = tuple(
    f"CRDS_{kind}{single}" for kind in ("PATH", "MAPPATH", "REFPATH", "CFGPATH") for single in ("", "_SINGLE")
)
"""Variables that would send CRDS to another cache; the offline environment removes them (except its own
CRDS_PATH). Other ``CRDS_*`` variables are left alone: ``import crds`` writes its own settings into
``os.environ`` and reads them back later."""


def _environment_changes(base: Mapping[str, str], offline: Mapping[str, str]) -> dict[str, str | None]:
    """What to change in ``base`` to make it offline: name -> new value, or ``None`` to remove it."""
    removed: dict[str, str | None] = {name: None for name in _REDIRECTING_CRDS_VARIABLES if name in base}
    return {**removed, **offline}


def _environment_with(base: Mapping[str, str], offline: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``base`` made offline (see :func:`_environment_changes`)."""
    environment = dict(base)
    for name, value in _environment_changes(base, offline).items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment


def _apply_to_os_environ(changes: Mapping[str, str | None]) -> None:
    """Set (or, for ``None``, remove) variables in ``os.environ``."""
    for name, value in changes.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _reset_imported_crds(server_url: str) -> None:
    """Point an already imported ``crds`` at ``server_url`` and forget its memoised configuration."""
    if "crds" not in sys.modules:
        return
    from crds.client import api
    from crds.core import utils

    api.set_crds_server(server_url)
    utils.clear_function_caches()


@contextlib.contextmanager
def _step_prefetch_disabled() -> Iterator[None]:
    """Set ``prefetch_references = False`` on RefPixStep, ResetStep, RscdStep; restore on exit."""
    import importlib

    classes = [getattr(importlib.import_module(module), name) for module, name in _PREFETCHLESS_STEP_CLASSES]
    saved = [cls.__dict__.get("prefetch_references", None) for cls in classes]
    for cls in classes:
        cls.prefetch_references = False
    try:
        yield
    finally:
        for cls, value in zip(classes, saved):
            if value is None:
                del cls.prefetch_references
            else:
                cls.prefetch_references = value


@contextlib.contextmanager
def offline_official(root: Path) -> Iterator[dict[str, str]]:
    """Within the block, the official pipelines run offline against a minimal cache under ``root``.

    Sets the variables of :func:`offline_crds_environment` (removing those that would redirect CRDS to
    another cache), re-points an already imported ``crds`` and clears its memoised state; on exit restores
    exactly the variables it changed and does the same again. Yields the offline variables.
    """
    offline = offline_crds_environment(root)
    changes = _environment_changes(os.environ, offline)
    saved = {name: os.environ.get(name) for name in changes}
    _apply_to_os_environ(changes)
    _reset_imported_crds(UNREACHABLE_SERVER_URL)
    try:
        yield offline
    finally:
        _apply_to_os_environ(saved)
        _reset_imported_crds(os.environ.get("CRDS_SERVER_URL", CRDS_DEFAULT_SERVER_URL))


# --------------------------------------------------------------------------------------------------------
# Configuring and timing a pipeline
# --------------------------------------------------------------------------------------------------------


def _configure_steps(
    pipeline: Any,
    references: Mapping[str, Path | str],
    skip: Iterable[str],
    step_params: Mapping[str, Mapping[str, Any]] | None,
) -> list[str]:
    """Skip steps, override every reference type of every step that runs, apply ``step_params``.

    Returns the reference types set to ``"N/A"`` because ``references`` had none.
    """
    unknown = set(skip) | set(step_params or {})
    unknown -= set(pipeline.step_defs)
    if unknown:
        raise ValueError(f"unknown step name(s) {sorted(unknown)}; {type(pipeline).__name__} has "
                         f"{list(pipeline.step_defs)}")
    for name in skip:
        getattr(pipeline, name).skip = True
    for name, params in (step_params or {}).items():
        for key, value in params.items():
            setattr(getattr(pipeline, name), key, value)
    not_applied: set[str] = set()
    for name in pipeline.step_defs:
        step = getattr(pipeline, name)
        if step.skip:
            continue
        for reftype in step.reference_file_types:
            override = f"override_{reftype}"
            if getattr(step, override, None) is not None:  # set through step_params
                continue
            if reftype in references:
                setattr(step, override, str(references[reftype]))
            else:
                setattr(step, override, "N/A")
                not_applied.add(reftype)
    return sorted(not_applied)


def _time_step_runs(pipeline: Any) -> dict[str, float]:
    """Wrap each unskipped step's ``run`` so that its wall time accumulates in the returned dict."""
    seconds: dict[str, float] = {}

    def timed(name: str, run: Callable[..., Any]) -> Callable[..., Any]:
        def timed_run(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return run(*args, **kwargs)
            finally:
                seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - start

        return timed_run

    for name in pipeline.step_defs:
        step = getattr(pipeline, name)
        if not step.skip:
            step.run = timed(name, step.run)
    return seconds


def _product_paths(input_path: Path, output_dir: Path, suffixes: Iterable[str]) -> dict[str, Path]:
    """The products ``<stem>_<suffix>.fits`` that exist in ``output_dir`` (stem = input name less suffix)."""
    stem = input_path.name.removesuffix(".fits")
    base, _, last = stem.rpartition("_")
    if base and last in _INPUT_SUFFIXES:
        stem = base
    found = {suffix: output_dir / f"{stem}_{suffix}.fits" for suffix in suffixes}
    return {suffix: path for suffix, path in found.items() if path.exists()}


def _run_pipeline(
    pipeline_class_name: str,
    input_path: Path,
    references: Mapping[str, Path | str],
    output_dir: Path,
    skip: Iterable[str],
    step_params: Mapping[str, Mapping[str, Any]] | None,
    product_suffixes: tuple[str, ...],
    crds_root: Path | None,
) -> OfficialRunResult:
    """Run ``jwst.pipeline.<pipeline_class_name>`` offline on one input and save its products."""
    input_path, output_dir = Path(input_path).absolute(), Path(output_dir).absolute()
    output_dir.mkdir(parents=True, exist_ok=True)
    crds_root = Path(crds_root) if crds_root is not None else output_dir / "offline_crds_cache"
    with offline_official(crds_root), _step_prefetch_disabled():
        import jwst.pipeline

        pipeline = getattr(jwst.pipeline, pipeline_class_name)()
        pipeline.save_results = True
        pipeline.output_dir = str(output_dir)
        not_applied = _configure_steps(pipeline, references, skip, step_params)
        step_seconds = _time_step_runs(pipeline)
        start = time.perf_counter()
        pipeline.run(str(input_path))
        pipeline_seconds = time.perf_counter() - start
    if not_applied:
        log.info("%s ran with reference types %s as 'N/A'", pipeline_class_name, not_applied)
    return OfficialRunResult(
        products=_product_paths(input_path, output_dir, product_suffixes),
        step_seconds=step_seconds,
        pipeline_seconds=pipeline_seconds,
        import_seconds=None,
        peak_rss_bytes=None,
        references_not_applied=not_applied,
        log_path=None,
        later_run_seconds=[],
    )


# --------------------------------------------------------------------------------------------------------
# Public runners
# --------------------------------------------------------------------------------------------------------


def run_official_detector1(
    uncal: Path,
    references: Mapping[str, Path | str],
    output_dir: Path,
    skip: Iterable[str] = DETECTOR1_DEFAULT_SKIPS,
    step_params: Mapping[str, Mapping[str, Any]] | None = None,
    maximum_cores: str = "1",
    crds_root: Path | None = None,
) -> OfficialRunResult:
    """Run ``jwst.pipeline.Detector1Pipeline`` offline in this process; write ``_rate``/``_rateints``.

    Args:
        uncal: the ``_uncal.fits`` exposure.
        references: reference type -> file (``mask``, ``saturation``, ``superbias``, ``linearity``,
            ``dark``, ``gain``, ``readnoise``, ...). Every other type a running step declares is ``"N/A"``.
        output_dir: where the products go (created).
        skip: step names to skip (default :data:`DETECTOR1_DEFAULT_SKIPS`).
        step_params: step name -> {parameter: value}, applied after ``skip`` and the reference overrides
            (so ``{"dark_current": {"skip": False}}`` or ``{"jump": {"rejection_threshold": 5.0}}`` work).
        maximum_cores: given to ``jump`` and ``ramp_fit`` unless ``step_params`` sets it.
        crds_root: where to build the offline CRDS cache (default ``output_dir/offline_crds_cache``).

    Returns:
        :class:`OfficialRunResult`; ``result["products"]["rate"]`` is the rate file.
    """
    params: dict[str, dict[str, Any]] = {name: {"maximum_cores": maximum_cores}
                                         for name in TIMED_MAXIMUM_CORES_STEPS}
    for name, values in (step_params or {}).items():
        params.setdefault(name, {}).update(values)
    return _run_pipeline("Detector1Pipeline", uncal, references, output_dir, skip, params,
                         ("rate", "rateints"), crds_root)


def run_official_image2(
    rate: Path,
    references: Mapping[str, Path | str],
    output_dir: Path,
    skip: Iterable[str] = (),
    step_params: Mapping[str, Mapping[str, Any]] | None = None,
    crds_root: Path | None = None,
) -> OfficialRunResult:
    """Run ``jwst.pipeline.Image2Pipeline`` offline in this process; write ``_cal`` and ``_i2d``.

    ``references`` should hold ``distortion`` (ASDF ``DistortionModel``), ``flat``, ``photom`` and ``area``;
    every other type (``filteroffset``, the NIRSpec WCS and flat types, ``bkg``, ...) is ``"N/A"``.
    The rate file needs the exposure-time keywords resample reads (EFFEXPTM, XPOSURE, TMEASURE, DURATION,
    TELAPSE). Other arguments as in :func:`run_official_detector1`.
    """
    return _run_pipeline("Image2Pipeline", rate, references, output_dir, skip, step_params,
                         ("cal", "i2d"), crds_root)


# --------------------------------------------------------------------------------------------------------
# Running in a fresh process (peak RSS, clean CRDS state)
# --------------------------------------------------------------------------------------------------------

_RUNNERS: dict[str, Callable[..., OfficialRunResult]] = {
    "detector1": run_official_detector1,
    "image2": run_official_image2,
}


_CHILD_COMMAND = "import sys; from jwstlazy.crosscheck.official import _subprocess_main; _subprocess_main(sys.argv[1])"


def _to_json(value: Any) -> Any:
    """Paths -> str, tuples/sets -> lists, recursively (for the request and result files)."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {key: _to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_to_json(item) for item in value]
    return value


def _result_from_json(data: Mapping[str, Any]) -> OfficialRunResult:
    """Rebuild an :class:`OfficialRunResult` (with Paths) from its JSON form."""
    return OfficialRunResult(
        products={suffix: Path(path) for suffix, path in data["products"].items()},
        step_seconds=dict(data["step_seconds"]),
        pipeline_seconds=float(data["pipeline_seconds"]),
        import_seconds=data["import_seconds"],
        peak_rss_bytes=data["peak_rss_bytes"],
        references_not_applied=list(data["references_not_applied"]),
        log_path=Path(data["log_path"]) if data["log_path"] else None,
        later_run_seconds=[float(seconds) for seconds in data.get("later_run_seconds", [])],
    )


def _run_in_fresh_process(
    runner: str, kwargs: Mapping[str, Any], output_dir: Path, timeout_s: float, runs: int = 1
) -> OfficialRunResult:
    """Run ``_RUNNERS[runner](**kwargs)`` ``runs`` times in one new interpreter whose environment is offline from
    the start (the result is the first run's, with the later runs' seconds in ``later_run_seconds``).

    The child's stdout/stderr (the stpipe log) go to ``output_dir/official_<runner>.log``.
    """
    output_dir = Path(output_dir).absolute()
    output_dir.mkdir(parents=True, exist_ok=True)
    crds_root = Path(kwargs.get("crds_root") or output_dir / "offline_crds_cache").absolute()
    env = _environment_with(os.environ, offline_crds_environment(crds_root))
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    log_path = output_dir / f"official_{runner}.log"
    with tempfile.TemporaryDirectory(prefix="jwstlazy-official-") as scratch:
        request_path, result_path = Path(scratch) / "request.json", Path(scratch) / "result.json"
        request = {"runner": runner, "kwargs": {**kwargs, "crds_root": crds_root}, "result_path": result_path,
                   "runs": max(1, int(runs))}
        request_path.write_text(json.dumps(_to_json(request)))
        with open(log_path, "w") as log_file:
            completed = subprocess.run(
                [sys.executable, "-c", _CHILD_COMMAND, str(request_path)],
                env=env, stdout=log_file, stderr=subprocess.STDOUT, timeout=timeout_s, check=False,
            )
        if completed.returncode != 0 or not result_path.exists():
            tail = log_path.read_text()[-4000:]
            raise RuntimeError(f"official {runner} failed (exit {completed.returncode}); log {log_path}:\n{tail}")
        result = _result_from_json(json.loads(result_path.read_text()))
    result["log_path"] = log_path
    return result


def run_official_detector1_subprocess(
    uncal: Path,
    references: Mapping[str, Path | str],
    output_dir: Path,
    skip: Iterable[str] = DETECTOR1_DEFAULT_SKIPS,
    step_params: Mapping[str, Mapping[str, Any]] | None = None,
    maximum_cores: str = "1",
    crds_root: Path | None = None,
    timeout_s: float = 1800.0,
    runs: int = 1,
) -> OfficialRunResult:
    """:func:`run_official_detector1` in a fresh Python process; adds ``import_seconds``, ``peak_rss_bytes``.

    ``step_params`` values must be JSON-serialisable. ``runs`` > 1 runs it again in the same process (the same
    outputs rewritten), timing the later runs (``later_run_seconds``: per exposure in a running process).
    Raises ``RuntimeError`` (with the log's tail) if the official pipeline fails.
    """
    kwargs = {"uncal": uncal, "references": references, "output_dir": output_dir, "skip": list(skip),
              "step_params": step_params, "maximum_cores": maximum_cores, "crds_root": crds_root}
    return _run_in_fresh_process("detector1", kwargs, output_dir, timeout_s, runs)


def run_official_image2_subprocess(
    rate: Path,
    references: Mapping[str, Path | str],
    output_dir: Path,
    skip: Iterable[str] = (),
    step_params: Mapping[str, Mapping[str, Any]] | None = None,
    crds_root: Path | None = None,
    timeout_s: float = 1800.0,
) -> OfficialRunResult:
    """:func:`run_official_image2` in a fresh Python process; adds ``import_seconds``, ``peak_rss_bytes``."""
    kwargs = {"rate": rate, "references": references, "output_dir": output_dir, "skip": list(skip),
              "step_params": step_params, "crds_root": crds_root}
    return _run_in_fresh_process("image2", kwargs, output_dir, timeout_s)


def _subprocess_main(request_path: str) -> None:
    """Child side of :func:`_run_in_fresh_process`: time the import, run, record peak RSS, write JSON."""
    request = json.loads(Path(request_path).read_text())
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    start = time.perf_counter()
    import jwst.pipeline  # noqa: F401  (timed: part of what a user of the official pipeline pays)

    import_seconds = time.perf_counter() - start
    result = _RUNNERS[request["runner"]](**request["kwargs"])
    result["import_seconds"] = import_seconds
    result["later_run_seconds"] = [_RUNNERS[request["runner"]](**request["kwargs"])["pipeline_seconds"]
                                   for _ in range(request.get("runs", 1) - 1)]
    result["peak_rss_bytes"] = peak_rss_bytes()
    Path(request["result_path"]).write_text(json.dumps(_to_json(result)))
