"""Agreement with gseapy prerank (the Python GSEA users run today) on a real ranking: the
correlation of each gene with the Mesenchymal subtype indicator in TCGA-GBM RNA-seq."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.enrichment import gsea

pytestmark = [pytest.mark.realdata, pytest.mark.slow]


def _gmt(path) -> dict[str, list[str]]:
    out = {}
    for line in open(path):
        fields = line.rstrip("\n").split("\t")
        out[fields[0]] = fields[2:]
    return out


def subtype_ranking(data) -> pd.Series:
    """Pearson correlation of log2(TPM + 1) with a Mesenchymal indicator (one aliquot/patient)."""
    tpm = pd.read_csv(data / "tcga_gbm" / "rnaseq_rsem_tpm.tsv.gz", sep="\t", index_col=0)
    symbol = tpm.index.str.split("|").str[0]
    keep = (symbol != "?") & ~pd.Index(symbol).duplicated(keep=False)
    tpm = tpm[keep]
    tpm.index = symbol[keep]
    tpm = tpm.loc[:, ~tpm.columns.str[:12].duplicated()]
    tpm.columns = tpm.columns.str[:12]
    sub = pd.read_csv(data / "tcga_gbm" / "glioma_molecular_subtypes_2016.tsv", sep="\t")
    sub = sub.set_index("Case")["Original Subtype"]
    patients = tpm.columns.intersection(sub.index)
    x = np.log2(tpm[patients] + 1)
    x = x[(x > 0).mean(axis=1) >= 0.2]
    y = (sub[patients] == "Mesenchymal").astype(float)
    xc = x.sub(x.mean(axis=1), axis=0)
    yc = y - y.mean()
    r = (xc @ yc) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum())
    return r.dropna()


def test_agrees_with_gseapy_prerank(shared_data):
    gseapy = pytest.importorskip("gseapy")
    ranking = subtype_ranking(shared_data)
    assert len(ranking) > 15000
    sets = _gmt(shared_data / "gene_sets" / "h.all.v6.2.symbols.gmt")
    nperm = 1000
    ours = gsea(ranking, sets, nperm=nperm, seed=1, small_p=None).table.set_index("set")
    theirs = gseapy.prerank(
        rnk=ranking,
        gene_sets=sets,
        permutation_num=nperm,
        min_size=15,
        max_size=500,
        threads=1,
        seed=1,
        outdir=None,
        no_plot=True,
        verbose=False,
    ).res2d.set_index("Term")
    theirs = theirs[["ES", "NES", "NOM p-val"]].astype(float)
    assert set(ours.index) == set(theirs.index) and len(ours) == 50
    m = ours.join(theirs)
    np.testing.assert_allclose(m["es"], m["ES"], atol=1e-6)
    # NES: ratio to the mean same-signed null ES; both nulls are Monte-Carlo (~1.5% each)
    np.testing.assert_allclose(m["nes"], m["NES"], rtol=0.06, atol=0.03)
    # nominal p: within Monte-Carlo error where both resolve it (gseapy reports 0 at the floor)
    res = m[(m["NOM p-val"] > 3 / nperm) & (m["pval"] > 3 / nperm)]
    assert len(res) >= 10
    p = (res["pval"] + res["NOM p-val"]) / 2
    se = np.sqrt(2 * p * (1 - p) / (nperm / 2))
    assert (np.abs(res["pval"] - res["NOM p-val"]) < 4.5 * se + 3 / nperm).all()
    # at the floor in one tool: near it in the other (a set with a true tail near 1/nperm hits
    # the floor in either by chance, but not one with a tail of 10/nperm: P(0 of 10) < 1e-4)
    assert (m.loc[m["NOM p-val"] == 0, "pval"] < 10 / nperm).all()
    assert (m.loc[m["n_more_extreme"] == 0, "NOM p-val"] < 10 / nperm).all()
    assert ((m["NOM p-val"] == 0) & (m["n_more_extreme"] == 0)).sum() >= 10
