"""Kaplan-Meier and log-rank against R's published output for the ``aml`` data of R's
survival package and against an independent observed-minus-expected computation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from scipy.stats import chi2

from radiogenomics.errors import InputError
from radiogenomics.survival import SurvivalWarning, kaplan_meier, logrank_table

# survival::aml (acute myelogenous leukaemia): x = Maintained (1) / Nonmaintained (0).
MAINTAINED = [(9, 1), (13, 1), (13, 0), (18, 1), (23, 1), (28, 0), (31, 1), (34, 1), (45, 0),
              (48, 1), (161, 0)]  # fmt: skip
NONMAINTAINED = [(5, 1), (5, 1), (8, 1), (8, 1), (12, 1), (16, 0), (23, 1), (27, 1), (30, 1),
                 (33, 1), (43, 1), (45, 1)]  # fmt: skip


@pytest.fixture(scope="module")
def aml() -> pd.DataFrame:
    rows = [(t, e, 1) for t, e in MAINTAINED] + [(t, e, 0) for t, e in NONMAINTAINED]
    return pd.DataFrame(rows, columns=["time", "status", "maintained"])


def test_aml_matches_r_survfit_and_survdiff(aml):
    km = kaplan_meier(aml, "time", "status", "maintained")
    # print(survfit(Surv(time, status) ~ x, data = aml)):
    #   x=Maintained    11  7  31  18  NA;  x=Nonmaintained 12 11  23   8  NA
    med = km.medians.set_index("group")
    assert med.loc[1, ["n", "events"]].tolist() == [11, 7]
    assert med.loc[0, ["n", "events"]].tolist() == [12, 11]
    assert med.loc[1, "median"] == 31 and med.loc[1, "median_ci_low"] == 18
    assert med.loc[0, "median"] == 23 and med.loc[0, "median_ci_low"] == 8
    assert np.isnan(med.loc[1, "median_ci_high"]) and np.isnan(med.loc[0, "median_ci_high"])
    # summary(survfit(...)) for Maintained: time, n.risk, survival, std.err, lower, upper.
    r_summary = [
        (9, 11, 0.9091, 0.0867, 0.7541, 1.000),
        (13, 10, 0.8182, 0.1163, 0.6192, 1.000),
        (18, 8, 0.7159, 0.1397, 0.4884, 1.000),
        (23, 7, 0.6136, 0.1526, 0.3769, 0.999),
        (31, 5, 0.4909, 0.1642, 0.2549, 0.946),
        (34, 4, 0.3682, 0.1627, 0.1549, 0.875),
        (48, 2, 0.1841, 0.1535, 0.0359, 0.944),
    ]
    c = km.curves[(km.curves["group"] == 1) & (km.curves["n_event"] > 0)].reset_index()
    assert len(c) == len(r_summary)
    for i, (t, n, s, se, lo, hi) in enumerate(r_summary):
        assert c.loc[i, "time"] == t and c.loc[i, "n_risk"] == n
        for col, ref in (("survival", s), ("se", se), ("ci_low", lo), ("ci_high", hi)):
            assert c.loc[i, col] == pytest.approx(ref, abs=6e-4), (t, col)
    # survdiff(Surv(time, status) ~ x, data = aml): Chisq = 3.4 on 1 df, p = 0.07 (0.0653).
    assert km.logrank.chi2 == pytest.approx(3.4, abs=0.05)
    assert km.logrank.p == pytest.approx(0.0653, abs=5e-4)
    assert km.n == 23 and km.n_removed == 0 and km.notes == []


def _logrank_by_hand(t: np.ndarray, e: np.ndarray, g: np.ndarray) -> float:
    """Mantel-Cox: sum over event times of (observed - expected) in group 1, squared over the
    sum of the hypergeometric variances."""
    o_minus_e, var = 0.0, 0.0
    for time in np.unique(t[e == 1]):
        at_risk = t >= time
        n, n1 = at_risk.sum(), (at_risk & (g == 1)).sum()
        d = ((t == time) & (e == 1)).sum()
        d1 = ((t == time) & (e == 1) & (g == 1)).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return o_minus_e**2 / var


def test_logrank_matches_observed_minus_expected():
    rng = np.random.default_rng(3)
    n = 80
    g = rng.integers(0, 2, n)
    t = np.round(rng.exponential(np.where(g == 1, 50, 90)))  # rounding makes ties
    c = rng.uniform(10, 200, n)
    df = pd.DataFrame({"t": np.minimum(t, c), "e": (t <= c).astype(int), "g": g})
    km = kaplan_meier(df, "t", "e", "g")
    stat = _logrank_by_hand(df["t"].to_numpy(), df["e"].to_numpy(), g)
    assert km.logrank.chi2 == pytest.approx(stat, rel=1e-8)
    assert km.logrank.p == pytest.approx(chi2.sf(stat, 1), rel=1e-8)
    table = logrank_table(df, "t", "e", ["g"]).iloc[0]
    assert table["chi2"] == pytest.approx(stat, rel=1e-8)
    assert table["n_0"] + table["n_1"] == n
    assert table["events_1"] == df.loc[df["g"] == 1, "e"].sum()


def test_median_midpoint_rule_and_log_log_interval():
    # Four deaths at 1..4: S = 0.75, 0.5, 0.25, 0; R's median is (2 + 3) / 2 = 2.5.
    df = pd.DataFrame({"t": [1, 2, 3, 4, 1, 2], "e": [1, 1, 1, 1, 1, 0], "g": [0] * 4 + [1] * 2})
    km = kaplan_meier(df, "t", "e", "g")
    med = km.medians.set_index("group")
    assert med.loc[0, "median"] == 2.5
    # Group 1: S = 0.5 at 1, then censored at 2 (the curve ends flat at 0.5): (1 + 2) / 2.
    assert med.loc[1, "median"] == 1.5
    rng = np.random.default_rng(0)
    t, e = rng.exponential(10, 50), rng.integers(0, 2, 50)
    with pytest.warns(SurvivalWarning, match="single group"):
        ll = kaplan_meier(
            pd.DataFrame({"t": t, "e": e, "g": 0}), "t", "e", "g", conf_type="log-log"
        )
    kmf = KaplanMeierFitter().fit(t, e)
    ci = kmf.confidence_interval_.reindex(ll.curves["time"])
    ok = ll.curves["ci_low"].notna().to_numpy()
    assert np.allclose(ll.curves["ci_low"][ok], ci.iloc[:, 0].to_numpy()[ok], atol=1e-6)
    assert np.allclose(ll.curves["ci_high"][ok], ci.iloc[:, 1].to_numpy()[ok], atol=1e-6)
    assert np.allclose(
        ll.curves["survival"], kmf.survival_function_.reindex(ll.curves["time"]).iloc[:, 0]
    )


def test_single_group_and_missing_values_are_reported(aml):
    df = aml.copy()
    df["one"] = 1.0
    df.loc[[0, 5], "one"] = np.nan
    with pytest.warns(SurvivalWarning, match="single group"):
        km = kaplan_meier(df, "time", "status", "one")
    assert km.logrank is None and km.n_removed == 2 and km.n == 21
    with pytest.warns(SurvivalWarning):
        row = logrank_table(df, "time", "status", ["one"]).iloc[0]
    assert np.isnan(row["p"]) and "single group" in row["note"] and row["n_removed"] == 2


def test_kaplan_meier_refuses_non_binary(aml):
    with pytest.raises(InputError, match=r"\[time2\]"):
        kaplan_meier(aml, "time2", "status", "maintained")
    df = aml.assign(level=aml["time"] % 3)
    with pytest.raises(InputError, match=r"\[level\]: value 2.0 is not binary"):
        kaplan_meier(df, "time", "status", "level")
    with pytest.raises(InputError, match="conf_type"):
        kaplan_meier(aml, "time", "status", "maintained", conf_type="plain")
