"""The networks against the baselines on a planted non-linear (XOR-like) trait, in the same
folds: the network's CV AUC beats logistic regression's, which cannot represent the rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.evaluation.baselines_cv import prepare_cohort, run_baselines, trait_folds
from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.execution import LocalExecutor
from radiogenomics.models import NetworkConfig


def xor_cohort(n: int = 200, p: int = 30, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Two 10-gene programmes; the trait is whether their scores have the same sign."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, n))
    X = rng.standard_normal((n, p)) * 0.5 + 5.0
    X[:, :10] += a[:, None]
    X[:, 10:20] += b[:, None]
    patients = [f"P{i:03d}" for i in range(n)]
    y = pd.Series(np.where(a * b > 0, "same", "opposite"), index=patients, name="xor")
    return pd.DataFrame(X, index=patients, columns=[f"G{j}" for j in range(p)]), y


@pytest.fixture(scope="module")
def compared():
    X, y = xor_cohort()
    config = NetworkConfig(
        hidden=(16, 8),
        activation="tanh",
        optimizer="adam",
        learning_rate=0.01,
        dropout=0.0,
        batch_size=10,
        max_epochs=100,
        patience=30,
    )
    nn = cross_validate(X, y, config, n_splits=5, seed=4)
    base = run_baselines(
        X, y.to_frame(), ["logreg_l1", "logreg_l2"], 5, seed=4, executor=LocalExecutor(1)
    )
    return nn, base


def test_baselines_and_networks_share_folds(compared):
    nn, _ = compared
    X, y = xor_cohort()
    t = prepare_cohort(X, y.to_frame()).traits["xor"]
    # the same positive class and the same validation patients in every fold
    assert nn.classes[1] == t.positive
    for fold, (_, va) in zip(nn.folds, trait_folds(t.y, 5, 4, "xor"), strict=True):
        np.testing.assert_array_equal(np.sort(fold.val), np.sort(va))


def test_network_beats_logistic_regression_on_a_nonlinear_trait(compared):
    nn, base = compared
    logit = base.summary.set_index("model").auc_mean
    assert nn.mean_auc > 0.75, nn.fold_metrics
    assert nn.mean_auc > logit.max() + 0.15, (nn.mean_auc, logit.to_dict())
