"""Stages ``masking`` and ``saliency``: adapters over radiogenomics.interpret (METHOD.md 4-5).

One unit per task: its masking tables (retrained and out-of-fold) or saliency matrices are
written before the next task starts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from radiogenomics.pipeline.load import StudyData, study_data
from radiogenomics.pipeline.models_stage import load_models, task_dir

SINGLE = "single_genes"


DRIVER_QUERY = "driver_query"


def masking_collections(ctx, sd: StudyData):
    """The collections to mask with and the driver query (None when not asked for).

    The paper's driver query (``masking.driver_genes`` / ``driver_keywords``) adds the sets it
    matched as one more collection, so they are masked and ranked together; every masking row
    records which query terms matched its set.
    """
    from radiogenomics.data.driver_query import query_gene_sets

    m = ctx.cfg.masking
    cols = sd.pick(m.collections)
    if not (m.driver_genes or m.driver_keywords):
        return cols, None
    query = query_gene_sets(cols, genes=m.driver_genes, keywords=m.driver_keywords)
    if len(query.sets):
        cols[DRIVER_QUERY] = query.sets
    else:
        ctx.note("the driver query matched no gene set")
    if query.unmatched:
        ctx.note(f"driver query terms that matched no set: {', '.join(query.unmatched)}")
    if query.as_keyword:
        ctx.log.info("driver query: %s matched by set name", ", ".join(query.as_keyword))
    return cols, query


def labelled_patients(sd: StudyData) -> pd.Index:
    """Patients with expression and at least one label (the imaging cohort)."""
    t = sd.targets
    return t.index[t.notna().any(axis=1)].intersection(sd.expression.index)


def _masking_unit(unit: tuple, shared: dict) -> tuple[pd.DataFrame, list[str]]:
    """One work unit: one task's masking in one mode ("retrained" model or its fold models).

    The seed is the task's, whichever mode and process runs it, so the numbers are those of
    the serial code.
    """
    from radiogenomics.interpret import gene_masking, masking_from_folds

    mode, _, models, fold_patients, y, kw = unit
    X = shared["X"]
    kw = dict(kw, gene_sets=shared["collections"] or None)
    if mode == "retrained":
        res = gene_masking(models, X, y, **kw)
    else:
        res = masking_from_folds(models, fold_patients, X, y, **kw)
    return res.table, list(res.notes)


def run_masking(ctx) -> dict:
    m = ctx.cfg.masking
    sd = study_data(ctx)
    X = sd.expression
    collections, query = masking_collections(ctx, sd)
    for task in sd.task_names:
        if ctx.unit_done(task):
            continue
        # One map per task: only one task's models (the retrained one and its fold models,
        # ~2.5 GB at the paper's size) are held at a time, as in a serial run.
        model, fold_models, fold_patients = load_models(ctx, task)
        y = sd.labels(task).astype(str)
        kw = dict(
            single_genes=m.single_genes,
            single_gene_method=m.single_gene_method,
            null_draws=m.null_draws,
            seed=ctx.seed(task),
            device=ctx.cfg.device,
            quiet=ctx.quiet,
        )
        ctx.log.info("masking: %s (%d patients)", task, len(y))
        units = [("retrained", task, model, None, y, kw)]
        if m.out_of_fold:
            if fold_models:
                units.append(("out_of_fold", task, fold_models, fold_patients, y, kw))
            else:
                ctx.note(f"{task}: no fold models were kept, out-of-fold masking skipped")
        del model, fold_models
        results = ctx.executor.map(
            _masking_unit,
            units,
            shared={"X": X, "collections": collections},
            desc=f"masking {task}",
        )
        for n in results[0][1]:
            ctx.log.info("masking %s: %s", task, n)
        t = pd.concat([table for table, _ in results], ignore_index=True)
        t.insert(0, "task", task)
        ctx.table(t, f"units/masking_{task_dir(ctx, task).name}")
        ctx.mark_unit(task)
        del units, results
    table = pd.concat(
        [ctx.read("masking", f"units/masking_{task_dir(ctx, t).name}") for t in sd.task_names],
        ignore_index=True,
    )
    if query is not None:
        from radiogenomics.data.driver_query import annotate_queries

        table = annotate_queries(table, query)
    ctx.table(table, "masking")
    readout = table[table["mode"] == m.readout]
    sets = readout[readout["collection"] != SINGLE]
    genes = readout[readout["collection"] == SINGLE]
    top_sets = rank_masking(sets).groupby(["task", "class"], sort=False).head(m.top)
    top_genes = rank_masking(genes).groupby(["task", "class"], sort=False).head(m.top)
    ctx.table(top_sets.reset_index(drop=True), "top_sets")
    ctx.table(top_genes.reset_index(drop=True), "top_genes")
    if len(sets):
        from radiogenomics.data.driver_query import average_groups, driver_summary

        # the paper's Table 2: per trait, the top sets by AUC and by AP, with their query
        ctx.table(driver_summary(sets, top=min(m.top, 5), q="q_ap"), "table2")
        if m.driver_groups:
            ctx.table(average_groups(sets, m.driver_groups), "averaged_groups")
    label = m.readout.replace("_", "-")
    if len(sets):
        _heatmap(ctx, sets, m.top, "auc", "masking_sets_auc", f"Gene-set masking AUC ({label})")
        _heatmap(ctx, sets, m.top, "ap", "masking_sets_ap", f"Gene-set masking AP ({label})")
    if len(genes):
        _heatmap(
            ctx,
            genes,
            min(m.top, 15),
            "ap",
            "masking_genes_ap",
            f"Single-gene masking AP ({label})",
        )
    return {
        "rows": int(len(table)),
        "readout": m.readout,
        "best_set_per_task": {
            f"{r['task']}:{r['class']}": r["set"]
            for r in top_sets.groupby(["task", "class"], sort=False).head(1).to_dict("records")
        },
    }


_SUMMARY_COLUMNS = (
    "task",
    "class",
    "mode",
    "collection",
    "set",
    "size",
    "coverage_pct",
    "auc",
    "ap",
    "p_ap",
    "q_ap",
    "p_auc",
    "q_auc",
)


def rank_masking(df: pd.DataFrame) -> pd.DataFrame:
    """Masking rows ordered best first within each (task, class).

    Gene sets with a size-matched null are ordered by their empirical p of AP against random
    sets of their size, then by AP: a raw AP grows with the number of genes kept, so it favours
    large sets (a 118-gene set holding a few of a programme's genes can edge out the programme's
    60). Without a null (single genes, ``null_draws = 0``) the order is by AP, then AUC.
    """
    has_null = "p_ap" in df.columns and df["p_ap"].notna().any()
    keys = ["p_ap", "ap", "auc"] if has_null else ["ap", "auc"]
    ascending = [True, False, False] if has_null else [False, False]
    cols = [c for c in _SUMMARY_COLUMNS if c in df.columns]
    return (
        df.sort_values(["task", "class", *keys], ascending=[True, True, *ascending], kind="stable")
        .loc[:, cols]
        .reset_index(drop=True)
    )


def _heatmap(ctx, df: pd.DataFrame, n: int, metric: str, name: str, title: str) -> None:
    """Rows: the union of each task's top ``n`` sets; columns: task (and class); both ordered by
    hierarchical clustering with dendrograms, rows labelled by set and coloured by collection
    (the paper clustered its masking heatmaps)."""
    from radiogenomics.utils.figures import save_figure
    from radiogenomics.utils.heatmaps import clustered_heatmap, heatmap_matrix

    df = df.assign(
        column=np.where(
            df["task"] == df["class"], df["task"], df["task"] + ": " + df["class"].astype(str)
        )
    )
    mat, groups = heatmap_matrix(df, metric, rows="set", columns="column", top=n)
    if mat.empty:
        return
    hm = clustered_heatmap(mat, row_groups=groups, title=title, value_label=metric.upper())
    save_figure(hm.figure, ctx.dir / "figures" / name)
    order = pd.DataFrame({"row": range(1, len(hm.row_order) + 1), "set": hm.row_order})
    ctx.table(order, f"{name}_order")


def saliency_name(task: str, cls: str | None) -> str:
    base = f"saliency_{task}"
    return base if cls is None else f"{base}__{cls}"


def run_saliency(ctx) -> dict:
    from radiogenomics.interpret import gene_saliency

    sd = study_data(ctx)
    X = sd.expression.loc[labelled_patients(sd)]
    method = ctx.cfg.saliency.method
    names = []
    for task in sd.task_names:
        model, _, _ = load_models(ctx, task)
        if not ctx.unit_done(task):
            ctx.log.info("saliency: %s (%d patients)", task, len(X))
            sal = gene_saliency(
                model,
                X,
                method=method,
                # signed attributions keep their values: GSEA then weighs genes by how hard they
                # push the trait (min-max would give the most negative genes weight 0)
                scale="minmax" if method == "absolute" else None,
                output=ctx.cfg.saliency.target,
                device=ctx.cfg.device,
            )
            parts = {None: sal.matrix()} if len(sal.frames) == 1 else dict(sal.frames)
            for cls, frame in parts.items():
                frame = frame.astype("float32")
                frame.index.name = "gene"
                ctx.matrix(frame, saliency_name(task, cls))
            ctx.json({"classes": [c for c in parts]}, f"units_{task_dir(ctx, task).name}")
            ctx.mark_unit(task)
        meta = (ctx.dir / f"units_{task_dir(ctx, task).name}.json").read_text()
        import json

        for cls in json.loads(meta)["classes"]:
            names.append((task, cls))
    # a binary network's one saliency is of its logit, the positive class's log-odds
    shown = {(t, c): str(c) if c is not None else str(sd.positive(t) or t) for t, c in names}
    rows, titles = [], {}
    for task, cls in names:
        frame = ctx.read("saliency", saliency_name(task, cls), index="gene")
        # signed attributions cancel across patients who sit on either side of the mean
        mean = frame.abs().mean(axis=1).sort_values(ascending=False)
        titles[(task, shown[task, cls])] = task if cls is None else f"{task}: {cls}"
        for rank, (gene, v) in enumerate(mean.head(ctx.cfg.masking.top).items(), start=1):
            rows.append(
                {
                    "task": task,
                    "class": shown[task, cls],
                    "rank": rank,
                    "gene": gene,
                    "mean_abs_saliency": float(v),
                }
            )
    top = pd.DataFrame(rows)
    ctx.table(top, "top_salient_genes")
    ctx.table(
        pd.DataFrame(
            [{"task": t, "class": shown[t, c], "table": saliency_name(t, c)} for t, c in names]
        ),
        "saliency_index",
    )
    if len(top):
        import matplotlib.pyplot as plt

        groups = list(top.groupby(["task", "class"], sort=False))
        fig, axes = plt.subplots(1, len(groups), figsize=(2.6 * len(groups), 3.6), squeeze=False)
        for ax, ((task, cls), g) in zip(axes[0], groups, strict=True):
            g = g.head(10)
            ax.barh(range(len(g))[::-1], g["mean_abs_saliency"], color="#3c5a82")
            ax.set_yticks(range(len(g))[::-1], g["gene"], fontsize=7)
            ax.set_title(titles[(task, cls)], fontsize=8)
            ax.set_xlabel("mean |saliency|", fontsize=7)
        fig.tight_layout()
        ctx.figure(fig, "top_salient_genes")
    return {"matrices": len(names), "patients": int(len(X))}
