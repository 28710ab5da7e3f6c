"""The analysis writes its tables and figures; the CLI runs on a CSV and refuses bad input;
KM panels carry numbers at risk and the log-rank p."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from radiogenomics.cli import app
from radiogenomics.errors import InputError
from radiogenomics.survival import (
    SurvivalWarning,
    kaplan_meier,
    plot_forest,
    plot_km_grid,
    run_survival,
    write_survival,
)
from radiogenomics.survival.plots import at_risk
from radiogenomics.utils.io import read_table


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """A planted survival-linked trait ("programme") among noise, with covariates."""
    rng = np.random.default_rng(5)
    n = 120
    df = pd.DataFrame({f"trait{i}": rng.integers(0, 2, n) for i in range(3)})
    df["programme"] = rng.integers(0, 2, n)
    df["age_over_median"] = rng.integers(0, 2, n)
    df["gender_male"] = rng.integers(0, 2, n)
    t = rng.exponential(400 / np.exp(1.2 * df["programme"] + 0.3 * df["age_over_median"]))
    c = rng.uniform(100, 1500, n)
    df["os_days"] = np.round(np.minimum(t, c))
    df["os_event"] = (t <= c).astype(int)
    df.loc[[4, 9], "trait1"] = np.nan
    return df


def test_write_survival_tables_and_figures(table, tmp_path):
    cands = ["trait0", "trait1", "trait2", "programme"]
    forced = ["age_over_median", "gender_male"]
    with pytest.warns(SurvivalWarning, match="2 patients removed"):
        an = run_survival(
            table,
            "os_days",
            "os_event",
            forced,
            cands,
            panels={"imaging": cands[:3], "radio": cands[3:]},
        )
    written = write_survival(an, tmp_path, prefix="os_")
    names = {p.name for p in written}
    for stem in ("km_imaging", "km_radio", "cox_forest"):
        assert {f"os_{stem}.png", f"os_{stem}.svg"} <= names
        assert (tmp_path / f"os_{stem}.png").stat().st_size > 5000
    t3 = read_table(tmp_path / "os_cox_table3")
    assert "programme" in t3["variable"].tolist()
    row = t3.set_index("variable").loc["programme"]
    assert row["hr_adjusted"] > 2 and row["p_adjusted"] < 0.001 and row["role"] == "selected"
    lr = read_table(tmp_path / "os_logrank").set_index("variable")
    assert lr.loc["programme", "p"] < 0.001 and lr.loc["trait1", "n_removed"] == 2
    summary = json.loads((tmp_path / "os_survival_summary.json").read_text())
    assert summary["n_removed"] == 2 and summary["forced"] == forced
    assert summary["likelihood_ratio_test"]["p"] < 0.001
    curves = read_table(tmp_path / "os_km_curves")
    assert set(curves["variable"]) == set(forced + cands)


def test_km_panel_has_numbers_at_risk_and_p(table):
    km = kaplan_meier(table, "os_days", "os_event", "programme")
    times = [0, 200, 500, 1000]
    for g in (0, 1):
        sub = table[table["programme"] == g]
        expected = [int((sub["os_days"] >= x).sum()) for x in times]
        assert at_risk(km.curves[km.curves["group"] == g], times) == expected
    fig = plot_km_grid([km], labels={"programme": ("absent", "present")})
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "at risk" in texts and "present" in texts
    n_present = str(int((table["programme"] == 1).sum()))
    assert n_present in texts  # at risk at time 0 = the whole group
    assert "log-rank p < 0.001" in ax.get_title()
    empty = plot_forest(pd.DataFrame(columns=["variable", "hr_adjusted", "ci_low_adjusted",
                                              "ci_high_adjusted", "p_adjusted"]))  # fmt: skip
    assert empty.axes[0].texts[0].get_text() == "no estimated hazard ratio"


def test_cli_survival(table, tmp_path):
    path = tmp_path / "traits.tsv"
    table.to_csv(path, sep="\t", index=False)
    out = tmp_path / "out"
    args = ["survival", "--table", str(path), "--duration", "os_days", "--event", "os_event"]
    args += ["--forced", "age_over_median,gender_male", "--candidates", "trait0"]
    args += ["--candidates", "trait1,trait2,programme", "--direction", "backward", "--out"]
    result = CliRunner().invoke(app, [*args, str(out)])
    assert result.exit_code == 0, result.output
    assert "programme" in result.output and "likelihood-ratio test" in result.output
    assert (out / "cox_table3.csv").is_file() and (out / "km_candidates.svg").is_file()
    path_table = read_table(out / "cox_stepwise_path")
    assert path_table["action"].iloc[0] == "start"
    assert path_table["n_variables"].iloc[0] == 6

    bad = CliRunner().invoke(app, [*args[:-1], "--candidates", "nope", "--out", str(out)])
    assert isinstance(bad.exception, InputError)
    assert "[nope]" in str(bad.exception) and str(path) in str(bad.exception)
    missing = CliRunner().invoke(app, ["survival", "--table", str(tmp_path / "x.csv"),
                                       "--duration", "d", "--event", "e", "--forced", "a",
                                       "--out", str(out)])  # fmt: skip
    assert isinstance(missing.exception, InputError) and "file not found" in str(missing.exception)


def test_cli_survival_takes_every_other_binary_column_by_default(table, tmp_path):
    path = tmp_path / "traits.csv"
    table.assign(patient=[f"P{i}" for i in range(len(table))]).to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["survival", "--table", str(path), "--duration", "os_days", "--event", "os_event"]
    result = CliRunner().invoke(app, [*args, "--forced", "age_over_median", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "every other 0/1 column, 5): trait0, trait1, trait2, programme, gender_male" in (
        " ".join(result.output.split())
    )
    assert "not 0/1" not in result.output  # the patient column names the rows
    univariate = set(read_table(out / "cox_univariate")["variable"])
    assert univariate >= {"trait0", "trait1", "trait2", "programme", "gender_male"}


def test_cli_survival_says_when_no_variable_enters(tmp_path):
    # two variables independent of survival: the selection keeps neither; the console says
    # so and shows each alone (an empty table would say nothing), and so does the figure
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({"os_days": rng.exponential(500, n).round() + 1,
                          "os_event": rng.integers(0, 2, n),
                          "a": rng.integers(0, 2, n), "b": rng.integers(0, 2, n)})  # fmt: skip
    path = tmp_path / "noise.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "out"
    args = ["survival", "--table", str(path), "--duration", "os_days", "--event", "os_event"]
    result = CliRunner().invoke(app, [*args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "no variable in the final model: stepwise selection by AIC kept none of the 2" in text
    assert "likelihood-ratio test" not in text  # of an empty model against itself
    uni = read_table(out / "cox_univariate").set_index("variable")
    for v in ("a", "b"):  # each variable's own HR and p, as written to cox_univariate
        row = uni.loc[v]
        assert f"{row['hr']:.2f} ({row['ci_low']:.2f}-{row['ci_high']:.2f})" in text
        assert f"{row['p']:.3g}" in text
    assert json.loads((out / "survival_summary.json").read_text())["final_variables"] == []
    an = run_survival(frame, "os_days", "os_event", [], ["a", "b"])
    assert an.stepwise.summary.empty
    ax = an.stepwise.plot()
    assert ax.texts[0].get_text() == an.stepwise.empty_text


def test_run_survival_refuses_non_binary(table):
    with pytest.raises(InputError, match=r"\[os_days\]|not binary"):
        run_survival(table.assign(score=table["os_days"]), "os_days", "os_event", ["score"])
    with (
        pytest.warns(SurvivalWarning, match="constant"),
        pytest.warns(SurvivalWarning, match="single"),
    ):
        an = run_survival(table.assign(one=1), "os_days", "os_event", ["gender_male"], ["one"])
    assert "one" in an.stepwise.excluded
