"""Preranked GSEA (fgsea semantics) for one ranking or thousands at once, small p-values by
multilevel splitting, patient-level radiogenomic traits, and their figures.

Exports are imported on first use (the settings types stay light for the study config)."""

from radiogenomics.utils.lazy import lazy_exports

_EXPORTS = {
    "GseaSettings": "settings",
    "SizeBounds": "settings",
    "benjamini_hochberg": "gsea",
    "gsea": "gsea",
    "gsea_many": "gsea",
    "multilevel_pvalues": "multilevel",
    "plot_enrichment": "plots",
    "plot_nes_heatmap": "plots",
    "plot_patients_enriched": "plots",
    "running_sum": "plots",
    "radiogenomic_traits": "traits",
    "trait_name": "traits",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
__all__ = sorted(_EXPORTS)
