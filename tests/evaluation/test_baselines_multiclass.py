"""Multi-class baselines (one-vs-rest, micro-AUC) for the subtype study, in the grid search and
the bootstrap, checked against scikit-learn computed independently."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from radiogenomics.errors import InputError
from radiogenomics.evaluation.baselines_cv import encode_trait, prepare_cohort, run_baselines
from radiogenomics.evaluation.bootstrap import bootstrap_split, run_bootstrap
from radiogenomics.evaluation.nn_metrics import micro_ap, micro_auc
from radiogenomics.evaluation.splits import stratified_folds
from radiogenomics.execution import LocalExecutor
from radiogenomics.models.baselines import BASELINES, DEFAULT_GRIDS, OneVsRest, fit_baseline

CLASSES = ["Classical", "Mesenchymal", "Neural", "Proneural"]


def subtype_cohort(n=96, p=24, seed=0):
    """Four classes, each raising its own block of 4 genes (a subtype-like signal)."""
    rng = np.random.default_rng(seed)
    codes = rng.permutation(np.arange(n) % 4)
    X = rng.standard_normal((n, p)) + 5.0
    for c in range(4):
        X[codes == c, 4 * c : 4 * c + 4] += 1.5
    patients = [f"P{i:03d}" for i in range(n)]
    labels = np.array(CLASSES, dtype=object)[codes]
    labels[:2] = None  # unlabelled for this task
    expr = pd.DataFrame(X, index=patients, columns=[f"G{j}" for j in range(p)])
    return expr, pd.DataFrame({"subtype": labels}, index=patients)


def onehot(codes, C):
    return np.eye(C, dtype=int)[codes]


def test_micro_auc_and_ap_match_scikit_learn_on_a_one_hot_matrix():
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 4, 50)
    scores = np.round(rng.random((50, 4)), 1)  # many ties
    scores[np.arange(50), codes] += 0.3 * rng.random(50)
    assert micro_auc(codes, scores) == pytest.approx(
        roc_auc_score(onehot(codes, 4), scores, average="micro"), abs=1e-12
    )
    assert micro_ap(codes, scores) == pytest.approx(
        average_precision_score(onehot(codes, 4), scores, average="micro"), abs=1e-12
    )
    assert np.isnan(micro_auc(np.zeros(3, int), np.ones((3, 1))))


def test_one_vs_rest_equals_scikit_learns_one_vs_rest():
    X, traits = subtype_cohort()
    data = prepare_cohort(X, traits)
    t = data.traits["subtype"]
    Z = StandardScaler().fit_transform(data.X[t.rows])
    ours = fit_baseline("logreg_l2", {"C": 0.1}, Z, t.y, seed=0, n_classes=4)
    assert isinstance(ours, OneVsRest) and ours.n_classes == 4
    # the reference solved to 1e-10 by another solver: ours is fitted to convergence too
    converged = LogisticRegression(C=0.1, class_weight="balanced", tol=1e-10, max_iter=100_000)
    ref = OneVsRestClassifier(converged)
    ref.fit(Z.astype(np.float64), t.y)
    np.testing.assert_allclose(ours.scores(Z), ref.predict_proba(Z), rtol=1e-5, atol=1e-7)
    # every one-vs-rest model is class-balanced on its own (class vs the rest) problem
    for est in ours.estimators:
        assert est.get_params()["class_weight"] == "balanced"
    svm = fit_baseline("svm_linear", {"C": 0.01}, Z, t.y, seed=0, n_classes=4)
    assert svm.scores(Z).shape == (len(Z), 4) and not svm.uses_probabilities
    with pytest.raises(InputError, match=r"classes \[3\] have no training patient"):
        fit_baseline("logreg_l2", {"C": 0.1}, Z[t.y < 3], t.y[t.y < 3], seed=0, n_classes=4)


def test_labels_of_more_than_two_classes_are_multiclass_in_sorted_order():
    y, classes = encode_trait(pd.Series(["b", "c", None, "a", "c"]), "t")
    assert classes == ["a", "b", "c"] and y.tolist() == [1, 2, 0, 2]
    y, classes = encode_trait(pd.Series([10.0, 2.0, 3.0, np.nan]), "t")
    assert classes == ["2.0", "3.0", "10.0"] and y.tolist() == [2, 0, 1]
    with pytest.raises(InputError, match=r"\[t\].*non-integer"):
        encode_trait(pd.Series([0.5, 1.25, 3.0]), "t")
    _, classes = encode_trait(pd.Series(["x", "y", "y"]), "t")
    assert classes == ["y", "x"]  # binary: the least frequent label is positive, as before


def test_multiclass_grid_search_scores_folds_like_an_independent_one_vs_rest():
    X, traits = subtype_cohort()
    grids = {"logreg_l2": {"C": [0.01, 0.1]}, "random_forest": {"max_features": ["sqrt"]}}
    res = run_baselines(
        X, traits, ["logreg_l2", "random_forest"], n_splits=3, seed=5, grids=grids,
        executor=LocalExecutor(1, quiet=True),
    )  # fmt: skip
    s = res.summary.set_index("model")
    assert (s.n_classes == 4).all() and s.n_positive.isna().all()
    assert (s.auc_mean > 0.85).all()  # a planted four-class signal
    # fold 0 of the chosen logistic regression, recomputed from scratch
    data = prepare_cohort(X, traits)
    t = data.traits["subtype"]
    tr, va = stratified_folds(t.y, 3, seed=5, task="subtype")[0]
    sc = StandardScaler().fit(data.X[t.rows[tr]].astype(np.float64))
    C = res.chosen["subtype"]["logreg_l2"]["C"]
    ref = OneVsRestClassifier(LogisticRegression(C=C, class_weight="balanced", max_iter=5000))
    ref.fit(sc.transform(data.X[t.rows[tr]]), t.y[tr])
    proba = ref.predict_proba(sc.transform(data.X[t.rows[va]]))
    expected = roc_auc_score(onehot(t.y[va], 4), proba, average="micro")
    got = res.folds.query("model == 'logreg_l2' and fold == 0").auc.iloc[0]
    assert got == pytest.approx(expected, abs=1e-6)


def test_multiclass_bootstrap_compares_the_network_with_the_baselines(tmp_path):
    X, traits = subtype_cohort(n=80, seed=1)
    nn = {"hidden": [8], "optimizer": "adam", "learning_rate": 0.01, "max_epochs": 15}
    chosen = {"subtype": {"nn": nn, "logreg_l2": {"C": 0.1}}}
    res = run_bootstrap(
        X, traits, chosen, n_reps=2, n_splits=3, seed=2, out_dir=tmp_path,
        executor=LocalExecutor(1, quiet=True),
    )  # fmt: skip
    assert set(res.auc.model) == {"nn", "logreg_l2"} and len(res.auc) == 4
    assert (res.auc.auc > 0.8).all()
    assert set(res.differences.model) == {"logreg_l2"}
    # every resampled training and validation set holds all four classes
    t = prepare_cohort(X, traits).traits["subtype"]
    for rep in range(2):
        for tr, va in bootstrap_split(t.y, 3, seed=2, rep=rep, trait="subtype"):
            assert len(np.unique(t.y[tr])) == 4 and len(np.unique(t.y[va])) == 4


def test_default_grids_are_documented_and_used():
    assert DEFAULT_GRIDS["logreg_l2"] == {"C": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]}
    assert set(DEFAULT_GRIDS) == set(BASELINES)
    for name, spec in BASELINES.items():
        assert spec.param_grid() == spec.param_grid(DEFAULT_GRIDS[name])


@pytest.mark.realdata
def test_subtype_baseline_on_real_rnaseq(shared_data):
    """The subtype study's baseline: one-vs-rest L2 logistic regression on the real TCGA-GBM
    RNA-seq (1,000 most variable genes, a label-blind filter) separates the four subtypes."""
    import warnings

    from radiogenomics.data import expression, subtypes

    gbm = shared_data / "tcga_gbm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate aliquots, G-CIMP -> Proneural: reported
        X = expression.read_expression(gbm / "rnaseq_rsem_tpm.tsv.gz")
        y = subtypes.read_subtypes(gbm / "glioma_molecular_subtypes_2016.tsv")
    y = y[y.index.isin(X.index)]
    X = X[X.var().sort_values(ascending=False).index[:1000]]
    res = run_baselines(
        X, pd.DataFrame({"subtype": y}), ["logreg_l2"], n_splits=5, seed=0,
        grids={"logreg_l2": {"C": [1e-3, 1e-2]}}, executor=LocalExecutor(1, quiet=True),
    )  # fmt: skip
    row = res.summary.iloc[0]
    assert row.n_classes == 4 and row.n_patients == len(y)
    assert row.auc_mean > 0.85  # measured 0.91 (C = 0.01)
