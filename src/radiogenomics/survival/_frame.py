"""Input checks shared by every survival analysis: columns exist, one row per patient, durations
are finite non-negative numbers, events are 0/1, and patients with a missing value are removed
per analysis and counted."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.utils.text import count


class SurvivalWarning(UserWarning):
    """A survival analysis left something out (a variable, a move, a group) and said why."""


def warn(message: str) -> None:
    warnings.warn(message, SurvivalWarning, stacklevel=3)


@dataclass(frozen=True)
class Prepared:
    """The rows of one analysis: complete cases over its columns, with the count removed."""

    frame: pd.DataFrame
    n_removed: int
    missing: dict[str, int] = field(default_factory=dict)  # column -> patients without a value

    @property
    def n(self) -> int:
        return len(self.frame)

    def removed_text(self, where: str = "") -> str:
        """'3 patients removed for a missing value (150 left; missing: age 2, race_white 1)'."""
        by_column = ", ".join(f"{c} {n}" for c, n in self.missing.items())
        return (
            f"{count(self.n_removed, 'patient')} removed for a missing value{where} "
            f"({self.n} left; missing: {by_column})"
        )


def check_table(df: pd.DataFrame, duration: str, event: str, variables: Sequence[str]) -> None:
    """Fail early, naming the column, when the table cannot hold a survival analysis."""
    if not isinstance(df, pd.DataFrame):
        raise InputError(
            f"a survival table must be a pandas DataFrame, not {type(df).__name__}",
            expected="patients as rows, duration/event/variables as columns",
        )
    for col in [duration, event, *variables]:
        if col not in df.columns:
            raise InputError(
                "column not found in the table",
                field=str(col),
                expected=f"one of the columns {list(map(str, df.columns))[:20]}",
            )
    if len(set(variables)) != len(variables):
        dup = sorted({v for v in variables if list(variables).count(v) > 1})
        raise InputError(f"variables listed twice: {dup}", field="variables")
    for col in (duration, event):
        if col in variables:
            raise InputError("the outcome column is also listed as a variable", field=str(col))
    if df.index.has_duplicates:
        dup = df.index[df.index.duplicated()][0]
        positions = np.flatnonzero(df.index == dup).tolist()
        raise InputError(
            f"patient {show(dup)} appears {len(positions)} times "
            f"(rows at 0-based positions {positions})",
            field=str(df.index.name or "index"),
            expected="one row per patient",
        )
    dur = pd.to_numeric(df[duration], errors="coerce").astype(float)
    bad = df[duration].notna() & dur.isna()
    if bad.any():
        raise InputError(
            f"non-numeric duration {show(df[duration][bad].iloc[0])} for "
            f"{row_name(df, df.index[bad][0])}",
            field=duration,
            expected="a number of days (or any time unit) >= 0",
        )
    bad = (dur < 0) | np.isinf(dur)
    if bad.any():
        row = df.index[bad.to_numpy()][0]
        value = dur[bad].iloc[0]
        what = "infinite" if np.isinf(value) else "negative"
        raise InputError(
            f"{what} duration {show(value)} for {row_name(df, row)}",
            field=duration,
            expected="a finite number >= 0",
        )
    ev = df[event]
    # as numbers: a text cell read from a file makes every event a string ("1", "Dead")
    ok = ev.isna() | pd.to_numeric(ev, errors="coerce").isin([0, 1])
    if not ok.all():
        raise InputError(
            f"event value {show(ev[~ok].iloc[0])} for {row_name(df, ev.index[~ok][0])}",
            field=event,
            expected="1 (event observed) or 0 (censored)",
        )
    for col in variables:
        values = df[col]
        if values.dtype == bool:
            continue
        num = pd.to_numeric(values, errors="coerce").astype(float)
        bad = (values.notna() & num.isna()) | np.isinf(num)
        if bad.any():
            first = values[bad].iloc[0]
            what = "non-numeric" if pd.isna(num[bad].iloc[0]) else "infinite"
            raise InputError(
                f"{what} value {show(first)} for {row_name(df, values.index[bad][0])}",
                field=str(col),
                expected="finite numbers (0/1 for traits)",
            )


def row_name(df: pd.DataFrame, label: object) -> str:
    """How an error names one row: the patient when the table is indexed by patient, the
    line or row when the index says so (``index.name`` "line"/"row", as the CLI sets it), else
    the row's position (a default 0..n-1 index)."""
    name = df.index.name
    if name in ("line", "row"):
        return f"{name} {label}"
    if isinstance(df.index, pd.RangeIndex) and name is None:
        return f"the row at position {df.index.get_loc(label)} (0-based)"
    return f"patient {show(label)}"


def show(value: object) -> str:
    """A cell value for an error message: strings quoted, numpy scalars as plain numbers."""
    if hasattr(value, "item"):
        value = value.item()
    return repr(value) if isinstance(value, str) else str(value)


def is_binary(values: pd.Series | np.ndarray) -> bool:
    """True when every non-missing value is 0 or 1."""
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    return bool(np.isin(arr, (0.0, 1.0)).all())


def require_binary(df: pd.DataFrame, variable: str) -> None:
    if not is_binary(df[variable]):
        bad = pd.to_numeric(df[variable], errors="coerce").dropna()
        bad = bad[~bad.isin([0, 1])]
        raise InputError(
            f"value {show(bad.iloc[0])} is not binary for {row_name(df, bad.index[0])}",
            field=variable,
            expected="0/1 (or true/false) values for a Kaplan-Meier grouping",
        )


def prepare(df: pd.DataFrame, duration: str, event: str, variables: Sequence[str]) -> Prepared:
    """Complete cases over ``duration``, ``event`` and ``variables``, as floats, with the count
    of patients removed for a missing value."""
    check_table(df, duration, event, variables)
    cols = [duration, event, *variables]
    frame = df[cols].apply(pd.to_numeric, errors="coerce").astype(float)
    keep = frame.notna().all(axis=1)
    missing = frame.isna().sum()
    return Prepared(
        frame=frame[keep],
        n_removed=int((~keep).sum()),
        missing={str(c): int(n) for c, n in missing.items() if n},
    )
