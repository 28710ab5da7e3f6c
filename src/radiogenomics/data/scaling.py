"""Per-gene z-scoring fitted on training patients only (inside every fold).

A gene constant in the training patients is dropped for that model rather than divided by zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError

_MIN_STD = 1e-8


def refuse_non_finite(
    values: np.ndarray, patients: Sequence, genes: Sequence, source: str, where: str = ""
) -> None:
    """An InputError naming the first patient and gene of any NaN or infinite value."""
    bad = ~np.isfinite(values)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise InputError(
            f"{int(bad.sum())} NaN or infinite values{where} (first: patient "
            f"{patients[r]!r}, gene {genes[c]!r})",
            file=source,
            field="expression",
            expected="finite values (impute or drop those genes first)",
        )


@dataclass(frozen=True)
class Scaler:
    """Mean and scale of each kept gene, in the model's gene order."""

    genes: tuple[str, ...]
    mean_: np.ndarray  # float64, one per kept gene
    scale_: np.ndarray  # float64, one per kept gene (population std, ddof=0)
    dropped: tuple[str, ...] = ()  # constant in the training patients
    source_genes: tuple[str, ...] = ()  # the columns fit() saw, for transform_array()

    @classmethod
    def fit(cls, X: np.ndarray | pd.DataFrame, genes: Sequence[str] | None = None) -> Scaler:
        if isinstance(X, pd.DataFrame):
            genes = [str(g) for g in X.columns] if genes is None else list(genes)
            X = X.to_numpy()
        if genes is None:
            raise ValueError("genes must be given when X is an array")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != len(genes):
            raise ValueError(f"X has shape {X.shape} but {len(genes)} genes were named")
        if X.shape[0] < 2:
            raise InputError("cannot standardise fewer than 2 training patients", field="patients")
        if not np.isfinite(X).all():
            raise InputError(
                "expression contains NaN or inf", field="expression", expected="finite values"
            )
        mean = X.mean(axis=0)
        std = X.std(axis=0)
        keep = std > _MIN_STD
        genes_arr = np.asarray(genes, dtype=object)
        return cls(
            genes=tuple(genes_arr[keep]),
            mean_=mean[keep],
            scale_=std[keep],
            dropped=tuple(genes_arr[~keep]),
            source_genes=tuple(genes),
        )

    @property
    def mean(self) -> pd.Series:
        return pd.Series(self.mean_, index=list(self.genes), name="mean")

    @property
    def scale(self) -> pd.Series:
        return pd.Series(self.scale_, index=list(self.genes), name="scale")

    @property
    def kept_index(self) -> np.ndarray:
        """Positions of the kept genes among the columns fit() saw."""
        pos = {g: i for i, g in enumerate(self.source_genes)}
        return np.array([pos[g] for g in self.genes], dtype=np.int64)

    def transform_array(self, X: np.ndarray) -> np.ndarray:
        """Standardise an array whose columns are the ones fit() saw (same order)."""
        X = np.asarray(X)
        if X.shape[1] != len(self.source_genes):
            raise ValueError(f"expected {len(self.source_genes)} columns, got {X.shape[1]}")
        sub = X[:, self.kept_index].astype(np.float64)
        return ((sub - self.mean_) / self.scale_).astype(np.float32)

    def transform(self, X: pd.DataFrame, source: str = "expression") -> np.ndarray:
        """Standardise a patients x genes DataFrame, reordering columns to the model's genes."""
        missing = [g for g in self.genes if g not in X.columns]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise InputError(
                f"{len(missing)} of the model's {len(self.genes)} genes are missing: {shown}",
                file=source,
                field="genes",
                expected="every gene the model was trained on",
            )
        sub = X.loc[:, list(self.genes)].to_numpy(dtype=np.float64)
        refuse_non_finite(sub, X.index, self.genes, source, " among the model's genes")
        return ((sub - self.mean_) / self.scale_).astype(np.float32)

    def to_dict(self) -> dict:
        return {
            "genes": list(self.genes),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "dropped": list(self.dropped),
        }

    @classmethod
    def from_dict(cls, d: dict) -> Scaler:
        genes = tuple(d["genes"])
        return cls(
            genes=genes,
            mean_=np.asarray(d["mean"], dtype=np.float64),
            scale_=np.asarray(d["scale"], dtype=np.float64),
            dropped=tuple(d.get("dropped", ())),
            source_genes=genes,
        )
