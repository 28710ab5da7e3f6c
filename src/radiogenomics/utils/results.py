"""One shape for every analysis result: a small dataclass with a tidy ``.table``, its settings
as fields, ``plot(ax=None) -> Axes`` and an HTML view for notebooks.

A result class lists the fields that describe how it was computed in ``SETTINGS`` and gives a
``TITLE``; the mixin renders them with the head of ``.table`` (no JavaScript). ``plot`` draws
on the ``ax`` it is given, or on a new figure from ``plt.subplots`` when ``ax`` is None; it
never shows the figure nor touches matplotlib's backend, so a notebook keeps its inline figures
and a script its own choice. Kinds that need several panels return an array of Axes.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

HEAD_ROWS = 10  # rows of ``.table`` shown by the HTML view
_MAX_SETTING_CHARS = 120


def new_axes(ax: Any = None, *, nrows: int = 1, ncols: int = 1, figsize=None, **kw: Any):
    """``ax`` itself when given, else new Axes from ``plt.subplots`` (pyplot imported here so
    that importing a result module never loads it)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(nrows, ncols, figsize=figsize, **kw)
    return axes


def _setting_text(value: Any) -> str:
    """A short, readable rendering of one setting value."""
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, pd.Series | pd.DataFrame):
        text = f"{type(value).__name__} of {len(value)} rows"
    elif isinstance(value, Sequence | set | frozenset) and not isinstance(value, str):
        items = list(value)
        text = ", ".join(map(str, items[:8])) + (
            f", ... ({len(items)} in all)" if len(items) > 8 else ""
        )
    elif callable(getattr(value, "label", None)):  # a network config names itself
        text = str(value.label())
    elif hasattr(value, "model_dump"):  # a pydantic config
        text = ", ".join(f"{k}={v}" for k, v in value.model_dump().items())
    else:
        text = str(value)
    if len(text) > _MAX_SETTING_CHARS:
        text = text[: _MAX_SETTING_CHARS - 3] + "..."
    return text


class ResultMixin:
    """``_repr_html_`` and the ``plot`` contract for result dataclasses with a ``table``."""

    TITLE: ClassVar[str] = "Result"
    SETTINGS: ClassVar[tuple[str, ...]] = ()

    table: pd.DataFrame

    def settings(self) -> dict[str, Any]:
        """The settings this result was computed with (the fields named by ``SETTINGS``)."""
        return {name: getattr(self, name) for name in self.SETTINGS}

    def plot(self, ax: Any = None, **kw: Any):
        """Draw this result on ``ax`` (a new figure when None) and return the Axes."""
        raise NotImplementedError(f"{type(self).__name__} has no plot")

    def _table_preview(self) -> tuple[pd.DataFrame, int]:
        """The first rows of ``table`` and its length (kinds with a huge table build less)."""
        return self.table.head(HEAD_ROWS), len(self.table)

    def _repr_html_(self) -> str:
        head, n = self._table_preview()
        rows = "".join(
            f"<dt>{html.escape(str(k))}</dt><dd>{html.escape(_setting_text(v))}</dd>"
            for k, v in self.settings().items()
        )
        shown = len(head)
        head_html = head.to_html(
            escape=True, max_cols=20, float_format=lambda v: f"{v:.4g}", border=0
        )
        return (
            f'<div class="radiogenomics-result"><strong>{html.escape(self.TITLE)}</strong>'
            f"<dl>{rows}</dl>"
            f"<p>table: {n} rows x {head.shape[1]} columns"
            f"{f' (first {shown} shown)' if shown < n else ''}</p>{head_html}</div>"
        )


def top_bars(
    ax: Any,
    labels: Sequence[str],
    values: Sequence[float],
    xlabel: str,
    title: str = "",
    colors: Sequence[Any] | str = "#3c5a82",
) -> Any:
    """Horizontal bars, the first label on top; the shared look of "top n" plots."""
    y = np.arange(len(labels))
    ax.barh(y, np.asarray(values, dtype=float), color=colors)
    ax.set_yticks(y, [str(v) for v in labels], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
