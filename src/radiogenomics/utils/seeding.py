"""Determinism: one seed in the config drives every generator; work units derive their own."""

from __future__ import annotations

import hashlib
import random

import numpy as np


def derive_seed(base: int, *keys: object) -> int:
    """A stable 32-bit seed for a work unit (e.g. ``derive_seed(seed, "bootstrap", rep, trait)``).

    Depends only on the base seed and the keys, never on scheduling order or the process,
    so any executor gives the same numbers.
    """
    text = "\x1f".join([str(int(base)), *map(str, keys)])
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def rng(base: int, *keys: object) -> np.random.Generator:
    """A NumPy generator for a work unit."""
    return np.random.default_rng(derive_seed(base, *keys))


def seed_torch(seed: int):
    """Seed torch's global generator (for layer initialisation) and return a CPU generator."""
    import torch  # here, so that importing the data layer does not load torch

    torch.manual_seed(seed)
    random.seed(seed)
    g = torch.Generator()
    g.manual_seed(seed)
    return g
