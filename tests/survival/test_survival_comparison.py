"""Clinical + imaging Cox without the radiogenomic traits, and its comparison with the full
model, checked against separate lifelines fits on the same patients."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter
from scipy.stats import chi2

from radiogenomics.errors import InputError
from radiogenomics.survival import (
    compare_without_traits,
    cox_stepwise,
    fit_cox,
    likelihood_ratio_row,
    write_model_comparison,
)

FORCED = ["male", "age_over_median"]
IMAGING = ["enhancing", "edema", "ncet"]
RADIOGENOMIC = ["edema+EMT", "ncet+hypoxia", "focal+myc"]


def _cohort(seed: int, proxy_flip: float) -> pd.DataFrame:
    """Hazard driven by the radiogenomic trait ``edema+EMT``; the imaging trait ``edema`` is
    that trait with a share ``proxy_flip`` of patients flipped (a noisy proxy); some patients
    lack the radiogenomic traits (no saliency), so complete cases matter."""
    rng = np.random.default_rng(seed)
    n = 160
    driver = rng.integers(0, 2, n)
    edema = np.where(rng.random(n) < proxy_flip, 1 - driver, driver)
    cols = {
        "male": rng.integers(0, 2, n),
        "age_over_median": rng.integers(0, 2, n),
        "enhancing": rng.integers(0, 2, n),
        "edema": edema,
        "ncet": rng.integers(0, 2, n),
        "edema+EMT": driver,
        "ncet+hypoxia": rng.integers(0, 2, n),
        "focal+myc": rng.integers(0, 2, n),
    }
    df = pd.DataFrame(cols).astype(float)
    t = rng.exponential(200 / np.exp(1.4 * driver + 0.3 * cols["age_over_median"]))
    c = rng.uniform(50, 600, n)
    df["days"], df["event"] = np.minimum(t, c), (t <= c).astype(float)
    df.loc[rng.choice(n, 12, replace=False), "ncet+hypoxia"] = np.nan
    return df


def _lifelines(df: pd.DataFrame, variables: list[str]) -> CoxPHFitter:
    return CoxPHFitter().fit(df[["days", "event", *variables]], "days", "event")


def _aic(df: pd.DataFrame, variables: list[str]) -> float:
    if not variables:
        return -2 * fit_cox(df, "days", "event", []).loglik
    return -2 * _lifelines(df, variables).log_likelihood_ + 2 * len(variables)


def test_clinical_imaging_model_against_lifelines():
    df = _cohort(seed=11, proxy_flip=0.1)
    cmp = compare_without_traits(df, "days", "event", FORCED, IMAGING, RADIOGENOMIC)
    complete = df.dropna()
    assert cmp.n_removed == 12 and cmp.full.n == cmp.clinical_imaging.n == len(complete)
    ci = cmp.clinical_imaging
    assert not set(ci.variables) & set(RADIOGENOMIC) and set(FORCED) <= set(ci.variables)
    # A separate lifelines fit of the chosen variables on the same patients.
    ll = _lifelines(complete, ci.variables)
    assert ci.loglik == pytest.approx(ll.log_likelihood_, rel=1e-8)
    got = ci.model.summary["coef"]
    np.testing.assert_allclose(got.loc[ci.variables], ll.params_.loc[ci.variables], rtol=1e-6)
    # The choice is an AIC local optimum over the imaging traits alone, by lifelines: no single
    # addition or removal of an imaging trait lowers the AIC.
    chosen = _aic(complete, ci.variables)
    for v in IMAGING:
        moved = [u for u in ci.variables if u != v] if v in ci.variables else ci.variables + [v]
        assert _aic(complete, moved) >= chosen - 1e-9
    # The same search run directly on the complete cases gives the same model.
    direct = cox_stepwise(complete, "days", "event", IMAGING, FORCED)
    assert direct.variables == ci.variables
    # The full model finds the planted trait.
    assert "edema+EMT" in cmp.full.variables and cmp.radiogenomic == ["edema+EMT"]


def test_likelihood_ratio_when_nested():
    # A weak proxy: the imaging-only search keeps no proxy, so the models nest.
    df = _cohort(seed=3, proxy_flip=0.5)
    cmp = compare_without_traits(df, "days", "event", FORCED, IMAGING, RADIOGENOMIC)
    complete = df.dropna()
    row = cmp.tests.set_index("comparison").loc["full vs clinical+imaging"]
    full_v, ci_v = cmp.full.variables, cmp.clinical_imaging.variables
    assert set(ci_v) < set(full_v) and bool(row["nested"])
    stat = 2 * (
        _lifelines(complete, full_v).log_likelihood_ - _lifelines(complete, ci_v).log_likelihood_
    )
    df_ = len(full_v) - len(ci_v)
    assert row["lr_statistic"] == pytest.approx(stat, rel=1e-6) and row["df"] == df_
    assert row["p"] == pytest.approx(chi2.sf(stat, df_), rel=1e-6) and row["p"] < 1e-3
    assert row["aic_difference"] == pytest.approx(_aic(complete, full_v) - _aic(complete, ci_v))
    assert row["aic_difference"] < 0
    models = cmp.models.set_index("model")
    assert "edema+EMT" in models.loc["full", "significant"].split(";")
    assert models.loc["clinical+imaging", "n"] == len(complete)


def test_not_nested_gives_aic_only():
    # A close proxy: without the radiogenomic trait the search keeps the imaging proxy, which
    # the full search does not need: the two final models do not nest.
    df = _cohort(seed=11, proxy_flip=0.1)
    cmp = compare_without_traits(df, "days", "event", FORCED, IMAGING, RADIOGENOMIC)
    assert "edema" in cmp.clinical_imaging.variables and "edema" not in cmp.full.variables
    tests = cmp.tests.set_index("comparison")
    row = tests.loc["full vs clinical+imaging"]
    assert not bool(row["nested"]) and np.isnan(row["p"]) and "not nested (edema" in row["note"]
    assert np.isfinite(row["aic_difference"])
    # The always-nested test: the full model against itself without radiogenomic terms.
    rg = tests.loc["radiogenomic terms of the full model"]
    complete = df.dropna()
    without = [v for v in cmp.full.variables if v not in RADIOGENOMIC]
    stat = 2 * (
        _lifelines(complete, cmp.full.variables).log_likelihood_
        - _lifelines(complete, without).log_likelihood_
    )
    assert (
        bool(rg["nested"]) and rg["df"] == 1 and rg["lr_statistic"] == pytest.approx(stat, rel=1e-6)
    )


def test_likelihood_ratio_row_refuses_different_patients_and_writes(tmp_path):
    df = _cohort(seed=3, proxy_flip=0.5).dropna()
    a = fit_cox(df, "days", "event", ["male", "edema+EMT"])
    b = fit_cox(df.iloc[:-5], "days", "event", ["male"])
    with pytest.raises(InputError, match="different patients"):
        likelihood_ratio_row("x", a, b, "a", "b")
    same = likelihood_ratio_row("x", a, a, "a", "a")
    assert (
        same["df"] == 0 and same["p"] == 1.0 and same["note"] == "the same model: nothing to test"
    )
    cmp = compare_without_traits(df, "days", "event", FORCED, IMAGING, RADIOGENOMIC)
    paths = write_model_comparison(cmp, tmp_path, prefix="os_")
    names = {p.name for p in paths}
    assert "os_cox_clinical_imaging_final_model.csv" in names
    final = pd.read_csv(tmp_path / "os_cox_clinical_imaging_final_model.csv")
    assert list(final["variable"]) == cmp.clinical_imaging.variables
    tests = pd.read_csv(tmp_path / "os_cox_model_comparison.csv")
    assert list(tests["comparison"]) == [
        "full vs clinical+imaging",
        "radiogenomic terms of the full model",
    ]


def test_bad_groups():
    df = _cohort(seed=3, proxy_flip=0.5)
    with pytest.raises(InputError, match="listed as imaging and as radiogenomic"):
        compare_without_traits(df, "days", "event", FORCED, IMAGING, ["edema"])
    with pytest.raises(InputError):
        compare_without_traits(df, "days", "event", FORCED, IMAGING + ["nope"], RADIOGENOMIC)


def test_forced_subset_search_space():
    """Sanity of the planted cohort: the full search's best model by exhaustive lifelines AIC
    over small subsets contains the driver."""
    df = _cohort(seed=3, proxy_flip=0.5).dropna()
    pool = IMAGING + RADIOGENOMIC
    best = min(
        (FORCED + list(extra) for k in range(3) for extra in itertools.combinations(pool, k)),
        key=lambda vs: _aic(df, vs),
    )
    assert "edema+EMT" in best


def test_run_survival_writes_the_comparison(tmp_path):
    import json

    from radiogenomics.survival import run_survival, write_survival

    df = _cohort(seed=3, proxy_flip=0.5)
    res = run_survival(
        df, "days", "event", FORCED, IMAGING + RADIOGENOMIC, radiogenomic=RADIOGENOMIC
    )
    direct = compare_without_traits(df, "days", "event", FORCED, IMAGING, RADIOGENOMIC)
    assert res.comparison.clinical_imaging.variables == direct.clinical_imaging.variables
    assert res.comparison.full.variables == res.stepwise.variables  # the same search, same rows
    pd.testing.assert_frame_equal(res.comparison.tests, direct.tests)
    write_survival(res, tmp_path, prefix="os_")
    assert (tmp_path / "os_cox_clinical_imaging_final_model.csv").exists()
    summary = json.loads((tmp_path / "os_survival_summary.json").read_text())
    ci = summary["clinical_imaging"]
    assert ci["final_variables"] == direct.clinical_imaging.variables
    assert ci["tests"][0]["comparison"] == "full vs clinical+imaging"
    assert ci["tests"][0]["p"] == pytest.approx(direct.tests["p"].iloc[0])
    assert run_survival(df, "days", "event", FORCED, IMAGING).comparison is None
    with pytest.raises(InputError, match="not candidates"):
        run_survival(df, "days", "event", FORCED, IMAGING, radiogenomic=["edema+EMT"])
