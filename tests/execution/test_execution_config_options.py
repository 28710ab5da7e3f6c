"""The [executor] config section reaches the executors (Ray task options, quiet, workers)."""

from __future__ import annotations

import logging

import pydantic
import pytest

import radiogenomics.execution as execution
from radiogenomics.config import ExecutorConfig, load_config
from radiogenomics.errors import InputError
from radiogenomics.pipeline.contract import StageContext


def _study(executor: dict) -> dict:
    return {
        "name": "x",
        "out": "unused",
        "executor": executor,
        "synthetic": {"enabled": True},
        "data": {"expression": "expression.tsv.gz", "vasari": "vasari.csv"},
    }


def _options(monkeypatch, executor: dict, quiet: bool = True) -> tuple[str, dict]:
    seen = {}

    def fake(kind, **options):
        seen["kind"], seen["options"] = kind, options
        return object()

    monkeypatch.setattr(execution, "make_executor", fake)
    cfg = load_config(data=_study(executor))
    ctx = StageContext("bootstrap", cfg, None, logging.getLogger("t"), quiet=quiet)
    ctx.executor  # noqa: B018 - builds it
    return seen["kind"], seen["options"]


def test_ray_task_options_come_from_the_config(monkeypatch):
    kind, opts = _options(
        monkeypatch,
        {
            "kind": "ray",
            "address": "auto",
            "max_retries": 5,
            "cpus_per_task": 2,
            "gpus_per_task": 0.25,
        },
    )
    assert kind == "ray"
    assert opts == {
        "quiet": True,
        "max_retries": 5,
        "cpus_per_task": 2.0,
        "gpus_per_task": 0.25,
        "address": "auto",
    }


def test_defaults_and_local(monkeypatch):
    _, opts = _options(monkeypatch, {"kind": "ray"}, quiet=False)
    assert opts["max_retries"] == 2 and opts["quiet"] is False
    assert opts["cpus_per_task"] is None and opts["gpus_per_task"] is None
    kind, opts = _options(monkeypatch, {"kind": "local", "workers": 3})
    assert (kind, opts) == ("local", {"workers": 3, "quiet": True})


@pytest.mark.parametrize(
    "bad", [{"max_retries": -1}, {"cpus_per_task": 0}, {"gpus_per_task": -0.5}]
)
def test_bad_values_refused(bad):
    with pytest.raises(pydantic.ValidationError):
        ExecutorConfig(**bad)


def test_a_task_larger_than_the_private_instance_is_refused_when_read():
    # found only when the baselines stage started, after the stages before it had run
    with pytest.raises(InputError, match=r"cpus_per_task.*8 CPUs.*workers = 1") as info:
        load_config(data=_study({"kind": "ray", "workers": 1, "cpus_per_task": 8}))
    assert "executor" in str(info.value)
    for fine in (
        {"kind": "ray", "workers": 2, "cpus_per_task": 2},
        {"kind": "ray", "address": "auto", "workers": 1, "cpus_per_task": 8},  # a cluster's
        {"kind": "local", "workers": 1, "cpus_per_task": 8},  # ignored by the local pool
    ):
        assert load_config(data=_study(fine)).executor.cpus_per_task == fine["cpus_per_task"]


def test_an_address_given_without_the_ray_executor_is_refused():
    # `run study.toml --address HOST:6379` without --executor ray ran on this machine
    with pytest.raises(InputError, match=r"--address 'auto' is a Ray cluster's.*'local'"):
        load_config(None, {"executor.address": "auto"}, data=_study({"kind": "local"}))
    ray = load_config(
        None, {"executor.kind": "ray", "executor.address": "auto"}, data=_study({"kind": "local"})
    )
    assert (ray.executor.kind, ray.executor.address) == ("ray", "auto")
    # a study file that keeps its cluster's address, run locally for once with --executor local
    local = load_config(
        None, {"executor.kind": "local"}, data=_study({"kind": "ray", "address": "auto"})
    )
    assert local.executor.kind == "local"
