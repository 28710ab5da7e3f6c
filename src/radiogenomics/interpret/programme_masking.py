"""Masking a network of programme scores: keep some scores, fill in the others.

Programme scores are correlated (hypoxia and glycolysis, the proliferation sets), so what a
masked score is replaced by decides which programme gets the credit. The paper's masking sets
every other input to its training mean (``fill="mean"``): a stand-in that the network weighs
beside the driver then looks as good as the driver, since keeping the driver alone loses the
stand-in's share of the signal and keeping the stand-in alone loses the driver's. The
*conditional* fill (default) replaces every other score by its linear conditional expectation
given the kept ones (the cohort's means and covariance, label-blind): the network sees a
profile consistent with the kept scores, and the set whose own values best carry the trait
wins. Each patient is scored by the fold model that held it out, averaged over the CV runs.

The first layer is affine, so a masked profile's first-layer output is the model's output on
the fill plus the kept scores' deviations times a small matrix; nothing is materialised per
patient and set.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult
from radiogenomics.interpret._engine import eval_mode, first_layer
from radiogenomics.interpret._model import model_view
from radiogenomics.interpret.correlation import scored_classes

FILLS = ("conditional", "mean")
#: First-layer values (masked units x patients x hidden units) per forward pass.
_VALUES_PER_PASS = 1 << 22


class ProgrammeMasker:
    """Out-of-fold probabilities of programme-score networks with some scores kept.

    ``runs``: CV runs (with fold models) on ``scores`` (patients x sets); ``fill``:
    ``conditional`` or ``mean`` (the training mean, the paper's masking).
    """

    def __init__(
        self, runs: Sequence[CVResult], scores: pd.DataFrame, fill: str = "conditional"
    ) -> None:
        if fill not in FILLS:
            raise InputError(f"fill={fill!r}", field="fill", expected=" or ".join(FILLS))
        if not runs:
            raise InputError("no cross-validation runs", field="runs")
        self.runs, self.fill = list(runs), fill
        labels = self.runs[0].labels
        self.patients = [str(p) for p in scores.index if p in labels.index]
        self.labels = labels.loc[self.patients].astype(str).to_numpy()
        self.classes = list(self.runs[0].classes)
        self.scored = scored_classes(self.classes)
        self.columns = list(map(str, scores.columns))
        self.values = scores.loc[self.patients].to_numpy(dtype=np.float64)
        self.mean = self.values.mean(axis=0)
        self.cov = np.cov(self.values, rowvar=False, bias=True).reshape(
            len(self.columns), len(self.columns)
        )

    def _fill_maps(self, kept: np.ndarray) -> np.ndarray:
        """units x k x sets: the regression of every score on each unit's kept scores (the
        kept scores' own columns are the identity; all else zero for the mean fill)."""
        n_units, k = kept.shape
        p = len(self.columns)
        beta = np.zeros((n_units, k, p))
        if self.fill == "conditional":
            cov_kk = self.cov[kept[:, :, None], kept[:, None, :]]
            cov_kp = self.cov[kept]
            # pinv: collinear kept scores (near-duplicate sets) share the regression
            beta = np.linalg.pinv(cov_kk, hermitian=True) @ cov_kp
        # the kept scores keep their own values: identity columns
        unit = np.arange(n_units)[:, None]
        for j in range(k):
            beta[unit, :, kept[:, j : j + 1]] = 0.0
        beta[unit, np.arange(k)[None, :], kept] = 1.0
        return beta

    def probabilities(self, kept: Sequence[Sequence[int]]) -> np.ndarray:
        """patients x units x scored classes: each unit keeps the scores at the given column
        positions (every unit keeps as many) and fills in the rest."""
        kept_arr = np.asarray(kept, dtype=np.int64)
        if kept_arr.ndim != 2 or kept_arr.shape[1] < 1:
            raise InputError("each unit keeps one or more scores", field="kept")
        beta = self._fill_maps(kept_arr)
        position = {p: i for i, p in enumerate(self.patients)}
        total = np.zeros((len(self.patients), len(kept_arr), len(self.scored)))
        for run in self.runs:
            if not run.fold_models:
                raise InputError("the CV run kept no fold models", field="runs")
            for fold, model in zip(run.folds, run.fold_models, strict=True):
                rows = [position[str(p)] for p in fold.val_ids if str(p) in position]
                total[rows] += self._fold_probabilities(model, rows, kept_arr, beta)
        return total / len(self.runs)

    def _fold_probabilities(
        self, model: object, rows: list[int], kept: np.ndarray, beta: np.ndarray
    ) -> np.ndarray:
        view = model_view(model)
        col = {c: i for i, c in enumerate(self.columns)}
        try:
            inputs = [col[g] for g in view.genes]
        except KeyError as err:
            raise InputError(
                f"the model takes {err.args[0]!r}, which is not a programme score",
                field="runs",
                expected="networks trained on these scores",
            ) from None
        W, b = first_layer(view.network)
        Wt = W.detach().cpu().to(torch.float64).numpy().T  # inputs x hidden
        m, sd = view.scaler.mean_, view.scaler.scale_
        # what the masked scores are filled from: the cohort mean (conditional) or the
        # training mean (z = 0); the kept scores' deviations from it move the fill
        centre = self.mean.copy()
        if self.fill == "mean":
            centre[inputs] = m
        h0 = ((centre[inputs] - m) / sd) @ Wt + b.detach().cpu().to(torch.float64).numpy()
        values = self.values[rows]
        out = np.empty((len(rows), len(kept), len(self.scored)))
        step = max(1, _VALUES_PER_PASS // max(1, len(rows) * Wt.shape[1]))
        order = [list(view.classes).index(c) for c in self.scored]
        with torch.inference_mode(), eval_mode(view.network):
            for start in range(0, len(kept), step):
                k = kept[start : start + step]
                # units x k x hidden: how each kept score's deviation moves the first layer
                A = (beta[start : start + step][:, :, inputs] / sd) @ Wt
                dev = values[:, k] - centre[k][None]  # patients x units x k
                H = h0 + np.einsum("nuk,ukh->unh", dev, A)  # units x patients x hidden
                h = torch.as_tensor(H, dtype=W.dtype, device=W.device)
                logits = view.network.forward_from_first(h.reshape(-1, h.shape[-1]))
                logits = logits.reshape(h.shape[0], h.shape[1], -1).to(torch.float64)
                if view.binary:
                    probs = torch.sigmoid(logits[..., 0])[..., None]
                else:
                    probs = torch.softmax(logits, dim=-1)[..., order]
                out[:, start : start + step] = probs.cpu().numpy().transpose(1, 0, 2)
        return out
