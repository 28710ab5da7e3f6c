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


def test_synthetic_into_an_unwritable_folder_names_out(tmp_path):
    from radiogenomics.errors import InputError

    (tmp_path / "a_file").write_text("")
    res = CliRunner().invoke(app, ["synthetic", "--out", str(tmp_path / "a_file" / "cohort")])
    assert isinstance(res.exception, InputError), res.output
    assert "[--out]: cannot write the cohort: Not a directory" in str(res.exception)


def test_synthetic_bad_option_is_named_as_typed(tmp_path):
    from radiogenomics.errors import InputError

    for option, value in [("--genes", "100"), ("--patients", "10"), ("--imaging-fraction", "2")]:
        res = CliRunner().invoke(app, ["synthetic", "--out", str(tmp_path / "s"), option, value])
        assert isinstance(res.exception, InputError), res.output
        assert str(res.exception).startswith(f"[{option}]: "), str(res.exception)


def test_cohort_orientation_option_reads_a_matrix_without_barcodes(tmp_path):
    """The orientation error points to --orientation; `cohort` has it, as `check` and `run` do."""
    import numpy as np
    import pandas as pd

    from radiogenomics.errors import InputError

    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        rng.gamma(2.0, 50.0, size=(12, 40)),
        index=[f"S{i}" for i in range(12)],
        columns=[f"G{j}" for j in range(40)],
    )
    f = tmp_path / "samples_x_genes.csv"
    X.to_csv(f)
    res = CliRunner().invoke(app, ["cohort", "--expression", str(f), "--no-report"])
    assert isinstance(res.exception, InputError) and "--orientation" in str(res.exception)
    for orientation, path in (("samples_x_genes", f), ("genes_x_samples", tmp_path / "t.csv")):
        (X if orientation == "samples_x_genes" else X.T).to_csv(path)
        res = CliRunner().invoke(
            app, ["cohort", "--expression", str(path), "--orientation", orientation, "--no-report"]
        )
        assert res.exit_code == 0, res.output
        assert "12 patients with expression x 40 genes" in res.output


def test_workbooks_and_utf16_text_are_named_not_parsed(tmp_path):
    """A workbook, a Parquet file or UTF-16 text given where a text table is read: every reader
    says what the file is and to save it as CSV/TSV, instead of a delimiter or parser error."""
    import pytest

    from radiogenomics.data import (
        read_clinical,
        read_expression,
        read_gene_sets,
        read_subtypes,
        read_vasari,
    )
    from radiogenomics.errors import InputError

    files = {
        "sheet.xlsx": (b"PK\x03\x04" + b"\x00" * 40, "a zip archive (an Excel .xlsx"),
        "old.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "an Excel 97-2003"),
        "table.csv": (b"PAR1" + b"\x00" * 40, "a Parquet file"),
        "unicode.txt": ("gene\tscore\nA\t1\n".encode("utf-16"), "UTF-16 text"),
        "binary.tsv": (b"gene\x00\x01\x02", "a binary file"),
    }
    readers = (read_expression, read_vasari, read_clinical, read_subtypes, read_gene_sets)
    for name, (content, kind) in files.items():
        path = tmp_path / name
        path.write_bytes(content)
        for reader in readers:
            with pytest.raises(InputError) as err:
                reader(path)
            assert str(err.value).startswith(f"{path}: this is {kind}"), (reader, str(err.value))
    gmt = tmp_path / "sets.gmt"
    gmt.write_bytes(files["sheet.xlsx"][0])
    with pytest.raises(InputError, match="expected a GMT text file"):
        read_gene_sets(gmt)
