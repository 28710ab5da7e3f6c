"""The 4-subtype classifier on the real TCGA-GBM RNA-seq reaches micro-averaged AUC >= 0.90."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from radiogenomics.data import expression, subtypes
from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.models import NetworkConfig


@pytest.mark.realdata
def test_subtype_classifier_on_real_rnaseq(shared_data):
    gbm = shared_data / "tcga_gbm"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate aliquots, G-CIMP -> Proneural: reported
        X = expression.read_expression(gbm / "rnaseq_rsem_tpm.tsv.gz")
        y = subtypes.read_subtypes(gbm / "glioma_molecular_subtypes_2016.tsv")
    y = y[y.index.isin(X.index)]
    assert X.shape[0] == 153 and len(y) == 151
    assert sorted(y.unique()) == ["Classical", "Mesenchymal", "Neural", "Proneural"]
    # unsupervised gene filter on all patients (no labels used): the 1,000 most variable genes
    X = X[X.var().sort_values(ascending=False).index[:1000]]
    cfg = NetworkConfig(
        hidden=(32,), optimizer="adam", dropout=0.5, batch_size=10, max_epochs=80, patience=20
    )
    r = cross_validate(X, y, cfg, n_splits=10, seed=0)
    assert r.n_splits == 10 and len(r.oof_proba) == 151
    assert r.classes == ["Classical", "Mesenchymal", "Neural", "Proneural"]
    # every patient scored out of fold, probabilities summing to one
    np.testing.assert_allclose(r.oof_proba.sum(axis=1), 1.0, atol=1e-6)
    print(f"subtype CV micro-AUC pooled {r.pooled_auc:.3f}, mean over folds {r.mean_auc:.3f}")
    assert r.pooled_auc >= 0.90
    assert r.mean_auc >= 0.90
