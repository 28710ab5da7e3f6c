"""The hover figures of each report section, built from the run folder's tables.

Each builder returns :class:`Figure` blocks (plotly specs with an HTML id the findings link to)
and never fails on a missing table: a disabled stage simply has no figures. ``REPLACES`` names
the static figures (PNG/SVG in the run folder) an interactive one stands in for, so the page
does not carry both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from radiogenomics.report import charts
from radiogenomics.report.findings import _final_model, anchor, positive_classes, task_label
from radiogenomics.runfolder import RunFolder

SINGLE = "single_genes"
REPLACES = {
    "classifiers": ("oof_roc",),
    "bootstrap": ("bootstrap_differences",),
    "masking": ("masking_sets_auc", "masking_sets_ap"),
    # the radiogenomic KM panel (one curve pair per trait, MBs of PNG) and the forest plots;
    # the imaging and covariate KM panels stay (every trait at a glance, small)
    "survival": ("km_radiogenomic", "cox_forest"),
}
MAX_KM = 30  # Kaplan-Meier figures drawn (the findings' variables first)


@dataclass
class Figure:
    id: str
    title: str
    spec: dict
    caption: str = ""


def replaced(stage: str, stem: str) -> bool:
    """Whether the static figure ``stem`` of ``stage`` has an interactive version."""
    return any(p in stem for p in REPLACES.get(stage, ()))


def _positive_classes(folder: RunFolder, task: str, oof: pd.DataFrame) -> list[str]:
    tasks = folder.table_if_done("load", "tasks")
    if tasks is not None and "positive" in tasks.columns:
        row = tasks[tasks["task"].astype(str) == task]
        if len(row) and isinstance(row["positive"].iloc[0], str) and row["positive"].iloc[0]:
            return [row["positive"].iloc[0]]
    return sorted(oof.loc[oof["task"] == task, "class"].astype(str).unique())


def classifier_figures(folder: RunFolder) -> list[Figure]:
    oof = folder.table_if_done("classifiers", "oof")
    if oof is None or oof.empty:
        return []
    out = []
    for task in dict.fromkeys(oof["task"].astype(str)):
        spec = charts.roc_spec(oof, task, _positive_classes(folder, task, oof))
        if spec is not None:
            out.append(
                Figure(
                    anchor("roc", task),
                    f"{task}: out-of-fold ROC curve",
                    spec,
                    "Every patient scored by the fold model that did not see it (chosen "
                    "configuration). Hover for the threshold.",
                )
            )
    return out


def bootstrap_figures(folder: RunFolder) -> list[Figure]:
    diffs = folder.table_if_done("bootstrap", "bootstrap_differences")
    spec = charts.bootstrap_spec(diffs) if diffs is not None else None
    if spec is None:
        return []
    return [
        Figure(
            "bootstrap-differences",
            "Bootstrap AUC differences",
            spec,
            "One point per bootstrap repetition; above zero (dashed line) the network did "
            f"better. The dotted line at +{charts.PAPER_MARGIN:.2f} marks the margin by which the "
            "paper found its networks ahead of the baselines, a difference to compare with; the "
            "figure for papers (bootstrap_differences.png) draws both lines.",
        )
    ]


def masking_sets(folder: RunFolder) -> pd.DataFrame | None:
    """Gene-set (not single-gene) masking rows of the configured read-out."""
    table = folder.table_if_done("masking", "masking")
    if table is None or table.empty:
        return None
    readout = (folder.config().get("masking") or {}).get("readout")
    if readout is not None and "mode" in table.columns and readout in set(table["mode"]):
        table = table[table["mode"] == readout]
    return table[table["collection"] != SINGLE]


def masking_figures(folder: RunFolder, top: int = 8) -> list[Figure]:
    sets = masking_sets(folder)
    out = []
    for metric in ("auc", "ap"):
        spec = charts.masking_heatmap_spec(sets, metric, top) if sets is not None else None
        if spec is not None:
            out.append(
                Figure(
                    f"masking-heatmap-{metric}",
                    f"Gene-set masking {metric.upper()}",
                    spec,
                    "Each cell: the network's " + metric.upper() + " when only the set's genes "
                    "are kept. Hover for the BH-adjusted q against size-matched random sets.",
                )
            )
    return out


def single_gene_rankings(folder: RunFolder) -> tuple[dict[str, pd.Series], str]:
    """Per task label, each gene's single-gene masking score (the GSEA ranking), and its name."""
    table = folder.table_if_done("masking", "masking")
    cfg = folder.config()
    metric = ((cfg.get("enrichment") or {}).get("ranking") or "ap").lower()
    if table is None or table.empty or metric not in table.columns:
        return {}, metric
    readout = (cfg.get("masking") or {}).get("readout")
    single = table[table["collection"] == SINGLE]
    if readout is not None and "mode" in single.columns and readout in set(single["mode"]):
        single = single[single["mode"] == readout]
    out, pos = {}, positive_classes(folder)
    for (task, cls), g in single.groupby(["task", "class"], sort=False):
        out[task_label(task, cls, pos.get(task))] = g.set_index("set")[metric].astype(float)
    return out, f"single-gene masking {metric.upper()}"


def gsea_figures(folder: RunFolder, drivers: pd.DataFrame | None) -> list[Figure]:
    """Enrichment plots of the top driver sets, the running sum recomputed from the ranking.

    The ranking is the task's single-gene masking score the enrichment stage ranked genes by;
    the sets' genes come from the load stage's ``gene_sets`` table.
    """
    if drivers is None or drivers.empty:
        return []
    rankings, name = single_gene_rankings(folder)
    members = folder.table_if_done("load", "gene_sets")
    if not rankings or members is None:
        return []
    genes = members.groupby("set")["gene"].agg(lambda g: set(map(str, g)))
    out, seen = [], set()
    for r in drivers.to_dict("records"):
        fig_id = anchor("gsea", r["trait"], r["set"])
        ranking = rankings.get(r["trait"])
        if fig_id in seen or ranking is None or r["set"] not in genes.index:
            continue
        hits = genes[r["set"]] & set(ranking.index)
        if not hits or len(hits) == len(ranking):
            continue
        curve = charts.running_sum(ranking, hits)
        seen.add(fig_id)
        out.append(
            Figure(
                fig_id,
                f"{r['trait']}: {r['set']}",
                charts.gsea_spec(curve, f"{r['trait']}: {r['set']}", name),
                f"{len(hits)} genes of the set among {len(ranking)} ranked; hover a tick for "
                "the gene.",
            )
        )
    return out


def km_groups(folder: RunFolder, variables: list[str]) -> dict[str, tuple[str, str]]:
    """Variable -> the names of its Kaplan-Meier groups 0 and 1: an imaging trait's classes
    (load stage's task table: the positive class and the other), absent/present for a
    radiogenomic trait, female/male and the like for the covariates."""
    from radiogenomics.report.findings import variable_kind
    from radiogenomics.survival.plots import COVARIATE_GROUPS, group_labels

    tasks = folder.table_if_done("load", "tasks")
    imaging = {}
    if tasks is not None and "task" in tasks.columns:
        for r in tasks.to_dict("records"):
            pos = r.get("positive")
            if not isinstance(pos, str) or not pos:
                continue
            cells = r.get("classes") if isinstance(r.get("classes"), str) else ""
            names = [c.rsplit(":", 1)[0].strip() for c in cells.split("|") if c.strip()]
            others = [c for c in names if c != pos]
            imaging[str(r["task"])] = (others[0] if len(others) == 1 else f"not {pos}", pos)
    radiogenomic = [v for v in variables if variable_kind(v, set(imaging)) == "radiogenomic trait"]
    return group_labels(COVARIATE_GROUPS, imaging, radiogenomic)


def survival_figures(folder: RunFolder, findings: pd.DataFrame | None) -> list[Figure]:
    """A forest plot of each outcome's final model and KM curves of the findings' variables."""
    if not folder.done("survival"):
        return []
    out = []
    outcomes = []
    if findings is not None and len(findings):
        outcomes = list(dict.fromkeys(findings["outcome"].str.lower()))
    for outcome in outcomes:
        spec = charts.forest_spec(_final_model(folder, outcome), outcome)
        if spec is not None:
            out.append(
                Figure(
                    anchor("forest", outcome),
                    f"{outcome.upper()}: final multivariable Cox model",
                    spec,
                    "Adjusted hazard ratios with 95% intervals (log scale).",
                )
            )
    drawn = 0
    for outcome in outcomes:
        name = f"{outcome}_km_curves"
        if not folder.has_table("survival", name):
            continue
        curves = folder.table("survival", name)
        logrank = (
            folder.table("survival", f"{outcome}_logrank").set_index("variable")
            if folder.has_table("survival", f"{outcome}_logrank")
            else pd.DataFrame()
        )
        rows = findings[findings["outcome"].str.lower() == outcome]
        groups = km_groups(folder, [str(v) for v in rows["variable"]])
        for var in dict.fromkeys(rows["variable"]):
            if drawn >= MAX_KM:
                break
            p = float(logrank.loc[var, "p"]) if var in logrank.index and "p" in logrank else None
            spec = charts.km_spec(curves, var, outcome, p, groups.get(str(var)))
            if spec is None:
                continue
            drawn += 1
            out.append(
                Figure(
                    anchor("km", outcome, var),
                    f"{outcome.upper()}: {var}",
                    spec,
                    "Kaplan-Meier estimate per group; hover for the patients at risk.",
                )
            )
    return out


def first_existing(ids: set[str], *candidates: str) -> str:
    """The first link whose target (without '#') is among ``ids``; the last one otherwise."""
    for c in candidates:
        if c.lstrip("#") in ids:
            return c
    return candidates[-1]


def relink(table: pd.DataFrame | None, ids: set[str], fallback: str) -> pd.DataFrame | None:
    """Point each ``evidence`` link at an element the page has, else at ``fallback``."""
    if table is None or "evidence" not in table.columns:
        return table
    t = table.copy()
    t["evidence"] = [first_existing(ids, str(e), fallback) for e in t["evidence"]]
    return t


def finite(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and bool(np.isfinite(x))
