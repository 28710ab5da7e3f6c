"""Gene masking: closed-form fast path vs dense masking and vs the floor, in one run.

Paper scale (the default): 12,000 genes x 175 patients, a 12000 -> 4000/2000/1000 network.
- fast: ``single_gene_logits`` / ``gene_set_logits`` (first layer in closed form, batched rest);
- naive: dense masked inputs built in batches and run through the whole network;
- floor: the layers after the first alone (``forward_from_first``) on the same number of rows,
  the cost no exact masking method can avoid; fast/floor says how close the fast path is to it.
- interpolated (below the floor): single genes by Chebyshev interpolation with exact near-ties
  (``gene_masking``'s default), against today's closed form; AUC/AP compared on the sample.
The naive side (and, unless --full, the fast side) is timed on a random sample of genes / sets
and scaled to the whole; rows are independent, so the scaling is linear.
Times are seconds, wall and CPU; "fast vs naive" is naive / fast (above 1: the fast path is
faster), "fast/floor" is fast / floor (1: no overhead over the floor). The data is synthetic;
the GO BP collection of ../shared/data (``--gmt``) gives the genes and the gene sets.
By default the network is first trained for a few full-batch Adam steps on random labels
(``--train-steps``): trained weights make each gene's masked output more curved than the
nearly linear response of a freshly initialised network, so the interpolation is not flattered.

    python benchmarks/bench_masking.py                 # paper scale, sampled
    python benchmarks/bench_masking.py --full          # + the whole single-gene and GO BP run
    python benchmarks/bench_masking.py --genes 3000 --hidden 1000 500 250   # quick look
    python benchmarks/bench_masking.py --only interpolated   # just the section below the floor
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from _cli import HelpFormatter, at_least, positive
from radiogenomics.data import Scaler, read_gene_sets
from radiogenomics.interpret import gene_masking
from radiogenomics.interpret._engine import (
    MaskingEngine,
    eval_mode,
    naive_masking_logits,
    rows_per_chunk,
    single_gene_logits,
    unique_pairs,
)
from radiogenomics.interpret._interpolated import interpolated_single_gene_logits
from radiogenomics.interpret.metrics import auc_ap_columns
from radiogenomics.models.network import MLP

GO_BP = Path(__file__).resolve().parents[1].parent / "shared/data/gene_sets/c5.bp.v6.2.symbols.gmt"


def interleaved(fns: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """Best wall and CPU seconds of each function, the functions taking turns round by round.

    On a shared machine other processes slow whole stretches of time; taking turns and keeping
    each one's best round compares them under the same conditions. CPU time (all threads of
    this process) is printed too: it is less sensitive to other processes than wall time.
    """
    best = {k: (float("inf"), float("inf")) for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            w0, c0 = time.perf_counter(), time.process_time()
            fn()
            w, c = time.perf_counter() - w0, time.process_time() - c0
            best[k] = (min(best[k][0], w), min(best[k][1], c))
    return best


def report(title: str, t: dict[str, tuple[float, float]], n: int, total: int, unit: str) -> None:
    print(title)
    for i, label in enumerate(("wall", "cpu")):
        f, v, fl = t["fast"][i], t["naive"][i], t["floor"][i]
        print(
            f"  {label:4s}: fast {f:7.2f} s  naive {v:7.2f} s  floor {fl:7.2f} s   "
            f"fast vs naive {v / f:5.2f}x (target >= 5)   fast/floor {f / fl:4.2f} (target <= 1.3)"
        )
    print(
        f"  fast / the engine's own layers after the first: {t['fast'][1] / t['tail'][1]:4.2f} "
        "(cpu; the closed-form first layer's share)"
    )
    f, v = t["fast"][0], t["naive"][0]
    print(
        f"  scaled to all {total} {unit}: fast {f * total / n / 60:.1f} min, "
        f"naive {v * total / n / 60:.1f} min (wall)"
    )


def floor(net: torch.nn.Module, n_rows: int, budget: float) -> None:
    """The layers after the first on ``n_rows`` rows, in the fast path's chunk sizes."""
    chunk = rows_per_chunk(net, budget)
    width = net.first_linear.out_features
    h = torch.randn(min(chunk, n_rows), width)
    with torch.inference_mode(), eval_mode(net):
        for start in range(0, n_rows, chunk):
            net.forward_from_first(h[: min(chunk, n_rows - start)])


def tail_only(engine: MaskingEngine, n_rows: int) -> None:
    """The engine's own (BatchNorm-folded) layers after the first on ``n_rows`` rows."""
    per_chunk = engine.rows
    with torch.inference_mode():
        engine.first_buffer(min(per_chunk, n_rows)).normal_()  # once: the values stay bounded
        for start in range(0, n_rows, per_chunk):
            engine.tail(engine.first_buffer(min(per_chunk, n_rows - start)))


def set_floor(net: torch.nn.Module, n_sets: int, n_pat: int, budget: float) -> None:
    per_chunk = max(1, rows_per_chunk(net, budget) // n_pat)
    width = net.first_linear.out_features
    h = torch.randn(min(per_chunk, n_sets) * n_pat, width)
    with torch.inference_mode(), eval_mode(net):
        for start in range(0, n_sets, per_chunk):
            net.forward_from_first(h[: min(per_chunk, n_sets - start) * n_pat])


def closed_form_before(engine: MaskingEngine, Z: torch.Tensor, genes: np.ndarray) -> np.ndarray:
    """Single-gene masking as the closed form computed it before interpolation (the peer).

    Distinct (gene, value) pairs in the engine's full-size chunks, consecutively. The exact path
    (``single_gene_method="exact"``) now lays the same rows out by slot in fixed-height chunks
    (same arithmetic; the padding of its last chunk is noticeable only on a small sample).
    """
    Zg = Z[:, torch.as_tensor(genes)].numpy()
    pair_col, pair_val, row_of = unique_pairs(Zg)
    cols = torch.as_tensor(genes[pair_col])
    vals = torch.as_tensor(pair_val, dtype=engine.WT.dtype)
    out = np.empty((len(cols), engine.layers[-1][0].shape[1]), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(cols), engine.rows):
            stop = min(start + engine.rows, len(cols))
            h = engine.first_buffer(stop - start)
            torch.index_select(engine.WT, 0, cols[start:stop], out=h)
            h.mul_(vals[start:stop, None]).add_(engine.b0)
            out[start:stop] = engine.tail(h).numpy()
    return np.ascontiguousarray(out[row_of].transpose(1, 0, 2))


def train_briefly(net: torch.nn.Module, X: np.ndarray, steps: int, seed: int) -> None:
    """A few full-batch Adam steps on random labels: weights (and BatchNorm) leave their init."""
    if steps <= 0:
        return
    gen = torch.Generator().manual_seed(seed)
    x = torch.as_tensor(X)
    y = (torch.rand(len(x), 1, generator=gen) < 0.4).float()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy_with_logits(net(x), y).backward()
        opt.step()
    net.eval()


def interpolated_section(
    engine: MaskingEngine, Z: torch.Tensor, rng: np.random.Generator, args
) -> None:
    """Single genes below the floor: interpolation vs today's closed form, one run."""
    P, G = Z.shape
    n_interp = min(args.sample_interp, G)
    n_exact = min(args.sample_genes, n_interp)  # the exact genes are drawn from these
    interp_genes = np.sort(rng.choice(G, size=n_interp, replace=False))
    exact_genes = interp_genes[np.sort(rng.choice(n_interp, size=n_exact, replace=False))]
    stats = {}

    def interp():
        stats["out"] = interpolated_single_gene_logits(engine, Z, interp_genes, binary=True)

    t = interleaved(
        {
            "interpolated": interp,
            "closed form (before)": lambda: closed_form_before(engine, Z, exact_genes),
        },
        args.repeat,
    )
    approx, st = stats["out"]
    per = {
        "interpolated": (t["interpolated"][0] / n_interp, t["interpolated"][1] / n_interp),
        **{k: (v[0] / n_exact, v[1] / n_exact) for k, v in t.items() if k != "interpolated"},
    }
    print(
        f"\nsingle genes below the floor: interpolation ({n_interp} sampled genes) vs the closed "
        f"form ({n_exact} of them), {P} patients"
    )
    print(f"  {st.note()}")
    base = per["closed form (before)"]
    for k, (w, c) in per.items():
        print(
            f"  {k:26s} per gene: wall {w * 1e3:7.1f} ms  cpu {c * 1e3:7.1f} ms   "
            f"all {G} genes: wall {w * G / 60:5.1f} min  cpu {c * G / 60:5.1f} min   "
            f"speed-up vs before: wall {base[0] / w:5.2f}x  cpu {base[1] / c:5.2f}x"
        )
    exact = closed_form_before(engine, Z, exact_genes)
    mine = approx[np.searchsorted(interp_genes, exact_genes)]
    labels = rng.random(P) < 0.4
    e_auc, e_ap = auc_ap_columns(exact[:, :, 0].T.astype(np.float64), labels)
    i_auc, i_ap = auc_ap_columns(mine[:, :, 0].T.astype(np.float64), labels)
    print(
        f"  agreement on the {n_exact} genes (random labels): max |AUC diff| "
        f"{np.abs(e_auc - i_auc).max():.1e}, max |AP diff| {np.abs(e_ap - i_ap).max():.1e}, "
        f"max |logit diff| {np.abs(mine - exact).max():.1e} (bound {st.max_bound:.1e})"
    )


def whole_single_genes(model, X: pd.DataFrame, y: pd.Series, budget: float) -> None:
    """Every gene masked alone, exactly and interpolated, through gene_masking: time and tables."""
    whole = {}
    for method in ("exact", "auto"):
        t0, c0 = time.perf_counter(), time.process_time()
        whole[method] = gene_masking(
            model,
            X,
            y,
            single_genes=True,
            memory_budget_mb=budget,
            single_gene_method=method,
            quiet=True,
        )
        t_all, c_all = time.perf_counter() - t0, time.process_time() - c0
        print(
            f"\nwhole single-gene masking, {method} (gene_masking, "
            f"{len(whole[method].table)} genes, AUC/AP included): "
            f"wall {t_all / 60:.2f} min, cpu {c_all / 60:.2f} min"
        )
    diff = (whole["auto"].table[["auc", "ap"]] - whole["exact"].table[["auc", "ap"]]).abs()
    print(
        f"  auto vs exact over all genes: max |AUC diff| {diff['auc'].max():.1e}, "
        f"max |AP diff| {diff['ap'].max():.1e}; "
        + "; ".join(n for n in whole["auto"].notes if n.startswith("single genes"))
    )


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    ap.add_argument("--genes", type=at_least(1), default=12000, help="input genes")
    ap.add_argument("--patients", type=at_least(2), default=175, help="synthetic patients")
    ap.add_argument(
        "--hidden", type=at_least(1), nargs="+", default=[4000, 2000, 1000], help="hidden widths"
    )
    ap.add_argument(
        "--sample-genes", type=at_least(1), default=120, help="single genes timed (scaled to all)"
    )
    ap.add_argument(
        "--sample-sets", type=at_least(1), default=60, help="gene sets timed (scaled to all)"
    )
    ap.add_argument("--budget-mb", type=positive, default=1024, help="memory budget of a chunk")
    ap.add_argument(
        "--repeat", type=at_least(1), default=3, help="rounds per timing (the best is kept)"
    )
    ap.add_argument("--full", action="store_true", help="also run every gene and every set")
    ap.add_argument(
        "--gmt",
        type=Path,
        default=None,
        help=f"gene sets of the gene-set section and the model's genes (default: {GO_BP})",
    )
    ap.add_argument("--seed", type=int, default=0, help="seed of the data and the network")
    ap.add_argument("--sample-interp", type=at_least(1), default=2000, help="genes interpolated")
    ap.add_argument("--train-steps", type=at_least(0), default=20, help="Adam steps before timing")
    ap.add_argument(
        "--only", choices=["all", "interpolated"], default="all", help="sections to run"
    )
    args = ap.parse_args(argv)
    if args.gmt is not None and not args.gmt.is_file():
        ap.error(f"argument --gmt: no such file {args.gmt} (expected a .gmt gene-set file)")
    if args.gmt is None:
        args.gmt = GO_BP
        if not GO_BP.is_file():  # the shared data is absent: synthetic genes, no gene sets
            print(f"note: {GO_BP} not found: genes G0.., the gene-set section is skipped")

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    G, P, budget = args.genes, args.patients, args.budget_mb
    bp = read_gene_sets(args.gmt) if args.gmt.exists() else None
    if bp is not None:  # model genes drawn from the collection's genes: realistic coverage
        pool = sorted(bp.genes)
        genes = list(rng.choice(pool, size=min(G, len(pool)), replace=False))
        genes += [f"EXTRA{i}" for i in range(G - len(genes))]
    else:
        genes = [f"G{i}" for i in range(G)]
    net = MLP(G, args.hidden, 1, activation="tanh", dropout=0.0).eval()
    X = pd.DataFrame(
        rng.normal(5, 2, (P, G)), index=[f"P{i}" for i in range(P)], columns=genes
    ).astype(np.float32)
    scaler = Scaler.fit(X)
    Z = torch.as_tensor(scaler.transform(X))
    t0 = time.perf_counter()
    train_briefly(net, Z.numpy(), args.train_steps, args.seed)
    print(
        f"network {G} -> {'/'.join(map(str, args.hidden))} -> 1, {P} patients, "
        f"torch threads {torch.get_num_threads()}, budget {budget:.0f} MB, "
        f"{args.train_steps} training steps ({time.perf_counter() - t0:.0f} s)"
    )
    model = type("Model", (), {})()
    model.network, model.scaler, model.classes = net, scaler, ("neg", "pos")
    y = pd.Series(rng.choice(["neg", "pos"], P), index=X.index)
    if args.only == "interpolated":
        interpolated_section(MaskingEngine(net, budget), Z, rng, args)
        if args.full:
            whole_single_genes(model, X, y, budget)
        print(f"\npeak memory (max RSS): {peak_rss_gib():.2f} GiB (limit 24 GiB)")
        return

    # ---- single genes -------------------------------------------------------------------
    n = min(args.sample_genes, G)
    sample = np.sort(rng.choice(G, size=n, replace=False))
    singles = [np.array([g]) for g in sample]
    w0, c0 = time.perf_counter(), time.process_time()
    engine = MaskingEngine(net, budget)  # prepared once per model, reused by every call
    setup = (time.perf_counter() - w0, time.process_time() - c0)
    print(f"engine setup (once per model): wall {setup[0]:.2f} s, cpu {setup[1]:.2f} s")
    t = interleaved(
        {
            "fast": lambda: engine.single_gene_logits(Z, sample, dedupe=False),
            "floor": lambda: floor(net, n * P, budget),
            "tail": lambda: tail_only(engine, n * P),
            "naive": lambda: naive_masking_logits(net, Z, singles, budget),
        },
        args.repeat,
    )
    fast = torch.sigmoid(torch.from_numpy(single_gene_logits(net, Z, sample[:5], budget)))
    naive = torch.sigmoid(torch.from_numpy(naive_masking_logits(net, Z, singles[:5], budget)))
    report(
        f"\nsingle-gene masking, {n} sampled genes x {P} patients ({n * P} rows)",
        t,
        n,
        G,
        "genes",
    )
    print(f"  max |p_fast - p_naive| = {float((fast - naive).abs().max()):.2e}")
    interpolated_section(engine, Z, rng, args)

    # ---- gene sets ----------------------------------------------------------------------
    if bp is not None:
        index = {g: i for i, g in enumerate(genes)}
        sets = [np.array([index[g] for g in v if g in index]) for v in bp.values()]
        sets = [s for s in sets if len(s)]
        pick = rng.choice(len(sets), size=min(args.sample_sets, len(sets)), replace=False)
        chosen = [sets[i] for i in np.sort(pick)]
        rows = len(chosen) * P
        mean_size = np.mean([len(s) for s in chosen])
        t = interleaved(
            {
                "fast": lambda: engine.gene_set_logits(Z, chosen),
                "floor": lambda: set_floor(net, len(chosen), P, budget),
                "tail": lambda: tail_only(engine, len(chosen) * P),
                "naive": lambda: naive_masking_logits(net, Z, chosen, budget),
            },
            args.repeat,
        )
        report(
            f"\ngene-set masking, {len(chosen)} sampled GO BP sets of {len(sets)} "
            f"(mean size {mean_size:.0f} genes in the model) x {P} patients ({rows} rows)",
            t,
            len(chosen),
            len(sets),
            "sets",
        )

    # ---- the whole runs -----------------------------------------------------------------
    if args.full:
        whole_single_genes(model, X, y, budget)
        if bp is not None:
            t0, c0 = time.perf_counter(), time.process_time()
            res = gene_masking(
                model, X, y, gene_sets=bp, single_genes=False, memory_budget_mb=budget
            )
            print(
                f"whole GO BP gene-set masking ({len(res.table)} sets): "
                f"wall {(time.perf_counter() - t0) / 60:.1f} min, "
                f"cpu {(time.process_time() - c0) / 60:.1f} min"
            )
    print(f"\npeak memory (max RSS): {peak_rss_gib():.2f} GiB (limit 24 GiB)")


if __name__ == "__main__":
    main()
