"""Training speed and memory: K fold networks batched vs a plain per-fold PyTorch loop.

Prints, for the demo-scale network (2,000 genes -> 128/64/32, as configs/demo.toml):
- epochs per second of K folds trained one by one (``torch.nn`` + ``torch.optim``) and
  batched as one stacked model, and their ratio (same numbers: tests/models/test_nn_engine.py);
- the saving from computing a frozen first layer once per fold instead of every epoch;
and, for the paper-scale network (12,042 genes -> 4,000/2,000/1,000, 10 folds batched), the
peak resident memory of one training run in a fresh process (target: under 24 GiB).
Speeds are fold-epochs per second (higher is faster); "ratio" is batched / per-fold loop and
"saving" frozen-every-step time / once-per-fold time (above 1: the batched path is faster).
The data is synthetic (no data needed).

    python benchmarks/bench_training.py                 # full sizes
    python benchmarks/bench_training.py --scale 0.25    # paper-scale network shrunk 4x
    python benchmarks/bench_training.py --skip-memory   # speed only
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import get_args

import numpy as np
import torch

from _cli import HelpFormatter, at_least
from radiogenomics.errors import InputError
from radiogenomics.models.config import NetworkConfig, Optimizer
from radiogenomics.models.engine import FoldData, balanced_weights, train_batched, train_plain
from radiogenomics.models.training import classifier_spec
from radiogenomics.utils.device import check_device, default_device

GIB = 1024**3


def make_folds(n_patients: int, n_genes: int, k: int, seed: int = 0, transfer=()) -> list[FoldData]:
    """K folds of a standardised cohort with a binary trait planted on a few genes."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n_patients, n_genes)).astype(np.float32)
    y = (Z[:, :10].sum(1) + rng.normal(size=n_patients) > 1.0).astype(np.int64)
    idx = rng.permutation(n_patients)
    out = []
    for f in range(k):
        va = np.sort(idx[f::k])
        tr = np.setdiff1d(idx, va)
        out.append(
            FoldData(
                Z_train=Z[tr],
                y_train=y[tr],
                Z_val=Z[va],
                y_val=y[va],
                weights=balanced_weights(y[tr], 2),
                seed=1000 + f,
                transfer=transfer,
            )
        )
    return out


def _time(fn, repeats: int = 1) -> float:
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def speed(args: argparse.Namespace, device: torch.device) -> None:
    n_genes, hidden, k, epochs = args.demo_genes, tuple(args.demo_hidden), args.folds, args.epochs
    print(
        f"\n== demo-scale network: {n_genes} genes -> {'/'.join(map(str, hidden))}, "
        f"{args.demo_patients} patients, {k} folds, batch {args.batch_size}, {epochs} epochs, "
        f"device {device}, {torch.get_num_threads()} threads =="
    )
    for optimizer, dropout in (("adam", 0.0), ("adadelta", 0.4)):
        cfg = NetworkConfig(
            hidden=hidden,
            optimizer=optimizer,
            dropout=dropout,
            batch_size=args.batch_size,
            max_epochs=epochs,
            patience=epochs + 1,  # every epoch runs: timings compare equal work
        )
        spec = classifier_spec(cfg, n_genes, 2)
        folds = make_folds(args.demo_patients, n_genes, k)
        train_batched(spec, folds[:2], device=device)  # warm-up
        t_plain = _time(lambda s=spec, f=folds: [train_plain(s, d, device=device) for d in f])
        t_batch = _time(lambda s=spec, f=folds: train_batched(s, f, device=device), repeats=2)
        eps_plain, eps_batch = k * epochs / t_plain, k * epochs / t_batch
        print(
            f"{optimizer:>8s} dropout {dropout:.1f}: per-fold loop {eps_plain:8.1f} fold-epochs/s | "
            f"batched {eps_batch:8.1f} fold-epochs/s | ratio {eps_batch / eps_plain:5.2f}x"
        )

    # a frozen transferred first layer: once per fold, or in every minibatch of every epoch
    rng = np.random.default_rng(1)
    W = (rng.normal(size=(hidden[0], n_genes)) / np.sqrt(n_genes)).astype(np.float32)
    layer = [(W, np.zeros(hidden[0], np.float32))]
    cfg = NetworkConfig(
        hidden=hidden,
        optimizer="adam",
        batch_size=args.batch_size,
        max_epochs=epochs,
        patience=epochs + 1,
        ae_layers=1,
        frozen=True,
    )
    spec = classifier_spec(cfg, n_genes, 2)
    folds = make_folds(args.demo_patients, n_genes, k, transfer=layer)
    t_every = _time(lambda: train_batched(spec, folds, device=device, precompute_frozen=False), 2)
    t_once = _time(lambda: train_batched(spec, folds, device=device, precompute_frozen=True), 2)
    t_plain = _time(lambda: [train_plain(spec, d, device=device) for d in folds])
    print(
        f"frozen 1st layer, batched: every step {k * epochs / t_every:8.1f} fold-epochs/s | "
        f"once per fold {k * epochs / t_once:8.1f} fold-epochs/s | saving {t_every / t_once:5.2f}x"
    )
    print(
        f"frozen 1st layer: per-fold loop (computed once too) {k * epochs / t_plain:8.1f} "
        f"fold-epochs/s | batched+once vs loop {t_plain / t_once:5.2f}x"
    )


def memory_child(args: argparse.Namespace) -> None:
    """Run in a fresh process: train the paper-scale network once and report peak RSS."""
    hidden = tuple(args.paper_hidden)
    cfg = NetworkConfig(
        hidden=hidden,
        optimizer=args.paper_optimizer,
        batch_size=10,
        max_epochs=args.paper_epochs,
        patience=args.paper_epochs + 1,
    )
    spec = classifier_spec(cfg, args.paper_genes, 2)
    folds = make_folds(args.paper_patients, args.paper_genes, args.folds)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    t = time.perf_counter()
    train_batched(spec, folds, device=torch.device(args.device))
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    cuda_peak = torch.cuda.max_memory_allocated() if torch.cuda.is_available() else 0
    print(json.dumps({"peak": peak, "before": base, "seconds": seconds, "cuda_peak": cuda_peak}))


def parameter_count(n_genes: int, hidden: tuple[int, ...], n_out: int = 1) -> int:
    sizes = [n_genes, *hidden]
    dense = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    return dense + 2 * sum(hidden) + hidden[-1] * n_out + n_out


def memory(args: argparse.Namespace, argv: list[str]) -> None:
    hidden = tuple(args.paper_hidden)
    n_params = parameter_count(args.paper_genes, hidden)
    print(
        f"\n== paper-scale network: {args.paper_genes} genes -> {'/'.join(map(str, hidden))}, "
        f"{args.folds} folds batched, {args.paper_patients} patients, {args.paper_optimizer}, "
        f"{args.paper_epochs} epoch(s) =="
    )
    # parameters, gradients, two optimiser states, best-weights snapshot: 5 copies of float32
    print(
        f"parameters per network {n_params / 1e6:.1f} M; stacked x{args.folds}: "
        f"{n_params * args.folds * 4 / GIB:.2f} GiB per copy, "
        f"~{5 * n_params * args.folds * 4 / GIB:.1f} GiB for 5 copies"
    )
    cmd = [sys.executable, __file__, "--memory-child", *argv]  # the same options
    env = {**os.environ, "OMP_NUM_THREADS": str(torch.get_num_threads())}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        print(f"memory run failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
        return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    verdict = "fits" if r["peak"] < 24 * GIB else "DOES NOT FIT"
    print(
        f"peak resident memory {r['peak'] / GIB:.2f} GiB (process before training "
        f"{r['before'] / GIB:.2f} GiB): {verdict} in 24 GiB; {r['seconds']:.1f} s"
    )
    if r["cuda_peak"]:
        print(f"peak CUDA memory {r['cuda_peak'] / GIB:.2f} GiB")


def scale(text: str) -> float:
    """An argparse type: a number in (0, 1]."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}")
    return value


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--scale", type=scale, default=1.0, help="shrink the paper-scale network")
    p.add_argument("--threads", type=at_least(1), default=2, help="torch threads")
    p.add_argument("--folds", type=at_least(2), default=10, help="K, fold networks")
    p.add_argument("--epochs", type=at_least(1), default=5, help="epochs of the speed runs")
    p.add_argument("--batch-size", type=at_least(1), default=10, help="minibatch size")
    p.add_argument("--demo-genes", type=at_least(10), default=2000, help="demo network inputs")
    p.add_argument(
        "--demo-hidden", type=at_least(1), nargs="+", default=[128, 64, 32], help="demo widths"
    )
    p.add_argument("--demo-patients", type=at_least(20), default=175, help="demo patients")
    p.add_argument("--paper-genes", type=at_least(10), default=12042, help="paper network inputs")
    p.add_argument(
        "--paper-hidden",
        type=at_least(1),
        nargs="+",
        default=[4000, 2000, 1000],
        help="paper widths",
    )
    p.add_argument("--paper-patients", type=at_least(20), default=175, help="paper patients")
    p.add_argument("--paper-epochs", type=at_least(1), default=1, help="epochs of the memory run")
    p.add_argument(
        "--paper-optimizer",
        choices=get_args(Optimizer),
        default="adadelta",
        help="optimiser of the memory run",
    )
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: CUDA if any)")
    p.add_argument("--skip-speed", action="store_true", help="no demo-scale speed section")
    p.add_argument("--skip-memory", action="store_true", help="no paper-scale memory section")
    p.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        check_device(args.device, "--device")
    except InputError as err:
        p.error(str(err))
    if args.scale != 1.0:
        args.paper_genes = max(10, int(args.paper_genes * args.scale))
        args.paper_hidden = [max(2, int(h * args.scale)) for h in args.paper_hidden]
    torch.set_num_threads(args.threads)
    device = default_device(args.device)
    args.device = str(device)
    if args.memory_child:
        memory_child(args)
        return
    if not args.skip_speed:
        speed(args, device)
        if device.type == "cuda":
            print("(CUDA timings: the per-fold loop and the batched model both run on the GPU)")
    if not args.skip_memory:
        memory(args, sys.argv[1:] if argv is None else list(argv))


if __name__ == "__main__":
    main()
