"""Run every benchmark script (benchmarks/bench_*.py) in turn; each prints its own ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

USAGE = """usage: python benchmarks/run_all.py [NAME ...]
names: {names}

Runs benchmarks/bench_NAME.py for every NAME, or only those whose name contains one of the
NAMEs given, one after another with their default (full) settings. The speed benchmarks print
their times and their ratios against a peer (fgsea, gseapy, lifelines, Captum, a plain PyTorch
loop, the local executor) measured in the same run, and say what the ratios mean; recovery
prints its table of recovery rates. The R peer (fgsea) is installed by
`bash ../shared/peers/install_r_peers.sh` (root, 3-5 min); without it bench_gsea says so and
compares with gseapy. gsea and recovery need ../shared/data. Options go to a script directly,
e.g. `python benchmarks/bench_gsea.py --quick`; each script's --help lists its own.
Exit status 1 when any benchmark failed (they are named)."""


def main(argv: list[str] | None = None) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    names = [s.stem.removeprefix("bench_") for s in scripts]
    wanted = sys.argv[1:] if argv is None else list(argv)
    if any(w in ("-h", "--help") for w in wanted):
        print(USAGE.format(names=", ".join(names)))
        return 0
    options = [w for w in wanted if w.startswith("-")]
    if options:  # `--quick` was reported as a benchmark name that matches nothing
        print(
            f"error: run_all.py takes benchmark names, not options ({' '.join(options)}); "
            "pass options to a script directly, e.g. python benchmarks/bench_gsea.py --quick",
            file=sys.stderr,
        )
        return 2
    unknown = [w for w in wanted if not any(w in n for n in names)]
    if unknown:  # a typo used to run nothing and exit 0
        print(f"error: no benchmark matches {unknown} (names: {', '.join(names)})", file=sys.stderr)
        return 2
    if wanted:  # `python benchmarks/run_all.py gsea masking` runs a subset
        scripts = [s for s in scripts if any(w in s.stem for w in wanted)]
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        if subprocess.call([sys.executable, str(script)]) != 0:
            failed.append(script.stem)
    if failed:  # the exit status alone did not say which
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
