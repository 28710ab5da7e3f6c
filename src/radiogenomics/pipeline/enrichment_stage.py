"""Stages ``enrichment`` and ``radiogenomic_traits``: adapters over radiogenomics.enrichment.

``enrichment``: preranked GSEA of each task's rankings (METHOD.md 6): the network's single-gene
masking ranking and, beside it, the naive peer the paper shows (Fig. 6d), each gene's Pearson
correlation with the trait (``ranking`` = ``masking_ap``/``masking_auc`` or ``correlation``).
``radiogenomic_traits``: each patient's saliency ranking through GSEA; a patient has the trait
"task + set" when the set is enriched (BH p < alpha, NES > 0) (METHOD.md 5).

Both test each gene-set collection on its own, as the paper's per-collection panels do: ``padj``
is Benjamini-Hochberg within (task or patient, ranking, collection). In the ``enrichment``
tables ``task`` is the plain task name and ``class`` the class whose ranking it is (a binary
task's positive class, as the networks score it), the same for both rankings.
"""

from __future__ import annotations

import warnings

import pandas as pd

from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.interpret_stage import saliency_name
from radiogenomics.pipeline.load import StudyData, study_data
from radiogenomics.utils.text import count

SINGLE = "single_genes"
CORRELATION = "correlation"


def _collections(sd: StudyData, names: list[str]) -> dict[str, dict[str, tuple[str, ...]]]:
    cols = sd.pick(names)  # a study without gene sets never runs this (stages.py: skips)
    return {name: dict(gs.items()) for name, gs in cols.items()}


def _label(task: str, cls: str) -> str:
    return task if task == cls else f"{task}: {cls}"


def _masking_rankings(ctx, metric: str) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """Genes x "task[: class]": the single-gene masking metric of the study's readout, and
    each column's (task, class)."""
    table = ctx.read("masking", "masking")
    readout = ctx.cfg.masking.readout
    single = table[(table["collection"] == SINGLE) & (table["mode"] == readout)]
    if single.empty:
        raise StageSkipped(
            f"no single-gene masking ({readout}) to rank genes by (masking.single_genes)"
        )
    pairs = [(str(t), str(c)) for t, c in zip(single["task"], single["class"], strict=True)]
    single = single.assign(label=[_label(t, c) for t, c in pairs])
    wide = single.pivot_table(index="set", columns="label", values=metric).dropna(how="any")
    return wide, {_label(t, c): (t, c) for t, c in pairs}


def _correlation_rankings(sd: StudyData) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """Genes x "task[: class]": each gene's Pearson correlation with the class indicator over
    the labelled patients (binary tasks: the positive class, as the networks score it), and
    each column's (task, class)."""
    from radiogenomics.interpret.correlation import correlation_ranking

    parts, keys = [], {}
    for task in sd.task_names:
        y = sd.labels(task).astype(str).rename(task)
        pos = sd.positive(task)
        classes = sorted(y.unique())
        if pos is not None:
            classes = [next(c for c in classes if c != pos), pos]
        r = correlation_ranking(sd.expression, y, classes)
        classes = [str(pos)] if pos is not None else [str(c) for c in r.columns]
        names = [task] if pos is not None else [_label(task, c) for c in classes]
        keys.update({n: (task, c) for n, c in zip(names, classes, strict=True)})
        parts.append(r.set_axis(names, axis=1))
    return pd.concat(parts, axis=1).dropna(how="any"), keys


def run_enrichment(ctx) -> dict:
    from radiogenomics.enrichment import gsea_many

    e = ctx.cfg.enrichment
    sd = study_data(ctx)
    collections = _collections(sd, e.collections)
    device = None if ctx.device == "auto" else ctx.device
    kinds = {
        f"masking_{e.ranking}": _masking_rankings(ctx, e.ranking),
        CORRELATION: _correlation_rankings(sd),
    }
    parts = []
    for kind, (rankings, keys) in kinds.items():
        ctx.log.info(
            "enrichment: %s, %d rankings x %d genes, %d collections",
            kind,
            rankings.shape[1],
            rankings.shape[0],
            len(collections),
        )
        for name, sets in collections.items():  # one call per collection: BH within it
            res = gsea_many(
                rankings, sets, seed=ctx.seed("gsea"), device=device, **e.gsea_kwargs()
            ).table
            task_class = [keys[str(r)] for r in res.pop("ranking")]
            res.insert(0, "task", [t for t, _ in task_class])
            res.insert(1, "class", [c for _, c in task_class])
            res.insert(2, "ranking", kind)
            res.insert(3, "collection", name)
            parts.append(res)
    res = pd.concat(parts, ignore_index=True)
    ctx.table(res, "gsea")
    keys = ["task", "class", "ranking", "collection"]
    top = (
        res.sort_values([*keys, "padj", "nes"], ascending=[True] * 4 + [True, False], kind="stable")
        .groupby(keys, sort=False)
        .head(20)
    )
    cols = [c for c in (*keys, "set", "size", "es", "nes", "pval", "padj") if c in top.columns]
    ctx.table(top[cols].reset_index(drop=True), "gsea_top")
    _nes_heatmap(ctx, res)
    masking = res[res["ranking"] != CORRELATION]
    best = masking.sort_values(["padj", "nes"], ascending=[True, False])
    best = best.groupby(["task", "class"], sort=False).head(1)
    return {_label(r["task"], r["class"]): r["set"] for r in best.to_dict("records")}


def _nes_heatmap(ctx, res: pd.DataFrame) -> None:
    """NES of the masking and the correlation rankings side by side (columns task x ranking)."""
    from radiogenomics.enrichment import plot_nes_heatmap

    if res.empty:
        return
    labels = [_label(t, c) for t, c in zip(res["task"], res["class"], strict=True)]
    shown = res.assign(
        column=[f"{lab} ({r})" for lab, r in zip(labels, res["ranking"], strict=True)]
    )
    plot_nes_heatmap(shown, ctx.dir / "figures" / "gsea_nes_heatmap", ranking_col="column")


PATIENTS_PER_UNIT = 25  # patients' rankings per GSEA work unit (numbers do not depend on it)


def _trait_chunk(unit: tuple, shared: dict) -> tuple[pd.DataFrame, list[str], dict[str, int]]:
    """One work unit: GSEA of a chunk of one model's patients' saliency rankings.

    ``gsea_many`` draws its permutations from the seed alone and adjusts p-values within each
    ranking, so a chunk of patients gives exactly the rows the whole matrix would. Returns the
    rows, the warnings other than tied scores, and each patient's number of tied scores (the
    driver sums those into one line per model).
    """
    from radiogenomics.enrichment import radiogenomic_traits
    from radiogenomics.enrichment.gsea import TiedScoresWarning

    key, label, seed, start, stop = unit
    sal = shared["saliency"][key]
    r = shared["settings"]
    parts, n_tied = [], {}
    with warnings.catch_warnings(record=True) as caught:  # the driver logs them to run.log
        warnings.simplefilter("always")
        for collection, sets in shared["collections"].items():  # BH within each collection
            result = radiogenomic_traits(
                sal.iloc[:, start:stop],
                sets,
                model_name=label,
                alpha=r["alpha"],
                min_patients=0,
                nperm=r["nperm"],
                min_size=r["min_size"],
                max_size=r["max_size"],
                seed=seed,
                small_p=r["small_p"],
                threads=shared["threads"],  # the units already run in parallel processes
            )
            n_tied = result.gsea.n_tied  # a ranking's ties do not depend on the collection
            long = result.table
            long.insert(1, "ranking", r["ranking"])
            long.insert(2, "collection", collection)
            parts.append(long)
    messages = [str(w.message) for w in caught if not issubclass(w.category, TiedScoresWarning)]
    return pd.concat(parts, ignore_index=True), messages, n_tied


def _tied_scores_line(n_tied: dict[str, int], n_genes: int) -> str | None:
    """One line for a model's patients' tied saliency scores (None when there are none)."""
    tied = {p: n for p, n in n_tied.items() if n > 0}
    if not tied:
        return None
    worst = max(tied, key=tied.get)
    return (
        f"tied scores in {len(tied)} of {len(n_tied)} patients' rankings (most: {worst!r} with"
        f" {tied[worst]} of {n_genes} genes); ties are ordered by gene name"
    )


def _threads_per_worker(ctx) -> int:
    """Compiled GSEA threads per work unit: the cores shared out among the local workers (a
    Ray worker gets one core a unit). Results do not depend on it."""
    import os

    ex = ctx.cfg.executor
    if ex.kind != "local":
        return 1
    cores = os.cpu_count() or 1
    return max(1, cores // (ex.workers or cores))


def _permutation_floor_note(patient_gsea: pd.DataFrame, nperm: int, alpha: float, small_p: str):
    """Why no patient has a trait, when the permutations cannot resolve one: with permutation p
    alone, a set's p is at least 1/(1 + null ES >= 0), about 2/nperm (1/(nperm+1) without the
    table's counts), so a set enriched on its own among m tested in a collection reaches
    q = m x that floor at best."""
    if small_p != "none" or patient_gsea.empty or bool(patient_gsea["enriched"].any()):
        return None
    tested = int(patient_gsea.groupby(["model", "patient", "collection"]).size().max())
    floor = 1 / (nperm + 1)
    if {"pval", "n_more_extreme", "nes"} <= set(patient_gsea.columns):
        up = patient_gsea[patient_gsea["nes"] > 0]
        if len(up):  # p = (1 + n_more_extreme) / (1 + null ES >= 0)
            floor = float((up["pval"] / (1 + up["n_more_extreme"])).min())
    best = tested * floor
    if best < alpha:
        return None
    return (
        f"no patient has a radiogenomic trait: with nperm = {nperm} and up to {tested} sets"
        f" per patient and collection, a set enriched on its own reaches q = {best:.2g} at best"
        f" (smallest q here {patient_gsea['padj'].min():.2g}, alpha {alpha}); raise"
        f" radiogenomic_traits.nperm above {round(best / alpha * (nperm + 1))} or set small_p ="
        " 'multilevel'"
    )


def saliency_models(index: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(unit key, model label, saliency table) for each row of the saliency stage's index.

    A task's one matrix (a binary task's logit, indexed under its positive class) is labelled
    by the task alone, a multi-class task's matrices by task and class: the label names the
    radiogenomic traits, so it does not depend on how the index spells a binary task's class
    (run folders made before it gave the positive class gave the task).
    """
    rows = []
    for row in index.to_dict("records"):
        whole = row["table"] == saliency_name(row["task"], None)
        label = row["task"] if whole else f"{row['task']}:{row['class']}"
        rows.append((f"rg_{row['table']}", label, row["table"]))
    return rows


def run_radiogenomic_traits(ctx) -> dict:
    from radiogenomics.enrichment.traits import uncontrasted, wide_traits

    r = ctx.cfg.radiogenomic_traits
    sd = study_data(ctx)
    collections = _collections(sd, r.collections)
    rows = saliency_models(ctx.read("saliency", "saliency_index"))
    todo = {key: (label, table) for key, label, table in rows if not ctx.unit_done(key)}
    if todo:
        saliency = {
            key: ctx.read("saliency", table, index="gene") for key, (_, table) in todo.items()
        }
        units = []
        for key, (label, _) in todo.items():
            n = saliency[key].shape[1]
            ctx.log.info("radiogenomic traits: %s, %d patients", label, n)
            units += [
                (key, label, ctx.seed(label), a, min(n, a + PATIENTS_PER_UNIT))
                for a in range(0, max(n, 1), PATIENTS_PER_UNIT)
            ]
        shared = {
            "saliency": saliency,
            "collections": collections,
            "threads": _threads_per_worker(ctx),
            "settings": {
                "alpha": r.alpha,
                "nperm": r.nperm,
                "min_size": r.min_size,
                "max_size": r.max_size,
                "small_p": None if r.small_p == "none" else r.small_p,
                "ranking": "saliency",
            },
        }
        parts: dict[str, dict[int, pd.DataFrame]] = {key: {} for key in todo}
        left = {key: sum(u[0] == key for u in units) for key in todo}
        said: dict[str, set[str]] = {key: set() for key in todo}
        tied: dict[str, dict[str, int]] = {key: {} for key in todo}

        def finished(i: int, result: tuple[pd.DataFrame, list[str], dict[str, int]]) -> None:
            key, label = units[i][0], units[i][1]
            long, messages, n_tied = result
            for msg in messages:  # once per model, not once per chunk of patients
                if msg not in said[key]:
                    said[key].add(msg)
                    ctx.log.info("radiogenomic traits %s: %s", label, msg)
            tied[key].update(n_tied)
            parts[key][i] = long
            left[key] -= 1
            if left[key]:
                return
            line = _tied_scores_line(tied[key], len(saliency[key]))
            if line:
                ctx.log.info("radiogenomic traits %s: %s", label, line)
            long = pd.concat([parts[key][j] for j in sorted(parts[key])], ignore_index=True)
            patients = [str(c) for c in saliency[key].columns]
            traits = wide_traits(long, patients)
            long = long.drop(columns=["leading_edge"], errors="ignore")
            long.insert(0, "model", label)
            ctx.table(traits.astype(float), f"units/{key}_traits", index=True)
            ctx.table(long, f"units/{key}_gsea")
            ctx.mark_unit(key)
            parts[key].clear()

        ctx.executor.map(
            _trait_chunk, units, shared=shared, on_result=finished, desc="radiogenomic traits"
        )
    tables, longs = [], []
    for key, _, _ in rows:
        tables.append(ctx.read("radiogenomic_traits", f"units/{key}_traits", index="patient"))
        longs.append(ctx.read("radiogenomic_traits", f"units/{key}_gsea"))
    traits = pd.concat(tables, axis=1) if tables else pd.DataFrame()
    counts = traits.sum(axis=0) if len(traits.columns) else pd.Series(dtype=float)
    rare, universal = uncontrasted(traits, r.min_patients)
    kept = counts[~rare & ~universal].index
    n = len(traits)
    for mask, where in (
        (rare, f"present in fewer than {r.min_patients} patients"),
        (universal & ~rare, f"absent in fewer than {r.min_patients} of the {n} patients"),
    ):
        if mask.any():
            ctx.note(
                f"{count(int(mask.sum()), 'radiogenomic trait')} {where} dropped (no contrast)"
            )
    traits = traits[kept]
    ctx.table(traits, "traits", index=True)
    patient_gsea = pd.concat(longs, ignore_index=True)
    ctx.table(patient_gsea, "patient_gsea")
    floor = _permutation_floor_note(patient_gsea, r.nperm, r.alpha, r.small_p)
    if floor:
        ctx.note(floor)
    prevalence = pd.DataFrame(
        {
            "trait": counts.index,
            "patients": counts.to_numpy(dtype=int),
            "percent": 100 * counts.to_numpy() / max(1, len(traits)),
            "kept": counts.index.isin(kept),
        }
    ).sort_values("patients", ascending=False, kind="stable")
    ctx.table(prevalence.reset_index(drop=True), "prevalence")
    if len(kept):
        from radiogenomics.enrichment import plot_patients_enriched

        plot_patients_enriched(traits, ctx.dir / "figures" / "radiogenomic_trait_prevalence")
    return {"traits": int(len(kept)), "patients": int(len(traits))}
