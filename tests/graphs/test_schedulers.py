"""Parsing --scheduler strings."""

import pytest

from jwstlazy.errors import JwstLazyInputError
from jwstlazy.graphs.schedulers import parse_scheduler


@pytest.mark.parametrize(
    "text, kind, workers, threads",
    [
        (None, "threads", None, None),
        ("sync", "sync", None, None),
        ("threads:3", "threads", 3, None),
        ("processes", "processes", None, None),
        ("local:2", "local", 2, 1),
        ("local:2x4", "local", 2, 4),
    ],
)
def test_parse_known_schedulers(text, kind, workers, threads):
    spec = parse_scheduler(text)
    assert (spec.kind, spec.workers, spec.threads_per_worker) == (kind, workers, threads)


def test_parse_address():
    spec = parse_scheduler("tcp://10.0.0.1:8786")
    assert spec.kind == "address" and spec.address == "tcp://10.0.0.1:8786" and spec.distributed


@pytest.mark.parametrize("text", ["thread", "local:", "local:2y3", "tcp://host", "slurm"])
def test_bad_scheduler_names_the_option_and_the_choices(text):
    with pytest.raises(JwstLazyInputError) as info:
        parse_scheduler(text)
    message = str(info.value)
    assert "--scheduler" in message and repr(text) in message and "local:W[xT]" in message
