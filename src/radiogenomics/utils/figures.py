"""Figures are saved as PNG (for the report) and SVG (for papers), never shown."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: no display on servers or in CI
import matplotlib.pyplot as plt  # noqa: E402

from radiogenomics.utils.io import atomic_write  # noqa: E402


def save_figure(fig: plt.Figure, path_stem: str | os.PathLike, dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg`` and close it."""
    stem = Path(path_stem)
    out = []
    for ext in ("png", "svg"):
        target = stem.with_suffix(f".{ext}")
        atomic_write(
            target,
            lambda p, ext=ext: fig.savefig(p, format=ext, dpi=dpi, bbox_inches="tight"),
        )
        out.append(target)
    plt.close(fig)
    return out
