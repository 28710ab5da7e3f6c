"""Cost of one bootstrap repetition on the demo cohort, per model type, serial vs all cores.

The bootstrap (METHOD.md 3) is the study's most expensive stage: B repetitions x K folds x
model types x traits. This script generates a synthetic cohort like the demo's (about 350
patients with imaging traits, but 3000 genes and K=10 where the demo has 2000 and K=5; 6
traits), then

1. times one repetition of each model type alone, in this process (one core), which gives the
   cost per repetition of each model type over all traits;
2. times one repetition of every model type together on the local executor with one worker and
   with every core, and prints the ratio (the tables must be identical).

    python benchmarks/bench_bootstrap.py           # demo size
    python benchmarks/bench_bootstrap.py --quick   # a reduced size while developing

Times are wall seconds; "cost relative to the cheapest" is each model type's seconds / the
cheapest's, "speed-up" is one worker's seconds / all cores'. The cohort is synthetic (no data
needed). On a shared machine the timings are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import torch

from _cli import at_least, fill_sizes
from radiogenomics.evaluation.bootstrap import NN, run_bootstrap
from radiogenomics.execution import LocalExecutor
from radiogenomics.models.baselines import BASELINES


def demo_cohort(n_patients: int, n_genes: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The synthetic demo cohort (expression of imaged patients, text trait labels)."""
    try:
        from radiogenomics.data.synthetic import generate_cohort, load_synthetic
    except ImportError:  # the data package without the synthetic cohort: plain arrays
        return _arrays(n_patients, n_genes, seed)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        generate_cohort(tmp, seed=seed, n_patients=n_patients, n_genes=n_genes)
        cohort = load_synthetic(tmp)
    imaged = cohort.imaged_patients()
    return cohort.expression.loc[imaged], cohort.traits.loc[imaged]


def _arrays(n: int, p: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 6))
    X = rng.standard_normal((n, p)) + 6.0
    for k in range(6):
        X[:, 40 * k : 40 * (k + 1)] += z[:, [k]]
    pts = [f"P{i:04d}" for i in range(n)]
    traits = pd.DataFrame(
        (z + 0.5 * rng.standard_normal((n, 6)) > 0.4).astype(float),
        index=pts,
        columns=["enhancing", "ncet", "necrosis", "edema", "focal", "infiltrative"],
    )
    return pd.DataFrame(X, index=pts, columns=[f"G{j}" for j in range(p)]), traits


def chosen_params(traits: list[str], nn: dict) -> dict:
    """A mid-grid point of every baseline (what a grid search typically picks) and the network."""
    per_model = {
        name: spec.param_grid()[len(spec.param_grid()) // 2] for name, spec in BASELINES.items()
    }
    return {t: {NN: nn, **per_model} for t in traits}


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


#: The sizes of a run and of a --quick one; an option given on the command line wins over both.
FULL = {"patients": 500, "genes": 3000, "folds": 10, "nn_epochs": 500, "nn_patience": 200}
QUICK = {"patients": 200, "genes": 1000, "folds": 5, "nn_epochs": 40, "nn_patience": 15}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )

    def sizes(key: str) -> str:
        return f"(default {FULL[key]}; --quick {QUICK[key]})"

    ap.add_argument(
        "--patients", type=at_least(40), help=f"cohort size, ~70%% imaged {sizes('patients')}"
    )
    ap.add_argument("--genes", type=at_least(300), help=f"genes {sizes('genes')}")
    ap.add_argument("--folds", type=at_least(2), help=f"K, folds per repetition {sizes('folds')}")
    ap.add_argument(
        "--nn-epochs", type=at_least(1), help=f"network max epochs {sizes('nn_epochs')}"
    )
    ap.add_argument(
        "--nn-patience", type=at_least(1), help=f"network patience {sizes('nn_patience')}"
    )
    ap.add_argument("--quick", action="store_true", help="a reduced size while developing")
    args = ap.parse_args(argv)
    return fill_sizes(args, QUICK if args.quick else FULL)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    torch.set_num_threads(1)  # one core per unit, as under the executor

    X, traits = demo_cohort(args.patients, args.genes)
    nn = {
        "hidden": [64, 32, 16],
        "activation": "tanh",
        "optimizer": "adadelta",
        "dropout": 0.0,
        "batch_size": 10,
        "max_epochs": args.nn_epochs,
        "patience": args.nn_patience,
    }
    chosen = chosen_params(list(traits.columns), nn)
    models = [NN, *BASELINES]
    print(
        f"cohort: {len(X)} imaged patients x {X.shape[1]} genes, {traits.shape[1]} traits "
        f"({', '.join(f'{t}: {traits[t].notna().sum()}' for t in traits)}); K={args.folds}; "
        f"network {'/'.join(map(str, nn['hidden']))}, up to {args.nn_epochs} epochs "
        f"(patience {args.nn_patience}); {os.cpu_count()} cores"
    )

    def one_rep(model_list, executor):
        return run_bootstrap(
            X,
            traits,
            chosen,
            n_reps=1,
            n_splits=args.folds,
            seed=0,
            executor=executor,
            models=model_list,
            # a model timed alone is its own reference (else a warning per trait and model)
            reference=NN if NN in model_list else model_list[0],
        )

    print("\none repetition, all traits, one core (in this process):")
    per_model = {}
    for model in models:
        sec, res = timed(lambda m=model: one_rep([m], LocalExecutor(1, quiet=True)))
        per_model[model] = sec
        mean_auc = res.auc.auc.mean()
        print(
            f"  {model:<14} {sec:8.2f} s   ({sec / traits.shape[1]:6.2f} s per trait; AUC {mean_auc:.3f})"
        )
    total = sum(per_model.values())
    cheapest = min(per_model.values())
    print(f"  {'total':<14} {total:8.2f} s   -> B=100: {100 * total / 3600:.2f} h on one core")
    print("  cost relative to the cheapest model type:")
    for model, sec in per_model.items():
        print(f"    {model:<14} {sec / cheapest:7.1f}x")

    print("\none repetition, every model type together:")
    serial, res1 = timed(lambda: one_rep(models, LocalExecutor(1, quiet=True)))
    par, resn = timed(lambda: one_rep(models, LocalExecutor(None, quiet=True)))
    same = res1.folds.equals(resn.folds)
    print(f"  1 worker        {serial:8.2f} s")
    print(f"  {os.cpu_count()} workers       {par:8.2f} s   (speed-up {serial / par:.2f}x)")
    print(f"  identical tables: {same}")
    print(f"  -> B=100 on {os.cpu_count()} cores: {100 * par / 3600:.2f} h")
    if not same:
        raise SystemExit("the tables differ between worker counts")


if __name__ == "__main__":
    main()
