"""Gene saliency: all patients in one batched pass vs a per-patient loop, in one run.

Paper scale (the default): 12,000 genes x 175 patients, a 12000 -> 4000/2000/1000 network.
- batched: ``gene_saliency`` (chunked batches of patients, gradients w.r.t. the input only);
- loop: one forward/backward per patient, gradients w.r.t. the input only (a careful loop);
- loop (naive): the same with ``.backward()``, which also computes every weight's gradient;
- integrated gradients: the package's batched implementation vs Captum's on the same patients.
The loops are timed on a sample of patients and scaled (patients are independent).
Times are seconds (wall and CPU); the ratios are loop / batched and Captum / package (above 1:
the package is faster). The network is untrained and the data synthetic (no data needed).

    python benchmarks/bench_saliency.py
    python benchmarks/bench_saliency.py --genes 3000 --hidden 1000 500 250   # quick look
"""

from __future__ import annotations

import argparse
import resource
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd
import torch

from _cli import HelpFormatter, at_least
from radiogenomics.data import Scaler
from radiogenomics.interpret import gene_saliency
from radiogenomics.models.network import MLP


def clock(fn) -> tuple[float, float, object]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - w0, time.process_time() - c0, out


def loop(net: torch.nn.Module, Z: torch.Tensor, weights_too: bool) -> np.ndarray:
    out = np.empty(tuple(Z.shape), dtype=np.float32)
    for i in range(Z.shape[0]):
        z = Z[i : i + 1].clone().requires_grad_(True)
        logit = net(z)[0, 0]
        if weights_too:
            net.zero_grad(set_to_none=True)
            logit.backward()
            g = z.grad
        else:
            (g,) = torch.autograd.grad(logit, z)
        out[i] = g[0].numpy()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=HelpFormatter,
    )
    ap.add_argument("--genes", type=at_least(1), default=12000, help="input genes")
    ap.add_argument("--patients", type=at_least(2), default=175, help="synthetic patients")
    ap.add_argument(
        "--hidden", type=at_least(1), nargs="+", default=[4000, 2000, 1000], help="hidden widths"
    )
    ap.add_argument(
        "--sample-patients",
        type=at_least(1),
        default=20,
        help="patients the per-patient loops are timed on (scaled to all)",
    )
    ap.add_argument(
        "--ig-patients", type=at_least(1), default=4, help="patients of integrated gradients"
    )
    ap.add_argument("--ig-steps", type=at_least(1), default=50, help="integrated-gradients steps")
    ap.add_argument("--seed", type=int, default=0, help="seed of the data and the network")
    args = ap.parse_args(argv)

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    G, P = args.genes, args.patients
    net = MLP(G, args.hidden, 1, activation="tanh", dropout=0.0).eval()
    X = pd.DataFrame(
        rng.normal(5, 2, (P, G)),
        index=[f"P{i}" for i in range(P)],
        columns=[f"G{i}" for i in range(G)],
    )
    scaler = Scaler.fit(X)
    model = SimpleNamespace(network=net, scaler=scaler, classes=("neg", "pos"))
    Z = torch.as_tensor(scaler.transform(X))
    print(
        f"network {G} -> {'/'.join(map(str, args.hidden))} -> 1, {P} patients, "
        f"torch threads {torch.get_num_threads()}"
    )

    gene_saliency(model, X.iloc[:2], method="signed", scale=None)  # warm-up
    wb, cb, batched = clock(lambda: gene_saliency(model, X, method="signed", scale=None).matrix())
    n = min(args.sample_patients, P)
    wl, cl, looped = clock(lambda: loop(net, Z[:n], weights_too=False))
    wn, cn, _ = clock(lambda: loop(net, Z[:n], weights_too=True))
    err = np.abs(batched.to_numpy()[:, :n] - looped.T).max() / np.abs(looped).max()
    print(f"\nsaliency of {P} patients (signed gradient of the logit)")
    print(f"  batched            wall {wb:7.2f} s   cpu {cb:7.2f} s")
    for label, w, c in (("loop", wl, cl), ("loop (naive)", wn, cn)):
        ws, cs = w * P / n, c * P / n
        print(
            f"  {label:18s} wall {ws:7.2f} s   cpu {cs:7.2f} s   (timed on {n}, scaled)   "
            f"batched is {ws / wb:5.1f}x faster (wall), {cs / cb:5.1f}x (cpu); target >= 20"
        )
    print(f"  max relative difference batched vs loop: {err:.1e}")

    from captum.attr import IntegratedGradients

    k = min(args.ig_patients, P)
    Xk = X.iloc[:k]
    wi, ci, ours = clock(
        lambda: gene_saliency(
            model, Xk, method="integrated_gradients", scale=None, n_steps=args.ig_steps
        ).matrix()
    )
    ig = IntegratedGradients(lambda x: net(x)[:, 0])
    wc, cc, ref = clock(
        lambda: ig.attribute(Z[:k], baselines=0.0, n_steps=args.ig_steps, method="gausslegendre")
    )
    rel = np.abs(ours.to_numpy() - ref.detach().numpy().T).max() / ref.abs().max().item()
    print(f"\nintegrated gradients, {k} patients x {args.ig_steps} steps")
    print(f"  package  wall {wi:7.2f} s   cpu {ci:7.2f} s")
    print(f"  Captum   wall {wc:7.2f} s   cpu {cc:7.2f} s   ratio Captum/package {wc / wi:4.2f}")
    print(f"  max relative difference: {rel:.1e}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"\npeak memory (max RSS): {rss:.2f} GiB (limit 24 GiB)")


if __name__ == "__main__":
    main()
