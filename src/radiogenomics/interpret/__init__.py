"""Interpretation of trained networks: gene masking (cohort level) and gene saliency (patient
level), METHOD.md sections 4 and 5."""

from radiogenomics.interpret.correlation import correlation_gsea, correlation_ranking
from radiogenomics.interpret.drivers import driver_ranking
from radiogenomics.interpret.figures import (
    masking_heatmap,
    masking_matrix,
    probability_heatmap,
    probability_panels,
)
from radiogenomics.interpret.masking import (
    MaskingResult,
    gene_masking,
    masking_from_folds,
    out_of_fold_masking,
)
from radiogenomics.interpret.saliency import SaliencyResult, gene_saliency

__all__ = [
    "MaskingResult",
    "SaliencyResult",
    "correlation_gsea",
    "correlation_ranking",
    "driver_ranking",
    "gene_masking",
    "gene_saliency",
    "masking_from_folds",
    "masking_heatmap",
    "masking_matrix",
    "out_of_fold_masking",
    "probability_heatmap",
    "probability_panels",
]
