"""Driver recovery on real expression: does each read-out rank the planted programme first?

Traits planted in the real TCGA-GBM RNA-seq (../shared/data) go through repeated 5-fold CV of a
small tanh network; every read-out ranks the sets of the planted programme's collection. The
table gives, per read-out, the top-1 rate, the mean rank of the planted set and the share of
false discoveries among the sets it calls significant, over all traits and over the traits
the network learns (mean CV AUC >= 0.75). Per-trait rows are written as they finish. The
default read-out is also scored with its programme network trained from two other seeds
(``consensus_seed2``, ``consensus_seed3``; ``consensus_all_seeds`` pools the three): how much
of its figure the seed decides. The calls ``driver_ranking`` makes are the
``consensus_gated_top`` row (the separation gate's first call; ``family_calls`` counts the
inseparable families answered instead); ``consensus_called`` is the competitive test without
the gate, kept for comparison. Each row records ``drive_rank``: the planted set's rank among
the sets by how closely their programme scores match its noise-free drive (1 unless another
set's score is closer; ``recovery_traits.drive_match``); the summary splits the learnt traits
by their number of programmes and keeps those whose planted set best matches its drive;
``programme_cv_auc`` is the programme network's mean CV AUC beside the gene network's
``cv_auc``.

    python benchmarks/bench_recovery.py            # 24 traits (~6 min on 2 idle cores)
    python benchmarks/bench_recovery.py --quick    # 2 traits, small settings (smoke test)
    python benchmarks/bench_recovery.py --traits holdout   # the 14 held-out traits
    python benchmarks/bench_recovery.py --traits holdout2  # the third list (9 traits)
    python benchmarks/bench_recovery.py --traits holdout3  # the fourth list (13 traits)
    python benchmarks/bench_recovery.py --traits holdout4  # the fifth list (12 traits)
    python benchmarks/bench_recovery.py --traits holdout5  # the sixth list (14 traits)
    python benchmarks/bench_recovery.py --traits holdout6  # the seventh list (14 traits)
    python benchmarks/bench_recovery.py --traits holdout7  # the eighth list (14 KEGG traits)
    python benchmarks/bench_recovery.py --traits holdout8  # the ninth (14 hallmark, re-planted)
    python benchmarks/bench_recovery.py --traits holdout9  # the tenth (14 hallmark and KEGG)
    python benchmarks/bench_recovery.py --traits holdout10  # the eleventh (14, all three)
    python benchmarks/bench_recovery.py --traits holdout11  # the twelfth (14, all three)
    python benchmarks/bench_recovery.py --traits holdout12  # the thirteenth (14, all three)
    python benchmarks/bench_recovery.py --traits holdout13  # the fourteenth (14, all three)
    python benchmarks/bench_recovery.py --traits holdout14  # the fifteenth (14, all three)
    python benchmarks/bench_recovery.py --traits holdout15  # the sixteenth (14; drive: PC1)
    python benchmarks/bench_recovery.py --traits holdout16  # the seventeenth (14; drive: core)
    python benchmarks/bench_recovery.py --traits holdout17  # the eighteenth (14; core and PC1)
    python benchmarks/bench_recovery.py --traits holdout18  # the nineteenth (14; all three drives)
    python benchmarks/bench_recovery.py --traits holdout19  # the twentieth (14; all three drives)
    python benchmarks/bench_recovery.py --traits holdout16 --drive mean  # its traits, planted
                                                     # through the programme score instead
    python benchmarks/bench_recovery.py --cache DIR  # keep models and masked probabilities, for
                                                     # recovery_readouts.rescore_trait
    python benchmarks/bench_recovery.py --programme-repeats 9  # the programme network on 9 fold
                                                     # splits instead of the gene network's 3
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

from radiogenomics.validation import load_real_data
from radiogenomics.validation.recovery import full_settings, quick_settings, run_trait, summarise
from radiogenomics.validation.recovery_traits import (
    DRIVES,
    TRAIT_LISTS,
    benchmark_traits,
    load_collections,
)

ROOT = Path(__file__).resolve().parents[1]
#: Printed under the table: which rows are the default's calls.
CALLS_NOTE = (
    "calls of driver_ranking (the default): consensus_gated_top; consensus_called is the "
    "competitive test without the separation gate"
)
DATA = ROOT.parent / "shared" / "data"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="2 traits, small settings")
    ap.add_argument(
        "--data", type=Path, default=DATA, help=f"the shared data folder (default {DATA})"
    )
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for recovery_rows.csv, recovery_sets.csv (per trait, as they finish), "
        "recovery_summary.csv and recovery_settings.json; created if needed, files replaced",
    )
    ap.add_argument("--only", nargs="+", default=None, help="trait names to run (of the list)")
    ap.add_argument(
        "--traits",
        choices=list(TRAIT_LISTS),
        default="benchmark",
        help="the list of traits (default benchmark; --quick: its first 2)",
    )
    ap.add_argument(
        "--drive",
        choices=DRIVES,
        default=None,
        help="plant every trait of the list through this drive instead of its own (mean: the "
        "programme score; core: a random quarter of its genes; pc1: its genes' first "
        "principal component)",
    )
    ap.add_argument(
        "--cache", type=Path, default=None, help="folder for per-trait intermediate results"
    )
    ap.add_argument(
        "--programme-repeats",
        type=int,
        default=None,
        metavar="N",
        help="CV runs of the programme network, each on a new fold split (default: as many as "
        "the gene network's)",
    )
    ap.add_argument(
        "--summarise",
        nargs="+",
        type=Path,
        default=None,
        metavar="OUT",
        help="only print the table of the rows in these --out folders (no run)",
    )
    args = ap.parse_args(argv)
    if args.programme_repeats is not None and args.programme_repeats < 1:
        ap.error(f"argument --programme-repeats: {args.programme_repeats} (expected 1 or more)")
    if args.summarise:
        missing = [str(d) for d in args.summarise if not (d / "recovery_rows.csv").is_file()]
        if missing:
            ap.error(f"argument --summarise: no recovery_rows.csv in {', '.join(missing)}")
        rows = pd.concat([pd.read_csv(d / "recovery_rows.csv") for d in args.summarise])
        print(summarise(rows).to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        print(f"\n{CALLS_NOTE}")
        return 0
    traits = benchmark_traits(quick=True) if args.quick else TRAIT_LISTS[args.traits]()
    if args.only:
        unknown = sorted(set(args.only) - {t.name for t in traits})
        if unknown:  # a traceback after loading the data, or fewer traits than asked
            ap.error(
                f"argument --only: {', '.join(unknown)} not in the "
                f"{'--quick' if args.quick else args.traits} list "
                f"({', '.join(t.name for t in traits)})"
            )
        traits = [t for t in traits if t.name in args.only]
    if args.drive is not None:
        traits = [dataclasses.replace(t, drive=args.drive) for t in traits]
    if not (args.data / "tcga_gbm").is_dir():
        ap.error(
            f"argument --data: real data not found at {args.data} "
            "(expected the shared data folder, with tcga_gbm/ and gene_sets/)"
        )
    torch.set_num_threads(2)
    warnings.filterwarnings("ignore", category=UserWarning)
    settings = quick_settings() if args.quick else full_settings()
    if args.programme_repeats is not None:
        settings = dataclasses.replace(settings, programme_repeats=args.programme_repeats)
    t0 = time.perf_counter()
    X = load_real_data(args.data).expression
    collections = load_collections(args.data)
    print(f"data: {X.shape[0]} patients x {X.shape[1]} genes ({time.perf_counter() - t0:.0f} s)")
    rows, per_set = [], []
    for trait in traits:
        t1 = time.perf_counter()
        table, info = run_trait(X, collections, trait, settings, cache=args.cache)
        table["seconds"] = time.perf_counter() - t1
        rows.append(table)
        per_set.append(info.pop("sets"))
        best = table.set_index("readout")["rank"]
        others = [str(best[k]) for k in best.index if k.startswith("consensus_seed")]
        seeds = f" (other seeds {', '.join(others)})" if others else ""
        print(
            f"{trait.name:22s} {trait.collection:9s} CV AUC {info['cv_auc']:.2f}  rank "
            f"consensus {best['consensus']:>3}{seeds}  correlation "
            f"{best['correlation_gsea']:>3}  masking z {best['set_masking_z_ap']:>3}  "
            f"drive match {info['drive_rank']:>3}  ({time.perf_counter() - t1:.0f} s)",
            flush=True,
        )
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            pd.concat(rows, ignore_index=True).to_csv(args.out / "recovery_rows.csv", index=False)
            sets = pd.concat(per_set, ignore_index=True)
            sets.to_csv(args.out / "recovery_sets.csv", index=False)
    results = pd.concat(rows, ignore_index=True)
    summary = summarise(results)
    minutes = (time.perf_counter() - t0) / 60
    print()
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"\n{CALLS_NOTE}")
    print(f"{len(traits)} traits in {minutes:.1f} min; settings:")
    print(json.dumps(settings.to_dict()))
    if args.out is not None:
        summary.to_csv(args.out / "recovery_summary.csv", index=False)
        (args.out / "recovery_settings.json").write_text(json.dumps(settings.to_dict(), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
