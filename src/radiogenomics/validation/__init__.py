"""Validation on real TCGA-GBM data: the paper's subtype validation repeated on RNA-seq, imaging
traits planted in the real expression, and the side-by-side table against the paper."""

from radiogenomics.validation.data import RealData, load_real_data
from radiogenomics.validation.planted import (
    PlantedRun,
    TraitSpec,
    plant_trait,
    planted_ranks,
    programme_scores,
    run_planted_trait,
)
from radiogenomics.validation.subtypes import (
    SubtypeValidation,
    correlation_ranking,
    masking_ap_ranking,
    own_set_enrichment,
    random_gene_set,
    share_of_signature_genes,
    top_gene_membership,
    validate_subtypes,
    validation_gene_sets,
)
from radiogenomics.validation.tables import markdown_table, side_by_side

__all__ = [
    "PlantedRun",
    "RealData",
    "SubtypeValidation",
    "TraitSpec",
    "correlation_ranking",
    "load_real_data",
    "markdown_table",
    "masking_ap_ranking",
    "own_set_enrichment",
    "plant_trait",
    "planted_ranks",
    "programme_scores",
    "random_gene_set",
    "run_planted_trait",
    "share_of_signature_genes",
    "side_by_side",
    "top_gene_membership",
    "validate_subtypes",
    "validation_gene_sets",
]
