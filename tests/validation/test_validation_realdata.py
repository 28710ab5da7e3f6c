"""CI-sized versions of the real-data validation (docs/results.md has the full-size numbers).

The networks are small, the gene universe is a subset (every Verhaak signature gene plus random
expressed genes, or random expressed genes for the planted trait) and permutations are few; the
assertions are the qualitative findings of the full analysis.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.interpret import out_of_fold_masking
from radiogenomics.models import NetworkConfig
from radiogenomics.validation import (
    TraitSpec,
    correlation_ranking,
    load_real_data,
    own_set_enrichment,
    programme_scores,
    run_planted_trait,
    validation_gene_sets,
)
from radiogenomics.validation.subtypes import VALIDATION, own_set_vs_null

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
SUBTYPES = ["Classical", "Mesenchymal", "Neural", "Proneural"]


@pytest.fixture(scope="module")
def real(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_real_data(shared_data)


def subset(real, n_genes, with_signatures, seed=0):
    X = real.expression
    sig = sorted(real.signatures.genes & set(X.columns)) if with_signatures else []
    other = sorted(set(X.columns) - set(sig))
    pick = np.random.default_rng(seed).choice(len(other), n_genes - len(sig), replace=False)
    return X[sig + [other[i] for i in sorted(pick)]]


def test_real_cohort_shape(real):
    s = real.summary()
    assert s["patients"] == 153 and s["subtyped_patients"] == 151
    assert s["subtype_counts"] == {
        "Mesenchymal": 49,
        "Classical": 39,
        "Proneural": 37,
        "Neural": 26,
    }
    assert s["signature_genes"] == 685 and s["genes_kept"] > 12000


def test_own_set_enriched_in_gsea_of_correlation(real):
    X = subset(real, 2500, with_signatures=True)
    corr = correlation_ranking(X, real.subtypes)
    full, own = own_set_enrichment(corr, dict(real.signatures), nperm=5000, seed=0)
    assert own["positively_enriched"].all(), own
    for cls in SUBTYPES:  # the own set is the most positively enriched Verhaak set
        part = full[full["ranking"] == cls]
        assert part.loc[part["nes"].idxmax(), "set"] == cls


def test_own_set_ranks_above_random_sets_out_of_fold(real):
    X = subset(real, 2500, with_signatures=True)
    y = real.subtypes
    cfg = NetworkConfig(
        hidden=(32,),
        activation="sigmoid",
        optimizer="nadam",
        dropout=0.4,
        max_epochs=10,
        patience=4,
    )
    cv = cross_validate(X, y, cfg, n_splits=3, seed=0, keep_models=True)
    assert cv.pooled_auc > 0.85
    sets = validation_gene_sets(real.signatures, X.columns)
    res = out_of_fold_masking(
        cv, X, y, gene_sets={VALIDATION: sets}, single_genes=False, null_draws=30, quiet=True
    )
    t = own_set_vs_null(res, SUBTYPES).set_index("class")
    assert (t["ap"] > t["null_ap_mean"]).all(), t
    assert (t["p_ap"] <= 0.25).all() and (t["p_ap"] < 0.05).sum() >= 3, t


def test_strongly_planted_trait_found_in_hallmark_collection(real):
    spec = TraitSpec("oxphos_step", "step", ("HALLMARK_OXIDATIVE_PHOSPHORYLATION",), noise=0.3)
    scores = programme_scores(real.expression, {p: real.hallmark[p] for p in spec.programmes})
    X = subset(real, 2500, with_signatures=False)
    cfg = NetworkConfig(
        hidden=(32,), activation="tanh", optimizer="adam", dropout=0.2, max_epochs=10, patience=4
    )
    run = run_planted_trait(
        X,
        spec,
        real.hallmark,
        cfg,
        n_splits=3,
        null_draws=20,
        nperm=2000,
        scores=scores,
        modes=("out_of_fold",),
    )
    assert run.cv.mean_auc > 0.75
    s = run.summary().iloc[0]
    assert s["rank_ap"] <= 3 and s["gsea_rank"] <= 3, s
    assert s["gsea_nes"] > 0 and s["gsea_padj"] < 0.05, s
