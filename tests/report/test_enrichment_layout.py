"""The findings read the enrichment stage's GSEA tables in its layout: the plain task in
``task``, the class in ``class`` (a binary task's positive class), for the masking and the
correlation (naive peer) ranking alike; a multi-class task's classes are ranked apart."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from radiogenomics.report import build_report
from radiogenomics.report.findings import driver_findings
from radiogenomics.runfolder import RunFolder
from radiogenomics.utils.io import write_table

COLUMNS = ["task", "class", "ranking", "collection", "set", "nes", "padj"]
# subtype (multi-class): per class, the masking NES and the correlation padj of each set. Within
# its class each planted set is second by the correlation ranking; pooling the classes of the
# task would rank subtype: A's SET_A third and subtype: B's SET_B fourth.
SUBTYPE = [
    ("subtype", "A", "masking_ap", "programmes", "SET_A", 1.7, 0.01),
    ("subtype", "A", "masking_ap", "programmes", "SET_B", 0.3, 0.6),
    ("subtype", "B", "masking_ap", "programmes", "SET_B", 2.4, 0.001),
    ("subtype", "B", "masking_ap", "programmes", "SET_A", -0.5, 0.7),
    ("subtype", "A", "correlation", "programmes", "SET_B", 1.5, 0.001),
    ("subtype", "A", "correlation", "programmes", "SET_A", 1.2, 0.04),
    ("subtype", "B", "correlation", "programmes", "SET_A", 1.4, 0.002),
    ("subtype", "B", "correlation", "programmes", "SET_B", 0.1, 0.5),
]


def _rows(page: str, table_id: str) -> list[dict]:
    """The rows an interactive table shows, as {header: cell}."""
    block = page[page.index(f'id="{table_id}"') :]
    head = json.loads('"' + re.search(r'"table_html": "(.*?)",\n', block).group(1) + '"')
    data = json.loads(json.loads('"' + re.search(r'"data_json": "(.*?)",\n', block).group(1) + '"'))
    return [dict(zip(re.findall(r"<th>(.*?)</th>", head), row, strict=True)) for row in data]


@pytest.fixture
def binary_and_multiclass(planted_factory):
    """The planted run without a driver ranking (findings from set masking and GSEA), with a
    multi-class task beside the binary ones."""
    run = planted_factory(drivers=False)
    folder = RunFolder(run)
    tasks = folder.table("load", "tasks")
    tasks = pd.concat(
        [tasks, pd.DataFrame({"task": ["subtype"], "positive": [None], "kept": [True]})],
        ignore_index=True,
    )
    write_table(tasks, run / "load" / "tables" / "tasks")
    top = folder.table("masking", "top_sets")
    extra = pd.DataFrame(
        [
            ("subtype", cls, "out_of_fold", "programmes", s, 8, 0.8, 0.7, 0.01)
            for cls, s in (("A", "SET_A"), ("B", "SET_B"))
        ],
        columns=["task", "class", "mode", "collection", "set", "size", "auc", "ap", "q_ap"],
    )
    write_table(pd.concat([top, extra], ignore_index=True), run / "masking" / "tables" / "top_sets")
    gsea = folder.table("enrichment", "gsea")
    assert list(gsea.columns) == COLUMNS  # the fixture writes the stage's layout
    gsea = pd.concat([gsea, pd.DataFrame(SUBTYPE, columns=COLUMNS)], ignore_index=True)
    write_table(gsea, run / "enrichment" / "tables" / "gsea")
    return run


def test_findings_carry_masking_nes_and_naive_peer_rank_per_task_and_class(binary_and_multiclass):
    d = driver_findings(RunFolder(binary_and_multiclass), top=1)
    d = d.set_index(["trait", "set"])
    # binary: the positive class's rows of both rankings (the naive peer put SET_C first)
    assert d.loc[("edema", "SET_A"), "NES"] == pytest.approx(2.1)
    assert d.loc[("edema", "SET_A"), "naive peer rank"] == 2
    # multi-class: each class's own rows, ranked within the class
    assert d.loc[("subtype: A", "SET_A"), "NES"] == pytest.approx(1.7)
    assert d.loc[("subtype: A", "SET_A"), "naive peer rank"] == 2
    assert d.loc[("subtype: B", "SET_B"), "NES"] == pytest.approx(2.4)
    assert d.loc[("subtype: B", "SET_B"), "naive peer rank"] == 2
    assert not d["NES"].isna().any() and not d["naive peer rank"].isna().any()


def test_report_findings_show_the_nes_and_the_naive_peer(binary_and_multiclass):
    page = build_report(binary_and_multiclass).read_text()
    rows = {(r["trait"], r["set"]): r for r in _rows(page, "findings-drivers")}
    assert {("edema", "SET_A"), ("subtype: A", "SET_A"), ("subtype: B", "SET_B")} <= set(rows)
    shown = {k: (float(r["NES"]), float(r["naive peer rank"])) for k, r in rows.items()}
    assert shown[("edema", "SET_A")] == (2.1, 2)
    assert shown[("subtype: A", "SET_A")] == (1.7, 2)
    assert shown[("subtype: B", "SET_B")] == (2.4, 2)


def test_enrichment_top_table_shows_the_top_sets_of_each_class_and_ranking():
    from radiogenomics.report.builder import SECTIONS, _select

    spec = next(t for s in SECTIONS if s.id == "enrichment" for t in s.tables)
    top = pd.DataFrame(
        [
            ("subtype", cls, ranking, "programmes", f"S{i}", 1.0, i / 100)
            for cls in ("A", "B")
            for ranking in ("masking_ap", "correlation")
            for i in range(spec.top + 5)
        ],
        columns=COLUMNS,
    )
    shown = _select(top, spec)
    assert shown.groupby(["class", "ranking"]).size().eq(spec.top).all()
    assert len(shown) == 4 * spec.top  # not the first rows of the task alone
