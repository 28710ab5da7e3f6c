"""Run every benchmark script (benchmarks/bench_*.py) in turn; each prints its own ratios."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    names = [s.stem.removeprefix("bench_") for s in scripts]
    wanted = sys.argv[1:]
    if any(w in ("-h", "--help") for w in wanted):
        print(f"usage: python benchmarks/run_all.py [NAME ...]   (names: {', '.join(names)})")
        return 0
    unknown = [w for w in wanted if not any(w in n for n in names)]
    if unknown:  # a typo used to run nothing and exit 0
        print(f"error: no benchmark matches {unknown} (names: {', '.join(names)})", file=sys.stderr)
        return 2
    if wanted:  # `python benchmarks/run_all.py gsea masking` runs a subset
        scripts = [s for s in scripts if any(w in s.stem for w in wanted)]
    failed = 0
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        failed += subprocess.call([sys.executable, str(script)]) != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
