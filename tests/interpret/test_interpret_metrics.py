"""Column-wise AUC/AP against scikit-learn (ties included), BH q-values, empirical p-values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control
from sklearn.metrics import average_precision_score, roc_auc_score

from radiogenomics.interpret.metrics import auc_ap_columns, empirical_p
from radiogenomics.utils.stats import benjamini_hochberg


@pytest.mark.parametrize("levels", [3, 7, None])
def test_auc_ap_match_sklearn_with_ties(levels):
    rng = np.random.default_rng(levels or 0)
    n, m = 41, 60
    y = rng.random(n) < 0.35
    scores = rng.normal(size=(n, m)) + 0.8 * y[:, None]
    if levels is not None:  # coarse scores: many tied patients
        scores = np.round(scores * levels / 3) / levels
    scores[:, 0] = 0.5  # a constant column: AUC 0.5, AP = prevalence
    auc, ap = auc_ap_columns(scores, y)
    for j in range(m):
        assert auc[j] == pytest.approx(roc_auc_score(y, scores[:, j]), abs=1e-12)
        assert ap[j] == pytest.approx(average_precision_score(y, scores[:, j]), abs=1e-12)
    assert auc[0] == 0.5 and ap[0] == pytest.approx(y.mean())


def test_auc_ap_nan_when_one_class_and_checks_shapes():
    auc, ap = auc_ap_columns(np.ones((5, 3)), np.zeros(5, dtype=bool))
    assert np.isnan(auc).all() and np.isnan(ap).all()
    with pytest.raises(ValueError, match="shape"):
        auc_ap_columns(np.ones((5, 3)), np.zeros(4, dtype=bool))


def test_bh_matches_scipy_and_keeps_nan():
    rng = np.random.default_rng(1)
    p = rng.random(50) ** 3
    np.testing.assert_allclose(benjamini_hochberg(p), false_discovery_control(p), rtol=1e-12)
    with_nan = np.concatenate([p, [np.nan]])
    q = benjamini_hochberg(with_nan)
    assert np.isnan(q[-1])
    np.testing.assert_allclose(q[:-1], false_discovery_control(p), rtol=1e-12)


def test_empirical_p_counts_ties_as_extreme():
    null = np.array([0.1, 0.5, 0.5, 0.9])
    p = empirical_p(np.array([0.5, 0.95, 0.0, np.nan]), null)
    expected = [(1 + 3) / 5, 1 / 5, 1.0]
    np.testing.assert_allclose(p[:3], expected)
    assert np.isnan(p[3])
