"""The paper's validation task on real RNA-seq: a subtype network interpreted should point at the
Verhaak subtype genes (METHOD.md section 4, "Paper's validation").

The pieces are small functions over masking tables and rankings so that each can be checked on
its own; :func:`validate_subtypes` runs the whole analysis (CV, retraining, retrained and
out-of-fold masking, GSEA of single-gene masking AP and of gene-subtype correlation).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.enrichment import gsea_many
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult, cross_validate, retrain
from radiogenomics.evaluation.nn_metrics import ap_score, auc_score
from radiogenomics.interpret import MaskingResult, gene_masking, out_of_fold_masking
from radiogenomics.interpret.masking import SINGLE_GENES
from radiogenomics.models import NetworkConfig, TrainedModel
from radiogenomics.utils.seeding import rng

ALL_SET = "all_subtype_genes"
RANDOM_SET = "random_non_subtype"
VALIDATION = "validation"


def random_gene_set(
    universe: Iterable[str], exclude: Iterable[str], size: int = 200, seed: int = 0
) -> list[str]:
    """``size`` genes drawn without replacement from ``universe`` minus ``exclude`` (sorted)."""
    excluded = set(map(str, exclude))
    pool = sorted({str(g) for g in universe} - excluded)
    if size < 1 or size > len(pool):
        raise InputError(
            f"cannot draw {size} genes from {len(pool)} candidates",
            field="random_size",
            expected=f"1..{len(pool)}",
        )
    pick = rng(seed, "random-non-subtype", size).choice(len(pool), size=size, replace=False)
    return sorted(pool[i] for i in pick)


def validation_gene_sets(
    signatures: Mapping[str, Iterable[str]],
    universe: Iterable[str],
    random_size: int = 200,
    seed: int = 0,
) -> dict[str, list[str]]:
    """Each subtype's signature, their union (``all_subtype_genes``) and ``random_size`` random
    genes outside every signature (``random_non_subtype``), as in the paper's Fig. 5."""
    sets = {str(k): sorted(map(str, v)) for k, v in signatures.items()}
    union = sorted(set().union(*sets.values()))
    sets[ALL_SET] = union
    sets[RANDOM_SET] = random_gene_set(universe, union, random_size, seed)
    return sets


def masking_ap_ranking(table: pd.DataFrame, metric: str = "ap") -> pd.DataFrame:
    """Single-gene masking scores as a genes x classes frame (the GSEA rankings)."""
    singles = table[table["collection"] == SINGLE_GENES]
    if singles.empty:
        raise InputError(
            "the masking table has no single-gene rows",
            field="single_genes",
            expected="masking run with single_genes=True",
        )
    out = singles.pivot(index="set", columns="class", values=metric)
    out.index.name = "gene"
    out.columns.name = None
    return out.dropna(how="any")


def correlation_ranking(X: pd.DataFrame, labels: pd.Series) -> pd.DataFrame:
    """Pearson correlation of every gene with each class indicator (genes x classes).

    Genes constant over the labelled patients are dropped (their correlation is undefined).
    """
    labels = labels.dropna().astype(str)
    Xl = X.loc[labels.index].to_numpy(dtype=np.float64)
    keep = Xl.std(axis=0) > 0
    Xl = Xl[:, keep]
    Zx = (Xl - Xl.mean(axis=0)) / Xl.std(axis=0)
    classes = sorted(labels.unique())
    out = {}
    for c in classes:
        ind = (labels.to_numpy() == c).astype(np.float64)
        zi = (ind - ind.mean()) / ind.std()
        out[c] = Zx.T @ zi / len(zi)
    return pd.DataFrame(out, index=pd.Index(X.columns[keep], name="gene"))


def top_gene_membership(
    ranking: pd.DataFrame, signatures: Mapping[str, Iterable[str]], n: int = 20
) -> pd.DataFrame:
    """Per class: how many of its ``n`` best genes are in that class's own signature and in any.

    Ties are broken by gene name so the answer never depends on input order.
    """
    union = set().union(*(set(map(str, v)) for v in signatures.values()))
    rows = []
    for cls in ranking.columns:
        own = set(map(str, signatures.get(cls, ())))
        col = ranking[cls].rename("score").reset_index()
        col.columns = ["gene", "score"]
        top = col.sort_values(["score", "gene"], ascending=[False, True]).head(n)["gene"]
        rows.append(
            {
                "class": cls,
                "n": len(top),
                "own_set": int(sum(g in own for g in top)),
                "any_subtype_set": int(sum(g in union for g in top)),
                "genes": ", ".join(top),
            }
        )
    return pd.DataFrame(rows)


def share_of_signature_genes(
    ranking: pd.DataFrame, signature_genes: Iterable[str], n: int = 500
) -> dict[str, float]:
    """Of the ``n`` genes with the best score for any class (max over classes), how many are
    subtype genes; also as a share of all subtype genes the ranking holds."""
    union = set(map(str, signature_genes))
    best = ranking.max(axis=1).rename("score").reset_index()
    best.columns = ["gene", "score"]
    top = best.sort_values(["score", "gene"], ascending=[False, True]).head(n)["gene"]
    hits = int(sum(g in union for g in top))
    present = len(union & set(map(str, ranking.index)))
    return {
        "n_top": len(top),
        "n_subtype": hits,
        "share_of_top": hits / max(len(top), 1),
        "subtype_genes_ranked": present,
        "share_of_subtype_genes": hits / max(present, 1),
    }


def own_set_enrichment(
    rankings: pd.DataFrame,
    gene_sets: Mapping[str, Iterable[str]],
    own: Mapping[str, str] | None = None,
    nperm: int = 10000,
    seed: int = 0,
    min_size: int = 15,
    max_size: int = 500,
    alpha: float = 0.05,
    small_p: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Preranked GSEA of every ranking (genes x classes) and each class's own set's result.

    ``own`` maps class -> set name (default: the set named like the class). Returns the long
    GSEA table and one row per class: nes, pval, padj, its rank by NES among every tested set
    (1 = most positively enriched) and whether it is positively enriched at ``alpha``.
    ``small_p`` is passed to :func:`gsea_many`: None keeps permutation p-values (floor
    1 / (nperm + 1)), "multilevel" refines the smallest ones (slower).
    """
    own = dict(own or {c: c for c in rankings.columns})
    res = gsea_many(
        rankings,
        dict(gene_sets),
        nperm=nperm,
        seed=seed,
        min_size=min_size,
        max_size=max_size,
        small_p=small_p,
    ).table
    rows = []
    for cls in rankings.columns:
        part = res[res["ranking"] == cls].sort_values("nes", ascending=False, kind="stable")
        name = own.get(cls)
        hit = part[part["set"] == name]
        if hit.empty:
            raise InputError(
                f"the own set {name!r} of class {cls!r} was not tested",
                field="gene_sets",
                expected=f"a set of {min_size}..{max_size} ranked genes named {name!r}",
            )
        r = hit.iloc[0]
        rows.append(
            {
                "class": cls,
                "set": name,
                "size": int(r["size"]),
                "nes": float(r["nes"]),
                "pval": float(r["pval"]),
                "padj": float(r["padj"]),
                "rank_by_nes": int(np.flatnonzero(part["set"].to_numpy() == name)[0]) + 1,
                "n_sets": len(part),
                "positively_enriched": bool(r["nes"] > 0 and r["padj"] < alpha),
            }
        )
    return res, pd.DataFrame(rows)


def set_scores(result: MaskingResult, collection: str = VALIDATION) -> pd.DataFrame:
    """Per validation set: each class's AUC/AP (and null p) plus micro AUC/AP over classes."""
    t = result.table[result.table["collection"] == collection]
    codes_of = {c: i for i, c in enumerate(result.classes)}
    codes = result.labels.map(codes_of).to_numpy()
    rows = []
    for name, part in t.groupby("set", sort=False):
        row = {"set": name, "size": int(part["size"].iloc[0])}
        row["coverage_pct"] = float(part["coverage_pct"].iloc[0])
        for _, r in part.iterrows():
            row[f"auc_{r['class']}"] = float(r["auc"])
            row[f"ap_{r['class']}"] = float(r["ap"])
            if "p_ap" in r:
                row[f"p_ap_{r['class']}"] = float(r["p_ap"])
        if result.probabilities is not None:
            P = result.probability_frame(name, collection).to_numpy()
            row["micro_auc"] = auc_score(codes, P)
            row["micro_ap"] = ap_score(codes, P)
        rows.append(row)
    return pd.DataFrame(rows)


def own_set_vs_null(result: MaskingResult, classes: Sequence[str]) -> pd.DataFrame:
    """Each class's own signature set against its size-matched random sets (AP and AUC)."""
    if result.null is None:
        raise InputError("the masking run has no null", field="null_draws", expected="> 0")
    t = result.table[result.table["collection"] == VALIDATION]
    rows = []
    for cls in classes:
        r = t[(t["set"] == cls) & (t["class"] == cls)].iloc[0]
        draws = result.null[(result.null["size"] == r["size"]) & (result.null["class"] == cls)]
        rows.append(
            {
                "class": cls,
                "size": int(r["size"]),
                "ap": float(r["ap"]),
                "null_ap_mean": float(draws["ap"].mean()),
                "null_ap_q95": float(draws["ap"].quantile(0.95)),
                "p_ap": float(r["p_ap"]),
                "auc": float(r["auc"]),
                "null_auc_mean": float(draws["auc"].mean()),
                "p_auc": float(r["p_auc"]),
                "n_draws": len(draws),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class SubtypeValidation:
    """Everything the subtype validation measured (tables keyed by masking mode)."""

    cv: CVResult
    model: TrainedModel
    retrained_micro_auc: float
    retrained_micro_ap: float
    masking: dict[str, MaskingResult]
    set_scores: dict[str, pd.DataFrame]
    own_vs_null: dict[str, pd.DataFrame]
    top_genes: dict[str, pd.DataFrame]
    top_share: dict[str, dict[str, float]]
    gsea: dict[str, pd.DataFrame]  # ranking kind -> long GSEA table
    own_enrichment: dict[str, pd.DataFrame]  # ranking kind -> one row per class
    sets: dict[str, list[str]] = field(default_factory=dict)


def validate_subtypes(
    X: pd.DataFrame,
    subtypes: pd.Series,
    signatures: Mapping[str, Iterable[str]],
    config: NetworkConfig,
    n_splits: int = 10,
    seed: int = 0,
    null_draws: int = 100,
    nperm: int = 10000,
    random_size: int = 200,
    extra_sets: Mapping[str, Iterable[str]] | None = None,
    top_n: int = 20,
    top_share_n: int = 500,
    quiet: bool = True,
) -> SubtypeValidation:
    """The subtype validation end to end on one expression matrix.

    CV (kept fold models) -> retraining for the median best epoch -> masking of the validation
    sets and of every gene, on the retrained model (the paper) and out of fold -> top-gene
    membership, top-500 share, and GSEA of single-gene AP and of gene-subtype correlation with
    the signature sets (plus ``extra_sets``, e.g. the hallmark collection) as the tested sets.
    """
    y = subtypes.dropna().astype(str)
    y = y[y.index.isin(X.index)]
    cv = cross_validate(X, y, config, n_splits=n_splits, seed=seed, keep_models=True)
    model = retrain(X, y, config, cv_result=cv, seed=seed)
    Pfull = model.predict_proba(X.loc[y.index]).to_numpy()
    codes = y.map({c: i for i, c in enumerate(model.classes)}).to_numpy()
    sets = validation_gene_sets(signatures, model.genes, random_size, seed)
    kwargs = dict(
        gene_sets={VALIDATION: sets},
        single_genes=True,
        null_draws=null_draws,
        seed=seed,
        return_probabilities=True,
        quiet=quiet,
    )
    masking = {
        "retrained": gene_masking(model, X, y, **kwargs),
        "out_of_fold": out_of_fold_masking(cv, X, y, **kwargs),
    }
    classes = list(model.classes)
    sig = {str(k): list(map(str, v)) for k, v in signatures.items()}
    union = set().union(*map(set, sig.values()))
    tested = dict(sig) | {str(k): list(v) for k, v in (extra_sets or {}).items()}
    out = SubtypeValidation(
        cv=cv,
        model=model,
        retrained_micro_auc=auc_score(codes, Pfull),
        retrained_micro_ap=ap_score(codes, Pfull),
        masking=masking,
        set_scores={},
        own_vs_null={},
        top_genes={},
        top_share={},
        gsea={},
        own_enrichment={},
        sets=sets,
    )
    for mode, res in masking.items():
        out.set_scores[mode] = set_scores(res)
        out.own_vs_null[mode] = own_set_vs_null(res, classes)
        ranking = masking_ap_ranking(res.table, "ap")
        out.top_genes[mode] = top_gene_membership(ranking, sig, top_n)
        out.top_share[mode] = share_of_signature_genes(ranking, union, top_share_n)
        full, own = own_set_enrichment(ranking, tested, nperm=nperm, seed=seed)
        out.gsea[f"masking_ap_{mode}"] = full
        out.own_enrichment[f"masking_ap_{mode}"] = own
    corr = correlation_ranking(X, y)
    full, own = own_set_enrichment(corr, tested, nperm=nperm, seed=seed)
    out.gsea["correlation"] = full
    out.own_enrichment["correlation"] = own
    return out
