"""Separation gate: call the top-ranked gene set only where the data separate it from the rest.

Programmes are correlated, so the sets that share a driver's signal (interferon alpha for a
trait driven by interferon gamma, overlapping KEGG pathways) are significant beside it, and
which of them ranks first can be down to the particular 150 patients. A paired bootstrap
asks whether the order is a property of the cohort or of chance: patients are resampled with
replacement within each class, every statistic of the read-out is recomputed on the resample
for each candidate (the significant sets), and the top set is called only if it stays
strictly first among the candidates in at least 1 - alpha of the resamples. Otherwise the
candidates that tie or beat it in more than alpha of the resamples are its *family*: the data
say the driver is among them, not which one.

Everything is recomputed without retraining: masking statistics from each patient's stored
masked probabilities (sets and the size-matched random sets of their null), correlation GSEA
from the resampled patients' correlations. The networks themselves are not refitted on the
resamples, so the gate covers the sampling of patients in the read-out, not in training.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from radiogenomics.enrichment import gsea_many
from radiogenomics.errors import InputError
from radiogenomics.interpret.correlation import pearson_columns
from radiogenomics.interpret.metrics import auc_ap_columns
from radiogenomics.utils.seeding import rng


def stratified_resamples(positive: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """``draws`` x patients row indices: each class resampled with replacement, so every
    resample keeps the cohort's numbers of positive and negative patients."""
    positive = np.asarray(positive, dtype=bool)
    if draws < 1:
        raise InputError(f"draws={draws}", field="draws", expected="1 or more")
    if positive.all() or not positive.any():
        raise InputError("the labels hold one class only", field="positive")
    gen = rng(seed, "separation-resamples")
    pos, neg = np.flatnonzero(positive), np.flatnonzero(~positive)
    out = np.empty((draws, len(positive)), dtype=np.int64)
    for b in range(draws):
        out[b, : len(pos)] = gen.choice(pos, size=len(pos), replace=True)
        out[b, len(pos) :] = gen.choice(neg, size=len(neg), replace=True)
    return out


def resampled_masking_z(
    set_probs: np.ndarray,
    set_sizes: Sequence[int],
    null_probs: np.ndarray,
    null_sizes: Sequence[int],
    positive: np.ndarray,
    resamples: np.ndarray,
) -> np.ndarray:
    """Masking z-score of every set on every resample (resamples x sets).

    ``set_probs`` (patients x sets) and ``null_probs`` (patients x random sets) are the masked
    probabilities; a set's z is its AP minus the mean AP of the random sets of its size,
    over their SD, all on the same resampled patients.
    """
    set_sizes = np.asarray(set_sizes, dtype=int)
    null_sizes = np.asarray(null_sizes, dtype=int)
    missing = set(set_sizes.tolist()) - set(null_sizes.tolist())
    if missing:
        raise InputError(
            f"no random sets of size {sorted(missing)}",
            field="null_probs",
            expected="random sets of every candidate's size",
        )
    positive = np.asarray(positive, dtype=bool)
    out = np.empty((len(resamples), len(set_sizes)))
    for b, idx in enumerate(resamples):
        _, ap = auc_ap_columns(set_probs[idx], positive[idx])
        _, null_ap = auc_ap_columns(null_probs[idx], positive[idx])
        for k in np.unique(set_sizes):
            draws = null_ap[null_sizes == k]
            cols = set_sizes == k
            sd = draws.std(ddof=1)
            out[b, cols] = (ap[cols] - draws.mean()) / sd if sd > 0 else np.nan
    return out


def resampled_correlation_nes(
    values: np.ndarray,
    genes: Sequence[str],
    target: np.ndarray,
    sets: Mapping[str, Sequence[str]],
    resamples: np.ndarray,
    nperm: int = 300,
    seed: int = 0,
) -> np.ndarray:
    """GSEA NES of every set on every resample (resamples x sets): genes ranked by their
    Pearson correlation with ``target`` (the class indicator, or a network's out-of-fold
    probability) over the resampled patients. NaN for a set GSEA did not test."""
    target = np.asarray(target, dtype=np.float64).reshape(-1, 1)
    columns = {}
    for b, idx in enumerate(resamples):
        columns[f"r{b}"] = pearson_columns(values[idx], target[idx])[:, 0]
    rankings = pd.DataFrame(columns, index=pd.Index(list(map(str, genes)), name="gene"))
    with warnings.catch_warnings():  # ties among zero correlations are harmless here
        warnings.simplefilter("ignore")
        g = gsea_many(
            rankings, dict(sets), nperm=nperm, seed=seed, min_size=1, max_size=10**6
        ).table
    nes = g.pivot(index="ranking", columns="set", values="nes")
    nes = nes.reindex(index=list(columns), columns=list(sets))
    return nes.to_numpy(dtype=np.float64)


def separation(stats: Sequence[np.ndarray]) -> tuple[float, np.ndarray]:
    """How often the top set (column 0) stays first, from per-resample statistics.

    ``stats``: one resamples x candidates matrix per statistic of the read-out (higher =
    stronger). On each resample every candidate gets the mean of its ranks by the statistics
    (1 = best; ties share their rank; NaN ranks last). Returns the share of resamples where
    the top set's mean rank is strictly the best, and per candidate the share where its mean
    rank is at least as good as the top set's (1 for the top set itself).
    """
    if not stats:
        raise InputError("no statistics", field="stats")
    shape = stats[0].shape
    if any(s.shape != shape for s in stats) or len(shape) != 2 or shape[1] < 1:
        raise InputError("statistics of different shapes", field="stats")
    ranks = np.zeros(shape)
    for s in stats:
        filled = np.where(np.isfinite(s), s, -np.inf)
        ranks += rankdata(-filled, axis=1, method="average")
    ranks /= len(stats)
    top = ranks[:, :1]
    others = ranks[:, 1:]
    first = (others > top).all(axis=1) if others.shape[1] else np.ones(shape[0], dtype=bool)
    at_least = (ranks <= top).mean(axis=0)
    return float(first.mean()), at_least


def gate(stats: Sequence[np.ndarray], alpha: float) -> tuple[bool, float, np.ndarray]:
    """(call the top set?, share of resamples it stays first, family mask over the
    candidates): called when it stays first in >= 1 - alpha of resamples; its family is the
    candidates at least as good as it in more than alpha of them (the top set included)."""
    share, at_least = separation(stats)
    return share >= 1 - alpha, share, at_least > alpha
