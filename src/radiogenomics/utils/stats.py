"""Small statistics shared by several stages."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; NaN entries stay NaN and are not counted."""
    p = np.asarray(p, dtype=np.float64)
    q = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adjusted, 1.0)
    q[ok] = out
    return q


def bh_by_group(
    table: pd.DataFrame,
    by: Sequence[str],
    p: str = "pval",
    out: str = "padj",
) -> pd.DataFrame:
    """A copy of ``table`` with ``out`` = Benjamini-Hochberg adjusted ``p`` within each group of
    the ``by`` columns (e.g. task, ranking, collection: the paper adjusted per collection, not
    over the union of every collection). NaN p-values stay NaN and are not counted; rows keep
    their order; a row with a missing group key is adjusted with the others of that key."""
    by = [by] if isinstance(by, str) else list(by)
    missing = [c for c in [*by, p] if c not in table.columns]
    if missing:
        raise InputError(
            f"column(s) {', '.join(missing)} not in the table",
            field="bh_by_group",
            expected="the table's columns: " + ", ".join(map(str, table.columns)),
        )
    result = table.copy()
    values = pd.to_numeric(table[p], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isfinite(values) & ((values < 0) | (values > 1))
    if bad.any():
        raise InputError(
            f"p-value {values[np.argmax(bad)]!r} outside [0, 1] in column {p!r}",
            field=p,
            expected="p-values between 0 and 1",
        )
    adjusted = np.full(len(table), np.nan)
    if by:
        groups = table.groupby(by, sort=False, dropna=False).indices.values()
    else:
        groups = [np.arange(len(table))]
    for rows in groups:
        adjusted[rows] = benjamini_hochberg(values[rows])
    result[out] = adjusted
    return result
