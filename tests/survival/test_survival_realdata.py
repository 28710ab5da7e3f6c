"""TCGA-GBM: overall and progression-free survival from the BCR clinical files; age (split at
the median of the RNA-seq cohort) is a well-known prognostic factor for OS in glioblastoma."""

from __future__ import annotations

import gzip
import json

import numpy as np
import pytest

from radiogenomics.data import read_clinical
from radiogenomics.survival import (
    SurvivalWarning,
    cox_stepwise,
    cox_univariate,
    kaplan_meier,
    logrank_table,
    survival_variables,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def gbm(shared_data):
    d = shared_data / "tcga_gbm"
    clinical = read_clinical(
        d / "nationwidechildrens.org_clinical_patient_gbm.txt", d / "clinical_follow_up_gbm.tsv"
    )
    with gzip.open(d / "rnaseq_rsem_tpm.tsv.gz", "rt") as fh:
        aliquots = fh.readline().rstrip("\n").split("\t")[1:]
    rnaseq = sorted({a[:12] for a in aliquots})
    return clinical, rnaseq


def test_older_patients_have_worse_overall_survival(gbm, tmp_path):
    clinical, rnaseq = gbm
    assert len(rnaseq) == 153 and set(rnaseq) <= set(clinical.index)
    sv = survival_variables(clinical, reference_ages=clinical.loc[rnaseq, "age"])
    assert sv.age_median == 60.0
    t = sv.table
    km = kaplan_meier(t, "os_days", "os_event", "age_over_median")
    cox = cox_univariate(t, "os_days", "os_event", ["age_over_median"]).table.iloc[0]
    med = km.medians.set_index("group")
    report = {
        "n": km.n,
        "n_removed": km.n_removed,
        "events": int(med["events"].sum()),
        "median_os_days_younger": med.loc[0, "median"],
        "median_os_days_older": med.loc[1, "median"],
        "logrank_chi2": km.logrank.chi2,
        "logrank_p": km.logrank.p,
        "hr": cox["hr"],
        "ci": [cox["ci_low"], cox["ci_high"]],
        "cox_p": cox["p"],
    }
    (tmp_path / "gbm_age_os.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    assert km.n > 500 and km.n_removed == len(clinical) - km.n
    assert cox["hr"] > 1 and cox["ci_low"] > 1 and cox["p"] < 0.05
    assert km.logrank.p < 0.05
    assert med.loc[1, "median"] < med.loc[0, "median"]


def test_pfs_and_covariate_model_on_the_rnaseq_cohort(gbm):
    clinical, rnaseq = gbm
    sv = survival_variables(clinical, reference_ages=clinical.loc[rnaseq, "age"], patients=rnaseq)
    t = sv.table
    assert t["pfs_days"].notna().all() and (t["pfs_days"] <= t["os_days"]).all()
    assert t["pfs_event"].sum() > 50
    lr = logrank_table(t, "pfs_days", "pfs_event", sv.covariates)
    assert (lr["n"] + lr["n_removed"] == len(rnaseq)).all()
    assert lr.set_index("variable").loc["race_white", "n_removed"] == 1
    with pytest.warns(SurvivalWarning, match="1 patient removed"):
        res = cox_stepwise(t, "os_days", "os_event", candidates=[], forced=sv.covariates)
    assert res.variables == sv.covariates and res.n == 152 and res.n_removed == 1
    assert np.isfinite(res.summary["hr_adjusted"]).all() and res.lr_test.df == 3
