"""Baselines: planted linear signal recovered by every model type, same folds and per-fold
scaling as an independent re-computation, hyperparameter choice, outputs, and clear errors."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from radiogenomics.errors import InputError
from radiogenomics.evaluation.baselines_cv import (
    binary_labels,
    prepare_cohort,
    run_baselines,
    trait_folds,
)
from radiogenomics.execution import LocalExecutor
from radiogenomics.models.baselines import BASELINES, expand_grid, fit_baseline, get_baseline
from radiogenomics.utils.io import read_table


def planted_cohort(n: int = 120, p: int = 150, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Expression with one 15-gene programme; 'linear' is a noisy threshold of its score."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    X = rng.standard_normal((n, p)) * rng.uniform(0.5, 2.0, p) + rng.uniform(2, 8, p)
    X[:, :15] += 1.2 * a[:, None]
    X[:, -1] = 3.0  # a constant gene: dropped by the per-fold scaler, never divided by zero
    linear = np.where(a + 0.4 * rng.standard_normal(n) > 0.4, "high", "low").astype(object)
    linear[:4] = None  # missing for this trait only
    patients = [f"TCGA-{i:04d}" for i in range(n)]
    expr = pd.DataFrame(X, index=patients, columns=[f"G{j}" for j in range(p)])
    return expr, pd.DataFrame({"linear": linear}, index=patients)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    X, traits = planted_cohort()
    out = tmp_path_factory.mktemp("baselines")
    grids = {"random_forest": {"max_features": ["sqrt"], "min_samples_leaf": [1, 5]}}
    res = run_baselines(
        X,
        traits,
        list(BASELINES),
        n_splits=4,
        seed=3,
        executor=LocalExecutor(1, quiet=True),
        out_dir=out,
        grids=grids,
        figure_dir=out / "figures",
    )
    return X, traits, out, res


def test_every_baseline_recovers_a_linear_trait(fitted):
    _, _, _, res = fitted
    s = res.summary.set_index("model")
    assert set(s.index) == set(BASELINES)
    for model, auc in s.auc_mean.items():
        assert auc > 0.7, f"{model} CV AUC {auc:.3f} on a planted linear trait"
    # 'high' is the least frequent label, so it is the positive class
    labels = np.asarray(planted_cohort()[1].linear.dropna())
    assert s.n_positive.iloc[0] == (labels == "high").sum() < (labels == "low").sum()
    assert s.n_patients.iloc[0] == len(labels)


def test_summary_and_choice_follow_the_grid(fitted):
    _, _, _, res = fitted
    grid = res.grid
    for (trait, model), g in grid.groupby(["trait", "model"]):
        means = g.groupby("params_id")["auc"].mean()
        best = means.idxmax()
        assert (
            json.dumps(res.chosen[trait][model], sort_keys=True)
            == g[g.params_id == best].params.iloc[0]
        )
        row = res.summary[(res.summary.trait == trait) & (res.summary.model == model)].iloc[0]
        assert row.auc_mean == pytest.approx(means.max())
        folds = res.folds[(res.folds.trait == trait) & (res.folds.model == model)]
        assert sorted(folds.fold) == [0, 1, 2, 3]
        assert row.auc_sd == pytest.approx(folds.auc.std())
    n_points = {m: len(get_baseline(m).param_grid()) for m in BASELINES}
    n_points["random_forest"] = 2
    assert len(grid) == 4 * sum(n_points.values())


def test_a_grid_point_matches_an_independent_computation(fitted):
    """Same stratified folds, z-score fitted on each fold's training patients, balanced L2."""
    X, traits, _, res = fitted
    y_all = traits.linear.dropna()
    y = (y_all == "high").astype(int).to_numpy()
    Xl = X.loc[y_all.index].to_numpy()
    skf = StratifiedKFold(4, shuffle=True, random_state=3)
    C = 1e-2
    grid = res.grid[(res.grid.model == "logreg_l2") & (res.grid.params == json.dumps({"C": C}))]
    for k, (tr, va) in enumerate(skf.split(Xl, y)):
        mu, sd = Xl[tr].mean(0), Xl[tr].std(0)
        keep = sd > 1e-8
        Ztr = (Xl[tr][:, keep] - mu[keep]) / sd[keep]
        Zva = (Xl[va][:, keep] - mu[keep]) / sd[keep]
        lr = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(Ztr, y[tr])
        expected = roc_auc_score(y[va], lr.decision_function(Zva))
        assert grid[grid.fold == k].auc.iloc[0] == pytest.approx(expected, abs=1e-4)


def test_outputs_are_written(fitted):
    _, _, out, res = fitted
    pd.testing.assert_frame_equal(read_table(out / "baseline_cv"), res.folds)
    assert set(read_table(out / "baseline_cv_summary").model) == set(BASELINES)
    assert json.loads((out / "chosen_params.json").read_text()) == res.chosen
    for ext in ("png", "svg"):
        assert (out / "figures" / f"cv_auc.{ext}").stat().st_size > 1000


def test_folds_are_the_shared_stratified_folds():
    y = np.array([0] * 30 + [1] * 10)
    a = trait_folds(y, 5, seed=7, trait="t")
    b = trait_folds(y, 5, seed=7, trait="t")
    assert all((x[1] == z[1]).all() for x, z in zip(a, b, strict=True))
    for _, va in a:
        assert y[va].sum() == 2  # stratified: every validation fold has its share of positives
    other = trait_folds(y, 5, seed=8, trait="t")
    assert any((x[1] != z[1]).any() for x, z in zip(a, other, strict=True))


def test_every_estimator_is_class_balanced():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    y = (np.arange(60) < 8).astype(int)
    for name, spec in BASELINES.items():
        est = fit_baseline(name, spec.param_grid()[0], X, y, seed=0)
        if spec.weights_in_fit:
            continue  # XGBoost takes balanced sample weights in fit()
        assert est.get_params()["class_weight"] == "balanced", name


def test_label_encoding_and_bad_input():
    y, neg, pos = binary_labels(pd.Series(["a", "b", "b", None, "b"]), "t")
    assert (neg, pos) == ("b", "a") and y.tolist() == [1, 0, 0, 0]
    y, neg, pos = binary_labels(pd.Series([1.0, 0.0, np.nan, 1.0]), "t")
    assert (neg, pos) == ("0", "1") and y.tolist() == [1, 0, 1]
    # booleans with a missing label are objects: True stays positive though it is the majority
    y, neg, pos = binary_labels(pd.Series([True, False, None, True]), "t")
    assert (neg, pos) == ("0", "1") and y.tolist() == [1, 0, 1]
    with pytest.raises(InputError, match=r"\[t\].*3 classes"):
        binary_labels(pd.Series(["a", "b", "c"]), "t")
    with pytest.raises(InputError, match="unknown baseline model 'lasso'.*logreg_l1"):
        get_baseline("lasso")
    with pytest.raises(InputError, match="non-empty list"):
        expand_grid({"C": []})
    X0, traits0 = planted_cohort(n=20, p=10)
    with pytest.raises(InputError, match=r"\[models\]: no baseline model to run"):
        run_baselines(X0, traits0, models=[], n_splits=3)  # a pandas merge error before
    with pytest.raises(InputError, match=r"\[n_splits\]: n_splits = 1"):
        run_baselines(X0, traits0, models=["logreg_l2"], n_splits=1)  # sklearn's before
    X, traits = planted_cohort(n=20, p=10)
    with pytest.raises(InputError, match="not columns of the trait table"):
        prepare_cohort(X, traits, names=["edema"])
    traits.index = [f"other-{i}" for i in range(20)]
    with pytest.raises(InputError, match="no labelled patient has expression"):
        prepare_cohort(X, traits)
    with pytest.raises(InputError, match=r"\[logreg_l2 training labels\].*only one class"):
        fit_baseline("logreg_l2", {"C": 1.0}, np.zeros((4, 2)), np.zeros(4), seed=0)
