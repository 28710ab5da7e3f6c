"""Expression matrices to patients x genes on a log2 scale, with a report of what loading changed.

Accepted: TSV/CSV (genes x samples or samples x genes, optionally gzipped), Parquet, GCT, a GDC
download folder of per-sample RSEM ``*.rsem.genes.results`` files with its
``gdc_sample_sheet.tsv``, and AnnData ``.h5ad`` (optional dependency ``anndata``).

Steps, each counted in the :class:`LoadReport`: values go to log2 (counts via CPM on all genes of
each sample, TPM via log2(TPM+1), log2 kept), ``SYMBOL|ENTREZ`` ids become ``SYMBOL``, ``?`` and
empty symbols are dropped, duplicate symbols are merged (mean), genes with missing values are
dropped, samples of other TCGA sample types than the kept ones (primary tumour ``01`` by default)
are dropped, the aliquots of one patient (first 12 characters of a TCGA barcode) are averaged,
and optionally genes whose mean log2 expression over the patients is below a threshold are
dropped (label-blind: no trait is looked at).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from radiogenomics.data._common import (
    PathLike,
    check_file,
    first_lines,
    is_barcode,
    is_gzip,
    patient_id,
    read_delimited,
    shown,
)
from radiogenomics.errors import InputError
from radiogenomics.utils.text import count

Scale = Literal["auto", "counts", "tpm", "log2"]
Orientation = Literal["auto", "genes_x_samples", "samples_x_genes"]

SCALES = ("auto", "counts", "tpm", "log2")
# Headers of the id column that say which axis it is ("id" and "name" say neither).
_GENE_HEADERS = {"gene_id", "gene", "genes", "symbol", "gene_symbol", "hugo_symbol"}
_SAMPLE_HEADERS = {"patient", "sample", "samples", "barcode", "sample_id", "aliquot", "case"}
SAMPLE_SHEET = "gdc_sample_sheet.tsv"
# TCGA sample-type codes (4th barcode field, first two digits): 01 primary solid tumour,
# 02 recurrent tumour, 10 blood-derived normal, 11 solid-tissue normal. The paper used primary
# tumours only.
PRIMARY_TUMOUR = ("01",)
RSEM_SUFFIX = ".rsem.genes.results"


@dataclass
class LoadReport:
    """What loading an expression matrix changed; ``print(report)`` gives a readable summary."""

    source: str
    format: str = ""
    orientation: str = ""
    scale: str = ""  # the scale of the input values (detected when "auto" was asked)
    scale_detected: bool = False
    transform: str = ""
    genes_in: int = 0
    samples_in: int = 0
    ids_parsed: int = 0  # SYMBOL|ENTREZ ids turned into SYMBOL
    unknown_dropped: int = 0  # '?' or empty symbols
    duplicate_symbols: int = 0  # symbols that had several rows
    duplicate_rows_merged: int = 0  # rows folded into those symbols
    nonfinite_genes_dropped: int = 0
    patients_with_aliquots: dict[str, list[str]] = field(default_factory=dict)
    samples_skipped: list[tuple[str, str]] = field(default_factory=list)  # (sample, reason)
    sample_types_kept: list[str] | None = None  # None: every sample type kept
    samples_dropped_by_type: dict[str, list[str]] = field(default_factory=dict)  # code -> samples
    samples_without_type: int = 0  # ids with no sample-type field (kept)
    min_mean_expression: float | None = None
    low_expression_genes_dropped: int = 0
    sheet_rows_without_file: int = 0
    n_patients: int = 0
    n_genes: int = 0

    @property
    def aliquots_averaged(self) -> int:
        """Number of patients whose several aliquots were averaged."""
        return len(self.patients_with_aliquots)

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "format": self.format,
            "orientation": self.orientation,
            "scale": self.scale,
            "scale_detected": self.scale_detected,
            "transform": self.transform,
            "genes_in": self.genes_in,
            "samples_in": self.samples_in,
            "ids_parsed": self.ids_parsed,
            "unknown_dropped": self.unknown_dropped,
            "duplicate_symbols": self.duplicate_symbols,
            "duplicate_rows_merged": self.duplicate_rows_merged,
            "nonfinite_genes_dropped": self.nonfinite_genes_dropped,
            "patients_with_aliquots": self.patients_with_aliquots,
            "samples_skipped": [list(s) for s in self.samples_skipped],
            "sample_types_kept": self.sample_types_kept,
            "samples_dropped_by_type": self.samples_dropped_by_type,
            "samples_without_type": self.samples_without_type,
            "min_mean_expression": self.min_mean_expression,
            "low_expression_genes_dropped": self.low_expression_genes_dropped,
            "sheet_rows_without_file": self.sheet_rows_without_file,
            "n_patients": self.n_patients,
            "n_genes": self.n_genes,
        }

    def changes(self) -> list[str]:
        """What reading changed in the matrix, one line each (empty: taken as it was)."""
        out = []
        if self.unknown_dropped:
            out.append(f"{count(self.unknown_dropped, 'row')} with '?' or empty symbols dropped")
        if self.duplicate_symbols:
            out.append(
                f"{count(self.duplicate_symbols, 'symbol')} on several rows merged by their mean"
                f" ({count(self.duplicate_rows_merged, 'extra row')})"
            )
        if self.nonfinite_genes_dropped:
            out.append(
                f"{count(self.nonfinite_genes_dropped, 'gene row')} dropped for missing values"
            )
        if self.aliquots_averaged:
            out.append(f"aliquots averaged for {count(self.aliquots_averaged, 'patient')}")
        if self.samples_skipped:
            out.append(f"{count(len(self.samples_skipped), 'sample')} skipped")
        dropped = sum(len(v) for v in self.samples_dropped_by_type.values())
        if dropped:
            out.append(f"{dropped} samples of other TCGA sample types dropped")
        if self.low_expression_genes_dropped:
            out.append(
                f"{self.low_expression_genes_dropped} genes dropped with mean log2 expression"
                f" < {self.min_mean_expression:g}"
            )
        return out

    def __str__(self) -> str:
        how = "detected" if self.scale_detected else "given"
        lines = [
            f"Expression loaded from {self.source}",
            f"  format: {self.format} ({self.orientation})",
            f"  input: {self.genes_in} gene rows x {self.samples_in} samples",
            f"  scale: {self.scale} ({how}); transform: {self.transform}",
            f"  SYMBOL|ENTREZ ids parsed to symbols: {self.ids_parsed}",
            f"  '?' / empty symbols dropped: {self.unknown_dropped}",
            f"  duplicate symbols merged (mean): {self.duplicate_symbols}"
            f" ({count(self.duplicate_rows_merged, 'extra row')})",
            f"  genes dropped for NaN values: {self.nonfinite_genes_dropped}",
            f"  patients with several aliquots averaged: {self.aliquots_averaged}"
            + (f" ({shown(self.patients_with_aliquots)})" if self.patients_with_aliquots else ""),
            f"  samples skipped: {len(self.samples_skipped)}"
            + (
                " (" + "; ".join(f"{s}: {r}" for s, r in self.samples_skipped[:5]) + ")"
                if self.samples_skipped
                else ""
            ),
        ]
        kept = "all" if self.sample_types_kept is None else ", ".join(self.sample_types_kept)
        dropped = sum(len(v) for v in self.samples_dropped_by_type.values())
        lines.append(
            f"  TCGA sample types kept: {kept}; samples dropped by type: {dropped}"
            + (
                " ("
                + ", ".join(f"{k}: {len(v)}" for k, v in self.samples_dropped_by_type.items())
                + ")"
                if dropped
                else ""
            )
        )
        if self.samples_without_type:
            lines.append(
                f"  samples without a sample-type field (kept): {self.samples_without_type}"
            )
        if self.min_mean_expression is not None:
            lines.append(
                f"  genes dropped with mean log2 expression < {self.min_mean_expression:g}: "
                f"{self.low_expression_genes_dropped}"
            )
        if self.sheet_rows_without_file:
            lines.append(f"  sample-sheet rows with no file here: {self.sheet_rows_without_file}")
        lines.append(f"  result: {self.n_patients} patients x {self.n_genes} genes (log2)")
        return "\n".join(lines)


def read_expression(
    path: PathLike,
    *,
    scale: Scale = "auto",
    orientation: Orientation = "auto",
    sample_sheet: PathLike | None = None,
    sample_types: Sequence[str] | None = PRIMARY_TUMOUR,
    min_mean_expression: float | None = None,
    report: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, LoadReport]:
    """Read an expression matrix as patients x genes, float32, log2 scale (index ``patient``).

    ``scale``: the scale of the values in the file: ``counts`` -> log2(CPM+1), ``tpm`` ->
    log2(TPM+1), ``log2`` kept as is, ``auto`` detects it (negative or small values: log2; sample
    sums near 1e6: TPM; else counts). ``orientation``: ``auto`` finds the sample axis by its
    TCGA-style barcodes (else the header of the id column, else genes are the longer axis).
    ``sample_sheet``: for a GDC folder, a sheet other than ``<folder>/gdc_sample_sheet.tsv``.
    ``sample_types``: the TCGA sample-type codes kept (``01`` primary tumour by default; ``None``
    keeps every sample); other samples are dropped before aliquots are averaged, so a patient's
    ``01`` tumour is never averaged with its ``11`` normal tissue. An id without a sample-type
    field (a patient barcode, a non-TCGA id) is kept and counted. ``min_mean_expression``: drop
    genes whose mean log2 value over the patients is below it (see
    :func:`filter_low_expression`). With ``report=True`` returns ``(frame, LoadReport)``.
    """
    frame, rep = read_expression_report(
        path,
        scale=scale,
        orientation=orientation,
        sample_sheet=sample_sheet,
        sample_types=sample_types,
        min_mean_expression=min_mean_expression,
    )
    return (frame, rep) if report else frame


def read_expression_report(
    path: PathLike,
    *,
    scale: Scale = "auto",
    orientation: Orientation = "auto",
    sample_sheet: PathLike | None = None,
    sample_types: Sequence[str] | None = PRIMARY_TUMOUR,
    min_mean_expression: float | None = None,
) -> tuple[pd.DataFrame, LoadReport]:
    """Like :func:`read_expression` but always returns ``(frame, LoadReport)``."""
    if scale not in SCALES:
        raise InputError(f"unknown scale {scale!r}", field="scale", expected=" / ".join(SCALES))
    p = Path(path)
    rep = LoadReport(source=str(p))
    rep.sample_types_kept = _check_sample_types(sample_types)
    rep.min_mean_expression = _check_threshold(min_mean_expression)
    if p.is_dir():
        raw, rep.format = _read_gdc_folder(p, scale, sample_sheet, rep), "GDC RSEM folder"
        rep.orientation = "per-sample files"
        if scale == "auto":
            scale, rep.scale_detected = "tpm", True
        _validate_numeric(raw, p)
    else:
        check_file(p, "expression")
        raw = _read_matrix(p, orientation, rep)
    frame = _finish(raw, p, scale, rep)
    if rep.min_mean_expression is not None:
        frame, dropped = filter_low_expression(frame, rep.min_mean_expression)
        rep.low_expression_genes_dropped = len(dropped)
        if frame.shape[1] == 0:
            raise InputError(
                f"no gene has a mean log2 expression >= {rep.min_mean_expression:g}",
                file=p,
                field="min_mean_expression",
                expected="a threshold below the genes' mean log2 values",
            )
        rep.n_genes = frame.shape[1]
    return frame, rep


def _check_sample_types(sample_types: Sequence[str] | None) -> list[str] | None:
    if sample_types is None:
        return None
    if isinstance(sample_types, str):
        sample_types = [sample_types]
    codes = [str(c).strip() for c in sample_types]
    bad = [c for c in codes if len(c) != 2 or not c.isdigit()]
    if bad or not codes:
        raise InputError(
            f"bad TCGA sample-type code(s) {shown(bad) or '(none given)'}",
            field="sample_types",
            expected="two-digit codes such as '01' (primary tumour), '02', '11'; or None for all",
        )
    return sorted(set(codes))


def _check_threshold(value: float | None) -> float | None:
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not np.isfinite(v):
        raise InputError(
            f"min_mean_expression {value!r} is not a finite number",
            field="min_mean_expression",
            expected="a number on the log2 scale (e.g. 1.0) or None",
        )
    return v


def sample_type(sample: str) -> str | None:
    """The two-digit TCGA sample-type code of a sample or aliquot barcode (``01`` in
    ``TCGA-02-0047-01A-01R-1849-01``), None when the id has no such field."""
    text = str(sample).strip()
    if not is_barcode(text):
        return None
    parts = text.split("-")
    if len(parts) < 4 or len(parts[3]) < 2 or not parts[3][:2].isdigit():
        return None
    return parts[3][:2]


def filter_low_expression(
    expression: pd.DataFrame, min_mean: float
) -> tuple[pd.DataFrame, pd.Index]:
    """Genes (columns) whose mean log2 expression over the patients (rows) is at least
    ``min_mean``, and the names of those dropped.

    Label-blind (no trait is looked at), so filtering every patient at once leaks nothing into
    cross-validation; it is the paper's "mean log2 TPM >= 1" gene filter.
    """
    threshold = _check_threshold(min_mean)
    means = expression.mean(axis=0)
    keep = (means >= threshold).to_numpy()
    return expression.loc[:, keep], expression.columns[~keep]


# --------------------------------------------------------------------------------------------
# Formats -> raw genes x samples frame (object or float), index = gene id, columns = sample id
# --------------------------------------------------------------------------------------------


def _suffixes(p: Path) -> list[str]:
    return [s.lower() for s in p.suffixes]


def _read_matrix(p: Path, orientation: str, rep: LoadReport) -> pd.DataFrame:
    suf = _suffixes(p)
    if suf and suf[-1] == ".parquet":
        rep.format = "Parquet"
        try:
            df = pd.read_parquet(p)
        except Exception as err:  # pyarrow raises several types for corrupt files
            raise InputError(f"cannot read Parquet file: {err}", file=p) from None
        if (
            isinstance(df.index, pd.RangeIndex)
            and df.shape[1]
            and df.dtypes.iloc[0] is np.dtype(object)
        ):
            df = df.set_index(df.columns[0])
    elif suf and suf[-1] == ".h5ad":
        rep.format = "AnnData h5ad"
        df = _read_h5ad(p)
        orientation = "genes_x_samples"
    elif ".gct" in suf:
        rep.format = "GCT"
        head = first_lines(p, 2)
        if not head or not head[0].startswith("#1."):
            raise InputError(
                "not a GCT file", file=p, field="line 1", expected="'#1.2' then dimensions"
            )
        df = read_delimited(p, "GCT", sep="\t", skiprows=2, index_col=0, low_memory=False)
        desc = [c for c in df.columns if str(c).lower() == "description"]
        df = df.drop(columns=desc)
        orientation = "genes_x_samples"
    else:
        rep.format = "delimited text" + (" (gzip)" if is_gzip(p) else "")
        df = read_delimited(p, "expression", index_col=0, low_memory=False)
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise InputError(
            "expression table has no data", file=p, expected="gene rows and sample columns"
        )
    df.index = df.index.map(str)
    df.columns = df.columns.map(str)
    df, transposed = _orient(df, orientation, p)
    rep.orientation = "samples x genes" if transposed else "genes x samples"
    df = _drop_repeated_samples(df, p, rep)
    _validate_numeric(df, p)
    return df


def _drop_repeated_samples(df: pd.DataFrame, p: Path, rep: LoadReport) -> pd.DataFrame:
    """A sample id used twice keeps its first column: in a header pandas reads the second as
    ``id.1``; as rows of a samples x genes file it stays ``id`` twice."""
    names = set(df.columns)
    repeated = [
        c
        for c in df.columns
        if "." in c and c.rsplit(".", 1)[1].isdigit() and c.rsplit(".", 1)[0] in names
    ]
    twice = df.columns.duplicated(keep="first")
    if twice.any():
        for c in df.columns[twice]:
            rep.samples_skipped.append((c, "sample id repeated"))
        warnings.warn(
            f"{p}: {int(twice.sum())} sample ids appear more than once "
            f"({shown(df.columns[twice])}); the first of each is kept",
            stacklevel=4,
        )
        df = df.loc[:, ~twice]
    if not repeated:
        return df
    for c in repeated:
        rep.samples_skipped.append((c, "sample id repeated in the header"))
    warnings.warn(
        f"{p}: {len(repeated)} sample ids appear more than once in the header "
        f"({shown(c.rsplit('.', 1)[0] for c in repeated)}); the first column of each is kept",
        stacklevel=4,
    )
    return df.drop(columns=repeated)


def _orient(df: pd.DataFrame, orientation: str, p: Path) -> tuple[pd.DataFrame, bool]:
    """The frame as genes x samples, and whether it was transposed."""
    if orientation == "genes_x_samples":
        return df, False
    if orientation == "samples_x_genes":
        return df.T, True
    if orientation != "auto":
        raise InputError(
            f"unknown orientation {orientation!r}",
            field="orientation",
            expected="auto / genes_x_samples / samples_x_genes",
        )
    col_bc = np.mean([is_barcode(c) for c in df.columns[:200]])
    row_bc = np.mean([is_barcode(r) for r in df.index[:200]])
    id_header = str(df.index.name or "").strip().lower()
    if col_bc > 0.5 and col_bc >= row_bc:
        transpose = False
    elif row_bc > 0.5:
        transpose = True
    elif id_header in _GENE_HEADERS:
        transpose = False
    elif id_header in _SAMPLE_HEADERS:
        transpose = True
    else:  # guessing (e.g. by the longer axis) silently transposes some files: refuse
        raise InputError(
            f"cannot tell whether rows or columns are samples: no TCGA barcodes on either axis "
            f"and the id column is headed {df.index.name or '(nothing)'!r} "
            f"({df.shape[0]} rows x {df.shape[1]} columns)",
            file=p,
            field="orientation",
            expected="data.orientation (or --orientation) = 'genes_x_samples' or "
            "'samples_x_genes', or an id column headed gene_id / symbol or sample / patient",
        )
    return (df.T, True) if transpose else (df, False)


def _read_h5ad(p: Path) -> pd.DataFrame:
    try:
        import anndata
    except ImportError:
        raise InputError(
            "reading .h5ad needs the optional dependency anndata",
            file=p,
            expected="pip install 'radiogenomics[h5ad]'",
        ) from None
    try:
        ad = anndata.read_h5ad(p)
    except Exception as err:
        raise InputError(f"cannot read AnnData file: {err}", file=p) from None
    X = ad.X.toarray() if hasattr(ad.X, "toarray") else np.asarray(ad.X)
    return pd.DataFrame(X.T, index=list(map(str, ad.var_names)), columns=list(ad.obs_names))


def _read_gdc_folder(
    folder: Path, scale: str, sample_sheet: PathLike | None, rep: LoadReport
) -> pd.DataFrame:
    sheet_path = check_file(
        sample_sheet if sample_sheet is not None else folder / SAMPLE_SHEET, "GDC sample sheet"
    )
    sheet = read_delimited(sheet_path, "GDC sample sheet", sep="\t", dtype=str)
    need = {"File Name", "Sample ID"}
    missing = need - set(sheet.columns)
    if missing:
        raise InputError(
            f"sample sheet lacks columns {sorted(missing)}",
            file=sheet_path,
            expected="the GDC sample-sheet layout (File ID, File Name, ..., Sample ID)",
        )
    files = sorted(folder.rglob(f"*{RSEM_SUFFIX}"))
    if not files:
        raise InputError(
            "no per-sample RSEM files in the folder", file=folder, expected=f"*{RSEM_SUFFIX} files"
        )
    by_name = {f.name: f for f in files}
    sheet = sheet.fillna("")
    in_folder = sheet["File Name"].isin(by_name)
    rep.sheet_rows_without_file = int((~in_folder).sum())
    listed = set(sheet["File Name"])
    for name in sorted(set(by_name) - listed):
        rep.samples_skipped.append((name, "file not in the sample sheet"))
        warnings.warn(
            f"{sheet_path}: {name} is in the folder but not in the sample sheet; skipped",
            stacklevel=3,
        )
    value_col = "raw_count" if scale == "counts" else "scaled_estimate"
    columns: dict[str, pd.Series] = {}
    for row_no, row in sheet[in_folder].iterrows():
        name = row["File Name"]
        barcode = (row.get("Aliquot ID") or row.get("Sample ID") or "").strip()
        if not barcode:
            rep.samples_skipped.append((name, "no barcode in the sample sheet"))
            warnings.warn(
                f"{sheet_path}: row {row_no + 2} ({name}) has no Case/Sample/Aliquot barcode; "
                "the file is skipped",
                stacklevel=3,
            )
            continue
        if barcode in columns:
            rep.samples_skipped.append((name, f"barcode {barcode} listed twice"))
            warnings.warn(
                f"{sheet_path}: barcode {barcode} listed twice; kept the first",
                stacklevel=3,
            )
            continue
        columns[barcode] = _read_rsem_file(by_name[name], value_col)
    if not columns:
        raise InputError(
            "no RSEM file in the folder has a barcode in the sample sheet",
            file=sheet_path,
            field="Sample ID",
            expected="at least one usable sample",
        )
    df = pd.concat(columns, axis=1)
    if value_col == "scaled_estimate":
        df = df * 1e6
    return df


def _read_rsem_file(f: Path, value_col: str) -> pd.Series:
    d = read_delimited(f, "RSEM", sep="\t", index_col=0)
    if value_col not in d.columns:
        raise InputError(
            f"RSEM file lacks column {value_col!r}",
            file=f,
            field=value_col,
            expected="gene_id, raw_count, scaled_estimate columns",
        )
    s = pd.to_numeric(d[value_col], errors="coerce")
    bad = s.isna() & d[value_col].notna()
    if bad.any():
        g = s.index[np.argmax(bad.to_numpy())]
        raise InputError(
            f"non-numeric value {d[value_col][g]!r} at gene {g}",
            file=f,
            field=value_col,
            expected="numbers",
        )
    s.index = s.index.map(str)
    return s


# --------------------------------------------------------------------------------------------
# Validation, scale, ids, patients
# --------------------------------------------------------------------------------------------


def _validate_numeric(df: pd.DataFrame, p: Path) -> None:
    """Raise InputError at the first non-numeric cell; turn every column numeric in place."""
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s):
            continue
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna() & s.notna() & (s.astype(str).str.strip() != "")
        if bad.any():
            g = s.index[np.argmax(bad.to_numpy())]
            raise InputError(
                f"non-numeric value {s[g]!r} at gene {g}, sample {col} (is the delimiter right?)",
                file=p,
                field=str(col),
                expected="numeric expression values",
            )
        df[col] = num


def _detect_scale(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return "log2"
    if finite.max() <= 50:  # log2 expression (or centred log values) stays far below 50
        return "log2"
    # Larger values are counts or TPM, whatever the sign: a negative cell among them is refused
    # as such by the caller rather than turning the whole matrix into "log2".
    # TPM sums to 1e6 per sample (a little less when some genes were left out of the file).
    sums = np.nansum(values, axis=0)
    if 0.7e6 <= np.median(sums) <= 1.05e6 and sums.max() <= 1.1e6:
        return "tpm"
    return "counts"


def _filter_sample_types(raw: pd.DataFrame, p: Path, rep: LoadReport) -> pd.DataFrame:
    """Drop the samples whose TCGA sample type is not kept (counted per type code)."""
    types = [sample_type(c) for c in raw.columns]
    rep.samples_without_type = sum(t is None for t in types)
    if rep.sample_types_kept is None:
        return raw
    kept = set(rep.sample_types_kept)
    drop = [t is not None and t not in kept for t in types]
    if not any(drop):
        return raw
    for col, t, d in zip(raw.columns, types, drop, strict=True):
        if d:
            rep.samples_dropped_by_type.setdefault(str(t), []).append(str(col))
    rep.samples_dropped_by_type = dict(sorted(rep.samples_dropped_by_type.items()))
    if all(drop):
        raise InputError(
            f"every sample has a TCGA sample type outside {', '.join(sorted(kept))} "
            f"(types here: {', '.join(rep.samples_dropped_by_type)})",
            file=p,
            field="sample_types",
            expected="samples of a kept type, or sample_types set to the types wanted",
        )
    warnings.warn(
        f"{p}: {sum(drop)} samples of TCGA sample types other than {', '.join(sorted(kept))} "
        "are dropped ("
        + ", ".join(f"{k}: {len(v)}" for k, v in rep.samples_dropped_by_type.items())
        + ")",
        stacklevel=4,
    )
    return raw.loc[:, [not d for d in drop]]


def _finish(raw: pd.DataFrame, p: Path, scale: str, rep: LoadReport) -> pd.DataFrame:
    rep.genes_in, rep.samples_in = raw.shape
    empty = raw.isna().all(axis=0)
    if empty.any():
        for c in raw.columns[empty]:
            rep.samples_skipped.append((str(c), "no values"))
        warnings.warn(
            f"{p}: {count(int(empty.sum()), 'sample')} without values skipped "
            f"({shown(raw.columns[empty])})",
            stacklevel=3,
        )
        raw = raw.loc[:, ~empty]
        if raw.shape[1] == 0:
            raise InputError("no sample has values", file=p, expected="numeric expression values")
    raw = _filter_sample_types(raw, p, rep)
    values = raw.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        r, c = np.argwhere(np.isinf(values))[0]
        raise InputError(
            f"infinite value at gene {raw.index[r]}, sample {raw.columns[c]}",
            file=p,
            field=str(raw.columns[c]),
            expected="finite expression values",
        )
    if scale == "auto":
        scale, rep.scale_detected = _detect_scale(values), True
    elif scale == "log2" and _detect_scale(values) != "log2":
        # log2 expression stays below ~25; values this large are counts or TPM read as log2
        warnings.warn(
            f"{p}: the scale is given as log2 but values reach {np.nanmax(values):.4g}, as"
            f" {_detect_scale(values)} would (expression_scale: auto detects it)",
            stacklevel=3,
        )
    rep.scale = scale
    if scale in ("counts", "tpm"):
        neg = np.nan_to_num(values, nan=0.0) < 0
        if neg.any():
            r, c = np.argwhere(neg)[0]
            seen = (
                f" (detected: values reach {np.nanmax(values):.4g})" if rep.scale_detected else ""
            )
            raise InputError(
                f"negative value {values[r, c]} at gene {raw.index[r]}, sample"
                f" {raw.columns[c]}, in {scale} data{seen}",
                file=p,
                field=str(raw.columns[c]),
                expected=f"non-negative {scale} (or scale='log2' for log-scale data)",
            )
    if scale == "counts":
        lib = np.nansum(values, axis=0)
        if (lib <= 0).any():
            c = int(np.argmax(lib <= 0))
            raise InputError(
                f"sample {raw.columns[c]} has no counts",
                file=p,
                field=str(raw.columns[c]),
                expected="a positive library size",
            )
        values = np.log2(values / lib * 1e6 + 1.0)
        rep.transform = "log2(CPM + 1), library size over all input genes"
    elif scale == "tpm":
        values = np.log2(values + 1.0)
        rep.transform = "log2(TPM + 1)"
    else:
        rep.transform = "none (already log2)"

    # Gene ids: SYMBOL|ENTREZ -> SYMBOL; drop '?' and empty symbols.
    ids = pd.Index(raw.index.map(str))
    has_pipe = ids.str.contains("|", regex=False)
    rep.ids_parsed = int(has_pipe.sum())
    symbols = ids.str.split("|", n=1).str[0].str.strip()
    unknown = symbols.isin(["?", "", "nan", "NA"])
    rep.unknown_dropped = int(unknown.sum())
    keep = ~np.asarray(unknown)
    values, symbols, rows = values[keep], symbols[keep], ids[keep]

    # Genes with missing values are dropped (a warning names them).
    nan_rows = np.isnan(values).any(axis=1)
    if nan_rows.any():
        rep.nonfinite_genes_dropped = int(nan_rows.sum())
        r = int(np.argmax(nan_rows))
        c = int(np.argmax(np.isnan(values[r])))
        warnings.warn(
            f"{p}: {int(nan_rows.sum())} gene rows have missing values and are dropped "
            f"(first: row {rows[r]}, sample {raw.columns[c]})",
            stacklevel=3,
        )
        values, symbols = values[~nan_rows], symbols[~nan_rows]
    if values.shape[0] == 0:
        raise InputError(
            "no gene left after dropping '?' symbols and genes with missing values",
            file=p,
            expected="named genes with numeric values",
        )

    frame = pd.DataFrame(values, index=symbols, columns=raw.columns)
    dup = symbols.duplicated(keep=False)
    if dup.any():
        rep.duplicate_symbols = int(symbols[dup].nunique())
        rep.duplicate_rows_merged = int(symbols.duplicated().sum())
        frame = frame.groupby(level=0, sort=False).mean()

    # Samples -> patients; several aliquots of one patient are averaged.
    patients = pd.Index([patient_id(c) for c in frame.columns])
    groups = pd.Series(list(frame.columns), index=patients)
    multi = patients[patients.duplicated()].unique()
    rep.patients_with_aliquots = {
        str(pt): sorted(map(str, groups.loc[[pt]].tolist())) for pt in multi
    }
    out = frame.T
    out.index = patients
    if len(multi):
        out = out.groupby(level=0, sort=False).mean()
    out = out.astype(np.float32)
    out.index.name = "patient"
    out.columns.name = "gene"
    rep.n_patients, rep.n_genes = out.shape
    return out
