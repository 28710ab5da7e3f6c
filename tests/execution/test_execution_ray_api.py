"""The Ray executor's parts that need no cluster: resources, addresses, the missing-Ray error."""

from __future__ import annotations

import socket
import sys

import pytest

from radiogenomics.errors import InputError
from radiogenomics.execution import make_executor
from radiogenomics.execution.base import short_repr
from radiogenomics.execution.ray_executor import (
    ClusterShape,
    RayExecutor,
    _probe,
    plan_resources,
    plan_tasks,
)

CPU_ONLY = ClusterShape(nodes=2, total_cpus=8, total_gpus=0, max_node_cpus=4, max_node_gpus=0)
WITH_GPU = ClusterShape(nodes=3, total_cpus=24, total_gpus=2, max_node_cpus=8, max_node_gpus=1)


def test_cluster_shape_counts_only_alive_nodes():
    nodes = [
        {"Alive": True, "Resources": {"CPU": 4.0, "GPU": 1.0, "memory": 1e9}},
        {"Alive": True, "Resources": {"CPU": 16.0}},
        {"Alive": False, "Resources": {"CPU": 64.0, "GPU": 8.0}},
    ]
    shape = ClusterShape.from_nodes(nodes)
    assert shape == ClusterShape(
        nodes=2, total_cpus=20.0, total_gpus=1.0, max_node_cpus=16.0, max_node_gpus=1.0
    )
    assert ClusterShape.from_nodes([]).max_node_cpus == 0.0


def test_gpu_fraction_kept_with_gpus_dropped_without():
    assert plan_resources(1, 0.25, WITH_GPU).num_gpus == 0.25
    cpu = plan_resources(2, 0.25, CPU_ONLY)
    assert (cpu.num_cpus, cpu.num_gpus) == (2.0, 0.0)  # trains on CPU instead of waiting


def test_infeasible_requests_refused_unless_waiting_for_autoscaler():
    with pytest.raises(ValueError, match="asks for 6 CPUs but the largest of the cluster's 2"):
        plan_resources(6, 0, CPU_ONLY)
    with pytest.raises(ValueError, match="asks for 2 GPUs but the largest node has 1"):
        plan_resources(1, 2, WITH_GPU)
    assert plan_resources(6, 0, CPU_ONLY, check=False).num_cpus == 6.0
    with pytest.raises(ValueError, match="non-negative"):
        plan_resources(-1, 0, CPU_ONLY)


def test_missing_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an install without the extra looks like
    with pytest.raises(ImportError, match=r"pip install radiogenomics\[distributed\]"):
        RayExecutor(address="auto")
    with pytest.raises(ImportError, match=r"pip install radiogenomics\[distributed\]"):
        make_executor("ray", address="auto")


def test_unreachable_address_fails_fast_and_clearly():
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionError, match=rf"no Ray cluster answers at '127.0.0.1:{port}'"):
        _probe(f"127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(ConnectionError, match="ray start --head"):
        _probe(f"ray://127.0.0.1:{port}", timeout_s=2)
    with pytest.raises(ValueError, match="is not 'auto', 'host:port'"):
        _probe("127.0.0.1:http")
    _probe("auto")  # left to Ray: nothing to check here


def test_probe_accepts_a_listening_address():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        _probe(f"127.0.0.1:{s.getsockname()[1]}", timeout_s=2)


def test_bad_options_refused_before_connecting():
    pytest.importorskip("ray")
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        RayExecutor(max_retries=-1)
    with pytest.raises(ValueError, match="size a local cluster"):
        RayExecutor(address="127.0.0.1:1", num_cpus=2)


def test_malformed_address_is_bad_input_before_ray_sees_it():
    # 'localhost' (no port) went to Ray, whose ValueError came out as a traceback
    for bad in ("localhost", "127.0.0.1:http", ":6379"):
        with pytest.raises(InputError, match="is not 'auto', 'host:port'") as info:
            _probe(bad, timeout_s=1)
        assert info.value.field == "executor.address"
    _probe("local")
    _probe("ray://head")  # Ray Client's default port: left to Ray


def test_infeasible_override_names_the_setting():
    # a plain ValueError came out of the run as a traceback; now the study's setting is named
    with pytest.raises(InputError, match="asks for 8 CPUs") as info:
        plan_tasks([1, 2], CPU_ONLY, cpus_per_task=8)
    assert info.value.field == "executor.cpus_per_task"
    assert "(Python API) pass wait_for_resources=True" in str(info.value)
    with pytest.raises(InputError, match="asks for 2 GPUs") as info:
        plan_tasks([1], WITH_GPU, gpus_per_task=2)
    assert info.value.field == "executor.gpus_per_task"
    with pytest.raises(InputError, match="asks for 6 CPUs") as info:
        plan_tasks([1], CPU_ONLY, num_cpus=6)  # the stage's own request: no setting to name
    assert info.value.field is None


def test_an_item_is_named_on_one_line():
    class Model:
        def __repr__(self):
            return "MLP(\n  (layer): Linear(4, 2)\n)"

    assert short_repr(("retrained", Model())) == "('retrained', MLP( (layer): Linear(4, 2) ))"


class _FakeRay:
    """Enough of ray for an executor to start: records what ray.init was asked."""

    class exceptions:  # noqa: N801 - ray's own name
        class AuthenticationError(Exception):
            pass

    def __init__(self):
        self.init_kwargs = None

    def is_initialized(self):
        return self.init_kwargs is not None

    def init(self, **kwargs):
        self.init_kwargs = kwargs

    def nodes(self):
        return [{"Alive": True, "Resources": {"CPU": 1.0}}]


@pytest.mark.parametrize("quiet", [True, False])
def test_quiet_silences_rays_start_up_warnings(monkeypatch, quiet):
    # `run --quiet --executor ray` printed Ray's token-authentication warning on the terminal
    import logging

    import radiogenomics.execution.ray_executor as rx

    fake = _FakeRay()
    monkeypatch.setattr(rx, "_import_ray", lambda: fake)
    monkeypatch.setattr(rx, "_CONNECTED", None)
    RayExecutor(num_cpus=1, quiet=quiet)
    assert fake.init_kwargs["logging_level"] == (logging.ERROR if quiet else logging.WARNING)
    assert fake.init_kwargs["log_to_driver"] is not quiet


def test_ray_that_cannot_start_is_not_reported_as_the_run_folder(monkeypatch):
    # Ray's session folder unusable (RAY_TMPDIR=/proc/none): the OSError reached the runner,
    # which said "could not write under <run folder>: No such file or directory (/proc/none)"
    import radiogenomics.execution.ray_executor as rx

    class Unwritable(_FakeRay):
        def init(self, **kwargs):
            raise FileNotFoundError(2, "No such file or directory", "/proc/none/session")

    monkeypatch.setattr(rx, "_import_ray", Unwritable)
    with pytest.raises(InputError, match="Ray could not start on this machine") as info:
        RayExecutor(num_cpus=1, quiet=True)
    assert not isinstance(info.value, OSError) and "RAY_TMPDIR" in str(info.value)
    assert info.value.field == "executor"
