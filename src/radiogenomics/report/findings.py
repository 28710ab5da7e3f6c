"""What the study found, read from a run folder: the report's opening summary.

Three tables, each row naming the section of the report that holds its evidence:

* :func:`performance_findings`: per trait, the network's CV AUC, the best baseline's, and the
  bootstrap difference (network minus that baseline) with its 95% interval and the number of
  resamples it comes from (paper Fig. 4).
* :func:`driver_findings`: per task (and class), the top driver sets of the drivers stage's
  ranking (its read-out's rank, q and calls, masking AUC/AP) with the naive correlation peer's
  rank and NES of the same set; without that stage, the top sets of gene-set masking.
* :func:`survival_findings`: the traits whose univariate Cox p is below ``alpha`` and every
  variable of the final multivariable model (the paper's Table 3 layout), per outcome, with
  the BH q over the outcome's univariate tests (:func:`survival_tests` counts them);
  :func:`survival_cohort` says which patients the survival analysis used.

Every reader tolerates a disabled stage or a missing table: it returns ``None`` and the report
says what is missing. Tables written by newer stages (``drivers/tables/drivers``, the
``collection``/``ranking`` columns of ``gsea``) are used when present.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.runfolder import RunFolder
from radiogenomics.utils.stats import benjamini_hochberg

COVARIATES = ("gender_male", "race_white", "age_over_median")
NAIVE_RANKING = "correlation"  # the naive peer's ranking in enrichment/tables/gsea


def anchor(*parts: object) -> str:
    """An HTML id from parts ("gsea", "edema", "SYN_HYPOXIA" -> "gsea-edema-syn-hypoxia")."""
    text = "-".join(str(p) for p in parts if p is not None and str(p) != "")
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def task_label(task: str, cls: object, positive: str | None = None) -> str:
    """``task`` for a binary task (class empty, the task itself or its ``positive`` class),
    ``task: class`` for a class of a multi-class task."""
    cls = "" if cls is None or (isinstance(cls, float) and np.isnan(cls)) else str(cls)
    return task if cls in ("", task) or cls == positive else f"{task}: {cls}"


def positive_classes(folder: RunFolder) -> dict[str, str]:
    """task -> positive class of each binary task (from the load stage's task table)."""
    tasks = folder.table_if_done("load", "tasks")
    if tasks is None or "positive" not in tasks.columns:
        return {}
    return {
        str(t): str(p)
        for t, p in zip(tasks["task"], tasks["positive"], strict=True)
        if isinstance(p, str) and p
    }


@dataclass
class Findings:
    performance: pd.DataFrame | None = None
    drivers: pd.DataFrame | None = None
    survival: pd.DataFrame | None = None
    missing: list[str] = field(default_factory=list)  # what could not be summarised, and why
    # outcome (upper case) -> univariate Cox tests made: the multiple-testing context of p
    survival_tests: dict[str, int] = field(default_factory=dict)
    survival_cohort: SurvivalCohort | None = None


@dataclass
class SurvivalCohort:
    """The patients the survival stage analysed: ``patients`` (its variables table: the
    labelled patients with expression), ``labelled_by`` (what labels them: "imaging labels" or
    "a subtype label") and, from the load stage's cohort summary, ``with_outcome`` (outcome ->
    patients of the whole cohort with it, labelled or not)."""

    patients: int
    labelled_by: str
    with_outcome: dict[str, int] = field(default_factory=dict)


def _table(folder: RunFolder, stage: str, name: str) -> pd.DataFrame | None:
    return folder.table_if_done(stage, name)


# ------------------------------------------------------------------------------- performance
def _bootstrap_differences(folder: RunFolder) -> pd.DataFrame | None:
    """trait, model, diff_mean, diff_ci_low, diff_ci_high (network minus model), n_reps (the
    resamples behind the interval: a 95% interval over a handful of them means little)."""
    summary = _table(folder, "bootstrap", "bootstrap_summary")
    diffs = _table(folder, "bootstrap", "bootstrap_differences")
    counts = None
    if diffs is not None and not diffs.empty:
        g = diffs.groupby(["trait", "model"], sort=False)["difference"]
        counts = g.count().rename("n_reps")
    cols = ["trait", "model", "diff_mean", "diff_ci_low", "diff_ci_high"]
    if summary is not None and set(cols) <= set(summary.columns):
        out = summary.dropna(subset=["diff_mean"])
        if "n_reps" not in out.columns:
            keys = pd.MultiIndex.from_frame(out[["trait", "model"]])
            reps = counts.reindex(keys).to_numpy() if counts is not None else np.nan
            out = out.assign(n_reps=reps)
        return out[[*cols, "n_reps"]]
    if counts is None:
        return None
    return g.agg(
        diff_mean="mean",
        diff_ci_low=lambda d: np.percentile(d, 2.5),
        diff_ci_high=lambda d: np.percentile(d, 97.5),
        n_reps="count",
    ).reset_index()


def bootstrap_resamples(folder: RunFolder) -> list[int]:
    """The distinct numbers of bootstrap resamples behind the run's AUC-difference intervals."""
    diffs = _bootstrap_differences(folder)
    if diffs is None:
        return []
    return sorted({int(n) for n in diffs["n_reps"] if np.isfinite(n)})


def performance_findings(folder: RunFolder) -> pd.DataFrame | None:
    """Per trait: CV AUC/AP of the network, best baseline and the bootstrap difference."""
    chosen = _table(folder, "classifiers", "chosen")
    if chosen is None or chosen.empty:
        return None
    out = pd.DataFrame(
        {
            "trait": chosen["task"].astype(str),
            "patients": chosen.get("n_patients"),
            "CV AUC": chosen["auc_mean"],
            "AUC sd": chosen.get("auc_sd"),
            "CV AP": chosen.get("ap_mean"),
        }
    )
    base = _table(folder, "baselines", "baseline_cv_summary")
    if base is not None and not base.empty:
        best = base.sort_values("auc_mean", ascending=False, kind="stable").groupby("trait").head(1)
        best = best.set_index("trait")
        out["best baseline"] = out["trait"].map(best["model"])
        out["baseline AUC"] = out["trait"].map(best["auc_mean"])
    diffs = _bootstrap_differences(folder)
    if diffs is not None:
        rows = []
        for r in out.to_dict("records"):
            d = diffs[diffs["trait"] == r["trait"]]
            model = r.get("best baseline")
            if model in set(d["model"]):
                d = d[d["model"] == model]
            elif len(d):  # the baseline the bootstrap compared that comes closest
                d = d.sort_values("diff_mean").head(1)
            rows.append(d.iloc[0].to_dict() if len(d) else {})
        d = pd.DataFrame(rows, index=out.index)
        out["bootstrap vs"] = d.get("model")
        out["AUC difference"] = d.get("diff_mean")
        out["95% CI low"] = d.get("diff_ci_low")
        out["95% CI high"] = d.get("diff_ci_high")
        out["resamples"] = d.get("n_reps")
    out["evidence"] = [
        f"#{anchor('roc', t)}" if folder.done("classifiers") else "#classifiers"
        for t in out["trait"]
    ]
    return out.reset_index(drop=True)


# ----------------------------------------------------------------------------------- drivers
def _gsea_lookup(gsea: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """The network's GSEA rows and the naive peer's (``ranking == correlation``), if any."""
    if gsea is None or gsea.empty:
        return None, None
    if "ranking" in gsea.columns:
        naive = gsea[gsea["ranking"] == NAIVE_RANKING]
        own = gsea[gsea["ranking"] != NAIVE_RANKING]
        return own, (naive if len(naive) else None)
    return gsea, None


def _with_ranks(gsea: pd.DataFrame) -> pd.DataFrame:
    """GSEA rows with the rank of each set within its task and class (and collection), best
    NES first: a multi-class task's classes are ranked apart."""
    keys = ["task", "class"] + (["collection"] if "collection" in gsea.columns else [])
    if "ranking" in gsea.columns:
        keys.append("ranking")
    g = gsea.sort_values(["padj", "nes"], ascending=[True, False], kind="stable")
    g = g.assign(rank=g.groupby(keys, sort=False).cumcount() + 1)
    return g


def _ranked_drivers(drivers: pd.DataFrame, top: int, pos: dict[str, str]) -> pd.DataFrame:
    """The driver ranking's top ``top`` sets per task, class and collection, and every set it
    called: the chosen read-out's rank, q, call and inseparable family, the programme score's
    shift with the class, the share of the programme network's seeds that put the set first,
    the naive peer's rank and NES beside them."""
    keys = ["task", "class"] + (["collection"] if "collection" in drivers.columns else [])
    d = drivers.sort_values([*keys, "rank"], kind="stable")
    called = d["called"].astype(bool) if "called" in d.columns else False
    d = d[(d["rank"] <= top) | called]
    readout = d["readout"].iloc[0] if "readout" in d.columns and len(d) else None
    labels = [task_label(t, c, pos.get(t)) for t, c in zip(d["task"], d["class"], strict=True)]
    out = pd.DataFrame(
        {
            "trait": labels,
            "collection": d.get("collection"),
            "rank": d["rank"].to_numpy(),
            "set": d["set"].to_numpy(),
            "q": d.get("q"),
            "called": d.get("called"),
            # the top set's name on every set it could not be told from (then none is called)
            "family of": d["family"] if "family" in d.columns else None,
            # which way the set's programme score moves with the class (the ranking does not
            # say: a set can drive a class by being low in it)
            "programme shift (SD)": d.get("programme_shift"),
            # how far first place is the programme network's seed's choice
            "first with seeds": d.get("first_share"),
            "masking AUC": d.get("masking_auc"),
            "masking AP": d.get("masking_ap"),
            "naive peer rank": d.get("correlation_rank"),
            "naive peer NES": d.get("correlation_nes"),
        }
    )
    for optional in ("family of", "programme shift (SD)", "first with seeds"):  # not always
        if out[optional].isna().all():
            out = out.drop(columns=optional)
    out["source"] = f"driver ranking: {readout}" if readout else "driver ranking"
    return out


def driver_findings(folder: RunFolder, top: int = 3) -> pd.DataFrame | None:
    """The top ``top`` driver sets per task (and class), with the naive peer beside them.

    From the drivers stage's ranking when it finished (its read-out's rank, q and calls, and
    correlation GSEA's rank and NES of the same set); otherwise from gene-set masking, with
    the NES of the masking ranking's GSEA and the correlation peer's rank.
    """
    drivers = _table(folder, "drivers", "drivers")
    gsea = _table(folder, "enrichment", "gsea")
    own, naive = _gsea_lookup(gsea)
    if drivers is not None and not drivers.empty:
        out = _ranked_drivers(drivers, top, positive_classes(folder))
    else:
        sets = _table(folder, "masking", "top_sets")
        if sets is None or sets.empty:
            return None
        d = sets.groupby(["task", "class"], sort=False).head(top).copy()
        pos = positive_classes(folder)
        d["_label"] = [
            task_label(t, c, pos.get(t)) for t, c in zip(d["task"], d["class"], strict=True)
        ]
        d["_rank"] = d.groupby(["task", "class"], sort=False).cumcount() + 1
        out = pd.DataFrame(
            {
                "trait": d["_label"].to_numpy(),
                "rank": d["_rank"].to_numpy(),
                "collection": d.get("collection"),
                "set": d["set"].to_numpy(),
                "masking AUC": d.get("auc"),
                "masking AP": d.get("ap"),
                "q": d.get("q_ap"),
            }
        )
        # the enrichment stage's rows are keyed by task, class (a binary task's positive
        # class, as masking names it) and set, for both rankings
        keys = list(zip(d["task"].astype(str), d["class"].astype(str), d["set"], strict=True))
        out["NES"] = _lookup(own, keys, "nes")
        out["naive peer rank"] = _lookup(naive, keys, "rank")
        out["source"] = "gene-set masking"
    out = out.reset_index(drop=True)
    # the enrichment plot of the set when the report draws one (see builder), else the section
    out["evidence"] = [
        f"#{anchor('gsea', t, s)}" for t, s in zip(out["trait"], out["set"], strict=True)
    ]
    return out


def _lookup(gsea: pd.DataFrame | None, keys: list[tuple[str, str, str]], column: str) -> np.ndarray:
    """``column`` of the GSEA row of each (task, class, set) key (NaN where there is none)."""
    if gsea is None or gsea.empty:
        return np.full(len(keys), np.nan)
    g = _with_ranks(gsea).astype({"task": str, "class": str})
    g = g.drop_duplicates(["task", "class", "set"]).set_index(["task", "class", "set"])[column]
    return np.array([g.get(k, np.nan) for k in keys], dtype=float)


# ---------------------------------------------------------------------------------- survival
def _outcomes(folder: RunFolder) -> list[str]:
    if not folder.done("survival"):
        return []
    suffix = "_cox_univariate"
    return [n[: -len(suffix)] for n in folder.table_names("survival", f"*{suffix}")]


def variable_kind(variable: str, imaging: set[str]) -> str:
    if variable in COVARIATES:
        return "covariate"
    if variable in imaging:
        return "imaging trait"
    return "radiogenomic trait"


def survival_tests(folder: RunFolder) -> dict[str, int]:
    """Outcome (upper case) -> univariate Cox tests made (those with a p-value)."""
    return {
        o.upper(): int(np.isfinite(folder.table("survival", f"{o}_cox_univariate")["p"]).sum())
        for o in _outcomes(folder)
    }


OUTCOME_ROWS = {
    "OS": "patients with overall survival",
    "PFS": "patients with progression-free survival",
}


def survival_cohort(folder: RunFolder) -> SurvivalCohort | None:
    """Which patients the survival analysis used (the survival stage's ``variables`` table:
    one row per patient), beside the whole cohort's patients with each outcome."""
    variables = _table(folder, "survival", "variables")
    if variables is None:
        return None
    kind = (folder.config().get("data") or {}).get("task", "imaging")
    cohort = SurvivalCohort(
        len(variables), "imaging labels" if kind == "imaging" else f"a {kind} label"
    )
    summary = _table(folder, "load", "cohort_summary")
    if summary is not None and {"item", "value"} <= set(summary.columns):
        items = dict(zip(summary["item"].astype(str), summary["value"], strict=True))
        for outcome, item in OUTCOME_ROWS.items():
            n = pd.to_numeric(pd.Series([items.get(item)]), errors="coerce").iloc[0]
            if np.isfinite(n):
                cohort.with_outcome[outcome] = int(n)
    return cohort


def survival_findings(folder: RunFolder, alpha: float = 0.05) -> pd.DataFrame | None:
    """Per outcome: traits with univariate p < ``alpha`` and the final model's variables.

    ``q``: Benjamini-Hochberg over every univariate test of the outcome (the p < ``alpha``
    listing is uncorrected: with many traits, decoys reach it by chance); ``q < alpha`` marks
    the results that survive the correction.
    """
    outcomes = _outcomes(folder)
    if not outcomes:
        return None
    tasks = _table(folder, "load", "tasks")
    imaging = set(tasks["task"].astype(str)) if tasks is not None else set()
    survives = f"q < {alpha:g}"
    rows = []
    for outcome in outcomes:
        uni = folder.table("survival", f"{outcome}_cox_univariate")
        uni = uni.assign(q=benjamini_hochberg(uni["p"].to_numpy(dtype=float)))
        final = _final_model(folder, outcome)
        final_vars = set(final.index) if final is not None else set()
        keep = uni[(uni["p"] < alpha) | uni["variable"].isin(final_vars)]
        for r in keep.to_dict("records"):
            var = str(r["variable"])
            row = {
                "outcome": outcome.upper(),
                "variable": var,
                "kind": variable_kind(var, imaging),
                "patients": r["n"],
                "events": r.get("events"),
                "HR": r["hr"],
                "CI low": r["ci_low"],
                "CI high": r["ci_high"],
                "p": r["p"],
                "q": r["q"],
                survives: bool(r["q"] < alpha),
                "in final model": var in final_vars,
            }
            if final is not None and var in final_vars:
                f = final.loc[var]
                row.update(
                    {"adjusted HR": f["hr"], "adj. CI low": f["lo"], "adj. CI high": f["hi"]}
                )
                row["adjusted p"] = f["p"]
            row["evidence"] = f"#{anchor('km', outcome, var)}"
            rows.append(row)
    if not rows:
        return pd.DataFrame(columns=["outcome", "variable", "kind", "HR", "p", "evidence"])
    out = pd.DataFrame(rows)
    return out.sort_values(["outcome", "in final model", "p"], ascending=[True, False, True])


def final_model_name(folder: RunFolder, outcome: str) -> str | None:
    """The table of the outcome's final multivariable model: Table 3, the stepwise selection
    over every candidate, radiogenomic traits included (the paper's model). The clinical +
    imaging model is the comparison run without the radiogenomic traits, never the final one."""
    name = f"{outcome}_cox_table3"
    return name if folder.has_table("survival", name) else None


def _final_model(folder: RunFolder, outcome: str) -> pd.DataFrame | None:
    """variable -> hr, lo, hi, p of the final multivariable model."""
    name = final_model_name(folder, outcome)
    if name is None:
        return None
    t = folder.table("survival", name)
    if t.empty or "variable" not in t.columns:
        return None
    t = t.set_index("variable")
    if "hr_adjusted" in t.columns:  # Table 3 layout
        cols = ["hr_adjusted", "ci_low_adjusted", "ci_high_adjusted", "p_adjusted"]
    else:  # a fitted model's summary (lifelines layout)
        cols = ["exp(coef)", "exp(coef) lower 95%", "exp(coef) upper 95%", "p"]
    if not set(cols) <= set(t.columns):
        return None
    return t[cols].set_axis(["hr", "lo", "hi", "p"], axis=1)


def read_findings(folder: RunFolder) -> Findings:
    f = Findings(performance_findings(folder), driver_findings(folder), survival_findings(folder))
    f.survival_tests = survival_tests(folder)
    f.survival_cohort = survival_cohort(folder)
    for what, table, stage in (
        ("trait performance", f.performance, "classifiers"),
        ("driver sets", f.drivers, "drivers or masking"),
        ("survival", f.survival, "survival"),
    ):
        if table is None:
            f.missing.append(f"No {what}: the {stage} stage has no finished results.")
    return f
