"""Validation building blocks against independent computations on small hand-made inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.interpret import MaskingResult
from radiogenomics.validation import (
    TraitSpec,
    correlation_ranking,
    markdown_table,
    masking_ap_ranking,
    plant_trait,
    planted_ranks,
    programme_scores,
    random_gene_set,
    share_of_signature_genes,
    side_by_side,
    top_gene_membership,
    validation_gene_sets,
)
from radiogenomics.validation.planted import NEGATIVE, POSITIVE, gsea_ranks


def cohort(n=60, g=30, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        rng.normal(5, 1, (n, g)),
        index=[f"P{i:03d}" for i in range(n)],
        columns=[f"G{j}" for j in range(g)],
    )
    return X


def test_random_gene_set_excludes_and_is_deterministic():
    universe = [f"G{i}" for i in range(50)]
    exclude = universe[:30]
    a = random_gene_set(universe, exclude, size=10, seed=3)
    assert a == random_gene_set(universe, exclude, size=10, seed=3)
    assert len(set(a)) == 10 and not set(a) & set(exclude)
    assert a != random_gene_set(universe, exclude, size=10, seed=4)
    with pytest.raises(InputError, match="cannot draw 21 genes from 20"):
        random_gene_set(universe, exclude, size=21)


def test_validation_sets_hold_union_and_disjoint_random():
    sigs = {"A": ["G1", "G2"], "B": ["G2", "G3"]}
    sets = validation_gene_sets(sigs, [f"G{i}" for i in range(10)], random_size=4)
    assert sets["all_subtype_genes"] == ["G1", "G2", "G3"]
    assert len(sets["random_non_subtype"]) == 4
    assert not set(sets["random_non_subtype"]) & {"G1", "G2", "G3"}


def test_correlation_ranking_equals_numpy_corrcoef():
    X = cohort()
    X["CONST"] = 1.0
    y = pd.Series(np.repeat(["a", "b", "c"], 20), index=X.index)
    r = correlation_ranking(X, y)
    assert "CONST" not in r.index
    ind = (y == "b").astype(float).to_numpy()
    for g in ("G0", "G7"):
        assert r.loc[g, "b"] == pytest.approx(np.corrcoef(X[g], ind)[0, 1], abs=1e-12)


def test_top_membership_and_share_count_by_hand():
    ranking = pd.DataFrame(
        {"A": [0.9, 0.8, 0.7, 0.1], "B": [0.1, 0.2, 0.95, 0.3]},
        index=pd.Index(["a1", "x", "b1", "a2"], name="gene"),
    )
    sigs = {"A": ["a1", "a2"], "B": ["b1"]}
    t = top_gene_membership(ranking, sigs, n=2).set_index("class")
    assert t.loc["A", "own_set"] == 1 and t.loc["A", "any_subtype_set"] == 1  # a1, x
    assert t.loc["B", "own_set"] == 1 and t.loc["B", "any_subtype_set"] == 2  # b1, a2
    s = share_of_signature_genes(ranking, ["a1", "a2", "b1"], n=2)  # best: b1 .95, a1 .9
    assert s["n_subtype"] == 2 and s["share_of_top"] == 1.0
    assert s["share_of_subtype_genes"] == pytest.approx(2 / 3)


def test_programme_scores_are_mean_gene_zscores():
    X = cohort()
    s = programme_scores(X, {"P": ["G1", "G2", "MISSING"]})
    z = (X[["G1", "G2"]] - X[["G1", "G2"]].mean()) / X[["G1", "G2"]].std(ddof=0)
    np.testing.assert_allclose(s["P"].to_numpy(), z.mean(axis=1).to_numpy(), atol=1e-12)
    with pytest.raises(InputError, match="no expressed gene"):
        programme_scores(X, {"Q": ["NOPE"]})


@pytest.mark.parametrize("kind", ["extremes", "and", "xor", "step"])
def test_plant_trait_balance_and_noise_free_truth(kind):
    rng = np.random.default_rng(1)
    scores = pd.DataFrame(rng.normal(size=(90, 2)), columns=["p", "q"])
    progs = ("p", "q") if kind in ("and", "xor") else ("p",)
    y = plant_trait(scores, TraitSpec("t", kind, progs, noise=0.0), seed=0)
    assert (y == POSITIVE).sum() == 30 and (y == NEGATIVE).sum() == 60
    s = (scores - scores.mean()) / scores.std(ddof=0)
    truth = {
        "extremes": s["p"].abs(),
        "and": np.minimum(s["p"], s["q"]),
        "xor": s["p"] * s["q"],
        "step": s["p"],
    }[kind]
    assert truth[y == POSITIVE].min() >= truth[y == NEGATIVE].max() - 1e-12


def test_trait_spec_refuses_bad_input():
    with pytest.raises(InputError, match="kind"):
        TraitSpec("t", "cubic", ("p",))
    with pytest.raises(InputError, match="takes 2 programme"):
        TraitSpec("t", "xor", ("p",))
    with pytest.raises(InputError, match="positive_share"):
        TraitSpec("t", "step", ("p",), positive_share=1.2)


def fake_masking(null=True):
    table = pd.DataFrame(
        {
            "mode": "retrained",
            "collection": ["single_genes", "single_genes", "h", "h", "h"],
            "set": ["g1", "g2", "BIG", "SMALL", "PLANT"],
            "size": [1, 1, 100, 10, 10],
            "set_size": [1, 1, 100, 10, 10],
            "coverage_pct": 100.0,
            "class": "present",
            "auc": [0.6, 0.7, 0.95, 0.7, 0.8],
            "ap": [0.5, 0.6, 0.9, 0.6, 0.7],
            "p_ap": [np.nan, np.nan, 0.5, 0.5, 0.01],
            "q_ap": [np.nan, np.nan, 0.5, 0.5, 0.03],
        }
    )
    draws = pd.DataFrame(
        {
            "size": [100] * 3 + [10] * 3,
            "draw": [0, 1, 2] * 2,
            "class": "present",
            "auc": 0.5,
            "ap": [0.85, 0.9, 0.95, 0.4, 0.5, 0.6],
        }
    )
    return MaskingResult(
        mode="retrained",
        table=table,
        classes=("absent", "present"),
        patients=(),
        labels=pd.Series(dtype=str),
        units=table[["collection", "set", "size", "set_size"]],
        null=draws if null else None,
    )


def test_planted_ranks_with_and_without_null():
    r = planted_ranks(fake_masking(), ["PLANT"]).iloc[0]
    # by AP alone BIG (0.9) beats PLANT (0.7); against same-size random sets PLANT is z=2, BIG 0
    assert r["rank_ap"] == 2 and r["top_by_ap"] == "BIG"
    assert r["rank_null"] == 1 and r["z_ap"] == pytest.approx(2.0)
    assert r["n_sets"] == 3
    r0 = planted_ranks(fake_masking(null=False), ["PLANT"]).iloc[0]
    assert r0["rank_ap"] == 2 and r0["rank_null"] == -1
    with pytest.raises(InputError, match="was not masked"):
        planted_ranks(fake_masking(), ["ABSENT"])


def test_masking_ap_ranking_and_gsea_ranks():
    ranking = masking_ap_ranking(fake_masking().table)
    assert list(ranking.index) == ["g1", "g2"] and list(ranking.columns) == ["present"]
    g = pd.DataFrame({"set": ["A", "B", "C"], "nes": [1.0, 2.5, -1.0], "padj": [0.2, 0.01, 0.5]})
    r = gsea_ranks(g, ["A"]).iloc[0]
    assert r["rank_nes"] == 2 and r["top_by_nes"] == "B"


def test_tables_render():
    df = side_by_side([("AUC", 0.99, 0.9512, "note"), ("share", "54%", float("nan"))])
    assert list(df["this tool"]) == ["0.95", "—"]
    md = markdown_table(df)
    assert md.splitlines()[0] == "| quantity | paper | this tool | note |"
    assert "| AUC | 0.99 | 0.95 | note |" in md
