"""Driver ranking and its naive peer on small synthetic cohorts: known answers and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.interpret import correlation_gsea, correlation_ranking, driver_ranking
from radiogenomics.interpret.drivers import (
    COLUMNS,
    combine_readouts,
    conditional_calls,
    select_readout,
)
from radiogenomics.interpret.ensemble import MaskedEnsemble
from radiogenomics.models import NetworkConfig

NET = NetworkConfig(
    hidden=(8,), activation="tanh", optimizer="adam", dropout=0.0, max_epochs=15, patience=8
)


def cohort(n=90, n_genes=300, seed=0):
    """Genes in blocks of 30; block 0 is a programme that sets the label (top third)."""
    g = np.random.default_rng(seed)
    factor = g.standard_normal((n, 10))
    X = 0.6 * np.repeat(factor, 30, axis=1) + g.standard_normal((n, n_genes))
    genes = [f"G{i}" for i in range(n_genes)]
    X = pd.DataFrame(X + 5.0, index=[f"P{i}" for i in range(n)], columns=genes)
    score = X.iloc[:, :30].mean(axis=1) + 0.2 * g.standard_normal(n)
    y = pd.Series(np.where(score.rank(ascending=False) <= n // 3, "high", "low"), index=X.index)
    sets = {f"block{b}": genes[30 * b : 30 * (b + 1)] for b in range(10)}
    return X, y.rename("trait"), sets


def test_correlation_ranking_equals_pearson_of_each_gene():
    X, y, _ = cohort()
    y.iloc[:3] = np.nan  # unlabelled patients are left out
    r = correlation_ranking(X, y)
    assert list(r.columns) == ["high"]  # the least frequent class is the positive one
    lab = y.dropna()
    ind = (lab == "high").astype(float)
    for gene in ("G0", "G17", "G250"):
        expected = np.corrcoef(X.loc[lab.index, gene], ind)[0, 1]
        assert r.loc[gene, "high"] == pytest.approx(expected, abs=1e-12)


def test_correlation_ranking_multiclass_and_constant_gene():
    X, y, _ = cohort()
    X["FLAT"] = 1.0
    y3 = pd.Series(np.array(["a", "b", "c"])[np.arange(len(y)) % 3], index=y.index)
    r = correlation_ranking(X, y3)
    assert list(r.columns) == ["a", "b", "c"] and "FLAT" not in r.index
    ind = (y3 == "b").astype(float)
    assert r.loc["G5", "b"] == pytest.approx(np.corrcoef(X["G5"], ind)[0, 1], abs=1e-12)


def test_correlation_gsea_ranks_the_driving_block_first():
    X, y, sets = cohort()
    g = correlation_gsea(X, y, {"blocks": sets}, nperm=500, min_size=10)
    top = g.sort_values("rank").iloc[0]
    assert top["set"] == "block0" and top["rank"] == 1 and top["padj"] < 0.05
    assert set(g["collection"]) == {"blocks"} and len(g) == 10


def test_combine_readouts_consensus_is_the_mean_rank_and_the_larger_p():
    sets = ["A", "B", "C", "D"]
    masking = pd.DataFrame(
        {
            "class": "x",
            "collection": "c",
            "set": sets,
            "size": [20, 30, 40, 50],
            "ap": [0.9, 0.8, 0.7, 0.6],
            "auc": [0.9, 0.8, 0.7, 0.6],
            "z_ap": [5.0, 1.0, 3.0, -1.0],
            "z_auc": [5.0, 1.0, 3.0, -1.0],
            "excess_ap": [0.3, 0.1, 0.2, 0.0],
            "p": [1e-6, 0.2, 1e-3, 0.8],
            "q": np.nan,
            "rank": [1, 3, 2, 4],
        }
    )
    corr = pd.DataFrame(
        {
            "class": "x",
            "collection": "c",
            "set": sets,
            "size": [20, 30, 40, 50],
            "nes": [1.5, 2.5, -2.0, 1.0],
            "pval": [0.01, 0.001, 0.001, 0.3],
            "padj": [0.02, 0.004, 0.004, 0.3],
            "rank": [2, 1, 4, 3],
        }
    )
    t = combine_readouts(masking, corr).set_index("set")
    # masking ranks A1 C2 B3 D4; correlation B1 A2 D3 C4: mean A 1.5, B 2, C 3, D 3.5
    assert t["score"].to_dict() == {"A": -1.5, "B": -2.0, "C": -3.0, "D": -3.5}
    assert t["rank"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4}
    # intersection-union p: the larger of the two; a negative NES counts as no evidence
    assert t.loc["A", "p"] == pytest.approx(0.01)
    assert t.loc["B", "p"] == pytest.approx(0.2)
    assert t.loc["C", "p"] == pytest.approx(1.0)
    m = select_readout(t.reset_index(), "masking").set_index("set")
    assert m["rank"].to_dict() == {"A": 1, "C": 2, "B": 3, "D": 4}
    c = select_readout(t.reset_index(), "correlation").set_index("set")
    assert c["rank"].to_dict() == {"B": 1, "A": 2, "D": 3, "C": 4}


@pytest.fixture(scope="module")
def trained():
    X, y, sets = cohort()
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    return X, y, sets, cv


def test_driver_ranking_names_the_driving_block(trained):
    X, y, sets, cv = trained
    t = driver_ranking(cv, X, y, {"blocks": sets}, repeats=2, null_draws=30, nperm=500, min_size=10)
    assert list(t.columns) == COLUMNS and t.attrs["repeats"] == 2
    assert len(t) == 10 and (t["class"] == "high").all()
    top = t.sort_values("rank").iloc[0]
    assert top["set"] == "block0" and top["q"] < 0.05 and top["called"]
    assert top["masking_z"] > 3 and top["masking_rank"] == 1 and top["correlation_rank"] == 1
    # the other blocks are independent of the label: none is called a driver
    assert t.loc[t["set"] != "block0", "called"].sum() == 0
    # the same call again gives the same table (seeded repeats and null draws); reporting
    # its steps changes nothing, and names each step with its seconds
    steps = []
    again = driver_ranking(
        cv, X, y, {"blocks": sets}, repeats=2, null_draws=30, nperm=500, min_size=10,
        on_step=lambda what, seconds: steps.append((what, seconds)),
    )  # fmt: skip
    pd.testing.assert_frame_equal(t, again)
    assert [what for what, _ in steps] == [
        "2 CV runs (1 on new fold splits)",
        "set masking against 30 size-matched random sets per size",
        "correlation GSEA (500 permutations)",
        "programme network",
        "programme network from 2 more seeds",
        "separation gate (200 patient resamples)",
        "driver calls",
    ]
    assert all(seconds >= 0 for _, seconds in steps)


def test_driver_ranking_refuses_bad_input(trained):
    X, y, sets, cv = trained
    with pytest.raises(InputError, match="readout"):
        driver_ranking(cv, X, y, sets, readout="saliency")
    with pytest.raises(InputError, match="y does not match"):
        driver_ranking(cv, X, y.iloc[::-1].set_axis(y.index), sets)
    no_models = cross_validate(X, y, NET.model_copy(update={"max_epochs": 2}), n_splits=3)
    with pytest.raises(InputError, match="keep_models=True"):
        driver_ranking(no_models, X, y, sets)
    with pytest.raises(InputError, match="allowed size"):
        driver_ranking(cv, X, y, {"tiny": ["G0", "G1"]}, repeats=1, null_draws=5)
    with pytest.raises(InputError, match="gene_sets"):
        driver_ranking(cv, X, y, {"bad": "G0"}, repeats=1)


def test_calls_need_the_driver_separated_from_sets_sharing_its_signal(trained):
    X, y, sets, cv = trained
    genes = list(X.columns)
    # half the driver's genes and half of an unrelated block: significant, clearly weaker
    half = {**sets, "half0": genes[:15] + genes[150:165]}
    t = driver_ranking(cv, X, y, {"blocks": half}, repeats=2, null_draws=30, nperm=500,
                       min_size=10).set_index("set")  # fmt: skip
    assert t.loc["block0", "rank"] == 1 and t.loc["half0", "q"] < 0.05
    assert t.loc["block0", "called"] and t.loc["block0", "separation"] >= 0.95
    assert t["family"].isna().all()
    # an exact copy of the driver under another name ties it on every resample: the data
    # cannot say which of the two it is, so neither is called and both form one family
    twin = {**sets, "copy0": genes[:30]}
    t = driver_ranking(cv, X, y, {"blocks": twin}, repeats=2, null_draws=30, nperm=500,
                       min_size=10).set_index("set")  # fmt: skip
    assert not t["called"].any()
    top = t["rank"].idxmin()
    assert top in ("block0", "copy0") and t.loc[top, "separation"] == 0.0
    assert t.dropna(subset=["family"]).index.sort_values().tolist() == ["block0", "copy0"]
    assert (t.dropna(subset=["family"])["family"] == top).all()


def test_a_significant_set_is_not_called_in_place_of_a_better_ranked_one(trained):
    X, y, sets, cv = trained
    ensemble = MaskedEnsemble([cv], X)
    table = pd.DataFrame(
        {"class": "high", "collection": "blocks", "set": ["block1", "block0", "block2"],
         "rank": [1, 2, 3], "q": [0.5, 0.001, 0.9]}
    )  # fmt: skip
    # the read-out's first choice is not significant: block0 below it is not called instead
    t = conditional_calls(ensemble, table, {"blocks": sets}, max_calls=1, null_draws=20)
    assert not t["called"].any()
    # ranked first, the driver is called (its genes beat those of no other significant set)
    first = table.assign(rank=[2, 1, 3])
    t = conditional_calls(ensemble, first, {"blocks": sets}, max_calls=1, null_draws=20)
    assert t.set_index("set")["called"].to_dict() == {
        "block1": False,
        "block0": True,
        "block2": False,
    }
