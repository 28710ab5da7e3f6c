"""The findings summary reads the planted numbers back, and tolerates missing stages."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.report.findings import (
    anchor,
    driver_findings,
    performance_findings,
    read_findings,
    survival_findings,
)
from radiogenomics.runfolder import RunFolder


def test_performance_pairs_each_trait_with_its_best_baseline_and_bootstrap_interval(planted_run):
    folder = RunFolder(planted_run)
    perf = performance_findings(folder).set_index("trait")
    assert list(perf.index) == ["edema", "ncet"]
    assert perf.loc["edema", "CV AUC"] == pytest.approx(0.91)
    # the baseline with the highest CV AUC
    assert perf.loc["edema", "best baseline"] == "logreg_l2"
    assert perf.loc["ncet", "best baseline"] == "svm_rbf"
    assert perf.loc["ncet", "baseline AUC"] == pytest.approx(0.74)
    # the interval of the network-minus-baseline differences, computed here independently
    diffs = folder.table("bootstrap", "bootstrap_differences")
    d = diffs[(diffs.trait == "edema") & (diffs.model == "logreg_l2")]["difference"].to_numpy()
    assert perf.loc["edema", "bootstrap vs"] == "logreg_l2"
    assert perf.loc["edema", "AUC difference"] == pytest.approx(d.mean())
    assert perf.loc["edema", "95% CI low"] == pytest.approx(np.percentile(d, 2.5))
    assert perf.loc["edema", "95% CI high"] == pytest.approx(np.percentile(d, 97.5))
    assert perf.loc["edema", "95% CI low"] > 0  # planted mean 0.05, sd 0.02
    # ncet's best baseline was not in the bootstrap: the one it compared is named instead
    assert perf.loc["ncet", "bootstrap vs"] == "logreg_l2"
    assert perf.loc["ncet", "AUC difference"] < 0  # planted mean -0.03
    assert perf.loc["edema", "evidence"] == "#roc-edema"


def test_bootstrap_summary_is_preferred_when_written(planted_run):
    from radiogenomics.utils.io import write_table

    write_table(
        pd.DataFrame(
            {
                "trait": ["edema"],
                "model": ["logreg_l2"],
                "diff_mean": [0.5],
                "diff_ci_low": [0.4],
                "diff_ci_high": [0.6],
            }
        ),
        planted_run / "bootstrap" / "tables" / "bootstrap_summary",
    )
    perf = performance_findings(RunFolder(planted_run)).set_index("trait")
    assert perf.loc["edema", "AUC difference"] == 0.5
    assert perf.loc["edema", "95% CI low"] == 0.4
    assert np.isnan(perf.loc["ncet", "AUC difference"])  # nothing compared for ncet


def test_drivers_come_from_the_driver_ranking_with_the_naive_peer_rank(planted_run):
    d = driver_findings(RunFolder(planted_run), top=3)
    assert d["source"].unique().tolist() == ["driver ranking: consensus"]
    edema = d[d.trait == "edema"]
    # the top 3 by the read-out's rank, and SET_D (rank 4) because it was called
    assert edema["set"].tolist() == ["SET_A", "SET_B", "SET_C", "SET_D"]
    assert edema["rank"].tolist() == [1, 2, 3, 4]
    assert edema["q"].tolist() == pytest.approx([0.01, 0.02, 0.03, 0.04])
    assert edema["called"].tolist() == [True, False, False, True]
    # the naive peer (correlation GSEA) beside it: its rank and NES of the same set
    assert edema["naive peer rank"].tolist() == [3, 2, 1, 0]
    assert edema["naive peer NES"].tolist() == pytest.approx([2.0, 1.0, 2.0 / 3, 0.5])
    # which way each set's programme score moves with the class
    assert edema["programme shift (SD)"].tolist() == pytest.approx([1.0, 0.5, 0.0, -0.5])
    # how many of the programme network's seeds put each set first
    assert edema["first with seeds"].tolist() == pytest.approx([2 / 3, 1 / 3, 0.0, 0.0])
    assert edema["evidence"].iloc[0] == "#" + anchor("gsea", "edema", "SET_A")
    assert (
        driver_findings(RunFolder(planted_run), top=1)["set"].tolist()
        == [
            "SET_A",
            "SET_D",
        ]
        * 2
    )


def test_drivers_fall_back_to_set_masking_and_gsea_when_no_driver_ranking(planted_factory):
    run = planted_factory(drivers=False)
    d = driver_findings(RunFolder(run), top=2)
    assert d["source"].unique().tolist() == ["gene-set masking"]
    edema = d[d.trait == "edema"].set_index("set")
    assert list(edema.index) == ["SET_A", "SET_B"]  # ordered by the masking q
    assert edema.loc["SET_A", "masking AUC"] == pytest.approx(0.8)
    # NES of the network's own GSEA ranking; rank of the set in the correlation peer's
    assert edema.loc["SET_A", "NES"] == pytest.approx(2.1)
    assert edema.loc["SET_A", "naive peer rank"] == 2  # SET_C (padj 0.002) is first
    assert edema.loc["SET_B", "naive peer rank"] == 3
    assert "programme shift (SD)" not in d.columns  # set masking has no programme scores
    assert "first with seeds" not in d.columns


def test_survival_lists_significant_traits_and_the_final_model(planted_run):
    s = survival_findings(RunFolder(planted_run)).set_index("variable")
    # univariate p < 0.05, plus the final model's variables; ncet (p 0.7) is left out
    assert set(s.index) == {"edema", "edema+SET_A", "age_over_median"}
    assert s.loc["edema+SET_A", "kind"] == "radiogenomic trait"
    assert s.loc["edema", "kind"] == "imaging trait"
    assert s.loc["age_over_median", "kind"] == "covariate"
    assert s.loc["edema+SET_A", "HR"] == 3.0 and s.loc["edema+SET_A", "patients"] == 38
    assert bool(s.loc["edema+SET_A", "in final model"]) and not bool(
        s.loc["edema", "in final model"]
    )
    assert s.loc["edema+SET_A", "adjusted HR"] == 2.7
    assert s.loc["edema+SET_A", "adjusted p"] == 0.008
    assert s.loc["edema", "evidence"] == "#km-os-edema"


def test_the_final_model_is_table3_not_the_clinical_imaging_comparison(planted_run):
    """The clinical + imaging model is the stepwise selection run without the radiogenomic
    traits (docs/survival.md); the final model the findings and the forest plot show is Table 3
    (it was the clinical + imaging one whenever the survival stage wrote it, dropping the
    radiogenomic traits the final model kept)."""
    from radiogenomics.utils.io import write_table

    write_table(
        pd.DataFrame(
            {
                "variable": ["edema"],
                "exp(coef)": [2.2],
                "exp(coef) lower 95%": [1.1],
                "exp(coef) upper 95%": [4.4],
                "p": [0.03],
            }
        ),
        planted_run / "survival" / "tables" / "os_cox_clinical_imaging_final_model",
    )
    s = survival_findings(RunFolder(planted_run)).set_index("variable")
    table3 = pd.read_parquet(planted_run / "survival" / "tables" / "os_cox_table3.parquet")
    assert set(s.index[s["in final model"].astype(bool)]) == set(table3["variable"])
    assert not bool(s.loc["edema", "in final model"])
    assert s.loc["edema+SET_A", "adjusted HR"] == 2.7


def test_missing_stages_give_none_and_say_so(planted_factory, tmp_path):
    run = planted_factory(survival=False)
    f = read_findings(RunFolder(run))
    assert f.survival is None and any("survival" in m for m in f.missing)
    empty = RunFolder(tmp_path / "nothing")
    f = read_findings(empty)
    assert f.performance is None and f.drivers is None and f.survival is None
    assert len(f.missing) == 3


def test_anchor_is_a_valid_html_id():
    assert anchor("gsea", "edema: >=1/3", "HALLMARK_HYPOXIA") == "gsea-edema-1-3-hallmark-hypoxia"
    assert anchor("km", "os", "age_over_median") == "km-os-age-over-median"
