"""The transcriptomic autoencoder: K-fold CV R^2, then retraining on all its patients.

It is trained on the patients that have expression but no imaging labels (see
:func:`unlabelled_patients`); the classifiers then take its encoder layers and its scaler.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import KFold

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import check_expression
from radiogenomics.models.config import AutoencoderConfig
from radiogenomics.models.engine import FoldData, train_batched
from radiogenomics.models.trained import TrainedAutoencoder, mean_r2
from radiogenomics.models.training import autoencoder_spec
from radiogenomics.utils.device import default_device
from radiogenomics.utils.seeding import derive_seed


def unlabelled_patients(
    expression: pd.DataFrame, labels: pd.DataFrame | pd.Series | Sequence[str]
) -> pd.DataFrame:
    """Rows of ``expression`` for patients with no label at all (the autoencoder's cohort).

    ``labels``: a traits table (a patient with any non-missing trait counts as labelled), a
    Series, or a list of labelled patient ids.
    """
    if isinstance(labels, pd.DataFrame):
        labelled = labels.index[labels.notna().any(axis=1)]
    elif isinstance(labels, pd.Series):
        labelled = labels.dropna().index
    else:
        labelled = pd.Index(list(labels))
    return expression.loc[~expression.index.isin(labelled)]


@dataclass
class AutoencoderResult:
    """CV and retrained reconstruction quality, and the retrained autoencoder."""

    model: TrainedAutoencoder | None  # retrained on all patients (None when not asked for)
    fold_metrics: pd.DataFrame  # fold, r2, best_epoch, epochs_run, n_train, n_val
    best_epochs: list[int]
    retrained_r2: float  # on its own training patients
    eval_r2: float | None = None  # on X_eval (e.g. the labelled patients), when given
    fold_models: list[TrainedAutoencoder] | None = None
    histories: list[dict[str, list[float]]] = field(default_factory=list)

    @property
    def cv_r2(self) -> float:
        return float(self.fold_metrics["r2"].mean())

    @property
    def median_best_epoch(self) -> int:
        return max(1, int(round(float(np.median(self.best_epochs)))))

    def summary(self) -> dict[str, Any]:
        return {
            "cv_r2": self.cv_r2,
            "retrained_r2": self.retrained_r2,
            "eval_r2": self.eval_r2,
            "median_best_epoch": self.median_best_epoch,
            "n_splits": len(self.fold_metrics),
        }


def train_autoencoder(
    X: pd.DataFrame,
    config: AutoencoderConfig,
    n_splits: int = 10,
    seed: int = 0,
    *,
    retrain: bool = True,
    keep_models: bool = False,
    X_eval: pd.DataFrame | None = None,
    device: str | torch.device | None = None,
) -> AutoencoderResult:
    """K-fold CV of the autoencoder (mean per-gene R^2 out of fold), then retraining.

    The retrained model sees every patient of ``X`` for the median best epoch of the folds;
    its scaler is fitted on them. ``n_splits=0`` skips CV (then ``config.max_epochs`` epochs).
    """
    X = check_expression(X)
    n = len(X)
    device = default_device(device) if device is None or isinstance(device, str) else device
    genes = [str(g) for g in X.columns]
    values = X.to_numpy(dtype=np.float64)
    if n_splits:
        if n_splits < 2 or n < n_splits:
            raise InputError(
                f"{n} patients cannot make {n_splits} folds",
                field="autoencoder.patients",
                expected=f"at least {max(n_splits, 2)} patients, or fewer folds",
            )
        kf = KFold(n_splits=n_splits, shuffle=True, random_state=int(seed) % (2**32))
        splits = list(kf.split(values))
    else:
        splits = []
    rows, fold_models, datas, scalers = [], [], [], []
    for k, (tr, va) in enumerate(splits):
        sc = Scaler.fit(values[tr], genes)
        scalers.append(sc)
        datas.append(
            FoldData(
                Z_train=sc.transform_array(values[tr]),
                Z_val=sc.transform_array(values[va]),
                seed=derive_seed(seed, "ae-fold", k),
            )
        )
    spec = autoencoder_spec(config, len(genes))
    fits = (
        train_batched(spec, datas, [s.kept_index for s in scalers], len(genes), device=device)
        if datas
        else []
    )
    for k, ((tr, va), fit) in enumerate(zip(splits, fits, strict=True)):
        model = TrainedAutoencoder(
            network=fit.network,
            scaler=scalers[k],
            genes=scalers[k].genes,
            config=config.to_dict(),
            best_epoch=fit.best_epoch,
            info={"fold": k},
        )
        r2 = mean_r2(datas[k].Z_val, model.reconstruct(datas[k].Z_val))
        rows.append(
            {
                "fold": k,
                "r2": r2,
                "best_epoch": fit.best_epoch,
                "epochs_run": len(fit.history["loss"]),
                "n_train": len(tr),
                "n_val": len(va),
            }
        )
        if keep_models:
            fold_models.append(model)
    best_epochs = [int(f.best_epoch) for f in fits]
    model, retrained_r2, eval_r2 = None, float("nan"), None
    if retrain:
        epochs = max(1, int(round(float(np.median(best_epochs))))) if fits else config.max_epochs
        sc = Scaler.fit(values, genes)
        Z = sc.transform_array(values)
        fit = train_batched(
            autoencoder_spec(config, len(sc.genes)),
            [FoldData(Z_train=Z, seed=derive_seed(seed, "ae-retrain"), epochs=epochs)],
            device=device,
        )[0]
        model = TrainedAutoencoder(
            network=fit.network,
            scaler=sc,
            genes=sc.genes,
            config=config.to_dict(),
            best_epoch=epochs,
            info={"n_train": n},
        )
        retrained_r2 = mean_r2(Z, model.reconstruct(Z))
        model.info["retrained_r2"] = retrained_r2
        if X_eval is not None:
            eval_r2 = model.r2(check_expression(X_eval, "evaluation expression"))
            model.info["eval_r2"] = eval_r2
        if fits:
            model.info["cv_r2"] = float(np.mean([r["r2"] for r in rows]))
    return AutoencoderResult(
        model=model,
        fold_metrics=pd.DataFrame(
            rows, columns=["fold", "r2", "best_epoch", "epochs_run", "n_train", "n_val"]
        ),
        best_epochs=best_epochs,
        retrained_r2=retrained_r2,
        eval_r2=eval_r2,
        fold_models=fold_models if keep_models else None,
        histories=[f.history for f in fits],
    )
