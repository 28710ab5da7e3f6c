"""Patient-level radiogenomic traits: a patient has the trait "model + set" when the set is
enriched (BH-adjusted p < alpha, NES > 0) in that patient's gene-saliency ranking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from radiogenomics.enrichment.gsea import GseaResult, gsea_many
from radiogenomics.errors import InputError
from radiogenomics.utils.results import ResultMixin, new_axes


@dataclass
class RadiogenomicTraits(ResultMixin):
    """Patient-level radiogenomic traits of one model.

    ``traits``: patients x traits 0/1 (traits in fewer than ``min_patients`` patients, or
    absent in fewer, dropped);
    ``table``: the long GSEA table per patient (patient, set, ..., trait, enriched); ``gsea``:
    the GSEA run behind it (its settings).
    """

    TITLE = "Radiogenomic traits"
    SETTINGS = ("model_name", "alpha", "min_patients", "n_patients", "n_traits")

    traits: pd.DataFrame
    table: pd.DataFrame
    model_name: str | None
    alpha: float
    min_patients: int
    gsea: GseaResult

    @property
    def n_patients(self) -> int:
        return len(self.traits)

    @property
    def n_traits(self) -> int:
        return self.traits.shape[1]

    def settings(self) -> dict:
        return {**super().settings(), **self.gsea.settings()}

    def plot(self, ax=None, max_traits: int = 30):
        """Share of patients with each trait (bars, one per trait, the ``max_traits`` most
        frequent) beside the patients x traits map: two Axes, given or new; returns both."""
        from radiogenomics.enrichment.plots import draw_patients_enriched

        n = min(self.n_traits, max_traits)
        axes = new_axes(
            ax,
            ncols=2,
            figsize=(10, 1.2 + 0.28 * n),
            sharey=True,
            gridspec_kw={"width_ratios": [1, 3]},
        )
        return draw_patients_enriched(axes, self.traits, max_traits)


def trait_name(model_name: str | None, set_name: str) -> str:
    """The trait label: ``"<model> + <set>"`` (just the set without a model name)."""
    return set_name if not model_name else f"{model_name} + {set_name}"


def wide_traits(table: pd.DataFrame, patients: Sequence[str]) -> pd.DataFrame:
    """Patients x traits 0/1 from the long table (``patient``, ``trait``, ``enriched``), traits
    in the table's order, every patient of ``patients`` (0 where it has no row)."""
    order = list(dict.fromkeys(table["trait"]))
    wide = (
        table.pivot_table(index="patient", columns="trait", values="enriched", aggfunc="max")
        .reindex(index=list(patients), columns=order)
        .fillna(False)
        .astype(int)
    )
    wide.index.name = "patient"
    wide.columns.name = None
    return wide


def uncontrasted(wide: pd.DataFrame, min_patients: int) -> tuple[pd.Series, pd.Series]:
    """(rare, universal): the traits of fewer than ``min_patients`` patients, and those absent
    in fewer; either way no two groups to compare, so neither is kept."""
    present = wide.sum(axis=0)
    return present < min_patients, len(wide) - present < min_patients


def radiogenomic_traits(
    saliency: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    model_name: str | None = None,
    alpha: float = 0.05,
    min_patients: int = 5,
    small_p: str | None = None,
    **gsea_kwargs,
) -> RadiogenomicTraits:
    """Each patient's saliency ranking (genes x patients) through :func:`gsea_many`.

    Returns a :class:`RadiogenomicTraits`: ``traits`` is a patients x traits 0/1 table (columns
    ``"<model> + <set>"``, traits present in fewer than ``min_patients`` patients or absent in
    fewer dropped: neither compares two groups);
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
    result = gsea_many(saliency, gene_sets, small_p=small_p, **gsea_kwargs)
    table = result.table.rename(columns={"ranking": "patient"})
    table["trait"] = [trait_name(model_name, s) for s in table["set"]]
    table["enriched"] = (table["padj"] < alpha) & (table["nes"] > 0)
    wide = wide_traits(table, [str(c) for c in saliency.columns])
    rare, universal = uncontrasted(wide, min_patients)
    wide = wide.loc[:, ~rare & ~universal]
    return RadiogenomicTraits(
        traits=wide,
        table=table.reset_index(drop=True),
        model_name=model_name,
        alpha=alpha,
        min_patients=min_patients,
        gsea=result,
    )
