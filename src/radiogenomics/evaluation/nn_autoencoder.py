"""The transcriptomic autoencoder: K-fold CV R^2, then retraining on all its patients; a grid
of configurations searched on the same folds and chosen by CV R^2 (:func:`search_autoencoders`).

It is trained on the patients that have expression but no imaging labels (see
:func:`unlabelled_patients`); the classifiers then take its encoder layers and its scaler.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import KFold

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import check_expression
from radiogenomics.models.baselines import expand_grid
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


def retrain_autoencoder(
    X: pd.DataFrame,
    config: AutoencoderConfig,
    epochs: int,
    seed: int = 0,
    *,
    X_eval: pd.DataFrame | None = None,
    device: str | torch.device | None = None,
    cv_r2: float | None = None,
) -> TrainedAutoencoder:
    """The autoencoder trained on every patient of ``X`` for ``epochs`` epochs (its scaler fitted
    on them). ``info`` holds ``retrained_r2`` (its own patients), ``eval_r2`` (on ``X_eval``,
    when given) and ``cv_r2`` (when given)."""
    X = check_expression(X)
    device = default_device(device) if device is None or isinstance(device, str) else device
    genes = [str(g) for g in X.columns]
    values = X.to_numpy(dtype=np.float64)
    sc = Scaler.fit(values, genes)
    Z = sc.transform_array(values)
    fit = train_batched(
        autoencoder_spec(config, len(sc.genes)),
        [FoldData(Z_train=Z, seed=derive_seed(seed, "ae-retrain"), epochs=int(epochs))],
        device=device,
    )[0]
    model = TrainedAutoencoder(
        network=fit.network,
        scaler=sc,
        genes=sc.genes,
        config=config.to_dict(),
        best_epoch=int(epochs),
        info={"n_train": len(X)},
    )
    model.info["retrained_r2"] = mean_r2(Z, model.reconstruct(Z))
    if X_eval is not None:
        model.info["eval_r2"] = model.r2(check_expression(X_eval, "evaluation expression"))
    if cv_r2 is not None:
        model.info["cv_r2"] = float(cv_r2)
    return model


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
        cv_r2 = float(np.mean([r["r2"] for r in rows])) if fits else None
        model = retrain_autoencoder(
            X, config, epochs, seed=seed, X_eval=X_eval, device=device, cv_r2=cv_r2
        )
        retrained_r2 = model.info["retrained_r2"]
        eval_r2 = model.info.get("eval_r2")
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


# ----------------------------------------------------------------------------- grid search


def expand_autoencoder_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[AutoencoderConfig],
    base: AutoencoderConfig | None = None,
) -> list[AutoencoderConfig]:
    """Every combination of the ``grid`` values over ``base`` (or the given configurations),
    duplicates removed, in a stable order (the grid's keys vary last-fastest)."""
    if isinstance(grid, Mapping):
        base = base or AutoencoderConfig()
        unknown = sorted(set(grid) - set(AutoencoderConfig.model_fields))
        if unknown:
            raise InputError(
                f"unknown grid fields {unknown}",
                field="autoencoder.grid",
                expected=f"fields of AutoencoderConfig: {sorted(AutoencoderConfig.model_fields)}",
            )
        configs = [AutoencoderConfig(**{**base.model_dump(), **p}) for p in expand_grid(grid)]
    else:
        configs = list(grid)
        bad = [type(c).__name__ for c in configs if not isinstance(c, AutoencoderConfig)]
        if bad:
            raise InputError(
                f"grid entries of type {bad[:3]}",
                field="autoencoder.grid",
                expected="AutoencoderConfig objects or a {field: [values]} mapping",
            )
    seen, out = set(), []
    for c in configs:
        key = c.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(c)
    if not out:
        raise InputError("the grid is empty", field="autoencoder.grid")
    return out


@dataclass
class AutoencoderSearchResult:
    """Every configuration's CV R^2 (same folds), best first; the best one retrained."""

    table: pd.DataFrame  # rank, config_id, label, hidden, ..., cv_r2, cv_r2_sd, median_best_epoch
    results: list[AutoencoderResult]  # in table order; only the best has a retrained model

    @property
    def best(self) -> AutoencoderResult:
        return self.results[0]

    @property
    def best_config(self) -> AutoencoderConfig:
        return self.configs[0]

    @property
    def configs(self) -> list[AutoencoderConfig]:
        return [AutoencoderConfig(**json.loads(c)) for c in self.table["config"]]


def _search_unit(item: tuple[int, dict[str, Any]], shared: dict[str, Any]) -> AutoencoderResult:
    """CV of one configuration (module level so executors can send it to workers)."""
    _, cfg = item
    return train_autoencoder(
        shared["X"],
        AutoencoderConfig(**cfg),
        n_splits=shared["n_splits"],
        seed=shared["seed"],
        retrain=False,
        device=shared["device"],
    )


def _label(c: AutoencoderConfig) -> str:
    h = "/".join(map(str, c.hidden))
    keras = " keras" if c.numerics == "keras" else ""
    return f"{h} {c.activation} {c.optimizer} drop{c.dropout:g} batch{c.batch_size}{keras}"


def search_autoencoders(
    X: pd.DataFrame,
    grid: Mapping[str, Sequence[Any]] | Sequence[AutoencoderConfig],
    base: AutoencoderConfig | None = None,
    n_splits: int = 10,
    seed: int = 0,
    *,
    retrain: bool = True,
    X_eval: pd.DataFrame | None = None,
    executor: Any = None,
    device: str | None = None,
    network_gpus: float = 0.0,
) -> AutoencoderSearchResult:
    """K-fold CV of every autoencoder configuration on the same folds; the best mean CV R^2 wins
    (ties: the earlier configuration) and, with ``retrain``, is retrained on all of ``X`` for
    its median best epoch (the paper chose its autoencoder this way).

    ``grid``: ``{field: [values]}`` over ``base`` or a list of configurations. Configurations
    are independent work units for ``executor.map`` (each declaring ``network_gpus``); the
    result does not depend on how they are scheduled.
    """
    configs = expand_autoencoder_grid(grid, base)
    check_expression(X)
    if n_splits < 2:
        raise InputError(
            f"n_splits={n_splits}", field="autoencoder.folds", expected="2 or more folds"
        )
    shared = {
        "X": X,
        "n_splits": int(n_splits),
        "seed": int(seed),
        "device": None if device is None else str(device),
    }
    items = [(i, c.model_dump()) for i, c in enumerate(configs)]
    if executor is None:
        results = [_search_unit(it, shared) for it in items]
    else:
        results = executor.map(
            _search_unit, items, shared=shared, desc="autoencoder grid", num_gpus=network_gpus
        )
    rows = []
    for i, (c, r) in enumerate(zip(configs, results, strict=True)):
        rows.append(
            {
                "config_id": i,
                "label": _label(c),
                "hidden": "/".join(map(str, c.hidden)),
                "activation": c.activation,
                "optimizer": c.optimizer,
                "dropout": c.dropout,
                "batch_size": c.batch_size,
                "numerics": c.numerics,
                "cv_r2": r.cv_r2,
                "cv_r2_sd": float(r.fold_metrics["r2"].std(ddof=1)),
                "median_best_epoch": r.median_best_epoch,
                "n_splits": len(r.fold_metrics),
                "config": c.model_dump_json(),
            }
        )
    table = pd.DataFrame(rows)
    order = np.argsort(-table["cv_r2"].fillna(-np.inf).to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    ranked = [results[i] for i in order]
    if retrain:
        best = ranked[0]
        best.model = retrain_autoencoder(
            X,
            configs[order[0]],
            best.median_best_epoch,
            seed=seed,
            X_eval=X_eval,
            device=device,
            cv_r2=best.cv_r2,
        )
        best.retrained_r2 = best.model.info["retrained_r2"]
        best.eval_r2 = best.model.info.get("eval_r2")
        table["retrained_r2"] = [best.retrained_r2] + [np.nan] * (len(table) - 1)
    return AutoencoderSearchResult(table=table, results=ranked)
