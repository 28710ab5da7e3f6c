"""Cross-validation, grid search, retraining and transfer of the neural trait classifiers."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_autoencoder import train_autoencoder, unlabelled_patients
from radiogenomics.evaluation.nn_cv import cross_validate, expand_grid, grid_search, retrain
from radiogenomics.evaluation.nn_metrics import auc_score
from radiogenomics.execution import LocalExecutor
from radiogenomics.models import AutoencoderConfig, NetworkConfig

SMALL = NetworkConfig(
    hidden=(16, 8), optimizer="adam", learning_rate=0.005, max_epochs=30, patience=8, batch_size=10
)


def cohort(n=100, p=40, classes=2, seed=0):
    """Expression with a trait planted on genes G0-G7 (log2-like scale)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(5.0, 1.0, size=(n, p))
    genes = [f"G{j}" for j in range(p)]
    ids = [f"TCGA-{i:02d}-{i:04d}" for i in range(n)]
    s = X[:, :4].sum(1) - X[:, 4:8].sum(1) + 0.5 * rng.normal(size=n)
    if classes == 2:
        y = np.where(s > np.quantile(s, 0.6), "high", "low")
    else:  # subtype-like: each class raises its own block of 4 genes
        codes = rng.permutation(np.arange(n) % classes)
        for c in range(classes):
            X[codes == c, 4 * c : 4 * c + 4] += 1.0
        y = np.array(["A", "B", "C", "D", "E"])[codes]
    return pd.DataFrame(X, index=ids, columns=genes), pd.Series(y, index=ids, name="trait")


def test_planted_binary_trait_is_recovered_out_of_fold():
    X, y = cohort()
    r = cross_validate(X, y, SMALL, n_splits=5, seed=1, keep_models=True)
    assert r.classes == ["high", "low"][::-1] or r.classes == ["low", "high"]
    assert r.classes[1] == "high"  # the least frequent label is positive
    assert r.mean_auc > 0.85 and r.pooled_auc > 0.85
    # folds partition the patients; every patient scored once, by the model that did not see it
    val = np.concatenate([f.val for f in r.folds])
    assert sorted(val) == list(range(len(y)))
    np.testing.assert_allclose(r.oof_proba.sum(axis=1), 1.0, atol=1e-6)
    for f, m in zip(r.folds, r.fold_models, strict=True):
        assert not set(f.train_ids) & set(f.val_ids)
        np.testing.assert_allclose(
            m.predict_proba(X.loc[f.val_ids]).to_numpy(),
            r.oof_proba.loc[f.val_ids].to_numpy(),
            atol=1e-6,
        )
        # the scaler saw the fold's training patients only
        np.testing.assert_allclose(m.scaler.mean_, X.loc[f.train_ids].mean().to_numpy())
        np.testing.assert_allclose(m.scaler.scale_, X.loc[f.train_ids].std(ddof=0).to_numpy())
    # per-fold metrics are the fold's own AUC
    codes = (y == "high").astype(int)
    f0 = r.folds[0]
    assert r.fold_metrics.loc[0, "auc"] == pytest.approx(
        auc_score(codes.loc[f0.val_ids].to_numpy(), r.oof_proba.loc[f0.val_ids].to_numpy())
    )
    assert r.median_best_epoch == int(round(np.median(r.best_epochs)))


def test_multiclass_micro_auc():
    X, y = cohort(n=120, classes=3, seed=2)
    r = cross_validate(X, y, SMALL, n_splits=4, seed=0)
    assert r.classes == ["A", "B", "C"]
    assert list(r.oof_proba.columns) == ["A", "B", "C"]
    assert r.pooled_auc > 0.85
    model = retrain(X, y, SMALL, r, seed=0)
    onehot = pd.get_dummies(y)[["A", "B", "C"]].to_numpy(dtype=int)
    micro = roc_auc_score(onehot, model.predict_proba(X).to_numpy(), average="micro")
    assert model.info["train_auc"] == pytest.approx(micro, abs=1e-12)


def test_batched_cv_equals_fold_by_fold_and_executor():
    X, y = cohort(n=60, p=20)
    X.iloc[:, 5] = 1.0
    X.iloc[0, 5] = 3.0  # constant in the training patients of every fold but one
    cfg = SMALL.model_copy(update={"dropout": 0.2, "max_epochs": 8})
    a = cross_validate(X, y, cfg, n_splits=3, seed=4, keep_models=True)
    b = cross_validate(X, y, cfg, n_splits=3, seed=4, batched=False)
    c = cross_validate(X, y, cfg, n_splits=3, seed=4, batched=False, executor=LocalExecutor(1))
    assert a.best_epochs == b.best_epochs == c.best_epochs
    np.testing.assert_allclose(a.oof_proba, b.oof_proba, atol=1e-5)
    np.testing.assert_allclose(b.oof_proba, c.oof_proba, atol=0)
    n_genes = sorted(len(m.genes) for m in a.fold_models)
    assert n_genes == [19, 20, 20]  # G5 dropped in the fold that validates on patient 0


def test_same_seed_same_result_other_seed_other_folds():
    X, y = cohort(n=60, p=20)
    cfg = SMALL.model_copy(update={"dropout": 0.3, "max_epochs": 5})
    a = cross_validate(X, y, cfg, n_splits=3, seed=9)
    b = cross_validate(X, y, cfg, n_splits=3, seed=9)
    c = cross_validate(X, y, cfg, n_splits=3, seed=10)
    pd.testing.assert_frame_equal(a.oof_proba, b.oof_proba)
    assert not np.array_equal(a.folds[0].val, c.folds[0].val)


def test_bad_input_is_refused_clearly():
    X, y = cohort(n=40, p=10)
    with pytest.raises(InputError, match="only one class"):
        cross_validate(X, pd.Series("low", index=y.index), SMALL, n_splits=3)
    y_small = y.copy()
    y_small[:] = "low"
    y_small.iloc[:4] = "high"
    with pytest.raises(InputError, match="class 'high' has 4 patients, fewer than the 5 folds"):
        cross_validate(X, y_small, SMALL, n_splits=5)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = cross_validate(
            X, y_small, SMALL.model_copy(update={"max_epochs": 2}), 5, adjust_folds=True
        )
    assert r.n_splits == 4 and any(
        "class 'high' has 4 patients" in str(x.message) and "using 4 folds" in str(x.message)
        for x in w
    )
    Xn = X.copy()
    Xn.iloc[3, 2] = np.nan
    with pytest.raises(InputError, match=r"NaN.*TCGA-03-0003.*G2"):
        cross_validate(Xn, y, SMALL, n_splits=3)
    with pytest.raises(InputError, match="no labelled patient"):
        cross_validate(X, y.set_axis([f"x{i}" for i in range(len(y))]), SMALL, n_splits=3)
    with pytest.raises(ValueError, match="no autoencoder"):
        cross_validate(X, y, SMALL.model_copy(update={"ae_layers": 1}), n_splits=3)
    with pytest.raises(InputError, match="no autoencoder was given"):
        grid_search(X, y, {"ae_layers": [0, 1]}, base=SMALL, n_splits=3)
    for k in (1, 0, -3):  # sklearn's ValueError before
        with pytest.raises(InputError, match=rf"\[n_splits\]: n_splits = {k} \(expected an"):
            cross_validate(X, y, SMALL, n_splits=k)
    with pytest.raises(InputError, match="expected a Series of labels"):  # AttributeError
        cross_validate(X, y.to_numpy(), SMALL, n_splits=3)
    with pytest.raises(InputError, match=r"\[grid\]: grid values of \['dropout'\] are not lists"):
        expand_grid({"dropout": 0.4}, base=SMALL)  # "'float' object is not iterable" before
    with pytest.raises(InputError, match=r"\[grid\]: grid point \{'dropout': 1.5\}"):
        expand_grid({"dropout": [0.0, 1.5]}, base=SMALL)  # a bare pydantic error before
    for e in (0, -2):  # an untrained network was returned
        with pytest.raises(InputError, match=rf"\[epochs\]: epochs = {e}"):
            retrain(X, y, SMALL, epochs=e)


def test_missing_labels_are_dropped_and_unknown_patients_warned():
    X, y = cohort(n=60, p=10)
    y = y.copy().astype(object)
    y.iloc[:6] = np.nan
    y["nobody"] = "low"
    with pytest.warns(UserWarning, match="1 labelled patient without expression left out"):
        r = cross_validate(X, y, SMALL.model_copy(update={"max_epochs": 2}), n_splits=3)
    assert len(r.labels) == 54 and len(r.oof_proba) == 54


def test_grid_search_ranks_by_mean_auc_and_collapses_duplicates():
    X, y = cohort(n=60, p=20)
    grid = {"optimizer": ["sgd", "adam"], "learning_rate": [1e-7, 1e-2], "frozen": [True, False]}
    configs = expand_grid(grid, SMALL)
    assert len(configs) == 4  # frozen means nothing without autoencoder layers
    res = grid_search(X, y, grid, base=SMALL, n_splits=3, seed=0, executor=LocalExecutor(1))
    t = res.table
    assert list(t["rank"]) == [1, 2, 3, 4] and set(t["numerics"]) == {"torch"}
    assert (np.diff(t["mean_auc"].to_numpy()) <= 0).all()
    assert res.best.mean_auc == t["mean_auc"].iloc[0]
    assert res.best_config.learning_rate == 1e-2  # a network that cannot learn never wins
    # the same folds for every configuration
    assert all(np.array_equal(r.folds[0].val, res.results[0].folds[0].val) for r in res.results)
    with pytest.raises(InputError, match="unknown grid fields"):
        expand_grid({"hiden": [(4,)]})


def test_retrain_uses_median_best_epoch_and_predicts_by_gene_name(tmp_path):
    X, y = cohort()
    cv = cross_validate(X, y, SMALL, n_splits=4, seed=0)
    model = retrain(X, y, SMALL, cv, seed=0)
    assert model.best_epoch == cv.median_best_epoch
    assert model.classes == cv.classes and model.genes == tuple(X.columns)
    shuffled = X[list(reversed(X.columns))]
    p = model.predict_proba(shuffled)
    pd.testing.assert_frame_equal(p, model.predict_proba(X))
    own_auc = auc_score((y == "high").astype(int).to_numpy(), p.to_numpy())
    assert own_auc > 0.9  # its own patients
    # the retrained AUC/AP the model carries (the paper's Table 1) are those of its own patients
    truth = (y == "high").astype(int).to_numpy()
    assert model.info["train_auc"] == pytest.approx(roc_auc_score(truth, p["high"]), abs=1e-12)
    assert model.info["train_ap"] == pytest.approx(
        average_precision_score(truth, p["high"]), abs=1e-12
    )
    saved = type(model).load(model.save(tmp_path / "retrained"))
    assert saved.info["train_auc"] == pytest.approx(model.info["train_auc"])
    with pytest.raises(InputError, match="1 of the model's 40 genes are missing: G7"):
        model.predict_proba(X.drop(columns="G7"))
    with pytest.raises(ValueError, match="cv_result"):
        retrain(X, y, SMALL)


def test_autoencoder_transfer_frozen_and_fine_tuned():
    rng = np.random.default_rng(3)
    n, p = 160, 30
    Z = rng.normal(size=(n, 4)) @ rng.normal(size=(4, p)) + 0.5 * rng.normal(size=(n, p))
    ids = [f"P{i}" for i in range(n)]
    X = pd.DataFrame(Z + 6.0, index=ids, columns=[f"G{j}" for j in range(p)])
    y = pd.Series(np.where(Z[:, 0] > 0.3, "yes", "no"), index=ids, name="t").iloc[:80]
    X_ae = unlabelled_patients(X, y)
    assert len(X_ae) == 80 and not set(X_ae.index) & set(y.index)
    ae_cfg = AutoencoderConfig(
        hidden=(12, 6),
        optimizer="adam",
        learning_rate=0.01,
        batch_size=10,
        max_epochs=30,
        patience=10,
    )
    ae = train_autoencoder(X_ae, ae_cfg, n_splits=3, seed=0, X_eval=X.loc[y.index])
    assert len(ae.fold_metrics) == 3 and ae.cv_r2 > 0.3
    assert ae.retrained_r2 > 0.3 and ae.eval_r2 > 0.3
    assert ae.model.encoder_sizes == (12, 6)
    W_ae = ae.model.encoder_layers(1)[0][0]
    frozen = SMALL.model_copy(update={"hidden": (12, 4), "ae_layers": 1, "frozen": True})
    r = cross_validate(X, y, frozen, n_splits=3, autoencoder=ae.model, keep_models=True)
    for m in r.fold_models:
        assert m.scaler is ae.model.scaler
        np.testing.assert_array_equal(m.network.first_linear.weight.detach().numpy(), W_ae)
    tuned = frozen.model_copy(update={"frozen": False})
    r2 = cross_validate(X, y, tuned, n_splits=3, autoencoder=ae.model, keep_models=True)
    assert not np.allclose(r2.fold_models[0].network.first_linear.weight.detach().numpy(), W_ae)
    m = retrain(X, y, frozen, r, autoencoder=ae.model)
    np.testing.assert_array_equal(m.network.first_linear.weight.detach().numpy(), W_ae)
    # an autoencoder whose genes the cohort lacks, or whose layer sizes do not fit
    with pytest.raises(InputError, match="genes are missing"):
        cross_validate(X.drop(columns="G3"), y, frozen, n_splits=3, autoencoder=ae.model)
    wrong = SMALL.model_copy(update={"hidden": (10, 4), "ae_layers": 1})
    with pytest.raises(InputError, match="encoder layer 1 has shape"):
        cross_validate(X, y, wrong, n_splits=3, autoencoder=ae.model)


def test_numeric_0_1_labels_keep_1_positive_as_the_baselines_do():
    """With 1 the majority, the network made 0 positive ('1.0' / '0.0') and the baselines 1:
    their APs scored different classes."""
    from radiogenomics.evaluation.baselines_cv import binary_labels
    from radiogenomics.evaluation.nn_cv import encode_labels

    y = pd.Series([1.0, 1.0, 1.0, 0.0, np.nan], index=list("abcde"))
    labels, classes, codes = encode_labels(y, task="t")
    assert classes == ["0", "1"] and codes.tolist() == [1, 1, 1, 0]
    assert binary_labels(y, "t")[1:] == ("0", "1")
    # booleans with a missing label are objects, not a bool dtype: still True positive
    flags = pd.Series([True, True, True, False, None], index=list("abcde"))
    labels, classes, codes = encode_labels(flags, task="t")
    assert classes == ["0", "1"] and codes.tolist() == [1, 1, 1, 0]
    assert binary_labels(flags, "t")[1:] == ("0", "1")
    words = pd.Series(["x", "x", "x", "y"], index=list("abcd"))
    assert encode_labels(words, task="t")[1] == ["x", "y"]  # labels: least frequent positive
