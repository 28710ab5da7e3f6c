"""The paper's driver query: which sets each gene or keyword finds (against a direct scan),
averaged groups and the Table 2-like summary."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data import GeneSets, read_gene_sets
from radiogenomics.data.driver_query import (
    GBM_DRIVER_GENES,
    MCLENDON_2008,
    PARSONS_2008,
    annotate_queries,
    average_groups,
    driver_summary,
    query_gene_sets,
)
from radiogenomics.errors import InputError


def _collections():
    hallmark = GeneSets(
        {
            "HALLMARK_HYPOXIA": ["VEGFA", "EGFR", "PGK1"],
            "HALLMARK_EMT": ["POSTN", "COL1A1", "VIM"],
            "HALLMARK_P53_PATHWAY": ["TP53", "MDM2", "CDKN1A"],
        },
        "h.all",
        {"HALLMARK_HYPOXIA": "http://www.broadinstitute.org/gsea/msigdb/cards/HALLMARK_HYPOXIA"},
    )
    canonical = GeneSets(
        {
            "NABA_ECM_REGULATORS": ["MMP2", "TIMP1"],
            "REACTOME_PI3K_CASCADE": ["PIK3CA", "PIK3R1", "AKT1"],
            "PID_PI3KCI_PATHWAY": ["PIK3CA", "PTEN"],
            "KEGG_GLIOMA": ["EGFR", "PTEN", "CDK4", "TP53"],
            "SPECIMEN_X": ["GAPDH"],
        },
        "c2.cp",
        {"SPECIMEN_X": "genes of the extracellular matrix (ECM) and cell membrane"},
    )
    return [hallmark, canonical]


def _direct(collections, genes, keywords):
    """A plain scan: (collection, set, term) for membership and for whole-word text matches."""
    hits = set()
    for gs in collections:
        for name, members in gs.items():
            text = (name + " " + gs.descriptions.get(name, "")).replace("_", " ")
            text = re.sub(r"https?://\S+", " ", text)
            for g in genes:
                if g in members:
                    hits.add((gs.collection, name, g))
            for k in keywords:
                if re.search(r"\b" + re.escape(k) + r"\b", text, flags=re.IGNORECASE):
                    hits.add((gs.collection, name, k))
    return hits


def test_the_22_driver_genes():
    assert len(GBM_DRIVER_GENES) == 22 == len(set(GBM_DRIVER_GENES))
    assert set(GBM_DRIVER_GENES) == set(PARSONS_2008) | set(MCLENDON_2008)
    assert {"EGFR", "PTEN", "TP53", "NF1", "RB1", "CDKN2A", "PDGFRA", "IDH1"} <= set(
        GBM_DRIVER_GENES
    )


def test_query_matches_direct_scan():
    cols = _collections()
    genes, keywords = ["EGFR", "PTEN", "TP53", "PI3K"], ["ECM", "cell membrane", "hypoxia"]
    res = query_gene_sets(cols, genes=genes, keywords=keywords)
    got = set(zip(res.matches["collection"], res.matches["set"], res.matches["term"], strict=True))
    # PI3K is in no set: it is matched by name, whole words only (not PI3KCI).
    assert got == _direct(cols, ["EGFR", "PTEN", "TP53"], [*keywords, "PI3K"])
    assert res.as_keyword == ["PI3K"] and res.unmatched == []
    assert ("c2.cp", "REACTOME_PI3K_CASCADE", "PI3K") in got
    assert not any(s == "PID_PI3KCI_PATHWAY" and t == "PI3K" for _, s, t in got)
    # The web-address description adds nothing: 'org' finds no set.
    assert query_gene_sets(cols, genes=[], keywords=["org"]).unmatched == ["org"]
    table = res.table.set_index("set")
    assert (
        table.loc["KEGG_GLIOMA", "query"] == "EGFR;PTEN;TP53"
        and table.loc["KEGG_GLIOMA", "n_terms"] == 3
    )
    assert table.loc["SPECIMEN_X", "query"] == "ECM;cell membrane"
    assert table.loc["HALLMARK_HYPOXIA", "query"] == "EGFR;hypoxia"
    assert set(res.sets) == set(table.index) and res.sets["KEGG_GLIOMA"] == cols[1]["KEGG_GLIOMA"]
    assert res.sets_for("PTEN") == ["PID_PI3KCI_PATHWAY", "KEGG_GLIOMA"]
    with pytest.raises(InputError, match="empty query"):
        query_gene_sets(cols, genes=[], keywords=[])
    with pytest.raises(InputError, match="no letters or digits"):
        query_gene_sets(cols, genes=[], keywords=["--"])


def _masking():
    rng = np.random.default_rng(4)
    sets = ["HALLMARK_HYPOXIA", "HALLMARK_EMT", "KEGG_GLIOMA", "NABA_ECM_REGULATORS", "SPECIMEN_X"]
    coll = ["h.all", "h.all", "c2.cp", "c2.cp", "c2.cp"]
    rows = []
    for task in ("edema", "focal"):
        for s, c in zip(sets, coll, strict=True):
            rows.append(
                {
                    "task": task,
                    "class": "pos",
                    "collection": c,
                    "set": s,
                    "coverage_pct": 100.0,
                    "auc": rng.random(),
                    "ap": rng.random(),
                    "q_ap": rng.random(),
                }
            )
    return pd.DataFrame(rows)


def test_annotate_average_and_summary():
    res = query_gene_sets(_collections(), genes=["EGFR", "TP53"], keywords=["ECM"])
    m = annotate_queries(_masking(), res)
    assert m.loc[m["set"] == "KEGG_GLIOMA", "query"].unique().tolist() == ["EGFR;TP53"]
    assert m.loc[m["set"] == "HALLMARK_EMT", "query"].unique().tolist() == [""]
    # Rows masked under the query's own collection are annotated by set name.
    own = annotate_queries(_masking().assign(collection="driver_query"), res)
    assert own["query"].tolist() == m["query"].tolist()
    assert annotate_queries(_masking().drop(columns="collection"), res)["query"].equals(m["query"])
    groups = {
        "related to ECM": res.sets_for("ECM"),
        "hypoxia+emt": ["HALLMARK_HYPOXIA", "HALLMARK_EMT"],
    }
    avg = average_groups(m, groups)
    for _, row in avg.iterrows():
        part = m[(m["task"] == row["task"]) & m["set"].isin(groups[row["group"]])]
        assert row["n_sets"] == 2 and row["auc"] == pytest.approx(part["auc"].mean())
        assert row["ap"] == pytest.approx(part["ap"].mean())
    assert set(res.sets_for("ECM")) == {"NABA_ECM_REGULATORS", "SPECIMEN_X"}
    summary = driver_summary(m, top=2)
    for task, part in m.groupby("task"):
        expected = set(part.nlargest(2, "auc")["set"]) | set(part.nlargest(2, "ap")["set"])
        got = summary[summary["task"] == task]
        assert set(got["set"]) == expected
        assert got["auc"].is_monotonic_decreasing
        for _, r in got.iterrows():
            assert ("auc" in r["top_by"]) == (r["set"] in set(part.nlargest(2, "auc")["set"]))
    assert {"collection", "query", "coverage_pct", "q_ap"} <= set(summary.columns)
    with pytest.raises(InputError, match="list no set"):
        average_groups(m, {"empty": []})
    with pytest.raises(InputError, match="no column"):
        driver_summary(m.drop(columns="ap"))


@pytest.mark.realdata
def test_real_msigdb_query(shared_data):
    gs = shared_data / "gene_sets"
    cols = [
        read_gene_sets(gs / "h.all.v6.2.symbols.gmt", name="h.all"),
        read_gene_sets(gs / "c2.cp.v6.1.symbols.gmt", name="c2.cp"),
    ]
    res = query_gene_sets(cols, keywords=["ECM", "hypoxia"])
    real_genes = [g for g in GBM_DRIVER_GENES if any(g in s.genes for s in cols)]
    got = set(zip(res.matches["collection"], res.matches["set"], res.matches["term"], strict=True))
    assert got == _direct(cols, real_genes, ["ECM", "hypoxia", *res.as_keyword])
    assert "PI3K" in res.as_keyword and "REACTOME_PI3K_AKT_ACTIVATION" in res.sets_for("PI3K")
    assert len(res.sets_for("EGFR")) > 20 and "HALLMARK_HYPOXIA" in res.sets_for("hypoxia")
