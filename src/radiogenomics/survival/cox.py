"""Cox proportional-hazards fits that report, rather than hide, what small cohorts do to them.

Every fit goes through :func:`fit_cox`, which refuses a design it cannot estimate (a constant
variable, a binary variable with no events in one group, collinear columns) and a fit whose
likelihood is monotone (a coefficient running off to infinity under perfect separation) or
that did not converge, returning the reason instead of a model. Ties use Efron's method, as
R's ``coxph`` does by default (lifelines' ``CoxPHFitter`` also uses Efron).

Model search fits hundreds of small models, so the estimates come from a vectorised
Newton-Raphson over arrays (:func:`~radiogenomics.survival.likelihood.fit_efron`, R's
algorithm); the lifelines model of a fit (``CoxFit.model``) is built on demand for the models a
user keeps, and the tests hold the two to the same numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy.stats import chi2, norm

from radiogenomics.errors import InputError
from radiogenomics.survival._frame import is_binary, prepare, warn
from radiogenomics.survival.likelihood import fit_efron, partial_log_likelihood
from radiogenomics.utils.results import ResultMixin, new_axes

# A standardised coefficient (coef x sd of the variable) beyond this is a hazard ratio of
# e^10 per standard deviation: no cohort supports it; it is the signature of a monotone
# likelihood (perfect separation), where the fitter stops on a tolerance, not at a maximum.
MAX_STD_COEF = 10.0
MAX_STD_SE = 10.0


@dataclass
class CoxFit:
    """One Cox fit: coefficients, standard errors and partial log-likelihood (the null model's
    for no variables), or, for a refused fit, the reason and the variable it is blamed on."""

    variables: list[str]
    loglik: float
    coef: np.ndarray | None = None
    se: np.ndarray | None = None
    reason: str | None = None
    culprit: str | None = None
    frame: pd.DataFrame | None = field(default=None, repr=False, compare=False)
    duration: str = ""
    event: str = ""

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

    def summary(self, alpha: float = 0.05) -> pd.DataFrame:
        """R's ``summary(coxph)`` table: coef, se, hr, 95% CI, Wald z and p, per variable."""
        cols = ["coef", "se", "hr", "ci_low", "ci_high", "z", "p"]
        if not self.ok or self.coef is None:
            return pd.DataFrame(columns=cols, index=pd.Index(self.variables, name="variable"))
        z = norm.ppf(1 - alpha / 2)
        return pd.DataFrame(
            {
                "coef": self.coef,
                "se": self.se,
                "hr": np.exp(self.coef),
                "ci_low": np.exp(self.coef - z * self.se),
                "ci_high": np.exp(self.coef + z * self.se),
                "z": self.coef / self.se,
                "p": chi2.sf((self.coef / self.se) ** 2, 1),
            },
            index=pd.Index(self.variables, name="variable"),
        )

    @cached_property
    def model(self) -> CoxPHFitter | None:
        """The same model fitted by lifelines (None for the null model or a refused fit)."""
        if not self.ok or not self.variables or self.frame is None:
            return None
        cols = [self.duration, self.event, *self.variables]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = CoxPHFitter().fit(self.frame[cols], self.duration, self.event)
        if abs(model.log_likelihood_ - self.loglik) > 1e-6 * max(1.0, abs(self.loglik)):
            warn(
                f"lifelines and the Newton fit disagree on {self.variables}: log-likelihood "
                f"{model.log_likelihood_:.6f} vs {self.loglik:.6f}"
            )
        return model


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
    ctx = {"frame": frame, "duration": duration, "event": event}
    nan = float("nan")
    if not variables:
        ll = partial_log_likelihood(frame[duration].to_numpy(), frame[event].to_numpy())
        return CoxFit(variables, ll, **ctx)
    problem = design_problem(frame, duration, event, variables)
    if problem is not None:
        blamed = next((v for v in variables if problem.startswith(f"{v} ")), None)
        if blamed is None and problem.startswith("collinear"):
            blamed = _culprit(frame, variables)
        return CoxFit(variables, nan, reason=problem, culprit=blamed, **ctx)
    x = frame[variables].to_numpy(float)
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = fit_efron(frame[duration].to_numpy(), frame[event].to_numpy(), x)
    except np.linalg.LinAlgError:
        return CoxFit(variables, nan, reason="singular information matrix", **ctx)
    sd = x.std(axis=0)
    coef, se = res.coef * sd, res.se * sd
    if not (np.isfinite(coef).all() and np.isfinite(se).all() and np.isfinite(res.loglik)):
        return CoxFit(variables, nan, reason="non-finite coefficients", **ctx)
    worst = int(np.argmax(np.abs(coef)))
    if abs(coef[worst]) > MAX_STD_COEF or se.max() > MAX_STD_SE:
        name = variables[worst] if abs(coef[worst]) > MAX_STD_COEF else variables[se.argmax()]
        reason = f"monotone likelihood: the coefficient of {name} diverges (perfect separation)"
        return CoxFit(variables, nan, reason=reason, culprit=name, **ctx)
    if not res.converged:
        return CoxFit(
            variables, nan, reason=f"no convergence in {res.iterations} iterations", **ctx
        )
    return CoxFit(variables, res.loglik, coef=res.coef, se=res.se, **ctx)


@dataclass
class CoxUnivariateResult(ResultMixin):
    """Each variable alone in a Cox model (see :func:`cox_univariate`); ``table`` has one row
    per variable."""

    TITLE = "Univariate Cox models"
    SETTINGS = ("duration", "event", "variables")

    table: pd.DataFrame
    duration: str
    event: str

    @property
    def variables(self) -> list[str]:
        return list(self.table["variable"])

    def plot(self, ax=None, title: str | None = None):
        """Forest plot of the hazard ratios (95% CI) of the estimated variables, on ``ax`` or
        a new figure. Returns the Axes."""
        from radiogenomics.survival.plots import draw_forest

        n = int(np.isfinite(self.table["hr"].astype(float)).sum())
        ax = new_axes(ax, figsize=(7.5, 0.45 * max(n, 1) + 1.4))
        return draw_forest(ax, self.table, "hr", "ci_low", "ci_high", "p", title)


def cox_univariate(
    df: pd.DataFrame, duration: str, event: str, variables: Sequence[str]
) -> CoxUnivariateResult:
    """Each variable alone in a Cox model: hazard ratio with 95% CI and Wald p (as R's
    ``summary(coxph)``), on the patients with that variable, duration and event present.

    ``table`` columns: variable, n, events, n_removed, coef, se, hr, ci_low, ci_high, p, note.
    A variable that cannot be estimated gets NaN numbers, its reason in ``note``, and a warning.
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
            fit = CoxFit([var], nan, reason="no patient with a value")
        else:
            fit = fit_cox(frame, duration, event, [var])
        if fit.ok:
            s = fit.summary().loc[var]
            row.update({c: float(s[c]) for c in ("coef", "se", "hr", "ci_low", "ci_high", "p")})
            row["note"] = ""
        else:
            row.update(coef=nan, se=nan, hr=nan, ci_low=nan, ci_high=nan, p=nan)
            row["note"] = f"excluded: {fit.reason}"
            warn(f"univariate Cox, {var}: {fit.reason}")
        rows.append(row)
    table = pd.DataFrame(
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
    return CoxUnivariateResult(table=table, duration=duration, event=event)


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
