"""GSEA speed against gseapy prerank, measured in the same run with the same threads.

1. One real ranking (~18,500 genes: correlation with the Mesenchymal subtype, TCGA-GBM) x 50
   hallmark sets, 10,000 permutations: ours (permutation p, what gseapy computes; and with the
   multilevel small-p estimates) vs gseapy prerank. Target: >= 10x.
2. 175 patient rankings (per-gene z-scores of each patient's expression, the shape of
   patient-level saliency) x hallmark + c1 positional sets, 10,000 permutations: total time
   with the permutation p (target: minutes on 2 cores).

``--quick`` runs reduced sizes (1,000 permutations, 20 rankings). Needs ../shared/data.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from radiogenomics.data.gene_sets import read_gene_sets
from radiogenomics.enrichment import gsea, gsea_many

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def load_expression() -> pd.DataFrame:
    """log2(TPM + 1), one aliquot per patient, unique symbols, genes expressed in >= 20%."""
    tpm = pd.read_csv(DATA / "tcga_gbm" / "rnaseq_rsem_tpm.tsv.gz", sep="\t", index_col=0)
    symbol = tpm.index.str.split("|").str[0]
    keep = (symbol != "?") & ~pd.Index(symbol).duplicated(keep=False)
    tpm = tpm[keep]
    tpm.index = symbol[keep]
    tpm = tpm.loc[:, ~tpm.columns.str[:12].duplicated()]
    tpm.columns = tpm.columns.str[:12]
    x = np.log2(tpm + 1)
    return x[(x > 0).mean(axis=1) >= 0.2]


def subtype_ranking(x: pd.DataFrame) -> pd.Series:
    sub = pd.read_csv(DATA / "tcga_gbm" / "glioma_molecular_subtypes_2016.tsv", sep="\t")
    sub = sub.set_index("Case")["Original Subtype"]
    pts = x.columns.intersection(sub.index)
    y = (sub[pts] == "Mesenchymal").astype(float)
    xc = x[pts].sub(x[pts].mean(axis=1), axis=0)
    yc = y - y.mean()
    r = (xc @ yc) / np.sqrt((xc**2).sum(axis=1) * (yc**2).sum())
    return r.dropna()


def patient_rankings(x: pd.DataFrame, n: int, seed: int = 0) -> pd.DataFrame:
    """Per-gene z-scores of each patient; beyond the cohort size, mixtures of two patients."""
    z = x.sub(x.mean(axis=1), axis=0).div(x.std(axis=1) + 1e-9, axis=0)
    cols = [z.iloc[:, j % z.shape[1]].to_numpy() for j in range(min(n, z.shape[1]))]
    rng = np.random.default_rng(seed)
    while len(cols) < n:
        a, b = rng.choice(z.shape[1], 2, replace=False)
        cols.append(0.5 * (z.iloc[:, a].to_numpy() + z.iloc[:, b].to_numpy()))
    return pd.DataFrame(np.column_stack(cols), index=z.index, columns=[f"r{j}" for j in range(n)])


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1,000 permutations, 20 rankings")
    ap.add_argument("--nperm", type=int, default=None, help="override the permutation count")
    ap.add_argument("--rankings", type=int, default=None, help="override the ranking count")
    ap.add_argument("--threads", type=int, default=1, help="threads for both tools")
    ap.add_argument("--skip-gseapy", action="store_true")
    args = ap.parse_args()
    nperm = args.nperm or (1000 if args.quick else 10000)
    n_rankings = args.rankings or (20 if args.quick else 175)
    torch.set_num_threads(args.threads)
    warnings.simplefilter("ignore")
    if not (DATA / "tcga_gbm").is_dir():
        raise SystemExit(f"bench_gsea: real data not found at {DATA}")
    hallmark = read_gene_sets(DATA / "gene_sets" / "h.all.v6.2.symbols.gmt")
    c1 = read_gene_sets(DATA / "gene_sets" / "c1.all.v6.1.symbols.gmt")
    x = load_expression()
    ranking = subtype_ranking(x)
    sets = dict(hallmark.items())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    print(f"device: {device}, threads: {args.threads}, permutations: {nperm}", flush=True)
    print(f"[1] one ranking: {len(ranking)} genes x {len(sets)} hallmark sets", flush=True)
    ours, t_ours = timed(lambda: gsea(ranking, sets, nperm=nperm, seed=1, small_p=None))
    print(f"    ours (permutation p)         {t_ours:8.2f} s", flush=True)
    ml, t_ml = timed(lambda: gsea(ranking, sets, nperm=nperm, seed=1))
    n_ml = int((ml["pval_method"] != "permutation").sum())
    print(f"    ours (+ multilevel small p)  {t_ml:8.2f} s   ({n_ml} sets below the floor)")
    if not args.skip_gseapy:
        import gseapy

        def run_gseapy():
            return gseapy.prerank(
                rnk=ranking,
                gene_sets=sets,
                permutation_num=nperm,
                min_size=15,
                max_size=500,
                threads=args.threads,
                seed=1,
                outdir=None,
                no_plot=True,
                verbose=False,
            ).res2d

        theirs, t_gp = timed(run_gseapy)
        m = ours.set_index("set").join(theirs.set_index("Term")[["ES"]].astype(float))
        print(f"    gseapy prerank               {t_gp:8.2f} s")
        print(f"    max |ES ours - ES gseapy|    {float((m['es'] - m['ES']).abs().max()):.2e}")
        print(
            f"    RATIO gseapy / ours: {t_gp / t_ours:.1f}x (permutation p), "
            f"{t_gp / t_ml:.1f}x (ours with multilevel)",
            flush=True,
        )
    rankings = patient_rankings(x, n_rankings)
    both = {**sets, **dict(c1.items())}
    print(
        f"[2] {n_rankings} rankings x {rankings.shape[0]} genes x hallmark + c1 "
        f"({len(both)} sets before the size filter)",
        flush=True,
    )
    res, t_many = timed(
        lambda: gsea_many(rankings, both, nperm=nperm, seed=1, small_p=None, progress=True)
    )
    print(
        f"    permutation p: {res['set'].nunique()} sets tested, {t_many:.1f} s total "
        f"({t_many / n_rankings:.2f} s per ranking)"
    )
    if not args.skip_gseapy:
        est = t_gp * n_rankings * res["set"].nunique() / len(ours)
        print(f"    gseapy, extrapolated from [1] by sets x rankings: ~{est / 60:.0f} min")
    floor = int((res["n_more_extreme"] == 0).sum())
    print(
        f"    {floor} ranking x set pairs at the permutation floor; multilevel estimates for "
        "them are not timed here (see [1] for their cost per set; radiogenomic traits skip "
        "them by default)"
    )


if __name__ == "__main__":
    main()
