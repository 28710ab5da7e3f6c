"""The model-comparison figures (the paper's Figure 4), saved as PNG and SVG.

(a) observed cross-validated AUC per trait and model type; (b) the distribution over bootstrap
repetitions of the neural network's AUC minus each other model's, with its mean and 95%
percentile interval.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.models.baselines import MODEL_LABELS
from radiogenomics.utils.figures import save_figure


def _require(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(
            f"columns {missing} are missing", field=what, expected=f"columns {list(columns)}"
        )


def _colour(model: str):
    """One colour per model type, the same in both figures."""
    names = list(MODEL_LABELS)
    i = names.index(model) if model in names else len(names) + sum(map(ord, model))
    return plt.get_cmap("tab10")(i % 10)


def _model_order(models: Sequence[str]) -> list[str]:
    """The network first, then the baselines in registry order, then anything else."""
    known = [m for m in MODEL_LABELS if m in set(models)]
    return known + sorted(set(models) - set(known))


def plot_cv_auc(folds: pd.DataFrame, path_stem: str | os.PathLike) -> list[Path]:
    """Fig. 4a: mean CV AUC (bars, +/- SD) and each fold's AUC (dots) per trait and model.

    ``folds`` is tidy: trait, model, fold, auc (e.g. the baselines' and the networks' per-fold
    tables concatenated).
    """
    _require(folds, ["trait", "model", "fold", "auc"], "cv folds")
    n_traits, n_models = folds.trait.nunique(), folds.model.nunique()
    fig, ax = plt.subplots(figsize=(max(5.0, 1.3 * n_traits * max(1, n_models / 4)), 4.0))
    draw_cv_auc(ax, folds)
    return save_figure(fig, path_stem)


def draw_cv_auc(ax: plt.Axes, folds: pd.DataFrame) -> plt.Axes:
    """The bars and dots of :func:`plot_cv_auc` on ``ax`` (one bar per trait and model)."""
    _require(folds, ["trait", "model", "fold", "auc"], "cv folds")
    traits = list(dict.fromkeys(folds.trait))
    models = _model_order(folds.model.unique())
    width = 0.8 / len(models)
    for j, model in enumerate(models):
        sub = folds[folds.model == model]
        x = np.arange(len(traits)) + (j - (len(models) - 1) / 2) * width
        stats = sub.groupby("trait")["auc"].agg(["mean", "std"]).reindex(traits)
        ax.bar(
            x,
            stats["mean"],
            width=width * 0.9,
            yerr=stats["std"].fillna(0.0),
            color=_colour(model),
            label=MODEL_LABELS.get(model, model),
            capsize=2,
            alpha=0.85,
        )
        for i, trait in enumerate(traits):
            vals = sub.loc[sub.trait == trait, "auc"].to_numpy()
            jitter = np.linspace(-0.25, 0.25, len(vals)) * width if len(vals) > 1 else [0.0]
            ax.scatter(x[i] + np.asarray(jitter), vals, s=5, color="black", zorder=3)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(traits)), traits, rotation=30, ha="right")
    ax.set_ylim(0.0, 1.05)
    ax.set_ylabel("cross-validated ROC AUC")
    ax.set_title("Observed cross-validation performance")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return ax


def plot_bootstrap_differences(
    differences: pd.DataFrame,
    summary: pd.DataFrame,
    path_stem: str | os.PathLike,
    margin: float = 0.10,
    reference: str = "nn",
) -> list[Path]:
    """Fig. 4b: per trait, violins of reference-minus-model AUC over repetitions, mean, 95% CI.

    ``differences``: trait, model, rep, difference; ``summary``: trait, model, mean, ci_low,
    ci_high. A dashed line marks no difference, a dotted one the paper's ``margin``.
    """
    _require(differences, ["trait", "model", "rep", "difference"], "bootstrap differences")
    _require(summary, ["trait", "model", "mean", "ci_low", "ci_high"], "bootstrap summary")
    traits = list(dict.fromkeys(differences.trait))
    models = _model_order(differences.model.unique())
    n = len(traits)
    fig, axes = plt.subplots(
        1, n, figsize=(max(3.0, 0.5 * len(models) + 1.0) * n, 3.6), sharey=True, squeeze=False
    )
    for ax, trait in zip(axes[0], traits, strict=True):
        for j, model in enumerate(models):
            vals = differences.loc[
                (differences.trait == trait) & (differences.model == model), "difference"
            ].to_numpy(dtype=float)
            vals = vals[np.isfinite(vals)]
            if len(vals) >= 2 and np.ptp(vals) > 0:
                parts = ax.violinplot([vals], positions=[j], widths=0.8, showextrema=False)
                for body in parts["bodies"]:
                    body.set_facecolor(_colour(model))
                    body.set_alpha(0.4)
            row = summary[(summary.trait == trait) & (summary.model == model)]
            if len(row):
                r = row.iloc[0]
                ax.errorbar(
                    [j],
                    [r["mean"]],
                    yerr=[[r["mean"] - r["ci_low"]], [r["ci_high"] - r["mean"]]],
                    fmt="o",
                    color="black",
                    ms=4,
                    capsize=3,
                )
        ax.axhline(0.0, color="grey", lw=0.8, ls="--")
        if margin:
            ax.axhline(margin, color="grey", lw=0.8, ls=":")
        ax.set_xticks(range(len(models)), models, rotation=45, ha="right", fontsize=8)
        ax.set_title(trait, fontsize=9)
    ref = MODEL_LABELS.get(reference, reference)
    axes[0][0].set_ylabel(f"AUC difference ({reference} - model)")
    fig.suptitle(f"Bootstrap: {ref} minus other models (mean, 95% interval)", fontsize=10)
    return save_figure(fig, path_stem)
