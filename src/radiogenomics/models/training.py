"""Array-level training of trait classifiers and autoencoders (standardised input in, MLP out).

``fit_classifier`` / ``fit_autoencoder`` train one network; ``fit_classifiers`` /
``fit_autoencoders`` train several (e.g. the folds of one configuration, or bootstrap
resamples) together as one batched model, with the same results as one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from radiogenomics.errors import InputError
from radiogenomics.models.config import AutoencoderConfig, NetworkConfig
from radiogenomics.models.engine import (
    FitResult,
    FoldData,
    NetSpec,
    balanced_weights,
    train_batched,
    train_plain,
)
from radiogenomics.models.network import MLP
from radiogenomics.models.trained import TrainedAutoencoder
from radiogenomics.utils.device import default_device

Transfer = TrainedAutoencoder | Sequence[tuple[np.ndarray, np.ndarray]] | None


def classifier_spec(config: NetworkConfig, n_in: int, n_classes: int) -> NetSpec:
    """Engine spec of a classifier with ``n_classes`` classes (binary: one logit)."""
    if n_classes < 2:
        raise InputError(f"{n_classes} class(es)", field="trait", expected="at least two classes")
    return NetSpec(
        n_in=n_in,
        hidden=config.hidden,
        n_out=1 if n_classes == 2 else n_classes,
        kind="binary" if n_classes == 2 else "multiclass",
        activation=config.activation,
        dropout=config.dropout,
        p_input=config.p_input,
        optimizer=config.optimizer,
        lr=config.lr,
        batch_size=config.batch_size,
        max_epochs=config.max_epochs,
        patience=config.patience,
        frozen_layers=config.ae_layers if config.frozen else 0,
        numerics=config.numerics,
    )


def autoencoder_spec(config: AutoencoderConfig, n_in: int) -> NetSpec:
    """Engine spec of the autoencoder: encoder, mirrored decoder, linear output of ``n_in``."""
    return NetSpec(
        n_in=n_in,
        hidden=config.layers,
        n_out=n_in,
        kind="autoencoder",
        activation=config.activation,
        dropout=config.dropout,
        p_input=0.0,
        optimizer=config.optimizer,
        lr=config.lr,
        batch_size=config.batch_size,
        max_epochs=config.max_epochs,
        patience=config.patience,
        numerics=config.numerics,
    )


def transfer_layers(
    config: NetworkConfig, transfer: Transfer, n_in: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (W, b) of the encoder layers a classifier takes (``config.ae_layers`` of them)."""
    L = config.ae_layers
    if L == 0:
        return []
    if transfer is None:
        raise ValueError(f"ae_layers={L} needs a trained autoencoder")
    layers = (
        transfer.encoder_layers(L)
        if isinstance(transfer, TrainedAutoencoder)
        else list(transfer)[:L]
    )
    if len(layers) < L:
        raise ValueError(f"ae_layers={L} but only {len(layers)} encoder layers were given")
    expected_in = n_in
    for i, (W, _b) in enumerate(layers):
        if W.shape != (config.hidden[i], expected_in):
            raise InputError(
                f"encoder layer {i + 1} has shape {W.shape}, the classifier needs "
                f"{(config.hidden[i], expected_in)}",
                field="hidden",
                expected="the classifier's first hidden sizes equal to the autoencoder's",
            )
        expected_in = config.hidden[i]
    return layers


def _check_arrays(Z: np.ndarray, name: str) -> np.ndarray:
    Z = np.asarray(Z, dtype=np.float32)
    if Z.ndim != 2:
        raise ValueError(f"{name} must be 2-D (patients x genes), got shape {Z.shape}")
    if not np.isfinite(Z).all():
        raise InputError(
            f"{name} contains NaN or inf", field="expression", expected="finite values"
        )
    return Z


def _labels(y: np.ndarray | None, name: str) -> np.ndarray | None:
    if y is None:
        return None
    y = np.asarray(y)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
        raise ValueError(f"{name} must be integer class codes (0..C-1)")
    return y.astype(np.int64)


def _run(
    spec: NetSpec, folds: list[FoldData], device, engine: str, widths: list[int]
) -> list[FitResult]:
    """Networks may differ in input width (their scalers dropped different constant genes):
    the stacked model lays each one's columns first and pads the rest with zeros."""
    device = default_device(device) if device is None or isinstance(device, str) else device
    if engine == "batched":
        pos = [np.arange(w) for w in widths]
        return train_batched(spec, folds, pos, max(widths), device=device)
    if engine == "plain":
        return [train_plain(spec, d, device=device) for d in folds]
    raise ValueError(f"unknown engine {engine!r} (expected 'batched' or 'plain')")


def fit_classifiers(
    folds: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]],
    config: NetworkConfig,
    seeds: Sequence[int],
    n_classes: int | None = None,
    transfer: Transfer = None,
    epochs: int | None = None,
    device: str | torch.device | None = None,
    engine: str = "batched",
) -> list[tuple[MLP, int, dict[str, list[float]]]]:
    """Train one classifier per ``(Z_train, y_train, Z_val, y_val)`` (same genes), batched.

    ``y`` are class codes 0..C-1 (binary: 1 = positive). With ``Z_val``/``y_val`` None for every
    network, each trains for ``epochs`` epochs (retraining); otherwise early stopping on the
    validation ROC AUC. Networks may have different numbers of genes (each fold's scaler drops
    its own constant genes) unless they take autoencoder layers. Returns
    ``(network, best_epoch, history)`` per network; ``history`` holds ``loss`` and
    ``val_metric`` per epoch.
    """
    if len(seeds) != len(folds):
        raise ValueError("one seed per network is needed")
    if not folds:
        return []
    datas = []
    ys = []
    for i, (Zt, yt, Zv, yv) in enumerate(folds):
        Zt = _check_arrays(Zt, f"Z_train[{i}]")
        yt = _labels(yt, "y_train")
        if len(yt) != len(Zt):
            raise ValueError("Z_train and y_train differ in length")
        Zv = None if Zv is None else _check_arrays(Zv, f"Z_val[{i}]")
        yv = _labels(yv, "y_val")
        ys.append(yt)
        if yv is not None:
            ys.append(yv)
        datas.append((Zt, yt, Zv, yv))
    C = int(n_classes) if n_classes is not None else int(max(int(y.max()) for y in ys) + 1)
    for yt in (d[1] for d in datas):
        if len(np.unique(yt)) < 2:
            raise InputError(
                "a training set has only one class", field="trait", expected="both classes"
            )
    widths = [d[0].shape[1] for d in datas]
    n_in = max(widths)
    if any(d[2] is not None and d[2].shape[1] != d[0].shape[1] for d in datas):
        raise ValueError("Z_val must have the same columns as Z_train")
    if config.ae_layers and len(set(widths)) > 1:
        raise ValueError(
            "with autoencoder transfer every network must have the autoencoder's genes"
        )
    spec = classifier_spec(config, n_in, C)
    layers = transfer_layers(config, transfer, n_in)
    fold_data = [
        FoldData(
            Z_train=Zt,
            y_train=yt,
            Z_val=Zv,
            y_val=yv,
            weights=balanced_weights(yt, C),
            seed=int(s),
            transfer=layers,
            epochs=None if Zv is not None else epochs,
        )
        for (Zt, yt, Zv, yv), s in zip(datas, seeds, strict=True)
    ]
    if any(d.Z_val is None and d.epochs is None for d in fold_data):
        raise ValueError("without validation data, give the number of epochs")
    results = _run(spec, fold_data, device, engine, widths)
    return [(r.network, r.best_epoch, r.history) for r in results]


def fit_classifier(
    Z_train: np.ndarray,
    y_train: np.ndarray,
    Z_val: np.ndarray | None,
    y_val: np.ndarray | None,
    config: NetworkConfig,
    seed: int = 0,
    n_classes: int | None = None,
    transfer: Transfer = None,
    epochs: int | None = None,
    device: str | torch.device | None = None,
    engine: str = "batched",
) -> tuple[MLP, int, dict[str, list[float]]]:
    """Train one classifier (early stopping on validation ROC AUC, or ``epochs`` without it)."""
    return fit_classifiers(
        [(Z_train, y_train, Z_val, y_val)],
        config,
        [seed],
        n_classes=n_classes,
        transfer=transfer,
        epochs=epochs,
        device=device,
        engine=engine,
    )[0]


def fit_autoencoders(
    folds: Sequence[tuple[np.ndarray, np.ndarray | None]],
    config: AutoencoderConfig,
    seeds: Sequence[int],
    epochs: int | None = None,
    device: str | torch.device | None = None,
    engine: str = "batched",
) -> list[tuple[MLP, int, dict[str, list[float]]]]:
    """Train one autoencoder per ``(Z_train, Z_val)``, batched (early stopping on mean R^2).

    Networks may have different numbers of genes (each its own scaler's kept genes)."""
    if len(seeds) != len(folds):
        raise ValueError("one seed per network is needed")
    if not folds:
        return []
    fold_data = []
    for i, (Zt, Zv) in enumerate(folds):
        Zt = _check_arrays(Zt, f"Z_train[{i}]")
        Zv = None if Zv is None else _check_arrays(Zv, f"Z_val[{i}]")
        fold_data.append(
            FoldData(
                Z_train=Zt, Z_val=Zv, seed=int(seeds[i]), epochs=None if Zv is not None else epochs
            )
        )
    if any(d.Z_val is None and d.epochs is None for d in fold_data):
        raise ValueError("without validation data, give the number of epochs")
    widths = [d.Z_train.shape[1] for d in fold_data]
    spec = autoencoder_spec(config, max(widths))
    results = _run(spec, fold_data, device, engine, widths)
    return [(r.network, r.best_epoch, r.history) for r in results]


def fit_autoencoder(
    Z_train: np.ndarray,
    Z_val: np.ndarray | None,
    config: AutoencoderConfig,
    seed: int = 0,
    epochs: int | None = None,
    device: str | torch.device | None = None,
    engine: str = "batched",
) -> tuple[MLP, int, dict[str, list[float]]]:
    """Train one autoencoder (MAE loss, early stopping on mean per-gene validation R^2)."""
    return fit_autoencoders([(Z_train, Z_val)], config, [seed], epochs, device, engine)[0]


def describe(config: NetworkConfig | AutoencoderConfig) -> dict[str, Any]:
    """The config as plain data, with the learning rate actually used."""
    return {**config.to_dict(), "lr_used": config.lr}
