"""Cox proportional-hazards fits that report, rather than hide, what small cohorts do to them.

Every fit goes through :func:`fit_cox`, which refuses a design it cannot estimate (a constant
variable, a binary variable with no events in one group, collinear columns) and a fit whose
likelihood is monotone (a coefficient running off to infinity under perfect separation) or
that did not converge, returning the reason instead of a model. Ties use Efron's method, as
R's ``coxph`` does by default (lifelines' ``CoxPHFitter`` also uses Efron).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError, ConvergenceWarning

from radiogenomics.errors import InputError
from radiogenomics.survival._frame import is_binary, prepare, warn
from radiogenomics.survival.likelihood import partial_log_likelihood

# A standardised coefficient (coef x sd of the variable) beyond this is a hazard ratio of
# e^10 per standard deviation: no cohort supports it; it is the signature of a monotone
# likelihood (perfect separation), where the fitter stops on a tolerance, not at a maximum.
MAX_STD_COEF = 10.0
MAX_STD_SE = 10.0


@dataclass
class CoxFit:
    """One Cox fit: the lifelines model (None for the null model or a refused fit), its partial
    log-likelihood, number of coefficients and, for a refused fit, the reason."""

    variables: list[str]
    model: CoxPHFitter | None
    loglik: float
    reason: str | None = None
    culprit: str | None = None  # the variable a refused fit is blamed on, when one is

    @property
    def ok(self) -> bool:
        return self.reason is None

    @property
    def k(self) -> int:
        return len(self.variables)

    def aic(self, penalty: float = 2.0) -> float:
        """R's ``extractAIC`` for ``coxph``: -2 log partial likelihood + penalty x coefficients."""
        if not self.ok:
            return float("inf")
        return -2.0 * self.loglik + penalty * self.k


def design_problem(
    frame: pd.DataFrame, duration: str, event: str, variables: Sequence[str]
) -> str | None:
    """Why a Cox model on these columns cannot be estimated, or None when it can."""
    if frame[event].sum() == 0:
        return "no events"
    events = frame[event].to_numpy() > 0
    for var in variables:
        x = frame[var].to_numpy(float)
        if np.ptp(x) == 0:
            return f"{var} is constant ({x[0]:g} for every patient)"
        if is_binary(x):
            for g in (0.0, 1.0):
                if not events[x == g].any():
                    return (
                        f"{var} has no events in group {g:g} (monotone likelihood: "
                        "its hazard ratio is 0 or infinite)"
                    )
    if len(variables) > 1:
        x = frame[list(variables)].to_numpy(float)
        x = x - x.mean(axis=0)
        rank = np.linalg.matrix_rank(x)
        if rank < len(variables):
            return f"collinear variables {list(variables)} (rank {rank} < {len(variables)})"
    return None


def _culprit(frame: pd.DataFrame, variables: Sequence[str]) -> str | None:
    """The last variable that no model can use alone or that the others already span."""
    x = frame[list(variables)].to_numpy(float)
    x = x - x.mean(axis=0)
    rank = np.linalg.matrix_rank(x)
    for i in range(len(variables) - 1, -1, -1):
        col = x[:, i]
        if np.ptp(col) == 0:
            return variables[i]
        if len(variables) > 1 and np.linalg.matrix_rank(np.delete(x, i, axis=1)) == rank:
            return variables[i]
    return None


def fit_cox(frame: pd.DataFrame, duration: str, event: str, variables: Sequence[str]) -> CoxFit:
    """Fit a Cox model on complete-case ``frame`` (floats), or return the reason it cannot be.

    With no variables, the null model's log-likelihood (R's ``loglik[1]``), computed directly.
    """
    variables = list(variables)
    if not variables:
        ll = partial_log_likelihood(frame[duration].to_numpy(), frame[event].to_numpy())
        return CoxFit(variables, None, ll)
    problem = design_problem(frame, duration, event, variables)
    if problem is not None:
        blamed = next((v for v in variables if problem.startswith(f"{v} ")), None)
        if blamed is None and problem.startswith("collinear"):
            blamed = _culprit(frame, variables)
        return CoxFit(variables, None, float("nan"), problem, blamed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = CoxPHFitter().fit(frame[[duration, event, *variables]], duration, event)
        except (ConvergenceError, np.linalg.LinAlgError, ValueError, ZeroDivisionError) as err:
            first = str(err).split(".")[0]
            return CoxFit(variables, None, float("nan"), f"the fit failed: {first}")
    sd = frame[variables].std(ddof=0).to_numpy()
    coef = model.params_.to_numpy() * sd
    se = model.standard_errors_.to_numpy() * sd
    if not (np.isfinite(coef).all() and np.isfinite(se).all()):
        return CoxFit(variables, None, float("nan"), "non-finite coefficients")
    worst = int(np.argmax(np.abs(coef)))
    if abs(coef[worst]) > MAX_STD_COEF or se.max() > MAX_STD_SE:
        name = variables[worst] if abs(coef[worst]) > MAX_STD_COEF else variables[se.argmax()]
        return CoxFit(
            variables,
            None,
            float("nan"),
            f"monotone likelihood: the coefficient of {name} diverges (perfect separation)",
            name,
        )
    stalled = [
        w
        for w in caught
        if issubclass(w.category, ConvergenceWarning) and "norm(delta)" in str(w.message)
    ]
    if stalled:
        return CoxFit(variables, None, float("nan"), "did not converge")
    return CoxFit(variables, model, float(model.log_likelihood_))


def cox_univariate(
    df: pd.DataFrame, duration: str, event: str, variables: Sequence[str]
) -> pd.DataFrame:
    """Each variable alone in a Cox model: hazard ratio with 95% CI and Wald p (as R's
    ``summary(coxph)``), on the patients with that variable, duration and event present.

    Columns: variable, n, events, n_removed, coef, se, hr, ci_low, ci_high, p, note. A variable
    that cannot be estimated gets NaN numbers, its reason in ``note``, and a warning.
    """
    rows = []
    for var in variables:
        prep = prepare(df, duration, event, [var])
        frame = prep.frame
        row: dict[str, object] = {
            "variable": var,
            "n": prep.n,
            "events": int(frame[event].sum()),
            "n_removed": prep.n_removed,
        }
        nan = float("nan")
        if prep.n == 0:
            fit = CoxFit([var], None, nan, "no patient with a value")
        else:
            fit = fit_cox(frame, duration, event, [var])
        if fit.ok:
            s = fit.model.summary.loc[var]
            row.update(
                coef=float(s["coef"]),
                se=float(s["se(coef)"]),
                hr=float(s["exp(coef)"]),
                ci_low=float(s["exp(coef) lower 95%"]),
                ci_high=float(s["exp(coef) upper 95%"]),
                p=float(s["p"]),
                note="",
            )
        else:
            row.update(coef=nan, se=nan, hr=nan, ci_low=nan, ci_high=nan, p=nan)
            row["note"] = f"excluded: {fit.reason}"
            warn(f"univariate Cox, {var}: {fit.reason}")
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "variable",
            "n",
            "events",
            "n_removed",
            "coef",
            "se",
            "hr",
            "ci_low",
            "ci_high",
            "p",
            "note",
        ],
    )


def require_events(frame: pd.DataFrame, event: str, what: str) -> None:
    """Refuse an analysis left with no patients or no events (nothing to estimate)."""
    if len(frame) == 0:
        raise InputError(f"no patient left for {what} after removing missing values")
    if frame[event].sum() == 0:
        raise InputError(
            f"no events among the {len(frame)} patients of {what}",
            field=event,
            expected="at least one observed event (1)",
        )
