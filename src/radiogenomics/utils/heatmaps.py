"""Clustered heatmaps as the paper drew them with pheatmap: rows and columns ordered by
hierarchical clustering, dendrograms beside them, row labels with a colour strip for each row's
group (e.g. the gene-set collection).

Built on ``matplotlib.figure.Figure`` alone: no pyplot, no global state, no backend switch at
import, so a caller (a notebook, a GUI, the pipeline) keeps its own backend. The orders are
scipy's: ``leaves_list(linkage(values, method, metric))`` for rows, the same on the transposed
matrix for columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy.cluster.hierarchy import dendrogram, leaves_list, linkage

from radiogenomics.errors import InputError

METHODS = ("complete", "average", "single", "ward", "weighted", "centroid", "median")
# Qualitative colours for the row groups (colour-blind friendly, Okabe-Ito order).
GROUP_COLOURS = (
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
    "#000000",
)


@dataclass
class ClusteredHeatmap:
    """The drawn figure, the matrix in drawn order, and the orders (labels top to bottom, left to
    right) with the linkages they came from (None where that axis was not clustered)."""

    figure: Figure
    data: pd.DataFrame
    row_order: list[str]
    col_order: list[str]
    row_linkage: np.ndarray | None
    col_linkage: np.ndarray | None


def cluster_order(
    values: np.ndarray, method: str = "complete", metric: str = "euclidean"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Leaf order of the rows of ``values`` under hierarchical clustering, and the linkage.

    Fewer than two rows: the identity order and no linkage. NaN cells are filled with the mean
    of the finite cells first (a distance needs every cell).
    """
    if method not in METHODS:
        raise InputError(f"unknown clustering method {method!r}", expected=" / ".join(METHODS))
    x = np.asarray(values, dtype=np.float64)
    if x.ndim != 2:
        raise InputError(f"a {x.ndim}-d array to cluster", expected="a 2-d matrix")
    if x.shape[0] < 2:
        return np.arange(x.shape[0]), None
    x = _filled(x)
    z = linkage(x, method=method, metric=metric)
    return leaves_list(z), z


def _filled(x: np.ndarray) -> np.ndarray:
    finite = np.isfinite(x)
    if finite.all():
        return x
    fill = float(x[finite].mean()) if finite.any() else 0.0
    return np.where(finite, x, fill)


def clustered_heatmap(
    matrix: pd.DataFrame,
    *,
    row_groups: Mapping[str, str] | pd.Series | None = None,
    method: str = "complete",
    metric: str = "euclidean",
    cluster_rows: bool = True,
    cluster_cols: bool = True,
    title: str | None = None,
    value_label: str = "score",
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    group_label: str = "collection",
) -> ClusteredHeatmap:
    """Draw ``matrix`` (rows: e.g. gene sets or genes; columns: e.g. traits or classes) with
    rows and columns ordered by hierarchical clustering (``method``/``metric`` as scipy's
    ``linkage``; pheatmap's default is complete linkage on Euclidean distances) and their
    dendrograms. ``row_groups`` maps row labels to a group (the collection) drawn as a colour
    strip with a legend. NaN cells are left blank (and filled with the mean for clustering).
    """
    if not isinstance(matrix, pd.DataFrame) or matrix.empty:
        raise InputError("nothing to draw: the matrix is empty", expected="a non-empty DataFrame")
    try:
        values = matrix.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "the heatmap matrix has non-numeric cells", expected="numbers (NaN allowed)"
        ) from None
    if not np.isfinite(values).any():
        raise InputError("nothing to draw: every cell is NaN", expected="some finite values")
    if not (matrix.index.is_unique and matrix.columns.is_unique):
        raise InputError(
            "row or column labels repeat", expected="unique labels (prefix the collection)"
        )
    rows, row_z = cluster_order(values, method, metric) if cluster_rows else (None, None)
    cols, col_z = cluster_order(values.T, method, metric) if cluster_cols else (None, None)
    rows = np.arange(values.shape[0]) if rows is None else rows
    cols = np.arange(values.shape[1]) if cols is None else cols
    data = matrix.iloc[rows, cols]
    groups = None
    if row_groups is not None:
        groups = pd.Series(row_groups).reindex(data.index.map(str))
        if groups.isna().any():
            missing = list(data.index[groups.isna().to_numpy()])[:3]
            raise InputError(
                f"rows without a group: {missing}", field=group_label, expected="every row's group"
            )
    fig = _draw(data, row_z, col_z, groups, title, value_label, cmap, vmin, vmax, group_label)
    return ClusteredHeatmap(
        figure=fig,
        data=data,
        row_order=[str(r) for r in data.index],
        col_order=[str(c) for c in data.columns],
        row_linkage=row_z,
        col_linkage=col_z,
    )


def _draw(
    data: pd.DataFrame,
    row_z: np.ndarray | None,
    col_z: np.ndarray | None,
    groups: pd.Series | None,
    title: str | None,
    value_label: str,
    cmap: str,
    vmin: float | None,
    vmax: float | None,
    group_label: str,
) -> Figure:
    n_rows, n_cols = data.shape
    label_w = 0.075 * max(len(str(s)) for s in data.index)
    heat_w, heat_h = 0.55 * n_cols + 0.6, 0.24 * n_rows + 0.4
    dend_w, strip_w, dend_h = 1.2, (0.25 if groups is not None else 0.01), 0.8
    fig = Figure(figsize=(dend_w + strip_w + heat_w + label_w + 1.6, dend_h + heat_h + 1.4))
    grid = fig.add_gridspec(
        2,
        3,
        width_ratios=[dend_w, strip_w, heat_w],
        height_ratios=[dend_h, heat_h],
        wspace=0.02,
        hspace=0.02,
        left=0.02,
        right=1 - (label_w + 0.3) / fig.get_figwidth(),
    )
    ax = fig.add_subplot(grid[1, 2])
    masked = np.ma.masked_invalid(data.to_numpy(dtype=np.float64))
    im = ax.imshow(masked, aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="none")
    ax.set_xticks(range(n_cols), [str(c) for c in data.columns], rotation=90)
    ax.set_yticks(range(n_rows), [str(r) for r in data.index])
    ax.yaxis.tick_right()
    ax.tick_params(length=0)
    # The colour bar sits in the free corner above the row dendrogram, as pheatmap's legend.
    corner = grid[0, 0].subgridspec(3, 1, height_ratios=[1.0, 0.35, 1.0])
    bar = fig.colorbar(im, cax=fig.add_subplot(corner[1]), orientation="horizontal")
    bar.set_label(value_label, fontsize="small")
    bar.ax.tick_params(labelsize="x-small")
    if row_z is not None:
        _dendrogram(fig.add_subplot(grid[1, 0]), row_z, n_rows, vertical=True)
    if col_z is not None:
        _dendrogram(fig.add_subplot(grid[0, 2]), col_z, n_cols, vertical=False)
    if groups is not None:
        names = list(dict.fromkeys(groups))
        colour = {g: GROUP_COLOURS[i % len(GROUP_COLOURS)] for i, g in enumerate(names)}
        strip = fig.add_subplot(grid[1, 1])
        rgb = np.array([[_rgb(colour[g])] for g in groups])
        strip.imshow(rgb, aspect="auto", interpolation="none")
        strip.set_axis_off()
        fig.legend(
            handles=[Patch(color=colour[g], label=g) for g in names],
            title=group_label,
            loc="lower left",
            bbox_to_anchor=(0.0, 0.0),
            fontsize="small",
            frameon=False,
        )
    if title:
        fig.suptitle(title)
    return fig


def _rgb(hex_colour: str) -> tuple[float, float, float]:
    h = hex_colour.lstrip("#")
    return tuple(int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def _dendrogram(ax, z: np.ndarray, n: int, vertical: bool) -> None:
    """Draw scipy's dendrogram of ``z`` so its leaves sit at the heatmap's row/column centres
    (scipy puts leaf i at 5 + 10 i)."""
    tree = dendrogram(z, no_plot=True)
    for xs, ys in zip(tree["icoord"], tree["dcoord"], strict=True):
        pos = (np.asarray(xs) - 5.0) / 10.0
        if vertical:
            ax.plot(ys, pos, color="0.3", linewidth=0.8)
        else:
            ax.plot(pos, ys, color="0.3", linewidth=0.8)
    if vertical:
        ax.set_ylim(n - 0.5, -0.5)
        ax.invert_xaxis()  # the root on the left, leaves touching the heatmap
    else:
        ax.set_xlim(-0.5, n - 0.5)
    ax.set_axis_off()


def heatmap_matrix(
    table: pd.DataFrame,
    value: str,
    rows: str = "set",
    columns: str = "task",
    group: str | None = "collection",
    top: int | None = None,
) -> tuple[pd.DataFrame, pd.Series | None]:
    """A long table (one row per row-label x column, e.g. a masking table stacked over traits or
    the prevalence of radiogenomic traits) as the matrix to draw, and each row's group.

    With ``top``, only the union of each column's ``top`` rows by ``value`` is kept. A row name
    found in several groups is labelled ``group: name`` so labels stay unique.
    """
    need = [c for c in (value, rows, columns, group) if c is not None]
    missing = [c for c in need if c not in table.columns]
    if missing:
        raise InputError(
            f"the table has no column(s) {', '.join(missing)}",
            field=", ".join(missing),
            expected="columns " + ", ".join(need),
        )
    if top is not None and top < 1:
        raise InputError(f"top={top}", field="top", expected="1 or more, or None for every row")
    df = table[need].copy()
    df["_label"] = df[rows].astype(str)
    if group is not None:
        clash = df.groupby(rows)[group].transform("nunique") > 1
        df.loc[clash, "_label"] = df.loc[clash, group].astype(str) + ": " + df.loc[clash, "_label"]
    if top is not None:
        best = (
            df.sort_values(value, ascending=False, kind="stable")
            .groupby(columns, sort=False)
            .head(top)
        )
        df = df[df["_label"].isin(set(best["_label"]))]
    mat = df.pivot_table(index="_label", columns=columns, values=value, aggfunc="mean", sort=False)
    mat.index.name, mat.columns.name = rows, columns
    groups = None
    if group is not None:
        groups = df.drop_duplicates("_label").set_index("_label")[group].astype(str)
        groups = groups.reindex(mat.index)
    return mat, groups
