"""Shared fixtures. Real-data tests read ../shared/data and skip with a reason where it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Two test workers on two cores: one torch thread each keeps them from fighting.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not (SHARED_DATA / "tcga_gbm").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (it sits beside the repo in CI)")
    return SHARED_DATA
