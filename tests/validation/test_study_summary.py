"""summarise_study's GSEA summary reads the enrichment stage's ``class`` column: each class of a
multi-class task is summarised on its own, for both rankings."""

from __future__ import annotations

import pandas as pd
import pytest

from radiogenomics.runfolder import RunFolder
from radiogenomics.utils.io import write_json, write_table
from radiogenomics.validation.study_summary import OWN_SET_COLLECTION, gsea_summary

CLASSES = ("Classical", "Mesenchymal")


def _gsea() -> pd.DataFrame:
    rows = []
    for ranking in ("masking_ap", "correlation"):
        for k, cls in enumerate(CLASSES):
            for s in CLASSES:  # each class's own set is its best, with a planted NES
                nes = 2.0 + k + (0.1 if ranking == "correlation" else 0) if s == cls else -1.0
                rows.append(("subtype", cls, ranking, OWN_SET_COLLECTION, s, nes, 0.01))
        rows.append(("edema", ">=1/3", ranking, "hallmark", "HYPOXIA", 1.5, 0.02))
        rows.append(("edema", ">=1/3", ranking, "hallmark", "EMT", 0.5, 0.4))
    return pd.DataFrame(
        rows, columns=["task", "class", "ranking", "collection", "set", "nes", "padj"]
    )


def test_gsea_summary_keeps_the_classes_of_a_task_apart(tmp_path):
    write_table(_gsea(), tmp_path / "enrichment" / "tables" / "gsea")
    write_json(tmp_path / "enrichment" / "manifest.json", {"status": "done"})
    out = gsea_summary(RunFolder(tmp_path))
    own = {(r["ranking"], r["class"]): r for r in out["own_set"]}
    assert set(own) == {(r, c) for r in ("masking_ap", "correlation") for c in CLASSES}
    assert own[("masking_ap", "Mesenchymal")]["nes"] == pytest.approx(3.0)
    assert own[("correlation", "Classical")]["nes"] == pytest.approx(2.1)
    assert all(r["rank"] == 1 and r["n_sets"] == 2 and r["task"] == "subtype" for r in own.values())
    top = {(r["ranking"], r["task"], r["class"]): r for r in out["top"]}
    assert len(top) == 6 and top[("masking_ap", "subtype", "Classical")]["set"] == "Classical"
    edema = top[("correlation", "edema", ">=1/3")]
    assert edema["set"] == "HYPOXIA" and edema["n_sets"] == 2 and edema["n_significant"] == 1
