"""The data layer: readers for expression, imaging traits, subtypes, clinical data and gene sets,
all indexed by patient barcode; the ``Cohort`` that aligns them; the synthetic demo cohort."""

from radiogenomics.data.clinical import CLINICAL_COLUMNS, age_group, read_clinical
from radiogenomics.data.cohort import Cohort
from radiogenomics.data.driver_query import (
    GBM_DRIVER_GENES,
    DriverQuery,
    annotate_queries,
    average_groups,
    driver_summary,
    query_gene_sets,
)
from radiogenomics.data.expression import (
    PRIMARY_TUMOUR,
    LoadReport,
    filter_low_expression,
    read_expression,
    read_expression_report,
    sample_type,
)
from radiogenomics.data.gene_sets import GeneSets, read_gene_sets, union
from radiogenomics.data.scaling import Scaler
from radiogenomics.data.subtypes import SUBTYPES, read_subtype_signatures, read_subtypes
from radiogenomics.data.synthetic import SyntheticCohort, generate_cohort, load_synthetic
from radiogenomics.data.vasari import (
    TRAIT_CLASSES,
    TRAIT_COLUMNS,
    TRAITS,
    VasariReport,
    encode_binary,
    read_vasari,
)

__all__ = [
    "CLINICAL_COLUMNS",
    "GBM_DRIVER_GENES",
    "PRIMARY_TUMOUR",
    "SUBTYPES",
    "TRAITS",
    "TRAIT_CLASSES",
    "TRAIT_COLUMNS",
    "Cohort",
    "DriverQuery",
    "GeneSets",
    "LoadReport",
    "Scaler",
    "SyntheticCohort",
    "VasariReport",
    "age_group",
    "annotate_queries",
    "average_groups",
    "driver_summary",
    "encode_binary",
    "filter_low_expression",
    "generate_cohort",
    "load_synthetic",
    "query_gene_sets",
    "read_clinical",
    "read_expression",
    "read_expression_report",
    "read_gene_sets",
    "read_subtype_signatures",
    "read_subtypes",
    "read_vasari",
    "sample_type",
    "union",
]
