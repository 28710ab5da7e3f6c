"""Every number of docs/results.md, from the real TCGA-GBM data in ../shared/data.

    .venv/bin/python scripts/make_results.py                # everything (about 20-30 min, 2 CPUs)
    .venv/bin/python scripts/make_results.py --quick        # a few minutes, small settings
                                            # (its own cache and figures; the doc is left alone)
    .venv/bin/python scripts/make_results.py --only doc     # re-render the doc from the cache

Parts (``--only`` takes a comma list): ``subtypes`` (the paper's validation on RNA-seq),
``autoencoder`` (CV R^2), ``planted`` (hallmark-programme traits planted in the RNA-seq),
``study`` (configs/tcga_gbm_subtype.toml through the pipeline), ``doc``
(the generated block of docs/results.md). Each computing part caches its numbers as JSON under
``--out`` (default runs/results) and writes its figures to docs/figures/results/; ``doc``
renders only from that cache, so it never retrains anything (and refuses an empty one). The
generated block of docs/results.md sits between the GENERATED markers; text outside them is
kept. ``--quick`` caches under runs/results-quick, puts its figures there and renders no doc
unless ``--doc`` is given: smoke numbers never replace the real ones.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

from radiogenomics.config import load_config  # noqa: E402
from radiogenomics.evaluation.nn_autoencoder import train_autoencoder  # noqa: E402
from radiogenomics.interpret import correlation_gsea, probability_heatmap  # noqa: E402
from radiogenomics.models import AutoencoderConfig, NetworkConfig  # noqa: E402
from radiogenomics.pipeline import run_study  # noqa: E402
from radiogenomics.validation import (  # noqa: E402
    TraitSpec,
    load_real_data,
    markdown_table,
    programme_scores,
    run_planted_trait,
    side_by_side,
    validate_subtypes,
)
from radiogenomics.validation.study_summary import summarise_study  # noqa: E402
from radiogenomics.validation.subtypes import ALL_SET, RANDOM_SET  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
#: The real-data study the ``study`` part runs through the pipeline, as a user would.
STUDY_CONFIG = REPO / "configs" / "tcga_gbm_subtype.toml"
#: Overrides of that study for ``--quick`` (a smoke run of the same code path).
QUICK_STUDY = {
    "classifiers.max_epochs": 4,
    "classifiers.patience": 2,
    "baselines.models": ["logreg_l2"],
    "masking.null_draws": 10,
    "enrichment.nperm": 200,
    "radiogenomic_traits.nperm": 200,
}
BEGIN, END = "<!-- BEGIN GENERATED (scripts/make_results.py) -->", "<!-- END GENERATED -->"
#: The parts, in the order they run by default; ``doc`` renders from the cache of the others.
PARTS = ("study", "subtypes", "planted", "autoencoder", "doc")
DOC = REPO / "docs" / "results.md"
DOC_FIGURES = REPO / "docs" / "figures" / "results"
SUBTYPES = ["Classical", "Mesenchymal", "Neural", "Proneural"]

FULL = {
    "min_mean_log2tpm": 1.0,
    "folds": 5,
    "subtype_net": {
        "hidden": [64, 16],
        "activation": "sigmoid",
        "optimizer": "nadam",
        "dropout": 0.4,
        "batch_size": 10,
        "max_epochs": 20,
        "patience": 6,
    },
    "trait_net": {
        "hidden": [32],
        "activation": "tanh",
        "optimizer": "adam",
        "dropout": 0.2,
        "batch_size": 10,
        "max_epochs": 20,
        "patience": 6,
    },
    "autoencoder": {
        "hidden": [128, 32],
        "activation": "tanh",
        "optimizer": "adam",
        "dropout": 0.0,
        "batch_size": 16,
        "max_epochs": 150,
        "patience": 10,
    },
    "null_draws": 50,
    "nperm": 5000,
    "random_size": 200,
}
QUICK = {
    **FULL,
    "folds": 3,
    "subtype_net": {**FULL["subtype_net"], "hidden": [32], "max_epochs": 8, "patience": 4},
    "trait_net": {**FULL["trait_net"], "hidden": [32], "max_epochs": 8, "patience": 4},
    "autoencoder": {**FULL["autoencoder"], "hidden": [32, 8], "max_epochs": 5, "patience": 3},
    "nperm": 1000,
    "null_draws": 20,
}

#: The planted traits: real hallmark programmes, non-linear maps, noise in SD of the latent.
TRAITS = [
    TraitSpec("oxphos_step", "step", ("HALLMARK_OXIDATIVE_PHOSPHORYLATION",), noise=0.3),
    TraitSpec("ifng_step", "step", ("HALLMARK_INTERFERON_GAMMA_RESPONSE",), noise=0.5),
    TraitSpec("hypoxia_extremes", "extremes", ("HALLMARK_HYPOXIA",), noise=0.5),
    TraitSpec(
        "emt_and_g2m",
        "and",
        ("HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION", "HALLMARK_G2M_CHECKPOINT"),
        noise=0.5,
    ),
]


# ----------------------------------------------------------------------------- helpers


def save_png(fig: plt.Figure, name: str, fig_dir: Path, dpi: int = 80) -> str:
    fig_dir.mkdir(parents=True, exist_ok=True)
    path = fig_dir / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return path.name


def frame_json(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records"))


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1, default=float))
    tmp.replace(path)


# ----------------------------------------------------------------------------- parts


def part_subtypes(data, settings: dict, seed: int, fig_dir: Path) -> dict:
    config = NetworkConfig(**settings["subtype_net"])
    t0 = time.time()
    v = validate_subtypes(
        data.expression,
        data.subtypes,
        data.signatures,
        config,
        n_splits=settings["folds"],
        seed=seed,
        null_draws=settings["null_draws"],
        nperm=settings["nperm"],
        random_size=settings["random_size"],
        extra_sets=data.hallmark,
    )
    seconds = time.time() - t0
    figs = subtype_figures(v, fig_dir)
    verhaak = set(SUBTYPES)
    gsea_own = {}
    for kind, table in v.gsea.items():
        sub = table[table["set"].isin(verhaak)]
        gsea_own[kind] = frame_json(sub[["ranking", "set", "size", "nes", "pval", "padj"]])
    return {
        "seconds": seconds,
        "config": config.to_dict(),
        "cv": v.cv.summary(),
        "cv_folds": frame_json(v.cv.fold_metrics),
        "retrained_micro_auc": v.retrained_micro_auc,
        "retrained_micro_ap": v.retrained_micro_ap,
        "retrained_epochs": v.cv.median_best_epoch,
        "set_sizes": {k: len(s) for k, s in v.sets.items()},
        "set_scores": {m: frame_json(t) for m, t in v.set_scores.items()},
        "own_vs_null": {m: frame_json(t) for m, t in v.own_vs_null.items()},
        "top_genes": {m: frame_json(t) for m, t in v.top_genes.items()},
        "top_share": v.top_share,
        "own_enrichment": {k: frame_json(t) for k, t in v.own_enrichment.items()},
        "gsea_verhaak": gsea_own,
        "figures": figs,
    }


def subtype_figures(v, fig_dir: Path) -> dict[str, str]:
    figs = {}
    for mode, res in v.masking.items():
        fig = probability_heatmap(
            res,
            ["Mesenchymal", ALL_SET, RANDOM_SET],
            collection="validation",
            title=f"subtype network, gene masking ({mode.replace('_', '-')})",
        )
        figs[f"probabilities_{mode}"] = save_png(fig, f"subtype_masking_{mode}", fig_dir, dpi=70)
    # AP of the validation sets per class, both modes side by side (Fig. 5b analogue)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2), sharey=True)
    for ax, (mode, res) in zip(axes, v.masking.items(), strict=True):
        t = res.table[res.table["collection"] == "validation"]
        mat = t.pivot(index="set", columns="class", values="ap")
        mat = mat.reindex([*SUBTYPES, ALL_SET, RANDOM_SET])
        im = ax.imshow(mat.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), val in np.ndenumerate(mat.to_numpy()):
            ax.text(j, i, f"{val:.2f}", ha="center", va="center", fontsize=7, color="w")
        ax.set_xticks(range(mat.shape[1]), [c[:4] for c in mat.columns])
        ax.set_yticks(range(mat.shape[0]), [f"{s} ({v.sets[s].__len__()})" for s in mat.index])
        ax.set_title(f"masking AP, {mode.replace('_', '-')}", fontsize=9)
    fig.colorbar(im, ax=axes, shrink=0.8)
    figs["set_ap"] = save_png(fig, "subtype_set_ap", fig_dir)
    # top-20 single genes per subtype, coloured by membership of the class's own set
    sig = {k: set(v.sets[k]) for k in SUBTYPES}
    fig, axes = plt.subplots(2, 4, figsize=(12, 7))
    for r, (mode, res) in enumerate(v.masking.items()):
        singles = res.table[res.table["collection"] == "single_genes"]
        for c, cls in enumerate(SUBTYPES):
            ax = axes[r, c]
            top = (
                singles[singles["class"] == cls]
                .sort_values(["ap", "set"], ascending=[False, True])
                .head(20)
            )
            colours = ["tab:red" if g in sig[cls] else "tab:grey" for g in top["set"]]
            ax.barh(range(len(top))[::-1], top["ap"], color=colours)
            ax.set_yticks(range(len(top))[::-1], top["set"], fontsize=6)
            ax.set_xlim(0, 1)
            ax.set_title(f"{cls} ({mode.replace('_', '-')})", fontsize=8)
            ax.tick_params(axis="x", labelsize=7)
    fig.suptitle("top 20 single genes by masking AP (red: in the class's own Verhaak set)")
    fig.tight_layout()
    figs["top_genes"] = save_png(fig, "subtype_top_genes", fig_dir)
    # NES of the Verhaak sets per class for the three rankings
    fig, axes = plt.subplots(1, 3, figsize=(11, 3), sharey=True)
    for ax, (kind, table) in zip(axes, v.gsea.items(), strict=True):
        sub = table[table["set"].isin(SUBTYPES)]
        nes = sub.pivot(index="set", columns="ranking", values="nes").reindex(SUBTYPES)
        padj = sub.pivot(index="set", columns="ranking", values="padj").reindex(SUBTYPES)
        nes, padj = nes[SUBTYPES], padj[SUBTYPES]
        lim = float(np.nanmax(np.abs(nes.to_numpy()))) or 1.0
        ax.imshow(nes.to_numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        for (i, j), val in np.ndenumerate(nes.to_numpy()):
            star = "*" if padj.iloc[i, j] < 0.05 else ""
            ax.text(j, i, f"{val:.1f}{star}", ha="center", va="center", fontsize=7)
        ax.set_xticks(range(4), [c[:4] for c in SUBTYPES])
        ax.set_yticks(range(4), SUBTYPES)
        ax.set_xlabel("ranking for class")
        ax.set_title(kind.replace("_", " "), fontsize=9)
    fig.suptitle("GSEA NES of the Verhaak sets (* padj < 0.05)", fontsize=10)
    fig.tight_layout()
    figs["gsea"] = save_png(fig, "subtype_gsea_nes", fig_dir)
    return figs


def part_study(config: Path, out: Path, seed: int, quick: bool) -> dict:
    """Run the real-data subtype study through the pipeline (``radiogenomics run``) and keep
    the numbers this page quotes from its run folder."""
    overrides = {"out": str(out / "runs"), "seed": seed, "quiet": True}
    cfg = load_config(config, {**overrides, **(QUICK_STUDY if quick else {})})
    outcomes = run_study(cfg)
    failed = [o for o in outcomes if o.status == "failed"]
    if failed:
        raise SystemExit(f"the study failed at {failed[0].stage}: see {cfg.run_dir / 'run.log'}")
    summary = summarise_study(cfg.run_dir)
    summary.pop("config")
    summary["config_file"] = os.path.relpath(config, REPO)
    summary["seconds"] = sum(s["seconds"] or 0.0 for s in summary["stages"])
    return summary


def part_autoencoder(data, settings: dict, seed: int) -> dict:
    config = AutoencoderConfig(**settings["autoencoder"])
    t0 = time.time()
    res = train_autoencoder(data.expression, config, n_splits=settings["folds"], seed=seed)
    return {
        "seconds": time.time() - t0,
        "config": config.to_dict(),
        "n_patients": int(len(data.expression)),
        "n_genes": int(data.expression.shape[1]),
        "summary": res.summary(),
        "folds": frame_json(res.fold_metrics),
    }


def part_planted(data, settings: dict, seed: int, fig_dir: Path) -> dict:
    config = NetworkConfig(**settings["trait_net"])
    needed = sorted({p for t in TRAITS for p in t.programmes})
    scores = programme_scores(data.expression, {p: data.hallmark[p] for p in needed})
    hall = programme_scores(data.expression, dict(data.hallmark))
    out = {"config": config.to_dict(), "traits": [], "seconds": 0.0}
    rows = []
    for spec in TRAITS:
        t0 = time.time()
        run = run_planted_trait(
            data.expression,
            spec,
            data.hallmark,
            config,
            n_splits=settings["folds"],
            seed=seed,
            null_draws=settings["null_draws"],
            nperm=settings["nperm"],
            scores=scores,
        )
        # the naive peer on the same labels: GSEA of each gene's correlation with the trait
        peer = correlation_gsea(
            data.expression, run.labels, {"hallmark": data.hallmark}, settings["nperm"], seed
        )
        secs = time.time() - t0
        out["seconds"] += secs
        summ = run.summary()
        peer_rank = peer.set_index("set")["rank"]
        summ["correlation_rank"] = summ["set"].map(peer_rank).astype(int)
        rows.append(summ)
        # how correlated is the planted programme with the best-ranked other set?
        corr = {}
        for name in set(summ["top_by_ap"]) | set(summ["top_by_null"]) | set(summ["gsea_top"]):
            corr[name] = {p: float(hall[p].corr(hall[name])) for p in spec.programmes}
        out["traits"].append(
            {
                "name": spec.name,
                "kind": spec.kind,
                "programmes": list(spec.programmes),
                "noise": spec.noise,
                "n_positive": int((run.labels == "present").sum()),
                "n_patients": int(len(run.labels)),
                "cv": run.cv.summary(),
                "seconds": secs,
                "summary": frame_json(summ),
                "top_set_correlation": corr,
            }
        )
        print(f"planted {spec.name}: {secs:.0f} s, CV AUC {run.cv.mean_auc:.3f}", flush=True)
    out["figures"] = {"ranks": planted_figure(pd.concat(rows, ignore_index=True), fig_dir)}
    return out


def planted_figure(summary: pd.DataFrame, fig_dir: Path) -> str:
    measures = [("rank_ap", "masking AP"), ("rank_null", "masking vs null"), ("gsea_rank", "GSEA")]
    labels = [f"{r.trait}\n{r.set.replace('HALLMARK_', '')[:22]}" for r in summary.itertuples()]
    uniq = list(dict.fromkeys(labels))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.5 + 0.55 * len(uniq)), sharey=True)
    for ax, mode in zip(axes, ["retrained", "out_of_fold"], strict=True):
        part = summary[summary["mode"] == mode]
        lab = [f"{r.trait}\n{r.set.replace('HALLMARK_', '')[:22]}" for r in part.itertuples()]
        y = np.array([uniq.index(x) for x in lab])
        for k, (col, name) in enumerate(measures):
            ax.barh(y + (k - 1) * 0.27, part[col], height=0.27, label=name)
        ax.axvline(3.5, color="k", lw=0.6, ls="--")
        ax.set_xscale("log")
        ax.set_xlim(0.8, 55)
        ax.set_yticks(range(len(uniq)), uniq, fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("rank of the planted set among 50 hallmark sets (1 = best)")
        ax.set_title(mode.replace("_", "-"), fontsize=9)
    axes[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return save_png(fig, "planted_ranks", fig_dir)


# ----------------------------------------------------------------------------- doc


def _records(x: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(x)


def _own_enriched(st: dict, ranking: str) -> str:
    own = [r for r in st["gsea"]["own_set"] if r["ranking"] == ranking]
    hits = sum(r["padj"] < 0.05 and r["nes"] > 0 for r in own)
    return f"{hits}/{len(own)}"


def study_side_by_side(st: dict) -> list[tuple]:
    """The paper's subtype rows, as the pipeline's own run of the study gives them."""
    net = st["classifiers"]["chosen"][0]
    return [
        (
            "subtype CV micro-AUC, through the pipeline",
            0.99,
            net["pooled_auc"],
            f"`{st['config_file']}`: {net['config']}, pooled out-of-fold",
        ),
        (
            "own set positively enriched, through the pipeline: masking / correlation GSEA",
            "4/4",
            f"{_own_enriched(st, 'masking_ap')} / {_own_enriched(st, 'correlation')}",
            "out-of-fold single-gene AP / gene-subtype correlation; BH within the Verhaak "
            "collection",
        ),
    ]


def render_study(st: dict) -> list[str]:
    """The section of the subtype study run through the pipeline (``study`` part)."""
    cl = st["classifiers"]
    net = cl["chosen"][0]
    models = [
        {
            "model": f"network {net['config']}",
            "CV AUC": f"{net['auc_mean']:.3f} ± {net['auc_sd']:.3f}",
            "pooled out-of-fold AUC": net["pooled_auc"],
            "retrained (own patients)": net["retrained_auc"],
        }
    ]
    models += [
        {
            "model": f"{b['model']} {b['params']}",
            "CV AUC": f"{b['auc_mean']:.3f} ± {b['auc_sd']:.3f}",
            "pooled out-of-fold AUC": None,
            "retrained (own patients)": None,
        }
        for b in cl.get("baselines", [])
    ]
    lines = [
        "### The subtype study through the pipeline",
        "",
        f"`radiogenomics run {st['config_file']}`: the same data read by the pipeline's own "
        "loader (primary-tumour aliquots, genes with mean log2(TPM+1) >= 1 by "
        "`[data] min_mean_expression`), then every stage a user gets. Run time "
        f"{st['seconds'] / 60:.1f} min ({', '.join(_stage_time(r) for r in st['stages'])}).",
        "",
        markdown_table(pd.DataFrame(models), 3),
        "",
    ]
    own = pd.DataFrame(st["own_set_masking"])
    if not own.empty:
        own["rank by AP"] = own["rank_ap"].astype(str) + "/" + own["n_sets"].astype(str)
        lines += [
            "Masking each class's own Verhaak set (every other gene at the training mean); "
            "p: against size-matched random sets:",
            "",
            markdown_table(own[["mode", "class", "size", "auc", "ap", "p_ap", "rank by AP"]], 3),
            "",
        ]
    gs = pd.DataFrame(st["gsea"]["own_set"])
    if not gs.empty:
        wide = gs.pivot(index="class", columns="ranking", values=["nes", "padj", "rank"])
        wide.columns = [f"{r} {v}" for v, r in wide.columns]
        wide = wide[sorted(wide.columns)].reset_index()
        for c in wide.columns:
            if c.endswith(" rank"):
                wide[c] = wide[c].astype(int)
        lines += [
            "GSEA of each class's own set, the network's ranking (out-of-fold single-gene "
            "masking AP) beside the naive peer (each gene's correlation with the class "
            "indicator); padj is BH within the 4 Verhaak sets:",
            "",
            markdown_table(wide, 4),
            "",
        ]
    top = pd.DataFrame(st["gsea"]["top"])
    top = top[top["collection"] != "verhaak_subtypes"]
    if not top.empty:
        top["top set"] = top["set"].str.replace("HALLMARK_", "")
        top["significant"] = top["n_significant"].astype(str) + "/" + top["n_sets"].astype(str)
        cols = ["collection", "class", "ranking", "top set", "nes", "padj", "significant"]
        lines += [
            "The best set of the other collections by each ranking (significant: padj < 0.05 "
            "and NES > 0):",
            "",
            markdown_table(top[cols], 3),
            "",
        ]
    sv = pd.DataFrame(st["survival"])
    if not sv.empty:
        sv = sv.rename(
            columns={
                "larger_variables": "full model",
                "smaller_variables": "clinical + imaging only",
                "lr_statistic": "LR",
                "aic_difference": "AIC full - smaller",
            }
        )
        for c in ("full model", "clinical + imaging only"):
            sv[c] = sv[c].str.replace(";", ", ")
        cols = ["outcome", "n", "events", "full model", "clinical + imaging only", "LR", "df"]
        cols += ["p", "AIC full - smaller"]
        lines += [
            "Survival: the stepwise Cox model with the radiogenomic traits against the same "
            "selection without them (forced clinical covariates; this study has no imaging "
            "traits, so the smaller model is clinical only):",
            "",
            markdown_table(sv[cols], 3),
            "",
        ]
    return lines


def _stage_time(row: dict) -> str:
    return f"{row['stage']} {row['seconds']:.0f} s"


def render(cache: dict, settings: dict, seed: int, fig_rel: str) -> str:
    s, ae, pl = cache.get("subtypes"), cache.get("autoencoder"), cache.get("planted")
    st = cache.get("study")
    meta = cache.get("meta", {})
    lines = [BEGIN, ""]
    lines.append(
        f"Generated by `scripts/make_results.py` (seed {seed}, {meta.get('mode', '?')} settings) "
        f"on {meta.get('machine', '?')}; run time {meta.get('total_seconds', float('nan')) / 60:.1f}"
        " min in all (per part below)."
    )
    lines.append("")
    if s:
        sc = {m: _records(t).set_index("set") for m, t in s["set_scores"].items()}
        tg = {m: _records(t).set_index("class") for m, t in s["top_genes"].items()}
        oe = {k: _records(t).set_index("class") for k, t in s["own_enrichment"].items()}
        rt, oof = "retrained", "out_of_fold"

        def both(f):
            return f"{f(rt)} / {f(oof)}"

        def pos(kind):
            o = oe[kind]
            return f"{int(o['positively_enriched'].sum())}/4"

        rows = [
            (
                "subtype CV micro-AUC",
                0.99,
                s["cv"]["pooled_auc"],
                f"pooled out-of-fold; mean over folds {s['cv']['mean_auc']:.2f}",
            ),
            (
                "MES set masking AUC / AP (mesenchymal)",
                "0.90 / 0.89",
                both(
                    lambda m: (
                        f"{sc[m].loc['Mesenchymal', 'auc_Mesenchymal']:.2f}/"
                        f"{sc[m].loc['Mesenchymal', 'ap_Mesenchymal']:.2f}"
                    )
                ),
                f"retrained / out-of-fold; {int(sc[rt].loc['Mesenchymal', 'size'])} of "
                f"{s['set_sizes']['Mesenchymal']} MES genes expressed",
            ),
            (
                "all subtype genes masking AUC / AP (micro)",
                "0.99 / 0.98",
                both(
                    lambda m: (
                        f"{sc[m].loc[ALL_SET, 'micro_auc']:.2f}/"
                        f"{sc[m].loc[ALL_SET, 'micro_ap']:.2f}"
                    )
                ),
                f"{int(sc[rt].loc[ALL_SET, 'size'])} expressed of the {s['set_sizes'][ALL_SET]} "
                "unique genes in the 840-row ClaNC file",
            ),
            (
                "full model AP (micro)",
                1.0,
                f"{s['retrained_micro_ap']:.2f} / {s['cv']['pooled_ap']:.2f}",
                "retrained on its own patients / out-of-fold",
            ),
            (
                f"{s['set_sizes'][RANDOM_SET]} random non-subtype genes: AP (micro)",
                0.68,
                both(lambda m: f"{sc[m].loc[RANDOM_SET, 'micro_ap']:.2f}"),
                "retrained / out-of-fold",
            ),
            (
                "proneural: top-20 single genes in the PN set",
                "18/20",
                both(lambda m: f"{tg[m].loc['Proneural', 'own_set']}/20"),
                "retrained / out-of-fold",
            ),
            (
                "share of subtype genes among the top 500 genes by AP",
                "54%",
                both(lambda m: f"{100 * s['top_share'][m]['share_of_top']:.0f}%"),
                "gene's best AP over the 4 classes; subtype genes are "
                f"{100 * s['top_share'][rt]['subtype_genes_ranked'] / cache['data']['genes_kept']:.1f}"
                "% of the genes here (paper: 840/12,042 = 7.0%)",
            ),
            (
                "own set positively enriched (padj<0.05), GSEA of single-gene AP",
                "4/4",
                f"{pos('masking_ap_retrained')} / {pos('masking_ap_out_of_fold')}",
                "retrained / out-of-fold",
            ),
            (
                "own set positively enriched, GSEA of gene-subtype correlation",
                "4/4",
                pos("correlation"),
                "Pearson r with the class indicator",
            ),
        ]
        if st:
            rows += study_side_by_side(st)
        if ae:
            rows.append(
                (
                    "autoencoder CV R^2",
                    0.45,
                    ae["summary"]["cv_r2"],
                    f"{ae['n_patients']} RNA-seq patients (paper: 353 array patients)",
                )
            )
        lines += ["### Side by side: the paper vs this tool on TCGA-GBM RNA-seq", ""]
        lines.append(markdown_table(side_by_side(rows)))
        lines.append("")
        lines.append(
            f"Subtype network: {NetworkConfig(**s['config']).label()}, batch "
            f"{s['config']['batch_size']}, up to {s['config']['max_epochs']} epochs (patience "
            f"{s['config']['patience']}), {s['cv']['n_splits']}-fold CV on "
            f"{s['cv']['n_patients']} patients, retrained for {s['retrained_epochs']} epochs; "
            f"mean fold AUC {s['cv']['mean_auc']:.3f} (SD {s['cv']['std_auc']:.3f}). "
            f"Run time {s['seconds'] / 60:.1f} min."
        )
        lines.append("")
        lines += ["#### Masking with the validation sets (AUC / AP per class)", ""]
        for m in (rt, oof):
            t = sc[m]
            tab = pd.DataFrame(
                {
                    "set": t.index,
                    "genes": t["size"].astype(int),
                    **{
                        c: [
                            f"{a:.2f}/{b:.2f}"
                            for a, b in zip(t[f"auc_{c}"], t[f"ap_{c}"], strict=True)
                        ]
                        for c in SUBTYPES
                    },
                    "micro AUC/AP": [
                        f"{a:.2f}/{b:.2f}"
                        for a, b in zip(t["micro_auc"], t["micro_ap"], strict=True)
                    ],
                }
            )
            lines += [f"*{m.replace('_', '-')}*", "", markdown_table(tab), ""]
        lines += ["#### Each subtype's own set against size-matched random gene sets", ""]
        for m in (rt, oof):
            t = _records(s["own_vs_null"][m])[
                ["class", "size", "ap", "null_ap_mean", "null_ap_q95", "p_ap", "n_draws"]
            ]
            lines += [f"*{m.replace('_', '-')}*", "", markdown_table(t, 3), ""]
        lines += ["#### Top 20 single genes per subtype: how many are in the own set", ""]
        for m in (rt, oof):
            t = _records(s["top_genes"][m])[["class", "own_set", "any_subtype_set", "genes"]]
            lines += [f"*{m.replace('_', '-')}*", "", markdown_table(t), ""]
        share = pd.DataFrame(s["top_share"]).T.reset_index(names="mode")
        for c in ("n_top", "n_subtype", "subtype_genes_ranked"):
            share[c] = share[c].astype(int)
        n_genes = int(cache.get("data", {}).get("genes_kept", 0)) or float("nan")
        share["base_rate"] = share["subtype_genes_ranked"] / n_genes
        share["enrichment"] = share["share_of_top"] / share["base_rate"]
        lines += ["Top 500 genes by AP:", "", markdown_table(share, 3), ""]
        lines += ["#### GSEA: each subtype's own set (Verhaak + 50 hallmark sets tested)", ""]
        for kind, t in s["own_enrichment"].items():
            t = _records(t)[["class", "nes", "pval", "padj", "rank_by_nes", "n_sets"]]
            lines += [f"*{kind.replace('_', ' ')}*", "", markdown_table(t, 4), ""]
        lines.append(
            f"Permutation p-values ({settings['nperm']} permutations; fgsea's p counts null ES "
            "of the same sign, so its floor depends on the set and the ranking)."
        )
        lines.append("")
        f = s["figures"]
        lines += [
            "#### Figures",
            "",
            f"![masked probabilities, retrained]({fig_rel}/{f['probabilities_retrained']})",
            f"![masked probabilities, out-of-fold]({fig_rel}/{f['probabilities_out_of_fold']})",
            f"![validation-set AP]({fig_rel}/{f['set_ap']})",
            f"![top genes]({fig_rel}/{f['top_genes']})",
            f"![GSEA NES]({fig_rel}/{f['gsea']})",
            "",
        ]
    if st:
        lines += render_study(st)
    if ae:
        folds = _records(ae["folds"])
        lines += [
            "### Autoencoder",
            "",
            f"{AutoencoderConfig(**ae['config']).hidden} {ae['config']['activation']} "
            f"{ae['config']['optimizer']}, batch {ae['config']['batch_size']}, up to "
            f"{ae['config']['max_epochs']} epochs (patience {ae['config']['patience']}), trained "
            f"on all {ae['n_patients']} RNA-seq patients x {ae['n_genes']} genes. CV R^2 "
            f"{ae['summary']['cv_r2']:.3f}, retrained R^2 {ae['summary']['retrained_r2']:.3f}. "
            f"Run time {ae['seconds'] / 60:.1f} min.",
            "",
            markdown_table(folds, 3),
            "",
        ]
    if pl:
        lines += ["### Planted imaging traits", ""]
        lines.append(
            f"Network: {NetworkConfig(**pl['config']).label()}, batch "
            f"{pl['config']['batch_size']}, up to {pl['config']['max_epochs']} epochs (patience "
            f"{pl['config']['patience']}); {settings['null_draws']} null draws per set size; GSEA "
            f"with {settings['nperm']} permutations. Ranks are among the 50 hallmark sets "
            f"(1 = best). Run time {pl['seconds'] / 60:.1f} min."
        )
        lines.append("")
        trows = []
        for t in pl["traits"]:
            trows.append(
                {
                    "trait": t["name"],
                    "function": t["kind"],
                    "programmes": ", ".join(p.replace("HALLMARK_", "") for p in t["programmes"]),
                    "noise SD": t["noise"],
                    "positive": f"{t['n_positive']}/{t['n_patients']}",
                    "CV AUC": t["cv"]["mean_auc"],
                }
            )
        lines += [markdown_table(pd.DataFrame(trows)), ""]
        summ = pd.concat([_records(t["summary"]) for t in pl["traits"]], ignore_index=True)
        summ["set"] = summ["set"].str.replace("HALLMARK_", "")
        for c in ("top_by_ap", "top_by_null", "gsea_top"):
            summ[c] = summ[c].str.replace("HALLMARK_", "")
        cols = [
            "trait",
            "mode",
            "set",
            "masking_ap",
            "rank_ap",
            "rank_null",
            "q_ap",
            "gsea_nes",
            "gsea_padj",
            "gsea_rank",
            "correlation_rank",
            "top_by_ap",
            "top_by_null",
            "gsea_top",
        ]
        lines += [markdown_table(summ[cols], 3), ""]
        lines.append(
            "rank_ap: rank by masking AP alone (the paper's reading); rank_null: rank by the "
            "z-score of the AP against random sets of the same size; q_ap: BH q of the empirical "
            "p; gsea_rank: rank by NES in GSEA of single-gene masking AP; correlation_rank: "
            "rank by NES in GSEA of each gene's correlation with the trait (the naive peer). "
            "top_by_*: the set ranked first."
        )
        lines.append("")
        corr_rows = []
        for t in pl["traits"]:
            for name, cs in sorted(t["top_set_correlation"].items()):
                if name in t["programmes"]:
                    continue
                for p, r in cs.items():
                    corr_rows.append(
                        {
                            "trait": t["name"],
                            "top-ranked other set": name.replace("HALLMARK_", ""),
                            "planted": p.replace("HALLMARK_", ""),
                            "score correlation": r,
                        }
                    )
        if corr_rows:
            lines += [
                "Correlation over patients between the planted programme's score and each "
                "other set ranked first somewhere above:",
                "",
                markdown_table(pd.DataFrame(corr_rows)),
                "",
            ]
        lines += [f"![planted ranks]({fig_rel}/{pl['figures']['ranks']})", ""]
    lines += ["#### Settings", "", "```json", json.dumps(settings, indent=1), "```", "", END]
    return "\n".join(lines)


def write_doc(path: Path, block: str) -> None:
    text = (
        path.read_text()
        if path.exists()
        else f"# Results on real TCGA-GBM data\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN in text and END in text:
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text)


# ----------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    data_dir = REPO.parent / "shared" / "data"
    ap.add_argument("--data", default=str(data_dir), help=f"the shared data ({data_dir})")
    ap.add_argument(
        "--out", default=None, help="cache folder (runs/results; --quick: runs/results-quick)"
    )
    ap.add_argument("--doc", default=None, help="the doc `doc` renders (docs/results.md)")
    ap.add_argument(
        "--figures",
        default=None,
        help="figure folder (docs/figures/results; --quick: under --out)",
    )
    ap.add_argument(
        "--only", default=",".join(PARTS), help=f"parts, a comma list of {', '.join(PARTS)}"
    )
    ap.add_argument("--study", default=str(STUDY_CONFIG), help="the study file of `study`")
    ap.add_argument("--seed", type=int, default=0, help="seed of every part (0)")
    ap.add_argument("--quick", action="store_true", help="small settings (a smoke run)")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (2)")
    ap.add_argument("--genes", type=int, default=0, help="keep the N most expressed (smoke runs)")
    args = ap.parse_args(argv)
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown or not parts:  # an unknown part failed after the data and earlier parts
        ap.error(
            f"argument --only: {', '.join(unknown) or repr(args.only)} "
            f"(expected a comma list of {', '.join(PARTS)})"
        )
    if args.threads < 1 or args.genes < 0:
        ap.error(f"--threads {args.threads} / --genes {args.genes}: expected >= 1 / >= 0")
    out = Path(args.out or REPO / "runs" / ("results-quick" if args.quick else "results"))
    fig_dir = Path(args.figures or (out / "figures" if args.quick else DOC_FIGURES))
    if args.quick and args.doc is None and "doc" in parts:
        parts.remove("doc")
        print(f"--quick: {DOC} is not rendered (give --doc to render one)")
    doc = Path(args.doc or DOC)
    computing = [p for p in parts if p != "doc"]
    if computing and not (Path(args.data) / "tcga_gbm").is_dir():
        ap.error(f"argument --data: no tcga_gbm/ in {args.data} (expected the shared data)")
    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    settings = QUICK if args.quick else FULL
    cache_path = out / "results.json"
    cache = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    if "doc" in parts and not computing and not set(cache) & set(PARTS):
        # an empty cache (after a clean, or a wrong --out) replaced the doc's numbers with '?'
        ap.error(f"no cached results in {cache_path}: run the computing parts first")
    if computing:
        t0 = time.time()
        data = load_real_data(args.data, settings["min_mean_log2tpm"])
        if args.genes:
            top = data.expression.mean().sort_values(ascending=False).index[: args.genes]
            data.expression = data.expression[top]
        cache["data"] = data.summary()
        print(f"data: {cache['data']} ({time.time() - t0:.0f} s)", flush=True)
        for part in computing:
            t = time.time()
            if part == "subtypes":
                cache[part] = part_subtypes(data, settings, args.seed, fig_dir)
            elif part == "autoencoder":
                cache[part] = part_autoencoder(data, settings, args.seed)
            elif part == "study":
                cache[part] = part_study(Path(args.study), out, args.seed, args.quick)
            elif part == "planted":
                cache[part] = part_planted(data, settings, args.seed, fig_dir)
            print(f"{part}: {time.time() - t:.0f} s", flush=True)
            cache["meta"] = {
                "mode": "quick" if args.quick else "full",
                "machine": f"{platform.machine()} CPU x{torch.get_num_threads()} threads, "
                f"torch {torch.__version__}",
                "total_seconds": sum(
                    cache[p]["seconds"]
                    for p in ("study", "subtypes", "autoencoder", "planted")
                    if p in cache
                ),
                "settings": settings,
                "seed": args.seed,
            }
            write_json(cache_path, cache)
    if "doc" in parts:
        meta = cache.get("meta", {})
        fig_rel = os.path.relpath(fig_dir.resolve(), doc.resolve().parent)
        block = render(
            cache, meta.get("settings", settings), meta.get("seed", args.seed), str(fig_rel)
        )
        write_doc(doc, block)
        print(f"wrote {doc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
