"""scripts/input_battery.py: selecting cases and rerunning into a kept folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "input_battery.py"


def _module():
    spec = importlib.util.spec_from_file_location("input_battery", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["input_battery"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_a_selection_of_no_case_is_an_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:  # it ran nothing and exited 0
        _module().main(["-k", "no such case", "--keep", str(tmp_path)])
    assert info.value.code == 2
    assert "no case selected" in capsys.readouterr().err
    assert not (tmp_path / "_cohort").exists()  # refused before any work


@pytest.mark.slow
def test_a_rerun_into_the_kept_folder_replaces_the_case(tmp_path, capsys):
    battery = _module()
    argv = ["-k", "seed as text", "--keep", str(tmp_path)]
    assert battery.main(argv) == 0
    assert battery.main(argv) == 0  # FileExistsError on the case's cohort copy
    assert capsys.readouterr().out.count("clear      seed as text") == 2
