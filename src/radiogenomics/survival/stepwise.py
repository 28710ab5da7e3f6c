"""Stepwise Cox model selection by AIC with R's ``step()`` semantics.

At each step every allowed single move is scored by ``extractAIC`` (-2 log partial likelihood
+ 2 x coefficients; ``log(events)`` instead of 2 for BIC): removals of non-forced variables in
the model (``backward``, ``both``) and additions of candidates outside it (``forward``,
``both``). The move with the lowest AIC is taken when it is strictly lower than the current
model's; ties keep the current model, then favour removals, in model order, over additions, in
candidate order (R's ordering of ``drop1`` then ``add1`` rows under ``<none>``). Forced
covariates are never removed.

Where R would carry on with an infinite coefficient, here a move whose model cannot be
estimated (monotone likelihood, collinearity, no convergence) is skipped and a note says so;
variables that no model can use (constant, no events in a group, a copy of another variable)
are excluded up front with their reason.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from scipy.stats import chi2

from radiogenomics.errors import InputError
from radiogenomics.survival._frame import SurvivalWarning, check_table, prepare, warn
from radiogenomics.survival.cox import (
    CoxFit,
    cox_univariate,
    design_problem,
    fit_cox,
    require_events,
)
from radiogenomics.utils.results import ResultMixin, new_axes
from radiogenomics.utils.text import count

DIRECTIONS = ("both", "forward", "backward")
CRITERIA = ("aic", "bic")


@dataclass(frozen=True)
class LikelihoodRatio:
    """Likelihood-ratio test of a model against the null model (R's ``Likelihood ratio test``)."""

    statistic: float
    df: int
    p: float


@dataclass
class StepwiseResult(ResultMixin):
    """The chosen Cox model and how it was reached.

    ``model``: the final lifelines fit (None when the final model has no covariates).
    ``path``: one row per step taken (step, action start/add/drop, variable, aic, variables).
    ``trace``: every move scored at every step (step, action, variable, aic, note), like R's
    ``step(trace = 1)`` tables. ``summary``: the paper's Table 3 for the final model (univariate
    and adjusted HR with 95% CI and p). ``univariate``: each usable variable alone, on the same
    patients. ``excluded``: variable -> reason it was left out before selection.
    ``table`` is ``summary``.
    """

    TITLE = "Stepwise Cox selection"
    SETTINGS = (
        "direction",
        "criterion",
        "forced",
        "candidates",
        "variables",
        "aic",
        "n",
        "events",
        "lr_p",
    )

    model: CoxPHFitter | None
    variables: list[str]
    forced: list[str]
    candidates: list[str]
    direction: str
    criterion: str
    aic: float
    loglik: float
    lr_test: LikelihoodRatio
    path: pd.DataFrame
    trace: pd.DataFrame
    summary: pd.DataFrame
    univariate: pd.DataFrame
    n: int
    events: int
    n_removed: int
    excluded: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def table(self) -> pd.DataFrame:
        return self.summary

    @property
    def lr_p(self) -> float:
        """p of the likelihood-ratio test of the final model against the null model."""
        return self.lr_test.p

    @property
    def empty_text(self) -> str:
        """Why the final model holds no variable (a figure or console says it instead of an
        empty table)."""
        if not self.candidates:
            return "no variable in the final model: no forced variable and no usable candidate"
        n = len(self.candidates)
        crit = self.criterion.upper()
        how = "stepwise" if self.direction == "both" else self.direction
        return (
            f"no variable in the final model: {how} selection by {crit} kept none "
            f"of the {count(n, 'candidate')} ({crit} {self.aic:.2f} without "
            "variables)"
        )

    def plot(self, ax=None, adjusted: bool = True, title: str | None = None):
        """Forest plot of the final model's hazard ratios (adjusted, or each variable alone
        with ``adjusted=False``), on ``ax`` or a new figure. Returns the Axes."""
        from radiogenomics.survival.plots import draw_forest

        kind = "adjusted" if adjusted else "univariate"
        cols = [f"{c}_{kind}" for c in ("hr", "ci_low", "ci_high", "p")]
        ax = new_axes(ax, figsize=(7.5, 0.45 * max(len(self.summary), 1) + 1.4))
        return draw_forest(ax, self.summary, *cols, title=title, empty=self.empty_text)


def format_hr(hr: float, low: float, high: float) -> str:
    """``1.52 (1.01-2.29)``; empty when not estimated."""
    if not np.isfinite(hr):
        return ""
    return f"{hr:.2f} ({low:.2f}-{high:.2f})"


def _screen(
    frame: pd.DataFrame, duration: str, event: str, variables: Sequence[str]
) -> dict[str, str]:
    """Variables no model can use: constant, no events in a group, or a copy (or complement)
    of an earlier variable. Forced covariates come first, so a copy of one is the candidate."""
    excluded: dict[str, str] = {}
    kept: list[str] = []
    for var in variables:
        single = design_problem(frame, duration, event, [var])
        if single is not None:
            excluded[var] = single
            continue
        x = frame[var].to_numpy(float)
        x = x - x.mean()
        for other in kept:
            y = frame[other].to_numpy(float)
            y = y - y.mean()
            r = abs(float(x @ y)) / math.sqrt(float(x @ x) * float(y @ y))
            if r > 1 - 1e-10:
                excluded[var] = f"collinear with {other} (identical or complementary)"
                break
        else:
            kept.append(var)
    return excluded


def cox_stepwise(
    df: pd.DataFrame,
    duration: str,
    event: str,
    candidates: Sequence[str],
    forced: Sequence[str] = (),
    direction: str = "both",
    criterion: str = "aic",
    max_steps: int = 1000,
) -> StepwiseResult:
    """Select a multivariable Cox model by stepwise AIC (R's ``step``), always keeping
    ``forced``; ``both`` and ``forward`` start from the forced covariates, ``backward`` from
    forced + all candidates. Patients missing any of the variables are removed (counted)."""
    if direction not in DIRECTIONS:
        raise InputError(f"unknown direction {direction!r}", expected=" or ".join(DIRECTIONS))
    if criterion not in CRITERIA:
        raise InputError(f"unknown criterion {criterion!r}", expected=" or ".join(CRITERIA))
    if isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer) or max_steps < 1:
        raise InputError(f"max_steps={max_steps!r}", field="max_steps", expected="an integer >= 1")
    for name, names in (("candidates", candidates), ("forced", forced)):
        if isinstance(names, str):  # list("edema") would be five one-letter columns
            raise InputError(
                f"{name} = {names!r} is one string", field=name, expected=f"a list: [{names!r}]"
            )
    forced, candidates = list(forced), list(candidates)
    both_lists = sorted(set(forced) & set(candidates))
    if both_lists:
        raise InputError(
            f"{both_lists} listed as forced and as candidates", expected="each variable once"
        )
    check_table(df, duration, event, forced + candidates)
    notes: list[str] = []
    excluded: dict[str, str] = {}

    def note(text: str) -> None:
        notes.append(text)
        warn(text)

    for var in forced + candidates:
        if df[var].isna().all():
            excluded[var] = "no patient has a value"
    usable = [v for v in forced + candidates if v not in excluded]
    prep = prepare(df, duration, event, usable)
    frame = prep.frame
    require_events(frame, event, "the stepwise Cox model")
    if prep.n_removed:
        note(prep.removed_text())
    excluded.update(_screen(frame, duration, event, usable))
    for var, reason in excluded.items():
        role = "forced covariate" if var in forced else "candidate"
        note(f"{role} {var} excluded: {reason}")
    penalty = 2.0 if criterion == "aic" else math.log(float(frame[event].sum()))

    cache: dict[tuple[str, ...], CoxFit] = {}

    def fit(variables: list[str]) -> CoxFit:
        key = tuple(sorted(variables))
        if key not in cache:
            cache[key] = fit_cox(frame, duration, event, variables)
        return cache[key]

    base = [v for v in forced if v not in excluded]
    while not fit(base).ok:
        dropped = base.pop()
        excluded[dropped] = fit(base + [dropped]).reason or ""
        note(
            f"forced covariate {dropped} excluded: the covariates' model failed: "
            f"{excluded[dropped]}"
        )
    pool = [v for v in candidates if v not in excluded]
    current = base + pool if direction == "backward" else list(base)
    path = [_path_row(0, "start", "", fit(current), penalty)]
    trace: list[dict[str, object]] = []
    if not fit(current).ok:
        note(f"the starting model failed ({fit(current).reason}); stepping down from it")

    for step in range(1, max_steps + 1):
        moves: list[tuple[str, str, list[str]]] = []
        if direction in ("backward", "both"):
            moves += [("drop", v, [u for u in current if u != v]) for v in current if v in pool]
        if direction in ("forward", "both"):
            moves += [("add", v, current + [v]) for v in pool if v not in current]
        now = fit(current).aic(penalty)
        trace.append({"step": step, "action": "none", "variable": "", "aic": now, "note": ""})
        best: tuple[float, str, str, list[str]] | None = None
        for action, var, variables in moves:
            f = fit(variables)
            a = f.aic(penalty)
            trace.append(
                {"step": step, "action": action, "variable": var, "aic": a, "note": f.reason or ""}
            )
            if not f.ok:
                text = f"{'adding' if action == 'add' else 'dropping'} {var} skipped: {f.reason}"
                if text not in notes:
                    note(text)
                continue
            if best is None or a < best[0]:
                best = (a, action, var, variables)
        if best is None and not fit(current).ok and any(v in pool for v in current):
            # A failed model with no estimable neighbour: drop the variable the failure is
            # blamed on (else the last candidate) and go on from there.
            blamed = fit(current).culprit
            out = blamed if blamed in pool else [v for v in current if v in pool][-1]
            current = [v for v in current if v != out]
            note(f"dropping {out}: no model one step from the failed one could be estimated")
            path.append(_path_row(step, "drop", out, fit(current), penalty))
            continue
        if best is None or not best[0] < now:
            break
        _, action, var, current = best
        path.append(_path_row(step, action, var, fit(current), penalty))
    else:
        note(f"stopped after max_steps={max_steps} steps")

    final = fit(current)
    if not final.ok:  # only when no estimable model was reachable: fall back on the covariates
        note(f"no estimable model beyond the covariates ({final.reason})")
        current, final = list(base), fit(base)
    null_ll = fit([]).loglik
    stat = max(0.0, 2.0 * (final.loglik - null_ll))
    lr = LikelihoodRatio(
        statistic=stat,
        df=final.k,
        p=float(chi2.sf(stat, final.k)) if final.k else 1.0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurvivalWarning)
        uni = cox_univariate(frame, duration, event, [v for v in usable if v not in excluded]).table
    uni = uni.drop(columns="n_removed")
    return StepwiseResult(
        model=final.model,
        variables=list(current),
        forced=list(base),
        candidates=pool,
        direction=direction,
        criterion=criterion,
        aic=final.aic(penalty),
        loglik=final.loglik,
        lr_test=lr,
        path=pd.DataFrame(path),
        trace=pd.DataFrame(trace, columns=["step", "action", "variable", "aic", "note"]),
        summary=_table3(final, uni, base),
        univariate=uni,
        n=prep.n,
        events=int(frame[event].sum()),
        n_removed=prep.n_removed,
        excluded=excluded,
        notes=notes,
    )


def _path_row(step: int, action: str, variable: str, f: CoxFit, penalty: float) -> dict:
    return {
        "step": step,
        "action": action,
        "variable": variable,
        "aic": f.aic(penalty),
        "n_variables": f.k,
        "variables": ";".join(f.variables),
    }


def _table3(final: CoxFit, uni: pd.DataFrame, forced: list[str]) -> pd.DataFrame:
    """The paper's Table 3: per variable of the final model, univariate and adjusted HR."""
    cols = [
        "variable",
        "role",
        "hr_univariate",
        "ci_low_univariate",
        "ci_high_univariate",
        "p_univariate",
        "hr_adjusted",
        "ci_low_adjusted",
        "ci_high_adjusted",
        "p_adjusted",
        "univariate HR (95% CI)",
        "adjusted HR (95% CI)",
    ]
    if not final.ok or not final.variables:
        return pd.DataFrame(columns=cols)
    u = uni.set_index("variable")
    s = final.summary()  # the Newton fit's, R's to 1e-9; lifelines stops near 1e-5
    rows = []
    for var in final.variables:
        ur, ar = u.loc[var], s.loc[var]
        row = {
            "variable": var,
            "role": "forced" if var in forced else "selected",
            "hr_univariate": float(ur["hr"]),
            "ci_low_univariate": float(ur["ci_low"]),
            "ci_high_univariate": float(ur["ci_high"]),
            "p_univariate": float(ur["p"]),
            "hr_adjusted": float(ar["hr"]),
            "ci_low_adjusted": float(ar["ci_low"]),
            "ci_high_adjusted": float(ar["ci_high"]),
            "p_adjusted": float(ar["p"]),
        }
        row["univariate HR (95% CI)"] = format_hr(
            row["hr_univariate"], row["ci_low_univariate"], row["ci_high_univariate"]
        )
        row["adjusted HR (95% CI)"] = format_hr(
            row["hr_adjusted"], row["ci_low_adjusted"], row["ci_high_adjusted"]
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)
