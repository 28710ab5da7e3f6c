"""The integrity checks, each a small study run twice through the command line.

1. [masking] out_of_fold false, then true: the masking table gains out-of-fold rows.
2. [masking] top 5, then 3: the saliency stage's top genes follow.
3. a bad grid value over a finished run: refused at load, the finished models kept.
4. [classifiers] batch_size = 1: refused at load, nothing run.
5. gene-set min_size > max_size: refused.
6. a follow-up file whose vital status says yes/no: refused naming the file and column.
7. two runs of one study 8 seconds apart: the second refuses.
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from radiogenomics.config import to_toml
from radiogenomics.data.synthetic import generate_cohort
from study_configs import synthetic_study

pytestmark = pytest.mark.slow

ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _cli(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "radiogenomics", *args],
        env=ENV,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _write(path: Path, study: dict) -> Path:
    path.write_text(to_toml(study))
    return path


def _base(out: Path) -> dict:
    study = synthetic_study(
        out,
        name="checks",
        seed=5,
        n_patients=120,
        n_genes=300,
        executor={"kind": "local", "workers": 1},
        masking={"out_of_fold": False, "readout": "retrained", "top": 5, "null_draws": 5},
        saliency={"method": "absolute"},
    )
    study["threads"] = 1
    for section in ("autoencoder", "baselines", "bootstrap", "enrichment"):
        study.setdefault(section, {})["enabled"] = False
    study["classifiers"]["grid"]["ae_layers"] = [0]
    return study


def _files(run: Path, stage: str) -> dict[str, bytes]:
    d = run / stage
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("checks")
    study = _base(tmp / "runs")
    path = _write(tmp / "study.toml", study)
    res = _cli("run", str(path), "--until", "saliency")
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp, study, path


def test_1_2_changed_masking_settings_rerun_what_reads_them(finished):
    tmp, study, _ = finished
    run = tmp / "runs" / "checks"
    first = pd.read_parquet(run / "masking/tables/masking.parquet")
    assert set(first["mode"]) == {"retrained"}
    top = pd.read_parquet(run / "saliency/tables/top_salient_genes.parquet")
    assert top.groupby("task").size().eq(5).all()

    again = copy.deepcopy(study)
    again["masking"].update(out_of_fold=True, readout="out_of_fold", top=3)
    path = _write(tmp / "study2.toml", again)
    res = _cli("run", str(path), "--until", "saliency")
    assert res.returncode == 0, res.stderr[-3000:]
    table = pd.read_parquet(run / "masking/tables/masking.parquet")
    assert {"retrained", "out_of_fold"} <= set(table["mode"])
    top_sets = pd.read_parquet(run / "masking/tables/top_sets.parquet")
    assert len(top_sets) > 0 and set(top_sets["mode"]) == {"out_of_fold"}
    top = pd.read_parquet(run / "saliency/tables/top_salient_genes.parquet")
    assert top.groupby("task").size().eq(3).all()
    log = (run / "run.log").read_text()
    # the drivers (enabled) had the fold models kept already: out-of-fold masking retrains none
    assert "stage classifiers: up to date" in log.split("study checks")[-1]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"classifiers": {"grid": {"dropout": [1.0]}}}, r"[classifiers.grid] dropout[0] = 1.0"),
        ({"classifiers": {"batch_size": 1}}, "[classifiers] batch_size = 1"),
        (
            {
                "data": {
                    "gene_sets": [
                        {"name": "p", "path": "gene_sets.gmt", "min_size": 400, "max_size": 20}
                    ]
                }
            },
            "min_size (400) is larger than max_size (20)",
        ),
    ],
    ids=["3-dropout-1", "4-batch-size-1", "5-min-over-max"],
)
def test_3_4_5_bad_settings_are_refused_before_anything_runs(finished, change, expected):
    tmp, study, _ = finished
    run = tmp / "runs" / "checks"
    before = {s: _files(run, s) for s in ("load", "classifiers", "masking")}
    log_before = (run / "run.log").read_text()
    bad = copy.deepcopy(study)
    for section, values in change.items():
        bad[section] = {**bad[section], **values}
    path = _write(tmp / "bad.toml", bad)
    res = _cli("run", str(path))
    assert res.returncode == 2, res.stderr[-2000:]
    assert expected in res.stderr and str(path) in res.stderr
    assert "Traceback" not in res.stderr
    assert {s: _files(run, s) for s in before} == before  # the finished models are still there
    assert (run / "run.log").read_text() == log_before  # no stage started


def test_6_follow_up_vital_status_spelled_yes_no_is_refused(tmp_path):
    cohort = tmp_path / "cohort"
    generate_cohort(cohort, n_patients=60, n_genes=300, seed=2)
    fu = pd.read_csv(cohort / "clinical_follow_up.tsv", sep="\t", dtype=str)
    col = next(c for c in fu.columns if c.lower() == "vital_status")
    fu[col] = fu[col].str.lower().map({"dead": "yes", "alive": "no"}).fillna(fu[col])
    fu.to_csv(cohort / "clinical_follow_up.tsv", sep="\t", index=False)
    study = _base(tmp_path / "runs")
    study["synthetic"]["enabled"] = False
    study["data"]["root"] = str(cohort)
    res = _cli("run", str(_write(tmp_path / "s.toml", study)), "--until", "load")
    assert res.returncode == 2
    assert "clinical_follow_up.tsv" in res.stderr and f"[{col}]" in res.stderr
    assert "unknown vital status values ['no', 'yes']" in res.stderr
    assert "Traceback" not in res.stderr


def test_7_a_second_run_started_8_seconds_later_refuses(finished):
    tmp, _, path = finished
    first = subprocess.Popen(
        [sys.executable, "-m", "radiogenomics", "run", str(path), "--name", "locked"],
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(8)
        assert first.poll() is None, "the first run ended before the second started"
        res = _cli("run", str(path), "--name", "locked", timeout=60)
        assert res.returncode == 2
        assert f"in use by process {first.pid} on host" in res.stderr
        assert "Traceback" not in res.stderr
    finally:
        first.kill()
        first.wait()
    shutil.rmtree(tmp / "runs" / "locked", ignore_errors=True)
