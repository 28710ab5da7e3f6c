"""The paper's comparison: does a Cox model need the radiogenomic traits? (METHOD 7)

The same stepwise selection runs twice on the same patients: over imaging + radiogenomic traits
(the full model) and over the imaging traits alone (the clinical + imaging model; the clinical
covariates are forced into both). The two final models are compared by AIC and, where one is
nested in the other, by a likelihood-ratio test.

What the likelihood-ratio test assumes: the smaller model's variables are a subset of the
larger model's, both are fitted on the same patients, and then 2 x (difference in log partial
likelihood) is asymptotically chi-square with as many degrees of freedom as extra coefficients.
Two stepwise searches need not end nested (the imaging-only search may keep an imaging trait the
full search replaced by a radiogenomic one); then no chi-square p-value is given, only the AIC
difference, which needs no nesting. A second test is always nested: the full final model against
itself without its radiogenomic terms. Both p-values ignore that the variables were selected on
the same data (they are optimistic, as every post-selection test is).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from scipy.stats import chi2

from radiogenomics.errors import InputError
from radiogenomics.survival._frame import check_table, prepare
from radiogenomics.survival.cox import CoxFit, fit_cox
from radiogenomics.survival.stepwise import StepwiseResult, cox_stepwise
from radiogenomics.utils.io import write_table

MODEL_COLUMNS = [
    "model",
    "variables",
    "n_variables",
    "n",
    "events",
    "loglik",
    "aic",
    "significant",
    "n_significant",
]
TEST_COLUMNS = [
    "comparison",
    "larger",
    "smaller",
    "larger_variables",
    "smaller_variables",
    "n",
    "events",
    "loglik_larger",
    "loglik_smaller",
    "aic_larger",
    "aic_smaller",
    "aic_difference",
    "nested",
    "lr_statistic",
    "df",
    "p",
    "note",
]


@dataclass
class ModelComparison:
    """The full and the clinical + imaging stepwise models and their comparison.

    ``models``: one row per final model (variables, log-likelihood, AIC, the variables with an
    adjusted Wald p < ``alpha``). ``tests``: ``full vs clinical+imaging`` (AIC always; the
    likelihood-ratio test when nested) and ``radiogenomic terms`` (the full final model against
    itself without its radiogenomic variables, always nested).
    """

    full: StepwiseResult
    clinical_imaging: StepwiseResult
    models: pd.DataFrame
    tests: pd.DataFrame
    radiogenomic: list[str]
    n_removed: int
    notes: list[str] = field(default_factory=list)


def likelihood_ratio_row(
    comparison: str,
    larger: CoxFit,
    smaller: CoxFit,
    larger_name: str,
    smaller_name: str,
) -> dict[str, object]:
    """One comparison of two Cox fits on the same patients: AIC difference (larger - smaller;
    negative favours the larger model) and, when ``smaller``'s variables are a subset of
    ``larger``'s, the likelihood-ratio statistic, its degrees of freedom and chi-square p."""
    if larger.frame is not None and smaller.frame is not None:
        if not larger.frame.index.equals(smaller.frame.index):
            raise InputError(
                f"{comparison}: the two models were fitted on different patients",
                expected="both fits on the same complete-case rows",
            )
    nested = set(smaller.variables) <= set(larger.variables)
    aic_l, aic_s = larger.aic(2.0), smaller.aic(2.0)
    row: dict[str, object] = {
        "comparison": comparison,
        "larger": larger_name,
        "smaller": smaller_name,
        "larger_variables": ";".join(larger.variables),
        "smaller_variables": ";".join(smaller.variables),
        "n": len(larger.frame) if larger.frame is not None else float("nan"),
        "events": int(larger.frame[larger.event].sum()) if larger.frame is not None else 0,
        "loglik_larger": larger.loglik,
        "loglik_smaller": smaller.loglik,
        "aic_larger": aic_l,
        "aic_smaller": aic_s,
        "aic_difference": aic_l - aic_s,
        "nested": nested,
        "lr_statistic": float("nan"),
        "df": float("nan"),
        "p": float("nan"),
        "note": "",
    }
    if not (larger.ok and smaller.ok):
        row["note"] = "a model could not be estimated: " + (larger.reason or smaller.reason or "")
        return row
    if not nested:
        extra = sorted(set(smaller.variables) - set(larger.variables))
        row["note"] = (
            f"not nested ({', '.join(extra)} only in the {smaller_name} model): no chi-square "
            "p-value; compare AIC"
        )
        return row
    df = larger.k - smaller.k
    stat = max(0.0, 2.0 * (larger.loglik - smaller.loglik))
    row.update(lr_statistic=stat, df=df, p=float(chi2.sf(stat, df)) if df > 0 else 1.0)
    if df == 0:
        row["note"] = "the same model: nothing to test"
    return row


def compare_without_traits(
    df: pd.DataFrame,
    duration: str,
    event: str,
    forced: Sequence[str],
    imaging: Sequence[str],
    radiogenomic: Sequence[str],
    direction: str = "both",
    criterion: str = "aic",
    alpha: float = 0.05,
) -> ModelComparison:
    """Stepwise Cox over ``imaging`` + ``radiogenomic`` (full) and over ``imaging`` alone
    (clinical + imaging), ``forced`` kept in both, on the same patients: those with every
    variable of the full analysis (a variable no patient has is left out of both), so the
    log-likelihoods and AICs are comparable."""
    forced, imaging, radiogenomic = list(forced), list(imaging), list(radiogenomic)
    overlap = sorted(set(imaging) & set(radiogenomic))
    if overlap:
        raise InputError(
            f"{overlap} listed as imaging and as radiogenomic variables",
            expected="each variable in one group",
        )
    variables = forced + imaging + radiogenomic
    check_table(df, duration, event, variables)
    present = [v for v in variables if not df[v].isna().all()]
    prep = prepare(df, duration, event, present)
    rows = df.loc[prep.frame.index]
    notes: list[str] = []
    if prep.n_removed:
        notes.append(prep.removed_text(", from both models"))
    full = cox_stepwise(rows, duration, event, imaging + radiogenomic, forced, direction, criterion)
    reduced = cox_stepwise(rows, duration, event, imaging, forced, direction, criterion)
    frame = prep.frame
    fit_full = fit_cox(frame, duration, event, full.variables)
    fit_reduced = fit_cox(frame, duration, event, reduced.variables)
    without_rg = [v for v in full.variables if v not in radiogenomic]
    fit_without_rg = fit_cox(frame, duration, event, without_rg)
    tests = pd.DataFrame(
        [
            likelihood_ratio_row(
                "full vs clinical+imaging", fit_full, fit_reduced, "full", "clinical+imaging"
            ),
            likelihood_ratio_row(
                "radiogenomic terms of the full model",
                fit_full,
                fit_without_rg,
                "full",
                "full without radiogenomic terms",
            ),
        ],
        columns=TEST_COLUMNS,
    )
    models = pd.DataFrame(
        [
            _model_row("full", fit_full, alpha),
            _model_row("clinical+imaging", fit_reduced, alpha),
        ],
        columns=MODEL_COLUMNS,
    )
    return ModelComparison(
        full=full,
        clinical_imaging=reduced,
        models=models,
        tests=tests,
        radiogenomic=[v for v in radiogenomic if v in full.variables],
        n_removed=prep.n_removed,
        notes=notes
        + [f"full: {t}" for t in full.notes]
        + [f"clinical+imaging: {t}" for t in reduced.notes],
    )


def _model_row(name: str, fit: CoxFit, alpha: float) -> dict[str, object]:
    summary = fit.summary()
    significant = [str(v) for v, p in summary["p"].items() if p < alpha]
    return {
        "model": name,
        "variables": ";".join(fit.variables),
        "n_variables": fit.k,
        "n": len(fit.frame) if fit.frame is not None else 0,
        "events": int(fit.frame[fit.event].sum()) if fit.frame is not None else 0,
        "loglik": fit.loglik,
        "aic": fit.aic(2.0),
        "significant": ";".join(significant),
        "n_significant": len(significant),
    }


def write_model_comparison(
    comparison: ModelComparison, out: str | os.PathLike, prefix: str = ""
) -> list[Path]:
    """Write as Parquet + CSV: ``<prefix>cox_clinical_imaging_final_model`` (the clinical +
    imaging final model in the layout of ``cox_final_model``), ``<prefix>cox_clinical_imaging_
    table3``, ``<prefix>cox_compared_models`` (``models``) and ``<prefix>cox_model_comparison``
    (``tests``). Returns the paths written."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def table(df: pd.DataFrame, name: str) -> None:
        stem = write_table(df, out / f"{prefix}{name}")
        written.extend([stem.with_suffix(".parquet"), stem.with_suffix(".csv")])

    reduced = comparison.clinical_imaging
    if reduced.model is not None:
        final = reduced.model.summary.reset_index().rename(columns={"covariate": "variable"})
    else:
        final = pd.DataFrame(columns=["variable"])
    table(final, "cox_clinical_imaging_final_model")
    table(reduced.summary, "cox_clinical_imaging_table3")
    table(comparison.models, "cox_compared_models")
    table(comparison.tests, "cox_model_comparison")
    return written
