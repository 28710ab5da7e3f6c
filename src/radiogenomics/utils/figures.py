"""Figures are saved as PNG (for the report) and SVG (for papers).

Importing this module leaves matplotlib's backend alone (a notebook keeps its inline figures);
the pipeline chooses a non-interactive backend when it runs a study."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

from radiogenomics.utils.io import atomic_write


def save_figure(fig: Figure, path_stem: str | os.PathLike, dpi: int = 150) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg`` (atomically) and close it (a figure
    made without pyplot, e.g. a clustered heatmap, has nothing to close). A stem given with
    either extension (``fig.png``) is taken without it."""
    stem = Path(path_stem)
    if stem.suffix.lower() in (".png", ".svg"):
        stem = stem.with_suffix("")
    out = []
    for ext in ("png", "svg"):
        # Appended, not with_suffix: a stem holding a dot (a collection named
        # 'h.all.v6.2.symbols') would lose everything after it and overwrite its neighbours.
        target = stem.with_name(f"{stem.name}.{ext}")
        atomic_write(
            target,
            lambda p, ext=ext: fig.savefig(p, format=ext, dpi=dpi, bbox_inches="tight"),
        )
        out.append(target)
    if getattr(fig.canvas, "manager", None) is not None:  # made by pyplot: release it
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out
