"""The real TCGA-GBM inputs of the validation: RNA-seq, 2016 subtypes, Verhaak and hallmark sets."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radiogenomics.data import (
    GeneSets,
    read_expression,
    read_gene_sets,
    read_subtype_signatures,
    read_subtypes,
)
from radiogenomics.errors import InputError

EXPRESSION = "tcga_gbm/rnaseq_rsem_tpm.tsv.gz"
SUBTYPES = "tcga_gbm/glioma_molecular_subtypes_2016.tsv"
SIGNATURES = "tcga_gbm/TCGA_unified_CORE_ClaNC840.txt"
HALLMARK = "gene_sets/h.all.v6.2.symbols.gmt"


@dataclass
class RealData:
    """Expression (patients x genes, log2(TPM+1)), subtype labels and the gene sets used."""

    expression: pd.DataFrame
    subtypes: pd.Series
    signatures: GeneSets
    hallmark: GeneSets
    n_genes_read: int
    min_mean: float

    def summary(self) -> dict[str, object]:
        return {
            "patients": int(self.expression.shape[0]),
            "genes_read": self.n_genes_read,
            "genes_kept": int(self.expression.shape[1]),
            "min_mean_log2tpm": self.min_mean,
            "subtyped_patients": int(len(self.subtypes)),
            "subtype_counts": self.subtypes.value_counts().to_dict(),
            "signature_genes": len(self.signatures.genes),
            "signature_genes_kept": len(self.signatures.genes & set(self.expression.columns)),
        }


def load_real_data(data_dir: str | Path, min_mean: float = 1.0) -> RealData:
    """Read the shared TCGA-GBM files and keep the genes expressed at mean log2(TPM+1) >= min_mean.

    The filter is on mean expression over all patients (no label is used), so it selects no
    gene for its link to a subtype. G-CIMP patients count as Proneural (4-class task).
    """
    root = Path(data_dir)
    if not (root / EXPRESSION).is_file():
        raise InputError(
            "TCGA-GBM RNA-seq not found",
            file=str(root / EXPRESSION),
            expected="the shared data folder (with tcga_gbm/ and gene_sets/)",
        )
    X = read_expression(root / EXPRESSION)
    n_read = X.shape[1]
    X = X.loc[:, (X.mean() >= min_mean) & (X.std() > 0)]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*G-CIMP.*")
        y = read_subtypes(root / SUBTYPES, four_class=True)
    y = y[y.index.isin(X.index)]
    return RealData(
        expression=X,
        subtypes=y,
        signatures=read_subtype_signatures(root / SIGNATURES),
        hallmark=read_gene_sets(root / HALLMARK, name="hallmark"),
        n_genes_read=n_read,
        min_mean=min_mean,
    )
