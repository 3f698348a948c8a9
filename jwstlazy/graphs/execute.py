"""Running a pipeline over many inputs as ONE dask graph, with products written by graph tasks.

Each product is written by a task of the graph (atomic: temporary name, then rename), so the client
never gathers pixels; products that already exist and open cleanly are skipped unless ``overwrite``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import dask

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.naming import product_path
from jwstlazy.graphs.progress import progress_bar
from jwstlazy.graphs.schedulers import scheduler_context

if TYPE_CHECKING:
    from jwstlazy.graphs.pipeline import Pipeline

log = logging.getLogger(__name__)


class ProgramFailed(RuntimeError):
    """Some inputs failed; ``result`` says which and what was written for the others."""

    def __init__(self, result: ProgramResult) -> None:
        self.result = result
        lines = [f"{name}: {error}" for name, error in result.failed.items()]
        super().__init__(f"{len(result.failed)} input(s) failed:\n" + "\n".join(lines))


@dataclass
class ProgramResult:
    """What a program run did: products written, products already present, inputs that failed."""

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def _existing_and_valid(paths: list[Path]) -> bool:
    from jwstlazy.datamodels import open as open_product

    try:
        for path in paths:
            open_product(path)
    except (JwstLazyInputError, OSError):
        return False
    return True


def _write_product(ds, path: Path) -> Path:
    from jwstlazy.datamodels import write_fits

    written = write_fits(ds, path, overwrite=True)
    log.info("wrote %s", written)
    return written


def run_program(
    pipeline: Pipeline,
    inputs: list[str | os.PathLike],
    output_dir: Path,
    scheduler: str | None = None,
    overwrite: bool = False,
    progress: bool = True,
) -> ProgramResult:
    """Build one graph for all ``inputs`` through ``pipeline``, compute it and write the products.

    Raises :class:`ProgramFailed` after finishing the others when any input failed.
    """
    output_dir.mkdir(parents=True, exist_ok=True)
    result = ProgramResult()
    tasks, targets = [], []
    for source in inputs:
        paths = [product_path(source, suffix, output_dir) for suffix in pipeline.output_suffixes]
        if not overwrite and paths and all(p.exists() for p in paths) and _existing_and_valid(paths):
            log.info("skipping %s: products exist (use overwrite to redo)", source)
            result.skipped.extend(paths)
            continue
        try:
            products = pipeline.build(source)
        except JwstLazyInputError as error:
            result.failed[os.fspath(source)] = str(error)
            log.error("%s", error)
            continue
        if not isinstance(products, dict):
            products = {pipeline.output_suffixes[0]: products}
        for suffix, ds in products.items():
            path = product_path(source, suffix, output_dir)
            tasks.append(dask.delayed(_write_product, pure=True)(ds, path))
            targets.append(path)
    if tasks:
        with scheduler_context(scheduler) as (compute_kwargs, client):
            if client is not None:
                futures = client.compute(tasks)
                if progress:
                    from distributed import progress as distributed_progress

                    distributed_progress(futures)
                written = client.gather(futures)
            else:
                with progress_bar(enabled=progress):
                    written = dask.compute(*tasks, **compute_kwargs)
        result.written.extend(Path(p) for p in written)
    if result.failed:
        raise ProgramFailed(result)
    return result
