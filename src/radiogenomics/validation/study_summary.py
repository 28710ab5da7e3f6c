"""The numbers docs/results.md quotes from a finished pipeline run, read from its run folder.

The results page used to recompute the subtype study by hand (its own expression filter, its own
GSEA calls); the pipeline now does all of it from a study file, so the page reads what a user's
run folder holds. :func:`summarise_study` returns plain JSON-able data: the chosen network
against the baselines, each class's own validation set under masking and under both GSEA
rankings, the best set of every collection, and the survival models with and without the
radiogenomic traits.
"""

from __future__ import annotations

import json
import os
from typing import Any

import pandas as pd

from radiogenomics.config import STAGES
from radiogenomics.errors import InputError
from radiogenomics.runfolder import RunFolder

#: The collection that holds the Verhaak subtype signatures (one set per class).
OWN_SET_COLLECTION = "verhaak_subtypes"


def _records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(df.to_json(orient="records"))


def stage_times(folder: RunFolder, stages: list[str]) -> list[dict[str, Any]]:
    """Wall and CPU seconds of each finished stage, from its manifest."""
    rows = []
    for stage in stages:
        m = folder.manifest(stage)
        if m and m.get("status") == "done":
            rows.append(
                {"stage": stage, "seconds": m.get("seconds"), "cpu_seconds": m.get("cpu_seconds")}
            )
    return rows


def classifier_summary(folder: RunFolder) -> dict[str, Any]:
    """The chosen network per task beside each baseline's CV AUC."""
    chosen = folder.table("classifiers", "chosen")
    cols = ["task", "config", "n_patients", "folds", "auc_mean", "auc_sd", "pooled_auc"]
    cols += ["retrained_auc", "median_best_epoch"]
    out: dict[str, Any] = {"chosen": _records(chosen[[c for c in cols if c in chosen]])}
    b = folder.table_if_done("baselines", "baseline_cv_summary")
    if b is not None:
        out["baselines"] = _records(b[["trait", "model", "auc_mean", "auc_sd", "params"]])
    return out


def own_set_masking(folder: RunFolder) -> list[dict[str, Any]]:
    """Each class's own set (same name as the class) in the validation collection: masking AUC
    and AP, its null p, and its rank by AP among that collection's sets, per masking mode."""
    m = folder.table("masking", "masking")
    m = m[m["collection"] == OWN_SET_COLLECTION]
    rows = []
    for (mode, cls), g in m.groupby(["mode", "class"], sort=True):
        own = g[g["set"] == cls]
        if own.empty:
            continue
        r = own.iloc[0]
        rank = int((g["ap"] > r["ap"]).sum()) + 1
        rows.append(
            {
                "mode": mode,
                "class": cls,
                "size": int(r["size"]),
                "auc": float(r["auc"]),
                "ap": float(r["ap"]),
                "p_ap": float(r["p_ap"]),
                "rank_ap": rank,
                "n_sets": len(g),
            }
        )
    return rows


def gsea_summary(folder: RunFolder) -> dict[str, list[dict[str, Any]]]:
    """Per ranking (masking AP, correlation): each class's own set in the validation collection
    (NES, padj within the collection, rank), and the top set of every collection, per task and
    class (a binary task's class is its positive class)."""
    g = folder.table("enrichment", "gsea")
    own_rows, top_rows = [], []
    for (ranking, collection, task, _), sub in g.groupby(
        ["ranking", "collection", "task", "class"]
    ):
        sub = sub.sort_values("nes", ascending=False)
        top = sub.iloc[0]
        top_rows.append(
            {
                "ranking": ranking,
                "collection": collection,
                "task": task,
                "class": top["class"],
                "set": top["set"],
                "nes": float(top["nes"]),
                "padj": float(top["padj"]),
                "n_sets": len(sub),
                "n_significant": int(((sub["padj"] < 0.05) & (sub["nes"] > 0)).sum()),
            }
        )
        own = sub[sub["set"] == top["class"]] if collection == OWN_SET_COLLECTION else sub[:0]
        if not own.empty:
            r = own.iloc[0]
            own_rows.append(
                {
                    "ranking": ranking,
                    "task": task,
                    "class": r["class"],
                    "nes": float(r["nes"]),
                    "padj": float(r["padj"]),
                    "rank": int((sub["nes"] > r["nes"]).sum()) + 1,
                    "n_sets": len(sub),
                }
            )
    return {"own_set": own_rows, "top": top_rows}


def survival_summary(folder: RunFolder) -> list[dict[str, Any]]:
    """Per outcome: the full model (clinical, imaging and radiogenomic traits) against the same
    stepwise selection without the radiogenomic traits (likelihood ratio and AIC)."""
    c = folder.table_if_done("survival", "model_comparison")
    if c is None:
        return []
    c = c[c["comparison"] == "full vs clinical+imaging"]
    keep = ["outcome", "n", "events", "larger_variables", "smaller_variables", "lr_statistic"]
    keep += ["df", "p", "aic_larger", "aic_smaller", "aic_difference"]
    return _records(c[[k for k in keep if k in c]])


def summarise_study(run_dir: str | os.PathLike) -> dict[str, Any]:
    """Everything docs/results.md quotes from a finished run of the pipeline (see module doc)."""
    folder = RunFolder(run_dir)
    cfg_path = folder.root / "config.json"
    if not cfg_path.is_file() or not folder.done("enrichment"):
        raise InputError(
            f"{folder.root} is not a finished run",
            field="run folder",
            expected="a folder written by `radiogenomics run` through the enrichment stage",
        )
    return {
        "run_dir": str(folder.root),
        "config": folder.config(),
        "stages": stage_times(folder, list(STAGES)),  # every stage, the drivers included
        "classifiers": classifier_summary(folder),
        "own_set_masking": own_set_masking(folder),
        "gsea": gsea_summary(folder),
        "survival": survival_summary(folder),
    }


__all__ = ["OWN_SET_COLLECTION", "summarise_study"]
