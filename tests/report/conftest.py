"""A run folder as the pipeline leaves it, with planted numbers the report must show."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.config import load_config, to_toml
from radiogenomics.utils.io import write_json, write_table

TRAITS = ("edema", "ncet")
DIFF_MEANS = {
    ("edema", "logreg_l2"): 0.05,
    ("edema", "svm_rbf"): 0.02,
    ("ncet", "logreg_l2"): -0.03,
}


def _done(run, stage):
    write_json(run / stage / "manifest.json", {"status": "done", "seconds": 1.0})


def _table(run, stage, name, df):
    write_table(df, run / stage / "tables" / name)


def make_run(tmp_path, drivers: bool = True, survival: bool = True):
    """Classifiers, baselines, bootstrap, masking, enrichment, (drivers,) survival."""
    rng = np.random.default_rng(0)
    run = tmp_path / "runs" / "planted"
    cfg = load_config(
        data={"name": "planted", "seed": 3, "data": {"expression": "e.tsv"}}, check_files=False
    )
    run.mkdir(parents=True)
    (run / "config.toml").write_text(to_toml(cfg.effective()))
    write_json(run / "config.json", cfg.effective())
    _done(run, "load")
    _table(
        run,
        "load",
        "tasks",
        pd.DataFrame({"task": list(TRAITS), "positive": [">=1/3", ">=1/3"], "kept": True}),
    )
    genes = [f"G{i:03d}" for i in range(60)]
    sets = {"SET_A": genes[:8], "SET_B": genes[20:30], "SET_C": genes[40:46]}
    _table(
        run,
        "load",
        "gene_sets",
        pd.DataFrame(
            [("programmes", s, g) for s, gs in sets.items() for g in gs],
            columns=["collection", "set", "gene"],
        ),
    )
    # classifiers: chosen configuration and out-of-fold probabilities
    _done(run, "classifiers")
    _table(
        run,
        "classifiers",
        "chosen",
        pd.DataFrame(
            {
                "task": list(TRAITS),
                "n_patients": [40, 40],
                "auc_mean": [0.91, 0.72],
                "auc_sd": [0.03, 0.05],
                "ap_mean": [0.85, 0.6],
            }
        ),
    )
    rows = []
    for task in TRAITS:
        for i in range(40):
            label = ">=1/3" if i % 3 == 0 else "<1/3"
            p = float(np.clip(0.5 + (0.3 if label == ">=1/3" else -0.2) + rng.normal(0, 0.2), 0, 1))
            rows += [(task, f"P{i}", ">=1/3", p, label), (task, f"P{i}", "<1/3", 1 - p, label)]
    _table(
        run,
        "classifiers",
        "oof",
        pd.DataFrame(rows, columns=["task", "patient", "class", "proba", "label"]),
    )
    # baselines: the best is logreg_l2 for edema and svm_rbf for ncet
    _done(run, "baselines")
    _table(
        run,
        "baselines",
        "baseline_cv_summary",
        pd.DataFrame(
            {
                "trait": ["edema", "edema", "ncet", "ncet"],
                "model": ["logreg_l2", "svm_rbf", "logreg_l2", "svm_rbf"],
                "auc_mean": [0.88, 0.85, 0.70, 0.74],
            }
        ),
    )
    # bootstrap: per repetition differences around planted means (ncet has no svm_rbf)
    _done(run, "bootstrap")
    diffs = [
        (t, m, r, mu + rng.normal(0, 0.02)) for (t, m), mu in DIFF_MEANS.items() for r in range(40)
    ]
    _table(
        run,
        "bootstrap",
        "bootstrap_differences",
        pd.DataFrame(diffs, columns=["trait", "model", "rep", "difference"]),
    )
    # masking: single genes (the GSEA ranking) and sets
    _done(run, "masking")
    mrows = []
    for task in TRAITS:
        for j, g in enumerate(genes):
            ap = 0.9 - 0.01 * j if task == "edema" else 0.3 + 0.01 * j
            mrows.append((task, ">=1/3", "out_of_fold", "single_genes", g, 1, ap, ap, np.nan))
        for k, s in enumerate(sets):
            mrows.append(
                (  # binary tasks: masking names the positive class
                    task,
                    ">=1/3",
                    "out_of_fold",
                    "programmes",
                    s,
                    len(sets[s]),
                    0.8 - 0.1 * k,
                    0.7 - 0.1 * k,
                    0.01 * (k + 1),
                )
            )
    masking = pd.DataFrame(
        mrows, columns=["task", "class", "mode", "collection", "set", "size", "auc", "ap", "q_ap"]
    )
    _table(run, "masking", "masking", masking)
    top = masking[masking["collection"] != "single_genes"].sort_values(["task", "q_ap"])
    _table(run, "masking", "top_sets", top.reset_index(drop=True))
    _done(run, "enrichment")
    gsea = pd.DataFrame(
        [  # the enrichment stage's layout: the plain task, the class (a binary task's positive
            # class) in its own column, for the masking and the correlation ranking alike
            (t, ">=1/3", r, "programmes", s, nes, p)
            for t in TRAITS
            for (s, r, nes, p) in (
                ("SET_A", "masking_ap", 2.1, 0.001),
                ("SET_B", "masking_ap", -1.0, 0.5),
                ("SET_C", "masking_ap", 0.5, 0.9),
                ("SET_A", "correlation", 1.0, 0.2),
                ("SET_B", "correlation", 0.2, 0.8),
                ("SET_C", "correlation", 1.9, 0.002),
            )
        ],
        columns=["task", "class", "ranking", "collection", "set", "nes", "padj"],
    )
    _table(run, "enrichment", "gsea", gsea)
    keys = ["task", "class", "ranking", "collection"]
    _table(run, "enrichment", "gsea_top", gsea.sort_values([*keys, "padj"], kind="stable"))
    if drivers:
        # the drivers stage's table: SET_D (rank 4) is called though outside the top 3
        _done(run, "drivers")
        rows = [
            (  # binary tasks: the driver ranking names the positive class
                t,
                ">=1/3",
                "programmes",
                s,
                "consensus",
                rank,
                0.9 - 0.1 * rank,
                0.8 - 0.1 * rank,
                0.01 * rank,
                rank == 1 or s == "SET_D",
                2.0 / rank,
                4 - rank,
                1.5 - 0.5 * rank,  # SET_C's programme score: no shift; SET_D's: lower
                # edema's top set is first with 2 of 3 programme-network seeds, ncet's with all
                {1: 2 / 3, 2: 1 / 3}.get(rank, 0.0) if t == "edema" else float(rank == 1),
            )
            for t in TRAITS
            for rank, s in enumerate([*sets, "SET_D"], start=1)
        ]
        table = pd.DataFrame(
            rows,
            columns=[
                "task",
                "class",
                "collection",
                "set",
                "readout",
                "rank",
                "masking_auc",
                "masking_ap",
                "q",
                "called",
                "correlation_nes",
                "correlation_rank",
                "programme_shift",
                "first_share",
            ],
        )
        _table(run, "drivers", "drivers", table)
        _table(run, "drivers", "drivers_top", table.drop(columns="readout"))
    if survival:
        _done(run, "survival")
        uni = pd.DataFrame(
            {
                "variable": ["edema", "ncet", "edema+SET_A", "age_over_median"],
                "n": [40, 40, 38, 40],
                "events": [30, 30, 29, 30],
                "hr": [2.0, 1.1, 3.0, 1.5],
                "ci_low": [1.2, 0.6, 1.5, 0.8],
                "ci_high": [3.3, 2.0, 6.0, 2.8],
                "p": [0.01, 0.7, 0.002, 0.2],
            }
        )
        _table(run, "survival", "os_cox_univariate", uni)
        _table(
            run,
            "survival",
            "os_cox_table3",
            pd.DataFrame(
                {
                    "variable": ["age_over_median", "edema+SET_A"],
                    "hr_adjusted": [1.4, 2.7],
                    "ci_low_adjusted": [0.7, 1.3],
                    "ci_high_adjusted": [2.6, 5.5],
                    "p_adjusted": [0.3, 0.008],
                }
            ),
        )
        km = []
        for var in ("edema", "edema+SET_A", "age_over_median"):
            for group in (0, 1):
                for k, t in enumerate((100.0, 200.0, 300.0)):
                    km.append((var, group, t, 20 - 5 * k, 0.9 - 0.2 * k - 0.1 * group))
        _table(
            run,
            "survival",
            "os_km_curves",
            pd.DataFrame(km, columns=["variable", "group", "time", "n_risk", "survival"]),
        )
        _table(
            run,
            "survival",
            "os_logrank",
            pd.DataFrame({"variable": ["edema", "edema+SET_A"], "p": [0.02, 0.001]}),
        )
    return run


@pytest.fixture
def planted_run(tmp_path):
    return make_run(tmp_path)


@pytest.fixture
def planted_factory(tmp_path):
    """``make(drivers=..., survival=...)``: a planted run folder with parts left out."""
    return lambda **kw: make_run(tmp_path, **kw)
