"""Molecular subtypes of GBM (Verhaak 2010): labels per patient and the four signature gene sets.

Two layouts are read: the Verhaak ClaNC840 file (sample barcodes in the header, subtype labels in
the first data row, the signature each gene belongs to in column 2) and the 2016 pan-glioma table
(``Case``, ``Original Subtype``, ``Grade``; only grade G4 rows are GBM).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd

from radiogenomics.data._common import (
    PathLike,
    check_file,
    patient_id,
    read_delimited,
    shown,
)
from radiogenomics.data.gene_sets import GeneSets
from radiogenomics.errors import InputError
from radiogenomics.utils.text import count

SUBTYPES = ("Proneural", "Neural", "Classical", "Mesenchymal")
GCIMP = "G-CIMP"
# Column 2 of the ClaNC840 file -> the subtype whose signature the gene belongs to.
SIGNATURE_COLLECTION = "verhaak_subtypes"  # the collection the ClaNC840 signatures become
SIGNATURE_CODES = {"PN": "Proneural", "NL": "Neural", "CL": "Classical", "MES": "Mesenchymal"}
_CANON = {s.lower(): s for s in (*SUBTYPES, GCIMP)} | {"g_cimp": GCIMP, "gcimp": GCIMP}
_MISSING = {"", "na", "n/a", "nan", "none"}


def read_subtypes(path: PathLike, four_class: bool = True) -> pd.Series:
    """Subtype per patient (index ``patient``, name ``subtype``).

    With ``four_class`` G-CIMP patients are labelled Proneural (a warning says how many), giving
    the four classes Proneural, Neural, Classical, Mesenchymal; otherwise G-CIMP is a fifth
    label. Patients without a subtype are left out.
    """
    p = check_file(path, "subtype")
    table = read_delimited(p, "subtype", dtype=str, header=None, keep_default_na=False)
    if table.shape[0] < 2 or table.shape[1] < 2:
        raise InputError("subtype table has no data rows", file=p)
    header = [str(v).strip() for v in table.iloc[0]]
    lowered = [h.lower() for h in header]
    if "original subtype" in lowered or "subtype" in lowered[1:]:
        labels = _pan_glioma(table, header, p)
    elif str(table.iat[1, 0]).strip().lower() == "subtype":
        labels = _clanc(table, header, p)
    else:
        raise InputError(
            "unrecognised subtype table layout",
            file=p,
            expected="the ClaNC840 layout (row 2 starts with 'Subtype') or a table with "
            "'Case' and 'Original Subtype' columns",
        )
    labels = _canonical(labels, p)
    labels = _one_per_patient(labels, p)
    n_gcimp = int((labels == GCIMP).sum())
    gcimp = sorted(labels.index[labels == GCIMP])
    if four_class and n_gcimp:
        warnings.warn(
            f"{p}: {n_gcimp} G-CIMP patients are labelled Proneural (4-class subtype task)",
            stacklevel=2,
        )
        labels = labels.replace(GCIMP, "Proneural")
    labels.attrs["gcimp"] = gcimp if four_class else []
    labels.attrs["note"] = (
        f"{n_gcimp} G-CIMP patients counted as Proneural" if four_class and n_gcimp else ""
    )
    labels.index.name = "patient"
    labels.name = "subtype"
    return labels


def _clanc(table: pd.DataFrame, header: list[str], p: Path) -> pd.Series:
    samples = header[2:]
    values = [str(v).strip() for v in table.iloc[1, 2:]]
    return pd.Series(values, index=samples)


def _pan_glioma(table: pd.DataFrame, header: list[str], p: Path) -> pd.Series:
    body = table.iloc[1:].copy()
    body.columns = header
    lower = {h.lower(): h for h in header}
    case = lower.get("case") or header[0]
    sub = lower.get("original subtype") or lower.get("subtype")
    out = body
    grade = lower.get("grade")
    if grade is not None:
        out = body[body[grade].str.strip().str.upper() == "G4"]
        if out.empty:
            raise InputError(
                "no grade G4 (GBM) rows", file=p, field=grade, expected="rows with Grade G4"
            )
    return pd.Series(out[sub].str.strip().to_numpy(), index=out[case].str.strip().to_numpy())


def _canonical(labels: pd.Series, p: Path) -> pd.Series:
    labels = labels[~labels.str.lower().isin(_MISSING)]
    canon = labels.str.lower().map(_CANON)
    bad = canon.isna()
    if bad.any():
        raise InputError(
            f"unknown subtype label(s) {shown(sorted(set(labels[bad])))} "
            f"(first at sample {labels.index[bad][0]})",
            file=p,
            field="subtype",
            expected=" / ".join((*SUBTYPES, GCIMP)),
        )
    return canon


def _one_per_patient(labels: pd.Series, p: Path) -> pd.Series:
    patients = [patient_id(s) for s in labels.index]
    labels = pd.Series(labels.to_numpy(), index=patients)
    dup = labels.index.duplicated(keep=False)
    if not dup.any():
        return labels
    groups = labels[dup].groupby(level=0).nunique()
    conflicting = groups[groups > 1].index
    if len(conflicting):
        warnings.warn(
            f"{p}: {count(len(conflicting), 'patient')} with samples of different subtypes "
            f"({shown(conflicting)}) left out",
            stacklevel=3,
        )
    labels = labels[~labels.index.isin(conflicting)]
    return labels[~labels.index.duplicated()]


def read_subtype_signatures(clanc_path: PathLike) -> GeneSets:
    """The four Verhaak signature gene sets (Proneural, Neural, Classical, Mesenchymal) from
    column 2 (``PN``/``NL``/``CL``/``MES``) of the ClaNC840 file. Genes with an empty column 2
    (in the classifier but in no subtype's highly expressed list) belong to no set."""
    p = check_file(clanc_path, "ClaNC840")
    table = read_delimited(p, "ClaNC840", dtype=str, header=None, usecols=[0, 1])
    body = table.iloc[1:]
    if not body.empty and str(body.iat[0, 0]).strip().lower() == "subtype":
        body = body.iloc[1:]
    sets: dict[str, list[str]] = {name: [] for name in SIGNATURE_CODES.values()}
    for row_no, (gene, code) in enumerate(body.itertuples(index=False), start=3):
        code = "" if pd.isna(code) else str(code).strip().upper()
        if code == "":
            continue  # a ClaNC gene not among the subtype's highly expressed genes
        if code not in SIGNATURE_CODES:
            raise InputError(
                f"unknown signature code {code!r} for gene {gene} at row {row_no}",
                file=p,
                field="column 2",
                expected="PN / NL / CL / MES",
            )
        gene = str(gene).strip()
        if gene not in sets[SIGNATURE_CODES[code]]:
            sets[SIGNATURE_CODES[code]].append(gene)
    return GeneSets(
        {k: tuple(v) for k, v in sets.items()},
        collection=SIGNATURE_COLLECTION,
        descriptions={k: f"Verhaak 2010 ClaNC840 {k} signature" for k in sets},
    )
