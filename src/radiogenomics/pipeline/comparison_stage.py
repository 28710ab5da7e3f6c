"""Stages ``baselines`` and ``bootstrap``: adapters over radiogenomics.evaluation (METHOD.md 3).

The baselines use the classifiers' folds when that stage ran (so every model sees the same
splits); the bootstrap resumes from its finished repetitions (its units are kept on disk).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.load import StudyData, study_data


def binary_traits(sd: StudyData) -> pd.DataFrame:
    """Patients x binary tasks as 0/1 floats (NaN = missing); multi-class tasks are left out."""
    cols = {}
    for task in sd.task_names:
        if sd.positive(task) is None:
            continue
        y = sd.targets[task]
        cols[task] = (y.astype(str) == sd.positive(task)).astype(float).where(y.notna())
    return pd.DataFrame(cols, index=sd.targets.index)


def compared_traits(sd: StudyData) -> pd.DataFrame:
    """Patients x tasks the baselines and the bootstrap compare: binary tasks as 0/1 floats,
    multi-class tasks (subtypes) as their labels, compared one-vs-rest by micro-AUC; NaN =
    missing."""
    cols = {}
    for task in sd.task_names:
        y = sd.targets[task]
        pos = sd.positive(task)
        if pos is None:
            cols[task] = y.astype(object).where(y.notna())
        else:
            cols[task] = (y.astype(str) == pos).astype(float).where(y.notna())
    return pd.DataFrame(cols, index=sd.targets.index)


def _shared_folds(ctx, sd: StudyData, traits: pd.DataFrame) -> dict | None:
    """The classifiers' validation folds as positions into the baselines' trait rows."""
    from radiogenomics.evaluation.baselines_cv import prepare_cohort

    if not ctx.done("classifiers"):
        return None
    folds = ctx.read("classifiers", "folds")
    data = prepare_cohort(sd.expression, traits)
    out = {}
    for name, t in data.traits.items():
        f = folds[folds["task"] == name]
        if f.empty:
            continue
        patients = np.asarray(data.patients)[t.rows]
        pos = {p: i for i, p in enumerate(patients)}
        if set(f["patient"].astype(str)) != set(pos):
            return None
        split = []
        for k in sorted(f["fold"].unique()):
            va = np.array(sorted(pos[p] for p in f.loc[f["fold"] == k, "patient"].astype(str)))
            tr = np.setdiff1d(np.arange(len(patients)), va)
            split.append((tr, va))
        out[name] = split
    return out


def run_baselines_stage(ctx) -> dict:
    from radiogenomics.evaluation.baselines_cv import run_baselines
    from radiogenomics.evaluation.comparison_figures import plot_cv_auc

    b = ctx.cfg.baselines
    sd = study_data(ctx)
    traits = compared_traits(sd)
    folds = _shared_folds(ctx, sd, traits)
    if folds is None:
        ctx.log.info(
            "baselines: the classifiers' folds are not available; using the same seed rule"
        )
    n_splits = b.folds or ctx.cfg.classifiers.folds
    res = run_baselines(
        sd.expression,
        traits,
        b.models,
        n_splits=n_splits,
        seed=ctx.seed("folds"),
        executor=ctx.executor,
        out_dir=ctx.dir / "tables",
        grids=b.grids,
        folds=folds,
        adjust_folds=True,  # the policy of every stage: K lowered to the smallest class
    )
    # Fig. 4a with the network next to the baselines, when the classifiers ran
    if ctx.done("classifiers"):
        nn = ctx.read("classifiers", "cv_folds")
        nn = nn[nn["task"].isin(traits.columns)]
        if len(nn):
            both = pd.concat(
                [
                    res.folds,
                    pd.DataFrame(
                        {
                            "trait": nn["task"],
                            "model": "nn",
                            "fold": nn["fold"],
                            "auc": nn["auc"],
                            "ap": nn["ap"],
                        }
                    ),
                ],
                ignore_index=True,
            )
            ctx.table(both, "cv_all_models")
            plot_cv_auc(both, ctx.dir / "figures" / "cv_auc_with_network")
    fig_dir = ctx.dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "svg"):  # the library writes its own figure next to the tables
        src = ctx.dir / "tables" / f"cv_auc.{ext}"
        if src.is_file():
            src.replace(fig_dir / f"cv_auc.{ext}")
    return {
        f"{r['trait']}:{r['model']}": round(float(r["auc_mean"]), 4)
        for r in res.summary.to_dict("records")
    }


def run_bootstrap_stage(ctx) -> dict:
    from radiogenomics.evaluation.bootstrap import NN, run_bootstrap
    from radiogenomics.pipeline.models_stage import load_autoencoder

    bs = ctx.cfg.bootstrap
    sd = study_data(ctx)
    traits = compared_traits(sd)
    chosen_b = json.loads((_find(ctx, "baselines", "chosen_params.json")).read_text())
    chosen_nn = ctx.read("classifiers", "chosen", index="task")
    models = list(bs.models or ctx.cfg.baselines.models)
    chosen = {}
    for t in traits.columns:
        per = {m: chosen_b[t][m] for m in models if m in chosen_b.get(t, {})}
        per[NN] = json.loads(chosen_nn.loc[t, "network"])
        chosen[t] = per
    ae = load_autoencoder(ctx)
    needs_ae = any(v[NN].get("ae_layers", 0) for v in chosen.values())
    res = run_bootstrap(
        sd.expression,
        traits,
        chosen,
        n_reps=bs.repetitions,
        n_splits=bs.folds or ctx.cfg.classifiers.folds,
        seed=ctx.seed("bootstrap"),
        executor=ctx.executor,
        out_dir=ctx.dir / "tables",
        models=[NN, *[m for m in models if all(m in chosen[t] for t in chosen)]],
        autoencoder=ae if needs_ae else None,
        adjust_folds=True,  # the policy of every stage: K lowered to the smallest class
        device=ctx.cfg.device,
        network_gpus=ctx.network_gpus(),
    )
    fig_dir = ctx.dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    for ext in ("png", "svg"):
        src = ctx.dir / "tables" / f"bootstrap_differences.{ext}"
        if src.is_file():
            src.replace(fig_dir / f"bootstrap_differences.{ext}")
    summary = res.summary
    return {
        "computed_units": int(res.n_computed),
        "rows": int(len(summary)),
    }


def _find(ctx, stage: str, name: str):
    hits = sorted(ctx.stage_dir(stage).rglob(name))
    if not hits:
        raise StageSkipped(f"stage {stage!r} left no {name}")
    return hits[0]
