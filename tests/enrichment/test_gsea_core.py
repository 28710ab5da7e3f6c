"""GSEA engine against independent computations: hand-worked ES, a plain running-sum loop,
exhaustive enumeration of the null, BH against scipy, null uniformity, gsea_many == gsea."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from radiogenomics.enrichment import benjamini_hochberg, gsea, gsea_many
from radiogenomics.errors import InputError


def _loop_es(scores: dict[str, float], genes: set[str], weight: float = 1.0) -> float:
    """Textbook running sum, one gene at a time (score desc, ties by name). ES is 0 when the top
    and bottom deviations are equal (fgsea's rule), up to rounding: in a small universe
    ``1 - x_last / (N - k) == x_first / (N - k)`` is common, whatever the weights."""
    ordered = sorted(scores, key=lambda g: (-scores[g], g))
    hits = [g for g in ordered if g in genes]
    n_r = sum(abs(scores[g]) ** weight for g in hits)
    miss = 1.0 / (len(ordered) - len(hits))
    run, hi, lo = 0.0, 0.0, 0.0
    for g in ordered:
        run += abs(scores[g]) ** weight / n_r if g in genes else -miss
        hi, lo = max(hi, run), min(lo, run)
    return hi if hi + lo > 1e-10 else (lo if hi + lo < -1e-10 else 0.0)


def test_es_hand_computed():
    r = pd.Series([3.0, 2.0, 1.0, 0.5, -1.0, -2.0], index=list("abcdef"))
    sets = {"ac": ["a", "c"], "ef": ["e", "f"], "be": ["b", "e"], "absent": ["x", "a", "c"]}
    res = gsea(r, sets, nperm=50, min_size=1, small_p=None).table.set_index("set")
    # ac: +3/4, -1/4, +1/4, -1/4 x3 -> peak 0.75 ; ef: four misses to -1.0 ; be: peak 5/12
    assert res.loc["ac", "es"] == pytest.approx(0.75, abs=1e-12)
    assert res.loc["ef", "es"] == pytest.approx(-1.0, abs=1e-12)
    assert res.loc["be", "es"] == pytest.approx(5 / 12, abs=1e-12)
    assert res.loc["absent", "size"] == 2  # restricted to ranked genes
    assert res.loc["ac", "leading_edge"] == ["a"]
    assert res.loc["ef", "leading_edge"] == ["f", "e"]  # from the bottom inwards
    assert res.loc["be", "leading_edge"] == ["a", "b"][1:]


def test_es_matches_plain_loop_random_cases():
    rng = np.random.default_rng(0)
    for case in range(6):
        n = int(rng.integers(40, 120))
        genes = [f"g{i}" for i in range(n)]
        scores = rng.normal(size=n) * (1 + case)
        if case % 2:
            scores = np.round(scores, 1)  # ties
        r = pd.Series(scores, index=genes)
        weight = [0.0, 1.0, 2.0][case % 3]
        sets = {f"s{j}": list(rng.choice(genes, int(rng.integers(3, 20)), False)) for j in range(5)}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = gsea(r, sets, nperm=20, min_size=1, weight=weight, small_p=None).table
        d = dict(zip(genes, scores, strict=True))
        for row in res.itertuples():
            assert row.es == pytest.approx(_loop_es(d, set(sets[row.set]), weight), abs=1e-12)


def test_ties_deterministic_and_reported():
    genes = [f"g{i:02d}" for i in range(30)]
    scores = np.repeat(np.arange(10, 0, -1), 3).astype(float)
    r = pd.Series(scores, index=genes)
    sets = {"a": genes[::4], "b": genes[1::3]}
    with pytest.warns(UserWarning, match="tied scores"):
        first = gsea(r, sets, nperm=200, min_size=1, seed=3).table
    shuffled = r.sample(frac=1.0, random_state=1)
    with pytest.warns(UserWarning):
        second = gsea(shuffled, sets, nperm=200, min_size=1, seed=3).table
    pd.testing.assert_frame_equal(first, second)
    assert first.attrs["n_tied"] == 20  # 10 groups of 3 equal scores: 2 ties each


def test_pvalue_and_nes_match_exhaustive_null():
    """Tiny universe: every subset of size k enumerated gives the exact fgsea-limit p and NES."""
    rng = np.random.default_rng(5)
    n, k = 13, 4
    genes = [f"g{i:02d}" for i in range(n)]
    r = pd.Series(rng.normal(size=n), index=genes)
    d = dict(zip(genes, r.to_numpy(), strict=True))
    null = np.array([_loop_es(d, set(c)) for c in itertools.combinations(genes, k)])
    ordered = r.sort_values(ascending=False).index
    sets = {"top": list(ordered[[0, 1, 3, 6]]), "bottom": list(ordered[[12, 11, 8, 5]])}
    nperm = 20000
    res = gsea(r, sets, nperm=nperm, min_size=1, seed=11, small_p=None).table.set_index("set")
    for name, row in res.iterrows():
        es = row["es"]
        tie = 1e-10  # equal ES of different subsets differ by rounding only
        if es > 0:
            exact_p = (null >= es - tie).mean() / (null >= 0).mean()
            exact_nes = es / null[null >= 0].mean()
        else:
            exact_p = (null <= es + tie).mean() / (null <= 0).mean()
            exact_nes = es / abs(null[null <= 0].mean())
        se = np.sqrt(exact_p * (1 - exact_p) / (nperm / 2))
        assert abs(row["pval"] - exact_p) < 5 * se + 2 / nperm, name
        assert row["nes"] == pytest.approx(exact_nes, rel=0.02), name


def test_bh_matches_scipy():
    rng = np.random.default_rng(2)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 1e-3, 20), [0.5, 0.5, 0.5]])
    np.testing.assert_allclose(
        benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"), rtol=1e-12
    )
    with_nan = np.array([0.01, np.nan, 0.04, 0.03])
    got = benjamini_hochberg(with_nan)
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], stats.false_discovery_control([0.01, 0.04, 0.03]))


def test_padj_is_bh_per_ranking():
    rng = np.random.default_rng(4)
    genes = [f"g{i}" for i in range(400)]
    frame = pd.DataFrame(rng.normal(size=(400, 3)), index=genes, columns=["x", "y", "z"])
    sets = {f"s{j}": list(rng.choice(genes, 20, False)) for j in range(12)}
    res = gsea_many(frame, sets, nperm=300, small_p=None).table
    for _, grp in res.groupby("ranking"):
        np.testing.assert_allclose(grp["padj"], stats.false_discovery_control(grp["pval"]))


def test_null_pvalues_uniform():
    rng = np.random.default_rng(8)
    n = 800
    genes = [f"g{i}" for i in range(n)]
    frame = pd.DataFrame(rng.normal(size=(n, 8)), index=genes)
    sets = {f"s{j}": list(rng.choice(genes, int(rng.integers(15, 60)), False)) for j in range(40)}
    res = gsea_many(frame, sets, nperm=1000, seed=1, small_p=None).table
    p = res["pval"].to_numpy()
    assert stats.kstest(p, "uniform").pvalue > 1e-3
    assert 0.02 < (p < 0.05).mean() < 0.09


def test_gsea_many_equals_gsea_per_ranking():
    rng = np.random.default_rng(9)
    n = 700
    genes = [f"g{i}" for i in range(n)]
    frame = pd.DataFrame(rng.normal(size=(n, 5)), index=genes, columns=list("ABCDE"))
    frame.loc[genes[:30], "B"] += 4.0  # a strong set for ranking B: multilevel p
    sets = {f"s{j}": list(rng.choice(genes, int(rng.integers(15, 80)), False)) for j in range(8)}
    sets["planted"] = genes[:30]
    many = gsea_many(frame, sets, nperm=1200, seed=7, chunk_size=2, small_p="multilevel").table
    assert many["pval_method"].str.startswith("multilevel").any()
    for col in frame.columns:
        one = gsea(frame[col], sets, nperm=1200, seed=7).table
        got = many[many["ranking"] == col].drop(columns="ranking").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, one, check_exact=True)


def test_seed_changes_null_not_es():
    rng = np.random.default_rng(1)
    genes = [f"g{i}" for i in range(300)]
    r = pd.Series(rng.normal(size=300), index=genes)
    sets = {f"s{j}": list(rng.choice(genes, 25, False)) for j in range(4)}
    a = gsea(r, sets, nperm=500, seed=1, small_p=None).table
    b = gsea(r, sets, nperm=500, seed=2, small_p=None).table
    np.testing.assert_array_equal(a["es"], b["es"])
    assert not np.array_equal(a["pval"], b["pval"])
    pd.testing.assert_frame_equal(a, gsea(r, sets, nperm=500, seed=1, small_p=None).table)


def test_bad_input_refused():
    r = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "a"])
    with pytest.raises(InputError, match="duplicated gene"):
        gsea(r, {"s": ["a"]}, min_size=1)
    with pytest.raises(InputError, match="missing or infinite"):
        gsea(pd.Series([1.0, np.nan, 3.0], index=list("abc")), {"s": ["a"]}, min_size=1)
    with pytest.raises(InputError, match="mapping"):
        gsea(pd.Series([1.0, 2.0], index=list("ab")), [["a"]], min_size=1)
    with pytest.raises(InputError, match="nperm"):
        gsea(pd.Series([1.0, 2.0], index=list("ab")), {"s": ["a"]}, nperm=0, min_size=1)
    with pytest.raises(InputError, match="Series"):
        gsea([1.0, 2.0], {"s": ["a"]})


def test_no_set_in_size_range_gives_empty_table():
    r = pd.Series(np.arange(20.0), index=[f"g{i}" for i in range(20)])
    with pytest.warns(UserWarning, match="no gene set"):
        res = gsea(r, {"s": ["g1", "g2"]}, min_size=15).table
    assert res.empty and {"set", "es", "nes", "pval", "padj", "leading_edge"} <= set(res.columns)
