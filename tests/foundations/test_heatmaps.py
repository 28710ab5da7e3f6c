"""Clustered heatmaps: orders equal scipy's linkage/leaves_list, drawn without pyplot."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import leaves_list, linkage

from radiogenomics.errors import InputError
from radiogenomics.utils.figures import save_figure
from radiogenomics.utils.heatmaps import (
    cluster_order,
    clustered_heatmap,
    heatmap_matrix,
)


def _blocks(seed: int = 0) -> pd.DataFrame:
    """Two planted row blocks (high in the first three traits or in the last three), shuffled."""
    rng = np.random.default_rng(seed)
    high = np.r_[np.full(3, 0.9), np.full(3, 0.5)]
    rows = [high + rng.normal(0, 0.03, 6) for _ in range(5)]
    rows += [high[::-1] + rng.normal(0, 0.03, 6) for _ in range(5)]
    m = pd.DataFrame(
        rows,
        index=[f"SET_{i}" for i in range(10)],
        columns=["enhancing", "ncet", "necrosis", "edema", "focal", "infiltrative"],
    )
    return m.sample(frac=1.0, random_state=3)


@pytest.mark.parametrize("method", ["complete", "average", "ward"])
def test_orders_match_scipy(method):
    m = _blocks()
    res = clustered_heatmap(m, method=method)
    values = m.to_numpy()
    rows = leaves_list(linkage(values, method=method, metric="euclidean"))
    cols = leaves_list(linkage(values.T, method=method, metric="euclidean"))
    assert res.row_order == [m.index[i] for i in rows]
    assert res.col_order == [m.columns[i] for i in cols]
    assert res.data.equals(m.iloc[rows, cols])
    # The planted blocks end up contiguous.
    block = [int(s.split("_")[1]) < 5 for s in res.row_order]
    assert sum(a != b for a, b in zip(block, block[1:], strict=False)) == 1
    assert isinstance(res.figure, Figure)
    heat = next(a for a in res.figure.axes if a.get_yticklabels())
    assert [t.get_text() for t in heat.get_yticklabels()] == res.row_order


def test_groups_nan_and_no_clustering(tmp_path):
    m = _blocks()
    m.iloc[2, 3] = np.nan
    groups = {s: ("h.all" if i % 2 else "c5.bp") for i, s in enumerate(m.index)}
    res = clustered_heatmap(m, row_groups=groups, cluster_cols=False, title="masking AP")
    filled = m.to_numpy().copy()
    filled[2, 3] = np.nanmean(m.to_numpy())
    assert res.row_order == [m.index[i] for i in leaves_list(linkage(filled, "complete"))]
    assert res.col_order == list(m.columns) and res.col_linkage is None
    legend = res.figure.legends[0]
    assert {t.get_text() for t in legend.get_texts()} == {"h.all", "c5.bp"}
    paths = save_figure(res.figure, tmp_path / "heat")
    assert [p.suffix for p in paths] == [".png", ".svg"] and all(p.stat().st_size for p in paths)
    one = clustered_heatmap(m.iloc[:1])
    assert one.row_linkage is None and one.row_order == [m.index[0]]
    with pytest.raises(InputError, match="rows without a group"):
        clustered_heatmap(m, row_groups={m.index[0]: "h.all"})
    with pytest.raises(InputError, match="unknown clustering method"):
        cluster_order(m.to_numpy(), method="fastest")
    with pytest.raises(InputError, match="empty"):
        clustered_heatmap(pd.DataFrame())


def test_heatmap_matrix_from_long_table():
    long = pd.DataFrame(
        {
            "task": ["edema", "edema", "edema", "focal", "focal", "focal"],
            "set": ["EMT", "EMT", "HYPOXIA", "EMT", "EMT", "HYPOXIA"],
            "collection": ["h.all", "c2.cp", "h.all", "h.all", "c2.cp", "h.all"],
            "ap": [0.9, 0.4, 0.5, 0.3, 0.8, 0.7],
        }
    )
    mat, groups = heatmap_matrix(long, "ap")
    assert set(mat.index) == {"h.all: EMT", "c2.cp: EMT", "HYPOXIA"}
    assert mat.loc["c2.cp: EMT", "focal"] == 0.8 and groups["HYPOXIA"] == "h.all"
    top, _ = heatmap_matrix(long, "ap", top=1)
    assert set(top.index) == {"h.all: EMT", "c2.cp: EMT"}
    with pytest.raises(InputError, match="no column\\(s\\) auc"):
        heatmap_matrix(long, "auc")


def test_no_pyplot_and_no_backend_switch():
    code = (
        "import sys, matplotlib; matplotlib.use('svg'); "
        "import radiogenomics.utils.heatmaps as h; "
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'; "
        "assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_save_figure_keeps_dots_in_the_stem_and_drops_a_given_extension(tmp_path):
    import matplotlib.pyplot as plt

    fig, _ = plt.subplots()
    dotted = save_figure(fig, tmp_path / "gsea_h.all.v6.2_SET")
    assert [p.name for p in dotted] == ["gsea_h.all.v6.2_SET.png", "gsea_h.all.v6.2_SET.svg"]
    fig, _ = plt.subplots()
    named = save_figure(fig, tmp_path / "plot.png")
    assert [p.name for p in named] == ["plot.png", "plot.svg"]
    assert all(p.is_file() for p in dotted + named)
