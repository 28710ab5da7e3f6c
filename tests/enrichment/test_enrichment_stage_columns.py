"""The enrichment stage's tables name the plain task in ``task`` and the class in ``class``, for
the masking and the correlation rankings alike, so filtering on the task keeps both."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd


def test_enrichment_stage_writes_plain_task_and_class(tmp_path, monkeypatch):
    from radiogenomics.pipeline import enrichment_stage as stage

    rng = np.random.default_rng(11)
    genes = [f"G{i:03d}" for i in range(120)]
    patients = [f"P{j:02d}" for j in range(40)]
    expression = pd.DataFrame(rng.normal(size=(40, 120)), index=patients, columns=genes)
    labels = {
        "edema": pd.Series(rng.choice(["<1/3", ">=1/3"], 40), index=patients),
        "subtype": pd.Series(rng.choice(["A", "B", "C"], 40), index=patients),
    }
    positive = {"edema": ">=1/3", "subtype": None}
    collection = {f"S{j}": list(rng.choice(genes, 20, replace=False)) for j in range(3)}
    sd = SimpleNamespace(
        task_names=list(labels),
        expression=expression,
        labels=lambda t: labels[t],
        positive=lambda t: positive[t],
        pick=lambda names: {"programmes": collection},
    )
    masking = pd.DataFrame(
        [
            (t, c, "delta", stage.SINGLE, g, rng.normal())
            for t, c in (("edema", ">=1/3"), ("subtype", "A"), ("subtype", "B"), ("subtype", "C"))
            for g in genes
        ],
        columns=["task", "class", "mode", "collection", "set", "ap"],
    )
    tables = {}
    ctx = SimpleNamespace(
        cfg=SimpleNamespace(
            enrichment=SimpleNamespace(
                ranking="ap",
                collections=["programmes"],
                gsea_kwargs=lambda: {"nperm": 50, "min_size": 5, "max_size": 100},
            ),
            masking=SimpleNamespace(readout="delta"),
        ),
        device="cpu",
        seed=lambda name: 1,
        read=lambda stage_name, table: masking,
        table=lambda df, name: tables.__setitem__(name, df),
        log=SimpleNamespace(info=lambda *a: None),
        dir=tmp_path,
    )
    monkeypatch.setattr(stage, "study_data", lambda ctx: sd)
    best = stage.run_enrichment(ctx)
    res = tables["gsea"]
    assert list(res.columns[:4]) == ["task", "class", "ranking", "collection"]
    assert set(res["task"]) == {"edema", "subtype"}  # never "edema: >=1/3"
    for kind in ("masking_ap", "correlation"):
        rows = res[res["ranking"] == kind]
        pairs = set(zip(rows["task"], rows["class"], strict=True))
        assert pairs == {("edema", ">=1/3"), ("subtype", "A"), ("subtype", "B"), ("subtype", "C")}
    edema = res[res["task"] == "edema"]  # filtering on the task keeps both rankings
    assert set(edema["ranking"]) == {"masking_ap", "correlation"} and len(edema) == 6
    top = tables["gsea_top"]
    assert {"task", "class"} <= set(top.columns) and set(top["task"]) == {"edema", "subtype"}
    assert set(best) == {"edema: >=1/3", "subtype: A", "subtype: B", "subtype: C"}


def test_a_permutation_floor_that_no_patient_can_pass_is_said():
    """nperm = 200 and 51 sets: a lone enriched set reaches q = 51/201 at best, so no patient
    can have a trait at q < 0.05; the stage says why and what to change."""
    from radiogenomics.pipeline.enrichment_stage import _permutation_floor_note

    rows = [
        {"model": "edema", "patient": p, "collection": "h", "set": f"S{i}", "padj": 0.06 + i / 1e3,
         "enriched": False}
        for p in ("P1", "P2") for i in range(51)
    ]  # fmt: skip
    table = pd.DataFrame(rows)
    note = _permutation_floor_note(table, 200, 0.05, "none")
    assert "q = 0.25 at best" in note and "nperm above 1020" in note and "0.06" in note
    assert _permutation_floor_note(table, 5000, 0.05, "none") is None  # floor 0.01: possible
    assert _permutation_floor_note(table, 200, 0.05, "multilevel") is None
    table.loc[0, "enriched"] = True
    assert _permutation_floor_note(table, 200, 0.05, "none") is None


def test_the_floor_note_uses_the_real_permutation_floor():
    """The permutation p of a set with no null ES as extreme is 1/(1 + null ES >= 0), about
    2/nperm, not 1/(nperm+1): 20 sets at nperm = 600 reach q = 20/(1 + ~300) > 0.05 at best,
    so no patient can have a trait and the stage must say so (it did not: 20/601 < 0.05)."""
    from radiogenomics.enrichment import gsea_many
    from radiogenomics.pipeline.enrichment_stage import _permutation_floor_note

    rng = np.random.default_rng(0)
    genes = [f"g{i}" for i in range(300)]
    rankings = pd.DataFrame(rng.normal(size=(300, 2)), index=genes, columns=["P1", "P2"])
    top = list(rankings["P1"].sort_values(ascending=False).index[:20])
    sets = {"top": top} | {f"S{i}": list(rng.choice(genes, 20, replace=False)) for i in range(19)}
    table = gsea_many(rankings, sets, nperm=600, seed=1).table
    table = table.rename(columns={"ranking": "patient"}).assign(model="m", collection="h")
    table["enriched"] = (table["padj"] < 0.05) & (table["nes"] > 0)
    lone = table[(table["patient"] == "P1") & (table["set"] == "top")].iloc[0]
    assert lone["n_more_extreme"] == 0 and not table["enriched"].any()
    assert 20 * lone["pval"] > 0.05 > 20 / 601  # the real floor, not 1/(nperm + 1)
    note = _permutation_floor_note(table, 600, 0.05, "none")
    assert note is not None and "at best" in note  # was None: 20/601 < 0.05
    best = float(note.split("reaches q = ")[1].split(" at best")[0])
    assert 0.05 <= best <= 20 * lone["pval"] + 1e-3  # the most favourable floor of any row
