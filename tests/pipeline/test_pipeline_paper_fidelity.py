"""The paper's analyses from one run, each checked against an independent computation.

A small synthetic study with two gene-set collections: GSEA per collection with the masking and
the correlation rankings side by side (BH within task x ranking x collection), the driver query
and its Table 2 summary, clustered heatmaps, and the clinical + imaging Cox model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.cluster.hierarchy import leaves_list, linkage

from radiogenomics.config import load_config
from radiogenomics.enrichment import gsea_many
from radiogenomics.interpret.correlation import correlation_ranking
from radiogenomics.pipeline import run_study
from radiogenomics.runfolder import RunFolder
from study_configs import synthetic_study

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fidelity")
    study = synthetic_study(
        out,
        name="fidelity",
        seed=3,
        n_patients=140,
        n_genes=700,
        executor={"kind": "local", "workers": 1},
        masking={
            "null_draws": 5,
            "top": 5,
            "driver_genes": ["G00001", "G00002"],
            "driver_keywords": ["EMT"],
        },
        survival={"outcomes": ["os"]},
    )
    study["bootstrap"] = {"enabled": False}
    cfg = load_config(data=study)
    # two collections: the planted programmes and the decoys, from the cohort's one GMT
    outcomes = run_study(cfg, until="load")
    assert outcomes[0].status == "done"
    gmt = cfg.run_dir / "cohort" / "gene_sets.gmt"
    lines = gmt.read_text().splitlines()
    decoy = [ln.startswith("SYN_DECOY") for ln in lines]
    (gmt.parent / "programmes.gmt").write_text(
        "\n".join(ln for ln, d in zip(lines, decoy, strict=True) if not d) + "\n"
    )
    (gmt.parent / "others.gmt").write_text(
        "\n".join(ln for ln, d in zip(lines, decoy, strict=True) if d) + "\n"
    )
    study["data"]["gene_sets"] = [
        {"name": "programmes", "path": "programmes.gmt", "min_size": 15},
        {"name": "others", "path": "others.gmt", "min_size": 15},
    ]
    cfg = load_config(data=study)
    outcomes = run_study(cfg)
    status = {o.stage: o.status for o in outcomes}
    assert status["enrichment"] == "done" and status["survival"] == "done", status
    return cfg, RunFolder(cfg.run_dir)


def test_gsea_per_collection_with_the_correlation_ranking_beside_masking(run):
    cfg, folder = run
    gsea = folder.table("enrichment", "gsea")
    assert {"task", "ranking", "collection"} <= set(gsea.columns)
    assert set(gsea["ranking"]) == {"masking_ap", "correlation"}
    assert set(gsea["collection"]) == {"programmes", "others"}
    # padj is BH within (task, ranking, collection), recomputed by hand
    for _, g in gsea.groupby(["task", "ranking", "collection"]):
        p = g["pval"].to_numpy()
        order = np.argsort(p)
        adj = p[order] * len(p) / np.arange(1, len(p) + 1)
        adj = np.minimum.accumulate(adj[::-1])[::-1].clip(max=1)
        want = np.empty_like(adj)
        want[order] = adj
        np.testing.assert_allclose(g["padj"].to_numpy(), want, rtol=1e-12)


def test_correlation_gsea_equals_a_direct_call(run):
    cfg, folder = run
    gsea = folder.table("enrichment", "gsea")
    expr = pd.read_parquet(folder.stage_dir("load") / "expression.parquet")
    targets = folder.table("load", "targets", index="patient")
    tasks = folder.table("load", "tasks").set_index("task")
    task = "edema"
    y = targets[task].dropna().astype(str)
    y = y[y.index.isin(expr.index)].rename(task)
    pos = tasks.loc[task, "positive"]
    neg = next(c for c in sorted(y.unique()) if c != pos)
    ranking = correlation_ranking(expr, y, [neg, pos]).rename(columns={pos: task})
    sets = folder.table("load", "gene_sets")
    programmes = {
        s: list(g["gene"]) for s, g in sets[sets["collection"] == "programmes"].groupby("set")
    }
    from radiogenomics.utils.seeding import derive_seed

    e = cfg.enrichment
    direct = gsea_many(
        ranking, programmes, seed=derive_seed(cfg.seed, "enrichment", "gsea"), **e.gsea_kwargs()
    ).table.set_index("set")
    got = gsea[
        (gsea["task"] == task)
        & (gsea["ranking"] == "correlation")
        & (gsea["collection"] == "programmes")
    ].set_index("set")
    assert set(got.index) == set(direct.index)
    for col in ("es", "nes", "pval", "padj"):
        np.testing.assert_allclose(got.loc[direct.index, col], direct[col], rtol=1e-9)


def test_masking_records_the_driver_query_and_the_table2_summary(run):
    _, folder = run
    masking = folder.table("masking", "masking")
    assert "query" in masking.columns and "driver_query" in set(masking["collection"])
    sets = folder.table("load", "gene_sets")
    holders = set(sets.loc[sets["gene"].isin(["G00001", "G00002"]), "set"])
    found = masking.loc[masking["query"].str.contains("G0000", na=False), "set"]
    assert set(found) == holders  # exactly the sets holding a queried gene
    table2 = folder.table("masking", "table2")
    assert {"task", "collection", "set", "query", "auc", "ap", "top_by"} <= set(table2.columns)


def test_masking_heatmaps_are_ordered_by_hierarchical_clustering(run):
    cfg, folder = run
    order = folder.table("masking", "masking_sets_ap_order")
    masking = folder.table("masking", "masking")
    sets = masking[
        (masking["mode"] == cfg.masking.readout) & (masking["collection"] != "single_genes")
    ]
    sets = sets.assign(
        column=np.where(
            sets["task"] == sets["class"],
            sets["task"],
            sets["task"] + ": " + sets["class"].astype(str),
        )
    )
    from radiogenomics.utils.heatmaps import heatmap_matrix

    mat, _ = heatmap_matrix(sets, "ap", rows="set", columns="column", top=cfg.masking.top)
    leaves = leaves_list(linkage(mat.to_numpy(dtype=float), method="complete"))
    assert list(order["set"]) == [str(mat.index[i]) for i in leaves]
    assert (folder.stage_dir("masking") / "figures" / "masking_sets_ap.png").is_file()


def test_clinical_imaging_cox_model_is_written_and_compared(run):
    from radiogenomics.survival.stepwise import cox_stepwise

    cfg, folder = run
    final = folder.table("survival", "os_cox_clinical_imaging_final_model")
    variables = folder.table("survival", "variables", index="patient")
    forced = ["gender_male", "race_white", "age_over_median"]
    rg = [c for c in variables.columns if " + " in c]
    imaging = ["edema", "ncet"]
    # the same selection, called directly on the complete cases of the full analysis
    rows = variables.dropna(subset=["os_days", "os_event", *forced, *imaging, *rg])
    direct = cox_stepwise(rows, "os_days", "os_event", imaging, forced, "both", "aic")
    assert sorted(final["variable"]) == sorted(direct.variables)
    assert not set(final["variable"]) & set(rg)  # no radiogenomic trait in it
    comparison = folder.table("survival", "model_comparison")
    assert set(comparison["outcome"]) == {"OS"}
    assert comparison["comparison"].str.contains("clinical").any()
    assert comparison["aic_difference"].notna().all()
    assert (
        folder.stage_dir("survival") / "tables" / "os_cox_clinical_imaging_final_model.csv"
    ).is_file()


def test_the_results_summary_reads_what_the_run_folder_holds(run):
    """docs/results.md quotes a pipeline run through summarise_study: its numbers are the run's."""
    from scipy.stats import chi2

    from radiogenomics.errors import InputError
    from radiogenomics.validation.study_summary import summarise_study

    cfg, folder = run
    summary = summarise_study(cfg.run_dir)
    # the run time it quotes covers every stage that finished, the drivers included
    finished = [s for s in folder.root.iterdir() if (s / "manifest.json").is_file()]
    done = {s.name for s in finished if folder.manifest(s.name).get("status") == "done"}
    assert {r["stage"] for r in summary["stages"]} == done and "drivers" in done
    chosen = folder.table("classifiers", "chosen")
    assert [c["pooled_auc"] for c in summary["classifiers"]["chosen"]] == pytest.approx(
        list(chosen["pooled_auc"])
    )
    assert {b["model"] for b in summary["classifiers"]["baselines"]} == {"logreg_l2"}
    # the top set of every (task, ranking, collection), found here without the summary's code
    gsea = folder.table("enrichment", "gsea")
    top = {(r["task"], r["ranking"], r["collection"]): r for r in summary["gsea"]["top"]}
    assert len(top) == gsea.groupby(["task", "ranking", "collection"]).ngroups
    for (task, ranking, coll), g in gsea.groupby(["task", "ranking", "collection"]):
        best = g.loc[g["nes"].idxmax()]
        row = top[(task, ranking, coll)]
        assert (row["set"], row["nes"]) == (best["set"], pytest.approx(best["nes"]))
        assert row["n_significant"] == int(((g["padj"] < 0.05) & (g["nes"] > 0)).sum())
    # the survival comparison: full model against clinical + imaging only, LR p from chi2
    (os_row,) = summary["survival"]
    assert os_row["outcome"] == "OS" and os_row["lr_statistic"] >= 0
    if os_row["df"] > 0:
        assert os_row["p"] == pytest.approx(chi2.sf(os_row["lr_statistic"], os_row["df"]))
    else:  # stepwise kept no radiogenomic trait: the two models are the same
        assert os_row["p"] == 1.0 and os_row["lr_statistic"] == pytest.approx(0.0, abs=1e-9)
    assert [s["stage"] for s in summary["stages"]][:2] == ["load", "autoencoder"]
    # no own-set rows without the Verhaak collection; a folder that is not a run is refused
    assert summary["own_set_masking"] == [] and summary["gsea"]["own_set"] == []
    with pytest.raises(InputError, match="not a finished run"):
        summarise_study(cfg.run_dir / "masking")
