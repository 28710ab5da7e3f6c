"""The `synthetic` and `cohort` commands."""

from __future__ import annotations

from typer.testing import CliRunner

from radiogenomics.cli import app


def test_synthetic_then_cohort(tmp_path):
    runner = CliRunner()
    out = tmp_path / "syn"
    res = runner.invoke(app, ["synthetic", "--out", str(out), "--patients", "60", "--genes", "700"])
    assert res.exit_code == 0, res.output
    assert "edema + SYN_EMT" in res.output and (out / "truth.json").is_file()
    res = runner.invoke(app, ["cohort", "--synthetic", str(out)])
    assert res.exit_code == 0, res.output
    assert "60 patients with expression x 700 genes" in res.output
    assert "'?' / empty symbols dropped: 3" in res.output
    assert "VASARI traits loaded from" in res.output  # e.g. post-operative rows dropped
    res = runner.invoke(
        app,
        [
            "cohort",
            "--expression",
            str(out / "expression.tsv.gz"),
            "--traits",
            str(out / "vasari.csv"),
            "--no-report",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "without imaging (autoencoder): 18" in res.output
    assert "Expression loaded" not in res.output


def test_cohort_bad_input(tmp_path):
    from radiogenomics.errors import InputError

    res = CliRunner().invoke(app, ["cohort", "--expression", str(tmp_path / "none.tsv")])
    assert res.exit_code != 0 and isinstance(res.exception, InputError)
    assert "expression file not found" in str(res.exception)
    res = CliRunner().invoke(app, ["cohort"])
    assert isinstance(res.exception, InputError) and "--synthetic" in str(res.exception)


def test_synthetic_bad_option_is_named_as_typed(tmp_path):
    from radiogenomics.errors import InputError

    for option, value in [("--genes", "100"), ("--patients", "10"), ("--imaging-fraction", "2")]:
        res = CliRunner().invoke(app, ["synthetic", "--out", str(tmp_path / "s"), option, value])
        assert isinstance(res.exception, InputError), res.output
        assert str(res.exception).startswith(f"[{option}]: "), str(res.exception)
