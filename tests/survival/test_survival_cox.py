"""Cox fits against R's published numbers (Fox, "Cox Proportional-Hazards Regression for
Survival Data in R", the Rossi recidivism data) and against hand formulas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from lifelines.datasets import load_rossi
from scipy.stats import chi2, norm

from radiogenomics.errors import InputError
from radiogenomics.survival import (
    SurvivalWarning,
    cox_univariate,
    fit_cox,
    partial_log_likelihood,
)
from radiogenomics.survival._frame import prepare

ROSSI_VARS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
# coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = Rossi)
R_COEF = {
    "fin": -0.37942,
    "age": -0.05744,
    "race": 0.31390,
    "wexp": -0.14980,
    "mar": -0.43370,
    "paro": -0.08487,
    "prio": 0.09150,
}
R_SE = {
    "fin": 0.19138,
    "age": 0.02200,
    "race": 0.30799,
    "wexp": 0.21222,
    "mar": 0.38187,
    "paro": 0.19576,
    "prio": 0.02865,
}
R_LOGLIK = -658.75  # R: loglik of the full model
R_LR = 33.27  # R: "Likelihood ratio test=33.27 on 7 df"


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return load_rossi()


@pytest.fixture(scope="module")
def rossi_fit(rossi):
    frame = prepare(rossi, "week", "arrest", ROSSI_VARS).frame
    return fit_cox(frame, "week", "arrest", ROSSI_VARS)


def test_rossi_coefficients_and_standard_errors_match_r(rossi_fit):
    assert rossi_fit.ok, rossi_fit.reason
    ours = rossi_fit.summary()
    lifelines_model = rossi_fit.model  # the same model fitted by lifelines
    for var in ROSSI_VARS:
        assert ours.loc[var, "coef"] == pytest.approx(R_COEF[var], abs=1e-3), var
        assert ours.loc[var, "se"] == pytest.approx(R_SE[var], abs=1e-3), var
        assert lifelines_model.params_[var] == pytest.approx(R_COEF[var], abs=1e-3), var
        assert lifelines_model.standard_errors_[var] == pytest.approx(R_SE[var], abs=1e-3), var
        # and the two fitters agree far beyond R's printed digits
        assert ours.loc[var, "coef"] == pytest.approx(lifelines_model.params_[var], abs=1e-6)
        assert ours.loc[var, "se"] == pytest.approx(lifelines_model.standard_errors_[var], abs=1e-6)
    assert rossi_fit.loglik == pytest.approx(lifelines_model.log_likelihood_, abs=1e-8)
    lifelines_summary = lifelines_model.summary
    assert np.allclose(ours["p"], lifelines_summary["p"], rtol=1e-5)
    assert np.allclose(ours["ci_low"], lifelines_summary["exp(coef) lower 95%"], rtol=1e-6)


def test_rossi_aic_and_likelihood_ratio_match_r(rossi, rossi_fit):
    # R's extractAIC(coxph) = 2 * 7 - 2 * loglik; R prints loglik to 2 decimals.
    assert rossi_fit.loglik == pytest.approx(R_LOGLIK, abs=0.005)
    assert rossi_fit.aic() == pytest.approx(2 * 7 - 2 * R_LOGLIK, abs=0.01)
    assert rossi_fit.aic(penalty=np.log(114)) == pytest.approx(
        -2 * rossi_fit.loglik + 7 * np.log(114)
    )
    null = fit_cox(rossi, "week", "arrest", [])
    assert null.k == 0 and null.aic() == pytest.approx(-2 * null.loglik)
    assert 2 * (rossi_fit.loglik - null.loglik) == pytest.approx(R_LR, abs=0.005)


def test_ties_are_efron_as_in_r(rossi, rossi_fit):
    """lifelines (like R's coxph default) handles tied times by Efron's method: its likelihood
    at its estimate equals an independent Efron computation and not Breslow's."""
    x = rossi[ROSSI_VARS].to_numpy(float)
    beta = rossi_fit.model.params_[ROSSI_VARS].to_numpy()
    efron = partial_log_likelihood(rossi["week"], rossi["arrest"], x, beta, ties="efron")
    breslow = partial_log_likelihood(rossi["week"], rossi["arrest"], x, beta, ties="breslow")
    assert rossi["week"][rossi["arrest"] == 1].duplicated().any()  # there are ties
    assert efron == pytest.approx(rossi_fit.loglik, abs=1e-6)
    assert abs(breslow - efron) > 0.1
    # Null model: the one lifelines' likelihood-ratio test compares against.
    lr = rossi_fit.model.log_likelihood_ratio_test().test_statistic
    null = partial_log_likelihood(rossi["week"], rossi["arrest"])
    assert rossi_fit.loglik - lr / 2 == pytest.approx(null, abs=1e-6)


def test_partial_likelihood_by_hand():
    # Times 1, 2, 2 (both events), 3 censored; one covariate.
    t = np.array([1.0, 2.0, 2.0, 3.0])
    e = np.array([1, 1, 1, 0])
    x = np.array([[0.0], [1.0], [0.0], [1.0]])
    b = 0.7
    r = np.exp(b * x[:, 0])
    first = b * 0 - np.log(r.sum())
    tied_sum = b * 1 + b * 0
    risk2 = r[1:].sum()
    d = r[1] + r[2]
    efron = first + tied_sum - np.log(risk2) - np.log(risk2 - 0.5 * d)
    breslow = first + tied_sum - 2 * np.log(risk2)
    assert partial_log_likelihood(t, e, x, [b]) == pytest.approx(efron)
    assert partial_log_likelihood(t, e, x, [b], ties="breslow") == pytest.approx(breslow)
    with pytest.raises(ValueError, match="ties"):
        partial_log_likelihood(t, e, x, [b], ties="exact")


def test_univariate_matches_single_fits_and_wald_formula(rossi):
    df = rossi.copy()
    df.loc[[3, 10, 50], "mar"] = np.nan
    table = cox_univariate(df, "week", "arrest", ["fin", "mar", "prio"]).table.set_index("variable")
    assert table.loc["mar", "n"] == len(df) - 3 and table.loc["mar", "n_removed"] == 3
    assert table.loc["fin", "n_removed"] == 0
    for var in ("fin", "mar", "prio"):
        sub = df[["week", "arrest", var]].dropna()
        ref = CoxPHFitter().fit(sub, "week", "arrest")
        coef, se = ref.params_[var], ref.standard_errors_[var]
        row = table.loc[var]
        assert row["events"] == sub["arrest"].sum()
        assert row["coef"] == pytest.approx(coef, rel=1e-6)
        assert row["hr"] == pytest.approx(np.exp(coef), rel=1e-6)
        assert row["ci_low"] == pytest.approx(np.exp(coef - norm.ppf(0.975) * se), rel=1e-6)
        assert row["ci_high"] == pytest.approx(np.exp(coef + norm.ppf(0.975) * se), rel=1e-6)
        assert row["p"] == pytest.approx(chi2.sf((coef / se) ** 2, 1), rel=1e-5)
        assert row["note"] == ""


def _bad_cohort(seed: int = 1) -> pd.DataFrame:
    """40 patients: z = 1 for the first six, who all die before anyone else (monotone
    likelihood with events in both groups); const; noev has no events in group 1; dup is 1 - a;
    s = a + b is collinear with a and b together."""
    rng = np.random.default_rng(seed)
    n = 40
    t = np.concatenate([np.arange(1, 7), rng.uniform(10, 100, n - 6)])
    e = np.concatenate([np.ones(6), rng.integers(0, 2, n - 6)]).astype(int)
    z = np.concatenate([np.ones(6), np.zeros(n - 6)]).astype(int)
    a = rng.integers(0, 2, n)
    b = (1 - a) * (rng.random(n) < 0.5)
    df = pd.DataFrame(
        {"t": t, "e": e, "z": z, "a": a, "b": b, "s": a + b, "const": 1, "dup": 1 - a}
    )
    df["cov"] = rng.integers(0, 2, n)
    df["noev"] = ((df["e"] == 0) & (rng.random(n) < 0.5)).astype(int)
    return df


def test_failure_modes_give_notes_not_crashes():
    df = _bad_cohort()
    frame = prepare(df, "t", "e", ["z", "a", "b", "s", "const", "noev", "dup"]).frame
    mono = fit_cox(frame, "t", "e", ["z"])
    assert not mono.ok and "monotone likelihood" in mono.reason and mono.culprit == "z"
    col = fit_cox(frame, "t", "e", ["a", "b", "s"])
    assert not col.ok and "collinear" in col.reason and col.culprit == "s"
    assert "collinear" in fit_cox(frame, "t", "e", ["a", "dup"]).reason
    assert "constant" in fit_cox(frame, "t", "e", ["const"]).reason
    assert "no events in group 1" in fit_cox(frame, "t", "e", ["noev"]).reason
    assert fit_cox(frame, "t", "e", ["a"]).ok
    with pytest.warns(SurvivalWarning):
        table = cox_univariate(df, "t", "e", ["z", "a", "const", "noev"]).table.set_index(
            "variable"
        )
    assert table.loc["a", "note"] == "" and np.isfinite(table.loc["a", "hr"])
    for var, word in (("z", "monotone"), ("const", "constant"), ("noev", "no events")):
        assert word in table.loc[var, "note"] and np.isnan(table.loc[var, "hr"])


def test_bad_input_is_refused_with_the_column_named(rossi):
    with pytest.raises(InputError, match=r"\[nope\]"):
        cox_univariate(rossi, "week", "arrest", ["nope"])
    bad = rossi.assign(arrest=rossi["arrest"] * 2)
    with pytest.raises(InputError, match=r"\[arrest\]: .*expected 1"):
        cox_univariate(bad, "week", "arrest", ["fin"])
    neg = rossi.assign(week=rossi["week"] - 30)
    with pytest.raises(InputError, match=r"\[week\]: negative duration"):
        cox_univariate(neg, "week", "arrest", ["fin"])
    text = rossi.assign(fin=rossi["fin"].map({0: "no", 1: "yes"}))
    with pytest.raises(InputError, match=r"\[fin\]: non-numeric"):
        cox_univariate(text, "week", "arrest", ["fin"])


def test_newton_fit_matches_lifelines_with_heavy_ties():
    rng = np.random.default_rng(11)
    n = 90
    df = pd.DataFrame({"a": rng.integers(0, 2, n), "b": rng.integers(0, 2, n)})
    df["c"] = rng.normal(50, 10, n)
    t = rng.exponential(30 / np.exp(0.8 * df["a"] - 0.5 * df["b"] + 0.03 * (df["c"] - 50)))
    df["t"] = np.ceil(t / 5) * 5  # few distinct times: many tied deaths
    df["e"] = (rng.random(n) < 0.75).astype(int)
    assert df.loc[df["e"] == 1, "t"].duplicated().sum() > 40
    fit = fit_cox(df, "t", "e", ["a", "b", "c"])
    ref = CoxPHFitter().fit(df[["t", "e", "a", "b", "c"]], "t", "e")
    assert np.allclose(fit.coef, ref.params_[["a", "b", "c"]], atol=1e-6)
    assert np.allclose(fit.se, ref.standard_errors_[["a", "b", "c"]], atol=1e-6)
    assert fit.loglik == pytest.approx(ref.log_likelihood_, abs=1e-8)
