"""scripts/make_results.py: its command line refuses what would waste a run or spoil the doc.

Nothing here computes a part or writes docs/results.md: every doc path is a temporary one."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "make_results.py"


@pytest.fixture
def make_results(tmp_path, monkeypatch):
    spec = importlib.util.spec_from_file_location("make_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_results"] = module
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "DOC", tmp_path / "results.md")  # never the real doc
    monkeypatch.setattr(module, "DOC_FIGURES", tmp_path / "figures")
    return module


def refused(module, argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as info:
        module.main(argv)
    assert info.value.code == 2
    return capsys.readouterr().err


def test_unknown_part_is_refused_before_any_work(make_results, capsys, tmp_path):
    err = refused(make_results, ["--only", "doc,subtype", "--out", str(tmp_path)], capsys)
    assert "--only" in err and "subtype" in err  # after loading the data and earlier parts


def test_doc_from_an_empty_cache_is_refused(make_results, capsys, tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# kept\n")
    argv = ["--only", "doc", "--out", str(tmp_path / "empty"), "--doc", str(doc)]
    assert "no cached results" in refused(make_results, argv, capsys)
    assert doc.read_text() == "# kept\n"  # its numbers became '?' and 'nan'


def test_missing_data_is_refused(make_results, capsys, tmp_path):
    argv = ["--only", "subtypes", "--data", str(tmp_path), "--out", str(tmp_path)]
    assert "--data" in refused(make_results, argv, capsys)  # an InputError traceback


def test_quick_renders_no_doc_unless_asked(make_results, capsys):
    assert make_results.main(["--quick", "--only", "doc"]) == 0
    assert "not rendered" in capsys.readouterr().out
    assert not make_results.DOC.exists()  # smoke numbers replaced the real ones
