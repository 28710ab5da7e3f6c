"""The binary variables of the survival analysis (METHOD 7): imaging traits, radiogenomic traits
present in enough patients, and the clinical covariates (gender, race, age group)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.data.clinical import code_gender, code_race_white
from radiogenomics.errors import InputError
from radiogenomics.survival._frame import show, warn
from radiogenomics.utils.text import count

OUTCOME_COLUMNS = ("os_days", "os_event", "pfs_days", "pfs_event")
COVARIATES = ("gender_male", "race_white", "age_over_median")


@dataclass
class SurvivalVariables:
    """Patients x (outcomes + binary variables) with the role of each variable.

    ``table`` holds the outcome columns found in the clinical table (``os_days``, ``os_event``,
    ``pfs_days``, ``pfs_event``) then ``covariates``, ``imaging`` and ``radiogenomic``
    variables as 0.0/1.0 (NaN where unknown). ``dropped``: radiogenomic traits present in, or
    absent from, fewer than ``min_patients`` patients, with the number that have them. ``age_median``: the age cut-off (years).
    """

    table: pd.DataFrame
    covariates: list[str]
    imaging: list[str]
    radiogenomic: list[str]
    outcomes: list[str]
    age_median: float
    dropped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def candidates(self) -> list[str]:
        """The variables stepwise selection may add or drop: imaging then radiogenomic traits."""
        return self.imaging + self.radiogenomic


def _binary_frame(df: pd.DataFrame, what: str) -> pd.DataFrame:
    """0/1 (or boolean) columns as floats; anything else is refused, naming the column."""
    out = {}
    for col in df.columns:
        values = df[col]
        if values.dtype == bool:
            out[col] = values.astype(float)
            continue
        if values.dtype == object:
            values = values.map(
                lambda v: v if not isinstance(v, str) else {"true": 1, "false": 0}.get(v.lower(), v)
            )
        num = pd.to_numeric(values, errors="coerce")
        bad = (values.notna() & num.isna()) | (num.notna() & ~num.isin([0, 1]))
        if bad.any():
            raise InputError(
                f"{what}: value {show(values[bad].iloc[0])} for patient {values.index[bad][0]}",
                field=str(col),
                expected="0/1 (or true/false), empty when unknown",
            )
        out[col] = num.astype(float)
    return pd.DataFrame(out, index=df.index)


def _gender(values: pd.Series) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    if values.notna().any() and num.notna().sum() == values.notna().sum():
        return _binary_frame(values.to_frame("gender_male"), "gender")["gender_male"]
    gender = code_gender(values)  # the clinical reader's coding, not a second one
    return (gender == "male").astype(float).where(gender.notna())


def _race_white(clinical: pd.DataFrame) -> pd.Series:
    if "race_white" in clinical.columns:
        return _binary_frame(clinical[["race_white"]], "race")["race_white"]
    return code_race_white(clinical["race"])  # the clinical reader's coding, not a second one


def survival_variables(
    clinical: pd.DataFrame | None = None,
    imaging: pd.DataFrame | None = None,
    radiogenomic: pd.DataFrame | None = None,
    *,
    reference_ages: pd.Series | Sequence[float] | np.ndarray | None = None,
    min_patients: int = 5,
    patients: Sequence[str] | None = None,
) -> SurvivalVariables:
    """Build the table of binary survival variables, indexed by patient.

    ``clinical``: per patient, outcomes (``os_days``/``os_event``/``pfs_days``/``pfs_event``,
    copied when present) and covariates ``gender`` (male/female), ``race_white`` (1/0) or
    ``race`` (text), and ``age`` (years). Age becomes ``age_over_median``: 1 when older than the
    median of ``reference_ages`` (the whole transcriptome cohort; default: these patients).
    ``imaging``: patients x binary imaging traits. ``radiogenomic``: patients x binary
    radiogenomic traits; a trait is kept when present (1) in at least ``min_patients``
    patients and absent (0) in at least as many. ``patients``: restrict to these (default: every patient of any table).
    """
    tables = [t for t in (clinical, imaging, radiogenomic) if t is not None]
    if not tables:
        raise InputError("no clinical, imaging or radiogenomic table given", expected="one")
    for name, t in (("clinical", clinical), ("imaging", imaging), ("radiogenomic", radiogenomic)):
        if t is not None and not isinstance(t, pd.DataFrame):
            raise InputError(f"the {name} table must be a DataFrame indexed by patient")
        if t is not None and t.index.has_duplicates:
            dup = t.index[t.index.duplicated()][0]
            raise InputError(f"patient {dup!r} appears twice", field=f"{name} index")
    if clinical is not None:  # a table of other patients would only add rows without outcomes
        for name, t in (("imaging", imaging), ("radiogenomic", radiogenomic)):
            if t is not None and len(t) and not t.index.isin(clinical.index).any():
                raise InputError(
                    f"none of the {len(t)} patients of the {name} table is in the clinical table"
                    f" (e.g. {t.index[0]!r} against {clinical.index[0]!r})",
                    field=f"{name} index",
                    expected="the clinical table's patient ids",
                )
    if patients is None:
        index = tables[0].index
        for t in tables[1:]:
            index = index.union(t.index, sort=False)
    else:
        index = pd.Index(list(patients))
    notes: list[str] = []
    parts: list[pd.DataFrame] = []
    outcomes: list[str] = []
    covariates: list[str] = []
    age_median = float("nan")
    if clinical is not None:
        clin = clinical.reindex(index)
        outcomes = [c for c in OUTCOME_COLUMNS if c in clinical.columns]
        cov = pd.DataFrame(index=index)
        if "gender" in clinical.columns:
            cov["gender_male"] = _gender(clin["gender"])
        if "race_white" in clinical.columns or "race" in clinical.columns:
            cov["race_white"] = _race_white(clin)
        if "age" in clinical.columns:
            age = pd.to_numeric(clin["age"], errors="coerce").astype(float)
            if reference_ages is None:
                ref = age.to_numpy()
                notes.append("age dichotomised at the median of these patients (no reference)")
            else:
                ref = pd.to_numeric(pd.Series(np.asarray(reference_ages)), errors="coerce")
                ref = ref.to_numpy(dtype=float)
            if np.isnan(ref).all():
                raise InputError("no age to take a median of", field="age", expected="years")
            age_median = float(np.nanmedian(ref))
            cov["age_over_median"] = (age > age_median).astype(float).where(age.notna())
        missing = [c for c in ("gender", "race", "age") if c not in clinical.columns]
        if "race_white" in clinical.columns and "race" in missing:
            missing.remove("race")
        if missing:
            notes.append(f"clinical table without {missing}: those covariates are left out")
        covariates = list(cov.columns)
        parts += [clin[outcomes].apply(pd.to_numeric, errors="coerce"), cov]
    imaging_cols: list[str] = []
    if imaging is not None:
        img = _binary_frame(imaging, "imaging traits").reindex(index)
        imaging_cols = list(img.columns)
        parts.append(img)
    radio_cols: list[str] = []
    dropped: dict[str, int] = {}
    if radiogenomic is not None:
        rad = _binary_frame(radiogenomic, "radiogenomic traits").reindex(index)
        counts, absent = rad.sum(axis=0), (rad == 0).sum(axis=0)
        # each side needs min_patients: a trait of (nearly) every patient compares no groups
        ok = (counts >= min_patients) & (absent >= min_patients)
        dropped = {str(c): int(n) for c, n in counts[~ok].items()}
        rad = rad[[c for c in rad.columns if ok[c]]]
        radio_cols = list(rad.columns)
        if dropped:
            notes.append(
                f"{count(len(dropped), 'radiogenomic trait')} present in, or absent from, fewer than"
                f" {min_patients} patients left out"
            )
        parts.append(rad)
    names = [c for p in parts for c in p.columns]
    clash = sorted({c for c in names if names.count(c) > 1})
    if clash:
        raise InputError(
            f"variable names used twice across the tables: {clash}", expected="distinct names"
        )
    for text in notes:
        warn(text)
    table = pd.concat(parts, axis=1)
    table.index.name = "patient"
    return SurvivalVariables(
        table=table,
        covariates=covariates,
        imaging=imaging_cols,
        radiogenomic=radio_cols,
        outcomes=outcomes,
        age_median=age_median,
        dropped=dropped,
        notes=notes,
    )
