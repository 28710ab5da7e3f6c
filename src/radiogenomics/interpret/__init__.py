"""Interpretation of trained networks: gene masking (cohort level) and gene saliency (patient
level), METHOD.md sections 4 and 5."""

from radiogenomics.interpret.masking import (
    MaskingResult,
    gene_masking,
    masking_from_folds,
)
from radiogenomics.interpret.saliency import gene_saliency

__all__ = ["MaskingResult", "gene_masking", "gene_saliency", "masking_from_folds"]
