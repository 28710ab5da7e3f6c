"""Masking figures: the matrices they draw and the files they write."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.interpret import (
    gene_masking,
    masking_heatmap,
    masking_matrix,
    probability_heatmap,
    probability_panels,
)
from radiogenomics.models.network import MLP


def small_result():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(30)]
    X = pd.DataFrame(rng.normal(size=(24, 30)), columns=genes, index=[f"P{i}" for i in range(24)])
    net = MLP(30, [12, 6], 3, activation="tanh").eval()
    model = SimpleNamespace(network=net, scaler=Scaler.fit(X), classes=("A", "B", "C"))
    y = pd.Series(np.repeat(["A", "B", "C"], 8), index=X.index)
    sets = {
        "h": {"s1": genes[:5], "s2": genes[5:12] + ["ZZZ"], "s3": genes[12:20]},
        "k": {"s1": genes[20:25], "t": genes[25:]},
    }
    return gene_masking(
        model, X, y, gene_sets=sets, single_genes=False, return_probabilities=True
    ), y


def test_masking_matrix_picks_top_rows_per_column_and_labels_clashes():
    res, _ = small_result()
    mat = masking_matrix(res.table, metric="auc", top=2)
    assert set(mat.columns) == {"A", "B", "C"}
    t = res.table.assign(label=res.table["collection"] + ": " + res.table["set"])
    expected = set()
    for _, g in t.groupby("class"):
        expected |= set(g.sort_values("auc", ascending=False).head(2)["label"])
    got = {lab.split(" (")[0] for lab in mat.index}
    expected = {e if e.split(": ")[1] == "s1" else e.split(": ")[1] for e in expected}
    assert got == expected
    assert any(lab.endswith("(88%)") for lab in masking_matrix(res.table, "auc", 5).index)
    row = t[(t["set"] == "t") & (t["class"] == "B")]["auc"].iloc[0]
    assert masking_matrix(res.table, "auc", 5).loc["t", "B"] == pytest.approx(row)
    with pytest.raises(InputError, match="no column"):
        masking_matrix(res.table, metric="f1")


def test_probability_panels_group_patients_by_true_class(tmp_path):
    res, y = small_result()
    panels = probability_panels(res, ["s2", "t"])
    frame = panels["t"]
    assert list(y.loc[frame.index]) == list(np.repeat(["A", "B", "C"], 8))
    block = frame.loc[y.loc[frame.index] == "B", "B"].to_numpy()
    assert (np.diff(block) <= 0).all()  # sorted by the group's own class probability
    np.testing.assert_allclose(frame.loc["P3"], res.probability_frame("t").loc["P3"])


def test_figures_are_written_as_png_and_svg(tmp_path):
    res, _ = small_result()
    masking_heatmap(res.table, metric="ap", top=3, path_stem=tmp_path / "sets_ap")
    probability_heatmap(res, ["s2", "t"], path_stem=tmp_path / "probs")
    for stem in ("sets_ap", "probs"):
        for ext in ("png", "svg"):
            assert (tmp_path / f"{stem}.{ext}").stat().st_size > 1000
