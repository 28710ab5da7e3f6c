"""The ``drivers`` stage: its ``[drivers]`` settings, its table, and what a change reruns."""

from __future__ import annotations

import inspect
import logging
import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from radiogenomics.config import load_config
from radiogenomics.errors import InputError
from radiogenomics.interpret import drivers as verb
from radiogenomics.pipeline import run_study
from radiogenomics.pipeline.drivers_stage import _step_logger
from radiogenomics.pipeline.runner import Pipeline
from study_configs import synthetic_study

BASE = {"name": "d", "data": {"expression": "e.tsv"}}


def _cfg(drivers: dict | None = None, **more):
    data = {**BASE, **more}
    if drivers is not None:
        data["drivers"] = drivers
    return load_config(data=data, check_files=False)


def test_defaults_are_the_verbs_and_the_recommended_readout():
    d = _cfg().drivers
    params = inspect.signature(verb.driver_ranking).parameters
    keys = ("readout", "repeats", "null_draws", "nperm", "alpha", "max_calls")
    for key in (*keys, "gate_draws", "gate_nperm", "programme_network", "programme_seeds"):
        assert getattr(d, key) == params[key].default, key
    assert (d.min_size, d.max_size) == (params["min_size"].default, params["max_size"].default)
    assert d.readout == verb.RECOMMENDED and d.enabled and d.collections == []
    # the readouts the study file allows are exactly the verb's
    literal = type(d).model_fields["readout"].annotation
    assert set(literal.__args__) == set(verb.READOUTS)


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ({"readout": "gsea"}, r"\[drivers\] readout = 'gsea'.*'consensus', 'masking' or "),
        ({"repeats": 0}, r"\[drivers\] repeats = 0: Input should be greater than or equal to 1"),
        ({"repeats": "3"}, r"\[drivers\] repeats = '3': Input should be a valid integer"),
        ({"null_draws": 1}, r"\[drivers\] null_draws = 1: .*greater than or equal to 2"),
        ({"alpha": 1.0}, r"\[drivers\] alpha = 1.0: Input should be less than 1"),
        ({"alpha": 0.0}, r"\[drivers\] alpha = 0.0: Input should be greater than 0"),
        ({"max_calls": 0}, r"\[drivers\] max_calls = 0: .*greater than or equal to 1"),
        ({"gate_draws": -1}, r"\[drivers\] gate_draws = -1: .*greater than or equal to 0"),
        ({"programme_seeds": 0}, r"\[drivers\] programme_seeds = 0: .*greater than or equal to 1"),
        ({"nperm": 5}, r"\[drivers\] nperm = 5: .*greater than or equal to 10"),
        ({"enabled": 1}, r"\[drivers\] enabled = 1: Input should be a valid boolean"),
        ({"min_size": 50, "max_size": 20}, r"\[drivers\].*min_size \(50\) is larger than max_"),
        ({"repats": 2}, r"\[drivers\] repats: unknown key"),
    ],
)
def test_bad_drivers_settings_are_refused_naming_the_key(section, message):
    with pytest.raises(InputError, match=message) as err:
        load_config(data={**BASE, "drivers": section}, check_files=False)
    assert str(err.value).startswith("config")  # the file (here: a dict) is named first


def test_unknown_collection_is_refused_with_the_studys_names():
    gene_sets = [{"name": "hallmark", "path": "h.gmt"}]
    data = {"expression": "e.tsv", "gene_sets": gene_sets}
    with pytest.raises(InputError, match=r"\[drivers\] collections: unknown gene-set collections "):
        _cfg({"collections": ["kegg"]}, data=data)
    assert _cfg({"collections": ["hallmark"]}, data=data).drivers.collections == ["hallmark"]


def test_fold_models_are_kept_for_the_drivers_even_without_out_of_fold_masking():
    """The classifiers stage reads ``drivers.enabled``: it decides whether fold models are
    saved, so switching the drivers on (masking off) must rerun it."""
    off = _cfg({"enabled": False}, masking={"enabled": False})
    on = _cfg({"enabled": True}, masking={"enabled": False})
    assert Pipeline(off).fingerprint("classifiers") != Pipeline(on).fingerprint("classifiers")
    assert Pipeline(on).fingerprint("drivers")["settings"] == {"drivers": on.drivers.model_dump()}


# ----------------------------------------------------------------------------------- the stage
def test_slow_steps_of_a_ranking_reach_the_console_and_every_step_run_log(caplog):
    """run.log (DEBUG and up) gets every step; the console (INFO and up) the slow ones."""
    ctx = SimpleNamespace(log=logging.getLogger("radiogenomics.test_steps"))
    step = _step_logger(ctx, "edema")
    with caplog.at_level(logging.DEBUG, logger="radiogenomics.test_steps"):
        step("correlation GSEA (1000 permutations)", 1.04)
        step("3 CV runs (2 on new fold splits)", 87.42)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.DEBUG, "drivers edema: correlation GSEA (1000 permutations): 1.0 s"),
        (logging.INFO, "drivers edema: 3 CV runs (2 on new fold splits): 87.4 s"),
    ]


def _study(out, **drivers):
    settings = {"repeats": 2, "null_draws": 5, "nperm": 100, **drivers}
    return synthetic_study(
        out,
        name="drv",
        seed=4,
        n_patients=140,
        n_genes=500,
        executor={"kind": "local", "workers": 1},
        drivers=settings,
        masking={"enabled": False},  # the drivers stage alone keeps the fold models
        baselines={"enabled": False},
        bootstrap={"enabled": False},
        saliency={"enabled": False},
        enrichment={"enabled": False},
    )


@pytest.fixture(scope="module")
def drivers_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("drivers")
    cfg = load_config(data=_study(out))
    outcomes = run_study(cfg, until="drivers")
    table = pd.read_parquet(cfg.run_dir / "drivers/tables/drivers.parquet")
    return cfg, {o.stage: o.status for o in outcomes}, table


@pytest.mark.slow
def test_the_stage_writes_every_sets_ranking_with_the_verbs_columns(drivers_run):
    cfg, status, _ = drivers_run
    assert status["drivers"] == "done" and status["masking"] == "disabled"
    assert status["autoencoder"] == "done"  # its layers are transferred: the repeats use it
    run = cfg.run_dir
    t = pd.read_parquet(run / "drivers/tables/drivers.parquet")
    # the verb's columns, with the read-out named
    assert [c for c in t.columns if c != "readout"] == verb.COLUMNS
    assert set(t["readout"]) == {"consensus"}
    assert set(t["task"]) == {"edema", "ncet"} and set(t["class"]) == {">=1/3"}
    gmt = run / "cohort" / "gene_sets.gmt"
    kept = [
        line.split("\t")[0] for line in gmt.read_text().splitlines() if len(line.split("\t")) > 17
    ]
    for _, g in t.groupby("task"):  # every set of 15+ genes, ranked 1..n once
        assert sorted(g["rank"]) == list(range(1, len(g) + 1))
        assert set(g["set"]) <= set(kept)
        assert g["q"].between(0, 1).all() and (g["q"] >= g["p"] - 1e-12).all()
        # consensus: the forward order, then the better of the programme and gene levels'
        # mean ranks
        assert g.sort_values("rank")["score"].is_monotonic_decreasing
        programme = g[["programme_rank", "programme_score_rank"]].mean(axis=1)
        gene = g[["masking_rank", "correlation_rank"]].mean(axis=1)
        rest = -(g["programme_order"].count() + np.minimum(programme, gene))
        assert np.allclose(g["score"], g["programme_order"].mul(-1).fillna(rest))
        # one to three forward places, 1..k (later ones only where they hold up held out)
        places = sorted(g["programme_order"].dropna())
        assert places == [float(i) for i in range(1, len(places) + 1)] and len(places) <= 3
    # the planted programme of ncet comes first (truth.json); edema is a gated interaction
    # its network hardly learns at 98 patients (CV AUC about 0.64): a planted set is near the
    # top, behind decoys that hold genes of both programmes
    top = t[t["rank"] == 1].set_index("task")["set"]
    assert top["ncet"] == "SYN_NEURAL"
    edema = t[t["task"] == "edema"].set_index("set")["rank"]
    assert edema[["SYN_EMT", "SYN_INFLAMMATION"]].min() <= 3
    small = pd.read_parquet(run / "drivers/tables/drivers_top.parquet")
    assert small.groupby(["task", "class", "collection"]).size().max() <= 10
    # run.log has every step of each task's ranking, with its seconds
    log = (run / "run.log").read_text()
    for task in ("edema", "ncet"):
        assert re.search(rf"drivers {task}: programme network: \d+\.\d s", log), task
        assert re.search(rf"drivers {task}: separation gate \(\d+ patient resamples\)", log)
    assert {"rank", "set", "q", "called", "correlation_rank", "programme_score_auc"} <= set(
        small.columns
    )


@pytest.mark.slow
def test_a_drivers_setting_reruns_only_the_drivers_and_the_report(drivers_run):
    cfg, _, _ = drivers_run
    changed = load_config(data={**cfg.effective(), "drivers": {**cfg.effective()["drivers"]}})
    changed.drivers.readout = "masking"
    actions = {p.stage: p.action for p in Pipeline(changed).plan(until="drivers")}
    assert actions["drivers"] == "run"
    assert {s for s, a in actions.items() if a not in ("skip", "disabled")} == {"drivers"}
    outcomes = {o.stage: o.status for o in run_study(changed, until="drivers")}
    assert outcomes["drivers"] == "done" and outcomes["classifiers"] == "skipped"
    t = pd.read_parquet(cfg.run_dir / "drivers/tables/drivers.parquet")
    assert set(t["readout"]) == {"masking"}
    # the masking read-out ranks by the masking z-score alone
    for _, g in t.groupby("task"):
        assert g.sort_values("rank")["masking_z"].is_monotonic_decreasing
    full = {p.stage: p.action for p in Pipeline(changed).plan()}
    assert full["report"] == "run"


def test_only_the_drivers_stage_and_the_report_read_the_drivers_settings():
    """With the contract walk (test_pipeline_contract.py), changing any ``[drivers]`` setting
    reruns the drivers stage and the report and nothing upstream, ``repeats`` the CV repeats
    too; ``enabled`` also feeds the classifiers' ``keep_fold_models`` (they rerun only when
    that changes). The CV repeats read no gene set: a new collection retrains none of them."""
    from radiogenomics.pipeline.contract import ALL
    from radiogenomics.pipeline.stages import STAGE_TABLE

    def readers(key: str) -> set[str]:
        return {
            n
            for n, st in STAGE_TABLE.items()
            if any(r == ALL or key == r or key.startswith(r + ".") for r in st.reads)
        }

    for key in type(_cfg().drivers).model_fields:
        more = {"cv_repeats"} if key == "repeats" else set()
        assert readers(f"drivers.{key}") == {"drivers", "report", *more}, key
    assert readers("keep_fold_models") == {"classifiers", "report"}
    assert STAGE_TABLE["drivers"].requires == ("load", "classifiers", "cv_repeats")
    assert STAGE_TABLE["cv_repeats"].load_parts == ("cohort",)


def test_example_studies_rank_drivers_and_the_paper_keeps_its_own_readout():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    for path in sorted((repo / "configs").glob("*.toml")):
        cfg = load_config(path, check_files=False)
        assert cfg.drivers.enabled and cfg.drivers.readout == verb.RECOMMENDED, path.name
    paper = load_config(repo / "configs" / "paper.toml", check_files=False)
    assert paper.masking.readout == "retrained"  # the paper's tables, unchanged
    assert set(paper.drivers.collections) < set(paper.data.collection_names())


def test_the_recovery_check_reports_the_driver_rankings_top_set_ranks_and_calls():
    from radiogenomics.pipeline.recovery import _driver_observation

    ranking = pd.DataFrame(
        {
            "set": ["SYN_EMT", "SYN_DECOY_1", "SYN_INFLAMMATION"],
            "rank": [1, 2, 3],
            "q": [0.0012, 0.04, 0.2],
            "called": [True, False, False],
            "readout": "consensus",
        }
    ).iloc[::-1]  # any row order
    text = _driver_observation(ranking, ["SYN_EMT", "SYN_INFLAMMATION"])
    assert text == (
        "; driver ranking (consensus): top SYN_EMT (q 0.0012, planted); "
        "ranks: SYN_EMT 1, SYN_INFLAMMATION 3; called: SYN_EMT"
    )
    assert _driver_observation(ranking.iloc[:0], ["SYN_EMT"]) == ""  # trait not modelled


def _record_tasks(monkeypatch, module, name: str, real, fail_on: str | None = None) -> list:
    """Replace ``module.name`` by ``real`` recording the task of each call (its first argument
    is a CV result), and raising a planted failure on the task ``fail_on``."""
    calls = []

    def recorded(cv, *args, **kwargs):
        calls.append(cv.task)
        if cv.task == fail_on:
            raise RuntimeError("planted failure")
        return real(cv, *args, **kwargs)

    monkeypatch.setattr(module, name, recorded)
    return calls


@pytest.mark.slow
def test_a_failed_drivers_run_resumes_at_the_task_it_was_on(drivers_run, monkeypatch):
    """The second task fails; the rerun keeps the first task's unit and ends with the evidence
    of an uninterrupted run (the correlation read-out here: a fingerprint no other test of this
    module publishes, so the rerun resumes whatever ran before)."""
    import radiogenomics.interpret as interpret

    cfg, _, uninterrupted = drivers_run
    cfg = load_config(data={**cfg.effective(), "drivers": {**cfg.effective()["drivers"]}})
    cfg.drivers.readout = "correlation"
    real = interpret.driver_ranking
    calls = _record_tasks(monkeypatch, interpret, "driver_ranking", real, fail_on="ncet")
    with pytest.raises(RuntimeError, match="planted failure"):
        run_study(cfg, stage="drivers")
    assert calls == ["edema", "ncet"]
    assert {p.stage: p.action for p in Pipeline(cfg).plan(stage="drivers")} == {"drivers": "resume"}
    calls = _record_tasks(monkeypatch, interpret, "driver_ranking", real)
    outcomes = {o.stage: o.status for o in run_study(cfg, stage="drivers")}
    assert outcomes == {"drivers": "done"} and calls == ["ncet"]
    assert "stage drivers: resuming, 1 units already done" in (cfg.run_dir / "run.log").read_text()
    again = pd.read_parquet(cfg.run_dir / "drivers/tables/drivers.parquet")
    assert set(again["readout"]) == {"correlation"}
    # the evidence does not depend on the read-out: the same numbers as the uninterrupted run
    keys = ["task", "class", "collection", "set"]
    evidence = [*keys, "masking_ap", "masking_z", "masking_p", "correlation_nes"]
    pd.testing.assert_frame_equal(
        again[evidence].sort_values(keys).reset_index(drop=True),
        uninterrupted[evidence].sort_values(keys).reset_index(drop=True),
    )
    # the correlation read-out ranks by NES and calls every set with q < alpha
    for _, g in again.groupby("task"):
        assert g.sort_values("rank")["correlation_nes"].is_monotonic_decreasing
        assert (g["called"] == (g["q"] < cfg.drivers.alpha)).all()


@pytest.mark.slow
def test_the_stage_equals_the_verb_on_the_classifiers_cross_validation_in_memory(drivers_run):
    """The fold models and patient order rebuilt from the run folder give the table the verb
    gives on the classifiers stage's cross-validation run again in memory (same seeds)."""
    import logging

    from radiogenomics.evaluation.nn_cv import cross_validate
    from radiogenomics.interpret import driver_ranking
    from radiogenomics.pipeline.contract import StageContext
    from radiogenomics.pipeline.load import study_data
    from radiogenomics.pipeline.models_stage import _classes, load_autoencoder, load_cv_result
    from radiogenomics.runfolder import RunFolder
    from radiogenomics.utils.seeding import derive_seed

    cfg, _, uninterrupted = drivers_run
    ctx = StageContext("drivers", cfg, RunFolder(cfg.run_dir), logging.getLogger("t"))
    sd = study_data(ctx)
    autoencoder = load_autoencoder(ctx)
    task = "edema"
    rebuilt = load_cv_result(ctx, task)
    cv = cross_validate(
        sd.expression,
        sd.labels(task).astype(str).rename(task),
        rebuilt.config,
        n_splits=cfg.classifiers.folds,
        seed=derive_seed(cfg.seed, "classifiers", task),
        autoencoder=autoencoder,
        keep_models=True,
        task=task,
        classes=_classes(sd, task),
        adjust_folds=True,
        device=cfg.device,
    )
    assert list(cv.labels.index) == list(rebuilt.labels.index)
    assert [f.val_ids for f in cv.folds] == [f.val_ids for f in rebuilt.folds]
    np.testing.assert_allclose(cv.oof_proba.to_numpy(), rebuilt.oof_proba.to_numpy(), rtol=1e-6)
    d = cfg.drivers
    table = driver_ranking(
        cv,
        sd.expression,
        None,
        {name: dict(gs.items()) for name, gs in sd.collections.items()},
        repeats=d.repeats,
        null_draws=d.null_draws,
        nperm=d.nperm,
        seed=derive_seed(cfg.seed, "drivers", task),
        autoencoder=autoencoder,
    )
    stage = uninterrupted[uninterrupted["task"] == task].drop(columns="readout")
    pd.testing.assert_frame_equal(stage.reset_index(drop=True), table.reset_index(drop=True))


@pytest.mark.slow
def test_a_failed_cv_repeats_run_resumes_at_the_task_it_was_on(drivers_run, monkeypatch):
    """With one more repeat asked for, the CV repeats of the second task fail; the rerun keeps
    the first task's runs (their fold models included), trains only the second's and ends
    with the tables of an uninterrupted run, whose first repeat is the one kept before."""
    import radiogenomics.interpret.drivers as drivers_module

    cfg, _, _ = drivers_run
    tables = ("oof", "cv_folds", "folds")

    def read() -> dict[str, pd.DataFrame]:
        return {t: pd.read_parquet(cfg.run_dir / f"cv_repeats/tables/{t}.parquet") for t in tables}

    two = read()
    data = cfg.effective()
    three = load_config(data={**data, "drivers": {**data["drivers"], "repeats": 3}})
    real = drivers_module.repeated_cv
    calls = _record_tasks(monkeypatch, drivers_module, "repeated_cv", real, fail_on="ncet")
    with pytest.raises(RuntimeError, match="planted failure"):
        run_study(three, stage="cv_repeats")
    assert calls == ["edema", "ncet"]
    assert {p.stage: p.action for p in Pipeline(three).plan(stage="cv_repeats")} == {
        "cv_repeats": "resume"
    }
    calls = _record_tasks(monkeypatch, drivers_module, "repeated_cv", real)
    assert {o.stage: o.status for o in run_study(three, stage="cv_repeats")} == {
        "cv_repeats": "done"
    }
    assert calls == ["ncet"]
    resumed = read()
    assert set(resumed["oof"]["repeat"]) == {1, 2}
    first = resumed["oof"][resumed["oof"]["repeat"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, two["oof"])
    run_study(three, stage="cv_repeats", force=True)  # uninterrupted
    for t in tables:
        pd.testing.assert_frame_equal(read()[t], resumed[t], check_exact=False, rtol=1e-6)
    # back to the module's two runs: the same seeds give the same tables
    run_study(cfg, stage="cv_repeats")
    for t in tables:
        pd.testing.assert_frame_equal(read()[t], two[t], check_exact=False, rtol=1e-6)


@pytest.mark.slow
def test_a_new_collection_retrains_no_cv_repeat_and_a_new_repeats_count_does(drivers_run, tmp_path):
    """The driver ranking's extra CV runs live in the ``cv_repeats`` stage, which reads no gene
    set and no driver setting but ``repeats``: a collection added to the study reruns the
    drivers over the same fold models; more repeats train the new runs, and the first repeat,
    drawn from the same seed, is the one kept before."""
    cfg, _, _ = drivers_run
    repeats = cfg.run_dir / "cv_repeats"
    weights = sorted(repeats.glob("models/*/repeat_*/fold_*/weights.safetensors"))
    assert len(weights) == 2 * cfg.classifiers.folds  # one extra run of each task's folds
    written = {p: p.stat().st_mtime_ns for p in weights}
    first_oof = pd.read_parquet(repeats / "tables/oof.parquet")
    assert set(first_oof["repeat"]) == {1} and set(first_oof["task"]) == {"edema", "ncet"}

    genes = pd.read_parquet(cfg.run_dir / "load/expression.parquet").columns[:40]
    gmt = tmp_path / "more.gmt"
    gmt.write_text(
        "".join(f"MORE_{i}\tna\t" + "\t".join(genes[i * 20 : i * 20 + 20]) + "\n" for i in (0, 1))
    )
    data = cfg.effective()
    data["data"]["gene_sets"] = [*data["data"]["gene_sets"], {"name": "more", "path": str(gmt)}]
    more = load_config(data=data)
    outcomes = {o.stage: o.status for o in run_study(more, until="drivers")}
    assert outcomes["load"] == "done" and outcomes["drivers"] == "done"
    assert outcomes["classifiers"] == outcomes["cv_repeats"] == "skipped"
    assert {p: p.stat().st_mtime_ns for p in weights} == written
    ranked = pd.read_parquet(cfg.run_dir / "drivers/tables/drivers.parquet")
    assert set(ranked["collection"]) == {"programmes", "more"}

    more.drivers.repeats = 3
    plan = {p.stage: p.action for p in Pipeline(more).plan(until="drivers")}
    assert plan["cv_repeats"] == "run" and plan["classifiers"] == "skip"
    outcomes = {o.stage: o.status for o in run_study(more, until="drivers")}
    assert outcomes["cv_repeats"] == outcomes["drivers"] == "done"
    oof = pd.read_parquet(repeats / "tables/oof.parquet")
    assert set(oof["repeat"]) == {1, 2}
    pd.testing.assert_frame_equal(
        oof[oof["repeat"] == 1].reset_index(drop=True), first_oof.reset_index(drop=True)
    )
    assert len(list(repeats.glob("models/*/repeat_2/fold_*/weights.safetensors"))) == 2 * (
        cfg.classifiers.folds
    )
