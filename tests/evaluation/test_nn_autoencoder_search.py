"""Autoencoder grid search: every configuration on the same folds, the best CV R^2 retrained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_autoencoder import (
    expand_autoencoder_grid,
    search_autoencoders,
    train_autoencoder,
)
from radiogenomics.execution import LocalExecutor
from radiogenomics.models import AutoencoderConfig

BASE = AutoencoderConfig(
    hidden=(10, 4), optimizer="adam", learning_rate=0.01, batch_size=10, max_epochs=25, patience=8
)


def rank4_expression(n=60, p=16, seed=0):
    """A rank-4 signal plus noise: a bottleneck of 4 can reconstruct it, one of 1 cannot."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 4)) @ rng.normal(size=(4, p)) + 0.3 * rng.normal(size=(n, p))
    return pd.DataFrame(
        Z + 5.0, index=[f"P{i}" for i in range(n)], columns=[f"G{j}" for j in range(p)]
    )


def test_search_picks_the_best_cv_r2_and_retrains_it():
    X = rank4_expression()
    grid = {"hidden": [(10, 1), (10, 4)]}
    res = search_autoencoders(X, grid, base=BASE, n_splits=3, seed=1, X_eval=X.iloc[:10])
    # each configuration's CV R^2 is what a separate CV call of it gives (same folds and seed)
    for row in res.table.itertuples():
        cfg = BASE.model_copy(update={"hidden": tuple(map(int, row.hidden.split("/")))})
        alone = train_autoencoder(X, cfg, n_splits=3, seed=1, retrain=False)
        assert row.cv_r2 == pytest.approx(alone.cv_r2, abs=1e-12)
        assert row.median_best_epoch == alone.median_best_epoch
    assert list(res.table["rank"]) == [1, 2]
    assert res.table["cv_r2"].is_monotonic_decreasing
    assert res.best_config.hidden == (10, 4)  # the planted rank needs a bottleneck of 4
    assert res.table.loc[0, "cv_r2"] > res.table.loc[1, "cv_r2"] + 0.1
    # the best is retrained on every patient for its median best epoch; the others are not
    model = res.best.model
    assert model is not None and model.best_epoch == res.best.median_best_epoch
    assert model.encoder_sizes == (10, 4) and model.info["cv_r2"] == pytest.approx(res.best.cv_r2)
    assert res.best.retrained_r2 == pytest.approx(model.r2(X), abs=1e-6)
    assert res.table.loc[0, "retrained_r2"] == pytest.approx(res.best.retrained_r2)
    assert res.best.eval_r2 == pytest.approx(model.r2(X.iloc[:10]), abs=1e-6)
    assert res.results[1].model is None and np.isnan(res.table.loc[1, "retrained_r2"])


def test_search_is_the_same_through_an_executor_and_ties_keep_grid_order():
    X = rank4_expression(n=40, seed=2)
    configs = [BASE, BASE.model_copy(update={"max_epochs": 3}), BASE]  # a duplicate collapses
    direct = search_autoencoders(X, configs, n_splits=2, seed=0, retrain=False)
    pooled = search_autoencoders(
        X, configs, n_splits=2, seed=0, retrain=False, executor=LocalExecutor(workers=1)
    )
    assert len(direct.table) == 2
    pd.testing.assert_frame_equal(direct.table, pooled.table)
    # patience beyond max_epochs never acts: the two train identically and tie on CV R^2
    short = BASE.model_copy(update={"max_epochs": 4, "patience": 10})
    tied = [short, short.model_copy(update={"patience": 11})]
    for configs in (tied, tied[::-1]):
        same = search_autoencoders(X, configs, n_splits=2, retrain=False)
        assert same.table.cv_r2.nunique() == 1
        assert list(same.table.config_id) == [0, 1]  # the earlier configuration ranks first
        assert same.best_config == configs[0]


def test_grid_expansion_and_bad_grids():
    configs = expand_autoencoder_grid({"dropout": [0.0, 0.2], "numerics": ["torch", "keras"]})
    assert [(c.dropout, c.numerics) for c in configs] == [
        (0.0, "torch"),
        (0.0, "keras"),
        (0.2, "torch"),
        (0.2, "keras"),
    ]
    with pytest.raises(InputError, match="unknown grid fields"):
        expand_autoencoder_grid({"hiden": [(4,)]})
    with pytest.raises(InputError, match="non-empty list"):
        expand_autoencoder_grid({"dropout": []})
    with pytest.raises(InputError, match="AutoencoderConfig"):
        expand_autoencoder_grid([{"hidden": (4,)}])
    with pytest.raises(InputError, match="folds"):
        search_autoencoders(rank4_expression(n=20), [BASE], n_splits=1)
