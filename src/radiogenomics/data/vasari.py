"""VASARI MRI annotations to the six binary imaging traits (text class labels per trait).

==============  ==================================  ===========================================
trait           column                              classes
==============  ==================================  ===========================================
enhancing       ``f5.proportion.enhancing``         ``<1/3`` (None, Minimal, Less than 1/3) /
                                                    ``>=1/3`` (Between 1/3 and 2/3, More than 2/3)
ncet            ``f6.proportion.ncet``              as enhancing
necrosis        ``f7.proportion.necrosis``          as enhancing
edema           ``f14.proportion.edema``            as enhancing
focal           ``f9.multifocal.or.multicentric``   ``focal`` (Focal) / ``non-focal`` (anything
                                                    else: Multifocal, Multicentric, Gliomatosis)
infiltrative    ``f10.t1.flair.ratio``              ``expansive`` (expansive (T1~FLAIR)) /
                                                    ``infiltrative`` (anything else: mixed ...,
                                                    infiltrative ...)
==============  ==================================  ===========================================

``n/a``, ``indeterminate`` and empty cells are missing for that trait only (``None`` too, except
in the four proportion columns, where it is the VASARI grade "no such tissue", i.e. ``<1/3``).
A focality or T1/FLAIR label outside the known VASARI wording maps to non-focal / infiltrative as
METHOD.md says, and is counted in the :class:`VasariReport`. Where the file has a ``scan.type``
column, only pre-operative scans are kept (the paper's traits come from pre-op MRI).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field
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
    "none": "<1/3",  # VASARI's lowest grade (no such tissue), not a missing value
    "less than 1/3": "<1/3",
    "<1/3": "<1/3",
    "between 1/3 and 2/3": ">=1/3",
    "more than 2/3": ">=1/3",
    ">=1/3": ">=1/3",
}
# The VASARI wordings of the non-focal and infiltrative classes; any other label maps to the same
# class (METHOD.md: "anything else") but is counted as an unlisted label in the report.
_NON_FOCAL = {
    "multifocal",
    "multicentric",
    "multifocal or multicentric",
    "gliomatosis",
    "non-focal",
}
_INFILTRATIVE_WORDS = {"mixed", "infiltrative"}
_PATIENT_COLS = ("", "patient", "id", "case", "bcr.patient.barcode", "unnamed.0", "tcga.id")
SCAN_TYPE_COLUMN = "scan.type"


def _header_key(name: object) -> str:
    """A column name as matched: case, and the separators between words (spaces, dots,
    underscores, dashes), do not matter ('F5 Proportion Enhancing' is f5.proportion.enhancing)."""
    return re.sub(r"[^0-9a-z/]+", ".", str(name).strip().lower()).strip(".")


def _normalise(raw: str) -> str:
    return " ".join(raw.strip().lower().split())


def _is_pre_op(scan_type: str) -> bool:
    """``pre-operative``, ``preoperative``, ``pre-op``, ``Pre op MRI`` ... (letters compared)."""
    letters = "".join(ch for ch in scan_type.lower() if ch.isalpha())
    return letters.startswith("preop")


def _map_value(trait: str, raw: str) -> tuple[str | None, bool]:
    """Class label for one cell (``None`` for missing) and whether the label was outside the
    known VASARI wording; raises KeyError for an unknown proportion label."""
    v = _normalise(raw)
    if trait in ("focal", "infiltrative"):
        if v in _MISSING:
            return None, False
        if trait == "focal":
            return ("focal", False) if v == "focal" else ("non-focal", v not in _NON_FOCAL)
        word = v.split(" ")[0].split("(")[0]
        if word == "expansive":
            return "expansive", False
        return "infiltrative", word not in _INFILTRATIVE_WORDS
    if v in _PROPORTION:
        return _PROPORTION[v], False
    if v in _MISSING:
        return None, False
    raise KeyError(v)


_EXPECTED_PROP = "None / Minimal / Less than 1/3 / Between 1/3 and 2/3 / More than 2/3 / n/a"


@dataclass
class VasariReport:
    """What reading a VASARI table changed; ``print(report)`` gives a readable summary."""

    source: str
    rows_in: int = 0
    scan_types: dict[str, int] = field(default_factory=dict)  # scan.type value -> rows
    rows_not_pre_op: int = 0  # rows dropped by the pre-op filter
    rows_without_scan_type: int = 0  # kept: an empty or n/a scan.type cannot be judged
    none_as_low: dict[str, int] = field(default_factory=dict)  # trait -> cells 'None' -> <1/3
    # trait -> {raw label: cells} for focality / T1-FLAIR labels outside the VASARI wording,
    # mapped to non-focal / infiltrative.
    unlisted_labels: dict[str, dict[str, int]] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)  # trait -> patients without a label
    n_patients: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    def changes(self) -> list[str]:
        """What reading changed: rows dropped, 'None' and unlisted labels mapped (one line each)."""
        out = []
        if self.rows_not_pre_op:
            out.append(f"rows dropped as not pre-operative: {self.rows_not_pre_op}")
        for trait, n in self.none_as_low.items():
            out.append(f"{trait}: {n} 'None' read as <1/3")
        for trait, labels in self.unlisted_labels.items():
            cls = "non-focal" if trait == "focal" else "infiltrative"
            shown_labels = ", ".join(f"{k!r} x{n}" for k, n in labels.items())
            out.append(f"{trait}: unlisted labels read as {cls}: {shown_labels}")
        return out

    def __str__(self) -> str:
        lines = [f"VASARI traits loaded from {self.source}", f"  rows: {self.rows_in}"]
        if self.scan_types:
            kinds = ", ".join(f"{k or '(empty)'} {n}" for k, n in self.scan_types.items())
            lines.append(f"  scan types: {kinds}")
        lines += [f"  {line}" for line in self.changes()]
        lines.append(
            "  missing per trait: " + ", ".join(f"{t} {n}" for t, n in self.missing.items())
        )
        lines.append(f"  result: {self.n_patients} patients")
        return "\n".join(lines)


def read_vasari(
    path: PathLike, *, pre_op_only: bool = True, report: bool = False
) -> pd.DataFrame | tuple[pd.DataFrame, VasariReport]:
    """The six traits per patient (index ``patient``) as text class labels, NaN where missing.

    With a ``scan.type`` column and ``pre_op_only``, rows of other scans (e.g. post-operative)
    are dropped first; an empty or ``n/a`` ``scan.type`` is kept (and counted). A patient listed twice keeps the
    agreeing values; a trait whose values conflict becomes missing for that patient, with a
    warning. With ``report=True`` returns ``(frame, VasariReport)``.
    """
    p = check_file(path, "VASARI")
    df = read_delimited(p, "VASARI", dtype=str, keep_default_na=False)
    rep = VasariReport(source=str(p), rows_in=len(df))
    lower: dict[str, object] = {}
    for c in df.columns:
        key = _header_key(c)
        if key in lower and key in (*TRAIT_COLUMNS.values(), SCAN_TYPE_COLUMN, *_PATIENT_COLS):
            raise InputError(
                f"columns {lower[key]!r} and {c!r} both read as {key}",
                file=p,
                field="header",
                expected="one column per VASARI feature",
            )
        lower.setdefault(key, c)
    missing = [c for c in TRAIT_COLUMNS.values() if c not in lower]
    if missing:
        raise InputError(
            f"missing VASARI column(s) {', '.join(missing)} (the file's columns: "
            f"{shown(map(str, df.columns), 12)})",
            file=p,
            field="header",
            expected="the columns " + ", ".join(TRAIT_COLUMNS.values()) + " (in any case, "
            "with spaces or underscores for the dots)",
        )
    if df.empty:
        raise InputError(
            "the table has a header but no data rows", file=p, expected="a row per scan"
        )
    pcol = next((lower[c] for c in _PATIENT_COLS if c in lower), df.columns[0])
    ids = df[pcol].astype(str).str.strip()
    if (ids == "").any():
        row = int(np.argmax((ids == "").to_numpy())) + 2
        raise InputError(
            f"row {row} has no patient id", file=p, field=str(pcol), expected="a TCGA barcode"
        )
    rows = np.arange(len(df)) + 2  # file row numbers (header is row 1)
    if SCAN_TYPE_COLUMN in lower:
        scan = df[lower[SCAN_TYPE_COLUMN]].astype(str).str.strip()
        rep.scan_types = {str(k): int(n) for k, n in scan.value_counts(sort=False).items()}
        empty = scan.map(_normalise).isin(_MISSING)  # n/a, empty: cannot be judged, kept
        rep.rows_without_scan_type = int(empty.sum())
        if pre_op_only:
            keep = (empty | scan.map(_is_pre_op)).to_numpy()
            rep.rows_not_pre_op = int((~keep).sum())
            df, ids, rows = df[keep], ids[keep], rows[keep]
            if not len(df):
                raise InputError(
                    "no pre-operative scan in the table",
                    file=p,
                    field=SCAN_TYPE_COLUMN,
                    expected="rows with scan.type 'pre-operative' (or pre_op_only=False)",
                )
    out = pd.DataFrame(index=pd.Index([patient_id(s) for s in ids], name="patient"))
    for trait, column in TRAIT_COLUMNS.items():
        src = df[lower[column]]
        labels = []
        for row_no, pid, raw in zip(rows, out.index, src, strict=True):
            try:
                label, unlisted = _map_value(trait, str(raw))
            except KeyError:
                raise InputError(
                    f"unknown label {raw!r} for patient {pid} (row {row_no})",
                    file=p,
                    field=column,
                    expected=_EXPECTED_PROP,
                ) from None
            if unlisted:
                counts = rep.unlisted_labels.setdefault(trait, {})
                counts[str(raw).strip()] = counts.get(str(raw).strip(), 0) + 1
            elif trait not in ("focal", "infiltrative") and _normalise(str(raw)) == "none":
                rep.none_as_low[trait] = rep.none_as_low.get(trait, 0) + 1
            labels.append(label)
        out[trait] = pd.Series(labels, index=out.index, dtype=object)
    out = out.where(out.notna(), np.nan)
    if out.index.duplicated().any():
        out = _merge_duplicates(out, p)
    for trait, labels in rep.unlisted_labels.items():
        cls = "non-focal" if trait == "focal" else "infiltrative"
        warnings.warn(
            f"{p}: {TRAIT_COLUMNS[trait]} labels outside the VASARI wording read as {cls}: "
            + shown(f"{k!r} x{n}" for k, n in labels.items()),
            stacklevel=2,
        )
    rep.missing = {t: int(out[t].isna().sum()) for t in TRAITS}
    rep.n_patients = len(out)
    return (out, rep) if report else out


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


def is_zero_one(values: pd.Series) -> bool:
    """Whether labels (missing values aside) are boolean or numeric 0/1, whose positive class
    is 1 (True) whatever the class balance; a column with missing values holds its booleans as
    objects, which are booleans all the same."""
    v = values.dropna()
    if pd.api.types.is_bool_dtype(v) or pd.api.types.infer_dtype(v, skipna=True) == "boolean":
        return True
    return pd.api.types.is_numeric_dtype(v) and set(np.unique(v.to_numpy())) <= {0, 1}


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
    name = "the labels" if series.name is None else repr(series.name)
    field = None if series.name is None else str(series.name)
    if len(classes) > 2:
        raise InputError(
            f"{len(classes)} classes ({shown(classes)}) in {name}",
            field=field,
            expected="two classes for a binary task",
        )
    if len(classes) < 2:
        raise InputError(
            f"only {len(classes)} class ({shown(classes)}) in {name}",
            field=field,
            expected="two classes for a binary task",
        )
    known = next((c for c in TRAIT_CLASSES.values() if set(c) == set(classes)), None)
    order = list(known) if known else classes
    if positive is None:
        a, b = order
        positive = a if counts[a] < counts[b] else b
    elif positive not in classes:
        raise InputError(
            f"positive class {positive!r} is not a label of {name}",
            field=field,
            expected=" or ".join(classes),
        )
    negative = next(c for c in classes if c != positive)
    enc = pd.Series(np.nan, index=series.index, name=series.name, dtype=float)
    enc.loc[present.index] = (present.astype(str) == positive).astype(float)
    return enc, (negative, positive)
