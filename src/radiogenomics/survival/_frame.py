"""Input checks shared by every survival analysis: columns exist, durations are non-negative
numbers, events are 0/1, and patients with a missing value are removed per analysis and counted."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError


class SurvivalWarning(UserWarning):
    """A survival analysis left something out (a variable, a move, a group) and said why."""


def warn(message: str) -> None:
    warnings.warn(message, SurvivalWarning, stacklevel=3)


@dataclass(frozen=True)
class Prepared:
    """The rows of one analysis: complete cases over its columns, with the count removed."""

    frame: pd.DataFrame
    n_removed: int

    @property
    def n(self) -> int:
        return len(self.frame)


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
    dur = pd.to_numeric(df[duration], errors="coerce")
    bad = df[duration].notna() & dur.isna()
    if bad.any():
        raise InputError(
            f"non-numeric duration {show(df[duration][bad].iloc[0])} (row {df.index[bad][0]})",
            field=duration,
            expected="a number of days (or any time unit) >= 0",
        )
    if (dur < 0).any():
        row = df.index[(dur < 0).to_numpy()][0]
        raise InputError(
            f"negative duration {dur[row]} for row {row}", field=duration, expected=">= 0"
        )
    ev = df[event]
    ok = ev.isna() | ev.isin([0, 1, True, False])
    if not ok.all():
        raise InputError(
            f"event value {show(ev[~ok].iloc[0])} (row {ev.index[~ok][0]})",
            field=event,
            expected="1 (event observed) or 0 (censored)",
        )
    for col in variables:
        values = df[col]
        if values.dtype == bool:
            continue
        num = pd.to_numeric(values, errors="coerce")
        if (values.notna() & num.isna()).any():
            first = values[values.notna() & num.isna()].iloc[0]
            raise InputError(
                f"non-numeric value {show(first)}",
                field=str(col),
                expected="numbers (0/1 for traits)",
            )


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
            f"value {show(bad.iloc[0])} is not binary (row {bad.index[0]})",
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
    return Prepared(frame=frame[keep], n_removed=int((~keep).sum()))
