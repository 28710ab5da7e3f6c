"""Driver ranking on a small real-data case: a programme planted in the TCGA-GBM RNA-seq is
ranked first and called, and the executor gives the table computed in-process."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.execution import LocalExecutor
from radiogenomics.interpret import driver_ranking
from radiogenomics.models import NetworkConfig
from radiogenomics.validation import load_real_data, programme_scores
from radiogenomics.validation.recovery_traits import RecoveryTrait, gene_subset, plant

pytestmark = [pytest.mark.realdata, pytest.mark.slow]
PLANTED = "HALLMARK_OXIDATIVE_PHOSPHORYLATION"
OTHERS = [
    "HALLMARK_INTERFERON_GAMMA_RESPONSE",
    "HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION",
    "HALLMARK_G2M_CHECKPOINT",
    "HALLMARK_HYPOXIA",
    "HALLMARK_MYC_TARGETS_V1",
    "HALLMARK_ADIPOGENESIS",
    "HALLMARK_FATTY_ACID_METABOLISM",
    "HALLMARK_TNFA_SIGNALING_VIA_NFKB",
    "HALLMARK_E2F_TARGETS",
]
NET = NetworkConfig(
    hidden=(16,), activation="tanh", optimizer="adam", dropout=0.2, max_epochs=10, patience=5
)
OPTIONS = dict(repeats=2, null_draws=25, nperm=500, seed=0)


@pytest.fixture(scope="module")
def case(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        data = load_real_data(shared_data)
    sets = {k: list(v) for k, v in data.hallmark.items() if k in [PLANTED, *OTHERS]}
    X = gene_subset(data.expression, sets, 2500, seed=0)
    trait = RecoveryTrait("oxphos_step", "step", (PLANTED,), "hallmark", noise=0.3)
    y = plant(programme_scores(X, {PLANTED: sets[PLANTED]}), trait)
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    return X, y, {"hallmark": sets}, cv


def test_planted_programme_ranked_first_and_called(case):
    X, y, sets, cv = case
    t = driver_ranking(cv, X, y, sets, **OPTIONS)
    assert cv.mean_auc > 0.75
    top = t.sort_values("rank").iloc[0]
    assert top["set"] == PLANTED and top["called"] and top["q"] < 0.05
    assert t.attrs["repeats"] == 2 and len(t) == len(sets["hallmark"])
    # the network alone ranks it first too
    masking = driver_ranking(cv, X, y, sets, readout="masking", **OPTIONS)
    assert masking.sort_values("rank").iloc[0]["set"] == PLANTED


def test_same_table_in_process_and_through_the_executor(case):
    X, y, sets, cv = case
    local = driver_ranking(cv, X, y, sets, **OPTIONS)
    pooled = driver_ranking(
        cv, X, y, sets, executor=LocalExecutor(workers=2, quiet=True), **OPTIONS
    )
    assert local["set"].tolist() == pooled["set"].tolist()
    assert local["called"].tolist() == pooled["called"].tolist()
    pd.testing.assert_frame_equal(local, pooled, check_exact=False, rtol=1e-6, atol=1e-9)
