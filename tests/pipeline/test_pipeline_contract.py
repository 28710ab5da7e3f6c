"""The stage contract: a stage reads only the settings it fingerprints.

The walk changes every setting of the study config, one at a time, over a run folder whose
stages all finished, and asks the pipeline what it would rerun: exactly the stages that read the
setting (and, after them, what depends on their outputs); every other stage stays up to date.
"""

from __future__ import annotations

import ast
import typing
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import pytest
from pydantic import BaseModel

from radiogenomics.config import StudyConfig, load_config
from radiogenomics.pipeline.contract import (
    ALL,
    AMBIENT,
    LOAD_PARTS,
    ConfigView,
    StageContext,
    UndeclaredSettingError,
    declared_settings,
)
from radiogenomics.pipeline.runner import Pipeline
from radiogenomics.pipeline.stages import STAGE_TABLE
from radiogenomics.runfolder import RunFolder
from study_configs import synthetic_study

SRC = Path(__file__).resolve().parents[2] / "src" / "radiogenomics"


def _study(tmp_path: Path) -> dict[str, Any]:
    study = synthetic_study(
        tmp_path, name="walk", seed=1, n_patients=60, n_genes=200, executor={"kind": "local"}
    )
    study["synthetic"]["enabled"] = False  # no files are read: fingerprints only
    study["data"]["gene_sets"].append({"name": "more", "path": "more.gmt"})
    study["data"]["subtypes"] = "subtypes.tsv"
    return study


def _leaves(model: BaseModel, prefix: str = "") -> list[tuple[str, Any, Any]]:
    """(dotted key, annotation, value) of every leaf setting."""
    out = []
    for name, info in type(model).model_fields.items():
        key = f"{prefix}{name}"
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            out += _leaves(value, key + ".")
        else:
            out.append((key, info.annotation, value))
    return out


# Settings whose valid values are names defined elsewhere in the study or the library.
VOCABULARY = {
    "bootstrap.models": [["logreg_l2"], ["logreg_l1"]],
    "baselines.models": [["logreg_l2"], ["logreg_l1"]],
    "masking.collections": [["more"]],
    "enrichment.collections": [["more"]],
    "drivers.collections": [["more"]],
    "radiogenomic_traits.collections": [["more"]],
    "baselines.grids": [{"logreg_l2": {"C": [0.1]}}],
    "masking.driver_groups": [{"ecm": ["SYN_EMT"]}],
}
# Valid only together with another change (readout 'out_of_fold' needs it; the classifiers'
# grid transfers the autoencoder's encoder, so it must exist and keep its sizes): covered end to
# end by test_pipeline_checks.py and the toy runner tests instead.
NOT_ALONE = {"masking.out_of_fold", "autoencoder.enabled", "autoencoder.grid.hidden"}
# Properties of the config that stages declare instead of the settings they are made of: a
# setting reruns such a stage exactly when the derived value changes.
DERIVED = {"keep_fold_models": ("masking.enabled", "masking.out_of_fold", "drivers.enabled")}


def _alternatives(annotation: Any, value: Any) -> list[Any]:
    """Other values of a setting's type, to try until one validates."""
    if isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return [[v.model_dump(mode="json") for v in value[:-1]]]
    origin = get_origin(annotation)
    args = [a for a in get_args(annotation) if a is not type(None)]
    if origin is typing.Union or (origin is not None and type(None) in get_args(annotation)):
        return [a for arg in args for a in _alternatives(arg, value)] + [None]
    if origin is typing.Annotated:
        return _alternatives(args[0], value)
    if origin is Literal:
        return [a for a in args if a != value]
    if annotation is bool:
        return [not value]
    if annotation is int:
        return [value + 1, value - 1] if isinstance(value, int) else [3]
    if annotation is float:
        v = value if isinstance(value, float) else 0.0
        return [x for x in (v + 0.1, v * 0.5, v - 0.01, 0.2) if x != value]
    if annotation is str:
        return ["other"]
    if annotation is Path:
        return ["other.txt"]
    if origin in (list, tuple):
        item = args[0] if args else int
        if isinstance(value, (list, tuple)) and value:
            return [list(value) + [v] for v in _alternatives(item, value[0])] + [list(value)[:-1]]
        return [[v] for v in _alternatives(item, None)]
    return []


def _variant(base: dict[str, Any], key: str, new: Any) -> StudyConfig | None:
    data: dict[str, Any] = __import__("copy").deepcopy(base)
    node = data
    parts = key.split(".")
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = new
    try:
        return load_config(data=data, check_files=False)
    except ValueError:
        return None


def _finished_folder(cfg: StudyConfig) -> Pipeline:
    """A run folder in which every stage finished under ``cfg`` (manifests only)."""
    pipe = Pipeline(cfg)
    for name in pipe.stages:
        fp = pipe.fingerprint(name)
        pipe.folder.write_manifest(
            name,
            {
                "status": "done",
                "fingerprint": {"hash": fp["hash"]},
                "settings": fp["settings"],
                "outputs": {},
                "output_hash": f"out-{name}",
            },
        )
    return pipe


def _readers(key: str, before: StudyConfig | None = None, after: StudyConfig | None = None):
    """The stages whose declared settings hold ``key`` (through a derived one, when its value
    differs between ``before`` and ``after``)."""
    keys = {key} | {
        d
        for d, parts in DERIVED.items()
        if key in parts and before is not None and getattr(before, d) != getattr(after, d)
    }
    return {
        name
        for name, st in STAGE_TABLE.items()
        if any(r == ALL or k == r or k.startswith(r + ".") for r in st.reads for k in keys)
    }


def _downstream(stages: set[str]) -> set[str]:
    out = set(stages)
    for name, st in STAGE_TABLE.items():  # in order: upstream first
        if (set(st.requires) | set(st.uses)) & out:
            out.add(name)
    return out


def test_every_setting_reruns_exactly_the_stages_that_read_it(tmp_path, monkeypatch):
    monkeypatch.setattr(
        "radiogenomics.pipeline.runner.STAGE_TABLE",
        {k: v.__class__(**{**v.__dict__, "inputs": None}) for k, v in STAGE_TABLE.items()},
    )
    base = _study(tmp_path)
    cfg = load_config(data=base, check_files=False)
    _finished_folder(cfg)
    assert {p.action for p in Pipeline(cfg).plan()} == {"skip"}
    walked, skipped = 0, []
    for key, annotation, value in _leaves(cfg):
        if key in AMBIENT or any(key.startswith(a + ".") for a in AMBIENT) or key == "source":
            continue
        options = VOCABULARY.get(key) or _alternatives(annotation, value)
        if not options:  # a setting with one allowed value (e.g. survival.criterion)
            continue
        variant = next(
            (v for alt in options if alt != value and (v := _variant(base, key, alt))), None
        )
        if variant is None:
            skipped.append(key)
            continue
        actions = {p.stage: p.action for p in Pipeline(variant).plan()}
        readers = set(STAGE_TABLE) if key == "seed" else _readers(key, cfg, variant)
        rerun = {s for s, a in actions.items() if a == "run"}
        if key.endswith(".enabled"):  # switching a stage off sets it aside: the stages that
            stage = key.split(".")[0]  # read its outputs then rerun or are set aside too
            readers.discard(stage)
            rerun -= _downstream({stage}) - readers
        later = {s for s, a in actions.items() if a == "after upstream"}
        assert rerun == readers, (key, rerun, readers)
        assert later <= _downstream(readers) - readers, (key, later)
        skipped_stages = {s for s, a in actions.items() if a == "skip"}
        assert skipped_stages.isdisjoint(readers), key
        walked += 1
    assert walked > 60, (walked, skipped)
    assert set(skipped) <= NOT_ALONE, skipped


def test_switching_the_drivers_off_retrains_no_classifier_while_masking_keeps_fold_models(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(
        "radiogenomics.pipeline.runner.STAGE_TABLE",
        {k: replace(v, inputs=None) for k, v in STAGE_TABLE.items()},
    )
    base = _study(tmp_path)
    base["masking"] = {**base.get("masking", {}), "out_of_fold": True, "readout": "retrained"}
    cfg = load_config(data=base, check_files=False)
    assert cfg.keep_fold_models
    _finished_folder(cfg)
    off = _variant(base, "drivers.enabled", False)
    assert off.keep_fold_models  # out-of-fold masking still keeps them
    plan = {p.stage: p for p in Pipeline(off).plan()}
    assert plan["classifiers"].action == "skip" and plan["drivers"].action == "disabled"
    # the CV repeats have no section of their own: the plan names the switch they follow
    assert plan["cv_repeats"].action == "disabled"
    assert plan["cv_repeats"].reason == "drivers.enabled = false"
    base["masking"]["out_of_fold"] = False
    neither = _variant(base, "drivers.enabled", False)
    assert not neither.keep_fold_models
    assert {p.stage: p.action for p in Pipeline(neither).plan()}["classifiers"] == "run"


def test_a_stage_whose_method_changed_reruns_in_folders_made_before(tmp_path, monkeypatch):
    """A raised revision reruns the stage (and what reads its outputs) though no setting
    changed; revision 1 is not fingerprinted, so folders from before revisions stay valid."""
    table = {k: replace(v, inputs=None, revision=1) for k, v in STAGE_TABLE.items()}
    monkeypatch.setattr("radiogenomics.pipeline.runner.STAGE_TABLE", table)
    cfg = load_config(data=_study(tmp_path), check_files=False)
    first = Pipeline(cfg).fingerprint("drivers")
    assert "revision" not in first
    _finished_folder(cfg)
    assert {p.action for p in Pipeline(cfg).plan()} == {"skip"}
    table["drivers"] = replace(table["drivers"], revision=2)
    assert Pipeline(cfg).fingerprint("drivers")["hash"] != first["hash"]
    actions = {p.stage: p.action for p in Pipeline(cfg).plan()}
    assert actions["drivers"] == "run"
    assert {s for s, a in actions.items() if a == "run"} == {"drivers"}
    assert {s for s, a in actions.items() if a != "skip"} <= _downstream({"drivers"})
    assert STAGE_TABLE["drivers"].revision >= 2  # the consensus changed in revision 2


def _load_outputs(**changed: str) -> dict[str, str]:
    """The load stage's output files' contents, those of the ``changed`` parts new."""
    return {
        f: f"{changed.get(part, 'h')}-{f}" for part, files in LOAD_PARTS.items() for f in files
    } | {"tables/cohort_summary.parquet": changed.get("summary", "h")}


@pytest.mark.parametrize("part", [*LOAD_PARTS, "summary"])
def test_a_changed_load_output_reruns_only_the_stages_that_read_it(tmp_path, monkeypatch, part):
    """A clinical fix reruns survival, not the networks; a new collection retrains nothing."""
    table = {k: replace(v, inputs=None) for k, v in STAGE_TABLE.items()}
    monkeypatch.setattr("radiogenomics.pipeline.runner.STAGE_TABLE", table)
    cfg = load_config(data=_study(tmp_path), check_files=False)
    pipe = Pipeline(cfg)

    def finish(name: str, contents: dict[str, str]) -> None:
        for rel, text in contents.items():  # a finished stage's outputs are on disk
            (pipe.folder.stage_dir(name) / rel).parent.mkdir(parents=True, exist_ok=True)
            (pipe.folder.stage_dir(name) / rel).write_text(text)
        outputs = pipe.folder.outputs(name)
        fp = pipe.fingerprint(name)
        pipe.folder.write_manifest(
            name,
            {"status": "done", "fingerprint": {"hash": fp["hash"]}, "settings": fp["settings"],
             "outputs": outputs, "output_hash": RunFolder.output_hash(outputs)},
        )  # fmt: skip

    finish("load", _load_outputs())
    for name in list(pipe.stages)[1:]:
        finish(name, {})
    assert {p.action for p in Pipeline(cfg).plan()} == {"skip"}
    # the load stage reran (say, on a corrected clinical file) and only this part changed
    finish("load", _load_outputs(**{part: "new"}))
    actions = {p.stage: p.action for p in Pipeline(cfg).plan()}
    readers = {n for n, st in table.items() if st.load_parts is not None and part in st.load_parts}
    assert {s for s, a in actions.items() if a == "run"} - {"report"} == readers
    assert actions["report"] in ("run", "after upstream")  # it reads every load output
    later = {s for s, a in actions.items() if a == "after upstream"} - {"report"}
    assert later <= _downstream(readers) - readers
    if part == "clinical":
        assert readers == {"survival"}
    if part == "gene_sets":
        assert not readers & {"autoencoder", "classifiers", "baselines", "bootstrap", "saliency"}
    if part == "summary":  # the cohort summary feeds the report alone
        assert readers == set() and actions["report"] == "run"


def test_a_stage_may_read_only_the_load_outputs_it_declares(tmp_path):
    folder = RunFolder(tmp_path / "run")
    ctx = StageContext("classifiers", None, folder, None, load_parts=("cohort",))
    assert ctx.load_file("expression.parquet") == folder.stage_dir("load") / "expression.parquet"
    assert ctx.reads_load("cohort") and not ctx.reads_load("clinical")
    with pytest.raises(UndeclaredSettingError, match="'tables/clinical.parquet'.*'cohort'"):
        ctx.read("load", "clinical")
    with pytest.raises(UndeclaredSettingError, match="gene_sets"):
        ctx.has_table("load", "gene_sets")
    everything = StageContext("report", None, folder, None, load_parts=None)
    assert everything.reads_load("clinical")
    assert everything.load_file("tables/clinical.parquet").name == "clinical.parquet"


def test_settings_outside_a_stage_are_refused_when_it_reads_them(tmp_path):
    cfg = load_config(data=_study(tmp_path), check_files=False)
    view = ConfigView(cfg, "saliency", ("saliency", "masking.top"))
    assert view.saliency.method == cfg.saliency.method
    assert view.masking.top == cfg.masking.top
    assert view.device == cfg.device and view.seed == cfg.seed  # ambient, always readable
    with pytest.raises(UndeclaredSettingError, match="'masking.null_draws'"):
        view.masking.null_draws  # noqa: B018
    with pytest.raises(UndeclaredSettingError, match="'classifiers'"):
        view.classifiers  # noqa: B018
    with pytest.raises(UndeclaredSettingError, match="may not change"):
        view.masking.top = 3


def test_fingerprints_ignore_where_the_files_are_and_how_the_work_runs(tmp_path):
    base = _study(tmp_path)
    a = load_config(data=base, check_files=False)
    moved = {**base, "data": {**base["data"], "root": "/elsewhere"}, "device": "cpu"}
    moved["executor"] = {"kind": "local", "workers": 1}
    b = load_config(data=moved, check_files=False)
    for name, st in STAGE_TABLE.items():
        if ALL in st.reads:
            continue
        assert declared_settings(a, st.reads) == declared_settings(b, st.reads), name


def _imports(path: Path) -> set[str]:
    """Every radiogenomics module a file imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.startswith("radiogenomics.")}


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def test_no_import_circles_in_the_pipeline_and_the_report_does_not_import_it():
    files = {_module(p): p for p in (SRC / "pipeline").glob("*.py")}
    graph = {m: {i for i in _imports(p) if i in files} - {m} for m, p in files.items()}
    # a submodule import runs the package's __init__ first: not a dependency of the importer
    graph = {m: deps - {"radiogenomics.pipeline"} for m, deps in graph.items()}
    state: dict[str, int] = {}

    def visit(m: str, path: list[str]) -> None:
        state[m] = 1
        for d in graph[m]:
            assert state.get(d) != 1, " -> ".join([*path, m, d])
            if d not in state:
                visit(d, [*path, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])
    for p in (SRC / "report").rglob("*.py"):
        assert not any(i.startswith("radiogenomics.pipeline") for i in _imports(p)), p


def test_the_report_and_the_recovery_table_read_through_the_run_folder_module():
    for p in [*(SRC / "report").rglob("*.py"), SRC / "pipeline" / "recovery.py"]:
        text = p.read_text()
        assert "manifest.json" not in text and "read_parquet" not in text.replace(
            "pd.read_parquet(path)", ""
        ), p
    assert RunFolder.__module__ == "radiogenomics.runfolder"
