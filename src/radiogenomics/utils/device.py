"""Where tensors live: CUDA when present, else CPU (every test passes on CPU)."""

from __future__ import annotations

import torch


def default_device(prefer: str | None = None) -> torch.device:
    """``prefer`` is "cpu", "cuda" or None/"auto" (CUDA when available)."""
    if prefer in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if prefer.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {prefer!r} was asked for but CUDA is not available")
    return torch.device(prefer)
