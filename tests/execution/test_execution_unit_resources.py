"""Per-unit resources: network-training units ask for a GPU fraction, baseline units for none,
and what a unit declares never changes what it computes.

No GPU is needed: a recording executor keeps what every unit declares (and runs the units in
this process), and the Ray executor's per-task plan is checked against described clusters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pydantic
import pytest

from radiogenomics.config import ExecutorConfig
from radiogenomics.evaluation.bootstrap import NN, BootstrapUnit, run_bootstrap, unit_resources
from radiogenomics.evaluation.nn_cv import cross_validate, grid_search
from radiogenomics.execution import LocalExecutor
from radiogenomics.execution.ray_executor import ClusterShape, TaskResources, plan_tasks
from radiogenomics.models import NetworkConfig

CPU_ONLY = ClusterShape(nodes=2, total_cpus=8, total_gpus=0, max_node_cpus=4, max_node_gpus=0)
WITH_GPU = ClusterShape(nodes=3, total_cpus=24, total_gpus=2, max_node_cpus=8, max_node_gpus=1)

NN_SMALL = {
    "hidden": [8, 4],
    "activation": "tanh",
    "optimizer": "adam",
    "dropout": 0.1,
    "batch_size": 10,
    "max_epochs": 8,
    "patience": 4,
}


class RecordingExecutor:
    """Runs the units in this process and records, per unit, the (CPUs, GPUs) it declares."""

    name = "recording"

    def __init__(self) -> None:
        self.declared: list[tuple[object, tuple[float, float]]] = []
        self._local = LocalExecutor(workers=1, quiet=True)

    def map(self, fn, items, *, shared=None, on_result=None, desc=None, **kw):
        resources = kw.get("resources")
        for item in items:
            pair = (
                resources(item)
                if resources is not None
                else (kw.get("num_cpus", 1.0), kw.get("num_gpus", 0.0))
            )
            self.declared.append((item, pair))
        return self._local.map(fn, items, shared=shared, on_result=on_result, desc=desc)


def _cohort(n: int = 60, p: int = 16) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = np.random.default_rng(8)
    a, b = g.standard_normal((2, n))
    x = g.standard_normal((n, p)) + 4.0
    x[:, :4] += a[:, None]
    x[:, 4:8] += b[:, None]
    patients = [f"P{i:03d}" for i in range(n)]
    traits = pd.DataFrame(
        {"edema": (a > 0.2).astype(float), "focal": (b + 0.3 * g.standard_normal(n) > 0.0) * 1.0},
        index=patients,
    )
    return pd.DataFrame(x, index=patients, columns=[f"G{j}" for j in range(p)]), traits


def test_plan_gives_network_items_their_fraction_and_drops_it_without_gpus():
    items = ["nn", "logreg", "nn", "rf"]

    def res(item):
        return 1.0, (0.25 if item == "nn" else 0.0)

    gpu = plan_tasks(items, WITH_GPU, resources=res)
    assert [r.num_gpus for r in gpu] == [0.25, 0.0, 0.25, 0.0]
    assert all(r.num_cpus == 1.0 for r in gpu)
    cpu = plan_tasks(items, CPU_ONLY, resources=res)  # no GPU anywhere: every unit on CPU
    assert cpu == [TaskResources(1.0, 0.0)] * 4
    # the executor's gpus_per_task / cpus_per_task override every unit, baselines included
    forced = plan_tasks(items, WITH_GPU, resources=res, gpus_per_task=0.5, cpus_per_task=2)
    assert forced == [TaskResources(2.0, 0.5)] * 4
    none = plan_tasks(items, WITH_GPU, resources=res, gpus_per_task=0.0)
    assert {r.num_gpus for r in none} == {0.0}
    # without a per-item function, the map's own declaration holds for every unit
    assert plan_tasks(items, WITH_GPU, num_cpus=3, num_gpus=0.5) == [TaskResources(3.0, 0.5)] * 4


def test_plan_refuses_an_impossible_unit_before_anything_runs():
    with pytest.raises(ValueError, match="asks for 2 GPUs but the largest node has 1"):
        plan_tasks([0, 1], WITH_GPU, resources=lambda i: (1.0, 2.0 * i))
    with pytest.raises(ValueError, match="asks for 6 CPUs"):
        plan_tasks([0, 1], CPU_ONLY, resources=lambda i: (6.0 if i else 1.0, 0.0))


def test_network_fraction_comes_from_the_config_and_the_device():
    ex = ExecutorConfig()
    assert ex.gpus_per_network == 0.25
    assert ex.network_gpus("auto") == 0.25 and ex.network_gpus("cuda:1") == 0.25
    assert ex.network_gpus("cpu") == 0.0  # a CPU study's networks ask for no GPU
    assert ExecutorConfig(gpus_per_network=0.5).network_gpus("cuda") == 0.5
    with pytest.raises(pydantic.ValidationError):
        ExecutorConfig(gpus_per_network=-0.1)


def test_bootstrap_units_declare_by_model_and_results_do_not_depend_on_it(tmp_path):
    X, traits = _cohort()
    chosen = {t: {NN: NN_SMALL, "logreg_l2": {"C": 0.1}} for t in traits.columns}
    kw = dict(n_reps=2, n_splits=3, seed=4, models=[NN, "logreg_l2"], reference=NN)
    rec = RecordingExecutor()
    gpu = run_bootstrap(X, traits, chosen, executor=rec, network_gpus=0.25, **kw)
    plain = run_bootstrap(X, traits, chosen, executor=LocalExecutor(1, quiet=True), **kw)
    assert len(rec.declared) == 2 * 2 * 2  # reps x traits x model types
    for unit, (cpus, gpus) in rec.declared:
        assert cpus == 1.0
        assert gpus == (0.25 if unit.model == NN else 0.0), unit
    assert {u.model for u, _ in rec.declared} == {NN, "logreg_l2"}
    for attr in ("folds", "auc", "differences", "summary"):
        pd.testing.assert_frame_equal(getattr(gpu, attr), getattr(plain, attr))
    assert unit_resources(BootstrapUnit(0, "edema", "xgboost", {}), 0.5) == (1.0, 0.0)


def test_bootstrap_network_units_train_on_the_studys_device():
    """The device reaches the network unit (resolved where it runs): asking for CUDA on a
    machine without it fails inside the network units, not in the baselines."""
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: the refusal cannot be observed")
    X, traits = _cohort()
    chosen = {"edema": {NN: NN_SMALL, "logreg_l2": {"C": 0.1}}}
    kw = dict(n_reps=1, n_splits=3, seed=4, executor=LocalExecutor(1, quiet=True))
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        run_bootstrap(X, traits[["edema"]], chosen, device="cuda", **kw)
    base = run_bootstrap(X, traits[["edema"]], chosen, models=["logreg_l2"], device="cuda", **kw)
    assert len(base.auc) == 1


def test_network_grid_and_fold_units_declare_the_fraction():
    X, traits = _cohort()
    y = traits["edema"].map({1.0: "yes", 0.0: "no"}).rename("edema")
    base = NetworkConfig(hidden=(8, 4), optimizer="adam", max_epochs=6, patience=3)
    grid = {"dropout": [0.0, 0.3]}
    rec = RecordingExecutor()
    got = grid_search(X, y, grid, base=base, n_splits=3, seed=1, executor=rec, network_gpus=0.5)
    want = grid_search(X, y, grid, base=base, n_splits=3, seed=1)
    assert [pair for _, pair in rec.declared] == [(1.0, 0.5)] * 2
    pd.testing.assert_frame_equal(got.table, want.table)
    rec = RecordingExecutor()
    cv = cross_validate(
        X, y, base, n_splits=3, seed=1, executor=rec, batched=False, network_gpus=0.25
    )
    ref = cross_validate(X, y, base, n_splits=3, seed=1, batched=False)
    assert [pair for _, pair in rec.declared] == [(1.0, 0.25)] * 3  # one unit per fold
    pd.testing.assert_frame_equal(cv.oof_proba, ref.oof_proba)
    pd.testing.assert_frame_equal(cv.fold_metrics, ref.fold_metrics)
