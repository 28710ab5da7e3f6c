"""The compiled kernels against the reference implementations kept beside them: the same null ES
for the same draws, the same counts, the same multilevel estimates; results independent of
threads, grouping and chunking; draws uniform and reproducible."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from radiogenomics.enrichment import gsea, gsea_many, multilevel_pvalues
from radiogenomics.enrichment._kernels import null_es_scan
from radiogenomics.enrichment._null import block_draws, es_of_sorted_positions, perm_blocks
from radiogenomics.enrichment.gsea import rank_genes
from radiogenomics.errors import InputError


def _weights(r_count: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = -np.sort(-np.abs(rng.standard_t(3, size=(r_count, n))), axis=1)
    w[1 % r_count, n // 2 :] = 0.0  # zero weights in the lower half of one ranking
    return w


def test_null_es_equals_reference_kernel_on_the_same_draws():
    n, sizes = 900, np.array([1, 2, 7, 15, 16, 40, 99, 150])
    w = _weights(6, n, seed=0)
    draws, _ = block_draws(3, range(2), n, int(sizes[-1]), 700)
    got = null_es_scan(np.ascontiguousarray(w.T), 4, draws, sizes)
    for d, k in enumerate(sizes):
        pos = torch.as_tensor(np.sort(draws[:, :k], axis=1).astype(np.int64))
        ref = es_of_sorted_positions(torch.as_tensor(w), pos, n).numpy()
        np.testing.assert_allclose(got[:, :, d], ref, rtol=0, atol=1e-13)


def test_null_es_identical_whatever_the_group_of_rankings():
    n, sizes = 500, np.array([3, 20, 21, 60])
    w = _weights(19, n, seed=1)
    wt = np.ascontiguousarray(w.T)
    draws, _ = block_draws(5, range(1), n, 60, 300)
    one = null_es_scan(wt, 1, draws, sizes)
    for group in (3, 16, 19):
        np.testing.assert_array_equal(null_es_scan(wt, group, draws, sizes), one)
    alone = null_es_scan(np.ascontiguousarray(wt[:, 7:8]), 16, draws, sizes)
    np.testing.assert_array_equal(alone[0], one[7])


def test_unit_weights_when_every_drawn_weight_is_zero():
    n = 60
    w = np.zeros((1, n))
    w[0, :2] = 1.0  # almost every draw sees only zeros: each hit then counts 1/k
    draws, _ = block_draws(1, range(1), n, 5, 200)
    got = null_es_scan(np.ascontiguousarray(w.T), 1, draws, np.array([5]))[0, :, 0]
    for row, es in zip(draws, got, strict=True):
        hits = np.sort(row)
        if w[0, hits].sum() > 0:
            continue
        run = np.cumsum(np.where(np.isin(np.arange(n), hits), 1 / 5, -1 / (n - 5)))
        top, bottom = run.max(), min(run.min(), 0.0)
        lean = top + bottom
        expected = top if lean > 1e-9 else (bottom if lean < -1e-9 else 0.0)
        assert es == pytest.approx(expected, abs=1e-12)


def test_draws_uniform_ordered_samples_and_reproducible():
    draws, starts = block_draws(7, range(3), 6, 3, 1500)
    assert starts.tolist() == [0, 500, 1000, 1500]
    counts = Counter(map(tuple, draws.tolist()))
    assert len(counts) == 120  # every ordered triple of 6 positions occurs
    expected = len(draws) / 120
    chi2 = sum((c - expected) ** 2 / expected for c in counts.values())
    assert stats.chi2.sf(chi2, 119) > 1e-3
    again, _ = block_draws(7, range(1, 2), 6, 3, 1500)  # one block alone: the same rows
    np.testing.assert_array_equal(again, draws[500:1000])
    longer, _ = block_draws(7, range(3), 6, 5, 1500)  # prefixes do not depend on k
    np.testing.assert_array_equal(longer[:, :3], draws)
    big, _ = block_draws(1, range(1), 1000, 200, 500)
    assert all(len(set(row)) == 200 for row in big.tolist())
    assert not np.array_equal(block_draws(8, range(1), 6, 3, 500)[0], draws[:500])
    first = np.concatenate(list(perm_blocks(7, 6, 3, 1500)))
    np.testing.assert_array_equal(first, draws)


def _frame(n: int, r_count: int, seed: int) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    rng = np.random.default_rng(seed)
    genes = [f"g{i}" for i in range(n)]
    frame = pd.DataFrame(rng.normal(size=(n, r_count)), index=genes)
    frame.columns = [f"r{j}" for j in range(r_count)]
    frame.iloc[:25, 0] += 1.5  # a planted set for ranking r0
    sets = {f"s{j}": list(rng.choice(genes, int(rng.integers(15, 90)), False)) for j in range(14)}
    sets["planted"] = genes[:25]
    sets["same_size"] = list(rng.choice(genes, 25, False))
    return frame, sets


def test_compiled_engine_counts_equal_reference_engine():
    frame, sets = _frame(600, 5, seed=2)
    kw = dict(nperm=1300, seed=4, small_p=None)
    fast = gsea_many(frame, sets, engine="numba", **kw).table
    ref = gsea_many(frame, sets, engine="torch", dtype=torch.float64, chunk_size=2, **kw).table
    np.testing.assert_array_equal(fast["es"], ref["es"])
    np.testing.assert_array_equal(fast["n_more_extreme"], ref["n_more_extreme"])
    np.testing.assert_array_equal(fast["pval"], ref["pval"])
    np.testing.assert_allclose(fast["nes"], ref["nes"], rtol=1e-12)
    assert (fast["pval"] < 0.01).sum() >= 1  # the planted set is found


def test_results_independent_of_threads_and_of_the_other_rankings():
    frame, sets = _frame(400, 18, seed=3)
    kw = dict(nperm=1100, seed=9, small_p="multilevel")
    two = gsea_many(frame, sets, threads=2, **kw).table
    one = gsea_many(frame, sets, threads=1, **kw).table
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    assert two["pval_method"].str.startswith("multilevel").any()
    alone = gsea_many(frame[["r5"]], sets, **kw).table  # lanes of a group vs a single ranking
    got = two[two["ranking"] == "r5"].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, alone, check_exact=True)


def test_multilevel_compiled_equals_reference():
    rng = np.random.default_rng(2)
    r = pd.Series(rng.normal(size=1200), index=[f"g{i}" for i in range(1200)])
    w = rank_genes(r.to_frame()).weights
    weights = np.vstack([w, w**2, np.where(np.arange(1200) < 40, w, 0.0)])
    tasks = dict(
        ranking_of_task=[0, 0, 1, 1, 2, 0],
        size_of_task=[15, 40, 30, 60, 20, 25],
        es_of_task=[0.7, -0.45, 0.8, 0.5, 0.9, 0.2],
        seed_of_task=[1, 2, 3, 4, 5, 6],
    )
    ref = multilevel_pvalues(weights, **tasks, engine="reference")
    fast = multilevel_pvalues(weights, **tasks, engine="numba")
    np.testing.assert_array_equal(fast.levels, ref.levels)
    np.testing.assert_array_equal(fast.hit_eps, ref.hit_eps)
    np.testing.assert_allclose(fast.pval, ref.pval, rtol=1e-12)
    assert fast.levels.max() >= 10  # deep enough to exercise the Metropolis moves


def test_engine_and_threads_refused_with_clear_errors():
    frame, sets = _frame(100, 1, seed=0)
    with pytest.raises(InputError, match="engine"):
        gsea_many(frame, sets, engine="fast")
    with pytest.raises(InputError, match="GPU device"):
        gsea_many(frame, sets, engine="numba", device=torch.device("cuda"))
    with pytest.raises(InputError, match="threads"):
        gsea_many(frame, sets, threads=0)
    with pytest.raises(InputError, match="engine"):
        multilevel_pvalues(np.ones((1, 50)), [0], [5], [0.5], [1], engine="gpu")


def test_weight_two_through_both_engines():
    frame, sets = _frame(300, 2, seed=5)
    kw = dict(nperm=600, seed=2, small_p=None, weight=2.0)
    fast = gsea_many(frame, sets, **kw).table
    ref = gsea_many(frame, sets, engine="torch", dtype=torch.float64, **kw).table
    np.testing.assert_array_equal(fast["n_more_extreme"], ref["n_more_extreme"])


def _exact_unit_es(hits: np.ndarray, n: int) -> int:
    """k (N - k) times the ES of sorted positions with unit weights: an integer, ties exact."""
    k = hits.size
    i = np.arange(k)
    tops = (i + 1) * (n - k) - (hits - i) * k
    bottoms = tops - (n - k)
    top, bottom = tops.max(), bottoms.min()
    return top if top > -bottom else (bottom if top < -bottom else 0)


def test_ties_counted_exactly_with_unit_weights():
    """weight 0: ES are rationals and many null ES equal the observed one exactly; the counts
    must equal those of exact integer arithmetic on the same draws."""
    rng = np.random.default_rng(6)
    n, nperm = 120, 700
    genes = [f"g{i:03d}" for i in range(n)]
    r = pd.Series(rng.normal(size=n), index=genes)
    sets = {f"s{j}": list(rng.choice(genes, int(rng.integers(3, 9)), False)) for j in range(10)}
    res = gsea(r, sets, nperm=nperm, seed=3, min_size=1, weight=0.0, small_p=None).table
    order = list(r.sort_values(ascending=False).index)
    k_max = int(res["size"].max())
    draws = np.concatenate(list(perm_blocks(3, n, k_max, nperm)))
    n_ties = 0
    for row in res.itertuples():
        k = row.size
        obs = _exact_unit_es(np.sort([order.index(g) for g in sets[row.set]]), n)
        null = np.array([_exact_unit_es(np.sort(d[:k]), n) for d in draws])
        more = (null >= obs).sum() if obs > 0 else (null <= obs).sum()
        assert row.n_more_extreme == more, row.set
        assert row.es * k * (n - k) == pytest.approx(obs, abs=1e-6)
        n_ties += int((null == obs).sum())
    assert n_ties > 50  # the case is full of exact ties


def test_exhaustive_null_reached_by_the_compiled_engine():
    """fgsea semantics on a universe small enough to enumerate: the null ES of size k is the ES
    of a uniformly random k-subset, so the permutation counts estimate the exact fractions."""
    rng = np.random.default_rng(12)
    n, k = 12, 3
    w = -np.sort(-np.abs(rng.normal(size=(1, n))), axis=1)
    null = []
    for c in itertools.combinations(range(n), k):
        pos = torch.as_tensor(np.array([c]))
        null.append(float(es_of_sorted_positions(torch.as_tensor(w), pos, n)[0, 0]))
    null = np.array(null)
    draws, _ = block_draws(2, range(40), n, k, 20000)
    got = null_es_scan(np.ascontiguousarray(w.T), 1, draws, np.array([k]))[0, :, 0]
    for t in (-0.3, 0.0, 0.25, 0.5):
        exact = (null >= t).mean()
        se = np.sqrt(exact * (1 - exact) / got.size)
        assert abs((got >= t - 1e-12).mean() - exact) < 5 * se + 1e-9


def test_counts_independent_of_chunks_and_groups():
    from radiogenomics.enrichment._null import compiled_null_counts

    rng = np.random.default_rng(4)
    n, r_count = 300, 37
    w = _weights(r_count, n, seed=4)
    sizes = rng.integers(5, 60, 12)
    obs = rng.uniform(-0.6, 0.6, size=(r_count, sizes.size))
    whole = compiled_null_counts(w, obs, sizes, seed=2, nperm=1700)
    for group, budget in ((16, 1.0), (5, 1.0), (1, 1e9)):  # chunks of one group, or one chunk
        part = compiled_null_counts(
            w, obs, sizes, seed=2, nperm=1700, group=group, budget_bytes=budget
        )
        for name, arr in whole.items():
            np.testing.assert_array_equal(part[name], arr, err_msg=f"{name}, group {group}")
    assert whole["ge_zero"].min() > 0 and whole["le_es"].max() <= 1700
