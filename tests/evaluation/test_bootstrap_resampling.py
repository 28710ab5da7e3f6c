"""Bootstrap resampling: both classes in every set (property test, very imbalanced labels too),
resamples stay inside their own fold, are true draws with replacement, and are reproducible."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radiogenomics.errors import InputError
from radiogenomics.evaluation.bootstrap import bootstrap_split, resample_with_both_classes
from radiogenomics.evaluation.splits import stratified_folds
from radiogenomics.utils.seeding import derive_seed


@st.composite
def labels(draw):
    k = draw(st.integers(2, 10))
    n_pos = draw(st.integers(k, 40))
    n_neg = draw(st.integers(k, 400))
    order = draw(st.randoms(use_true_random=False))
    y = np.array([1] * n_pos + [0] * n_neg)
    perm = list(range(len(y)))
    order.shuffle(perm)
    if draw(st.booleans()):
        y = 1 - y  # the rare class coded 0
    return y[perm], k


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(labels(), st.integers(0, 2**31 - 1), st.integers(0, 99))
def test_every_resampled_set_holds_both_classes(yk, seed, rep):
    y, k = yk
    folds = bootstrap_split(y, k, seed, rep, "trait")
    original = stratified_folds(y, k, seed=derive_seed(seed, "bootstrap-split", rep, "trait"))
    assert len(folds) == k
    for (tr, va), (tr0, va0) in zip(folds, original, strict=True):
        assert set(np.unique(y[tr])) == {0, 1}
        assert set(np.unique(y[va])) == {0, 1}
        assert len(tr) == len(tr0) and len(va) == len(va0)
        # training and validation patients are resampled separately, never mixed
        assert set(tr) <= set(tr0) and set(va) <= set(va0)
        assert not set(tr) & set(va)


def test_extremely_imbalanced_folds_still_get_both_classes():
    # two positives among 500: each validation fold holds exactly one positive, so most
    # plain resamples of it would miss the class and must be drawn again
    y = np.zeros(500, dtype=int)
    y[[17, 301]] = 1
    for rep in range(30):
        for tr, va in bootstrap_split(y, 2, seed=5, rep=rep, trait="rare"):
            assert y[tr].sum() >= 1 and y[va].sum() >= 1
            assert (y[tr] == 0).any() and (y[va] == 0).any()


def test_resampling_is_with_replacement_and_reproducible():
    y = np.array([0] * 300 + [1] * 100)
    a = bootstrap_split(y, 2, seed=1, rep=3, trait="t")
    b = bootstrap_split(y, 2, seed=1, rep=3, trait="t")
    c = bootstrap_split(y, 2, seed=1, rep=4, trait="t")
    for (tr, va), (tr2, va2) in zip(a, b, strict=True):
        np.testing.assert_array_equal(tr, tr2)
        np.testing.assert_array_equal(va, va2)
        # a bootstrap sample of n from n holds about 1 - 1/e = 63% distinct patients
        assert 0.55 < len(np.unique(tr)) / len(tr) < 0.71
        assert 0.55 < len(np.unique(va)) / len(va) < 0.71
    # a new repetition is a new split, not the same one resampled
    assert not np.array_equal(np.sort(np.unique(a[0][1])), np.sort(np.unique(c[0][1])))


def test_a_one_class_set_is_refused_with_a_clear_message():
    y = np.array([0, 0, 0, 1])
    gen = np.random.default_rng(0)
    with pytest.raises(InputError, match=r"\[validation fold 0\].*one class"):
        resample_with_both_classes(y, np.array([0, 1, 2]), gen, what="validation fold 0")


def test_too_few_patients_for_k_folds_fails_clearly_or_lowers_k():
    y = np.array([1] * 3 + [0] * 30)
    with pytest.raises(InputError, match=r"\[small\].*3 patients, fewer than the 5 folds"):
        bootstrap_split(y, 5, seed=0, rep=0, trait="small")
    with pytest.warns(UserWarning, match="using 3 folds"):
        folds = bootstrap_split(y, 5, seed=0, rep=0, trait="small", adjust=True)
    assert len(folds) == 3
