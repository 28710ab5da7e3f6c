"""Compare two run folders table by table: every Parquet table, exact equality.

Used to check that a study gives the same numbers whatever executor ran it (e.g. the demo with
``--executor local`` and with ``--executor ray``)::

    python scripts/compare_runs.py runs/demo-local runs/demo-ray

Prints one line per table that differs (or exists in one folder only) and a summary such as
``57 of 57 tables identical``; the exit status is 0 only when every table is present in both
folders and identical (same columns, index, dtypes and values, no tolerance; NaN equals NaN),
and there is at least one (two folders without any table are not the same run); 2 when a
folder does not exist.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class Comparison:
    """Relative paths of the Parquet tables of two run folders, by outcome."""

    identical: list[str] = field(default_factory=list)
    different: dict[str, str] = field(default_factory=dict)  # path -> first line of the diff
    only_a: list[str] = field(default_factory=list)
    only_b: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        # no table at all is a wrong folder (e.g. one level too deep), not a match
        return self.n_tables > 0 and not (self.different or self.only_a or self.only_b)

    @property
    def n_tables(self) -> int:
        return len(self.identical) + len(self.different)


def tables(folder: Path) -> set[str]:
    """Every Parquet table under ``folder``, as POSIX paths relative to it."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.parquet") if p.is_file()}


def first_difference(a: pd.DataFrame, b: pd.DataFrame) -> str | None:
    """``None`` when the frames are identical, else a one-line description of the first
    difference."""
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        return " ".join(lines[:3])[:300]
    return None


def compare_runs(a: str | Path, b: str | Path) -> Comparison:
    """Read every Parquet table of run folders ``a`` and ``b`` and compare them exactly."""
    a, b = Path(a), Path(b)
    for folder in (a, b):
        if not folder.is_dir():
            raise FileNotFoundError(f"run folder {folder} does not exist")
    ta, tb = tables(a), tables(b)
    out = Comparison(only_a=sorted(ta - tb), only_b=sorted(tb - ta))
    for rel in sorted(ta & tb):
        diff = first_difference(pd.read_parquet(a / rel), pd.read_parquet(b / rel))
        if diff is None:
            out.identical.append(rel)
        else:
            out.different[rel] = diff
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path, help="first run folder")
    parser.add_argument("b", type=Path, help="second run folder")
    args = parser.parse_args(argv)
    try:
        res = compare_runs(args.a, args.b)
    except FileNotFoundError as err:  # a traceback before
        parser.error(str(err))
    for rel, diff in res.different.items():
        print(f"DIFFERS   {rel}: {diff}")
    for rel in res.only_a:
        print(f"ONLY IN A {rel}")
    for rel in res.only_b:
        print(f"ONLY IN B {rel}")
    only = len(res.only_a) + len(res.only_b)
    print(
        f"{len(res.identical)} of {res.n_tables} tables identical"
        + (f", {only} in one folder only" if only else "")
        + ("" if res.n_tables or only else ": no Parquet table in either folder")
        + f" ({args.a} vs {args.b})"
    )
    return 0 if res.ok else 1


if __name__ == "__main__":
    sys.exit(main())
