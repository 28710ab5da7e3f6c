"""Stage ``survival``: adapter over radiogenomics.survival (METHOD.md 7).

Variables: the imaging traits (binary tasks), the radiogenomic traits when that stage ran, and
the covariates gender, race (white vs not) and age over the median of the transcriptome cohort.
One analysis per outcome (OS, PFS), written with an ``os_``/``pfs_`` prefix, plus combined
tables the report reads.
"""

from __future__ import annotations

import json

import pandas as pd

from radiogenomics.pipeline.comparison_stage import binary_traits
from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.interpret_stage import labelled_patients
from radiogenomics.pipeline.load import study_data

FORCED = {"gender": "gender_male", "race": "race_white", "age": "age_over_median"}


def imaging_classes(sd, traits: list[str]) -> dict[str, tuple[str, str]]:
    """Each binary imaging trait's (other class, positive class): its groups 0 and 1."""
    out = {}
    for task in traits:
        pos = sd.positive(task)
        if pos is None:
            continue
        others = sorted({str(c) for c in sd.targets[task].dropna()} - {str(pos)})
        out[task] = (others[0] if len(others) == 1 else f"not {pos}", str(pos))
    return out


def run_survival(ctx) -> dict:
    from radiogenomics.survival import run_survival as analyse
    from radiogenomics.survival import survival_variables, write_survival
    from radiogenomics.survival.plots import group_labels

    s = ctx.cfg.survival
    sd = study_data(ctx)
    imaging = binary_traits(sd) if sd.kind == "imaging" else None
    radiogenomic = None
    if ctx.done("radiogenomic_traits"):
        radiogenomic = ctx.read("radiogenomic_traits", "traits", index="patient")
        if radiogenomic.shape[1] == 0:
            radiogenomic = None
    patients = list(labelled_patients(sd))
    # METHOD.md 1: age is split at the median of the whole transcriptome cohort (every patient
    # with expression), not of the clinical file nor of the labelled patients alone.
    transcriptome = sd.clinical.index.intersection(sd.expression.index)
    sv = survival_variables(
        sd.clinical,
        imaging,
        radiogenomic,
        reference_ages=sd.clinical.loc[transcriptome, "age"],
        min_patients=s.min_patients,
        patients=patients,
    )
    for n in sv.notes:
        ctx.note(n)
    table = sv.table.copy()
    table.index.name = "patient"
    ctx.table(table, "variables", index=True)
    forced = [FORCED[f] for f in s.forced if FORCED[f] in sv.covariates]
    # the KM legends name the groups: the trait's classes, absent/present, female/male
    labels = group_labels(sv.covariates, imaging_classes(sd, sv.imaging), sv.radiogenomic)
    cox, logrank, lrt, comparisons = [], [], [], []
    for outcome in s.outcomes:
        duration, event = f"{outcome}_days", f"{outcome}_event"
        if duration not in table.columns or table[duration].notna().sum() == 0:
            ctx.note(f"{outcome.upper()}: no patient has this outcome; analysis skipped")
            continue
        analysis = analyse(
            table,
            duration,
            event,
            forced=forced,
            candidates=sv.candidates,
            direction=s.direction,
            criterion=s.criterion,
            panels={
                "covariates": forced,
                "imaging": sv.imaging,
                "radiogenomic": sv.radiogenomic,
            },
            # the paper's comparison: the same selection without the radiogenomic traits
            # (written even when no trait was found: the two models are then the same)
            radiogenomic=list(sv.radiogenomic),
        )
        for n in analysis.notes:
            ctx.log.info("survival %s: %s", outcome, n)
        write_survival(analysis, ctx.dir / "tables", prefix=f"{outcome}_", labels=labels)
        t3 = analysis.stepwise.summary.copy()
        t3.insert(0, "outcome", outcome.upper())
        cox.append(t3)
        lr = analysis.logrank.copy()
        lr.insert(0, "outcome", outcome.upper())
        logrank.append(lr)
        sw = analysis.stepwise
        lrt.append(
            {
                "outcome": outcome.upper(),
                "n": sw.n,
                "events": sw.events,
                "final variables": ", ".join(sw.variables),
                "LR statistic": sw.lr_test.statistic,
                "df": sw.lr_test.df,
                "p": sw.lr_test.p,
            }
        )
        if analysis.comparison is not None:
            tests = analysis.comparison.tests.copy()
            tests.insert(0, "outcome", outcome.upper())
            comparisons.append(tests)
    if not cox:
        raise StageSkipped("no outcome could be analysed")
    ctx.table(pd.concat(cox, ignore_index=True), "cox_table")
    ctx.table(pd.concat(logrank, ignore_index=True), "logrank")
    ctx.table(pd.DataFrame(lrt), "lrt")
    if comparisons:  # full model vs clinical + imaging only, per outcome
        ctx.table(pd.concat(comparisons, ignore_index=True), "model_comparison")
    # figures written next to the tables by the library go to figures/
    figs = ctx.dir / "figures"
    figs.mkdir(parents=True, exist_ok=True)
    for f in list((ctx.dir / "tables").glob("*.png")) + list((ctx.dir / "tables").glob("*.svg")):
        f.replace(figs / f.name)
    return json.loads(json.dumps({r["outcome"]: r["final variables"] for r in lrt}, default=str))
