"""The survival CLI's input handling: default candidates leave every outcome column out and are
named; one row per patient; infinite durations refused; errors name the patient (or the file
line) and the option; comma, tab and semicolon tables are read."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from radiogenomics.cli import app
from radiogenomics.errors import InputError

OPTIONS = ["--duration", "os_days", "--event", "os_event", "--forced", "gender_male"]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """Patients with OS and PFS outcomes; ``pfs_event`` (and ``dfs_event``) track OS closely,
    so an outcome taken for a candidate would be selected."""
    rng = np.random.default_rng(11)
    n = 80
    df = pd.DataFrame({"patient": [f"P{i:03d}" for i in range(n)]})
    df["os_days"] = np.round(rng.exponential(500, n)) + 1
    df["os_event"] = rng.integers(0, 2, n)
    df["pfs_days"] = np.round(df["os_days"] * 0.6)
    df["pfs_event"] = df["os_event"]
    df["dfs_event"] = df["os_event"]
    df["gender_male"] = rng.integers(0, 2, n)
    df["enhancing"] = rng.integers(0, 2, n)
    df["edema"] = rng.integers(0, 2, n)
    return df


def _run(path, out, *extra):
    return CliRunner().invoke(
        app, ["survival", "--table", str(path), *OPTIONS, *extra, "--out", str(out)]
    )


def _text(result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def test_default_candidates_leave_outcomes_out_and_are_named(table, tmp_path):
    path = tmp_path / "sv.csv"
    table.to_csv(path, index=False)
    result = _run(path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "survival_summary.json").read_text())
    assert summary["candidates"] == ["enhancing", "edema"]
    assert "pfs_event" not in summary["final_variables"]
    text = _text(result)
    assert "candidates (every other 0/1 column, 2): enhancing, edema" in text
    assert "outcome columns, not candidates: pfs_days, pfs_event, dfs_event" in text
    # named explicitly, an outcome-like column is analysed
    result = _run(path, tmp_path / "out2", "--candidates", "dfs_event,edema")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out2" / "survival_summary.json").read_text())
    assert "dfs_event" in summary["candidates"] + list(summary["excluded"])


def test_duplicate_patient_is_refused_naming_file_patient_and_lines(table, tmp_path):
    path = tmp_path / "dup.csv"
    pd.concat([table, table.iloc[[3]]]).to_csv(path, index=False)
    result = _run(path, tmp_path / "out")
    err = result.exception
    assert isinstance(err, InputError), result.output
    assert str(path) in str(err) and "'P003'" in str(err)
    assert "lines 5, 82" in str(err) and "one row per patient" in str(err)


def test_infinite_duration_is_refused_naming_file_and_patient(table, tmp_path):
    df = table.copy()
    df.loc[2, "os_days"] = np.inf
    path = tmp_path / "inf.csv"
    df.to_csv(path, index=False)  # written as "inf"
    result = _run(path, tmp_path / "out")
    assert isinstance(result.exception, InputError), result.output
    assert str(path) in str(result.exception) and "'P002'" in str(result.exception)


def test_bad_values_name_the_patient_or_the_line(table, tmp_path):
    df = table.copy()
    df.loc[0, "os_days"] = -5.0
    path = tmp_path / "neg.csv"
    df.to_csv(path, index=False)
    err = _run(path, tmp_path / "out").exception
    assert isinstance(err, InputError)
    assert "negative duration -5.0 for patient 'P000'" in str(err) and "row 0" not in str(err)
    # no patient ID column: the file line (the header is line 1)
    df = table.drop(columns="patient").astype({"os_event": object})
    df.loc[6, "os_event"] = "Dead"
    path = tmp_path / "noid.csv"
    df.to_csv(path, index=False)
    err = _run(path, tmp_path / "out").exception
    assert isinstance(err, InputError)
    assert "event value 'Dead' for line 8" in str(err) and str(path) in str(err)


def test_option_errors_name_the_option_not_the_table(table, tmp_path):
    path = tmp_path / "sv.csv"
    table.to_csv(path, index=False)
    for option, value in (("--direction", "sideways"), ("--criterion", "r2")):
        err = _run(path, tmp_path / "out", option, value).exception
        assert isinstance(err, InputError)
        assert str(err).startswith(f"[{option}]: unknown") and str(path) not in str(err)
    err = _run(path, tmp_path / "out", "--candidates", "gender_male").exception
    assert isinstance(err, InputError) and "--forced/--candidates" in str(err)


def test_long_variable_names_are_folded_not_cut(table, tmp_path):
    """A radiogenomic trait's name ('subtype:Classical + HALLMARK_...') in the final model's
    table at 80 columns: folded onto more lines, never cut short with an ellipsis."""
    name = "subtype:Classical + HALLMARK_TNFA_SIGNALING_VIA_NFKB"
    path = tmp_path / "sv.csv"
    table.rename(columns={"enhancing": name}).to_csv(path, index=False)
    res = CliRunner().invoke(
        app,
        [
            "survival",
            "--table",
            str(path),
            *OPTIONS,
            "--forced",
            name,
            "--out",
            str(tmp_path / "o"),
        ],
        env={"COLUMNS": "80"},
    )
    assert res.exit_code == 0, res.output
    assert "\u2026" not in res.output
    cells = "".join(
        line.split("\u2502")[1].strip() for line in res.output.splitlines() if "\u2502" in line
    )
    assert name.replace(" ", "") in cells.replace(" ", "")


def test_an_unwritable_out_is_refused_before_any_model_is_fitted(table, tmp_path, monkeypatch):
    """--out under a file: the error names --out, and no model was fitted to be thrown away."""
    import radiogenomics.survival as survival

    path = tmp_path / "sv.csv"
    table.to_csv(path, index=False)
    (tmp_path / "a_file").write_text("")
    fitted = []
    monkeypatch.setattr(survival, "run_survival", lambda *a, **k: fitted.append(a))
    err = _run(path, tmp_path / "a_file" / "out").exception
    assert isinstance(err, InputError) and fitted == []
    assert str(err).startswith(f"{tmp_path / 'a_file' / 'out'} [--out]: cannot write to the output")


@pytest.mark.parametrize("sep", [",", "\t", ";"])
def test_comma_tab_and_semicolon_tables_are_read(table, tmp_path, sep):
    path = tmp_path / "sv.csv"  # the extension need not match the delimiter
    table.to_csv(path, index=False, sep=sep)
    result = _run(path, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "enhancing, edema" in _text(result)


def test_unreadable_table_says_which_delimiters(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    err = _run(path, tmp_path / "out").exception
    assert isinstance(err, InputError)
    assert str(path) in str(err) and "comma-, tab- or semicolon-separated" in str(err)
