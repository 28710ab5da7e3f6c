"""Clinical outcomes and covariates from the TCGA BCR patient file and follow-up forms.

OS: days to death when dead, else days to last follow-up (the latest over the patient file and
every follow-up form); a death day counts as death where the vital status is missing, and a
missing vital status with only a last-contact day is censored there. PFS: the earliest day of any new tumour event over all follow-up forms
(``|``-separated days are all considered), capped at the OS time (with a warning) when a form
records it later; censored at the OS time when there is none.
Covariates: gender, race (white vs non-white), age at diagnosis in years.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from radiogenomics.data._common import (
    PathLike,
    check_file,
    is_placeholder,
    patient_id,
    read_delimited,
    shown,
)
from radiogenomics.errors import InputError
from radiogenomics.utils.text import count

CLINICAL_COLUMNS = (
    "os_days",
    "os_event",
    "pfs_days",
    "pfs_event",
    "gender",
    "race_white",
    "age",
)

# Column names in the several TCGA layouts (newer names first).
_ALIASES = {
    "patient": ("bcr_patient_barcode", "patient", "case", "case_id", "submitter_id"),
    "vital": ("vital_status",),
    "death": ("death_days_to", "days_to_death"),
    "last": ("last_contact_days_to", "days_to_last_followup", "days_to_last_follow_up"),
    "gender": ("gender", "sex"),
    "race": ("race",),
    "age": ("age_at_initial_pathologic_diagnosis", "age_at_diagnosis", "age"),
    "birth": ("birth_days_to", "days_to_birth"),
    "nte": (
        "days_to_new_tumor_event_after_initial_treatment",
        "new_tumor_event_dx_days_to",
        "days_to_new_tumor_event",
    ),
}
_MISSING = {"", "na", "n/a", "nan", "none", "null", "not available", "unknown"}


def _col(df: pd.DataFrame, key: str) -> str | None:
    lower = {str(c).strip().lower(): c for c in df.columns}
    for alias in _ALIASES[key]:
        if alias in lower:
            return lower[alias]
    return None


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    """Placeholders such as ``[Not Available]`` and empty strings become NaN."""
    return df.map(
        lambda v: (
            np.nan
            if (v is None or is_placeholder(v) or str(v).strip().lower() in _MISSING)
            else str(v).strip()
        )
    )


def _days(series: pd.Series, p: Path, column: str, signed: bool = False) -> pd.Series:
    """Days as floats; a time since diagnosis (not ``signed``) is never negative."""
    num = pd.to_numeric(series, errors="coerce")
    bad = num.isna() & series.notna()
    if bad.any():  # by position: the follow-up forms repeat a patient's id
        k = int(np.argmax(bad.to_numpy()))
        raise InputError(
            f"non-numeric value {series.iloc[k]!r} for patient {series.index[k]}",
            file=p,
            field=column,
            expected="a number of days or a [Not Available]-style placeholder",
        )
    negative = num < 0
    if not signed and negative.any():
        k = int(np.argmax(negative.to_numpy()))
        raise InputError(
            f"negative number of days {series.iloc[k]!r} for patient {series.index[k]} "
            f"({int(negative.sum())} patients in all)",
            file=p,
            field=column,
            expected="days since diagnosis, 0 or more",
        )
    return num.astype(float)


_VITAL = {"dead": 1.0, "deceased": 1.0, "alive": 0.0, "living": 0.0}
_GENDER = {"male": "male", "m": "male", "man": "male", "female": "female", "f": "female",
           "woman": "female"}  # fmt: skip
_RACE_EXPECTED = (
    "white / Caucasian, or a non-white category (black or African American, Asian, American"
    " Indian or Alaska native, native Hawaiian or other Pacific islander, other)"
)
_NON_WHITE = re.compile(  # whole words: "caucasian" holds "asian"
    r"\b(non-?white|black|african|asian|indian|alaska|native|hawaiian|pacific|islander|other"
    r"|multi\w*|mixed|more than one)\b"
)


def _race_code(value: str) -> float | None:
    """1.0 white, 0.0 non-white, None for a spelling this reader does not know."""
    if _NON_WHITE.search(value):
        return 0.0
    if re.search(r"\b(white|caucasian|european)\b", value):
        return 1.0
    return None


def code_gender(series: pd.Series, column: str = "gender", file: PathLike | None = None):
    """``male`` / ``female`` from male/female, M/F (any case); placeholders NaN; any other
    spelling is an InputError naming the values and a patient."""
    return _coded(series, file, column, _GENDER, "male / female (or M / F)", "gender")


def code_race_white(series: pd.Series, column: str = "race", file: PathLike | None = None):
    """1.0 white (or Caucasian), 0.0 a non-white category, NaN unknown; any other spelling is
    an InputError naming the values and a patient."""
    return _coded(series, file, column, _race_code, _RACE_EXPECTED, "race").astype(float)


def _coded(series: pd.Series, p, column: str, codes, expected: str, what: str) -> pd.Series:
    """Map lower-cased codes (a dict or a function returning None when unknown); an unknown
    spelling is refused, naming its rows, rather than read as the other group. Placeholders
    (``[Not Available]``, ``unknown``, empty) are missing."""
    lower = series.astype("string").str.lower().str.strip()
    lower = lower.where(~(lower.isin(_MISSING) | lower.map(is_placeholder, na_action="ignore")))
    lower = lower.astype(object).where(lower.notna(), np.nan)
    code = codes if callable(codes) else codes.get
    mapped = lower.map(lambda v: v if pd.isna(v) else code(v))  # ids may repeat (follow-up)
    unknown = lower.notna() & mapped.isna()
    if unknown.any():
        values = sorted(set(series[unknown]))
        raise InputError(
            f"unknown {what} values {values[:6]} ({int(unknown.sum())} rows, e.g. patient"
            f" {series.index[unknown][0]})",
            file=p,
            field=column,
            expected=expected + ", or a [Not Available]-style placeholder",
        )
    return mapped


def _age(series: pd.Series, p: Path, column: str) -> pd.Series:
    """Age at diagnosis in years, 0-130."""
    num = pd.to_numeric(series, errors="coerce")
    bad = (num.isna() & series.notna()) | (num < 0) | (num > 130)
    if bad.any():
        i = series.index[np.argmax(bad.to_numpy())]
        raise InputError(
            f"age {series[i]!r} for patient {i} ({int(bad.sum())} patients in all)",
            file=p,
            field=column,
            expected="age at diagnosis in years, 0-130",
        )
    return num.astype(float)


def _vital(series: pd.Series, p: Path, column: str) -> pd.Series:
    """1.0 dead, 0.0 alive, NaN missing; any other spelling is refused, not read as missing."""
    expected = "Dead / Deceased or Alive / Living"
    return _coded(series, p, column, _VITAL, expected, what="vital status").astype(float)


def _read_rows(p: Path, what: str) -> pd.DataFrame:
    """The file's data rows indexed by patient id, placeholders as NaN. The BCR layout repeats
    the header in two extra rows (the names again, then ``CDE_ID:...``); they are dropped, as
    are rows without a patient id. Ids need not be TCGA barcodes."""
    df = read_delimited(p, what, dtype=str, keep_default_na=False)
    pcol = _col(df, "patient")
    if pcol is None:
        raise InputError(
            "no patient barcode column",
            file=p,
            field="header",
            expected="a bcr_patient_barcode column (or patient, case_id, submitter_id)",
        )
    ids = df[pcol].astype(str).str.strip()
    extra = (ids.str.lower() == str(pcol).strip().lower()) | ids.str.startswith("CDE_ID")
    df = df[~extra & (ids != "")].copy()
    df.index = [patient_id(s) for s in df[pcol].astype(str).str.strip()]
    return _clean(df)


def read_clinical(patient_file: PathLike, follow_up_file: PathLike | None = None) -> pd.DataFrame:
    """Clinical table indexed by ``patient`` with columns os_days, os_event (0/1), pfs_days,
    pfs_event (0/1), gender (``male``/``female``), race_white (1 white, 0 non-white), age (years
    at diagnosis). Missing values are NaN; PFS is NaN without a follow-up source of new tumour
    events. Patients that only the follow-up file lists are kept, with missing covariates."""
    p = check_file(patient_file, "clinical patient")
    pat = _read_rows(p, "clinical patient")
    if pat.index.duplicated().any():
        dups = pat.index[pat.index.duplicated()].unique()
        raise InputError(
            f"patient {dups[0]} appears in {int((pat.index == dups[0]).sum())} rows",
            file=p,
            field=_col(pat, "patient"),
            expected="one row per patient",
        )
    out = pd.DataFrame(index=pd.Index(pat.index, name="patient"))

    vcol = _col(pat, "vital")
    if vcol is None:
        raise InputError("no vital status column", file=p, expected="a vital_status column")
    dead = _vital(pat[vcol], p, vcol)
    death = _days(pat[_col(pat, "death")], p, _col(pat, "death")) if _col(pat, "death") else None
    last = _days(pat[_col(pat, "last")], p, _col(pat, "last")) if _col(pat, "last") else None
    death = death if death is not None else pd.Series(np.nan, index=pat.index)
    last = last if last is not None else pd.Series(np.nan, index=pat.index)
    nte = None
    ncol = _col(pat, "nte")
    if ncol is not None:
        nte = _earliest_days(pat[ncol], p, ncol)

    if follow_up_file is not None:
        f = check_file(follow_up_file, "clinical follow-up")
        fu = _read_rows(f, "clinical follow-up")
        # Patients with follow-up forms only are kept (outcomes known, covariates missing).
        extra = fu.index.unique().difference(out.index)
        out = pd.DataFrame(index=pd.Index([*out.index, *extra], name="patient"))
        dead, death, last = (s.reindex(out.index) for s in (dead, death, last))
        nte = None if nte is None else nte.reindex(out.index)

        def _merge(current: pd.Series, new: pd.Series, how: str) -> pd.Series:
            new = getattr(new.groupby(level=0), how)().reindex(out.index)
            return getattr(pd.concat([current, new], axis=1), how)(axis=1)

        # Later forms extend the record: dead if any form says so, latest days.
        if _col(fu, "vital"):
            fdead = _vital(fu[_col(fu, "vital")], f, _col(fu, "vital"))
            dead = _merge(dead, fdead, "max")
        if _col(fu, "death"):
            death = _merge(death, _days(fu[_col(fu, "death")], f, _col(fu, "death")), "max")
        if _col(fu, "last"):
            last = _merge(last, _days(fu[_col(fu, "last")], f, _col(fu, "last")), "max")
        if _col(fu, "nte"):
            fn = _earliest_days(fu[_col(fu, "nte")], f, _col(fu, "nte"))
            if nte is None:
                nte = fn.groupby(level=0).min().reindex(out.index)
            else:
                nte = _merge(nte.astype(float), fn, "min")

    # A death day implies the patient died even where the vital status is missing.
    # Unknown vital status with a last-contact day and no death day: censored at that day.
    dead = dead.where(dead.notna(), np.where(death.notna(), 1.0, np.nan))
    dead = dead.where(dead.notna(), np.where(last.notna(), 0.0, np.nan))
    os_days = pd.Series(np.where(dead == 1, death, last), index=out.index, dtype=float)
    out["os_days"] = os_days
    undated = (dead == 1) & death.isna()
    if undated.any():
        warnings.warn(
            f"{follow_up_file or patient_file}: {count(int(undated.sum()), 'patient')} dead with no"
            f" day of death in any form ({shown(out.index[undated])}): OS unknown, left out of"
            " the survival analysis",
            stacklevel=2,
        )
    out["os_event"] = dead.where(os_days.notna())
    if nte is not None:
        nte = nte.astype(float)
        has = nte.notna()
        late = has & (nte > os_days)
        if late.any():
            warnings.warn(
                f"{follow_up_file or patient_file}: {count(int(late.sum()), 'patient')} with a new"
                f" tumour event after death or last follow-up ({shown(nte.index[late])}); PFS is capped "
                "at the OS time",
                stacklevel=2,
            )
            nte = nte.where(~late, os_days)
        out["pfs_days"] = np.where(has, nte, os_days)
        out["pfs_event"] = np.where(has, 1.0, np.where(os_days.notna(), 0.0, np.nan))
    else:
        out["pfs_days"] = np.nan
        out["pfs_event"] = np.nan

    gcol = _col(pat, "gender")
    pat = pat.reindex(out.index)
    out["gender"] = code_gender(pat[gcol], gcol, p) if gcol else np.nan
    rcol = _col(pat, "race")
    out["race_white"] = code_race_white(pat[rcol], rcol, p) if rcol else np.nan
    acol = _col(pat, "age")
    if acol:
        out["age"] = _age(pat[acol], p, acol)
    elif _col(pat, "birth"):
        out["age"] = -_days(pat[_col(pat, "birth")], p, _col(pat, "birth"), signed=True) / 365.25
    else:
        out["age"] = np.nan
    return out[list(CLINICAL_COLUMNS)]


def _earliest_days(series: pd.Series, p: Path, column: str) -> pd.Series:
    """The earliest day of each cell, where a cell may hold several ``|``-separated days
    (``'256|301'``); NaN when it holds none. Every part must be a day count, 0 or more: a date
    or a word is refused, naming the patient, not read as the digits it contains."""
    parts = series.dropna().astype(str).str.split("|").explode().str.strip()
    parts = parts[(parts != "") & ~parts.map(is_placeholder) & ~parts.str.lower().isin(_MISSING)]
    days = _days(parts, p, column)
    return days.groupby(level=0, sort=False).min().reindex(series.index.unique())


def age_group(ages: pd.Series, reference_ages: pd.Series | None = None) -> pd.Series:
    """Age dichotomised at the median of ``reference_ages`` (the whole transcriptome cohort):
    1.0 when older than the median, 0.0 otherwise, NaN kept."""
    ref = ages if reference_ages is None else reference_ages
    med = float(np.nanmedian(pd.to_numeric(ref, errors="coerce").to_numpy(dtype=float)))
    a = pd.to_numeric(ages, errors="coerce").astype(float)
    out = (a > med).astype(float).where(a.notna())
    out.name = "age_over_median"
    out.attrs["median"] = med
    return out
