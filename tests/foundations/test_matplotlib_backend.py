"""Importing the package never changes matplotlib's backend (notebooks keep inline figures)."""

from __future__ import annotations

import os
import subprocess
import sys

SUBPACKAGES = (
    "radiogenomics",
    "radiogenomics.data",
    "radiogenomics.models",
    "radiogenomics.evaluation",
    "radiogenomics.interpret",
    "radiogenomics.enrichment",
    "radiogenomics.enrichment.plots",
    "radiogenomics.survival",
    "radiogenomics.survival.plots",
    "radiogenomics.utils.figures",
    "radiogenomics.utils.heatmaps",
    "radiogenomics.report",
    "radiogenomics.pipeline",
)


def test_importing_every_subpackage_leaves_the_backend_unchanged():
    code = (
        "import matplotlib\n"
        "before = matplotlib.get_backend()\n"
        + "".join(f"import {m}\n" for m in SUBPACKAGES)
        + "import radiogenomics.interpret as i, radiogenomics.enrichment as e\n"
        "dir(i); [getattr(e, n) for n in e.__all__]\n"
        "after = matplotlib.get_backend()\n"
        "assert before == after == 'pdf', (before, after)\n"
    )
    # 'pdf' stands for whatever a user chose: not what any module of ours would pick
    env = {**os.environ, "MPLBACKEND": "pdf"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
