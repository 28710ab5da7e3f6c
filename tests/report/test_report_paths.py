"""The page names the run folder and the study file without the machine's absolute path: it
is shared, and the path means nothing to a reader elsewhere."""

from __future__ import annotations

import html

from radiogenomics.config import to_toml
from radiogenomics.report import build_report
from radiogenomics.utils.io import read_json, write_json


def _with_source(run, source):
    cfg = read_json(run / "config.json")
    cfg["source"] = str(source)
    write_json(run / "config.json", cfg)
    (run / "config.toml").write_text(to_toml(cfg))


def test_run_folder_is_named_relative_to_the_study_file(planted_run, tmp_path):
    _with_source(planted_run, tmp_path / "study.toml")  # the run is tmp_path/runs/planted
    page = html.unescape(build_report(planted_run).read_text())
    assert "run folder <code>runs/planted</code>" in page
    assert 'source = "study.toml"' in page
    assert str(tmp_path) not in page


def test_run_folder_outside_the_study_folder_is_named_alone(planted_run, tmp_path):
    _with_source(planted_run, tmp_path / "studies" / "study.toml")
    page = html.unescape(build_report(planted_run).read_text())
    assert "run folder <code>planted</code>" in page
    assert str(tmp_path) not in page


def test_run_folder_named_alone_without_a_study_file(planted_run, tmp_path):
    assert not read_json(planted_run / "config.json").get("source")  # loaded from a dict
    page = html.unescape(build_report(planted_run).read_text())
    assert "run folder <code>planted</code>" in page
    assert str(tmp_path) not in page
