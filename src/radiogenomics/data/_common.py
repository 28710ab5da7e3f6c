"""Helpers shared by the readers: file checks, delimiter sniffing, TCGA barcodes."""

from __future__ import annotations

import gzip
import os
import re
from pathlib import Path

import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.utils.text import count

PathLike = str | os.PathLike

# project-TSS-participant, e.g. TCGA-02-0047 (the patient) in TCGA-02-0047-01A-01R-1849-01.
_BARCODE = re.compile(r"^([A-Za-z0-9]+-[A-Za-z0-9]{2}-[A-Za-z0-9]{4})(?:-|$)")

# TCGA clinical placeholders such as [Not Available], [Not Applicable], [Unknown], [Discrepancy].
_PLACEHOLDER = re.compile(r"^\s*\[[^\]]*\]\s*$")


def patient_id(sample: str) -> str:
    """The patient part of a sample or aliquot barcode (first three fields of a TCGA barcode).

    An id that is not barcode-shaped is its own patient id.
    """
    text = str(sample).strip()
    m = _BARCODE.match(text)
    return m.group(1) if m else text


def is_barcode(text: object) -> bool:
    return isinstance(text, str) and _BARCODE.match(text.strip()) is not None


def check_file(path: PathLike, what: str) -> Path:
    """The path as a Path if it is a readable file, else an InputError saying what was wanted."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{what} file not found", file=p, expected="an existing file")
    if p.is_dir():
        raise InputError(f"{what} path is a folder", file=p, expected="a file")
    if not os.access(p, os.R_OK):
        raise InputError(f"{what} file is not readable", file=p, expected="read permission")
    return p


def is_gzip(path: Path) -> bool:
    """Whether the file is gzip-compressed, by its first bytes rather than its name (a ``.tsv``
    may be gzipped and a ``.gz`` plain)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def open_text(path: Path):
    """Open a text file, gunzipping it when it is compressed; a UTF-8 byte-order mark is
    dropped (spreadsheet exports start with one)."""
    if is_gzip(path):
        return gzip.open(path, "rt", encoding="utf-8-sig", errors="replace")
    return open(path, encoding="utf-8-sig", errors="replace")


def first_lines(path: Path, n: int = 5) -> list[str]:
    try:
        with open_text(path) as fh:
            out = []
            for _ in range(n):
                line = fh.readline()
                if not line:
                    break
                out.append(line.rstrip("\r\n"))
            return out
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise InputError(f"cannot read file: {err}", file=path) from None


# The first bytes of files that are not UTF-8 text tables, and what each is.
_NOT_TEXT = (
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx or OpenDocument workbook?), not a text table"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls), not a text table"),
    (b"PAR1", "a Parquet file, not a text table"),
    (b"\xff\xfe", "UTF-16 text (a spreadsheet's 'Unicode text' export), not UTF-8 text"),
    (b"\xfe\xff", "UTF-16 text, not UTF-8 text"),
)


def refuse_binary(
    path: Path,
    expected: str = "a CSV or tab-separated text file (plain or gzipped): save the sheet as CSV "
    "or TSV",
) -> None:
    """An InputError for a workbook, archive, Parquet file or UTF-16 text given where a UTF-8
    text table is read (its bytes would otherwise end in a puzzling delimiter or parser error)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(512)
    except OSError as err:
        raise InputError(f"cannot read file: {err}", file=path) from None
    kind = next((what for magic, what in _NOT_TEXT if head.startswith(magic)), None)
    if kind is None and not is_gzip(path) and b"\x00" in head:
        kind = "a binary file, not a text table"
    if kind is not None:
        raise InputError(f"this is {kind}", file=path, expected=expected)


def table_head(path: Path, candidates: str = "\t,;") -> tuple[str, str, int]:
    """``(delimiter, header line, lines before it)`` of a delimited text file: the header is
    the first line that is neither blank nor a ``#`` comment (a GSEA .rnk may open with many),
    the delimiter the one splitting it into most fields."""
    refuse_binary(path)
    header, before, comments = None, 0, 0
    try:
        with open_text(path) as fh:
            for line in fh:
                if line.strip() and not line.startswith("#"):
                    header = line.rstrip("\r\n")
                    break
                before += 1
                comments += line.startswith("#")
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise InputError(f"cannot read file: {err}", file=path) from None
    if header is None:
        what = (
            f"the file holds only {count(comments, 'comment line')}"
            if comments
            else "file is empty"
        )
        raise InputError(what, file=path, expected="a header row and data rows")
    counts = {d: header.count(d) for d in candidates}
    best = max(candidates, key=lambda d: counts[d])
    if counts[best] == 0:
        raise InputError(
            "cannot find the column delimiter in the header row",
            file=path,
            field="row 1",
            expected="tab-, comma- or semicolon-separated columns",
        )
    return best, header, before


def sniff_delimiter(path: Path, candidates: str = "\t,;") -> str:
    """The delimiter of a delimited text file (see :func:`table_head`)."""
    return table_head(path, candidates)[0]


def read_delimited(path: Path, what: str, **kwargs) -> pd.DataFrame:
    """pandas.read_csv with the delimiter sniffed and parser errors turned into InputError."""
    sep = kwargs.pop("sep", None) or sniff_delimiter(path)
    kwargs.setdefault("compression", "gzip" if is_gzip(path) else None)
    kwargs.setdefault("encoding", "utf-8-sig")
    try:
        return pd.read_csv(path, sep=sep, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, OSError, EOFError) as err:
        raise InputError(f"cannot parse the {what} table: {err}", file=path) from None
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file is empty", file=path) from None


def is_placeholder(value: object) -> bool:
    return isinstance(value, str) and _PLACEHOLDER.match(value) is not None


def shown(items, limit: int = 5) -> str:
    items = list(items)
    text = ", ".join(map(str, items[:limit]))
    return text + (f" ... (+{len(items) - limit} more)" if len(items) > limit else "")
