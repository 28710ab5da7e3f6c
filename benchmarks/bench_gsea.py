"""GSEA speed against R's fgsea (and gseapy), measured in the same run, with agreement figures.

Cases (real TCGA-GBM data, 10,000 permutations, sets of 15..500 genes):

1. one ranking (~18,500 genes: correlation with the Mesenchymal subtype) x 50 hallmark sets,
   permutation p: ours vs ``fgseaSimple``;
2. the same with small p-values: ours with multilevel vs ``fgseaMultilevel`` (eps 1e-50);
3. 40 patient rankings (per-gene z-scores of each patient's expression, the shape of
   patient-level saliency) x hallmark: ours (one call) vs an fgsea loop over the rankings;
4. 175 patient rankings x all the paper's collections (hallmark, c1 positional, c2 canonical
   pathways, GO bp/cc/mf, brain cell types): ours in full; fgsea on a few rankings, extrapolated.

Ours runs on ``--threads`` threads (default 2), fgsea serially (``nproc = 1``), both timed around
the GSEA calls only (data loading excluded; our compilation is done before timing: the kernels
are cached on disk after the first run). When R or fgsea is missing the benchmark says how to
install it and reports gseapy prerank on case 1 instead. ``--quick``: 1,000 permutations,
cases 3-4 reduced. Needs ../shared/data.

Times are wall seconds (CPU seconds beside them); every RATIO is the peer's time / ours, both
measured in this run (above 1: ours is faster).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from _cli import HelpFormatter, at_least
from radiogenomics.data.gene_sets import read_gene_sets
from radiogenomics.enrichment import gsea, gsea_many
from radiogenomics.errors import InputError
from radiogenomics.utils.device import check_device

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
PEER_HINT = (
    "fgsea not found: install R and fgsea with `bash ../shared/peers/install_r_peers.sh` "
    "(root, 3-5 min), then rerun"
)
GENE_SETS = {
    "hallmark": "h.all.v6.2.symbols.gmt",
    "c1 positional": "c1.all.v6.1.symbols.gmt",
    "c2 canonical pathways": "c2.cp.v6.1.symbols.gmt",
    "GO bp": "c5.bp.v6.2.symbols.gmt",
    "GO cc": "c5.cc.v6.2.symbols.gmt",
    "GO mf": "c5.mf.v6.2.symbols.gmt",
    "cell types (BRETIGEA)": "bretigea_human_brain_cell_markers.csv",
    "cell types (Puchalski 2018)": "puchalski2018_table_S15_celltypes.csv",
}

R_SCRIPT = r"""
suppressMessages({library(fgsea); library(data.table); library(BiocParallel)})
args <- commandArgs(trailingOnly = TRUE)
stats_tsv <- args[1]; gmt <- args[2]; nperm <- as.integer(args[3]); mode <- args[4]
out <- args[5]; seed <- as.integer(args[6])
pathways <- gmtPathways(gmt)
tab <- fread(stats_tsv, sep = "\t")
genes <- tab[[1]]
res <- list(); secs <- 0; cpu <- 0
for (j in 2:ncol(tab)) {
  stats <- setNames(tab[[j]], genes)
  set.seed(seed)
  t0 <- proc.time()
  if (mode == "simple") {
    r <- fgseaSimple(pathways, stats, nperm = nperm, minSize = 15, maxSize = 500,
                     BPPARAM = SerialParam())
    r$log2err <- NA_real_
  } else {
    r <- fgseaMultilevel(pathways, stats, minSize = 15, maxSize = 500, eps = 1e-50,
                         nPermSimple = nperm, BPPARAM = SerialParam())
  }
  dt <- proc.time() - t0
  secs <- secs + dt[["elapsed"]]; cpu <- cpu + dt[["user.self"]] + dt[["sys.self"]]
  res[[j - 1]] <- data.table(ranking = names(tab)[j], set = r$pathway, es = r$ES, nes = r$NES,
                             pval = r$pval, log2err = r$log2err)
}
fwrite(rbindlist(res), out, sep = "\t")
cat(sprintf("SECONDS %.4f %.4f\n", secs, cpu))
"""


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


CPU: dict[str, float] = {}  # CPU seconds of the last timed call of each tool


def timed(fn, tool: str = "ours"):
    """Wall seconds of ``fn()``; its CPU seconds (all threads) go to ``CPU[tool]``."""
    c, t = time.process_time(), time.perf_counter()
    out = fn()
    CPU[tool] = time.process_time() - c
    return out, time.perf_counter() - t


def cpu_note(wall_ours: float, wall_fgsea: float | None = None) -> str:
    """CPU seconds beside wall seconds: the share of the cores each tool got (other work)."""
    note = f"CPU s: ours {CPU['ours']:.2f} ({CPU['ours'] / wall_ours:.2f} cores)"
    if wall_fgsea is not None:
        note += f", fgsea {CPU['fgsea']:.2f} ({CPU['fgsea'] / wall_fgsea:.2f} cores)"
    return note


def have_fgsea() -> bool:
    if shutil.which("Rscript") is None:
        return False
    probe = subprocess.run(
        ["Rscript", "-e", "suppressMessages(library(fgsea))"], capture_output=True, check=False
    )
    return probe.returncode == 0


def run_fgsea(
    rankings: pd.DataFrame, sets: dict, nperm: int, mode: str, tmp: Path
) -> tuple[pd.DataFrame, float]:
    """fgsea on every column of ``rankings``; returns its long table and its own timing."""
    stats = tmp / "stats.tsv"
    rankings.rename_axis("gene").reset_index().to_csv(stats, sep="\t", index=False)
    gmt = tmp / "sets.gmt"
    with gmt.open("w") as fh:
        for name, genes in sets.items():
            fh.write("\t".join([name, "na", *genes]) + "\n")
    script = tmp / "run_fgsea.R"
    script.write_text(R_SCRIPT)
    out = tmp / "fgsea_out.tsv"
    proc = subprocess.run(
        ["Rscript", str(script), str(stats), str(gmt), str(nperm), mode, str(out), "1"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"fgsea failed:\n{proc.stderr[-2000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("SECONDS"))
    secs, CPU["fgsea"] = (float(v) for v in line.split()[1:3])
    return pd.read_csv(out, sep="\t"), secs


def agreement(ours: pd.DataFrame, theirs: pd.DataFrame, keys: list[str]) -> dict[str, float]:
    """ES, NES and -log10 p agreement on the common rows."""
    m = ours.merge(theirs, on=keys, suffixes=("", "_f"))
    m = m[np.isfinite(m["pval_f"]) & np.isfinite(m["nes_f"])]  # fgsea: NA where a side is empty
    lp, lpf = -np.log10(m["pval"]), -np.log10(m["pval_f"])
    return {
        "rows": len(m),
        "es_max_abs": float((m["es"] - m["es_f"]).abs().max()),
        "nes_max_abs": float((m["nes"] - m["nes_f"]).abs().max()),
        "nes_median_abs": float((m["nes"] - m["nes_f"]).abs().median()),
        "log10p_corr": float(np.corrcoef(lp, lpf)[0, 1]),
        "log10p_median_abs": float((lp - lpf).abs().median()),
    }


def print_agreement(a: dict[str, float]) -> None:
    print(
        f"    agreement ({a['rows']} rows): max |dES| {a['es_max_abs']:.1e}, |dNES| max "
        f"{a['nes_max_abs']:.3f} median {a['nes_median_abs']:.4f}, -log10 p correlation "
        f"{a['log10p_corr']:.4f}, median |d log10 p| {a['log10p_median_abs']:.3f}",
        flush=True,
    )


def multilevel_agreement(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Sets below the permutation floor: our multilevel p against fgsea's, in its log2err."""
    m = ours.merge(theirs, on="set", suffixes=("", "_f"))
    m = m[m["pval_method"].str.startswith("multilevel")]
    if m.empty:
        return
    d = np.abs(np.log2(m["pval"]) - np.log2(m["pval_f"]))
    both = np.sqrt(m["log2err"] ** 2 + m["log2err_f"] ** 2)
    print(
        f"    multilevel sets ({len(m)}): median |d log10 p| {np.median(d) * np.log10(2):.3f}, "
        f"median |d log2 p| / fgsea log2err {np.nanmedian(d / m['log2err_f']):.2f}, "
        f"within 2 combined log2err: {(d <= 2 * both).mean():.0%}",
        flush=True,
    )


def run_gseapy(ranking: pd.Series, sets: dict, nperm: int, threads: int) -> tuple:
    import gseapy

    res, secs = timed(
        lambda: (
            gseapy.prerank(
                rnk=ranking,
                gene_sets=sets,
                permutation_num=nperm,
                min_size=15,
                max_size=500,
                threads=threads,
                seed=1,
                outdir=None,
                no_plot=True,
                verbose=False,
            ).res2d
        ),
        tool="gseapy",
    )
    return res, secs


def cases(text: str) -> str:
    """An argparse type: digits among 1-4 (a typo ran no case and exited 0)."""
    if not text or set(text) - set("1234"):
        raise argparse.ArgumentTypeError(f"expected digits among 1234 (e.g. 13), got {text!r}")
    return text


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1,000 permutations, fewer rankings")
    ap.add_argument(
        "--nperm", type=at_least(1), default=None, help="permutations (10,000; --quick 1,000)"
    )
    ap.add_argument(
        "--threads", type=at_least(1), default=2, help="our threads (fgsea runs serially)"
    )
    ap.add_argument(
        "--rankings", type=at_least(1), default=None, help="rankings of case 4 (175; --quick 20)"
    )
    ap.add_argument("--fgsea-subset", type=at_least(1), default=3, help="fgsea rankings of case 4")
    ap.add_argument("--cases", type=cases, default="1234", help="which cases to run, e.g. 13")
    ap.add_argument("--gseapy", action="store_true", help="also run gseapy on case 1")
    ap.add_argument(
        "--device",
        default="cpu",
        help="our device: cpu (compiled kernels) or cuda (the torch engine; multilevel on the CPU)",
    )
    args = ap.parse_args(argv)
    try:
        check_device(args.device, "--device")
    except InputError as err:
        ap.error(str(err))
    nperm = args.nperm or (1000 if args.quick else 10000)
    n_many = 10 if args.quick else 40
    n_paper = args.rankings or (20 if args.quick else 175)
    warnings.simplefilter("ignore")
    if not (DATA / "tcga_gbm").is_dir():
        raise SystemExit(f"bench_gsea: real data not found at {DATA}")
    peer = have_fgsea()
    x = load_expression()
    ranking = subtype_ranking(x)
    hallmark = dict(read_gene_sets(DATA / "gene_sets" / GENE_SETS["hallmark"]).items())
    everything: dict = {}
    for file in GENE_SETS.values():
        everything.update(read_gene_sets(DATA / "gene_sets" / file).items())
    threads = args.threads
    device = args.device
    engine = f"compiled CPU kernels, {threads} threads" if device == "cpu" else device
    print(
        f"permutations {nperm}; ours: {engine}; fgsea {'serial (nproc = 1)' if peer else 'absent'}",
        flush=True,
    )
    if not peer:
        print(f"    {PEER_HINT}", flush=True)
    # compile (or load the cached kernels) before any timing
    gsea(ranking, hallmark, nperm=PERM_WARMUP, seed=0, threads=threads, device=device)
    gsea_many(patient_rankings(x, 3), hallmark, nperm=PERM_WARMUP, threads=threads, device=device)
    ratios = {}
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        frame = ranking.to_frame("ranking")
        if "1" in args.cases:
            print(f"[1] one ranking: {len(ranking)} genes x {len(hallmark)} hallmark sets")
            ours, t = timed(
                lambda: (
                    gsea(
                        ranking,
                        hallmark,
                        nperm=nperm,
                        seed=1,
                        small_p=None,
                        threads=threads,
                        device=device,
                    ).table
                )
            )
            print(f"    ours (permutation p)        {t:8.2f} s", flush=True)
            if peer:
                theirs, tf = run_fgsea(frame, hallmark, nperm, "simple", tmp)
                ratios["one ranking, permutation p"] = tf / t
                print(
                    f"    fgseaSimple                 {tf:8.2f} s   RATIO fgsea / ours {tf / t:.1f}x"
                )
                print(f"    {cpu_note(t, tf)}")
                print_agreement(agreement(ours, theirs.drop(columns="ranking"), ["set"]))
            if args.gseapy or not peer:
                gnp = min(nperm, 1000)
                theirs, tg = run_gseapy(ranking, hallmark, gnp, threads)
                scale = nperm / gnp
                m = ours.set_index("set").join(theirs.set_index("Term")[["ES"]].astype(float))
                print(
                    f"    gseapy prerank ({gnp} permutations) {tg:8.2f} s, x{scale:.0f} for "
                    f"{nperm}: RATIO gseapy / ours ~{tg * scale / t:.0f}x; max |dES| "
                    f"{float((m['es'] - m['ES']).abs().max()):.1e}",
                    flush=True,
                )
        if "2" in args.cases:
            print("[2] one ranking with small p-values (multilevel, eps 1e-50)")
            ml, t = timed(
                lambda: (
                    gsea(
                        ranking, hallmark, nperm=nperm, seed=1, threads=threads, device=device
                    ).table
                )
            )
            n_ml = int((ml["pval_method"] != "permutation").sum())
            print(f"    ours (+ multilevel)         {t:8.2f} s   ({n_ml} sets below the floor)")
            if peer:
                theirs, tf = run_fgsea(frame, hallmark, nperm, "multilevel", tmp)
                ratios["one ranking, multilevel"] = tf / t
                print(
                    f"    fgseaMultilevel             {tf:8.2f} s   RATIO fgsea / ours {tf / t:.1f}x"
                )
                print(f"    {cpu_note(t, tf)}")
                print_agreement(agreement(ml, theirs.drop(columns="ranking"), ["set"]))
                multilevel_agreement(ml, theirs.drop(columns="ranking"))
        if "3" in args.cases:
            rankings = patient_rankings(x, n_many)
            print(f"[3] {n_many} patient rankings x {len(hallmark)} hallmark sets")
            res, t = timed(
                lambda: (
                    gsea_many(
                        rankings, hallmark, nperm=nperm, seed=1, threads=threads, device=device
                    ).table
                )
            )
            print(f"    ours (one call)             {t:8.2f} s", flush=True)
            if peer:
                theirs, tf = run_fgsea(rankings, hallmark, nperm, "simple", tmp)
                ratios[f"{n_many} rankings x hallmark"] = tf / t
                print(
                    f"    fgsea loop (fgseaSimple)    {tf:8.2f} s   RATIO fgsea / ours {tf / t:.1f}x"
                )
                print(f"    {cpu_note(t, tf)}")
                print_agreement(agreement(res, theirs, ["ranking", "set"]))
        if "4" in args.cases:
            rankings = patient_rankings(x, n_paper)
            print(
                f"[4] {n_paper} patient rankings x all the paper's collections "
                f"({len(everything)} sets before the 15..500 size filter)",
                flush=True,
            )
            res, t = timed(
                lambda: (
                    gsea_many(
                        rankings, everything, nperm=nperm, seed=1, threads=threads, device=device
                    ).table
                )
            )
            n_sets = res["set"].nunique()
            print(
                f"    ours: {n_sets} sets tested, {t:.1f} s ({t / 60:.1f} min; "
                f"{t / n_paper:.2f} s per ranking); {cpu_note(t)}",
                flush=True,
            )
            if peer:
                m = min(args.fgsea_subset, n_paper)
                theirs, tf = run_fgsea(rankings.iloc[:, :m], everything, nperm, "simple", tmp)
                est = tf / m * n_paper
                ratios[f"{n_paper} rankings x all collections (fgsea extrapolated)"] = est / t
                print(
                    f"    fgsea loop on {m} rankings   {tf:8.1f} s -> {n_paper} rankings "
                    f"~{est / 60:.0f} min ({est / 3600:.1f} h)   RATIO fgsea / ours {est / t:.1f}x"
                )
                print(f"    {cpu_note(t, tf)}")
                print_agreement(agreement(res, theirs, ["ranking", "set"]))
    if ratios:
        print("RATIOS (fgsea serial / ours, wall time; above 1: ours is faster):")
        for name, r in ratios.items():
            print(f"    {name:58s} {r:6.1f}x")
    elif not peer:  # the end of the output said nothing of the missing peer
        print(f"RATIOS: none against fgsea. {PEER_HINT}")


PERM_WARMUP = 200

if __name__ == "__main__":
    main()
