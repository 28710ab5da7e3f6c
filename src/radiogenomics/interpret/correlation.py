"""The naive peer of every network read-out: GSEA of each gene's correlation with the trait.

A biologist's first try at "which programme drives this trait": rank the genes by their Pearson
correlation with the trait (the class indicator, one ranking per class of a multi-class task)
over the labelled patients, and run preranked GSEA (METHOD.md section 6 lists it as the
comparison the paper also shows). No network is involved, so a network read-out is only worth
its cost where it beats this.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from radiogenomics.enrichment import gsea_many
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import align, check_expression, encode_labels


def scored_classes(classes: list[str]) -> list[str]:
    """Classes that get a ranking: the positive class of a binary task, else every class."""
    return [classes[1]] if len(classes) == 2 else list(classes)


def correlation_ranking(
    X: pd.DataFrame, y: pd.Series, classes: list[str] | None = None
) -> pd.DataFrame:
    """Pearson correlation of every gene with each scored class's indicator (genes x classes).

    Binary tasks give one column, the positive (least frequent) class, as in the networks;
    ``classes`` fixes the class order as :func:`~radiogenomics.evaluation.nn_cv.encode_labels`
    does. Unlabelled patients are left out; genes constant over the labelled patients are
    dropped (their correlation is undefined).
    """
    X = check_expression(X)
    labels, classes, codes = encode_labels(y, classes, str(y.name or "trait"))
    Xl, labels = align(X, labels, str(y.name or "trait"))
    codes = labels.map({c: i for i, c in enumerate(classes)}).to_numpy()
    values = Xl.to_numpy(dtype=np.float64)
    sd = values.std(axis=0)
    keep = sd > 0
    Z = (values[:, keep] - values[:, keep].mean(axis=0)) / sd[keep]
    out = {}
    for cls in scored_classes(classes):
        ind = (codes == classes.index(cls)).astype(np.float64)
        out[cls] = Z.T @ ((ind - ind.mean()) / ind.std()) / len(ind)
    return pd.DataFrame(out, index=pd.Index(Xl.columns[keep].astype(str), name="gene"))


def pearson_columns(values: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``values`` (patients x genes) with every column
    of ``targets`` (patients x k): genes x k; 0 for a constant gene or target."""
    v = values - values.mean(axis=0)
    t = targets - targets.mean(axis=0)
    vs = np.sqrt((v**2).sum(axis=0))
    ts = np.sqrt((t**2).sum(axis=0))
    num = v.T @ t
    den = np.outer(vs, ts)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def score_correlation_ranking(X: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlation of every gene with each column of ``scores`` (patients x columns,
    e.g. a network's out-of-fold probabilities) over the patients of ``scores``: genes x
    columns. Genes constant over those patients are dropped."""
    X = check_expression(X)
    missing = scores.index.difference(X.index)
    if len(missing) or scores.isna().any().any():
        raise InputError(
            f"{len(missing)} scored patients without expression, or missing scores",
            field="scores",
            expected="a complete score for patients of the expression matrix",
        )
    values = X.loc[scores.index].to_numpy(dtype=np.float64)
    keep = values.std(axis=0) > 0
    r = pearson_columns(values[:, keep], scores.to_numpy(dtype=np.float64))
    genes = pd.Index(X.columns[keep].astype(str), name="gene")
    return pd.DataFrame(r, index=genes, columns=list(map(str, scores.columns)))


def collections_of(gene_sets: object) -> dict[str, dict[str, list[str]]]:
    """``{collection: {set: genes}}`` from a GeneSets, a mapping set -> genes, or a mapping
    collection -> (set -> genes)."""
    if not isinstance(gene_sets, Mapping) or not gene_sets:
        raise InputError(
            f"gene sets of type {type(gene_sets).__name__}",
            field="gene_sets",
            expected="a non-empty mapping set -> genes or collection -> (set -> genes)",
        )
    values = list(gene_sets.values())
    if all(isinstance(v, Mapping) for v in values):
        nested = {str(k): v for k, v in gene_sets.items()}
    else:
        name = getattr(gene_sets, "collection", None) or "gene_sets"
        nested = {str(name): gene_sets}
    out: dict[str, dict[str, list[str]]] = {}
    for coll, sets in nested.items():
        out[coll] = {}
        for name, genes in sets.items():
            if isinstance(genes, str) or not isinstance(genes, Iterable):
                raise InputError(
                    f"set {name!r} of {coll!r} is not a list of genes",
                    field="gene_sets",
                    expected="a collection of gene symbols per set",
                )
            out[coll][str(name)] = list(dict.fromkeys(map(str, genes)))
    return out


def gsea_by_collection(
    rankings: pd.DataFrame,
    gene_sets: object,
    nperm: int = 10000,
    seed: int = 0,
    min_size: int = 15,
    max_size: int = 500,
) -> pd.DataFrame:
    """Preranked GSEA of every ranking against each collection (BH within a collection).

    Long table: class (the ranking's column), collection, set, size, nes, pval, padj and
    ``rank`` by NES within (class, collection), 1 = most positively enriched.
    """
    parts = []
    for coll, sets in collections_of(gene_sets).items():
        g = gsea_many(
            rankings, sets, nperm=nperm, seed=seed, min_size=min_size, max_size=max_size
        ).table
        g = g.rename(columns={"ranking": "class"}).assign(collection=coll)
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    out = out.sort_values(["class", "collection", "nes", "set"], ascending=[1, 1, 0, 1])
    out["rank"] = out.groupby(["class", "collection"]).cumcount() + 1
    cols = ["class", "collection", "set", "size", "nes", "pval", "padj", "rank"]
    return out[cols].reset_index(drop=True)


def correlation_gsea(
    X: pd.DataFrame,
    y: pd.Series,
    gene_sets: object,
    nperm: int = 10000,
    seed: int = 0,
    min_size: int = 15,
    max_size: int = 500,
    classes: list[str] | None = None,
) -> pd.DataFrame:
    """The naive peer: GSEA of :func:`correlation_ranking` against each collection.

    Returns the table of :func:`gsea_by_collection` (one block per scored class).
    """
    ranking = correlation_ranking(X, y, classes)
    return gsea_by_collection(ranking, gene_sets, nperm, seed, min_size, max_size)
