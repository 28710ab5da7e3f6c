"""ROC AUC and average precision for thousands of score vectors at once, and BH q-values.

Masking scores every gene (or gene set) by how well the masked network's outputs rank the
patients; with 12,000 genes x 4 classes a per-column call into scikit-learn would dominate the
run, so both metrics are computed column-wise on whole matrices. Semantics match scikit-learn's
``roc_auc_score`` (ties count one half) and ``average_precision_score`` (one threshold per
distinct score; tied patients enter together).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

_COLUMNS_PER_CHUNK = 4096


def auc_ap_columns(scores: np.ndarray, positive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC and average precision of every column of ``scores`` (patients x columns).

    ``positive`` is a boolean vector over the patients. Higher scores mean "more positive".
    Returns two float64 vectors over the columns; NaN where the labels hold one class only.
    """
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[:, None]
    positive = np.asarray(positive, dtype=bool)
    n, m = scores.shape
    if positive.shape != (n,):
        raise ValueError(f"labels have shape {positive.shape}, scores {scores.shape}")
    auc = np.full(m, np.nan)
    ap = np.full(m, np.nan)
    n_pos = int(positive.sum())
    n_neg = n - n_pos
    if n_pos == 0 or n_neg == 0 or m == 0:
        return auc, ap
    for start in range(0, m, _COLUMNS_PER_CHUNK):
        block = scores[:, start : start + _COLUMNS_PER_CHUNK]
        sl = slice(start, start + block.shape[1])
        ranks = rankdata(block, axis=0, method="average")
        auc[sl] = (ranks[positive].sum(axis=0) - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)
        ap[sl] = _average_precision(block, positive, n_pos)
    return auc, ap


def _average_precision(block: np.ndarray, positive: np.ndarray, n_pos: int) -> np.ndarray:
    n = block.shape[0]
    order = np.argsort(-block, axis=0, kind="stable")
    s = np.take_along_axis(block, order, axis=0)
    y = positive[order]
    tp = np.cumsum(y, axis=0)
    precision = tp / np.arange(1, n + 1)[:, None]
    # Tied scores form one threshold: every member takes the precision at the tie group's end.
    is_end = np.ones_like(y)
    is_end[:-1] = s[:-1] != s[1:]
    end_pos = np.where(is_end, np.arange(n)[:, None], n)
    group_end = np.minimum.accumulate(end_pos[::-1], axis=0)[::-1]
    at_end = np.take_along_axis(precision, group_end, axis=0)
    return (at_end * y).sum(axis=0) / n_pos


def empirical_p(observed: np.ndarray, null: np.ndarray) -> np.ndarray:
    """One-sided empirical p-value (1 + #null >= observed) / (1 + #null), per observed value.

    ``null`` is a 1-D sample shared by every observed value (the draws of one set size).
    """
    observed = np.asarray(observed, dtype=np.float64)
    null = np.asarray(null, dtype=np.float64)
    null = np.sort(null[np.isfinite(null)])
    count = null.size - np.searchsorted(null, observed - 1e-12, side="left")
    p = (1.0 + count) / (1.0 + null.size)
    return np.where(np.isfinite(observed), p, np.nan)
