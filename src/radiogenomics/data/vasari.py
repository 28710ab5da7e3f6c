"""VASARI MRI annotations to the six binary imaging traits (text class labels per trait).

==============  ==================================  ===========================================
trait           column                              classes
==============  ==================================  ===========================================
enhancing       ``f5.proportion.enhancing``         ``<1/3`` (Minimal, Less than 1/3) /
                                                    ``>=1/3`` (Between 1/3 and 2/3, More than 2/3)
ncet            ``f6.proportion.ncet``              as enhancing
necrosis        ``f7.proportion.necrosis``          as enhancing
edema           ``f14.proportion.edema``            as enhancing
focal           ``f9.multifocal.or.multicentric``   ``focal`` (Focal) / ``non-focal`` (Multifocal,
                                                    Multicentric, Gliomatosis, ...)
infiltrative    ``f10.t1.flair.ratio``              ``expansive`` (expansive (T1~FLAIR)) /
                                                    ``infiltrative`` (mixed ..., infiltrative ...)
==============  ==================================  ===========================================

``n/a``, ``indeterminate`` and empty cells are missing for that trait only.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from radiogenomics.data._common import PathLike, check_file, patient_id, read_delimited, shown
from radiogenomics.errors import InputError

TRAITS = ("enhancing", "ncet", "necrosis", "edema", "focal", "infiltrative")
TRAIT_COLUMNS = {
    "enhancing": "f5.proportion.enhancing",
    "ncet": "f6.proportion.ncet",
    "necrosis": "f7.proportion.necrosis",
    "edema": "f14.proportion.edema",
    "focal": "f9.multifocal.or.multicentric",
    "infiltrative": "f10.t1.flair.ratio",
}
TRAIT_CLASSES = {
    "enhancing": ("<1/3", ">=1/3"),
    "ncet": ("<1/3", ">=1/3"),
    "necrosis": ("<1/3", ">=1/3"),
    "edema": ("<1/3", ">=1/3"),
    "focal": ("focal", "non-focal"),
    "infiltrative": ("expansive", "infiltrative"),
}
_MISSING = {"", "n/a", "na", "nan", "none", "indeterminate", "not available", "[not available]"}
_PROPORTION = {
    "minimal": "<1/3",
    "none": "<1/3",
    "less than 1/3": "<1/3",
    "<1/3": "<1/3",
    "between 1/3 and 2/3": ">=1/3",
    "more than 2/3": ">=1/3",
    ">=1/3": ">=1/3",
}
_FOCAL = {
    "focal": "focal",
    "multifocal": "non-focal",
    "multicentric": "non-focal",
    "multifocal or multicentric": "non-focal",
    "gliomatosis": "non-focal",
    "non-focal": "non-focal",
}
_PATIENT_COLS = ("", "patient", "id", "case", "bcr_patient_barcode", "unnamed: 0", "tcga.id")


def _map_value(trait: str, raw: str) -> str | None:
    """Class label for one cell, ``None`` for missing; raises KeyError for an unknown label."""
    v = " ".join(raw.strip().lower().split())
    if v in _MISSING:
        return None
    if trait == "focal":
        return _FOCAL[v]
    if trait == "infiltrative":
        word = v.split(" ")[0].split("(")[0]
        return {"expansive": "expansive", "mixed": "infiltrative", "infiltrative": "infiltrative"}[
            word
        ]
    return _PROPORTION[v]


_EXPECTED = {
    "focal": "Focal / Multifocal / Multicentric / Gliomatosis / n/a",
    "infiltrative": "expansive (T1~FLAIR) / mixed (...) / infiltrative (...) / n/a",
}
_EXPECTED_PROP = "Minimal / Less than 1/3 / Between 1/3 and 2/3 / More than 2/3 / n/a"


def read_vasari(path: PathLike) -> pd.DataFrame:
    """The six traits per patient (index ``patient``) as text class labels, NaN where missing.

    A patient listed twice keeps the agreeing values; a trait whose values conflict becomes
    missing for that patient, with a warning.
    """
    p = check_file(path, "VASARI")
    df = read_delimited(p, "VASARI", dtype=str, keep_default_na=False)
    lower = {str(c).strip().lower(): c for c in df.columns}
    missing = [c for c in TRAIT_COLUMNS.values() if c not in lower]
    if missing:
        raise InputError(
            f"missing VASARI column(s) {', '.join(missing)}",
            file=p,
            field="header",
            expected="the columns " + ", ".join(TRAIT_COLUMNS.values()),
        )
    pcol = next((lower[c] for c in _PATIENT_COLS if c in lower), df.columns[0])
    ids = df[pcol].astype(str).str.strip()
    if (ids == "").any():
        row = int(np.argmax((ids == "").to_numpy())) + 2
        raise InputError(
            f"row {row} has no patient id", file=p, field=str(pcol), expected="a TCGA barcode"
        )
    out = pd.DataFrame(index=pd.Index([patient_id(s) for s in ids], name="patient"))
    for trait, column in TRAIT_COLUMNS.items():
        src = df[lower[column]]
        labels = []
        for row_no, (pid, raw) in enumerate(zip(out.index, src, strict=True), start=2):
            try:
                labels.append(_map_value(trait, str(raw)))
            except KeyError:
                raise InputError(
                    f"unknown label {raw!r} for patient {pid} (row {row_no})",
                    file=p,
                    field=column,
                    expected=_EXPECTED.get(trait, _EXPECTED_PROP),
                ) from None
        out[trait] = pd.Series(labels, index=out.index, dtype=object)
    out = out.where(out.notna(), np.nan)
    if out.index.duplicated().any():
        out = _merge_duplicates(out, p)
    return out


def _merge_duplicates(out: pd.DataFrame, p: Path) -> pd.DataFrame:
    rows = {}
    for pid, grp in out.groupby(level=0, sort=False):
        merged = {}
        for trait in TRAITS:
            vals = set(grp[trait].dropna())
            if len(vals) > 1:
                warnings.warn(
                    f"{p}: patient {pid} is listed {len(grp)} times with conflicting "
                    f"{TRAIT_COLUMNS[trait]} values {shown(sorted(vals))}; "
                    f"{trait} is set missing for this patient",
                    stacklevel=3,
                )
                merged[trait] = np.nan
            else:
                merged[trait] = vals.pop() if vals else np.nan
        rows[pid] = merged
    res = pd.DataFrame.from_dict(rows, orient="index")[list(TRAITS)]
    res.index.name = "patient"
    return res.astype(object)


def encode_binary(
    series: pd.Series, positive: str | None = None
) -> tuple[pd.Series, tuple[str, str]]:
    """Labels to 0/1 floats (NaN kept) and the ``(negative, positive)`` class names.

    The positive class is the least frequent label (``positive`` overrides); a tie goes to the
    label listed second in :data:`TRAIT_CLASSES` when the labels are a known trait's, else to the
    alphabetically later label.
    """
    present = series.dropna()
    counts = present.astype(str).value_counts()
    classes = sorted(counts.index)
    if len(classes) > 2:
        raise InputError(
            f"{len(classes)} classes ({shown(classes)}) in {series.name!r}",
            field=str(series.name),
            expected="two classes for a binary task",
        )
    if len(classes) < 2:
        raise InputError(
            f"only {len(classes)} class ({shown(classes)}) in {series.name!r}",
            field=str(series.name),
            expected="two classes for a binary task",
        )
    known = next((c for c in TRAIT_CLASSES.values() if set(c) == set(classes)), None)
    order = list(known) if known else classes
    if positive is None:
        a, b = order
        positive = a if counts[a] < counts[b] else b
    elif positive not in classes:
        raise InputError(
            f"positive class {positive!r} is not a label of {series.name!r}",
            field=str(series.name),
            expected=" or ".join(classes),
        )
    negative = next(c for c in classes if c != positive)
    enc = pd.Series(np.nan, index=series.index, name=series.name, dtype=float)
    enc.loc[present.index] = (present.astype(str) == positive).astype(float)
    return enc, (negative, positive)
