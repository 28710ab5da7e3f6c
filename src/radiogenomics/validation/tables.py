"""The side-by-side table (paper vs this tool) and plain Markdown rendering of small tables."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

SIDE_COLUMNS = ["quantity", "paper", "this tool", "note"]


def fmt(value: object, digits: int = 2) -> str:
    """A table cell: floats rounded, NaN as an em dash, the rest as text."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        return f"{value:.{digits}f}"
    return str(value)


def side_by_side(rows: Sequence[tuple[str, object, object] | tuple[str, object, object, str]]):
    """Rows (quantity, paper value, this tool's value[, note]) as a DataFrame of text cells."""
    out = []
    for row in rows:
        q, paper, ours, *rest = row
        out.append(
            {
                "quantity": q,
                "paper": fmt(paper),
                "this tool": fmt(ours),
                "note": rest[0] if rest else "",
            }
        )
    return pd.DataFrame(out, columns=SIDE_COLUMNS)


def markdown_table(df: pd.DataFrame, digits: int = 2, index: bool = False) -> str:
    """A GitHub Markdown table of ``df`` (floats to ``digits``; pipes escaped)."""
    if index:
        df = df.reset_index()
    cols = [str(c) for c in df.columns]

    def cell(v: object) -> str:
        return fmt(v, digits).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in df.itertuples(index=False):
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    return "\n".join(lines)
