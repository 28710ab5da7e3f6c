"""Ray against the local executor on the demo bootstrap: wall time ratio, and per-unit costs.

The workload is the study's bootstrap (``run_bootstrap``: repetitions x traits x model types,
each unit K folds) on the demo's synthetic cohort. It runs four ways on the same machine:
in this process one unit after another (which gives each unit's cost), on the local executor
with ``--workers`` processes, and on a private local Ray cluster with as many CPUs, cold (the
first map starts Ray's worker processes) and warm (a second map reuses them). The tables must
be identical in every run. Also measured: one epoch of the paper-size network (12,042 genes,
4000/2000/1000, batch 10) on one CPU thread, for the scaling estimates in docs/distributed.md.

    python benchmarks/bench_executor.py            # demo size
    python benchmarks/bench_executor.py --quick    # a reduced size while developing

Times are wall seconds; each ratio is the first executor's time / the second's (below 1: the
first is faster). On a shared machine the timings are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from _cli import at_least, fill_sizes
from radiogenomics.evaluation.bootstrap import run_bootstrap
from radiogenomics.execution import LocalExecutor

BASELINES = {
    "logreg_l2": {"C": 0.01},
    "svm_rbf": {"C": 1.0, "gamma": "scale"},
    "random_forest": {"max_features": "sqrt", "min_samples_leaf": 1},
    "xgboost": {"max_depth": 2, "learning_rate": 0.2},
}
# A small network so the benchmark stays short; the paper-size network is timed separately.
NN_CONFIG = {
    "hidden": [64, 32, 16],
    "activation": "tanh",
    "optimizer": "adam",
    "dropout": 0.2,
    "batch_size": 10,
    "max_epochs": 30,
    "patience": 10,
}


def demo_cohort(patients: int, genes: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The demo's synthetic cohort (expression and imaging traits), written and read back."""
    try:
        from radiogenomics.data.synthetic import generate_cohort, load_synthetic
    except ImportError:
        return planted_cohort(patients, genes, seed) + ("planted stand-in",)
    with tempfile.TemporaryDirectory() as d:
        generate_cohort(d, seed=seed, n_patients=patients, n_genes=genes)
        cohort = load_synthetic(d)
    X = cohort.expression.astype(np.float64)
    traits = cohort.traits.loc[cohort.traits.index.intersection(X.index)]
    return X, traits, f"synthetic demo cohort ({patients} patients x {genes} genes)"


def planted_cohort(n: int, p: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two traits planted on gene programmes (if the synthetic cohort is not importable)."""
    g = np.random.default_rng(seed)
    a, b = g.standard_normal((2, n))
    x = g.standard_normal((n, p)) + 5.0
    x[:, :40] += a[:, None]
    x[:, 40:80] += b[:, None]
    idx = [f"P{i:04d}" for i in range(n)]
    traits = pd.DataFrame({"t1": (a > 0.4).astype(float), "t2": (b > 0).astype(float)}, index=idx)
    return pd.DataFrame(x, index=idx, columns=[f"G{j}" for j in range(p)]), traits


class Recording:
    """An executor wrapper that stamps each finished unit (per-unit cost in a serial run)."""

    def __init__(self, inner: Any):
        self.inner = inner
        self.name = inner.name
        self.stamps: list[tuple[str, float]] = []

    def map(self, fn, items, *, shared=None, on_result=None, **kw):
        items = list(items)
        last = [time.perf_counter()]

        def stamp(i: int, r: Any) -> None:
            now = time.perf_counter()
            self.stamps.append((getattr(items[i], "model", "?"), now - last[0]))
            last[0] = now
            if on_result is not None:
                on_result(i, r)

        return self.inner.map(fn, items, shared=shared, on_result=stamp, **kw)


def bootstrap(ex: Any, X, traits, chosen, args, out: Path | None) -> tuple[float, Any]:
    t0 = time.perf_counter()
    res = run_bootstrap(
        X,
        traits,
        chosen,
        n_reps=args.reps,
        n_splits=args.splits,
        seed=7,
        executor=ex,
        out_dir=out,
        reference="nn" if "nn" in chosen[next(iter(chosen))] else "logreg_l2",
    )
    return time.perf_counter() - t0, res


def _noop(item: int, shared: Any) -> int:
    return item


def _times(ts: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in ts) + " s"


def same_tables(a: Any, b: Any) -> bool:
    for attr in ("folds", "auc", "differences", "summary"):
        try:
            pd.testing.assert_frame_equal(getattr(a, attr), getattr(b, attr))
        except AssertionError:
            return False
    return True


def paper_epoch_seconds(epochs: int = 2, n_train: int = 153, n_genes: int = 12042) -> float:
    """Seconds per epoch of one paper-size fold network (4000/2000/1000, tanh, Adadelta,
    batch 10) on one CPU thread: forward, backward and update over the training patients."""
    from radiogenomics.models.network import MLP

    torch.manual_seed(0)
    net = MLP(n_genes, [4000, 2000, 1000], 1, activation="tanh", dropout=0.0)
    opt = torch.optim.Adadelta(net.parameters(), lr=1.0)
    x = torch.randn(n_train, n_genes)
    y = (torch.rand(n_train, 1) > 0.5).float()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        for i in range(0, n_train, 10):
            opt.zero_grad()
            loss_fn(net(x[i : i + 10]), y[i : i + 10]).backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    return min(times)


PAPER_BASELINES = {
    "logreg_l1": {"C": 0.1},
    "logreg_l2": {"C": 0.01},
    "svm_linear": {"C": 0.001},
    "svm_rbf": {"C": 1.0, "gamma": "scale"},
    "random_forest": {"max_features": "sqrt", "min_samples_leaf": 1},
    "xgboost": {"max_depth": 2, "learning_rate": 0.2},
}


def paper_unit_seconds(n_patients: int = 171, n_genes: int = 12042) -> dict[str, float]:
    """Seconds per bootstrap unit (one repetition, 10 folds) of each baseline at the paper's
    size: a planted cohort of 171 patients x 12,042 genes, one trait, run in this process."""
    X, traits = planted_cohort(n_patients, n_genes, seed=1)
    rec = Recording(LocalExecutor(workers=1, quiet=True))
    run_bootstrap(
        X,
        traits[["t1"]],
        {"t1": PAPER_BASELINES},
        n_reps=1,
        n_splits=10,
        seed=3,
        executor=rec,
        reference="logreg_l2",
    )
    return dict(rec.stamps)


#: The sizes of a run and of a --quick one; an option given on the command line wins over both.
FULL = {"patients": 500, "genes": 2000, "reps": 4}
QUICK = {"patients": 200, "genes": 800, "reps": 2}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )

    def sizes(key: str) -> str:
        return f"(default {FULL[key]}; --quick {QUICK[key]})"

    p.add_argument("--patients", type=at_least(40), help=f"cohort size {sizes('patients')}")
    p.add_argument("--genes", type=at_least(300), help=f"genes {sizes('genes')}")
    p.add_argument("--reps", type=at_least(1), help=f"bootstrap repetitions {sizes('reps')}")
    p.add_argument("--splits", type=at_least(2), default=5, help="K, folds per unit (default 5)")
    p.add_argument(
        "--workers", type=at_least(1), default=2, help="processes / Ray CPUs (default 2)"
    )
    p.add_argument(
        "--rounds", type=at_least(1), default=2, help="alternating local/ray runs (default 2)"
    )
    p.add_argument("--no-nn", action="store_true", help="baselines only")
    p.add_argument("--no-paper-epoch", action="store_true", help="skip the paper-size unit costs")
    p.add_argument("--paper-only", action="store_true", help="only the paper-size unit costs")
    p.add_argument("--quick", action="store_true", help="a reduced size while developing")
    args = p.parse_args(argv)
    return fill_sizes(args, QUICK if args.quick else FULL)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)  # one thread per unit everywhere, as under the executors
    if args.paper_only:
        paper_costs(args)
        return

    X, traits, source = demo_cohort(args.patients, args.genes, seed=0)
    models = dict(BASELINES) if args.no_nn else {"nn": NN_CONFIG, **BASELINES}
    chosen = {t: models for t in traits.columns}
    n_units = args.reps * len(chosen) * len(models)
    print(f"workload: bootstrap on the {source}; {len(chosen)} traits x {len(models)} model")
    print(f"types x {args.reps} reps = {n_units} units of {args.splits} folds each")
    print(f"executors: {args.workers} workers (machine: {torch.get_num_threads()} torch thread")
    print("per unit; the CPU may be shared with other jobs, so timings are noisy)")

    serial = Recording(LocalExecutor(workers=1, quiet=True))
    t_serial, ref = bootstrap(serial, X, traits, chosen, args, None)
    costs: dict[str, list[float]] = defaultdict(list)
    for model, dt in serial.stamps:
        costs[model].append(dt)
    print("\nper-unit cost, one unit after another in this process (s, median [min-max]):")
    for model, ts in costs.items():
        print(f"  {model:14s} {statistics.median(ts):7.3f} [{min(ts):.3f}-{max(ts):.3f}]")
    print(f"  serial total   {t_serial:7.2f} s")

    try:
        from radiogenomics.execution.ray_executor import RayExecutor

        # Ray starts its workers at niceness 15 (they yield to other jobs); the local pool's
        # processes run at 0, so compare like with like
        os.environ.setdefault("RAY_worker_niceness", "0")
        t0 = time.perf_counter()
        ray_ex = RayExecutor(num_cpus=args.workers, object_store_memory=300 * 2**20, quiet=True)
        t_start = time.perf_counter() - t0
    except ImportError as err:
        print(f"ray: skipped ({err})")
        return
    local_ex = LocalExecutor(workers=args.workers, quiet=True)
    try:
        t_cold, res_cold = bootstrap(ray_ex, X, traits, chosen, args, None)
        # alternate the two executors so a change in the machine's load hits both alike
        t_local, t_warm, results = [], [], [res_cold]
        for _ in range(args.rounds):
            dt, res = bootstrap(local_ex, X, traits, chosen, args, None)
            t_local.append(dt)
            results.append(res)
            dt, res = bootstrap(ray_ex, X, traits, chosen, args, None)
            t_warm.append(dt)
            results.append(res)
        n_noop = 200
        t0 = time.perf_counter()
        local_ex.map(_noop, range(n_noop), shared=X.to_numpy())
        t_noop_local = time.perf_counter() - t0
        t0 = time.perf_counter()
        ray_ex.map(_noop, range(n_noop), shared=X.to_numpy())
        t_noop_ray = time.perf_counter() - t0
    finally:
        ray_ex.close()
    identical = all(same_tables(r, ref) for r in results)
    best_local, best_warm = min(t_local), min(t_warm)
    print(f"\nlocal executor, {args.workers} processes: " + _times(t_local))
    print(f"ray, local cluster with {args.workers} CPUs: start {t_start:5.2f} s (once per study)")
    print(f"  first bootstrap (starts the workers): {t_cold:7.2f} s")
    print("  later bootstraps (workers running): " + _times(t_warm))
    print(f"tables identical to the serial run in every run: {identical}")
    print("\nratios of wall time (best of each):")
    print(f"  ray / local              {best_warm / best_local:6.2f}")
    print(f"  ray first map / local    {t_cold / best_local:6.2f}")
    print(f"  local / serial           {best_local / t_serial:6.2f}")
    print(f"  ray / serial             {best_warm / t_serial:6.2f}")
    print(f"  mean unit cost           {t_serial / n_units:6.3f} s")
    print(f"{n_noop} empty units (fixed cost per map and per unit, shared = the expression):")
    print(f"  local {t_noop_local:6.2f} s, ray {t_noop_ray:6.2f} s", end="")
    print(f" ({1e3 * t_noop_ray / n_noop:.1f} ms per unit on ray)")

    paper_costs(args)


def paper_costs(args: argparse.Namespace) -> None:
    """Per-unit costs at the paper's size, one CPU thread (inputs of the scaling estimates)."""
    if args.no_paper_epoch:
        return
    print("\npaper-size units on one CPU thread (171 patients x 12,042 genes):")
    for model, dt in paper_unit_seconds().items():
        print(f"  bootstrap unit (10 folds) {model:14s} {dt:8.2f} s")
    e = paper_epoch_seconds()
    print(f"  network 4000/2000/1000, batch 10, 153 training patients: {e:.2f} s per epoch")
    print("  per fold (a bootstrap or grid unit of the network is 10 folds x its epochs)")


if __name__ == "__main__":
    main()
