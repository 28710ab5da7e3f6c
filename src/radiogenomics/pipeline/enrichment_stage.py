"""Stages ``enrichment`` and ``radiogenomic_traits``: adapters over radiogenomics.enrichment.

``enrichment``: preranked GSEA of each task's single-gene masking ranking (METHOD.md 6).
``radiogenomic_traits``: each patient's saliency ranking through GSEA; a patient has the trait
"task + set" when the set is enriched (BH p < alpha, NES > 0) (METHOD.md 5).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.load import study_data


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _sets(sd, names):
    from radiogenomics.data import GeneSets

    cols = sd.pick(names)
    if not cols:
        raise StageSkipped("no gene-set collection in the config (data.gene_sets)")
    return GeneSets.concat(list(cols.values()), "+".join(cols))


def run_enrichment(ctx) -> dict:
    from radiogenomics.enrichment import gsea_many

    e = ctx.cfg.enrichment
    sd = study_data(ctx)
    sets = _sets(sd, e.collections)
    table = ctx.read("masking", "masking")
    readout = ctx.cfg.masking.readout
    single = table[(table["collection"] == "single_genes") & (table["mode"] == readout)]
    if single.empty:
        raise StageSkipped(
            f"no single-gene masking ({readout}) to rank genes by (masking.single_genes)"
        )
    single = single.assign(
        ranking=np.where(
            single["task"] == single["class"],
            single["task"],
            single["task"] + ": " + single["class"].astype(str),
        )
    )
    rankings = single.pivot_table(index="set", columns="ranking", values=e.ranking)
    rankings = rankings.dropna(how="any")
    ctx.log.info(
        "enrichment: %d rankings x %d genes, %d sets",
        rankings.shape[1],
        rankings.shape[0],
        len(sets),
    )
    res = gsea_many(
        rankings,
        dict(sets.items()),
        nperm=e.nperm,
        min_size=e.min_size,
        max_size=e.max_size,
        seed=ctx.seed("gsea"),
        small_p=None if e.small_p == "none" else e.small_p,
        device=None if ctx.cfg.device == "auto" else ctx.cfg.device,
    )
    res = res.rename(columns={"ranking": "task"})
    ctx.table(res, "gsea")
    top = (
        res.sort_values(["task", "padj", "nes"], ascending=[True, True, False], kind="stable")
        .groupby("task", sort=False)
        .head(20)
    )
    cols = [c for c in ("task", "set", "size", "es", "nes", "pval", "padj") if c in top.columns]
    ctx.table(top[cols].reset_index(drop=True), "gsea_top")
    _nes_heatmap(ctx, res)
    best = res.sort_values(["padj", "nes"], ascending=[True, False]).groupby("task").head(1)
    return {r["task"]: r["set"] for r in best.to_dict("records")}


def _nes_heatmap(ctx, res: pd.DataFrame) -> None:
    from radiogenomics.enrichment import plot_nes_heatmap

    if res.empty:
        return
    plot_nes_heatmap(res, ctx.dir / "figures" / "gsea_nes_heatmap", ranking_col="task")


PATIENTS_PER_UNIT = 25  # patients' rankings per GSEA work unit (numbers do not depend on it)


def _trait_chunk(unit: tuple, shared: dict) -> tuple[pd.DataFrame, list[str]]:
    """One work unit: GSEA of a chunk of one model's patients' saliency rankings.

    ``gsea_many`` draws its permutations from the seed alone and adjusts p-values within each
    ranking, so a chunk of patients gives exactly the rows the whole matrix would.
    """
    from radiogenomics.enrichment import radiogenomic_traits

    key, label, seed, start, stop = unit
    sal = shared["saliency"][key]
    r = shared["settings"]
    with warnings.catch_warnings(record=True) as caught:  # the driver logs them to run.log
        warnings.simplefilter("always")
        _, long = radiogenomic_traits(
            sal.iloc[:, start:stop],
            shared["sets"],
            model_name=label,
            alpha=r["alpha"],
            min_patients=0,
            nperm=r["nperm"],
            min_size=r["min_size"],
            max_size=r["max_size"],
            seed=seed,
            small_p=r["small_p"],
        )
    return long, [str(w.message) for w in caught]


def _wide_traits(long: pd.DataFrame, patients: list[str]) -> pd.DataFrame:
    """Patients x traits 0/1 from the long table, as ``radiogenomic_traits`` builds it."""
    order = list(dict.fromkeys(long["trait"]))
    wide = (
        long.pivot_table(index="patient", columns="trait", values="enriched", aggfunc="max")
        .reindex(index=patients, columns=order)
        .fillna(False)
        .astype(int)
    )
    wide.index.name = "patient"
    wide.columns.name = None
    return wide


def run_radiogenomic_traits(ctx) -> dict:
    r = ctx.cfg.radiogenomic_traits
    sd = study_data(ctx)
    sets = _sets(sd, r.collections)
    index = ctx.read("saliency", "saliency_index")
    rows = []
    for row in index.to_dict("records"):
        label = row["task"] if row["task"] == row["class"] else f"{row['task']}:{row['class']}"
        rows.append((f"rg_{row['table']}", label, row["table"]))
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
            "sets": dict(sets.items()),
            "settings": {
                "alpha": r.alpha,
                "nperm": r.nperm,
                "min_size": r.min_size,
                "max_size": r.max_size,
                "small_p": None if r.small_p == "none" else r.small_p,
            },
        }
        parts: dict[str, dict[int, pd.DataFrame]] = {key: {} for key in todo}
        left = {key: sum(u[0] == key for u in units) for key in todo}

        def finished(i: int, result: tuple[pd.DataFrame, list[str]]) -> None:
            key, label = units[i][0], units[i][1]
            long, messages = result
            for msg in messages:
                ctx.log.info("radiogenomic traits %s: %s", label, msg)
            parts[key][i] = long
            left[key] -= 1
            if left[key]:
                return
            long = pd.concat([parts[key][j] for j in sorted(parts[key])], ignore_index=True)
            patients = [str(c) for c in saliency[key].columns]
            traits = _wide_traits(long, patients)
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
    kept = counts[counts >= r.min_patients].index
    dropped = counts[counts < r.min_patients]
    if len(dropped):
        ctx.log.info(
            "radiogenomic traits: %d traits in fewer than %d patients dropped",
            len(dropped),
            r.min_patients,
        )
    traits = traits[kept]
    ctx.table(traits, "traits", index=True)
    ctx.table(pd.concat(longs, ignore_index=True), "patient_gsea")
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
