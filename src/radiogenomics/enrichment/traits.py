"""Patient-level radiogenomic traits: a patient has the trait "model + set" when the set is
enriched (BH-adjusted p < alpha, NES > 0) in that patient's gene-saliency ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from radiogenomics.enrichment.gsea import gsea_many
from radiogenomics.errors import InputError


def trait_name(model_name: str | None, set_name: str) -> str:
    """The trait label: ``"<model> + <set>"`` (just the set without a model name)."""
    return set_name if not model_name else f"{model_name} + {set_name}"


def radiogenomic_traits(
    saliency: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    model_name: str | None = None,
    alpha: float = 0.05,
    min_patients: int = 5,
    small_p: str | None = None,
    **gsea_kwargs,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each patient's saliency ranking (genes x patients) through :func:`gsea_many`.

    Returns ``(traits, table)``: ``traits`` is a patients x traits 0/1 table (columns
    ``"<model> + <set>"``, traits present in fewer than ``min_patients`` patients dropped);
    ``table`` is the long GSEA result with a ``patient`` column (instead of ``ranking``),
    ``trait`` and ``enriched`` (padj < alpha and NES > 0). ``small_p`` defaults to None here:
    a trait needs only padj < alpha, which the permutation p resolves, and multilevel estimates
    for every patient's strongest sets would dominate the run time.
    """
    if not 0 < alpha < 1:
        raise InputError(f"alpha={alpha}", field="alpha", expected="a number in (0, 1)")
    if min_patients < 0:
        raise InputError(
            f"min_patients={min_patients}", field="min_patients", expected="an integer >= 0"
        )
    table = gsea_many(saliency, gene_sets, small_p=small_p, **gsea_kwargs).table.rename(
        columns={"ranking": "patient"}
    )
    table["trait"] = [trait_name(model_name, s) for s in table["set"]]
    table["enriched"] = (table["padj"] < alpha) & (table["nes"] > 0)
    patients = [str(c) for c in saliency.columns]
    order = list(dict.fromkeys(table["trait"]))
    wide = (
        table.pivot_table(index="patient", columns="trait", values="enriched", aggfunc="max")
        .reindex(index=patients, columns=order)
        .fillna(False)
        .astype(int)
    )
    wide = wide.loc[:, wide.sum(axis=0) >= min_patients]
    wide.index.name = "patient"
    wide.columns.name = None
    return wide, table.reset_index(drop=True)
