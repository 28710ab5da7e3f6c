"""A battery of bad or awkward inputs and faults, run through the command line as a user would.

Each case starts from a small synthetic cohort and a finished load stage, breaks one thing
(a config value, a file, the run folder), runs ``radiogenomics`` and classifies the outcome:

- clear: refused (exit 2) with one message that names the file and the key or column;
- handled: accepted (exit 0) with the right result (each case says what that is);
- unclear: refused, but the message does not name where the problem is;
- traceback: a Python traceback reached the terminal;
- wrong: exit 0 with a wrong result, or a refusal where the input was fine;
- lost: finished outputs changed by a refused or failing run.

    python scripts/input_battery.py [--keep DIR]

Prints one line per case and the counts; exits 1 when any case is unclear, traceback, wrong
or lost.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radiogenomics.config import to_toml
from radiogenomics.data.synthetic import generate_cohort

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@dataclass
class Case:
    name: str
    change: Callable[[Path, dict], dict | None]  # (cohort dir, study) -> study to run
    expect: str  # "refused" or "handled"
    says: tuple[str, ...] = ()  # what a refusal must say (the file, the key, ...)
    command: tuple[str, ...] = ("run", "{study}", "--until", "load")
    check: Callable[[Path], bool] | None = None  # for "handled": is the result right?


def _study(cohort: Path, out: Path) -> dict:
    return {
        "name": "battery",
        "seed": 1,
        "out": str(out),
        "quiet": True,
        "threads": 1,
        "executor": {"kind": "local", "workers": 1},
        "data": {
            "root": str(cohort),
            "expression": "expression.tsv.gz",
            "expression_scale": "counts",
            "vasari": "vasari.csv",
            "clinical": "clinical_patient.txt",
            "follow_up": "clinical_follow_up.tsv",
            "traits": ["edema", "ncet"],
            "gene_sets": [{"name": "programmes", "path": "gene_sets.gmt", "min_size": 15}],
        },
        "autoencoder": {"enabled": False},
        "classifiers": {
            "folds": 3,
            "batch_size": 16,
            "max_epochs": 5,
            "patience": 3,
            "grid": {"hidden": [[8]], "optimizer": ["adam"]},
        },
        "baselines": {"models": ["logreg_l2"]},
        "bootstrap": {"enabled": False},
        "masking": {"null_draws": 3, "top": 3},
        "enrichment": {"nperm": 50},
        "radiogenomic_traits": {"nperm": 50, "min_patients": 3},
    }


def _set(study: dict, key: str, value) -> dict:
    study = copy.deepcopy(study)
    node = study
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value
    return study


def _cfg(key: str, value) -> Callable[[Path, dict], dict]:
    return lambda cohort, study: _set(study, key, value)


def _file(name: str, edit: Callable[[Path], None], key: str | None = None) -> Callable:
    """Copy the cohort's file ``name`` to a broken one and point the study at it."""

    def change(cohort: Path, study: dict) -> dict:
        bad = cohort / f"broken_{name}"
        shutil.copy(cohort / name, bad)
        edit(bad)
        k = (
            key
            or {
                "expression.tsv.gz": "data.expression",
                "vasari.csv": "data.vasari",
                "clinical_patient.txt": "data.clinical",
                "clinical_follow_up.tsv": "data.follow_up",
            }[name]
        )
        return _set(study, k, bad.name)

    return change


def _frame_edit(fn: Callable[[pd.DataFrame], pd.DataFrame], sep: str = ",") -> Callable:
    def edit(path: Path) -> None:
        df = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False)
        fn(df).to_csv(path, sep=sep, index=False)

    return edit


def _expr_edit(fn: Callable[[pd.DataFrame], pd.DataFrame], header: str | None = None) -> Callable:
    def edit(path: Path) -> None:
        df = pd.read_csv(path, sep="\t", index_col=0)
        out = fn(df)
        if header is not None:
            out.index.name = header
        with gzip.open(path, "wt") as fh:
            out.to_csv(fh, sep="\t")

    return edit


def _text_row(d: pd.DataFrame) -> pd.DataFrame:
    """The first gene's values become words."""
    d = d.astype(object)
    d.iloc[0, :] = "high"
    return d


def _vital(value_map: dict[str, str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def fn(df: pd.DataFrame) -> pd.DataFrame:
        df["vital_status"] = df["vital_status"].str.lower().map(value_map).fillna("")
        return df

    return fn


def _table(run: Path, stage: str, name: str) -> pd.DataFrame:
    return pd.read_parquet(run / stage / "tables" / f"{name}.parquet")


def _gmt_edit(fn: Callable[[list[str]], list[str]]) -> Callable:
    def edit(path: Path) -> None:
        lines = path.read_text().splitlines()
        path.write_text("\n".join(fn(lines)) + "\n")

    return edit


def _gene_sets(edit: Callable, **bounds) -> Callable:
    def change(cohort: Path, study: dict) -> dict:
        bad = cohort / "broken_gene_sets.gmt"
        shutil.copy(cohort / "gene_sets.gmt", bad)
        edit(bad)
        return _set(study, "data.gene_sets", [{"name": "programmes", "path": bad.name, **bounds}])

    return change


def cases() -> list[Case]:
    S = "study.toml"
    return [
        # config values ------------------------------------------------------------------------
        Case(
            "grid dropout 1.0",
            _cfg("classifiers.grid.dropout", [1.0]),
            "refused",
            (S, "[classifiers.grid] dropout"),
        ),
        Case(
            "batch_size 1",
            _cfg("classifiers.batch_size", 1),
            "refused",
            (S, "[classifiers] batch_size"),
        ),
        Case(
            "folds as text", _cfg("classifiers.folds", "3"), "refused", (S, "[classifiers] folds")
        ),
        Case("seed as text", _cfg("seed", "1"), "refused", (S, "seed")),
        Case("enabled as 1", _cfg("masking.enabled", 1), "refused", (S, "[masking] enabled")),
        Case("unknown key", _cfg("masking.topp", 3), "refused", (S, "[masking] topp")),
        Case("unknown section", _cfg("maskin", {"top": 3}), "refused", (S, "maskin")),
        Case("device gpu", _cfg("device", "gpu"), "refused", (S, "device")),
        Case("device cuda without CUDA", _cfg("device", "cuda"), "refused", (S, "device")),
        Case("negative nperm", _cfg("enrichment.nperm", -5), "refused", (S, "[enrichment] nperm")),
        Case(
            "enrichment min > max",
            lambda c, s: _set(_set(s, "enrichment.min_size", 400), "enrichment.max_size", 20),
            "refused",
            (S, "[enrichment]", "min_size"),
        ),
        Case(
            "gene-set min > max",
            _gene_sets(lambda p: None, min_size=400, max_size=20),
            "refused",
            (S, "data.gene_sets", "min_size"),
        ),
        Case(
            "unknown baseline",
            _cfg("baselines.models", ["logreg_l3"]),
            "refused",
            (S, "[baselines] models", "logreg_l3"),
        ),
        Case(
            "unknown masking collection",
            _cfg("masking.collections", ["hallmark"]),
            "refused",
            (S, "[masking] collections", "hallmark"),
        ),
        Case(
            "unknown enrichment collection",
            _cfg("enrichment.collections", ["x"]),
            "refused",
            (S, "[enrichment] collections"),
        ),
        Case(
            "pfs without follow-up",
            lambda c, s: _set(_set(s, "data.follow_up", None), "survival.outcomes", ["pfs"]),
            "refused",
            (S, "[survival] outcomes", "follow_up"),
        ),
        Case(
            "hidden layer of 0",
            _cfg("classifiers.grid.hidden", [[0]]),
            "refused",
            (S, "[classifiers.grid] hidden"),
        ),
        Case(
            "empty grid axis",
            _cfg("classifiers.grid.optimizer", []),
            "refused",
            (S, "[classifiers.grid] optimizer"),
        ),
        Case(
            "unknown optimizer",
            _cfg("autoencoder.optimizer", "rmsprop"),
            "refused",
            (S, "[autoencoder] optimizer"),
        ),
        Case("alpha 1.5", _cfg("survival.alpha", 1.5), "refused", (S, "[survival] alpha")),
        Case("name with a slash", _cfg("name", "a/b"), "refused", (S, "name")),
        Case(
            "duplicate collection names",
            lambda c, s: _set(
                s,
                "data.gene_sets",
                [{"name": "p", "path": "gene_sets.gmt"}, {"name": "p", "path": "gene_sets.gmt"}],
            ),
            "refused",
            (S, "gene_sets"),
        ),
        Case(
            "unknown trait",
            _cfg("data.traits", ["oedema"]),
            "refused",
            (S, "data.traits", "oedema"),
        ),
        Case(
            "missing expression file",
            _cfg("data.expression", "nope.tsv"),
            "refused",
            (S, "data.expression", "nope.tsv"),
        ),
        Case(
            "orientation bogus",
            _cfg("data.orientation", "rows"),
            "refused",
            (S, "[data] orientation"),
        ),
        # files --------------------------------------------------------------------------------
        Case(
            "vital status yes/no (patient file)",
            _file(
                "clinical_patient.txt", _frame_edit(_vital({"dead": "yes", "alive": "no"}), "\t")
            ),
            "refused",
            ("broken_clinical_patient.txt", "vital_status", "'yes'"),
        ),
        Case(
            "vital status yes/no (follow-up)",
            _file(
                "clinical_follow_up.tsv", _frame_edit(_vital({"dead": "yes", "alive": "no"}), "\t")
            ),
            "refused",
            ("broken_clinical_follow_up.tsv", "vital_status", "'yes'"),
        ),
        Case(
            "vital status Deceased/Living",
            _file(
                "clinical_patient.txt",
                _frame_edit(_vital({"dead": "Deceased", "alive": "Living"}), "\t"),
            ),
            "handled",
            check=lambda run: _table(run, "load", "clinical")["os_event"].sum() > 0,
        ),
        Case(
            "negative days to death",
            _file(
                "clinical_follow_up.tsv",
                _frame_edit(
                    lambda d: d.assign(
                        days_to_death=d["days_to_death"].where(
                            d["days_to_death"] == "", "-" + d["days_to_death"]
                        )
                    ),
                    "\t",
                ),
            ),
            "refused",
            ("broken_clinical_follow_up.tsv", "days_to_death", "negative"),
        ),
        Case(
            "samples x genes, 'id' header, non-TCGA ids",
            _file(
                "expression.tsv.gz",
                _expr_edit(
                    lambda d: d.T.rename(index=lambda s: s.replace("SYN-", "P")), header="id"
                ),
            ),
            "refused",
            ("broken_expression.tsv.gz", "orientation"),
        ),
        Case(
            "samples x genes with --orientation",
            lambda c, s: _set(
                _file("expression.tsv.gz", _expr_edit(lambda d: d.T, header="id"))(c, s),
                "data.orientation",
                "samples_x_genes",
            ),
            "handled",
            check=lambda run: _table(run, "load", "tasks")["kept"].all(),
        ),
        Case(
            "duplicate sample rows",
            lambda c, s: _set(
                _file(
                    "expression.tsv.gz",
                    _expr_edit(lambda d: pd.concat([d.T, d.T.iloc[:3]]), header="patient"),
                )(c, s),
                "data.orientation",
                "samples_x_genes",
            ),
            "handled",
            check=lambda run: pd.read_parquet(run / "load/expression.parquet").index.is_unique,
        ),
        Case(
            "all genes constant",
            _file("expression.tsv.gz", _expr_edit(lambda d: d * 0 + 5)),
            "refused",
            ("broken_expression.tsv.gz", "same value"),
        ),
        Case(
            "expression not numeric",
            _file("expression.tsv.gz", _expr_edit(_text_row)),
            "refused",
            ("broken_expression.tsv.gz",),
        ),
        Case(
            "gene sets outside the genes",
            _gene_sets(
                _gmt_edit(
                    lambda lines: [
                        "\t".join(p.split("\t")[:2] + [f"NOPE{i}" for i in range(30)])
                        for p in lines
                    ]
                )
            ),
            "refused",
            ("broken_gene_sets.gmt", "programmes", "none of its"),
        ),
        Case(
            "VASARI without overlap",
            _file(
                "vasari.csv",
                _frame_edit(
                    lambda d: d.assign(
                        **{d.columns[0]: [f"TCGA-ZZ-{i:04d}" for i in range(len(d))]}
                    )
                ),
            ),
            "refused",
            ("broken_vasari.csv", "none of the"),
        ),
        Case(
            "VASARI missing trait column",
            _file("vasari.csv", _frame_edit(lambda d: d.drop(columns=["f14.proportion.edema"]))),
            "refused",
            ("broken_vasari.csv",),
        ),
        Case(
            "empty expression file",
            _file("expression.tsv.gz", lambda p: p.write_bytes(gzip.compress(b""))),
            "refused",
            ("broken_expression.tsv.gz",),
        ),
        Case("config is not TOML", lambda c, s: "not = [toml", "refused", (S, "TOML")),
        # faults over a finished run -----------------------------------------------------------
        Case(
            "second run while one holds the lock",
            lambda c, s: s,
            "refused",
            ("in use by process",),
            command=("LOCKED",),
        ),
    ]


def _fingerprint(run: Path) -> dict[str, str]:
    out = {}
    for p in sorted(run.rglob("*")):
        if p.is_file() and ".staging" not in p.parts and p.name not in {"run.log", ".lock"}:
            if p.name in {"config.toml", "config.json"}:
                continue
            out[str(p.relative_to(run))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_case(case: Case, root: Path, base_cohort: Path) -> tuple[str, str]:
    work = root / case.name.replace(" ", "_").replace("/", "-")
    shutil.rmtree(work, ignore_errors=True)  # a rerun with --keep replaces the case's folder
    cohort = work / "cohort"
    shutil.copytree(base_cohort, cohort)
    study = _study(cohort, work / "runs")
    path = work / "study.toml"
    path.write_text(to_toml(study))
    first = subprocess.run(
        [sys.executable, "-m", "radiogenomics", "run", str(path), "--until", "load"],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    run = work / "runs" / "battery"
    before = _fingerprint(run)
    changed = case.change(cohort, study)
    if isinstance(changed, str):
        path.write_text(changed)
    else:
        path.write_text(to_toml(changed))
    holder = None
    if case.command == ("LOCKED",):
        holder = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import time\nfrom radiogenomics.runfolder import RunFolder\n"
                f"with RunFolder({str(run)!r}).lock():\n    print('held', flush=True)\n"
                "    time.sleep(60)",
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            text=True,
        )
        holder.stdout.readline()
        command = ["run", str(path)]
    else:
        command = [c.replace("{study}", str(path)) for c in case.command]
    try:
        res = subprocess.run(
            [sys.executable, "-m", "radiogenomics", *command],
            env=ENV,
            capture_output=True,
            text=True,
            timeout=900,
        )
    finally:
        if holder is not None:
            holder.kill()
            holder.wait()
    err = res.stderr.strip().splitlines()[-1] if res.stderr.strip() else ""
    if "Traceback" in res.stderr:
        return "traceback", res.stderr[-400:]
    if res.returncode != 0 and _fingerprint(run) != before:
        return "lost", err
    if case.expect == "refused":
        if res.returncode == 0:
            return "wrong", "accepted"
        missing = [s for s in case.says if s not in res.stderr]
        return ("unclear", f"missing {missing}: {err}") if missing else ("clear", err)
    if res.returncode != 0:
        return "wrong", f"refused: {err}"
    ok = case.check(run) if case.check else True
    return ("handled", "") if ok else ("wrong", "result check failed")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--keep", type=Path, help="keep the case folders here (a rerun replaces them)")
    ap.add_argument("-k", default="", help="only cases whose name contains this")
    ap.add_argument("--start", type=int, default=0, help="skip the first N cases")
    args = ap.parse_args(argv)
    everything = cases()
    selected = [case for case in everything[args.start :] if args.k in case.name]
    if not selected:  # a typo ran no case and passed
        ap.error(
            f"no case selected by -k {args.k!r} --start {args.start} ({len(everything)} cases: "
            + ", ".join(repr(case.name) for case in everything[:5])
            + ", ...)"
        )
    root = args.keep or Path(tempfile.mkdtemp(prefix="battery-"))
    root.mkdir(parents=True, exist_ok=True)
    base = root / "_cohort"
    if not base.exists():
        generate_cohort(base, n_patients=80, n_genes=300, seed=4)
    counts: dict[str, int] = {}
    for case in selected:
        outcome, detail = run_case(case, root, base)
        counts[outcome] = counts.get(outcome, 0) + 1
        print(f"{outcome:10s} {case.name}: {detail[:160]}", flush=True)
    print(
        " / ".join(
            f"{k} {counts.get(k, 0)}"
            for k in ("clear", "handled", "unclear", "traceback", "wrong", "lost")
        )
    )
    if args.keep is None:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if any(counts.get(k) for k in ("unclear", "traceback", "wrong", "lost")) else 0


if __name__ == "__main__":
    raise SystemExit(main())
