"""Agreement with R's fgsea itself (skipped where R or fgsea is not installed: see
../shared/peers/install_r_peers.sh): the same ES, permutation p and NES within Monte-Carlo
error, multilevel p within the two tools' log2err."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

from radiogenomics.enrichment import gsea

R_CODE = r"""
suppressMessages({library(fgsea); library(BiocParallel)})
a <- commandArgs(trailingOnly = TRUE)
tab <- read.delim(a[1]); stats <- setNames(tab$score, tab$gene)
pw <- gmtPathways(a[2]); set.seed(1)
s <- fgseaSimple(pw, stats, nperm = as.integer(a[3]), minSize = 15, maxSize = 500,
                 BPPARAM = SerialParam())
m <- fgseaMultilevel(pw, stats, minSize = 15, maxSize = 500, eps = 1e-50,
                     BPPARAM = SerialParam())
out <- merge(s[, c("pathway", "ES", "NES", "pval")],
             m[, c("pathway", "pval", "log2err")], by = "pathway", suffixes = c("", "_ml"))
write.table(out, a[4], sep = "\t", quote = FALSE, row.names = FALSE)
"""


def _fgsea_available() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = ["Rscript", "-e", "suppressMessages(library(fgsea))"]
    return subprocess.run(probe, capture_output=True, check=False).returncode == 0


needs_fgsea = pytest.mark.skipif(
    not _fgsea_available(), reason="R/fgsea not installed (../shared/peers/install_r_peers.sh)"
)


@needs_fgsea
def test_agrees_with_fgsea(tmp_path):
    rng = np.random.default_rng(3)
    n = 2000
    genes = [f"G{i}" for i in range(n)]
    ranking = pd.Series(rng.normal(size=n), index=genes)
    ordered = list(ranking.sort_values(ascending=False).index)
    sets = {
        f"random{j}": list(rng.choice(genes, int(rng.integers(15, 120)), False)) for j in range(12)
    }
    for t in (18, 22, 26):  # planted: p from about 1e-5 to 1e-13, below the permutation floor
        top, rest = ordered[:150], ordered[150:]
        sets[f"up{t}"] = [*rng.choice(top, t, False), *rng.choice(rest, 40 - t, False)]
        bottom, rest = ordered[-150:], ordered[:-150]
        sets[f"down{t}"] = [*rng.choice(bottom, t, False), *rng.choice(rest, 40 - t, False)]
    ranking.rename("score").rename_axis("gene").reset_index().to_csv(
        tmp_path / "stats.tsv", sep="\t", index=False
    )
    with (tmp_path / "sets.gmt").open("w") as fh:
        for name, members in sets.items():
            fh.write("\t".join([name, "na", *members]) + "\n")
    (tmp_path / "run.R").write_text(R_CODE)
    nperm = 20000
    args = ["Rscript", str(tmp_path / "run.R"), str(tmp_path / "stats.tsv")]
    args += [str(tmp_path / "sets.gmt"), str(nperm), str(tmp_path / "out.tsv")]
    subprocess.run(args, check=True, capture_output=True)
    theirs = pd.read_csv(tmp_path / "out.tsv", sep="\t").set_index("pathway")
    theirs = theirs.rename(columns={"pval": "pval_f", "log2err": "log2err_ml"})
    ours = gsea(ranking, sets, nperm=nperm, seed=2).table.set_index("set")
    m = ours.join(theirs, how="inner")
    assert len(m) == len(sets)
    np.testing.assert_allclose(m["es"], m["ES"], rtol=0, atol=1e-12)
    perm = m[m["pval_method"] == "permutation"]
    assert len(perm) >= 10
    p_mid = (perm["pval"] + perm["pval_f"]) / 2
    se = np.sqrt(2 * p_mid * (1 - p_mid) / (nperm / 2))
    assert (np.abs(perm["pval"] - perm["pval_f"]) < 5 * se + 3 / nperm).all()
    np.testing.assert_allclose(m["nes"], m["NES"], rtol=0.03)
    strong = m[m["pval_method"] == "multilevel"]
    assert len(strong) >= 4 and (strong["pval"] < 1e-4).all()
    err = np.sqrt(strong["log2err"] ** 2 + strong["log2err_ml"] ** 2)
    gap = np.abs(np.log2(strong["pval"]) - np.log2(strong["pval_ml"]))
    assert (gap < 3 * err + 0.5).all(), strong[["pval", "pval_ml", "log2err", "log2err_ml"]]
