"""Bad input through the whole command: clear messages naming the file and key, exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from radiogenomics.config import load_config, to_toml
from radiogenomics.data.synthetic import generate_cohort
from radiogenomics.errors import InputError
from radiogenomics.pipeline import run_study


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("cohort")
    generate_cohort(d, seed=3, n_patients=60, n_genes=700)
    return d


def _study(cohort, out, **data):
    return {
        "name": "bad",
        "out": str(out),
        "quiet": True,
        "data": {
            "root": str(cohort),
            "expression": "expression.tsv.gz",
            "vasari": "vasari.csv",
            "traits": ["edema"],
            **data,
        },
    }


def test_load_stage_on_a_good_cohort_keeps_every_table(cohort, tmp_path):
    cfg = load_config(data=_study(cohort, tmp_path, clinical="clinical_patient.txt"))
    out = run_study(cfg, until="load")
    assert out[0].status == "done"
    tasks = pd.read_parquet(cfg.run_dir / "load/tables/tasks.parquet")
    assert tasks["task"].tolist() == ["edema"] and tasks["positive"].iloc[0] in ("<1/3", ">=1/3")
    clinical = pd.read_parquet(cfg.run_dir / "load/tables/clinical.parquet")
    assert {"os_days", "os_event", "age_group"} <= set(clinical.columns)
    truth = json.loads((cohort / "truth.json").read_text())
    summary = pd.read_parquet(cfg.run_dir / "load/tables/cohort_summary.parquet")
    n = dict(zip(summary["item"], summary["value"], strict=True))
    assert int(n["patients with expression"]) == truth["n_patients"]


def test_traits_without_overlap_with_expression(cohort, tmp_path):
    vas = pd.read_csv(cohort / "vasari.csv", dtype=str)
    col = vas.columns[0]
    vas[col] = [f"TCGA-ZZ-{i:04d}" for i in range(len(vas))]
    vas.to_csv(tmp_path / "other_vasari.csv", index=False)
    cfg = load_config(data=_study(cohort, tmp_path, vasari=str(tmp_path / "other_vasari.csv")))
    with pytest.raises(InputError) as err:
        run_study(cfg, until="load")
    msg = str(err.value)
    assert "other_vasari.csv" in msg and "none of the" in msg and "has expression" in msg
    m = json.loads((cfg.run_dir / ".staging/load/manifest.json").read_text())
    assert m["status"] == "failed" and "none of the" in m["error"]
    assert not (cfg.run_dir / "load").exists()  # nothing half-done is published


def test_unknown_trait_names_the_key(cohort, tmp_path):
    cfg = load_config(data=_study(cohort, tmp_path, traits=["edema", "oedema"]))
    with pytest.raises(InputError, match=r"\[data.traits\].*unknown traits \['oedema'\]"):
        run_study(cfg, until="load")


def test_cli_reports_a_missing_column_and_a_missing_file(cohort, tmp_path):
    expr = pd.read_csv(cohort / "expression.tsv.gz", sep="\t", nrows=5)
    assert expr.shape[1] > 2
    vas = pd.read_csv(cohort / "vasari.csv", dtype=str)
    vas.drop(columns=["f14.proportion.edema"]).to_csv(tmp_path / "no_edema.csv", index=False)
    study = _study(cohort, tmp_path / "runs", vasari=str(tmp_path / "no_edema.csv"))
    path = tmp_path / "study.toml"
    path.write_text(to_toml(study))
    res = subprocess.run(
        [sys.executable, "-m", "radiogenomics", "run", str(path), "--until", "load", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2, res.stderr[-2000:]
    assert "no_edema.csv" in res.stderr and "edema" in res.stderr
    assert "Traceback" not in res.stderr
    study["data"]["follow_up"] = "absent_follow_up.tsv"
    path.write_text(to_toml(study))
    res = subprocess.run(
        [sys.executable, "-m", "radiogenomics", "run", str(path), "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2
    assert "[data.follow_up]" in res.stderr and "absent_follow_up.tsv" in res.stderr
    assert "file not found" in res.stderr
