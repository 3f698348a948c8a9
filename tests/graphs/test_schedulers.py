"""Parsing --scheduler / --memory-limit strings and starting what they name."""

import contextlib
import sys
import types

import dask.threaded
import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.schedulers import parse_memory_limit, parse_scheduler, scheduler_context


@pytest.mark.parametrize(
    "text, kind, workers, threads",
    [
        (None, "threads", None, None),
        ("sync", "sync", None, None),
        ("threads:3", "threads", 3, None),
        ("processes", "processes", None, None),
        ("local:2", "local", 2, 1),
        ("local:2x4", "local", 2, 4),
        ("slurm", "slurm", 1, None),
        ("pbs:3", "pbs", 3, None),
    ],
)
def test_parse_known_schedulers(text, kind, workers, threads):
    spec = parse_scheduler(text)
    assert (spec.kind, spec.workers, spec.threads_per_worker) == (kind, workers, threads)


def test_parse_address():
    spec = parse_scheduler("tcp://10.0.0.1:8786")
    assert spec.kind == "address" and spec.address == "tcp://10.0.0.1:8786" and spec.distributed


def test_parse_batch_cluster_options():
    spec = parse_scheduler("slurm:4,queue=normal,cores=8,memory=32GB,walltime=02:00:00")
    assert spec.kind == "slurm" and spec.workers == 4 and spec.distributed
    assert spec.options == {"queue": "normal", "cores": 8, "memory": "32GB", "walltime": "02:00:00"}


@pytest.mark.parametrize("text", ["thread", "local:", "local:2y3", "tcp://host", "slurm:x", "pbs:2,queue", "sge:2"])
def test_bad_scheduler_names_the_option_and_the_choices(text):
    with pytest.raises(JwstLazyInputError) as info:
        parse_scheduler(text)
    message = str(info.value)
    assert "--scheduler" in message and repr(text) in message and "local:W[xT]" in message and "slurm" in message


@pytest.mark.parametrize("text, expected", [(None, None), ("auto", None), ("2GB", 2 * 10**9), ("512MiB", 2**29), (1000, 1000)])
def test_memory_limits(text, expected):
    assert parse_memory_limit(text) == expected


@pytest.mark.parametrize("text", ["lots", "-1GB", "0"])
def test_bad_memory_limit(text):
    with pytest.raises(JwstLazyInputError, match="--memory-limit"):
        parse_memory_limit(text)


def test_batch_cluster_without_dask_jobqueue_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask_jobqueue", None)  # import fails as if not installed
    with pytest.raises(JwstLazyInputError) as info, scheduler_context("slurm:2"):
        pass
    assert "dask-jobqueue" in str(info.value) and "jwstlazy[cluster]" in str(info.value)


def test_batch_cluster_is_built_scaled_and_closed(monkeypatch):
    """With dask-jobqueue's classes replaced by an in-process cluster: options passed, jobs scaled, closed."""
    from distributed import LocalCluster

    calls = {}

    class FakeSLURMCluster(LocalCluster):
        def __init__(self, **options):
            calls["options"] = options
            super().__init__(n_workers=1, threads_per_worker=1, processes=False, dashboard_address=":0", memory_limit="1GiB")

        def job_script(self):
            return "#SBATCH ..."

        def scale(self, n=None, jobs=0):
            if jobs:  # LocalCluster's own start-up calls scale(n) too
                calls["jobs"] = jobs

        def close(self, *args, **kwargs):
            calls["closed"] = True  # what is tested: that jwstlazy closes the cluster it started
            # distributed's in-process event-loop thread can miss its 10 s join on a busy 2-core machine
            with contextlib.suppress(TimeoutError):
                super().close(*args, **kwargs)

    monkeypatch.setitem(sys.modules, "dask_jobqueue", types.SimpleNamespace(SLURMCluster=FakeSLURMCluster))
    with scheduler_context("slurm:3,queue=debug,memory=8GB") as execution:
        assert execution.client is not None and execution.memory_limit == 2**30
    assert calls == {"options": {"queue": "debug", "memory": "8GB"}, "jobs": 3, "closed": True}


def test_local_schedulers_report_memory_and_threads():
    with scheduler_context("threads:3", memory_limit=2**30) as execution:
        assert execution.client is None and execution.compute_kwargs == {"scheduler": dask.threaded.get, "num_workers": 3}
        assert (execution.threads_per_worker, execution.memory_limit) == (3, 2**30)
    with scheduler_context("processes:2", memory_limit=2**30) as execution:
        assert (execution.workers, execution.threads_per_worker, execution.memory_limit) == (2, 1, 2**30)


def test_distributed_client_keeps_no_sent_graphs():
    """A client's stream to the scheduler kept its last 1000 messages, every exposure graph among them, so the
    client's memory grew with the program; the clients jwstlazy starts keep none."""
    import dask

    with scheduler_context("local:1", memory_limit=2**30) as execution:
        client = execution.client
        assert client.compute(dask.delayed(sum)([1, 2, 3])).result() == 6
        assert len(client.scheduler_comm.recent_message_log) == 0
    assert dask.config.get("distributed.admin.low-level-log-length") == 1000  # the setting ends with the run


_LOCAL_RUN = r"""
import sys
from pathlib import Path
from jwstlazy.datamodels import write_fits
from jwstlazy.graphs.detector1 import Detector1Pipeline
from jwstlazy.references import ReferenceFinder
from jwstlazy.simulate import ExposureConfig, simulate_exposure, write_reference_files

folder = Path(sys.argv[1])
write_reference_files("NRCA1", folder / "references", subarray="SUB160")
dataset, _ = simulate_exposure(ExposureConfig(detector="NRCA1", subarray="SUB160", ngroups=4, seed=1))
uncal = folder / "jw01234001001_01101_00001_nrca1_uncal.fits"
write_fits(dataset, uncal)
assert "distributed" not in sys.modules, "simulating imported distributed"
Detector1Pipeline(references=ReferenceFinder(directories=[folder / "references"])).run(
    [uncal], output_dir=folder / "out", scheduler=sys.argv[2], progress=False)
assert (folder / "out" / "jw01234001001_01101_00001_nrca1_rate.fits").exists()
print("distributed imported" if "distributed" in sys.modules else "distributed not imported")
"""


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_local_runs_do_not_import_distributed(tmp_path, scheduler):
    """A scheduler named by a string makes dask import distributed (~0.2 s) to look for a client; local runs
    name theirs by function, so a laptop run never pays for distributed."""
    import subprocess

    result = subprocess.run([sys.executable, "-c", _LOCAL_RUN, str(tmp_path), scheduler], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("distributed not imported")
