"""The cohort: expression, imaging traits, subtypes and clinical data aligned by patient.

Each table keeps its own patients; the accessors answer the questions the study asks (which
patients are labelled for a trait and have expression, which have expression but no imaging for
the autoencoder, outcomes of the transcriptome cohort) and ``print(cohort)`` shows the overlaps
and class balance.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.data._common import PathLike, shown
from radiogenomics.data.clinical import age_group, read_clinical
from radiogenomics.data.expression import PRIMARY_TUMOUR, LoadReport, read_expression_report
from radiogenomics.data.subtypes import read_subtypes
from radiogenomics.data.vasari import VasariReport, encode_binary, read_vasari
from radiogenomics.errors import InputError
from radiogenomics.utils.text import count


@dataclass(eq=False)
class Cohort:
    """Patient-indexed tables of one study. Only ``expression`` is required."""

    expression: pd.DataFrame  # patients x genes, float32, log2
    traits: pd.DataFrame | None = None  # patients x traits, text class labels, NaN missing
    subtypes: pd.Series | None = None  # patient -> subtype
    clinical: pd.DataFrame | None = None  # read_clinical's columns
    name: str = "cohort"
    expression_report: LoadReport | None = None
    sources: dict[str, str] = field(default_factory=dict)
    traits_report: VasariReport | None = None

    def __post_init__(self) -> None:
        tables = {
            "expression": self.expression,
            "traits": self.traits,
            "subtypes": self.subtypes,
            "clinical": self.clinical,
        }
        for label, table in tables.items():
            if table is None:
                continue
            src = self.sources.get(label, label)
            if not table.index.is_unique:
                dup = table.index[table.index.duplicated()].unique()
                raise InputError(
                    f"{count(len(dup), 'patient')} on more than one row ({shown(dup)})",
                    file=src,
                    field="patient",
                    expected="one row per patient",
                )
            if label != "expression" and not self.expression.index.isin(table.index).any():
                raise InputError(
                    f"no patient in common with the expression matrix "
                    f"(e.g. {shown(table.index[:3], 3)} vs "
                    f"{shown(self.expression.index[:3], 3)})",
                    file=src,
                    field="patient",
                    expected="the same patient barcodes as the expression matrix",
                )
        if self.expression.shape[0] == 0 or self.expression.shape[1] == 0:
            raise InputError("expression matrix is empty", file=self.sources.get("expression"))

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(
        cls,
        expression: PathLike,
        *,
        traits: PathLike | None = None,
        subtypes: PathLike | None = None,
        clinical: PathLike | None = None,
        follow_up: PathLike | None = None,
        scale: str = "auto",
        orientation: str = "auto",
        four_class: bool = True,
        name: str = "cohort",
        sample_types: Sequence[str] | None = PRIMARY_TUMOUR,
        min_mean_expression: float | None = None,
        pre_op_only: bool = True,
    ) -> Cohort:
        """Read every given file with its reader and align them (``orientation``,
        ``sample_types`` and ``min_mean_expression`` go to :func:`read_expression`,
        ``pre_op_only`` to :func:`read_vasari`)."""
        expr, rep = read_expression_report(
            expression,
            scale=scale,  # type: ignore[arg-type]
            orientation=orientation,  # type: ignore[arg-type]
            sample_types=sample_types,
            min_mean_expression=min_mean_expression,
        )
        sources = {"expression": str(expression)}
        tr = sub = cl = None
        tr_rep = None
        if traits is not None:
            tr, tr_rep = read_vasari(traits, pre_op_only=pre_op_only, report=True)
            sources["traits"] = str(traits)
        if subtypes is not None:
            sub, sources["subtypes"] = read_subtypes(subtypes, four_class), str(subtypes)
        if clinical is not None:
            cl, sources["clinical"] = read_clinical(clinical, follow_up), str(clinical)
        return cls(
            expr,
            tr,
            sub,
            cl,
            name=name,
            expression_report=rep,
            sources=sources,
            traits_report=tr_rep,
        )

    # ------------------------------------------------------------------ patients
    @property
    def patients(self) -> pd.Index:
        """Patients with expression."""
        return self.expression.index

    @property
    def genes(self) -> pd.Index:
        return self.expression.columns

    @property
    def trait_names(self) -> list[str]:
        return [] if self.traits is None else [str(c) for c in self.traits.columns]

    def _check_trait(self, trait: str) -> None:
        if trait not in self.trait_names:
            raise InputError(
                f"unknown trait {trait!r}",
                file=self.sources.get("traits"),
                field="trait",
                expected=" / ".join(self.trait_names) or "a traits table",
            )

    def labelled_patients(self, trait: str) -> pd.Index:
        """Patients with expression and a label for ``trait`` (expression order)."""
        self._check_trait(trait)
        lab = self.traits[trait].dropna().index
        return self.patients[self.patients.isin(lab)]

    def imaged_patients(self) -> pd.Index:
        """Patients with expression and at least one imaging trait."""
        if self.traits is None:
            return self.patients[:0]
        any_lab = self.traits.index[self.traits.notna().any(axis=1)]
        return self.patients[self.patients.isin(any_lab)]

    def unlabelled_patients(self) -> pd.Index:
        """Patients with expression and no imaging trait: the autoencoder's training set."""
        return self.patients[~self.patients.isin(self.imaged_patients())]

    # ------------------------------------------------------------------ data for models
    def labels(self, trait: str, positive: str | None = None) -> tuple[pd.Series, tuple[str, str]]:
        """0/1 labels of ``trait`` over its labelled patients (positive = least frequent class)
        and the ``(negative, positive)`` class names."""
        pts = self.labelled_patients(trait)
        y, classes = encode_binary(self.traits.loc[pts, trait], positive=positive)
        return y.astype(np.float32), classes

    def encoded_traits(self) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
        """All traits as 0/1 (NaN missing) over the imaged patients, with each trait's classes."""
        pts = self.imaged_patients()
        out, classes = {}, {}
        for t in self.trait_names:
            out[t], classes[t] = encode_binary(self.traits.loc[pts, t])
        return pd.DataFrame(out, index=pts), classes

    def X(self, patients: pd.Index | list[str] | None = None) -> np.ndarray:
        """Expression of ``patients`` (default all) as a float32 array in gene order."""
        frame = self.expression if patients is None else self.expression.loc[list(patients)]
        return frame.to_numpy(dtype=np.float32)

    def subtype_labels(self) -> pd.Series:
        """Subtypes of the patients with expression (those without a subtype left out)."""
        if self.subtypes is None:
            raise InputError("the cohort has no subtype table", field="subtypes")
        s = self.subtypes.reindex(self.patients).dropna()
        s.name = "subtype"
        return s

    def survival(self, endpoint: str = "os") -> pd.DataFrame:
        """``days`` and ``event`` of ``os`` or ``pfs`` for the patients with expression and a
        known outcome."""
        if self.clinical is None:
            raise InputError("the cohort has no clinical table", field="clinical")
        if endpoint not in ("os", "pfs"):
            raise InputError(f"unknown endpoint {endpoint!r}", field="endpoint", expected="os/pfs")
        c = self.clinical.reindex(self.patients)[[f"{endpoint}_days", f"{endpoint}_event"]]
        c.columns = ["days", "event"]
        return c.dropna()

    def covariates(self) -> pd.DataFrame:
        """Binary covariates of METHOD.md 1 for the patients with expression: gender_male,
        race_white and age_over_median (the median age of the transcriptome cohort), named as
        in the survival analysis."""
        if self.clinical is None:
            raise InputError("the cohort has no clinical table", field="clinical")
        c = self.clinical.reindex(self.patients)
        out = pd.DataFrame(index=self.patients)
        out["gender_male"] = (c["gender"] == "male").astype(float).where(c["gender"].notna())
        out["race_white"] = c["race_white"].astype(float)
        out["age_over_median"] = age_group(c["age"], c["age"])
        return out

    def subset(self, patients) -> Cohort:
        """The same cohort restricted to ``patients`` with expression."""
        keep = self.patients[self.patients.isin(list(patients))]
        return Cohort(
            self.expression.loc[keep],
            self.traits,
            self.subtypes,
            self.clinical,
            name=self.name,
            expression_report=self.expression_report,
            sources=self.sources,
            traits_report=self.traits_report,
        )

    # ------------------------------------------------------------------ summary
    def overlap_table(self) -> pd.DataFrame:
        """Patients per table and how many of them have expression."""
        rows = []
        tables = {"traits": self.traits, "subtypes": self.subtypes, "clinical": self.clinical}
        rows.append(("expression", len(self.patients), len(self.patients)))
        common = set(self.patients)
        for label, t in tables.items():
            if t is None:
                continue
            n_with = int(self.patients.isin(t.index).sum())
            rows.append((label, len(t.index), n_with))
            common &= set(t.index)
        present = [t for t in tables.values() if t is not None]
        if present:
            rows.append(("all tables", len(common), len(common)))
        return pd.DataFrame(rows, columns=["table", "patients", "with_expression"]).set_index(
            "table"
        )

    def balance_table(self) -> pd.DataFrame:
        """Per trait over patients with expression: labelled, each class's count, missing."""
        rows = []
        for t in self.trait_names:
            pts = self.imaged_patients()
            col = self.traits.loc[pts, t]
            counts = col.value_counts()
            labelled = int(col.notna().sum())
            try:
                _, (neg, pos) = encode_binary(col)
            except InputError:
                neg = str(counts.index[0]) if len(counts) else ""
                pos = ""
            rows.append(
                {
                    "trait": t,
                    "labelled": labelled,
                    "negative": neg,
                    "n_negative": int(counts.get(neg, 0)),
                    "positive": pos,
                    "n_positive": int(counts.get(pos, 0)),
                    "missing": int(len(pts) - labelled),
                    "positive_fraction": (counts.get(pos, 0) / labelled) if labelled else np.nan,
                }
            )
        return pd.DataFrame(rows).set_index("trait") if rows else pd.DataFrame()

    def summary(self) -> str:
        lines = [
            f"Cohort {self.name!r}: {len(self.patients)} patients with expression x "
            f"{len(self.genes)} genes",
            "",
            self.overlap_table().to_string(),
        ]
        if self.traits is not None:
            lines += [
                "",
                f"patients with imaging: {len(self.imaged_patients())}; without imaging "
                f"(autoencoder): {len(self.unlabelled_patients())}",
                "",
                self.balance_table().to_string(float_format=lambda v: f"{v:.2f}"),
            ]
        if self.subtypes is not None:
            counts = self.subtype_labels().value_counts()
            lines += ["", "subtypes: " + ", ".join(f"{k} {v}" for k, v in counts.items())]
            gcimp = self.patients.isin(self.subtypes.attrs.get("gcimp", [])).sum()
            if gcimp:
                lines.append(f"  ({gcimp} G-CIMP patients counted as Proneural)")
        if self.clinical is not None:
            os_, pfs = self.survival("os"), self.survival("pfs")
            lines += [
                "",
                f"survival: OS {len(os_)} patients ({int(os_['event'].sum())} deaths), "
                f"PFS {len(pfs)} patients ({int(pfs['event'].sum())} events)",
            ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        parts = [f"{len(self.patients)} patients x {len(self.genes)} genes"]
        if self.traits is not None:
            parts.append(f"traits={self.trait_names}")
        if self.subtypes is not None:
            parts.append(f"subtypes={len(self.subtypes)}")
        if self.clinical is not None:
            parts.append(f"clinical={len(self.clinical)}")
        return f"Cohort({self.name!r}, {', '.join(parts)})"
