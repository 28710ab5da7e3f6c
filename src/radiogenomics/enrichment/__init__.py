"""Preranked GSEA (fgsea semantics) for one ranking or thousands at once, small p-values by
multilevel splitting, patient-level radiogenomic traits, and their figures."""

from radiogenomics.enrichment.gsea import GseaResult, benjamini_hochberg, gsea, gsea_many
from radiogenomics.enrichment.multilevel import multilevel_pvalues
from radiogenomics.enrichment.plots import (
    plot_enrichment,
    plot_nes_heatmap,
    plot_patients_enriched,
    running_sum,
)
from radiogenomics.enrichment.traits import RadiogenomicTraits, radiogenomic_traits, trait_name
from radiogenomics.utils.settings import GseaSettings, SizeBounds

__all__ = [
    "GseaResult",
    "GseaSettings",
    "RadiogenomicTraits",
    "SizeBounds",
    "benjamini_hochberg",
    "gsea",
    "gsea_many",
    "multilevel_pvalues",
    "plot_enrichment",
    "plot_nes_heatmap",
    "plot_patients_enriched",
    "radiogenomic_traits",
    "running_sum",
    "trait_name",
]
