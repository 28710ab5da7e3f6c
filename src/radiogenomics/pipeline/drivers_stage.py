"""Stage ``drivers``: the gene sets that drive each trait, ranked by
:func:`radiogenomics.interpret.driver_ranking` (docs/results.md, "Driver recovery").

One unit per task: the classifiers stage's cross-validation (rebuilt with its fold models), the
``drivers.repeats - 1`` extra CV runs on new fold splits (executor units, seeds derived from the
study seed), set masking against a size-matched null, correlation GSEA (the naive peer) and the
driver calls. The table ``drivers`` holds every set of every collection with the chosen
read-out's score, rank, p, q and call, and the evidence of each read-out beside it.
"""

from __future__ import annotations

import logging

import pandas as pd

from radiogenomics.interpret.drivers import PROGRAMME_COLUMNS
from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.load import study_data
from radiogenomics.pipeline.models_stage import load_autoencoder, load_cv_result, task_dir

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


def run_drivers(ctx) -> dict:
    from radiogenomics.interpret import driver_ranking

    d = ctx.cfg.drivers
    sd = study_data(ctx)
    picked = sd.pick(d.collections)  # never empty: the stage skips without gene sets
    gene_sets = {name: dict(gs.items()) for name, gs in picked.items()}
    device = None if ctx.device == "auto" else ctx.device
    autoencoder = load_autoencoder(ctx)
    tasks = []
    for task in sd.task_names:
        unit = f"units/drivers_{task_dir(ctx, task).name}"
        if ctx.unit_done(task):
            tasks.append(unit)
            continue
        cv = load_cv_result(ctx, task)
        if cv is None:
            ctx.note(f"{task}: the classifiers stage kept no fold models, no driver ranking")
            continue
        ctx.log.info(
            "drivers: %s, %s read-out, %d CV runs, %d patients",
            task,
            d.readout,
            d.repeats,
            len(cv.labels),
        )
        table = driver_ranking(
            cv,
            sd.expression,
            None,
            gene_sets,
            readout=d.readout,
            repeats=d.repeats,
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
            seed=ctx.seed(task),
            executor=ctx.executor,
            autoencoder=autoencoder,
            device=device,
            network_gpus=ctx.network_gpus(),
            on_step=_step_logger(ctx, task),
        )
        table.insert(table.columns.get_loc("score"), "readout", d.readout)
        ctx.table(table, unit)
        ctx.mark_unit(task, {"cv_auc": table.attrs.get("cv_auc", [])})
        tasks.append(unit)
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
