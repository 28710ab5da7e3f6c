"""The bootstrap separation gate: resampling, the resampled statistics against direct
computations, and planted cases where the top set is or is not separable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from radiogenomics.enrichment import gsea_many
from radiogenomics.errors import InputError
from radiogenomics.interpret.separation import (
    gate,
    resampled_correlation_nes,
    resampled_masking_z,
    separation,
    stratified_resamples,
)


def test_resamples_keep_each_class_and_repeat_from_the_seed():
    positive = np.array([True] * 10 + [False] * 20)
    r = stratified_resamples(positive, draws=50, seed=3)
    assert r.shape == (50, 30)
    assert (positive[r].sum(axis=1) == 10).all()
    # patients are drawn with replacement: some appear twice in a resample
    assert any(len(set(row)) < 30 for row in r)
    np.testing.assert_array_equal(r, stratified_resamples(positive, draws=50, seed=3))
    assert not np.array_equal(r, stratified_resamples(positive, draws=50, seed=4))
    with pytest.raises(InputError, match="one class"):
        stratified_resamples(np.ones(5, dtype=bool), 10, 0)
    with pytest.raises(InputError, match="draws"):
        stratified_resamples(positive, 0, 0)


def test_masking_z_on_the_cohort_itself_equals_the_direct_z():
    g = np.random.default_rng(0)
    n = 60
    positive = np.arange(n) < 20
    set_probs = g.random((n, 2)) + positive[:, None] * np.array([0.5, 0.2])
    null_probs = g.random((n, 40))
    null_sizes = np.repeat([15, 30], 20)
    z = resampled_masking_z(
        set_probs, [15, 30], null_probs, null_sizes, positive, np.arange(n)[None, :]
    )
    for j, k in enumerate([15, 30]):
        ap = average_precision_score(positive, set_probs[:, j])
        nul = [
            average_precision_score(positive, null_probs[:, i])
            for i in np.flatnonzero(null_sizes == k)
        ]
        assert z[0, j] == pytest.approx((ap - np.mean(nul)) / np.std(nul, ddof=1), rel=1e-9)
    with pytest.raises(InputError, match="size"):
        resampled_masking_z(
            set_probs, [15, 99], null_probs, null_sizes, positive, z[:0].astype(int)
        )


def test_correlation_nes_on_the_cohort_itself_equals_gsea_of_the_correlations():
    g = np.random.default_rng(1)
    n, n_genes = 50, 200
    values = g.standard_normal((n, n_genes))
    target = values[:, :20].mean(axis=1) + 0.5 * g.standard_normal(n)
    genes = [f"G{i}" for i in range(n_genes)]
    sets = {"driver": genes[:20], "other": genes[100:125]}
    nes = resampled_correlation_nes(values, genes, target, sets, np.arange(n)[None, :], 200, 5)
    r = [np.corrcoef(values[:, i], target)[0, 1] for i in range(n_genes)]
    direct = gsea_many(
        pd.DataFrame({"r0": r}, index=genes), sets, nperm=200, seed=5, min_size=1
    ).table
    expected = direct.set_index("set").loc[["driver", "other"], "nes"].to_numpy()
    np.testing.assert_allclose(nes[0], expected, rtol=1e-9)
    assert nes[0, 0] > 1.5


def test_separation_counts_resamples_where_the_top_set_stays_first():
    # resample 0: top first by both; 1: competitor ties on the mean rank; 2: competitor first
    a = np.array([[3.0, 1.0, 0.0], [3.0, 4.0, 0.0], [1.0, 4.0, 0.0]])
    b = np.array([[3.0, 1.0, 0.0], [3.0, 1.0, 0.0], [1.0, 4.0, 0.0]])
    share, at_least = separation([a, b])
    assert share == pytest.approx(1 / 3)
    np.testing.assert_allclose(at_least, [1.0, 2 / 3, 0.0])
    called, share, family = gate([a, b], alpha=0.05)
    assert not called and family.tolist() == [True, True, False]
    with pytest.raises(InputError, match="shapes"):
        separation([a, b[:, :2]])


def planted_masking(twin: bool, seed: int = 0):
    """Masked probabilities of a driver set, a competitor and an unrelated set, and random sets
    of the same size. The competitor is the driver's near twin (the same signal and noise,
    slightly perturbed: a set sharing most of its genes) or carries a third of its signal."""
    g = np.random.default_rng(seed)
    n = 150
    positive = np.arange(n) < 50
    signal = positive + 0.8 * g.standard_normal(n)
    driver = signal + 0.3 * g.standard_normal(n)
    if twin:
        competitor = driver + 0.05 * g.standard_normal(n)
    else:
        competitor = signal / 3 + 0.3 * g.standard_normal(n)
    set_probs = np.column_stack([driver, competitor, g.standard_normal(n)])
    return set_probs, g.standard_normal((n, 50)), positive


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("twin", [False, True])
def test_gate_calls_a_driver_only_when_its_competitor_is_clearly_weaker(twin, seed):
    set_probs, null_probs, positive = planted_masking(twin, seed)
    resamples = stratified_resamples(positive, 200, seed=0)
    z = resampled_masking_z(set_probs, [20] * 3, null_probs, [20] * 50, positive, resamples)
    called, share, family = gate([z], alpha=0.05)
    if not twin:
        assert called and share >= 0.95 and family.tolist() == [True, False, False]
    else:  # a near twin: the two are one inseparable family, the unrelated set is not in it
        assert not called and share < 0.95 and family.tolist() == [True, True, False]
