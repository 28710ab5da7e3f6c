"""Masking figures: clustered score heatmaps (paper Fig. 5b, 7a) and per-patient probability
heatmaps grouped by true class (Fig. 5a). Saved as PNG and SVG via ``save_figure``."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.interpret.masking import MaskingResult
from radiogenomics.utils.figures import save_figure  # also selects the headless backend


def masking_matrix(
    table: pd.DataFrame,
    metric: str = "ap",
    top: int = 5,
    columns: str = "class",
) -> pd.DataFrame:
    """Rows: the union of each column's ``top`` sets by ``metric``; columns: ``columns`` values.

    ``columns`` is "class" for one model, or e.g. "task" for a table that stacks several traits'
    masking tables. Row labels are set names (prefixed with the collection where a name occurs
    in several collections) with the coverage % appended when below 100.
    """
    for col in (metric, columns, "set", "collection"):
        if col not in table.columns:
            raise InputError(f"the masking table has no column {col!r}", field=col)
    if top < 1:
        raise InputError(f"top={top}", field="top", expected="1 or more")
    df = table.copy()
    clash = df.groupby("set")["collection"].nunique()
    prefix = df["set"].map(clash) > 1
    df["label"] = np.where(prefix, df["collection"] + ": " + df["set"], df["set"])
    if "coverage_pct" in df.columns:
        partial = df["coverage_pct"] < 100 - 1e-9
        df.loc[partial, "label"] = df.loc[partial, "label"] + df.loc[partial, "coverage_pct"].map(
            lambda c: f" ({c:.0f}%)"
        )
    best = (
        df.sort_values(metric, ascending=False, kind="stable")
        .groupby(columns, sort=False)
        .head(top)
    )
    keep = list(dict.fromkeys(best["label"]))
    mat = df[df["label"].isin(keep)].pivot_table(
        index="label", columns=columns, values=metric, aggfunc="max", sort=False
    )
    mat = mat.reindex(index=keep)
    return mat.loc[mat.max(axis=1).sort_values(ascending=False, kind="stable").index]


def masking_heatmap(
    table: pd.DataFrame,
    metric: str = "ap",
    top: int = 5,
    columns: str = "class",
    cluster: bool = True,
    title: str | None = None,
    path_stem: str | os.PathLike | None = None,
):
    """Clustered heatmap of masking scores (rows: top sets or genes; columns: classes/traits).

    Returns the figure; with ``path_stem`` it is also saved as PNG and SVG (and closed).
    """
    import seaborn as sns

    mat = masking_matrix(table, metric, top, columns)
    if mat.empty:
        raise InputError("nothing to draw: the masking table has no scored rows", field=metric)
    values = mat.astype(float)
    filled = values.fillna(values.stack().mean() if values.notna().any().any() else 0.0)
    height = 1.8 + 0.26 * len(mat)
    width = 3.2 + 0.7 * mat.shape[1] + 0.07 * max(len(str(s)) for s in mat.index)
    grid = sns.clustermap(
        filled,
        mask=values.isna(),
        row_cluster=cluster and len(mat) > 2,
        col_cluster=cluster and mat.shape[1] > 2,
        cmap="viridis",
        vmin=0.0 if metric == "ap" else max(0.0, float(np.nanmin(values.to_numpy())) - 0.02),
        vmax=1.0,
        annot=mat.shape[1] <= 8 and len(mat) <= 40,
        fmt=".2f",
        annot_kws={"fontsize": 6},
        figsize=(width, height),
        dendrogram_ratio=(0.12, 0.08),
        cbar_kws={"label": metric.upper()},
        yticklabels=True,
        xticklabels=True,
    )
    grid.ax_heatmap.set_xlabel(columns)
    grid.ax_heatmap.set_ylabel("")
    grid.ax_heatmap.tick_params(axis="y", labelsize=7)
    grid.ax_heatmap.tick_params(axis="x", labelsize=8, rotation=45)
    grid.figure.suptitle(title or f"Gene masking {metric.upper()}", y=1.05)
    if path_stem is not None:
        save_figure(grid.figure, path_stem)
    return grid.figure


def probability_panels(
    result: MaskingResult, sets: str | Sequence[str], collection: str | None = None
) -> dict[str, pd.DataFrame]:
    """Per set: patients x classes masked probabilities, rows grouped by true class (in the
    model's class order) and, within a group, sorted by the probability of that class."""
    names = [sets] if isinstance(sets, str) else list(sets)
    labels = result.labels
    out = {}
    for name in names:
        frame = result.probability_frame(name, collection)
        parts = []
        for cls in result.classes:
            members = labels.index[labels == cls]
            if len(members):
                parts.append(frame.loc[members].sort_values(cls, ascending=False, kind="stable"))
        out[name] = pd.concat(parts) if parts else frame
    return out


def probability_heatmap(
    result: MaskingResult,
    sets: str | Sequence[str],
    collection: str | None = None,
    title: str | None = None,
    path_stem: str | os.PathLike | None = None,
):
    """Masked class probabilities per patient (rows, grouped by true class), one panel per set."""
    panels = probability_panels(result, sets, collection)
    labels = result.labels
    classes = list(result.classes)
    palette = plt.get_cmap("tab10")
    colour = {c: palette(i % 10) for i, c in enumerate(classes)}  # the true-class strip
    n = len(panels)
    n_pat = len(next(iter(panels.values())))
    fig, axes = plt.subplots(
        1,
        n + 1,
        figsize=(1.2 + 1.1 * len(classes) * n, 2.0 + 0.02 * n_pat),
        gridspec_kw={"width_ratios": [0.15] + [len(classes)] * n},
        squeeze=False,
    )
    axes = axes[0]
    first = next(iter(panels.values()))
    strip = np.array([[colour[labels[p]] for p in first.index]])
    axes[0].imshow(np.transpose(strip, (1, 0, 2)), aspect="auto", interpolation="nearest")
    counts = [int((labels.loc[first.index] == c).sum()) for c in classes]
    ends = np.cumsum(counts)
    centres = [e - n / 2 - 0.5 for e, n in zip(ends, counts, strict=True)]
    axes[0].set_xticks([])
    axes[0].set_yticks(
        [c for c, n in zip(centres, counts, strict=True) if n],
        [c for c, n in zip(classes, counts, strict=True) if n],
        fontsize=8,
    )
    axes[0].set_ylabel(f"patients ({n_pat}) by true class")
    im = None
    for ax, (name, frame) in zip(axes[1:], panels.items(), strict=True):
        frame = frame.loc[first.index]
        im = ax.imshow(frame.to_numpy(), aspect="auto", cmap="magma", vmin=0, vmax=1)
        for b in ends[:-1]:
            ax.axhline(b - 0.5, color="white", lw=1)
        ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
        ax.set_yticks([])
        ax.set_title(name, fontsize=9)
    if im is not None:
        fig.colorbar(im, ax=list(axes[1:]), label="probability", shrink=0.8)
    fig.suptitle(title or "Masked probabilities", fontsize=10, y=1.03)
    if path_stem is not None:
        save_figure(fig, path_stem)
    return fig
