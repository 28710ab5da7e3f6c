"""The HTML report of a run folder: one self-contained, interactive page, findings first.

The page opens with what the study found (:mod:`radiogenomics.report.findings`), each finding
linking to its evidence further down: sortable, filterable, paginated tables and hover figures
(:mod:`radiogenomics.report.interactive`, :mod:`radiogenomics.report.evidence`). Their
JavaScript is embedded once; the page loads nothing from outside, so it opens offline from
``file://`` and can be mailed as a single file. Static figures without an interactive version
are embedded as PNG; every PNG/SVG stays in the run folder for papers.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from radiogenomics import __version__
from radiogenomics.config import STAGES, enabled_key, to_toml
from radiogenomics.report import evidence
from radiogenomics.report.findings import (
    Findings,
    SurvivalCohort,
    anchor,
    bootstrap_resamples,
    read_findings,
)
from radiogenomics.report.interactive import assets_html, figure_html, table_html
from radiogenomics.runfolder import RunFolder, package_versions
from radiogenomics.utils.text import count


@dataclass(frozen=True)
class TableSpec:
    """A table to show: ``name`` is the file stem searched for in the stage folder."""

    name: str
    title: str
    caption: str = ""
    top: int = 500  # rows (per group_top value); tables are paginated in the page
    sort: tuple[str, ...] = ()
    ascending: bool = True
    columns: tuple[str, ...] = ()
    # show the top rows per value of this column (or per combination of these columns; those
    # the table lacks are left out)
    group_top: str | tuple[str, ...] | None = None
    # adds what the reader needs from the stage's other tables: (table, stage folder) -> table
    prepare: Callable[[pd.DataFrame, Path], pd.DataFrame] | None = None


def _cox_table_patients(table: pd.DataFrame, stage_dir: Path) -> pd.DataFrame:
    """The Cox table with the patients and events of each outcome's multivariable model (from
    ``lrt``): its univariate columns are refitted on those complete cases, not on every
    patient with the variable as the findings' univariate models are."""
    path = _find(stage_dir, "lrt", ".parquet")
    if path is None or "outcome" not in table.columns:
        return table
    lrt = pd.read_parquet(path).set_index("outcome")
    at = list(table.columns).index("variable") + 1 if "variable" in table.columns else 1
    out = table.copy()
    out.insert(at, "patients (complete cases)", out["outcome"].map(lrt["n"]))
    out.insert(at + 1, "events", out["outcome"].map(lrt["events"]))
    return out


TASK_CLASS = ("task", "class")  # a multi-class task's classes each get their top rows
SIGNIFICANT = 0.05  # the q below which the headline calls a top-ranked set a driver
GROUPS_0_1 = (  # what 0 and 1 mean for every survival variable (as the Kaplan-Meier legends say)
    "Group 1 is the trait (an imaging trait's class such as >=1/3 or infiltrative, as the"
    " Kaplan-Meier legends name it; a radiogenomic trait present), male, white, or older than"
    " the median age; group 0 the rest. A hazard ratio above 1 means a higher hazard in"
    " group 1."
)


@dataclass(frozen=True)
class SectionSpec:
    id: str
    title: str
    stages: tuple[str, ...]
    intro: str = ""
    tables: tuple[TableSpec, ...] = ()
    figures_first: bool = False


SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec(
        "recovery",
        "Planted links recovered (synthetic cohort)",
        ("report",),
        "The synthetic cohort plants each imaging trait on named gene programmes and survival "
        "on a radiogenomic trait (truth.json); this is what the study found.",
        (TableSpec("recovery", "Recovery of the planted links", top=500),),
    ),
    SectionSpec(
        "cohort",
        "Cohort",
        ("load",),
        "Patients and genes loaded, the tasks modelled and their class balance.",
        (
            TableSpec("cohort_summary", "Summary"),
            TableSpec("tasks", "Tasks and class balance"),
        ),
    ),
    SectionSpec(
        "autoencoder",
        "Transcriptomic autoencoder",
        ("autoencoder",),
        "Reconstruction quality as the mean per-gene R\u00b2 (cross-validated and retrained).",
        (
            TableSpec("autoencoder_r2", "Autoencoder R\u00b2"),
            TableSpec("autoencoder_folds", "Per fold", top=20),
        ),
    ),
    SectionSpec(
        "classifiers",
        "Trait classifiers: cross-validated performance",
        ("classifiers",),
        "Out-of-fold ROC AUC and average precision of the chosen configuration per task.",
        (
            TableSpec(
                "chosen",
                "Chosen configuration per task",
                columns=(
                    "task",
                    "config",
                    "classes",
                    "n_patients",
                    "folds",
                    "auc_mean",
                    "auc_sd",
                    "ap_mean",
                    "pooled_auc",
                    "pooled_ap",
                    "median_best_epoch",
                ),
            ),
            TableSpec(
                "grid",
                "Grid search (best configurations per task)",
                sort=("task", "auc_mean"),
                ascending=False,
                group_top="task",
                top=20,
            ),
        ),
    ),
    SectionSpec(
        "baselines",
        "Baselines",
        ("baselines",),
        "Baseline classifiers grid-searched in the same folds with the same preprocessing.",
        (TableSpec("baseline_cv_summary", "Observed CV performance of the baselines"),),
    ),
    SectionSpec(
        "bootstrap",
        "Bootstrap comparison",
        ("bootstrap",),
        "Neural network minus baseline AUC over bootstrap repetitions, with the 95% percentile "
        "interval of each difference.",
        (
            TableSpec(
                "bootstrap_differences",
                "AUC differences (network minus other)",
                "difference: the network's AUC minus the model's in one repetition (the same "
                "resamples for both); the trait 'all traits' is the mean over the traits.",
            ),
            TableSpec(
                "bootstrap_summary",
                "AUC per model",
                "auc_mean, auc_ci_low, auc_ci_high: the model's AUC over the n_reps repetitions "
                "(mean and 95% percentile interval); diff_mean, diff_ci_low, diff_ci_high: the "
                "network's AUC minus this model's (mean and 95% percentile interval; empty on "
                "the network's own row); diff_not_ahead: the share of repetitions in which the "
                "network was not ahead of this model (difference at or below zero: 0 = ahead in "
                "every repetition, 1 = in none).",
            ),
        ),
    ),
    SectionSpec(
        "masking",
        "Gene masking",
        ("masking",),
        "Gene sets (and single genes) scored by the AUC/AP of the network's predictions when "
        "only their genes are kept.",
        (
            TableSpec("top_sets", "Top gene sets per task and class", group_top=TASK_CLASS, top=20),
            TableSpec("top_genes", "Top genes per task and class", group_top=TASK_CLASS, top=20),
        ),
    ),
    SectionSpec(
        "saliency",
        "Gene saliency",
        ("saliency",),
        "Per-patient gradients of the network's output with respect to each gene.",
        (
            TableSpec(
                "top_salient_genes",
                "Most salient genes per task and class",
                group_top=TASK_CLASS,
                top=20,
            ),
        ),
    ),
    SectionSpec(
        "enrichment",
        "Gene-set enrichment of masking rankings",
        ("enrichment",),
        "Preranked GSEA of the single-gene masking ranking of each task and class (ranking "
        "masking_*) and, beside it, of each gene's correlation with the class (ranking "
        "correlation, the naive peer). class: the class ranked (for a binary task the "
        "one the network scores); padj: BH within task, class, ranking and collection.",
        (
            TableSpec(
                "gsea_top",
                "Top enriched sets per task, class, ranking and collection",
                group_top=("task", "class", "ranking", "collection"),
                top=20,
            ),
        ),
    ),
    SectionSpec(
        "drivers",
        "Driver ranking",
        ("drivers",),
        "The gene sets that drive each trait, per collection, by the study's read-out "
        "(drivers.readout; consensus: a network on the collection's programme scores, masked "
        "one programme at a time over repeated cross-validation, together with each programme "
        "score's own AUC; p needs both the set's masking z-score against size-matched random "
        "sets and GSEA of each gene's correlation with the trait, the naive peer). q: BH "
        "within the collection; called: the best-ranked set, when it is significant and "
        "patient resamples keep it first; programme_shift: the set's programme score in the "
        "class minus in the other patients, in SDs (the ranking uses either direction: a set "
        "can mark a class by being low in it).",
        (
            TableSpec(
                "drivers_top",
                "Top driver sets per task, class and collection",
                "score: the number the read-out sorts the sets by, higher first (rank gives the "
                "same order; the number has no unit of its own). Consensus read-out: minus the "
                "set's place in the programme network's forward order (-1 for its first set, "
                "-2 for the next), and for the sets outside that order minus (the order's "
                "length + the better of two mean ranks: the set's programme-network and "
                "programme-score ranks, or its masking and correlation ranks), e.g. -12.5 for "
                "a better mean rank of 9.5 after an order of 3 sets; without the programme network, minus the "
                "mean of the masking and correlation ranks. Masking read-out: the masking "
                "z-score. Correlation read-out: the correlation NES. The evidence is in the "
                "other columns: masking_* (the gene network with only the set's genes kept, "
                "averaged over the drivers.repeats CV runs, so not the Gene masking section's "
                "single-CV figure when repeats > 1), "
                "correlation_* (the naive peer's GSEA), programme_* (the programme network and "
                "the set's programme score), p and q.",
            ),
        ),
    ),
    SectionSpec(
        "radiogenomic_traits",
        "Radiogenomic traits",
        ("radiogenomic_traits",),
        "A patient has the radiogenomic trait 'task + set' when the set is enriched (BH-adjusted "
        "p below alpha, positive NES) in the patient's saliency ranking.",
        (TableSpec("prevalence", "Prevalence of radiogenomic traits", top=500),),
    ),
    SectionSpec(
        "survival",
        "Survival",
        ("survival",),
        "Kaplan-Meier curves with log-rank tests, univariate Cox models and the multivariable "
        "Cox model chosen by stepwise AIC or BIC (the methods say which) with the covariates "
        "forced in.",
        (
            TableSpec(
                "cox_table",
                "Cox model (Table 3 style)",
                "Every model of this table, the univariate ones (hr_univariate, p_univariate) "
                "included, is fitted on the complete cases of the outcome's multivariable model "
                "(patients (complete cases)): the findings' univariate results use every patient "
                "with the variable and the outcome, so their HR and p can differ.",
                top=500,
                prepare=_cox_table_patients,
            ),
            TableSpec(
                "logrank",
                "Log-rank tests",
                GROUPS_0_1 + " n, events and median survival of each group (_0, _1).",
                top=500,
                sort=("p",),
            ),
            TableSpec("lrt", "Likelihood-ratio test of the final models"),
        ),
    ),
)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return ""
    if isinstance(v, (float, np.floating)):
        a = abs(float(v))
        if a != 0 and (a < 1e-3 or a >= 1e5):
            return f"{float(v):.2e}"
        return f"{float(v):.3f}"
    return str(v)


def _find(stage_dir: Path, name: str, suffix: str) -> Path | None:
    direct = [stage_dir / "tables" / f"{name}{suffix}", stage_dir / f"{name}{suffix}"]
    for p in direct:
        if p.is_file():
            return p
    hits = sorted(stage_dir.rglob(f"{name}{suffix}"))
    return hits[0] if hits else None


def _select(df: pd.DataFrame, spec: TableSpec) -> pd.DataFrame:
    if spec.columns:
        df = df[[c for c in spec.columns if c in df.columns]]
    sort = [c for c in spec.sort if c in df.columns]
    if sort:
        df = df.sort_values(sort, ascending=spec.ascending, kind="stable")
    groups = (spec.group_top,) if isinstance(spec.group_top, str) else spec.group_top or ()
    groups = [c for c in groups if c in df.columns]
    if groups:
        return df.groupby(groups, sort=False, group_keys=False).head(spec.top)
    return df.head(spec.top)


def _render_table(stage_dir: Path, spec: TableSpec, stage: str) -> dict | None:
    path = _find(stage_dir, spec.name, ".parquet")
    if path is None:
        return None
    df = pd.read_parquet(path)
    if spec.prepare is not None:
        df = spec.prepare(df, stage_dir)
    df = _select(df, spec)
    return {
        "kind": "table",
        "title": spec.title,
        "caption": spec.caption,
        "html": table_html(df, anchor("table", stage, spec.name)),
    }


def _figure_title(path: Path) -> str:
    return path.stem.replace("_", " ")


def _embed(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


@dataclass
class _Section:
    id: str
    title: str
    intro: str = ""
    off: str = ""
    notes: list[str] = field(default_factory=list)
    blocks: list[dict] = field(default_factory=list)
    static: list[str] = field(default_factory=list)  # run-folder figures, relative to the page


def _off_reason(stage: str, m: dict | None) -> str:
    if m is None:
        return f"The {stage} stage has not run."
    status = m.get("status")
    if status == "disabled":
        return f"The {stage} stage was disabled in the config ({enabled_key(stage)} = false)."
    if status == "not-run":
        return f"The {stage} stage did not run: {m.get('reason', '')}."
    if status in ("failed", "interrupted", "running"):
        return f"The {stage} stage did not finish ({status}): {m.get('error', '')}"
    return ""


def _words(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _class_names(classes: object) -> list[str]:
    """Class names from the load stage's ``classes`` cell ("Classical: 40 | Neural: 25")."""
    if not isinstance(classes, str) or not classes:
        return []
    return [c.rsplit(":", 1)[0].strip() for c in classes.split("|")]


def _binary(task: dict[str, Any]) -> bool:
    """Whether a row of the load stage's task table is a binary task (it names a positive
    class; a multi-class task does not)."""
    positive = task.get("positive")
    if isinstance(positive, str) and positive:
        return True
    return 0 < len(_class_names(task.get("classes"))) <= 2


def _modelled(d: dict[str, Any], tasks: pd.DataFrame | None) -> str:
    """What expression was modelled against: the tasks the load stage kept, else the config's."""
    imaging = d["task"] == "imaging"
    if tasks is not None and len(tasks) and "task" in tasks.columns:
        rows = tasks.to_dict("records")
        kept = [r for r in rows if r.get("kept", True) is not False]
        names = [str(r["task"]) for r in kept]
        if not names:
            return "no task (every one was left out)"
        if imaging:
            return f"{count(len(names), 'binary VASARI MRI trait')} ({', '.join(names)})"
        classes = [_class_names(r.get("classes")) for r in kept]
        names = ["the molecular subtype" if n == "subtype" else n for n in names]
        return "; ".join(
            f"{n} ({count(len(c), 'class', 'classes')}: {', '.join(c)})" if c else n
            for n, c in zip(names, classes, strict=True)
        )
    if not imaging:
        return "the molecular subtypes"
    if d.get("traits"):
        traits = d["traits"]
        return f"{count(len(traits), 'binary VASARI MRI trait')} ({', '.join(traits)})"
    return "every binary VASARI MRI trait of the imaging table"


def _left_out(tasks: pd.DataFrame | None) -> str:
    if tasks is None or "kept" not in tasks.columns:
        return ""
    gone = tasks.loc[tasks["kept"].eq(False), "task"].astype(str).tolist()
    return f" (left out: {', '.join(gone)})" if gone else ""


def _saliency_target(target: str, tasks: pd.DataFrame | None, subtype: bool) -> str:
    """What the gradient is taken of: a binary network's single logit, a multi-class network's
    class logit or class log-odds (``saliency.target``), as interpret.saliency does."""
    if tasks is not None and len(tasks) and "task" in tasks.columns:
        kinds = {_binary(r) for r in tasks.to_dict("records") if r.get("kept", True) is not False}
    else:
        kinds = {not subtype}
    binary = "the network's logit (the log-odds of the positive class)"
    multi = {
        "logit": "each class's logit (its pre-softmax output; one saliency per class)",
        "log_odds": "each class's log-odds against the other classes (its logit minus the "
        "log-sum-exp of the others; one saliency per class)",
    }.get(target, f"each class's {target}")
    if kinds == {True}:
        return binary
    if kinds == {False}:
        return multi
    return f"{binary} for binary tasks and {multi} for multi-class tasks"


def _over(resamples: list[int]) -> str:
    """``over 2 resamples`` (``over 2-40 resamples`` when the comparisons differ)."""
    lo, hi = min(resamples), max(resamples)
    return f"over {count(lo, 'resample') if lo == hi else f'{lo}-{hi} resamples'}"


ROUGH_RESAMPLES = 100  # below this many resamples a 95% percentile interval is rough


def rough_intervals(resamples: list[int]) -> str:
    """A caveat sentence when the bootstrap intervals rest on few resamples ("" otherwise)."""
    if not resamples or min(resamples) >= ROUGH_RESAMPLES:
        return ""
    lo, hi = min(resamples), max(resamples)
    n = count(lo, "resample") if lo == hi else f"{lo}-{hi} resamples"
    return (
        f"With only {n} these intervals are rough (percentile intervals need hundreds of "
        "resamples to settle; bootstrap.repetitions): read them as a first look, not as a "
        "test."
    )


def interval_words(resamples: list[int]) -> str:
    """``95% percentile interval over 2 resamples``: the count says how far to trust it."""
    return " ".join(["95% percentile interval", *([_over(resamples)] if resamples else [])])


def methods_text(
    cfg: dict[str, Any],
    manifests: dict[str, dict | None],
    tasks: pd.DataFrame | None = None,
    resamples: list[int] | None = None,
    expression: dict[str, Any] | None = None,
    survival: SurvivalCohort | None = None,
) -> list[str]:
    """A methods paragraph per analysis, written from the effective config.

    ``tasks``: the load stage's task table (the traits actually modelled, binary or not);
    ``resamples``: the bootstrap resamples behind the intervals (default: the config's count);
    ``expression``: the load stage's report on the expression file (its input scale and the
    transform applied); ``survival``: the patients the survival stage analysed.
    """

    def on(stage: str) -> bool:
        m = manifests.get(stage)
        return bool(m) and m.get("status") == "done"

    d = cfg["data"]
    out = []
    out.append(
        f"{_expression_words(d, expression)} and modelled "
        f"against {_modelled(d, tasks)}; tasks with fewer than {d['min_patients_per_class']} "
        f"patients in a class were left out{_left_out(tasks)}. Genes were z-scored on the "
        f"training patients of every fold."
    )
    if on("autoencoder"):
        a = cfg["autoencoder"]
        out.append(
            f"A transcriptomic autoencoder (encoder {'/'.join(map(str, a['hidden']))}, "
            f"{a['activation']}, {a['optimizer']}, dropout {a['dropout']}, mirrored decoder, "
            f"linear output, MAE loss) was trained on "
            f"{'patients without imaging labels' if a['train_on'] == 'unlabelled' else 'all patients'}"
            f" for up to {a['max_epochs']} epochs (batch {a['batch_size']}), with early stopping "
            f"(patience {a['patience']}) on the mean per-gene R\u00b2 in {a['folds']}-fold CV."
        )
    if on("classifiers"):
        c = cfg["classifiers"]
        g = c["grid"]
        out.append(
            f"Trait classifiers (Dense, BatchNorm, activation, Dropout blocks; input dropout) were "
            f"grid-searched in stratified {c['folds']}-fold cross-validation over optimisers "
            f"{', '.join(g['optimizer'])}, activations {', '.join(g['activation'])}, dropout "
            f"{', '.join(map(str, g['dropout']))}, hidden layers "
            f"{'; '.join('/'.join(map(str, h)) for h in g['hidden'])} and "
            f"{', '.join(map(str, g['ae_layers']))} transferred autoencoder layers (frozen: "
            f"{', '.join(map(str, g['frozen']))}), with class-balanced weights, batch "
            f"{c['batch_size']}, up to {c['max_epochs']} epochs and early stopping (patience "
            f"{c['patience']}) on validation ROC AUC. The best configuration by mean CV AUC was "
            f"retrained on all labelled patients for the median best epoch of its folds."
        )
    if on("baselines"):
        out.append(
            "Baselines (" + ", ".join(cfg["baselines"]["models"]) + ") were grid-searched in the "
            "same folds with the same per-fold standardisation."
        )
    if on("bootstrap"):
        b = cfg["bootstrap"]
        out.append(
            f"Performance was compared over {b['repetitions']} bootstrap repetitions: each drew a "
            f"new stratified split and resampled training and validation patients separately with "
            f"replacement; the network-minus-baseline AUC difference is reported with its "
            f"{interval_words(resamples or [b['repetitions']])}."
        )
        if rough_intervals(resamples or [b["repetitions"]]):
            out[-1] += " " + rough_intervals(resamples or [b["repetitions"]])
    if on("masking"):
        m = cfg["masking"]
        out.append(
            "Gene masking kept the standardised expression of one gene set"
            f"{' or one gene' if m['single_genes'] else ''} and set every other gene to its "
            "training mean, and scored the network's predictions by ROC AUC and average "
            f"precision; significance came from {m['null_draws']} size-matched random gene sets "
            f"per size (empirical p, BH-adjusted)"
            + (
                "; out-of-fold masking used the cross-validation fold models, each scoring the "
                "patients it had not been trained on."
                if m["out_of_fold"]
                else "."
            )
            + (
                " Top sets and genes, heatmaps and the GSEA of the single-gene ranking read the "
                f"{m['readout'].replace('_', '-')} masking; sets "
                "are ordered by their empirical p against the size-matched null, then by AP."
            )
        )
    if on("saliency"):
        method = cfg["saliency"]["method"]
        what = {
            "absolute": "the absolute gradient",
            "signed": "the signed gradient",
            "integrated_gradients": "the integrated gradients (from the training-mean profile)",
        }.get(method, method)
        target = _saliency_target(
            cfg["saliency"].get("target", "logit"), tasks, d["task"] == "subtype"
        )
        out.append(
            f"Gene saliency was {what} of {target} with respect to each standardised gene, per "
            "patient."
        )
    if on("enrichment"):
        e = cfg["enrichment"]
        out.append(
            f"Preranked GSEA (weighted running sum, exponent 1, sets of {e['min_size']}-"
            f"{e['max_size']} genes, {e['nperm']} permutations) was applied to the single-gene "
            f"masking ranking ({e['ranking'].upper()}) of each task and class and, as the naive "
            "peer, to each gene's Pearson correlation with the class; p was BH-adjusted within "
            "each task, class, ranking and gene-set collection."
        )
    if on("drivers"):
        out.append(_drivers_method(cfg["drivers"]))
    if on("radiogenomic_traits"):
        r = cfg["radiogenomic_traits"]
        out.append(
            f"Each patient's saliency ranking went through preranked GSEA ({r['nperm']} "
            f"permutations); a patient has the radiogenomic trait 'task + set' when the set's "
            f"BH-adjusted p is below {r['alpha']} with positive NES; traits present in, or absent in, "
            f"fewer than {r['min_patients']} patients were dropped."
        )
    if on("survival"):
        s = cfg["survival"]
        out.append(
            f"Survival ({', '.join(o.upper() for o in s['outcomes'])}) was analysed with "
            f"Kaplan-Meier curves and log-rank tests per binary variable, univariate Cox models, "
            f"and a multivariable Cox model chosen by stepwise "
            f"{s.get('criterion', 'aic').upper()} (direction {s['direction']}) "
            f"with {', '.join(s['forced'])} always kept. Cox models handle tied times by "
            f"Efron's method (R's coxph default; Breslow's gives other estimates); Kaplan-Meier "
            f"intervals are Greenwood's on the log scale (R's survfit default)."
        )
        if survival is not None:
            out[-1] += " " + survival_patients(survival)
    out.append(f"The study seed was {cfg['seed']}; every work unit derives its own seed from it.")
    return out


TRANSFORMS = {  # the load stage's transform of each input scale (data.expression)
    "counts": "log2(CPM + 1), library size over all input genes",
    "tpm": "log2(TPM + 1)",
}


def _expression_words(d: dict[str, Any], expression: dict[str, Any] | None) -> str:
    """How expression was brought to the log2 scale, from the load stage's report (the scale it
    read, detected or configured, and the transform applied), else from the config."""
    rep = expression or {}
    scale = str(rep.get("scale") or d.get("expression_scale") or "")
    transform = str(rep.get("transform") or TRANSFORMS.get(scale, ""))
    if scale == "auto":  # no load report to say what was detected
        return "Expression was brought to a log2 scale (its scale detected on loading)"
    if not transform or transform.startswith("none") or scale == "log2":
        return "Expression was read as log2 values"
    what = {"counts": "read counts", "tpm": "TPM values"}.get(scale, f"{scale} values")
    main, _, rest = transform.partition(", ")
    return f"Expression {what} were transformed to {main}" + (f" ({rest})" if rest else "")


def _fraction(share: float) -> str:
    """A share of a few seeds as a fraction: 0.667 -> 2/3."""
    f = Fraction(float(share)).limit_denominator(20)
    return f"{f.numerator}/{f.denominator}"


def _shift_words(shift: float) -> str:
    """A programme score's class-minus-rest shift in words: higher 0.8 SD, lower 0.3 SD."""
    if not np.isfinite(shift):
        return "shift not known"
    return f"{'higher' if shift >= 0 else 'lower'} {abs(shift):.1f} SD"


def _drivers_method(d: dict[str, Any]) -> str:
    """The driver ranking's methods sentence, for the read-out the study chose."""
    programme = d["readout"] == "consensus" and d.get("programme_network", True)
    ranked_by = {
        "consensus": "the programme network's forward order, then the better of two mean "
        "ranks: the programme level's (the programme network's conditional masked AP, and "
        "the AUC of the set's programme score alone, either direction) and the gene level's "
        "(its masking and correlation ranks), with the larger of its masking and "
        "correlation p-values"
        if programme
        else "the mean of its masking and correlation ranks, with the larger of its two p-values",
        "masking": "its masking z-score alone",
        "correlation": "its correlation-GSEA NES alone (the naive peer)",
    }[d["readout"]]
    more = d["max_calls"] - 1
    further = (
        f", and at most {more} more per collection when they beat random genes drawn from the "
        "other significant sets"
        if more > 0
        else ""
    )
    if d["readout"] == "correlation":
        calls = f"every set with q < {d['alpha']} was called"
    elif d.get("gate_draws", 0) > 0:
        calls = (
            f"the best-ranked set was called a driver only if its q < {d['alpha']} and it "
            f"stayed first among the significant sets in at least {1 - d['alpha']:.0%} of "
            f"{d['gate_draws']} patient resamples (otherwise the sets it could not be told "
            f"from are listed as its family){further}"
        )
    else:
        calls = (
            f"sets with q < {d['alpha']} were called drivers (at most {d['max_calls']} per "
            "collection) when they beat random genes drawn from the other significant sets"
        )
    return (
        f"Driver sets were ranked by the {d['readout']} read-out. Each trait's cross-validation "
        + (
            f"was repeated on {d['repeats']} fold splits in all"
            if d["repeats"] > 1
            else "was run on one fold split (not repeated)"
        )
        + ", and each patient's masked probabilities were averaged over the fold models that "
        "held it out; each set "
        f"({d['min_size']}-{d['max_size']} genes) was scored by its masked AP against "
        f"{d['null_draws']} size-matched random gene sets per size (z-score, normal p) and by "
        f"GSEA of each gene's correlation with the trait ({d['nperm']} permutations)"
        + (
            "; a network of the same configuration was cross-validated on the collection's "
            "programme scores (each set's mean gene z-score), each set was scored by the "
            "out-of-fold AP with only its score kept and every other score set to its "
            "regression on it, and up to three first places went to a floating forward "
            "order (the best set, then, while one raised it, the one adding most to the AP "
            "of those kept together, dropping an earlier one while the others without it "
            "did better; a later place kept only while choosing that set, given those "
            "before it, also raised the AP on held-out halves of the patients)"
            if programme
            else ""
        )
        + f". A set was ranked by {ranked_by} (BH within each collection); {calls}."
    )


def _stage_rows(folder: RunFolder, manifests: dict[str, dict | None]) -> list[dict]:
    rows = []
    for s in STAGES:
        if s == "report":
            continue
        m = manifests[s] or {}
        reason = m.get("reason") or m.get("error") or ""
        attempt = folder.manifest(s, staging=True) or {}
        if attempt.get("status") in ("failed", "interrupted"):
            kept = "; the results shown are the last finished ones" if m else ""
            reason = f"last attempt {attempt['status']}: {attempt.get('error', '')}{kept}"
        rows.append(
            {
                "stage": s,
                "status": m.get("status", "missing"),
                "seconds": _fmt(m.get("seconds")) if m.get("seconds") is not None else "",
                "finished": m.get("finished", ""),
                "reason": reason,
            }
        )
    return rows


def _section_figures(folder: RunFolder, spec_id: str, found: Findings) -> list[evidence.Figure]:
    if spec_id == "classifiers":
        return evidence.classifier_figures(folder)
    if spec_id == "bootstrap":
        return evidence.bootstrap_figures(folder)
    if spec_id == "masking":
        return evidence.masking_figures(folder)
    if spec_id == "enrichment":
        return evidence.gsea_figures(folder, found.drivers)
    if spec_id == "survival":
        return evidence.survival_figures(folder, found.survival)
    return []


DRIVER_COLUMNS = {  # what each column of the findings' driver table says, in table order
    "rank": "the set's rank by the study's read-out (source)",
    "q": "the BH-adjusted q",
    "called": "whether the set was called a driver",
    "family of": "the top set it could not be told from (then none is called)",
    "programme shift (SD)": "the set's programme score in the class minus in the other "
    "patients, in SDs (negative where the set marks the class by being low in it)",
    "first with seeds": "the share of the programme network's seeds (drivers.programme_seeds, "
    "none of which changes the rank) whose ranking puts the set first (in the driver-recovery "
    "benchmark, on traits planted through the programme score itself, a top set first with "
    "all three was the planted driver in 91% of rankings, with "
    "two in 49%, with one in 31%)",
    "masking AUC": "the network's AUC with only the set's genes kept (the driver ranking "
    "averages it over its CV runs, drivers.repeats, so with more than one it differs from the "
    "Gene masking section's)",
    "masking AP": "its AP",
    "NES": "the set's GSEA NES in the network's single-gene masking ranking",
    "naive peer rank": "the rank the naive correlation peer gives the same set",
    "naive peer NES": "the naive peer's NES of it (from the drivers stage's own permutations:"
    " the Enrichment section's NES of the same set differs by permutation noise, more so at a"
    " small nperm)",
}


def _performance_text(df: pd.DataFrame, resamples: list[int]) -> tuple[str, str]:
    """Title and caption of the findings' performance table, for the columns it has."""
    shown = ["network"]
    caption = ["CV AUC/AP of the chosen network"]
    if "best baseline" in df.columns:
        shown.append("best baseline")
        caption.append("the baseline with the highest CV AUC")
    if "AUC difference" in df.columns:
        shown.append("the bootstrap difference")
        caption.append(
            "the bootstrap AUC difference (network minus that baseline, or the closest baseline "
            f"the bootstrap compared) with its {interval_words(resamples)} (column resamples)"
        )
    text = "; ".join(caption) + "."
    if "AUC difference" in df.columns and rough_intervals(resamples):
        text += " " + rough_intervals(resamples)
    return f"Trait prediction: {_words(shown)}", text


def _drivers_caption(df: pd.DataFrame) -> str:
    """The findings' driver table described by the columns it shows, no others."""
    said = [f"{c}: {DRIVER_COLUMNS[c]}" for c in DRIVER_COLUMNS if c in df.columns]
    return (
        f'The top sets of each trait; {"; ".join(said)}. "view" opens the set\'s enrichment plot '
        "where the report draws one, else the section with its evidence."
    )


def survival_patients(cohort: SurvivalCohort | None) -> str:
    """Which patients the survival analysis used, and why ("" when the run does not say)."""
    if cohort is None:
        return ""
    whole = ", ".join(f"{n} with {o}" for o, n in cohort.with_outcome.items())
    return (
        f"Survival is analysed in the {cohort.patients} patients with {cohort.labelled_by} and "
        "expression (survival/tables/variables), not in every patient with an outcome"
        + (f" (the cohort has {whole})" if whole else "")
        + ": the imaging traits, and the radiogenomic traits found in the networks' saliency, "
        "are known only for the labelled patients, so every variable is tested on them alone; "
        "a model leaves out those of them missing one of its variables."
    )


def _survival_caption(tests: dict[str, int], cohort: SurvivalCohort | None = None) -> str:
    counted = ", ".join(f"{o} {n}" for o, n in tests.items())
    who = survival_patients(cohort)
    return (
        (f"{who} " if who else "")
        + "Per outcome, the variables whose univariate Cox model has p < 0.05, each fitted on "
        "every analysed patient with the variable and the outcome (patients, events), and every "
        "variable of the final multivariable Cox model (the stepwise selection, with the "
        "covariates forced in) with its adjusted hazard ratio (in final model; adjusted HR, "
        "CI and p): the Survival section's Cox model table lists that model in the paper's "
        "Table 3 layout. p is not corrected for "
        f"the univariate tests made per outcome ({counted}): q is their Benjamini-Hochberg "
        'q within the outcome and "q < 0.05" marks the results that survive it. The Cox model '
        "table of the Survival section refits the univariate models on the multivariable "
        'model\'s complete cases, so its univariate HR and p can differ. "view" opens the '
        "Kaplan-Meier curves. " + GROUPS_0_1
    )


def _findings_blocks(found: Findings, ids: set[str], resamples: list[int]) -> dict[str, Any]:
    """The findings tables, each row's link pointing at an element the page has, and each
    title and caption saying what its table shows."""
    perf = evidence.relink(found.performance, ids, "#classifiers")
    ranked = found.drivers is not None and (found.drivers["source"] != "gene-set masking").all()
    drivers = evidence.relink(found.drivers, ids, "#drivers" if ranked else "#masking")
    surv = evidence.relink(found.survival, ids, "#survival")
    out: dict[str, Any] = {
        "missing": found.missing,
        "headline": headline(found, resamples),
        "survival_caption": _survival_caption(found.survival_tests, found.survival_cohort),
    }
    for key, df in (("performance", perf), ("drivers", drivers), ("survival", surv)):
        if df is not None and len(df):
            df = df.dropna(axis=1, how="all")  # e.g. no naive peer in this run: no column
            out[key] = table_html(df, f"findings-{key}", links=("evidence",), page_length=25)
            if key == "performance":
                out["performance_title"], out["performance_caption"] = _performance_text(
                    df, resamples
                )
            if key == "drivers":
                out["drivers_caption"] = _drivers_caption(df)
        elif df is not None:
            out[key] = ""
    return out


def _performance_line(p: pd.DataFrame, resamples: list[int]) -> str:
    best = p.sort_values("CV AUC", ascending=False).iloc[0]
    lo, hi = f"{p['CV AUC'].min():.2f}", f"{p['CV AUC'].max():.2f}"
    auc = f"CV AUC {lo}" if lo == hi else f"CV AUC from {lo} to {hi}"
    text = f"The network predicts {count(len(p), 'trait')} with {auc}"
    text += f" (best: {best['trait']}, {best['CV AUC']:.2f})." if len(p) > 1 else "."
    if "95% CI low" in p.columns and p["95% CI low"].notna().any():
        ahead = int((p["95% CI low"] > 0).sum())
        behind = int((p["95% CI high"] < 0).sum())
        text += (
            " Against the best baseline, the 95% percentile interval of the AUC difference"
            + (f" ({_over(resamples)})" if resamples else "")
            + f" is above zero for {ahead}, below zero for {behind} and spans zero for "
            f"{int(p['95% CI low'].notna().sum()) - ahead - behind}."
        )
        if rough_intervals(resamples):
            text += " " + rough_intervals(resamples)
    return text


def _drivers_lines(d: pd.DataFrame) -> list[tuple[str, list[str]]]:
    """The top set of each trait (one sub-item each), then the calls and the families."""
    # with several collections every trait has a top set (and maybe a call) per collection
    several = "collection" in d.columns and d["collection"].nunique() > 1

    def where(rows: pd.DataFrame) -> pd.Series:
        names = rows["trait"].astype(str)
        return names + " [" + rows["collection"].astype(str) + "]" if several else names

    firsts = d[d["rank"] == 1]
    named = [f"{t}: {s}" for t, s in zip(where(firsts), firsts["set"], strict=True)]
    how = d["source"].iloc[0]
    notes: list[list[str]] = [[] for _ in named]  # said of each top set, in parentheses
    if "programme shift (SD)" in d.columns:  # a set can drive a class by being low in it
        how += "; its programme score higher or lower in the class, in SDs"
        for note, v in zip(notes, firsts["programme shift (SD)"], strict=True):
            note.append(_shift_words(v))
    if "first with seeds" in d.columns:  # a first place that other seeds give away
        for note, share in zip(notes, firsts["first with seeds"], strict=True):
            if share < 1:
                note.append(f"first with {_fraction(share)} of the programme network's seeds")
    said = [", ".join(note) for note in notes]
    lead = "Top driver set per trait"
    if "q" in firsts.columns:  # a first place is not a finding unless its q says so
        q = pd.to_numeric(firsts["q"], errors="coerce").to_numpy()
        said = [
            "; ".join(filter(None, [w, f"q = {v:.2g}, not significant"])) if v >= SIGNIFICANT else w
            for w, v in zip(said, q, strict=True)
        ]
        if not (q < SIGNIFICANT).any():
            lead = f"Top-ranked set per trait, none significant at q < {SIGNIFICANT}"
    named = [f"{n} ({w})" if w else n for n, w in zip(named, said, strict=True)]
    lines = [(f"{lead} ({how}):", named)]
    if "called" in d.columns and d["called"].notna().any():
        called = d[d["called"].astype(bool)]
        pairs = [f"{t}: {s}" for t, s in zip(where(called), called["set"], strict=True)]
        lines.append((f"Called drivers ({len(pairs)}): {'; '.join(pairs) or 'none'}.", []))
    if "family of" in d.columns and d["family of"].notna().any():
        fam = d[d["family of"].notna()].groupby(["trait", "family of"], sort=False).size()
        # a family of one: no single other set ties the top one in enough resamples, yet
        # together they keep it from first place
        named = "; ".join(
            f"{t}: {top} ({n} sets)" if n > 1 else f"{t}: {top} (no one set; the others together)"
            for (t, top), n in fam.items()
        )
        lines.append(
            (f"Not called, the top set inseparable from others (its family): {named}.", [])
        )
    return lines


def _survival_line(s: pd.DataFrame, tests: dict[str, int]) -> str:
    sig = s[s["p"] < 0.05]
    rg = sig[sig["kind"] == "radiogenomic trait"]
    kept = int(sig["q < 0.05"].sum()) if "q < 0.05" in sig.columns else 0
    made = sum(tests.values())
    per = ", ".join(f"{o} {n}" for o, n in tests.items())
    if sig.empty:
        return (
            f"None of the {count(made, 'univariate Cox test')} ({per}) has an uncorrected p"
            f" below 0.05. {_final_models_words(s)}"
        )
    verb = "has" if len(sig) == 1 else "have"
    return (
        f"{count(len(sig), 'result')} ({count(sig['variable'].nunique(), 'variable')}) {verb} "
        f"an uncorrected univariate Cox p below 0.05 ({count(len(rg), 'radiogenomic trait')}), "
        f"of {count(made, 'univariate test')} ({per}); {kept} of them keep a BH q below 0.05 "
        f"within their outcome. {_final_models_words(s)}"
    )


def _final_models_words(s: pd.DataFrame) -> str:
    """What each outcome's final multivariable model kept, by name."""
    final = s[s["in final model"].astype(bool)]
    if final.empty:
        return "No variable is in a final multivariable model."
    kept = [
        f"{count(len(g), 'variable')} for {o} ({', '.join(map(str, g['variable']))})"
        for o, g in final.groupby("outcome", sort=False)
    ]
    return (
        "The final multivariable Cox models (stepwise selection, covariates forced in) keep "
        f"{_words(kept)}."
    )


def headline(found: Findings, resamples: list[int] | None = None) -> list[tuple[str, list[str]]]:
    """The findings as (sentence, sub-items) pairs, from the tables (no numbers typed by hand):
    performance, the top driver set of each trait (a sub-item each), the calls and families,
    survival.

    ``resamples``: the bootstrap resamples behind the intervals, said with them.
    """
    lines = []
    if found.performance is not None and len(found.performance):
        lines.append((_performance_line(found.performance, resamples or []), []))
    if found.drivers is not None and len(found.drivers):
        lines += _drivers_lines(found.drivers)
    if found.survival is not None and len(found.survival):
        lines.append((_survival_line(found.survival, found.survival_tests), []))
    return lines


def _intro(spec: SectionSpec, resamples: list[int], found: Findings | None = None) -> str:
    """A section's intro; the bootstrap's says how many resamples its intervals come from, the
    survival's which patients it analysed."""
    if spec.id == "survival" and found is not None and found.survival_cohort is not None:
        return f"{spec.intro} {survival_patients(found.survival_cohort)}"
    if spec.id == "bootstrap" and resamples:
        return " ".join(
            t
            for t in (f"{spec.intro.rstrip('.')} {_over(resamples)}.", rough_intervals(resamples))
            if t
        )
    return spec.intro


def _load_report(folder: RunFolder) -> dict[str, Any] | None:
    """The load stage's report on the expression file (scale, transform), if it finished."""
    path = folder.stage_dir("load") / "load_report.json"
    if not folder.done("load") or not path.is_file():
        return None
    try:
        report = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    expression = report.get("expression") if isinstance(report, dict) else None
    return expression if isinstance(expression, dict) else None


def _study_dir(cfg: dict[str, Any]) -> Path | None:
    source = cfg.get("source")
    return Path(source).resolve().parent if isinstance(source, str) and source else None


def shown_run_dir(run_dir: Path, cfg: dict[str, Any]) -> str:
    """The run folder as the page names it: relative to the study file's folder when it lies
    under it (``runs/demo``), else its name alone. The page is shared: the absolute path is
    the machine's, not the study's, and means nothing to a reader elsewhere."""
    study = _study_dir(cfg)
    run = Path(os.path.abspath(run_dir))
    if study is not None:
        try:
            return run.resolve().relative_to(study).as_posix()
        except ValueError:
            pass
    return run.name


def _shown_config(run_dir: Path, cfg: dict[str, Any]) -> str:
    """The effective configuration as TOML, the study file named without its folder (the
    file itself keeps the full path, which a rerun on this machine reads)."""
    if not cfg:
        p = run_dir / "config.toml"
        return p.read_text() if p.is_file() else ""
    shown = dict(cfg)
    if isinstance(shown.get("source"), str) and shown["source"]:
        shown["source"] = Path(shown["source"]).name
    return to_toml(shown)


def build_report(
    run_dir: str | os.PathLike,
    out: str | os.PathLike | None = None,
    own_dir: str | os.PathLike | None = None,
) -> Path:
    """Write ``<run_dir>/report/index.html`` (or ``out``) from the run folder's stages.

    ``own_dir``: where the report stage's own tables are (its staging folder while it runs);
    the page is written there too unless ``out`` is given.
    """
    folder = RunFolder(run_dir)
    run_dir = folder.root
    own = Path(own_dir) if own_dir is not None else folder.stage_dir("report")
    target = Path(out) if out is not None else own / "index.html"
    page_dir = folder.stage_dir("report") if out is None else target.parent
    manifests = {s: folder.manifest(s) for s in STAGES}
    cfg = folder.config()
    found = read_findings(folder)
    resamples = bootstrap_resamples(folder)
    sections = []
    n_figures = 0
    for spec in SECTIONS:
        sec = _Section(spec.id, spec.title, _intro(spec, resamples, found))
        if spec.stages == ("report",):  # written by the report stage itself, just before
            blocks = [_render_table(own, t, "report") for t in spec.tables]
            sec.blocks = [b for b in blocks if b is not None]
            if sec.blocks:
                sections.append(sec)
            continue
        offs = [_off_reason(s, manifests[s]) for s in spec.stages]
        if all(offs):
            sec.off = " ".join(offs)
            sections.append(sec)
            continue
        for fig in _section_figures(folder, spec.id, found):
            sec.blocks.append(
                {
                    "kind": "figure",
                    "id": fig.id,
                    "html": figure_html(fig.id, fig.title, fig.spec, fig.caption),
                }
            )
            n_figures += 1
        for s in spec.stages:
            m = manifests[s] or {}
            sec.notes.extend(m.get("notes", []))
            for t in spec.tables:
                block = _render_table(folder.stage_dir(s), t, s)
                if block is not None:
                    sec.blocks.append(block)
            for png in folder.figures(s):
                sec.static.append(os.path.relpath(png, page_dir))
                if not evidence.replaced(s, png.stem):
                    sec.blocks.append(
                        {"kind": "image", "title": _figure_title(png), "data": _embed(png)}
                    )
        sections.append(sec)
    ids = {"findings", "classifiers", "masking", "survival", "enrichment", "drivers"}
    ids |= {b["id"] for sec in sections for b in sec.blocks if b.get("id")}
    versions = (manifests.get("load") or {}).get("versions") or {}
    if not versions:
        versions = package_versions()
    config_toml = _shown_config(run_dir, cfg)
    env = Environment(
        loader=PackageLoader("radiogenomics.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
    )
    title = (cfg.get("report") or {}).get(
        "title"
    ) or f"Radiogenomics study: {cfg.get('name', run_dir.name)}"
    page = env.get_template("report.html.j2").render(
        title=title,
        version=__version__,
        run_dir=shown_run_dir(run_dir, cfg),
        built=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        assets=assets_html(with_figures=n_figures > 0),
        findings=_findings_blocks(found, ids, resamples),
        stages=_stage_rows(folder, manifests),
        sections=sections,
        methods=(
            methods_text(
                cfg,
                manifests,
                folder.table_if_done("load", "tasks"),
                resamples,
                expression=_load_report(folder),
                survival=found.survival_cohort,
            )
            if cfg
            else []
        ),
        versions=versions,
        config_toml=config_toml,
    )
    from radiogenomics.utils.io import atomic_write

    atomic_write(target, lambda p: p.write_text(page, encoding="utf-8"))
    return target
