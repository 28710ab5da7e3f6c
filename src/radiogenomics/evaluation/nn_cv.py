"""Cross-validation, grid search and retraining of the neural trait classifiers.

The folds come from :func:`radiogenomics.evaluation.splits.stratified_folds`; the scaler is
fitted inside each fold on its training patients only (or, with autoencoder transfer, the
autoencoder's scaler is used, as the paper did). The K fold networks of one configuration train
together as one batched model.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch

from radiogenomics.data.scaling import Scaler, refuse_non_finite
from radiogenomics.data.vasari import is_zero_one
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_metrics import ap_score, auc_score
from radiogenomics.evaluation.splits import stratified_folds
from radiogenomics.models.config import NetworkConfig
from radiogenomics.models.engine import (
    FitResult,
    FoldData,
    balanced_weights,
    train_batched,
    train_plain,
)
from radiogenomics.models.trained import TrainedAutoencoder, TrainedModel
from radiogenomics.models.training import classifier_spec, transfer_layers
from radiogenomics.utils.device import default_device
from radiogenomics.utils.results import ResultMixin, new_axes
from radiogenomics.utils.seeding import derive_seed
from radiogenomics.utils.text import count

# ----------------------------------------------------------------------------- inputs


def check_expression(X: pd.DataFrame, source: str = "expression") -> pd.DataFrame:
    """A patients x genes DataFrame of finite numbers with unique patients and genes."""
    if not isinstance(X, pd.DataFrame):
        raise InputError("expected a patients x genes DataFrame", file=source)
    if X.index.has_duplicates:
        dup = X.index[X.index.duplicated()].unique().tolist()[:5]
        raise InputError(f"duplicate patients {dup}", file=source, field="patients")
    if X.columns.has_duplicates:
        dup = X.columns[X.columns.duplicated()].unique().tolist()[:5]
        raise InputError(f"duplicate genes {dup}", file=source, field="genes")
    try:
        values = X.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("non-numeric expression values", file=source, field="expression") from None
    refuse_non_finite(values, X.index, X.columns, source)
    return X


def _task_name(y: object, task: str | None) -> str:
    """``task``, else the labels' Series name, else "trait" (labels that are not a Series are
    refused by :func:`encode_labels`, naming the task)."""
    name = getattr(y, "name", None)
    return task or (str(name) if name is not None else "trait")


def encode_labels(
    y: pd.Series, classes: Sequence[str] | None = None, task: str = "trait"
) -> tuple[pd.Series, list[str], np.ndarray]:
    """Labelled patients, class names and class codes.

    Missing labels (NaN) are dropped. Binary: ``[negative, positive]`` with the least frequent
    label positive (METHOD.md), unless ``classes`` fixes the order; numeric 0/1 (or boolean)
    labels are "0" / "1" with 1 positive, as the baselines read them (so both score AP on the
    same class); multi-class: sorted names.
    """
    if not isinstance(y, pd.Series):
        raise InputError("expected a Series of labels indexed by patient", field=task)
    y = y.dropna()
    zero_one = is_zero_one(y)
    y = y.astype(np.int64).astype(str) if zero_one else y.astype(str)
    if y.index.has_duplicates:
        raise InputError("duplicate patients in the labels", field=task)
    present = sorted(y.unique().tolist())
    if classes is not None:
        classes = [str(c) for c in classes]
        unknown = sorted(set(present) - set(classes))
        if unknown:
            raise InputError(f"labels {unknown} are not among {classes}", field=task)
    elif len(present) == 2 and zero_one:
        classes = ["0", "1"]
    elif len(present) == 2:
        counts = y.value_counts()
        a, b = present
        classes = [a, b] if counts[b] <= counts[a] else [b, a]
    else:
        classes = present
    if len(present) < 2:
        raise InputError(
            f"only one class ({present}) among {len(y)} labelled patients",
            field=task,
            expected="at least two classes",
        )
    codes = y.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    return y, list(classes), codes


def align(X: pd.DataFrame, y: pd.Series, task: str = "trait") -> tuple[pd.DataFrame, pd.Series]:
    """Labelled patients that have expression (others are dropped with a warning)."""
    missing = y.index.difference(X.index)
    if len(missing) == len(y):
        raise InputError(
            "no labelled patient has expression data",
            field=task,
            expected="the labels' patient ids among the expression rows",
        )
    if len(missing):
        warnings.warn(
            f"{task}: {count(len(missing), 'labelled patient')} without expression left out "
            f"(e.g. {list(missing[:3])})",
            stacklevel=3,
        )
        y = y.drop(missing)
    return X.loc[y.index], y


# ----------------------------------------------------------------------------- results


@dataclass
class Fold:
    """One fold: positions into the labelled patients, and their ids."""

    index: int
    train: np.ndarray
    val: np.ndarray
    train_ids: list[str]
    val_ids: list[str]


@dataclass
class CVResult(ResultMixin):
    """Out-of-fold evaluation of one configuration on one task.

    ``table``: ``fold_metrics`` with the task (task, fold, auc, ap, best_epoch, epochs_run,
    n_train, n_val), as the pipeline writes it.
    """

    TITLE = "Cross-validation"
    SETTINGS = ("task", "classes", "n_splits", "seed", "config", "pooled_auc", "pooled_ap")

    config: NetworkConfig
    task: str
    classes: list[str]
    labels: pd.Series  # class name of every labelled patient used
    folds: list[Fold]
    fold_metrics: pd.DataFrame  # fold, auc, ap, best_epoch, n_train, n_val, epochs_run
    oof_proba: pd.DataFrame  # patients x classes
    best_epochs: list[int]
    histories: list[dict[str, list[float]]] = field(default_factory=list)
    fold_models: list[TrainedModel] | None = None
    seed: int = 0

    @property
    def n_splits(self) -> int:
        return len(self.folds)

    @property
    def table(self) -> pd.DataFrame:
        table = self.fold_metrics.copy()
        table.insert(0, "task", self.task)
        return table

    def plot(self, ax=None):
        """Mean out-of-fold AUC (bar, +/- SD) and each fold's AUC (dots), on ``ax`` or a new
        figure; the look of the model-comparison figure. Returns the Axes."""
        from radiogenomics.evaluation.comparison_figures import draw_cv_auc

        ax = new_axes(ax, figsize=(4.0, 3.5))
        folds = self.fold_metrics.assign(trait=self.task, model="nn")
        draw_cv_auc(ax, folds)
        ax.set_title(f"{self.task}: {self.n_splits}-fold CV AUC {self.mean_auc:.2f}", fontsize=10)
        return ax

    @property
    def mean_auc(self) -> float:
        return float(self.fold_metrics["auc"].mean())

    @property
    def std_auc(self) -> float:
        return float(self.fold_metrics["auc"].std(ddof=1)) if self.n_splits > 1 else 0.0

    @property
    def mean_ap(self) -> float:
        return float(self.fold_metrics["ap"].mean())

    @property
    def pooled_auc(self) -> float:
        """AUC of all out-of-fold probabilities together."""
        codes = self.labels.map({c: i for i, c in enumerate(self.classes)}).to_numpy()
        return auc_score(codes, self.oof_proba.loc[self.labels.index].to_numpy())

    @property
    def pooled_ap(self) -> float:
        codes = self.labels.map({c: i for i, c in enumerate(self.classes)}).to_numpy()
        return ap_score(codes, self.oof_proba.loc[self.labels.index].to_numpy())

    @property
    def median_best_epoch(self) -> int:
        return max(1, int(round(float(np.median(self.best_epochs)))))

    def summary(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "n_patients": len(self.labels),
            "n_splits": self.n_splits,
            "mean_auc": self.mean_auc,
            "std_auc": self.std_auc,
            "mean_ap": self.mean_ap,
            "pooled_auc": self.pooled_auc,
            "pooled_ap": self.pooled_ap,
            "median_best_epoch": self.median_best_epoch,
        }


# ----------------------------------------------------------------------------- CV


def _fold_unit(item: int, shared: dict[str, Any]) -> FitResult:
    """One fold trained alone (module level so executors can send it to workers).

    The device is resolved here, on the worker: ``"auto"`` is the GPU the cluster gave this
    unit when it has one, whatever the driver's machine has.
    """
    device = default_device(shared["device"])
    return train_plain(shared["spec"], shared["folds"][item], device=device)


def cross_validate(
    X: pd.DataFrame,
    y: pd.Series,
    config: NetworkConfig,
    n_splits: int = 10,
    seed: int = 0,
    autoencoder: TrainedAutoencoder | None = None,
    keep_models: bool = False,
    executor: Any = None,
    *,
    task: str | None = None,
    classes: Sequence[str] | None = None,
    adjust_folds: bool = False,
    batched: bool = True,
    device: str | torch.device | None = None,
    network_gpus: float = 0.0,
) -> CVResult:
    """Stratified K-fold CV of one classifier configuration.

    ``X``: patients x genes (log2 expression); ``y``: labels by patient (NaN = not labelled).
    ``adjust_folds`` lowers K (with a warning) when a class has fewer patients than folds,
    instead of refusing. With ``config.ae_layers > 0`` the ``autoencoder``'s encoder layers are
    transferred and its scaler is used. ``batched=False`` trains the folds one by one (through
    ``executor.map`` when given, each fold a unit declaring ``network_gpus``, a GPU fraction);
    results are the same.
    """
    task = _task_name(y, task)
    X = check_expression(X)
    y_lab, classes, codes = encode_labels(y, classes, task)
    X_lab, y_lab = align(X, y_lab, task)
    codes = y_lab.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    splits = stratified_folds(
        codes, n_splits, seed=seed, task=task, adjust=adjust_folds, class_names=classes
    )
    C = len(classes)
    device_name = None if device is None else str(device)  # resolved again by each unit
    device = default_device(device) if device is None or isinstance(device, str) else device

    transfer = config.ae_layers > 0
    if transfer and autoencoder is None:
        raise ValueError(f"config has ae_layers={config.ae_layers} but no autoencoder was given")
    ids = [str(i) for i in X_lab.index]
    folds = [
        Fold(k, tr, va, [ids[i] for i in tr], [ids[i] for i in va])
        for k, (tr, va) in enumerate(splits)
    ]

    if transfer:
        Z_all = autoencoder.scaler.transform(X_lab, source="expression (autoencoder genes)")
        scalers = [autoencoder.scaler] * len(folds)
        gene_pos = [np.arange(Z_all.shape[1])] * len(folds)
        n_genes = Z_all.shape[1]
        layers = transfer_layers(config, autoencoder, n_genes)
        Z_tr = [Z_all[f.train] for f in folds]
        Z_va = [Z_all[f.val] for f in folds]
    else:
        values = X_lab.to_numpy(dtype=np.float64)
        genes = [str(g) for g in X_lab.columns]
        scalers, Z_tr, Z_va, gene_pos = [], [], [], []
        for f in folds:
            sc = Scaler.fit(values[f.train], genes)
            if len(sc.genes) == 0:
                raise InputError(
                    f"every gene is constant in the training patients of fold {f.index}",
                    field="expression",
                )
            scalers.append(sc)
            Z_tr.append(sc.transform_array(values[f.train]))
            Z_va.append(sc.transform_array(values[f.val]))
            gene_pos.append(sc.kept_index)
        n_genes = len(genes)
        layers = []

    spec = classifier_spec(config, n_genes, C)
    datas = [
        FoldData(
            Z_train=Z_tr[k],
            y_train=codes[f.train],
            Z_val=Z_va[k],
            y_val=codes[f.val],
            weights=balanced_weights(codes[f.train], C),
            seed=derive_seed(seed, "nn-fold", k),
            transfer=layers,
        )
        for k, f in enumerate(folds)
    ]
    if batched:
        fits = train_batched(spec, datas, gene_pos, n_genes, device=device)
    else:
        if executor is None:
            fits = [train_plain(spec, d, device=device) for d in datas]
        else:
            # each fold's columns are its own scaler's genes: no embedding needed
            shared = {"spec": spec, "device": device_name, "folds": datas}
            fits = executor.map(
                _fold_unit,
                list(range(len(datas))),
                shared=shared,
                desc=task,
                num_gpus=network_gpus,
            )

    oof = np.full((len(ids), C), np.nan)
    rows, models = [], []
    for k, (f, fit) in enumerate(zip(folds, fits, strict=True)):
        model = TrainedModel(
            network=fit.network,
            scaler=scalers[k],
            genes=scalers[k].genes,
            classes=classes,
            task=task,
            config=config.to_dict(),
            best_epoch=fit.best_epoch,
            info={"fold": k, "n_train": len(f.train), "seed": seed, "n_splits": len(folds)},
        )
        P = model.proba_from_logits(model.logits(Z_va[k]))
        oof[f.val] = P
        rows.append(
            {
                "fold": k,
                "auc": auc_score(codes[f.val], P),
                "ap": ap_score(codes[f.val], P),
                "best_epoch": fit.best_epoch,
                "epochs_run": len(fit.history.get("loss", [])),
                "n_train": len(f.train),
                "n_val": len(f.val),
            }
        )
        if keep_models:
            models.append(model)
    return CVResult(
        config=config,
        task=task,
        classes=classes,
        labels=y_lab.set_axis(ids),
        folds=folds,
        fold_metrics=pd.DataFrame(rows),
        oof_proba=pd.DataFrame(oof, index=ids, columns=classes),
        best_epochs=[int(f.best_epoch) for f in fits],
        histories=[f.history for f in fits],
        fold_models=models if keep_models else None,
        seed=seed,
    )


# ----------------------------------------------------------------------------- grid search


def _is_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) or (
        isinstance(value, Sequence) and not isinstance(value, (str, bytes))
    )


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[NetworkConfig],
    base: NetworkConfig | None = None,
) -> list[NetworkConfig]:
    """Every combination of the ``grid`` values over ``base`` (duplicates removed).

    ``frozen`` means nothing without transferred layers: those combinations collapse to one.
    """
    if not isinstance(grid, Mapping):
        configs = list(grid)
    else:
        base = base or NetworkConfig()
        unknown = sorted(set(grid) - set(NetworkConfig.model_fields))
        if unknown:
            raise InputError(
                f"unknown grid fields {unknown}",
                field="grid",
                expected=f"fields of the network config: {sorted(NetworkConfig.model_fields)}",
            )
        keys = list(grid)
        scalar = [k for k in keys if isinstance(grid[k], (str, bytes)) or not _is_list(grid[k])]
        if scalar:
            raise InputError(
                f"grid values of {scalar} are not lists (e.g. {scalar[0]} = {grid[scalar[0]]!r})",
                field="grid",
                expected="a list of values per field, e.g. {'dropout': [0.4]}",
            )
        configs = []
        for values in itertools.product(*(list(grid[k]) for k in keys)):
            d = {**base.model_dump(), **dict(zip(keys, values, strict=True))}
            if d.get("ae_layers", 0) == 0:
                d["frozen"] = False
            try:
                configs.append(NetworkConfig(**d))
            except InputError as err:  # the config's own error, with the grid point
                point = dict(zip(keys, values, strict=True))
                raise InputError(
                    f"grid point {point}: {err.message}",
                    field="grid",
                    expected="values within the network config's bounds",
                ) from None
    seen, out = set(), []
    for c in configs:
        key = c.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


@dataclass
class GridSearchResult:
    """Every configuration's CV, ranked by mean CV AUC."""

    table: pd.DataFrame  # one row per configuration, best first
    results: list[CVResult]  # in table order

    @property
    def best(self) -> CVResult:
        return self.results[0]

    @property
    def best_config(self) -> NetworkConfig:
        return self.results[0].config


def _grid_unit(item: tuple[int, dict[str, Any]], shared: dict[str, Any]) -> CVResult:
    _, cfg = item
    return cross_validate(
        shared["X"],
        shared["y"],
        NetworkConfig(**cfg),
        n_splits=shared["n_splits"],
        seed=shared["seed"],
        autoencoder=shared["autoencoder"],
        keep_models=False,
        task=shared["task"],
        classes=shared["classes"],
        adjust_folds=shared["adjust_folds"],
        device=shared["device"],
    )


def grid_search(
    X: pd.DataFrame,
    y: pd.Series,
    grid: Mapping[str, Sequence[Any]] | Sequence[NetworkConfig],
    base: NetworkConfig | None = None,
    n_splits: int = 10,
    seed: int = 0,
    autoencoder: TrainedAutoencoder | None = None,
    executor: Any = None,
    *,
    task: str | None = None,
    classes: Sequence[str] | None = None,
    adjust_folds: bool = False,
    device: str | None = None,
    network_gpus: float = 0.0,
) -> GridSearchResult:
    """CV of every configuration of the grid on the same folds, ranked by mean CV AUC.

    Configurations are independent work units (``executor.map``); the result never depends on
    how they are scheduled. Each unit declares ``network_gpus`` (a GPU fraction, e.g. 0.25 for
    four trainings per GPU) to the executor and resolves ``device`` where it runs.
    """
    configs = expand_grid(grid, base)
    if not configs:
        raise InputError("the grid is empty", field="grid")
    if autoencoder is None and any(c.ae_layers > 0 for c in configs):
        raise InputError(
            "the grid transfers autoencoder layers (ae_layers > 0) but no autoencoder was given",
            field="grid.ae_layers",
        )
    task = _task_name(y, task)
    check_expression(X)
    _, classes_used, _ = encode_labels(y, classes, task)
    shared = {
        "X": X,
        "y": y,
        "n_splits": n_splits,
        "seed": seed,
        "autoencoder": autoencoder,
        "task": task,
        "classes": classes_used,
        "adjust_folds": adjust_folds,
        "device": None if device is None else str(device),
    }
    items = [(i, c.model_dump()) for i, c in enumerate(configs)]
    if executor is None:
        results = [_grid_unit(it, shared) for it in items]
    else:
        results = executor.map(
            _grid_unit, items, shared=shared, desc=f"{task} grid", num_gpus=network_gpus
        )
    rows = []
    for i, (c, r) in enumerate(zip(configs, results, strict=True)):
        rows.append(
            {
                "config_id": i,
                "label": c.label(),
                "hidden": "/".join(map(str, c.hidden)),
                "activation": c.activation,
                "optimizer": c.optimizer,
                "dropout": c.dropout,
                "ae_layers": c.ae_layers,
                "frozen": c.frozen,
                "batch_size": c.batch_size,
                "numerics": c.numerics,
                **{k: v for k, v in r.summary().items() if k != "task"},
            }
        )
    table = pd.DataFrame(rows)
    order = np.argsort(-table["mean_auc"].fillna(-np.inf).to_numpy(), kind="stable")
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    return GridSearchResult(table=table, results=[results[i] for i in order])


# ----------------------------------------------------------------------------- retraining


def retrain(
    X: pd.DataFrame,
    y: pd.Series,
    config: NetworkConfig,
    cv_result: CVResult | None = None,
    epochs: int | None = None,
    seed: int = 0,
    autoencoder: TrainedAutoencoder | None = None,
    *,
    task: str | None = None,
    classes: Sequence[str] | None = None,
    device: str | torch.device | None = None,
) -> TrainedModel:
    """The configuration trained on all labelled patients for the median best epoch of its CV.

    ``epochs`` overrides the epoch count; the classes follow ``cv_result`` when given.
    ``model.info["train_auc"]`` / ``["train_ap"]`` score the retrained model on its own training
    patients (micro-averaged for multi-class), the paper's "retrain AUC" (its Table 1).
    """
    if epochs is None:
        if cv_result is None:
            raise InputError(
                "no epoch count",
                field="epochs",
                expected="cv_result (its median best epoch) or epochs",
            )
        epochs = cv_result.median_best_epoch
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise InputError(f"epochs = {epochs!r}", field="epochs", expected="an integer >= 1")
    if cv_result is not None:
        classes = cv_result.classes if classes is None else classes
        task = task or cv_result.task
    task = _task_name(y, task)
    X = check_expression(X)
    y_lab, classes, _ = encode_labels(y, classes, task)
    X_lab, y_lab = align(X, y_lab, task)
    codes = y_lab.map({c: i for i, c in enumerate(classes)}).to_numpy(dtype=np.int64)
    if config.ae_layers > 0:
        if autoencoder is None:
            raise ValueError(
                f"config has ae_layers={config.ae_layers} but no autoencoder was given"
            )
        scaler = autoencoder.scaler
        Z = scaler.transform(X_lab, source="expression (autoencoder genes)")
        layers = transfer_layers(config, autoencoder, Z.shape[1])
    else:
        scaler = Scaler.fit(X_lab)
        Z = scaler.transform(X_lab)
        layers = []
    C = len(classes)
    spec = classifier_spec(config, Z.shape[1], C)
    data = FoldData(
        Z_train=Z,
        y_train=codes,
        weights=balanced_weights(codes, C),
        seed=derive_seed(seed, "nn-retrain"),
        transfer=layers,
        epochs=int(epochs),
    )
    device = default_device(device) if device is None or isinstance(device, str) else device
    fit = train_batched(spec, [data], device=device)[0]
    model = TrainedModel(
        network=fit.network,
        scaler=scaler,
        genes=scaler.genes,
        classes=classes,
        task=task,
        config=config.to_dict(),
        best_epoch=int(epochs),
        info={"n_train": len(codes), "retrained": True, "seed": seed},
    )
    # the paper's Table 1 "retrain AUC": the retrained model scored on its own training patients
    P = model.proba_from_logits(model.logits(Z))
    model.info["train_auc"] = auc_score(codes, P)
    model.info["train_ap"] = ap_score(codes, P)
    return model
