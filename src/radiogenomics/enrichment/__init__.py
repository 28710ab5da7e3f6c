"""Preranked GSEA (fgsea semantics) for one ranking or thousands at once, small p-values by
multilevel splitting, and patient-level radiogenomic traits."""

from radiogenomics.enrichment.gsea import benjamini_hochberg, gsea, gsea_many
from radiogenomics.enrichment.multilevel import multilevel_pvalues

__all__ = ["benjamini_hochberg", "gsea", "gsea_many", "multilevel_pvalues"]
