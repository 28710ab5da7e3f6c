"""Figures: enrichment plot of one set, clustered NES heatmap across rankings (the paper's
Fig. 6c / 7b), and the patients-enriched chart of radiogenomic traits (Fig. 8)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from radiogenomics.enrichment.gsea import rank_genes
from radiogenomics.errors import InputError  # noqa: E402
from radiogenomics.utils.figures import save_figure  # noqa: E402


def running_sum(
    ranking: pd.Series, genes: Sequence[str], weight: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The GSEA running sum over the ranked list: ``(running, hit_positions, sorted_scores)``."""
    ranked = rank_genes(ranking.to_frame(), weight)
    order = ranked.order[0]
    hit = np.isin(ranked.genes[order], np.asarray(list(genes), dtype=object))
    k, n = int(hit.sum()), hit.size
    if k == 0 or k == n:
        raise InputError(
            f"{k} of the set's genes are in the ranking of {n} genes",
            field="gene set",
            expected="at least one ranked gene in the set and one outside it",
        )
    w = ranked.weights[0] * hit
    total = w.sum()
    step = np.where(hit, (w / total) if total > 0 else hit / k, -1.0 / (n - k))
    return np.cumsum(step), np.flatnonzero(hit), ranked.scores[0]


def plot_enrichment(
    ranking: pd.Series,
    genes: Sequence[str],
    title: str = "",
    weight: float = 1.0,
    stem: str | os.PathLike | None = None,
) -> plt.Figure:
    """Running-sum curve (with its ES), hit ticks and the ranked statistic for one set."""
    run, hits, scores = running_sum(ranking, genes, weight)
    x = np.arange(run.size)
    i = int(np.argmax(np.abs(run)))
    fig, axes = plt.subplots(
        3, 1, figsize=(6, 4.5), sharex=True, gridspec_kw={"height_ratios": [3, 0.5, 1.5]}
    )
    axes[0].plot(x, run, color="#2a7f3f", lw=1.5)
    axes[0].axhline(0, color="grey", lw=0.6)
    axes[0].axvline(i, color="#c0392b", lw=0.8, ls="--")
    axes[0].set_ylabel("running ES")
    axes[0].set_title(f"{title}  ES = {run[i]:.3f}" if title else f"ES = {run[i]:.3f}")
    axes[1].vlines(hits, 0, 1, color="black", lw=0.5)
    axes[1].set_yticks([])
    axes[2].fill_between(x, scores, color="#7f8c8d", lw=0)
    axes[2].set_ylabel("score")
    axes[2].set_xlabel("rank")
    fig.tight_layout()
    if stem is not None:
        save_figure(fig, stem)
    return fig


def plot_nes_heatmap(
    results: pd.DataFrame,
    stem: str | os.PathLike | None = None,
    ranking_col: str = "ranking",
    max_sets: int = 40,
    padj_max: float | None = None,
):
    """Clustered heatmap of NES, sets x rankings (seaborn clustermap); returns the figure.

    With ``padj_max``, only sets significant in at least one ranking are drawn; at most
    ``max_sets`` sets with the largest |NES| are kept.
    """
    import seaborn as sns

    for col in (ranking_col, "set", "nes"):
        if col not in results.columns:
            raise InputError(f"no column {col!r}", field="results", expected="a gsea_many table")
    res = results
    if padj_max is not None:
        keep_sets = res.loc[res["padj"] < padj_max, "set"].unique()
        res = res[res["set"].isin(keep_sets)]
    mat = res.pivot_table(index="set", columns=ranking_col, values="nes").fillna(0.0)
    if mat.empty:
        raise InputError("nothing to draw", field="results", expected="at least one set")
    top = mat.abs().max(axis=1).sort_values(ascending=False).index[:max_sets]
    mat = mat.loc[top]
    lim = float(np.abs(mat.to_numpy()).max()) or 1.0
    # Room for the set names beside the heatmap (about 0.08 in per character at the default
    # size): with a width for the columns alone, MSigDB names did not fit and clustermap's
    # tight layout gave up with a warning.
    label_width = 0.08 * max(len(str(name)) for name in mat.index)
    label_height = 0.08 * max(len(str(name)) for name in mat.columns)  # rotated: the same room
    width = 2.5 + 0.35 * mat.shape[1] + label_width
    height = 2.0 + 0.25 * mat.shape[0] + label_height
    # dendrograms in inches, not in shares of the figure (a tall figure had a tall one)
    grid = sns.clustermap(
        mat,
        cmap="RdBu_r",
        vmin=-lim,
        vmax=lim,
        row_cluster=mat.shape[0] > 1,
        col_cluster=mat.shape[1] > 1,
        figsize=(width, height),
        dendrogram_ratio=(min(0.2, 1.4 / width), min(0.2, 1.4 / height)),
        yticklabels=True,
        xticklabels=True,
    )
    grid.ax_heatmap.set_xlabel("")
    grid.ax_heatmap.set_ylabel("")
    # seaborn turns the labels of a small map; the figure's size counts on these directions
    grid.ax_heatmap.tick_params(axis="x", labelrotation=90)
    grid.ax_heatmap.tick_params(axis="y", labelrotation=0)
    # the colour bar in the empty corner above the row dendrogram: at seaborn's default place
    # it reached down beside the heatmap's first rows, over the row dendrogram
    corner = grid.ax_row_dendrogram.get_position().x1
    top = grid.ax_col_dendrogram.get_position()
    bar = 0.18 / width
    grid.ax_cbar.set_position(
        [corner - bar - 0.08 / width, top.y0 + 0.05 * top.height, bar, 0.7 * top.height]
    )
    grid.ax_cbar.set_title("NES", fontsize=10)  # beside the bar it ran into the dendrogram
    fig = grid.figure
    if stem is not None:
        save_figure(fig, stem)
    return fig


def plot_patients_enriched(
    traits: pd.DataFrame, stem: str | os.PathLike | None = None, max_traits: int = 30
) -> plt.Figure:
    """Share of patients with each trait (bars) beside the patients x traits 0/1 map."""
    if traits.empty or traits.shape[1] == 0:
        raise InputError("no traits", field="traits", expected="a patients x traits 0/1 table")
    n = min(traits.shape[1], max_traits)
    fig, axes = plt.subplots(
        1, 2, figsize=(10, 1.2 + 0.28 * n), sharey=True, gridspec_kw={"width_ratios": [1, 3]}
    )
    draw_patients_enriched(axes, traits, max_traits)
    fig.tight_layout()
    if stem is not None:
        save_figure(fig, stem)
    return fig


def draw_patients_enriched(axes: Sequence[plt.Axes], traits: pd.DataFrame, max_traits: int = 30):
    """The two panels of :func:`plot_patients_enriched` on ``axes`` (bars, then the map): one
    bar per trait, the ``max_traits`` most frequent."""
    if traits.empty or traits.shape[1] == 0:
        raise InputError("no traits", field="traits", expected="a patients x traits 0/1 table")
    counts = traits.sum(axis=0).sort_values(ascending=False).iloc[:max_traits]
    sub = traits[counts.index]
    patients = sub.sort_values(list(counts.index), ascending=False).index
    ax_bar, ax_map = axes
    y = np.arange(len(counts))
    ax_bar.barh(y, 100 * counts.to_numpy() / len(traits), color="#3c5a82")
    ax_bar.set_yticks(y, counts.index, fontsize=7)
    ax_bar.invert_yaxis()
    ax_bar.set_xlabel("% of patients enriched")
    ax_map.imshow(
        sub.loc[patients].to_numpy(dtype=float).T,
        aspect="auto",
        cmap="Greys",
        vmin=0,
        vmax=1,
        interpolation="nearest",
    )
    ax_map.set_xlabel(f"patients (n = {len(traits)})")
    ax_map.set_xticks([])
    return axes
