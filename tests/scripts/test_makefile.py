"""The Makefile: every target sets itself up, and `make clean` keeps the runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def dry_run(*args: str) -> str:
    """The commands `make` would run (nothing is run)."""
    out = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", str(REPO), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def test_clean_keeps_the_runs_folder():
    removed = " ".join(line for line in dry_run("clean").splitlines() if "rm " in line).split()
    assert "runs" not in removed and "runs/" not in removed  # studies' outputs, results cache
    assert ".venv" in removed and ".pytest_cache" in removed


@pytest.mark.parametrize("target", ["demo", "test", "test-fast", "bench", "lint", "results"])
def test_targets_set_themselves_up(target):
    # as on a fresh clone (-W: as if pyproject.toml had changed): the venv is made first
    lines = dry_run("-W", "pyproject.toml", target).splitlines()
    assert lines[0].endswith("-m venv .venv") and "touch .venv/.installed" in lines
