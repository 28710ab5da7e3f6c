"""The stages of a study (filled in below) and the synthetic-cohort preparation."""

from __future__ import annotations

import logging

from radiogenomics.config import StudyConfig
from radiogenomics.pipeline.runfolder import RunFolder

STAGE_TABLE: dict = {}


def prepare_synthetic(cfg: StudyConfig, folder: RunFolder, log: logging.Logger) -> None:
    if not cfg.synthetic.enabled:
        return
