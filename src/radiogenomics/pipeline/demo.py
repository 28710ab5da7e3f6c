"""The demo study on the synthetic cohort (``radiogenomics demo``).

What it recovered is checked by :func:`radiogenomics.pipeline.recovery.recovery_table`.
"""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path
from typing import Any

from radiogenomics.config import StudyConfig, load_config
from radiogenomics.pipeline.runner import run_study


def demo_config_path() -> Path:
    """The packaged demo.toml (also in the repository as configs/demo.toml)."""
    return Path(str(files("radiogenomics") / "configs" / "demo.toml"))


def run_demo(
    out: str | os.PathLike = "runs/demo",
    seed: int = 0,
    config: str | os.PathLike | None = None,
    stage: str | None = None,
    until: str | None = None,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
) -> tuple[StudyConfig, list]:
    """Generate the synthetic cohort into ``<out>/cohort`` and run the demo study in ``out``."""
    out = Path(out)
    cfg = load_config(
        config or demo_config_path(),
        {
            "out": str(out.parent),
            "name": out.name,
            "seed": seed,
            "synthetic.enabled": True,
            **(overrides or {}),
        },
    )
    return cfg, run_study(cfg, stage=stage, until=until, force=force)
