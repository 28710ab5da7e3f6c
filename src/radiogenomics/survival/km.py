"""Kaplan-Meier curves, median survival and the log-rank test for binary variables.

Numbers follow R's ``survfit``/``survdiff`` defaults: Greenwood variance, a 95% confidence
interval on the log scale (``conf.type = "log"``; ``"log-log"`` is lifelines' default and is
offered too), medians by R's midpoint rule when the curve is flat exactly at 0.5, and the
median's confidence limits where the interval's bands cross 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.statistics import logrank_test
from scipy.stats import norm

from radiogenomics.errors import InputError
from radiogenomics.survival._frame import prepare, require_binary, warn
from radiogenomics.utils.results import ResultMixin, new_axes

_TOL = float(np.sqrt(np.finfo(float).eps))


@dataclass(frozen=True)
class LogRank:
    """Log-rank (Mantel-Cox) test between the groups of one variable."""

    chi2: float
    df: int
    p: float


@dataclass
class KaplanMeierResult(ResultMixin):
    """Kaplan-Meier estimate per group of one binary variable.

    ``curves``: one row per group and observed time (group, time, n_risk, n_event, n_censor,
    survival, se, ci_low, ci_high), ``se`` being the Greenwood standard error of the survival.
    ``medians``: one row per group (group, n, events, median, median_ci_low, median_ci_high);
    NaN where the curve (or band) never reaches 0.5, as R's ``NA``.
    ``table``: the curves with the variable (variable, group, time, ...).
    """

    TITLE = "Kaplan-Meier and log-rank"
    SETTINGS = ("variable", "n", "n_removed", "conf_type", "logrank_p")

    variable: str
    curves: pd.DataFrame
    medians: pd.DataFrame
    logrank: LogRank | None
    n: int
    n_removed: int
    conf_type: str = "log"
    notes: list[str] = field(default_factory=list)

    @property
    def logrank_p(self) -> float:
        return self.logrank.p if self.logrank is not None else float("nan")

    @property
    def table(self) -> pd.DataFrame:
        table = self.curves.copy()
        table.insert(0, "variable", self.variable)
        return table

    def plot(self, ax=None, labels: tuple[str, str] = ("0", "1"), time_label: str = "days"):
        """One Kaplan-Meier panel (a step curve and 95% band per group, censoring ticks, the
        log-rank p and the numbers at risk), on ``ax`` or a new figure. Returns the Axes."""
        from radiogenomics.survival.plots import draw_km

        ax = new_axes(ax, figsize=(4.3, 4.0))
        draw_km(ax, self, labels, time_label)
        return ax


def _quantile_time(
    times: np.ndarray, surv: np.ndarray, xmax: float, p: float = 0.5, tol: float = _TOL
) -> float:
    """First time the curve reaches ``1 - p``; the midpoint of a flat exactly at it (R's rule)."""
    ok = ~np.isnan(surv)
    x = np.concatenate([[0.0], np.asarray(times, float)[ok]])
    y = np.concatenate([[0.0], 1.0 - np.asarray(surv, float)[ok]])
    _, first = np.unique(y, return_index=True)
    keep = np.sort(first)
    x, y = x[keep], y[keep]
    if y.max() < p - tol:
        return float("nan")
    i1 = int(np.argmax(y + tol >= p))
    above = y - tol >= p
    if not above.any():
        return float((x[i1] + xmax) / 2) if abs(p - y[-1]) < tol else float("nan")
    i2 = int(np.argmax(above))
    return float((x[i1] + x[i2]) / 2)


def km_estimate(
    durations: np.ndarray, events: np.ndarray, conf_type: str = "log", alpha: float = 0.05
) -> pd.DataFrame:
    """Kaplan-Meier table of one group at each observed time, with Greenwood CIs."""
    if conf_type not in ("log", "log-log"):
        raise InputError(f"unknown conf_type {conf_type!r}", expected="'log' or 'log-log'")
    kmf = KaplanMeierFitter().fit(durations, events)
    table = kmf.event_table
    table = table[table["removed"] > 0]
    time = table.index.to_numpy(float)
    n_risk = table["at_risk"].to_numpy(float)
    d = table["observed"].to_numpy(float)
    surv = kmf.survival_function_.iloc[:, 0].reindex(table.index).to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        # Greenwood: var(log S) = sum d / (n (n - d)); infinite once S reaches 0 (R's NA).
        cum = np.cumsum(np.where(d > 0, d / (n_risk * (n_risk - d)), 0.0))
        se_log = np.sqrt(cum)
        z = norm.ppf(1 - alpha / 2)
        if conf_type == "log":
            low = surv * np.exp(-z * se_log)
            high = np.minimum(surv * np.exp(z * se_log), 1.0)
        else:
            # log(-log S) scale, lifelines' "exponential Greenwood" interval.
            theta = se_log / np.log(surv)
            low = surv ** np.exp(-z * theta)
            high = surv ** np.exp(z * theta)
            first = cum == 0
            low[first], high[first] = 1.0, 1.0
    dead = ~np.isfinite(se_log) | (surv <= 0)
    low[dead], high[dead] = np.nan, np.nan
    return pd.DataFrame(
        {
            "time": time,
            "n_risk": n_risk.astype(int),
            "n_event": d.astype(int),
            "n_censor": table["censored"].to_numpy(int),
            "survival": surv,
            "se": np.where(dead, np.nan, surv * se_log),
            "ci_low": low,
            "ci_high": high,
        }
    )


def kaplan_meier(
    df: pd.DataFrame,
    duration: str,
    event: str,
    variable: str,
    conf_type: str = "log",
) -> KaplanMeierResult:
    """Kaplan-Meier curve with 95% CI and median survival for each group (0, 1) of a binary
    variable, and the log-rank test between them. Patients missing a value are removed and
    counted; a single-group variable gets curves but no test (a note says why)."""
    prep = prepare(df, duration, event, [variable])
    require_binary(prep.frame, variable)
    frame = prep.frame
    if len(frame) == 0:
        raise InputError(
            "no patient has a duration, an event and a value", field=variable, expected="data"
        )
    notes: list[str] = []
    curves, medians = [], []
    groups = sorted(frame[variable].unique())
    for g in groups:
        sub = frame[frame[variable] == g]
        t = sub[duration].to_numpy()
        e = sub[event].to_numpy()
        est = km_estimate(t, e, conf_type=conf_type)
        est.insert(0, "group", int(g))
        curves.append(est)
        xmax = float(t.max())
        medians.append(
            {
                "group": int(g),
                "n": len(sub),
                "events": int(e.sum()),
                "median": _quantile_time(est["time"], est["survival"], xmax),
                "median_ci_low": _quantile_time(est["time"], est["ci_low"], xmax),
                "median_ci_high": _quantile_time(est["time"], est["ci_high"], xmax),
            }
        )
        if e.sum() == 0:
            notes.append(f"{variable}: no events in group {int(g)}")
    test = None
    if len(groups) < 2:
        notes.append(f"{variable}: a single group ({int(groups[0])}); no log-rank test")
    elif frame[event].sum() == 0:
        notes.append(f"{variable}: no events at all; no log-rank test")
    else:
        a = frame[frame[variable] == 0]
        b = frame[frame[variable] == 1]
        res = logrank_test(a[duration], b[duration], a[event], b[event])
        test = LogRank(chi2=float(res.test_statistic), df=1, p=float(res.p_value))
    for note in notes:
        warn(note)
    return KaplanMeierResult(
        variable=variable,
        curves=pd.concat(curves, ignore_index=True),
        medians=pd.DataFrame(medians),
        logrank=test,
        n=len(frame),
        n_removed=prep.n_removed,
        conf_type=conf_type,
        notes=notes,
    )


def logrank_row(km: KaplanMeierResult) -> dict[str, object]:
    """One row of :func:`logrank_table` from a Kaplan-Meier result."""
    med = km.medians.set_index("group")
    row: dict[str, object] = {"variable": km.variable, "n": km.n, "n_removed": km.n_removed}
    for g in (0, 1):
        have = g in med.index
        row[f"n_{g}"] = int(med.loc[g, "n"]) if have else 0
        row[f"events_{g}"] = int(med.loc[g, "events"]) if have else 0
        for col in ("median", "median_ci_low", "median_ci_high"):
            row[f"{col}_{g}"] = float(med.loc[g, col]) if have else float("nan")
    row["chi2"] = km.logrank.chi2 if km.logrank else float("nan")
    row["p"] = km.logrank.p if km.logrank else float("nan")
    row["note"] = "; ".join(km.notes)
    return row


def logrank_table(
    df: pd.DataFrame, duration: str, event: str, variables: Sequence[str]
) -> pd.DataFrame:
    """One row per binary variable: n, events and median survival (with 95% CI) per group
    (suffix ``_0``/``_1``), log-rank chi-square and p, patients removed for a missing value,
    and a note when a test was not possible."""
    return pd.DataFrame([logrank_row(kaplan_meier(df, duration, event, v)) for v in variables])
