"""docs/tutorial.md runs: its ```python blocks are executed in order in one namespace, in a
temporary working directory, so the tutorial cannot drift from the API."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

import matplotlib
import pytest

TUTORIAL = Path(__file__).resolve().parents[2] / "docs" / "tutorial.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
MIN_BLOCKS = 6


def python_blocks(text: str) -> list[str]:
    return BLOCK.findall(text)


def run_blocks(blocks: list[str], namespace: dict, source: str = TUTORIAL.name) -> None:
    """Execute the blocks in order; the first failure names its block number and first line."""
    for i, code in enumerate(blocks, start=1):
        first = code.strip().splitlines()[0] if code.strip() else ""
        try:
            exec(compile(code, f"{source} block {i}", "exec"), namespace)
        except Exception:
            pytest.fail(
                f"{source} block {i} (starting {first!r}) failed:\n"
                + traceback.format_exc(limit=-3)
            )


def test_block_extraction_and_failure_report():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = x + 1\n1 / 0\n```\n"
    blocks = python_blocks(text)
    assert blocks == ["x = 1\n", "y = x + 1\n1 / 0\n"]
    namespace: dict = {}
    with pytest.raises(pytest.fail.Exception, match=r"block 2 \(starting 'y = x \+ 1'\)"):
        run_blocks(blocks, namespace, "t.md")
    assert namespace["y"] == 2  # one namespace: block 2 saw block 1's x


def test_tutorial_blocks_run_in_order(tmp_path, monkeypatch):
    blocks = python_blocks(TUTORIAL.read_text())
    assert len(blocks) >= MIN_BLOCKS, f"{TUTORIAL.name} has {len(blocks)} python blocks"
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    plt.switch_backend("Agg")  # the test's choice: no window; the tutorial chooses nothing
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "tutorial"}
    try:
        run_blocks(blocks, namespace)
    finally:
        plt.close("all")
        plt.switch_backend(before)
    # the planted answers come out: edema is learnt, its programme leads the enrichment
    assert namespace["cv"].pooled_auc > 0.7
    top = namespace["enrichment"].table.sort_values("nes", ascending=False)["set"]
    assert "SYN_EMT" in list(top.iloc[:2])
    assert (tmp_path / namespace["folder"] / "survival.png").stat().st_size > 0
