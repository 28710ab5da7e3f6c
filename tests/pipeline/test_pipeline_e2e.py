"""A whole tiny study on a small synthetic cohort: every stage, resume after a kill, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from radiogenomics.config import STAGES, load_config, to_toml
from radiogenomics.pipeline import run_study
from radiogenomics.pipeline.demo import demo_config_path
from radiogenomics.pipeline.recovery import recovery_table
from study_configs import synthetic_study

REPO = Path(__file__).resolve().parents[2]


def tiny_study(out: Path, name: str = "tiny") -> dict:
    """Fast settings: two traits, small networks, few epochs, B=2, few permutations."""
    return synthetic_study(
        out,
        name=name,
        seed=1,
        n_patients=140,
        n_genes=700,
        executor={"kind": "local", "workers": 1},
        survival={"outcomes": ["os"]},
    )


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """One uninterrupted run of the tiny study (shared by the tests of this module)."""
    out = tmp_path_factory.mktemp("e2e")
    cfg = load_config(data=tiny_study(out))
    outcomes = run_study(cfg)
    return cfg, outcomes


@pytest.mark.slow
def test_every_stage_runs_and_leaves_its_outputs(finished):
    cfg, outcomes = finished
    status = {o.stage: o.status for o in outcomes}
    assert status == {s: "done" for s in STAGES}, status
    run = cfg.run_dir
    for stage in STAGES:
        m = json.loads((run / stage / "manifest.json").read_text())
        assert m["status"] == "done" and m["seed"] == 1
        assert all((run / stage / rel).is_file() for rel in m["outputs"])
    chosen = pd.read_parquet(run / "classifiers/tables/chosen.parquet")
    assert set(chosen["task"]) == {"edema", "ncet"}
    assert chosen["auc_mean"].between(0, 1).all()
    masking = pd.read_parquet(run / "masking/tables/masking.parquet")
    assert {"retrained", "out_of_fold"} <= set(masking["mode"])
    assert (masking["collection"] == "single_genes").any()
    top = pd.read_parquet(run / "masking/tables/top_sets.parquet")
    assert set(top["mode"]) == {"out_of_fold"}  # the default readout
    assert (run / "report/index.html").is_file()
    page = (run / "report/index.html").read_text()
    assert page.count("data:image/png;base64,") >= 5
    rec = recovery_table(run)
    assert list(rec.columns) == ["link", "planted", "check", "observed", "recovered"]
    assert len(rec) == 7  # six traits (two modelled here) + the survival link
    assert (
        rec.set_index("link").filter(like="focal", axis=0)["observed"] == "trait not modelled"
    ).all()


@pytest.mark.slow
def test_second_run_skips_everything(finished):
    cfg, _ = finished
    again = run_study(cfg)
    assert {o.status for o in again} == {"skipped"}


@pytest.mark.slow
def test_killed_run_resumes_to_the_same_tables(finished, tmp_path):
    """The run dies right after the first task of the classifiers stage; the resumed run keeps
    that task and ends with the same tables as the uninterrupted run."""
    cfg_a, _ = finished
    study = tiny_study(tmp_path / "runs", name="killed")
    path = tmp_path / "study.toml"
    path.write_text(to_toml(study))
    env = {
        **os.environ,
        "RADIOGENOMICS_FAULT_AFTER_UNIT": "classifiers:edema",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    res = subprocess.run(
        [sys.executable, "-m", "radiogenomics", "run", str(path), "--until", "masking"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert res.returncode == 17, res.stderr[-2000:]
    run_b = tmp_path / "runs" / "killed"
    m = json.loads((run_b / ".staging/classifiers/manifest.json").read_text())
    assert m["status"] == "running"
    assert not (run_b / "classifiers").exists()  # nothing half-done is published
    assert (run_b / "load/manifest.json").is_file()
    units = sorted(p.name for p in (run_b / ".staging/classifiers/.units").glob("*.json"))
    assert units == ["edema.json"]
    cfg_b = load_config(path)
    outcomes = run_study(cfg_b, until="masking")
    status = {o.stage: o.status for o in outcomes}
    assert status["load"] == "skipped" and status["classifiers"] == "done"
    log = (run_b / "run.log").read_text()
    assert "resuming, 1 units already done" in log
    run_a = cfg_a.run_dir
    for stage, table in [
        ("classifiers", "chosen"),
        ("classifiers", "cv_folds"),
        ("classifiers", "oof"),
    ]:
        a = pd.read_parquet(run_a / stage / "tables" / f"{table}.parquet")
        b = pd.read_parquet(run_b / stage / "tables" / f"{table}.parquet")
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-5, atol=1e-6)
    # The task trained in the killed process and the one trained after the resume give the
    # same networks as the uninterrupted run (up to float rounding across processes) ...
    from safetensors.numpy import load_file

    for task in ("edema", "ncet"):
        wa = load_file(
            next((run_a / "classifiers/models" / task / "retrained").glob("*.safetensors"))
        )
        wb = load_file(
            next((run_b / "classifiers/models" / task / "retrained").glob("*.safetensors"))
        )
        assert wa.keys() == wb.keys()
        for k in wa:
            np.testing.assert_allclose(wa[k], wb[k], rtol=1e-4, atol=1e-6)
    # ... so masking agrees too; a single gene's AUC can move by a tie flip of nearly equal
    # probabilities (1e-7 apart), hence the absolute tolerance on the scores.
    a = pd.read_parquet(run_a / "masking/tables/masking.parquet")
    b = pd.read_parquet(run_b / "masking/tables/masking.parquet")
    scores = [c for c in a.columns if c in ("auc", "ap") or c[:2] in ("p_", "q_")]
    pd.testing.assert_frame_equal(a.drop(columns=scores), b.drop(columns=scores))
    same = np.ones(len(a), dtype=bool)
    for col in ("auc", "ap"):
        np.testing.assert_allclose(a[col], b[col], atol=2e-3)
        same &= np.abs(a[col] - b[col]).to_numpy() < 1e-12
    assert same.mean() > 0.98
    pd.testing.assert_frame_equal(a[same].reset_index(drop=True), b[same].reset_index(drop=True))


def test_packaged_demo_config_is_the_repository_copy_and_valid():
    packaged = demo_config_path()
    assert packaged.read_text() == (REPO / "configs" / "demo.toml").read_text()
    cfg = load_config(packaged)
    assert cfg.synthetic.enabled and cfg.bootstrap.repetitions <= 10
    for name in ("paper.toml", "tcga_gbm_subtype.toml"):
        c = load_config(REPO / "configs" / name, check_files=False)
        assert c.name


@pytest.mark.slow
@pytest.mark.browser
def test_the_report_the_pipeline_built_works_in_a_browser(finished):
    """Opened from file:// in headless Chromium: tables sort and filter, a findings link leads
    to its evidence, figures draw, nothing is fetched, no console error."""
    pytest.importorskip("selenium", reason="selenium drives the browser (pip install selenium)")
    from radiogenomics.report.browser import exercise_page, find_chromedriver, find_chromium

    if find_chromium() is None or find_chromedriver() is None:
        pytest.skip("chromium and chromedriver are not installed (CI installs them via apt)")
    cfg, _ = finished
    run = exercise_page(cfg.run_dir / "report" / "index.html")
    assert run.errors == [] and run.fetched == []
    assert run.sorted_ok and run.filtered_ok and run.link_ok and run.figure_drawn
