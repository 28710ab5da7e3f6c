"""The stage runner on small arithmetic stages: skipping, invalidation, resume, manifests."""

from __future__ import annotations

import hashlib
import json
import os
import time

import numpy as np
import pandas as pd
import pytest

from radiogenomics.config import load_config
from radiogenomics.errors import InputError
from radiogenomics.pipeline import Pipeline, Stage, StageSkipped
from radiogenomics.utils.io import read_table

CALLS: list[str] = []
FAIL_AT: dict[str, int] = {}
EDIT_INPUT: list[str] = []  # text the toy 'load' writes into its input before reading it


def _numbers(ctx):
    """'load': reads the input CSV, writes its values times the seed-derived factor."""
    CALLS.append("load")
    time.sleep(float(os.environ.get("TOY_SLEEP", "0")))  # the lock tests hold the folder
    path = ctx.files["data.expression"]
    if EDIT_INPUT:  # the input is edited between the fingerprint and the read
        path.write_text(EDIT_INPUT.pop())
    df = pd.read_csv(path)
    df["y"] = df["x"] * (1 + ctx.cfg.seed)
    ctx.table(df, "numbers")
    return {"rows": len(df)}


def _squares(ctx):
    """'autoencoder': one unit per row, each persisted before the next starts."""
    CALLS.append("autoencoder")
    df = ctx.read("load", "numbers")
    power = ctx.cfg.autoencoder.max_epochs
    for i, y in enumerate(df["y"]):
        key = f"row-{i}"
        if ctx.unit_done(key):
            continue
        if FAIL_AT.get("autoencoder") == i:
            raise RuntimeError("killed")
        CALLS.append(key)
        ctx.table(pd.DataFrame({"i": [i], "v": [float(y) ** power]}), f"unit_{i}")
        ctx.mark_unit(key)
    parts = [ctx.read("autoencoder", f"unit_{i}") for i in range(len(df))]
    ctx.table(pd.concat(parts, ignore_index=True), "powers")


def _total(ctx):
    """'classifiers': sums upstream; uses the optional 'baselines'."""
    CALLS.append("classifiers")
    total = ctx.read("autoencoder", "powers")["v"].sum()
    ctx.table(pd.DataFrame({"total": [total]}), "total")


def _never(ctx):
    raise StageSkipped("nothing to do here")


def _stages():
    return {
        "load": Stage(
            "load",
            _numbers,
            reads=("data",),
            inputs=lambda c: c.data_files(),
        ),
        "autoencoder": Stage("autoencoder", _squares, requires=("load",), reads=("autoencoder",)),
        "classifiers": Stage("classifiers", _total, requires=("autoencoder",)),
        "baselines": Stage("baselines", _never, requires=("classifiers",)),
    }


@pytest.fixture
def study(tmp_path):
    (tmp_path / "in.csv").write_text("x\n1\n2\n3\n")
    CALLS.clear()
    FAIL_AT.clear()
    EDIT_INPUT.clear()

    def make(**over):
        data = {
            "name": "toy",
            "out": str(tmp_path / "runs"),
            "quiet": True,
            "data": {"expression": str(tmp_path / "in.csv")},
            "autoencoder": {"max_epochs": 2},
        }
        for k, v in over.items():
            data.setdefault(k, {}).update(v) if isinstance(v, dict) else data.update({k: v})
        return Pipeline(load_config(data=data), stages=_stages())

    return make


def _statuses(outcomes):
    return {o.stage: o.status for o in outcomes}


def test_second_run_skips_everything_and_manifest_says_why(study, tmp_path):
    out = study().run()
    assert _statuses(out) == {
        "load": "done",
        "autoencoder": "done",
        "classifiers": "done",
        "baselines": "not-run",
    }
    total = read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"][0]
    assert total == pytest.approx(1**2 + 2**2 + 3**2)
    CALLS.clear()
    out = study().run()
    assert CALLS == [] and _statuses(out)["classifiers"] == "skipped"

    m = json.loads((tmp_path / "runs/toy/load/manifest.json").read_text())
    assert m["status"] == "done" and m["seed"] == 0 and m["seconds"] >= 0
    expected = hashlib.sha256((tmp_path / "in.csv").read_bytes()).hexdigest()
    assert m["inputs"] == {"data.expression": expected}
    assert m["settings"]["data"]["expression"] == "in.csv"
    assert {"python", "numpy", "pandas", "torch", "radiogenomics"} <= set(m["versions"])
    table_hash = hashlib.sha256(
        (tmp_path / "runs/toy/load/tables/numbers.parquet").read_bytes()
    ).hexdigest()
    assert m["outputs"]["tables/numbers.parquet"] == table_hash
    down = json.loads((tmp_path / "runs/toy/autoencoder/manifest.json").read_text())
    assert down["upstream"] == {"load": m["output_hash"]}
    assert json.loads((tmp_path / "runs/toy/baselines/manifest.json").read_text())["reason"] == (
        "nothing to do here"
    )
    assert (tmp_path / "runs/toy/config.toml").is_file()
    assert "stage load: done" in (tmp_path / "runs/toy/run.log").read_text()


def test_changed_input_or_config_reruns_exactly_what_depends_on_it(study, tmp_path):
    study().run()
    CALLS.clear()
    study(autoencoder={"max_epochs": 3}).run()  # only the autoencoder's config changed
    assert CALLS[0] == "autoencoder" and "load" not in CALLS and "classifiers" in CALLS
    CALLS.clear()
    (tmp_path / "in.csv").write_text("x\n1\n2\n5\n")
    study(autoencoder={"max_epochs": 3}).run()
    assert CALLS[0] == "load" and "classifiers" in CALLS
    total = read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"][0]
    assert total == pytest.approx(1**3 + 2**3 + 5**3)
    CALLS.clear()
    study(seed=1, autoencoder={"max_epochs": 3}).run(until="load")  # seed changes all
    assert CALLS == ["load"]


def test_force_stage_and_until_select_work(study):
    study().run(until="autoencoder")
    assert "classifiers" not in CALLS
    CALLS.clear()
    study().run(stage="autoencoder", force=True)
    assert CALLS[0] == "autoencoder" and "load" not in CALLS and "classifiers" not in CALLS
    with pytest.raises(InputError, match="unknown stage 'bogus'"):
        study().run(stage="bogus")
    with pytest.raises(InputError, match="either --stage or --until"):
        study().run(stage="load", until="load")


def test_stage_whose_upstream_never_ran_is_refused_with_the_fix(study):
    # the advice runs up to the stage asked for (the first missing one named may not be all
    # it needs: the real drivers stage needs load and classifiers)
    with pytest.raises(InputError, match=r"needs stage 'autoencoder'.*--until classifiers"):
        study().run(stage="classifiers")
    assert _statuses(study().run(until="classifiers"))["classifiers"] == "done"  # the advice
    assert _statuses(study().run(stage="classifiers"))["classifiers"] == "skipped"


def test_interrupted_stage_resumes_from_its_finished_units(study, tmp_path):
    FAIL_AT["autoencoder"] = 2
    with pytest.raises(RuntimeError, match="killed"):
        study().run()
    # the attempt is recorded in the stage's staging folder; nothing was published
    m = json.loads((tmp_path / "runs/toy/.staging/autoencoder/manifest.json").read_text())
    assert m["status"] == "failed" and "killed" in m["error"]
    assert not (tmp_path / "runs/toy/autoencoder").exists()
    assert (tmp_path / "runs/toy/load/manifest.json").is_file()  # earlier work kept
    FAIL_AT.clear()
    CALLS.clear()
    study().run()
    assert CALLS == ["autoencoder", "row-2", "classifiers"]  # rows 0 and 1 were not redone
    resumed = read_table(tmp_path / "runs/toy/classifiers/tables/total")
    CALLS.clear()
    study().run(force=True)
    assert "row-0" in CALLS
    pd.testing.assert_frame_equal(
        resumed, read_table(tmp_path / "runs/toy/classifiers/tables/total")
    )


def test_a_unit_whose_files_were_lost_or_damaged_is_recomputed_not_used(study, tmp_path):
    """A unit record is kept only with the files its unit wrote, as written: a unit table
    deleted from the interrupted attempt, or a unit record truncated, is recomputed (the run
    neither failed on the missing table at every rerun nor on the unreadable record)."""
    FAIL_AT["autoencoder"] = 2
    with pytest.raises(RuntimeError, match="killed"):
        study().run()
    staging = tmp_path / "runs/toy/.staging/autoencoder"
    (staging / "tables/unit_0.parquet").unlink()
    (staging / ".units/row-1.json").write_text('{"unit": "row')
    FAIL_AT.clear()
    plan = {p.stage: p for p in study().plan()}
    assert plan["autoencoder"].action == "resume"
    assert "no unit had finished" in plan["autoencoder"].reason
    CALLS.clear()
    study().run()
    assert CALLS == ["autoencoder", "row-0", "row-1", "row-2", "classifiers"]
    resumed = read_table(tmp_path / "runs/toy/classifiers/tables/total")
    study().run(force=True)
    pd.testing.assert_frame_equal(
        resumed, read_table(tmp_path / "runs/toy/classifiers/tables/total")
    )


def test_an_input_edited_while_a_stage_reads_it_is_not_recorded_as_the_earlier_one(study, tmp_path):
    """The fingerprint hashes the inputs before the stage reads them; had the results read
    from the edit been published under the earlier hash, restoring the earlier file would
    have reused them as its own."""
    original = (tmp_path / "in.csv").read_text()
    EDIT_INPUT.append("x\n5\n")
    with pytest.raises(InputError, match="data.expression changed while stage 'load' read it"):
        study().run()
    assert not (tmp_path / "runs/toy/load").exists()
    (tmp_path / "in.csv").write_text(original)
    study().run()
    total = read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"][0]
    assert total == pytest.approx(1**2 + 2**2 + 3**2)


def test_disabled_stage_is_recorded_and_restored_when_reenabled(study, tmp_path):
    study().run()
    CALLS.clear()
    out = study(autoencoder={"enabled": False}).run()
    assert _statuses(out)["autoencoder"] == "disabled"
    assert _statuses(out)["classifiers"] == "not-run"  # it requires the autoencoder
    CALLS.clear()
    out = study().run()  # re-enabled, nothing changed: earlier results are still valid
    assert "autoencoder" not in CALLS and _statuses(out)["autoencoder"] == "skipped"


def test_unwritable_run_folder_is_a_clear_error(tmp_path, study):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    p = study(out=str(blocker / "runs"))
    with pytest.raises(InputError, match="cannot write to the run folder"):
        p.run()


def test_missing_output_file_makes_the_stage_rerun(study, tmp_path):
    study().run()
    (tmp_path / "runs/toy/autoencoder/tables/powers.csv").unlink()
    plan = {p.stage: p for p in study().plan()}
    assert plan["autoencoder"].reason == "outputs missing since written: tables/powers.csv"
    CALLS.clear()
    study().run()
    assert CALLS[0] == "autoencoder"
    assert np.isfinite(read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"]).all()
    (tmp_path / "runs/toy/load/manifest.json").write_text("{not json")
    plan = {p.stage: p for p in study().plan()}
    assert plan["load"].reason == "its manifest.json is unreadable"  # not "never finished"


def test_an_output_changed_in_place_is_recomputed_not_used(study, tmp_path):
    """The manifest's SHA-256 of each output is checked: a table edited or truncated after the
    stage wrote it reruns the stage instead of feeding the stages after it."""
    study().run()
    total = tmp_path / "runs/toy/classifiers/tables/total.parquet"
    good = read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"].iloc[0]
    powers = tmp_path / "runs/toy/autoencoder/tables/powers.parquet"
    edited = pd.read_parquet(powers).assign(v=0.999)
    edited.to_parquet(powers, index=False)
    plan = {p.stage: p for p in study().plan()}
    assert plan["autoencoder"].action == "run"
    assert plan["autoencoder"].reason == "outputs changed since written: tables/powers.parquet"
    CALLS.clear()
    study().run()
    assert CALLS[0] == "autoencoder" and "classifiers" not in CALLS  # same values once redone
    assert read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"].iloc[0] == good
    with open(total, "r+b") as fh:  # truncated: rerun, not an Arrow traceback downstream
        fh.truncate(50)
    CALLS.clear()
    study().run()
    assert CALLS == ["classifiers"]
    assert read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"].iloc[0] == good


def test_the_plan_after_a_lost_manifest_waits_on_the_stage_that_reruns(study, tmp_path):
    """A stage whose manifest was deleted reruns; the stages after it depend on whether its
    outputs change ("after upstream"), as when its outputs were damaged, not "run"."""
    study().run()
    (tmp_path / "runs/toy/autoencoder/manifest.json").unlink()
    plan = {p.stage: (p.action, p.reason) for p in study().plan()}
    assert plan["autoencoder"] == ("run", "never finished")
    assert plan["classifiers"] == ("after upstream", "upstream: autoencoder")
    CALLS.clear()
    out = study().run()
    assert _statuses(out)["classifiers"] == "skipped" and "classifiers" not in CALLS


def test_one_stage_alone_refuses_stale_upstream_results(study, tmp_path):
    """`--stage classifiers` after an autoencoder setting changed would read results trained
    with the old setting and present them as the new config's (and the report would say so)."""
    study().run()
    config_before = (tmp_path / "runs/toy/config.json").read_bytes()
    CALLS.clear()
    with pytest.raises(InputError) as err:
        study(autoencoder={"max_epochs": 3}).run(stage="classifiers", force=True)
    text = str(err.value)
    assert "stage 'classifiers' would read results the config no longer describes" in text
    assert "autoencoder (settings changed: autoencoder.max_epochs)" in text
    assert "--until classifiers" in text
    assert CALLS == [] and (tmp_path / "runs/toy/config.json").read_bytes() == config_before
    out = study(autoencoder={"max_epochs": 3}).run(until="classifiers")  # the advice works
    assert _statuses(out)["classifiers"] == "done"
    total = read_table(tmp_path / "runs/toy/classifiers/tables/total")["total"][0]
    assert total == pytest.approx(1**3 + 2**3 + 3**3)
    CALLS.clear()
    out = study(autoencoder={"max_epochs": 3}).run(stage="classifiers", force=True)
    assert CALLS == ["classifiers"]  # upstream current: one stage alone is fine


def test_the_plan_says_what_the_run_then_does_when_a_stage_is_switched_off_and_on(study):
    """check's plan used to call a stage whose required stage was switched off "skip", and a
    stage after a re-enabled one "run", where the run set it aside and skipped it."""
    as_outcome = {"skip": "skipped", "run": "done", "not-run": "not-run", "disabled": "disabled"}
    study().run()
    for over in ({"autoencoder": {"enabled": False}}, {}):
        plan = {p.stage: as_outcome[p.action] for p in study(**over).plan()}
        ran = _statuses(study(**over).run())
        # 'baselines' skips itself while running (StageSkipped), which no plan can foresee
        assert {k: v for k, v in plan.items() if k != "baselines"} == {
            k: v for k, v in ran.items() if k != "baselines"
        }, over
    assert plan["autoencoder"] == plan["classifiers"] == "skipped"  # earlier results reused


def test_a_stage_the_config_rules_out_is_planned_and_recorded_as_not_run(study, tmp_path):
    """A stage that could only find out while running that it cannot run (no clinical data, no
    gene sets) was planned "run" by check; with ``skips`` the plan says why, and the run sets
    it aside without calling it."""
    as_outcome = {"skip": "skipped", "run": "done", "not-run": "not-run", "disabled": "disabled"}
    stages = _stages()
    stages["baselines"] = Stage(
        "baselines",
        _never,
        requires=("classifiers",),
        skips=lambda cfg: None if cfg.data.clinical else "no clinical data in the config",
    )
    pipe = study()
    pipe.stages = stages
    plan = pipe.plan()
    assert [(p.action, p.reason) for p in plan if p.stage == "baselines"] == [
        ("not-run", "no clinical data in the config")
    ]
    ran = _statuses(pipe.run())
    assert {p.stage: as_outcome[p.action] for p in plan} == ran
    manifest = json.loads((tmp_path / "runs/toy/baselines/manifest.json").read_text())
    assert manifest["reason"] == "no clinical data in the config"
    assert {p.stage: p.action for p in pipe.plan()}["baselines"] == "not-run"


def test_the_study_stages_rule_out_survival_and_gene_set_stages_from_the_config(tmp_path):
    from radiogenomics.pipeline.stages import STAGE_TABLE

    (tmp_path / "x.csv").write_text("x\n1\n")
    bare = load_config(data={"name": "s", "data": {"expression": str(tmp_path / "x.csv")}})
    why = {n: st.skip_reason(bare) for n, st in STAGE_TABLE.items()}
    assert why["survival"] == "no clinical data in the config (data.clinical)"
    for name in ("enrichment", "cv_repeats", "drivers", "radiogenomic_traits"):
        assert why[name] == "no gene-set collection in the config (data.gene_sets)"
    assert {n for n, w in why.items() if w} == {
        "survival",
        "enrichment",
        "cv_repeats",
        "drivers",
        "radiogenomic_traits",
    }
    full = load_config(
        data={
            "name": "s",
            "data": {
                "expression": str(tmp_path / "x.csv"),
                "clinical": str(tmp_path / "x.csv"),
                "gene_sets": [{"name": "h", "path": str(tmp_path / "x.csv")}],
            },
        }
    )
    assert not any(st.skip_reason(full) for st in STAGE_TABLE.values())


def test_the_advice_against_stale_upstream_names_the_study_file(tmp_path):
    """The advice read "radiogenomics run CONFIG --until ..." with a placeholder a user had to
    replace; it names the study file now."""
    (tmp_path / "in.csv").write_text("x\n1\n2\n")
    study = tmp_path / "study.toml"

    def write(epochs: int) -> None:
        study.write_text(
            f'name = "toy"\nout = "{tmp_path / "runs"}"\nquiet = true\n'
            f'[data]\nexpression = "in.csv"\n[autoencoder]\nmax_epochs = {epochs}\n'
        )

    write(2)
    Pipeline(load_config(study), stages=_stages()).run()
    write(3)
    with pytest.raises(InputError) as err:
        Pipeline(load_config(study), stages=_stages()).run(stage="classifiers")
    assert f"radiogenomics run {study} --until classifiers" in str(err.value)


def test_why_a_stage_reruns_tells_a_changed_setting_from_a_new_one_and_a_revision():
    """After an upgrade a stage may rerun because the version added a setting or revised the
    method; the plan says which rather than calling every difference a change."""
    from radiogenomics.pipeline.runner import _what_changed

    fp = {
        "settings": {"drivers": {"alpha": 0.01, "programme_seeds": 3}},
        "inputs": {},
        "upstream": {},
        "seed": 0,
        "version": "1",
        "revision": 6,
    }
    old = {"settings": {"drivers": {"alpha": 0.05, "gate": 1}}, "revision": 6, "seed": 0}
    assert _what_changed(old, fp) == (
        "settings changed: drivers.alpha; new settings, absent when it last ran: "
        "drivers.programme_seeds; settings no longer read: drivers.gate"
    )
    same = {"settings": fp["settings"], "seed": 0}
    assert _what_changed({**same, "revision": 5}, fp) == (
        "the stage's method was revised (revision 5 -> 6)"
    )
    # a gene-set file added to the study; a stage that now reads another stage's outputs
    moved = {
        **fp,
        "inputs": {"data.expression": "e1", "data.gene_sets[1].path (more)": "g"},
        "upstream": {"classifiers": "c2", "cv_repeats": "r"},
    }
    before = {
        **same,
        "revision": 6,
        "inputs": {"data.expression": "e0"},
        "upstream": {"classifiers": "c1", "autoencoder": "a"},
    }
    assert _what_changed(before, moved) == (
        "inputs changed: data.expression; new inputs: data.gene_sets[1].path (more); "
        "upstream changed: classifiers; new upstream: cv_repeats; "
        "upstream no longer read: autoencoder"
    )
    # a manifest from before revisions were recorded: the general reason
    assert _what_changed(same, fp) == "the stage's method was revised"
