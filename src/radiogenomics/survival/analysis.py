"""One survival analysis of one outcome: Kaplan-Meier and log-rank per variable, univariate Cox,
stepwise Cox; and the tables and figures it leaves in a folder."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.survival._frame import SurvivalWarning, check_table, require_binary
from radiogenomics.survival.comparison import (
    ModelComparison,
    compare_without_traits,
    write_model_comparison,
)
from radiogenomics.survival.cox import cox_univariate
from radiogenomics.survival.km import KaplanMeierResult, kaplan_meier, logrank_row
from radiogenomics.survival.plots import plot_forest, plot_km_grid
from radiogenomics.survival.stepwise import StepwiseResult, cox_stepwise
from radiogenomics.utils.figures import save_figure
from radiogenomics.utils.io import write_json, write_table


@dataclass
class SurvivalAnalysis:
    """Everything computed for one outcome (``duration``, ``event``) over a variable table."""

    duration: str
    event: str
    km: dict[str, KaplanMeierResult]
    logrank: pd.DataFrame
    univariate: pd.DataFrame
    stepwise: StepwiseResult
    panels: dict[str, list[str]]
    notes: list[str] = field(default_factory=list)
    comparison: ModelComparison | None = None  # clinical + imaging model vs the full one


def run_survival(
    df: pd.DataFrame,
    duration: str,
    event: str,
    forced: Sequence[str],
    candidates: Sequence[str] = (),
    direction: str = "both",
    criterion: str = "aic",
    panels: Mapping[str, Sequence[str]] | None = None,
    radiogenomic: Sequence[str] | None = None,
) -> SurvivalAnalysis:
    """KM + log-rank and univariate Cox for every variable (each on its own complete cases),
    then stepwise Cox over ``candidates`` keeping ``forced``. ``panels`` groups variables into
    KM figures (e.g. imaging vs radiogenomic traits); default one panel per role.

    ``radiogenomic``: the candidates that are radiogenomic traits. When given, the same
    selection also runs without them (the clinical + imaging model) and is compared with the
    full model (:func:`~radiogenomics.survival.comparison.compare_without_traits`)."""
    forced, candidates = list(forced), list(candidates)
    if radiogenomic is not None:
        stray = [v for v in radiogenomic if v not in candidates]
        if stray:
            raise InputError(
                f"radiogenomic variable(s) {stray} are not candidates",
                field="radiogenomic",
                expected="a subset of the candidates",
            )
    variables = forced + candidates
    check_table(df, duration, event, variables)
    for var in variables:
        require_binary(df, var)
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SurvivalWarning)
        km = {v: kaplan_meier(df, duration, event, v) for v in variables}
        univariate = cox_univariate(df, duration, event, variables).table
    for w in caught:
        if issubclass(w.category, SurvivalWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for text in notes:
        warnings.warn(text, SurvivalWarning, stacklevel=2)
    stepwise = cox_stepwise(df, duration, event, candidates, forced, direction, criterion)
    if panels is None:
        panels = {"covariates": forced, "candidates": candidates}
    panels = {name: [v for v in vs if v in km] for name, vs in panels.items() if vs}
    comparison = None
    if radiogenomic is not None:
        rg = list(radiogenomic)
        imaging = [v for v in candidates if v not in rg]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SurvivalWarning)  # the same notes as above
            comparison = compare_without_traits(
                df, duration, event, forced, imaging, rg, direction, criterion
            )
    return SurvivalAnalysis(
        duration=duration,
        event=event,
        km=km,
        logrank=pd.DataFrame([logrank_row(k) for k in km.values()]),
        univariate=univariate,
        stepwise=stepwise,
        panels=panels,
        notes=notes + stepwise.notes,
        comparison=comparison,
    )


def write_survival(
    analysis: SurvivalAnalysis,
    out: str | os.PathLike,
    prefix: str = "",
    time_label: str = "days",
    labels: Mapping[str, tuple[str, str]] | None = None,
) -> list[Path]:
    """Write the analysis's tables (Parquet + CSV), figures (PNG + SVG) and a JSON summary into
    ``out``, each name starting with ``prefix`` (e.g. ``os_``). Returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sw = analysis.stepwise
    written: list[Path] = []

    def table(df: pd.DataFrame, name: str) -> None:
        stem = write_table(df, out / f"{prefix}{name}")
        written.extend([stem.with_suffix(".parquet"), stem.with_suffix(".csv")])

    curves = pd.concat(
        [k.curves.assign(variable=v) for v, k in analysis.km.items()], ignore_index=True
    )
    table(curves[["variable", *[c for c in curves.columns if c != "variable"]]], "km_curves")
    table(analysis.logrank, "logrank")
    table(analysis.univariate, "cox_univariate")
    table(sw.summary, "cox_table3")
    table(sw.path, "cox_stepwise_path")
    table(sw.trace, "cox_stepwise_trace")
    if sw.model is not None:
        final = sw.model.summary.reset_index().rename(columns={"covariate": "variable"})
        table(final, "cox_final_model")
    summary = {
        "duration": analysis.duration,
        "event": analysis.event,
        "direction": sw.direction,
        "criterion": sw.criterion,
        "n": sw.n,
        "events": sw.events,
        "n_removed": sw.n_removed,
        "forced": sw.forced,
        "candidates": sw.candidates,
        "final_variables": sw.variables,
        "aic": sw.aic,
        "loglik": sw.loglik,
        "likelihood_ratio_test": {
            "statistic": sw.lr_test.statistic,
            "df": sw.lr_test.df,
            "p": sw.lr_test.p,
        },
        "excluded": sw.excluded,
        "notes": analysis.notes,
    }
    cmp = analysis.comparison
    if cmp is not None:
        written.extend(write_model_comparison(cmp, out, prefix))
        ci = cmp.clinical_imaging
        summary["clinical_imaging"] = {
            "final_variables": ci.variables,
            "aic": ci.aic,
            "loglik": ci.loglik,
            "n": ci.n,
            "events": ci.events,
            "tests": json.loads(cmp.tests.to_json(orient="records", double_precision=15)),
            "notes": cmp.notes,
        }
    written.append(write_json(out / f"{prefix}survival_summary.json", summary))
    what = {"os_days": "overall survival", "pfs_days": "progression-free survival"}.get(
        analysis.duration, analysis.duration
    )
    for name, variables in analysis.panels.items():
        fig = plot_km_grid(
            [analysis.km[v] for v in variables],
            title=f"{what}: {name}",
            labels=labels,
            time_label=time_label,
        )
        written.extend(save_figure(fig, out / f"{prefix}km_{name}"))
    lr = sw.lr_test
    fig = plot_forest(
        sw.summary,
        title=f"{what}: final Cox model (n={sw.n}, {sw.events} events"
        + (")" if sw.summary.empty else f"; LR test p={lr.p:.3g})"),
        empty=sw.empty_text,
    )
    written.extend(save_figure(fig, out / f"{prefix}cox_forest"))
    return written
