"""Scores of predicted class probabilities: ROC AUC and average precision (micro for K > 2)."""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata
from sklearn.metrics import average_precision_score, roc_auc_score


def _onehot(codes: np.ndarray, n_classes: int) -> np.ndarray:
    out = np.zeros((len(codes), n_classes))
    out[np.arange(len(codes)), codes] = 1.0
    return out


def auc_score(codes: np.ndarray, proba: np.ndarray) -> float:
    """ROC AUC of class codes vs probabilities (patients x classes); micro-averaged for K > 2.

    Binary: the positive class is column 1. NaN when only one class is present.
    """
    codes = np.asarray(codes, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if len(np.unique(codes)) < 2:
        return float("nan")
    if proba.shape[1] == 2:
        return float(roc_auc_score(codes, proba[:, 1]))
    return float(roc_auc_score(_onehot(codes, proba.shape[1]), proba, average="micro"))


def ap_score(codes: np.ndarray, proba: np.ndarray) -> float:
    """Average precision (positive class for binary, micro-averaged for K > 2)."""
    codes = np.asarray(codes, dtype=np.int64)
    proba = np.asarray(proba, dtype=np.float64)
    if len(np.unique(codes)) < 2:
        return float("nan")
    if proba.shape[1] == 2:
        return float(average_precision_score(codes, proba[:, 1]))
    return float(average_precision_score(_onehot(codes, proba.shape[1]), proba, average="micro"))


def micro_auc(codes: np.ndarray, scores: np.ndarray) -> float:
    """Micro-averaged ROC AUC of (patients, classes) scores: every (patient, class) pair is one
    binary case, positive when the patient is of that class, AUC by the Mann-Whitney statistic
    (ties count half). NaN without both a positive and a negative pair."""
    codes = np.asarray(codes, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or len(codes) != len(scores):
        raise ValueError(f"expected (patients, classes) scores for {len(codes)} patients")
    truth = _onehot(codes, scores.shape[1]).ravel().astype(bool)
    flat = scores.ravel()
    n_pos, n_neg = int(truth.sum()), int((~truth).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(flat)  # average ranks: a tie counts half
    return float((ranks[truth].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def micro_ap(codes: np.ndarray, scores: np.ndarray) -> float:
    """Micro-averaged average precision of (patients, classes) scores (pooled one-hot pairs)."""
    codes = np.asarray(codes, dtype=np.int64)
    scores = np.asarray(scores, dtype=np.float64)
    return float(average_precision_score(_onehot(codes, scores.shape[1]).ravel(), scores.ravel()))
