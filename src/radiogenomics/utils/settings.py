"""GSEA settings as plain data: the one definition of what values are valid.

Kept out of the ``enrichment`` package (which loads torch and numba) so the study config stays
quick to import; ``radiogenomics.enrichment`` re-exports them. The study config embeds these types (``[enrichment]``, ``[radiogenomic_traits]``, the size
bounds of ``[[data.gene_sets]]``), so a bad value is refused when the study file is read.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SizeBounds(BaseModel):
    """Gene sets kept: those with ``min_size`` to ``max_size`` genes in the ranking."""

    model_config = ConfigDict(extra="forbid")

    min_size: int = Field(15, ge=1)
    max_size: int = Field(500, ge=1)

    @model_validator(mode="after")
    def _ordered(self) -> SizeBounds:
        if self.min_size > self.max_size:
            raise ValueError(
                f"min_size ({self.min_size}) is larger than max_size ({self.max_size}): "
                "no gene set could be kept"
            )
        return self


class GseaSettings(SizeBounds):
    """Permutations and p-value estimation of preranked GSEA (``gsea``, ``gsea_many``)."""

    nperm: int = Field(10000, ge=10)
    small_p: Literal["multilevel", "none"] = Field(
        "none",
        description="'multilevel' estimates p below 1/(nperm+1) (fgsea's multilevel); 'none' is "
        "the paper's simple permutation p",
    )

    def gsea_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`radiogenomics.enrichment.gsea_many`."""
        return {
            "nperm": self.nperm,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "small_p": None if self.small_p == "none" else self.small_p,
        }
