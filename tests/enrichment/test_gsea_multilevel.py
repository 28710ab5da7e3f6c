"""Small p-values: multilevel splitting agrees with a long permutation run where both resolve
the p-value, and tells very strong sets apart where permutations cannot."""

from __future__ import annotations

import numpy as np
import pandas as pd

from radiogenomics.enrichment import gsea, multilevel_pvalues
from radiogenomics.enrichment.gsea import rank_genes


def _ranking(n: int = 1500, seed: int = 0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(rng.normal(size=n), index=[f"g{i}" for i in range(n)])


def _mixed_set(r: pd.Series, n_top: int, size: int, top_pool: int, seed: int) -> list[str]:
    rng = np.random.default_rng(seed)
    ordered = list(r.sort_values(ascending=False).index)
    top = rng.choice(ordered[:top_pool], n_top, replace=False)
    rest = rng.choice(ordered[top_pool:], size - n_top, replace=False)
    return [*top, *rest]


def test_multilevel_agrees_with_long_permutation_run():
    r = _ranking()
    sets = {"moderate": _mixed_set(r, 17, 40, 300, seed=1)}
    nperm = 40000
    perm = gsea(r, sets, nperm=nperm, seed=3, small_p=None).table.iloc[0]
    tail_perm = perm["n_more_extreme"] / nperm
    assert 5e-4 < tail_perm < 2e-2  # resolvable by both methods
    ranked = rank_genes(r.to_frame())
    ests = multilevel_pvalues(
        ranked.weights, [0, 0, 0], [40, 40, 40], [perm["es"]] * 3, seed_of_task=[1, 2, 3]
    )
    log_diff = np.log2(np.exp(np.mean(np.log(ests.pval)))) - np.log2(tail_perm)
    err = np.sqrt(ests.log2err[0] ** 2 / 3 + perm["log2err"] ** 2)
    assert abs(log_diff) < 3 * err + 0.2, (ests.pval, tail_perm)


def test_multilevel_p_replaces_the_floor_not_the_smaller_of_the_two():
    # A set whose p (about 0.009 in 40,000 permutations) is four times the floor of a
    # 1000-permutation run; seed 52 happens to draw no null ES as extreme. The reported p must
    # be the multilevel estimate (fgseaMultilevel's rule), not min(estimate, floor): the floor
    # was reported before, 4.5x too small.
    r = _ranking()
    sets = {"moderate": _mixed_set(r, 17, 40, 300, seed=1)}
    long = gsea(r, sets, nperm=40000, seed=3, small_p=None).table.iloc[0]
    short = gsea(r, sets, nperm=1000, seed=52, small_p=None).table.iloc[0]
    assert short["n_more_extreme"] == 0 and long["pval"] > 4 * short["pval"]
    res = gsea(r, sets, nperm=1000, seed=52).table.iloc[0]
    assert res["pval_method"] == "multilevel"
    err = np.sqrt(res["log2err"] ** 2 + long["log2err"] ** 2)
    assert abs(np.log2(res["pval"]) - np.log2(long["pval"])) < 3 * err, (res["pval"], long["pval"])


def test_negative_es_uses_lower_tail():
    r = _ranking(seed=4)
    neg = _mixed_set(-r, 20, 40, 300, seed=2)  # enriched at the bottom
    nperm = 40000
    perm = gsea(r, {"neg": neg}, nperm=nperm, seed=5, small_p=None).table.iloc[0]
    assert perm["es"] < 0
    tail = perm["n_more_extreme"] / nperm
    ranked = rank_genes(r.to_frame())
    ml = multilevel_pvalues(ranked.weights, [0], [40], [perm["es"]], [9])
    assert abs(np.log2(ml.pval[0]) - np.log2(tail)) < 3 * ml.log2err[0] + 0.5


def test_orders_strong_sets_beyond_permutation_floor():
    r = _ranking(seed=7)
    ordered = list(r.sort_values(ascending=False).index)
    sets = {
        "very_strong": ordered[:60:2],  # every other gene of the top 60
        "strong": _mixed_set(r, 24, 30, 200, seed=3),
        "weak": _mixed_set(r, 8, 30, 300, seed=4),
    }
    nperm = 500
    res = gsea(r, sets, nperm=nperm, seed=1).table.set_index("set")
    floor = 1 / (nperm + 1)
    assert res.loc["very_strong", "pval_method"] == "multilevel"
    assert res.loc["strong", "pval_method"] == "multilevel"
    assert res.loc["very_strong", "pval"] < res.loc["strong", "pval"] < floor
    assert res.loc["very_strong", "pval"] < 1e-12
    assert res.loc["weak", "pval_method"] == "permutation"
    assert res.loc["weak", "pval"] > res.loc["strong", "pval"]
    plain = gsea(r, sets, nperm=nperm, seed=1, small_p=None).table.set_index("set")
    assert plain.loc["very_strong", "pval"] == plain.loc["strong", "pval"]  # indistinguishable
    assert (res["log2err"] > 0).all()


def test_multilevel_reproducible_and_batch_independent():
    r = _ranking(seed=2)
    ranked = rank_genes(r.to_frame())
    weights = np.vstack([ranked.weights, ranked.weights[:, ::-1]])
    # tasks of different sizes and rankings share a padded batch
    both = multilevel_pvalues(weights, [0, 1, 0], [30, 45, 30], [0.45, -0.4, 0.5], [11, 13, 12])
    alone = multilevel_pvalues(weights, [0], [30], [0.5], [12])
    assert both.pval[2] == alone.pval[0]
    assert both.levels[2] == alone.levels[0]
    assert both.pval[0] > both.pval[2]
    other = multilevel_pvalues(weights, [1], [45], [-0.4], [13])
    assert both.pval[1] == other.pval[0]
