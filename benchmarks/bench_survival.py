"""Stepwise Cox: the vectorised Efron Newton-Raphson used for model search vs lifelines'
CoxPHFitter scoring the same models, in one run.

Paper scale (the default): 127 patients, 3 forced covariates, 36 binary candidates (6 imaging
+ 30 radiogenomic traits), direction "both". Both sides score exactly the models the search
visits (the set recorded in the trace); the table reports milliseconds per model, the ratio
lifelines / ours (above 1: ours is faster), and the largest log-likelihood difference between the
two fitters (they must agree). The cohort is synthetic (no data needed); lifelines is the peer.

    python benchmarks/bench_survival.py
    python benchmarks/bench_survival.py --patients 300 --candidates 60
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

from _cli import HelpFormatter, at_least
from radiogenomics.survival import cox_stepwise, fit_cox
from radiogenomics.survival._frame import prepare


def cohort(n: int, k: int, seed: int = 0) -> tuple[pd.DataFrame, list[str], list[str]]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({f"trait{i}": rng.integers(0, 2, n) for i in range(k)})
    forced = ["gender_male", "race_white", "age_over_median"]
    for c in forced:
        df[c] = rng.integers(0, 2, n)
    log_hazard = df["trait0"] + df["trait1"] - df["trait2"] + 0.5 * df["age_over_median"]
    t = rng.exponential(400 / np.exp(log_hazard))
    c = rng.uniform(100, 2000, n)
    df["os_days"] = np.round(np.minimum(t, c))
    df["os_event"] = (t <= c).astype(int)
    return df, forced, [f"trait{i}" for i in range(k)]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument(
        "--patients", type=at_least(20), default=127, help="patients of the synthetic cohort"
    )
    ap.add_argument(
        "--candidates",
        type=at_least(3),
        default=36,
        help="binary candidate traits (the first three carry the planted hazard)",
    )
    args = ap.parse_args(argv)
    df, forced, cands = cohort(args.patients, args.candidates)
    warnings.simplefilter("ignore")

    t0 = time.perf_counter()
    res = cox_stepwise(df, "os_days", "os_event", cands, forced, direction="both")
    search = time.perf_counter() - t0

    # Every model the search scored: the current model plus each move, at each step.
    models: list[list[str]] = []
    for step, rows in res.trace.groupby("step"):
        current = res.path["variables"].iloc[step - 1].split(";")
        for action, var in zip(rows["action"], rows["variable"], strict=True):
            if action == "add":
                models.append(current + [var])
            elif action == "drop":
                models.append([v for v in current if v != var])
    frame = prepare(df, "os_days", "os_event", forced + cands).frame

    t0 = time.perf_counter()
    ours = [fit_cox(frame, "os_days", "os_event", m).loglik for m in models]
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    peer = []
    for m in models:
        cph = CoxPHFitter().fit(frame[["os_days", "os_event", *m]], "os_days", "os_event")
        peer.append(cph.log_likelihood_)
    t_peer = time.perf_counter() - t0

    ours_ll, peer_ll = np.array(ours, dtype=float), np.array(peer, dtype=float)
    finite = np.isfinite(ours_ll) & np.isfinite(peer_ll)  # a failed fit (separation) gives NaN
    diff = float(np.max(np.abs(ours_ll - peer_ll)[finite])) if finite.any() else float("nan")
    print(
        f"stepwise Cox, {args.patients} patients, {len(forced)} forced + {len(cands)} "
        f"candidates: {len(res.path) - 1} steps, {len(models)} models scored"
    )
    print(f"  whole search (ours, incl. univariate table and final lifelines fit): {search:.2f} s")
    print(
        f"  per model: ours {1e3 * t_ours / len(models):.2f} ms, "
        f"lifelines {1e3 * t_peer / len(models):.2f} ms, ratio lifelines / ours "
        f"{t_peer / t_ours:.1f}x"
    )
    failed = (
        f" (models without a finite log-likelihood: ours {int((~np.isfinite(ours_ll)).sum())},"
        f" lifelines {int((~np.isfinite(peer_ll)).sum())})"
        if not finite.all()
        else ""
    )
    print(f"  largest log-likelihood difference: {diff:.2e}{failed}")
    print(f"  final model: {', '.join(res.variables)}")


if __name__ == "__main__":
    main()
