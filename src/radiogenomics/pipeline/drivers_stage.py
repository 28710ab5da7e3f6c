"""Stages ``cv_repeats`` and ``drivers``: the gene sets that drive each trait, ranked by
:func:`radiogenomics.interpret.driver_ranking` (docs/results.md, "Driver recovery").

``cv_repeats`` runs, per task, the ``drivers.repeats - 1`` extra cross-validations of the
chosen network on new fold splits (executor units, seeds derived from the study seed) and keeps
their fold models; it reads no gene set, so a new collection or a changed driver setting other
than ``repeats`` retrains none of them. ``drivers`` then works one unit per task: the
classifiers stage's cross-validation and those runs (rebuilt with their fold models), set
masking against a size-matched null, correlation GSEA (the naive peer), the programme network
and the driver calls. The table ``drivers`` holds every set of every collection with the
chosen read-out's score, rank, p, q and call, and the evidence of each read-out beside it.
"""

from __future__ import annotations

import logging

import pandas as pd

from radiogenomics.interpret.drivers import PROGRAMME_COLUMNS
from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.load import study_data
from radiogenomics.pipeline.models_stage import (
    cv_tables,
    load_autoencoder,
    load_cv_result,
    load_fold_models,
    rebuild_cv,
    save_fold_models,
    task_dir,
)
from radiogenomics.utils.seeding import derive_seed
from radiogenomics.utils.text import count

#: Rows per (task, class, collection) in ``drivers_top``, the report's table.
TOP = 10
_TOP_COLUMNS = [
    "task",
    "class",
    "collection",
    "rank",
    "set",
    "size",
    "score",
    "p",
    "q",
    "called",
    "masking_ap",
    "masking_auc",
    "masking_rank",
    "correlation_nes",
    "correlation_rank",
    *PROGRAMME_COLUMNS,
]


#: A step of a task's ranking this slow is said on the console too; run.log has every step.
SLOW_STEP_SECONDS = 10.0


def _step_logger(ctx, task: str):
    """``on_step`` for one task: each step and its seconds to run.log, the slow ones (a
    ranking can take minutes on a real cohort) to the console as well."""

    def log(what: str, seconds: float) -> None:
        level = logging.INFO if seconds >= SLOW_STEP_SECONDS else logging.DEBUG
        ctx.log.log(level, "drivers %s: %s: %.1f s", task, what, seconds)

    return log


def drivers_seed(ctx, task: str) -> int:
    """The seed of one task's driver ranking; its CV repeats derive theirs from it (both stages
    use it, so the repeats are those the verb would train from it)."""
    return derive_seed(ctx.cfg.seed, "drivers", task)


#: The tables ``cv_repeats`` keeps of each run (models_stage.cv_tables), led by task and repeat.
REPEAT_TABLES = ("cv_folds", "folds", "oof")


def _repeat_dir(ctx, task: str, repeat: int):
    return task_dir(ctx.stage_dir("cv_repeats"), task) / f"repeat_{repeat}"


def _tasks_to_rank(ctx, sd, what: str):
    """Each task's (name, folder name, the classifiers' CV with its fold models); the CV is
    None for a task this stage already finished. A task whose fold models were not kept is
    noted (it gets no ``what``) and left out."""
    for task in sd.task_names:
        name = task_dir(ctx, task).name
        if ctx.unit_done(task):
            yield task, name, None
            continue
        cv = load_cv_result(ctx, task)
        if cv is None:
            ctx.note(f"{task}: the classifiers stage kept no fold models, no {what}")
            continue
        yield task, name, cv


def run_cv_repeats(ctx) -> dict:
    from radiogenomics.interpret.drivers import repeated_cv

    repeats = ctx.cfg.drivers.repeats
    if repeats == 1:  # the classifiers' own CV is the only run
        return {"repeats": repeats}
    sd = study_data(ctx)
    autoencoder = load_autoencoder(ctx)
    device = None if ctx.device == "auto" else ctx.device
    names = []
    for task, name, cv in _tasks_to_rank(ctx, sd, "CV repeats"):
        names.append(name)
        if cv is None:
            continue
        ctx.log.info(
            "cv_repeats: %s, %s on new fold splits, %d patients",
            task,
            count(repeats - 1, "CV run"),
            len(cv.labels),
        )
        runs = repeated_cv(
            cv, sd.expression, repeats, drivers_seed(ctx, task), ctx.executor, autoencoder,
            device, ctx.network_gpus(),
        )[1:]  # fmt: skip
        parts: dict[str, list[pd.DataFrame]] = {stem: [] for stem in REPEAT_TABLES}
        for repeat, run in enumerate(runs, start=1):
            save_fold_models(run, _repeat_dir(ctx, task, repeat))
            for stem, table in cv_tables(run, task=task, repeat=repeat).items():
                parts[stem].append(table)
        for stem, tables in parts.items():
            ctx.table(pd.concat(tables, ignore_index=True), f"units/{stem}_{name}")
        ctx.mark_unit(task, {"cv_auc": [float(run.mean_auc) for run in runs]})
    if not names:
        raise StageSkipped("no task has fold models to repeat the cross-validation of")
    for stem in REPEAT_TABLES:
        tables = [ctx.read("cv_repeats", f"units/{stem}_{n}") for n in names]
        ctx.table(pd.concat(tables, ignore_index=True), stem)
    return {"repeats": repeats}


def repeat_tables(ctx) -> dict[str, pd.DataFrame]:
    """The ``cv_repeats`` stage's tables (:data:`REPEAT_TABLES`); none when ``drivers.repeats``
    is 1."""
    if not (ctx.stage_dir("cv_repeats") / "tables" / "folds.parquet").is_file():
        return {}
    return {stem: ctx.read("cv_repeats", stem) for stem in REPEAT_TABLES}


def load_cv_repeats(ctx, cv, tables: dict[str, pd.DataFrame]):
    """The runs in ``tables`` (:func:`repeat_tables`) of ``cv``'s task, rebuilt with their
    fold models, in the order they were drawn."""
    if not tables:
        return []
    runs = []
    mine = tables["folds"][tables["folds"]["task"] == cv.task]
    for repeat in sorted(mine["repeat"].unique()):
        rows = {
            stem: t[(t["task"] == cv.task) & (t["repeat"] == repeat)] for stem, t in tables.items()
        }
        fold_models, fold_patients = load_fold_models(
            _repeat_dir(ctx, cv.task, int(repeat)), rows["folds"]
        )
        runs.append(
            rebuild_cv(cv.config, cv.task, fold_models, fold_patients, rows["oof"],
                       rows["cv_folds"])
        )  # fmt: skip
    return runs


def run_drivers(ctx) -> dict:
    from radiogenomics.interpret import driver_ranking

    d = ctx.cfg.drivers
    sd = study_data(ctx)
    picked = sd.pick(d.collections)  # never empty: the stage skips without gene sets
    gene_sets = {name: dict(gs.items()) for name, gs in picked.items()}
    device = None if ctx.device == "auto" else ctx.device
    repeats = repeat_tables(ctx)
    tasks = []
    for task, name, cv in _tasks_to_rank(ctx, sd, "driver ranking"):
        unit = f"units/drivers_{name}"
        tasks.append(unit)
        if cv is None:
            continue
        cvs = [cv, *load_cv_repeats(ctx, cv, repeats)]
        ctx.log.info(
            "drivers: %s, %s read-out, %s, %d patients",
            task,
            d.readout,
            count(len(cvs), "CV run"),
            len(cv.labels),
        )
        table = driver_ranking(
            cv,
            sd.expression,
            None,
            gene_sets,
            readout=d.readout,
            cvs=cvs,
            null_draws=d.null_draws,
            nperm=d.nperm,
            alpha=d.alpha,
            max_calls=d.max_calls,
            gate_draws=d.gate_draws,
            gate_nperm=d.gate_nperm,
            programme_network=d.programme_network,
            programme_seeds=d.programme_seeds,
            min_size=d.min_size,
            max_size=d.max_size,
            seed=drivers_seed(ctx, task),
            device=device,
            on_step=_step_logger(ctx, task),
        )
        table.insert(table.columns.get_loc("score"), "readout", d.readout)
        ctx.table(table, unit)
        ctx.mark_unit(task, {"cv_auc": table.attrs.get("cv_auc", [])})
    if not tasks:
        raise StageSkipped("no task has fold models to rank driver sets with")
    table = pd.concat([ctx.read("drivers", u) for u in tasks], ignore_index=True)
    ctx.table(table, "drivers")
    top = table.sort_values(["task", "class", "collection", "rank"], kind="stable")
    top = top.groupby(["task", "class", "collection"], sort=False).head(TOP)
    ctx.table(top[_TOP_COLUMNS].reset_index(drop=True), "drivers_top")
    firsts = table[table["rank"] == 1]
    return {
        "readout": d.readout,
        "called": int(table["called"].sum()),
        "top_set": {
            f"{r['task']}:{r['class']}:{r['collection']}": r["set"]
            for r in firsts.to_dict("records")
        },
    }
