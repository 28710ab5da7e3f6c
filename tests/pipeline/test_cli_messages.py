"""What the command line prints: a report this run did not rebuild is not presented as its
result; warnings are one line each."""

from __future__ import annotations

from pathlib import Path

from radiogenomics.cli.run import _report_line
from radiogenomics.pipeline import StageOutcome

REPO = Path(__file__).resolve().parents[2]


def test_the_report_line_says_when_the_report_was_not_rebuilt(tmp_path):
    assert _report_line(tmp_path, [StageOutcome("report", "done")]) is None  # no report yet
    (tmp_path / "report").mkdir()
    (tmp_path / "report" / "index.html").write_text("<html></html>")
    path = str(tmp_path / "report" / "index.html")
    for status in ("done", "skipped"):
        assert _report_line(tmp_path, [StageOutcome("report", status)]) == f"report: {path}"
    off = StageOutcome("report", "disabled", reason="report.enabled = false")  # as the runner says
    disabled = _report_line(tmp_path, [off])
    assert "not rebuilt by this run: report.enabled = false" in disabled and path in disabled
    only_masking = _report_line(tmp_path, [StageOutcome("masking", "done")])
    assert "not among the stages run" in only_masking and "may predate" in only_masking


def test_warnings_print_as_one_line_without_the_source():
    from radiogenomics.cli import _one_line_warning

    text = _one_line_warning(UserWarning("x.tsv: 1 genes dropped"), UserWarning, "/a/b.py", 185)
    assert text == "warning: x.tsv: 1 genes dropped\n"


def test_help_prints_the_config_key_of_each_option():
    from typer.testing import CliRunner

    from radiogenomics.cli import app

    for command in ("run", "check"):
        text = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"}).output
        assert "[config: out]" in text and "[config: seed]" in text, text


def test_help_shows_flags_without_a_value_type():
    """A flag takes no value; typer 0.29 labelled each `<bool>` (`--force <bool>`), which reads
    as if a value were expected (the dependency is capped below it)."""
    from typer.testing import CliRunner

    from radiogenomics.cli import app

    for command in ([], ["run"], ["check"], ["gsea"], ["demo"]):
        text = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"}).output
        assert "--help" in text and "<bool>" not in text, text


def test_check_shows_no_folds_for_a_disabled_stage(tmp_path):
    from radiogenomics.config import load_config
    from radiogenomics.pipeline.check import check_study
    from study_configs import synthetic_study

    study = synthetic_study(
        tmp_path / "runs", name="c", seed=1, n_patients=60, n_genes=300,
        executor={"kind": "local"}, bootstrap={"enabled": False},
    )  # fmt: skip
    folds = check_study(load_config(data=study)).folds
    assert set(folds["bootstrap folds"]) == {"-"}
    assert all(str(k).isdigit() for k in folds["classifiers folds"])


def test_command_help_has_no_hard_line_breaks_inside_a_paragraph():
    """The help renderer keeps single newlines, so a docstring paragraph wrapped in the source
    would print cut short in `radiogenomics --help`; each paragraph must be one line."""
    from radiogenomics.cli import app

    for command in app.registered_commands:
        doc = command.callback.__doc__
        paragraphs = [p.strip() for p in doc.split("\n\n")]
        wrapped = [p for p in paragraphs if "\n" in p]
        assert not wrapped, f"{command.callback.__name__}: {wrapped}"


def test_sigterm_ends_the_command_with_status_143_not_ctrl_c_130():
    import pytest
    import typer

    from radiogenomics.cli.run import _exit_143_on_sigterm
    from radiogenomics.pipeline.runner import Terminated

    with pytest.raises(typer.Exit) as ended, _exit_143_on_sigterm():
        raise Terminated("SIGTERM")
    assert ended.value.exit_code == 143
    with pytest.raises(KeyboardInterrupt), _exit_143_on_sigterm():  # Ctrl-C: as before
        raise KeyboardInterrupt


def test_check_of_the_real_subtype_study_counts_g_cimp_among_the_modelled(shared_data, tmp_path):
    """The subtype file holds many more G-CIMP patients than the study models: the note counts
    those among the patients with a subtype and expression (the file's count is in brackets)."""
    import warnings

    from radiogenomics.config import load_config
    from radiogenomics.pipeline.load import read_study

    cfg = load_config(REPO / "configs" / "tcga_gbm_subtype.toml")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study = read_study(cfg.data, cfg.data_files(), "tcga_gbm_subtype.toml")
    gcimp = [n for n in study.notes if "G-CIMP" in n]
    modelled = study.targets["subtype"].dropna().index.intersection(study.expression.index)
    assert len(modelled) == 151
    assert gcimp == [
        "8 G-CIMP patients of the 151 with a subtype and expression counted as Proneural (the "
        "4-class subtype task; glioma_molecular_subtypes_2016.tsv holds 39)"
    ]
    assert not any("G-CIMP" in str(w.message) for w in caught)


def test_a_study_without_a_usable_task_shows_each_tasks_classes(shared_data):
    """paper.toml on the public 20-patient VASARI file: 7 imaged patients have expression, too
    few for any task; the error says so with each task's class counts, before any work."""
    import pytest

    from radiogenomics.config import load_config
    from radiogenomics.errors import InputError
    from radiogenomics.pipeline.load import read_study

    cfg = load_config(REPO / "configs" / "paper.toml")
    with pytest.raises(InputError) as err:
        read_study(cfg.data, cfg.data_files(), "paper.toml")
    text = str(err.value)
    assert text.startswith(f"{cfg.data_files()['data.vasari']} [data.min_patients_per_class]")
    assert "(7 patients with labels and expression; enhancing: <1/3: 2 | >=1/3: 5;" in text
    assert "infiltrative: expansive: 5 | infiltrative: 2)" in text
