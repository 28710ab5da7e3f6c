"""The report's hover figures carry the numbers of independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.report import charts


def _es_by_loop(scores: dict[str, float], members: set[str]) -> float:
    """Subramanian et al.'s running sum, written out gene by gene."""
    order = sorted(scores, key=lambda g: -scores[g])
    hits_total = sum(abs(scores[g]) for g in order if g in members)
    miss = 1.0 / (len(order) - sum(g in members for g in order))
    run, best = 0.0, 0.0
    for g in order:
        run += abs(scores[g]) / hits_total if g in members else -miss
        if abs(run) > abs(best):
            best = run
    return best


def test_running_sum_matches_a_gene_by_gene_loop_and_the_gsea_engine():
    rng = np.random.default_rng(1)
    genes = [f"g{i}" for i in range(300)]
    scores = pd.Series(rng.normal(size=300), index=genes)
    members = set(genes[:15]) | set(genes[100:110])
    scores[genes[:15]] += 2.0  # planted: the set sits near the top
    curve = charts.running_sum(scores, members)
    assert charts.enrichment_score(curve) == pytest.approx(_es_by_loop(scores.to_dict(), members))
    assert curve["hit"].sum() == 25 and curve["sum"].iloc[-1] == pytest.approx(0.0, abs=1e-9)

    from radiogenomics.enrichment import gsea_many

    res = gsea_many(
        scores.to_frame("r"), {"S": sorted(members)}, nperm=100, seed=0, min_size=5
    ).table
    assert charts.enrichment_score(curve) == pytest.approx(float(res["es"].iloc[0]), rel=1e-6)


def test_running_sum_refuses_a_set_without_hits():
    with pytest.raises(ValueError, match="needs hits and misses"):
        charts.running_sum(pd.Series([1.0, 2.0], index=["a", "b"]), {"z"})


def test_gsea_plot_keeps_the_turning_points_and_the_es():
    scores = pd.Series(np.linspace(1, -1, 200), index=[f"g{i}" for i in range(200)])
    members = {f"g{i}" for i in (0, 3, 50, 120)}
    curve = charts.running_sum(scores, members)
    spec = charts.gsea_spec(curve, "t", "AP")
    line, ticks = spec["data"]
    assert sorted(ticks["x"]) == [1, 4, 51, 121]
    # the drawn polyline reproduces the curve at every position (linear between turning points)
    drawn = np.interp(curve["position"], line["x"], line["y"])
    assert np.allclose(drawn, curve["sum"], atol=1e-12)
    assert f"ES {charts.enrichment_score(curve):.3f}" in spec["layout"]["title"]["text"]


def test_roc_curve_area_is_the_mann_whitney_probability():
    rng = np.random.default_rng(2)
    y = np.r_[np.ones(30), np.zeros(50)].astype(int)
    p = np.r_[rng.normal(1, 1, 30), rng.normal(0, 1, 50)]
    rows = [("t", i, "pos", p[i], "pos" if y[i] else "neg") for i in range(80)]
    oof = pd.DataFrame(rows, columns=["task", "patient", "class", "proba", "label"])
    spec = charts.roc_spec(oof, "t", ["pos"])
    x, tpr = np.asarray(spec["data"][0]["x"]), np.asarray(spec["data"][0]["y"])
    area = np.sum(np.diff(x) * (tpr[1:] + tpr[:-1]) / 2)
    pairs = (p[y == 1][:, None] > p[y == 0][None, :]).mean()
    assert area == pytest.approx(pairs)
    assert f"AUC {pairs:.3f}" in spec["data"][0]["name"]


def test_forest_plot_error_bars_reach_the_interval():
    model = pd.DataFrame(
        {"hr": [2.0, 0.5], "lo": [1.5, 0.2], "hi": [3.0, 0.9], "p": [0.01, 0.04]},
        index=["a", "b"],
    )
    tr = charts.forest_spec(model, "os")["data"][0]
    assert tr["y"] == ["b", "a"]  # first row at the top
    x = np.asarray(tr["x"])
    assert np.allclose(x + tr["error_x"]["array"], [0.9, 3.0])
    assert np.allclose(x - tr["error_x"]["arrayminus"], [0.2, 1.5])


def test_forest_plot_labels_round_hazard_ratios_on_its_log_axis():
    """Plotly labels a log axis's minor ticks as bare digits ('3 4 5 ... 9 1 2 3'): the axis
    names round hazard ratios within the intervals and 1, and an open interval sets no limit."""
    model = pd.DataFrame(
        {"hr": [2.0, 0.5, 1.1], "lo": [1.2, 0.28, 0.0], "hi": [3.6, 0.9, np.inf], "p": 0.1},
        index=["a", "b", "c"],
    )
    axis = charts.forest_spec(model, "pfs")["layout"]["xaxis"]
    assert axis["type"] == "log"
    assert axis["tickvals"] == [0.3, 0.5, 0.75, 1, 1.5, 2, 3]
    assert axis["ticktext"] == ["0.3", "0.5", "0.75", "1", "1.5", "2", "3"]
    wide = model.assign(lo=[1.2, 0.03, 0.5], hi=[6.0, 0.9, 2.0])  # the demo's OS model's width
    assert charts.forest_spec(wide, "os")["layout"]["xaxis"]["tickvals"] == [
        0.05,
        0.1,
        0.2,
        0.5,
        1,
        2,
        5,
    ]
    assert np.allclose(10 ** np.asarray(axis["range"]), [0.28 / 1.15, 3.6 * 1.15])


def test_km_curves_start_at_one_and_step_through_the_estimate():
    curves = pd.DataFrame(
        {
            "variable": "v",
            "group": [0, 0, 1],
            "time": [10.0, 20.0, 5.0],
            "n_risk": [9, 5, 4],
            "survival": [0.8, 0.5, 0.7],
        }
    )
    spec = charts.km_spec(curves, "v", "os", 0.012)
    assert [list(t["y"]) for t in spec["data"]] == [[1.0, 0.8, 0.5], [1.0, 0.7]]
    assert (
        spec["data"][0]["line"]["shape"] == "hv" and "p = 0.012" in spec["layout"]["title"]["text"]
    )
    assert charts.km_spec(curves, "missing", "os", None) is None
