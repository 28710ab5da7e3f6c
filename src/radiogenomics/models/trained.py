"""Trained networks with everything needed to use them: gene order, scaler, class names.

Saved as ``weights.safetensors`` (network tensors plus the scaler's mean and scale, float64) and
``model.json`` (architecture, genes, classes, task, config, best epoch). No pickle anywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.models.network import MLP
from radiogenomics.utils.io import atomic_write, write_json

FORMAT_VERSION = 1


def _architecture(net: MLP) -> dict[str, Any]:
    act = type(net.blocks[0].act).__name__.lower()
    return {
        "n_in": net.first_linear.in_features,
        "hidden": [b.linear.out_features for b in net.blocks],
        "n_out": net.output.out_features,
        "activation": act,
        "dropout": float(net.blocks[0].dropout.p),
        "input_dropout": float(net.input_dropout.p),
        "bn_eps": float(net.blocks[0].norm.eps),
        "bn_momentum": float(net.blocks[0].norm.momentum),
    }


def _build(arch: dict[str, Any]) -> MLP:
    return MLP(
        arch["n_in"],
        arch["hidden"],
        arch["n_out"],
        activation=arch["activation"],
        dropout=arch["dropout"],
        input_dropout=arch["input_dropout"],
        # folders saved before these were recorded used PyTorch's BatchNorm defaults
        bn_eps=arch.get("bn_eps", 1e-5),
        bn_momentum=arch.get("bn_momentum", 0.1),
    )


def _logits(net: MLP, Z: np.ndarray, chunk: int = 4096) -> np.ndarray:
    Z = np.asarray(Z, dtype=np.float32)
    if Z.ndim != 2 or Z.shape[1] != net.first_linear.in_features:
        raise ValueError(
            f"expected a standardised (patients, {net.first_linear.in_features}) array, "
            f"got shape {Z.shape}"
        )
    was_training = net.training
    net.eval()
    device = net.first_linear.weight.device
    outs = []
    with torch.no_grad():
        for s in range(0, len(Z), chunk):
            outs.append(net(torch.as_tensor(Z[s : s + chunk], device=device)).cpu().numpy())
    net.train(was_training)
    return np.concatenate(outs) if outs else np.zeros((0, net.output.out_features), np.float32)


def _save(directory: Path, net: MLP, scaler: Scaler, meta: dict[str, Any]) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"network.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    tensors["scaler.mean"] = torch.as_tensor(scaler.mean_, dtype=torch.float64)
    tensors["scaler.scale"] = torch.as_tensor(scaler.scale_, dtype=torch.float64)
    atomic_write(directory / "weights.safetensors", lambda p: save_file(tensors, str(p)))
    meta = {
        "format_version": FORMAT_VERSION,
        "architecture": _architecture(net),
        "genes": list(scaler.genes),
        "dropped_genes": list(scaler.dropped),
        **meta,
    }
    write_json(directory / "model.json", meta)
    return directory


def _load(directory: Path, kind: str) -> tuple[MLP, Scaler, dict[str, Any]]:
    """Network, scaler and metadata of a folder written by ``save()``; the saved ``kind`` is
    checked before the weights are read."""
    directory = Path(directory)
    meta_path, weights_path = directory / "model.json", directory / "weights.safetensors"
    for p in (meta_path, weights_path):
        if not p.is_file():
            raise InputError("missing model file", file=p, expected="a folder written by save()")
    meta = json.loads(meta_path.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise InputError(
            f"unsupported format version {meta.get('format_version')!r}",
            file=meta_path,
            field="format_version",
            expected=str(FORMAT_VERSION),
        )
    if meta.get("kind") != kind:
        raise InputError(
            f"this is a saved {meta.get('kind')!r}, not {'an' if kind[0] in 'aeiou' else 'a'} "
            f"{kind}",
            file=meta_path,
            field="kind",
        )
    tensors = load_file(str(weights_path))
    net = _build(meta["architecture"])
    state = {k[len("network.") :]: v for k, v in tensors.items() if k.startswith("network.")}
    net.load_state_dict(state, strict=True)
    genes = tuple(meta["genes"])
    scaler = Scaler(
        genes=genes,
        mean_=tensors["scaler.mean"].numpy().astype(np.float64),
        scale_=tensors["scaler.scale"].numpy().astype(np.float64),
        dropped=tuple(meta.get("dropped_genes", ())),
        source_genes=genes,
    )
    return net.eval(), scaler, meta


@dataclass
class TrainedModel:
    """A trait classifier ready to score patients.

    ``classes``: binary ``[negative, positive]`` (one logit, sigmoid gives the positive class),
    multi-class one name per logit (softmax). ``genes`` is the network's input order
    (== ``scaler.genes``). The network is on the CPU in eval mode.
    """

    network: MLP
    scaler: Scaler
    genes: tuple[str, ...]
    classes: list[str]
    task: str
    config: dict[str, Any]
    best_epoch: int
    info: dict[str, Any] = field(default_factory=dict)  # e.g. fold, training patients

    def __post_init__(self) -> None:
        self.genes = tuple(self.genes)
        if self.genes != tuple(self.scaler.genes):
            raise ValueError("TrainedModel.genes must equal scaler.genes")
        n_out = self.network.output.out_features
        expected = 1 if len(self.classes) == 2 else len(self.classes)
        if n_out != expected:
            raise ValueError(f"{len(self.classes)} classes need {expected} outputs, got {n_out}")
        self.network.eval()

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2

    def standardise(self, X: pd.DataFrame, source: str = "expression") -> np.ndarray:
        """Patients x genes DataFrame -> the network's standardised input (columns reordered)."""
        return self.scaler.transform(X, source=source)

    def logits(self, Z: np.ndarray) -> np.ndarray:
        """Network outputs for standardised input (patients x ``len(genes)``)."""
        return _logits(self.network, Z)

    def proba_from_logits(self, logits: np.ndarray) -> np.ndarray:
        """Class probabilities (patients x classes) from :meth:`logits` output."""
        t = torch.as_tensor(np.asarray(logits, dtype=np.float32))
        if self.is_binary:
            p = torch.sigmoid(t[:, 0]).numpy().astype(np.float64)
            return np.column_stack([1.0 - p, p])
        return torch.softmax(t, dim=1).numpy().astype(np.float64)

    def predict_proba(self, X: pd.DataFrame, source: str = "expression") -> pd.DataFrame:
        """Class probabilities for each patient (rows of ``X``); refuses missing genes."""
        if not isinstance(X, pd.DataFrame):
            raise InputError("expected a patients x genes DataFrame", field="expression")
        P = self.proba_from_logits(self.logits(self.standardise(X, source)))
        return pd.DataFrame(P, index=X.index, columns=list(self.classes))

    def save(self, directory: str | Path) -> Path:
        meta = {
            "kind": "classifier",
            "classes": list(self.classes),
            "task": self.task,
            "config": self.config,
            "best_epoch": int(self.best_epoch),
            "info": self.info,
        }
        return _save(Path(directory), self.network, self.scaler, meta)

    @classmethod
    def load(cls, directory: str | Path) -> TrainedModel:
        net, scaler, meta = _load(Path(directory), "classifier")
        return cls(
            network=net,
            scaler=scaler,
            genes=scaler.genes,
            classes=list(meta["classes"]),
            task=meta["task"],
            config=meta["config"],
            best_epoch=int(meta["best_epoch"]),
            info=meta.get("info", {}),
        )


@dataclass
class TrainedAutoencoder:
    """The transcriptomic autoencoder with its scaler (which transferred classifiers reuse)."""

    network: MLP
    scaler: Scaler
    genes: tuple[str, ...]
    config: dict[str, Any]
    best_epoch: int
    info: dict[str, Any] = field(default_factory=dict)  # e.g. R^2 on its training patients

    def __post_init__(self) -> None:
        self.genes = tuple(self.genes)
        if self.genes != tuple(self.scaler.genes):
            raise ValueError("TrainedAutoencoder.genes must equal scaler.genes")
        self.network.eval()

    @property
    def encoder_sizes(self) -> tuple[int, ...]:
        n = len(self.network.blocks)
        return tuple(b.linear.out_features for b in self.network.blocks[: (n + 1) // 2])

    def encoder_layers(self, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """(W, b) of the first ``n`` encoder Dense layers, for transfer."""
        if n > len(self.encoder_sizes):
            raise ValueError(f"the autoencoder has {len(self.encoder_sizes)} encoder layers")
        return [
            (
                b.linear.weight.detach().cpu().numpy().copy(),
                b.linear.bias.detach().cpu().numpy().copy(),
            )
            for b in self.network.blocks[:n]
        ]

    def reconstruct(self, Z: np.ndarray) -> np.ndarray:
        return _logits(self.network, Z)

    def r2(self, X: pd.DataFrame, source: str = "expression") -> float:
        """Mean per-gene R^2 of the reconstruction of ``X`` (genes without spread skipped)."""
        Z = self.scaler.transform(X, source=source).astype(np.float64)
        return mean_r2(Z, self.reconstruct(Z))

    def save(self, directory: str | Path) -> Path:
        meta = {
            "kind": "autoencoder",
            "config": self.config,
            "best_epoch": int(self.best_epoch),
            "info": self.info,
        }
        return _save(Path(directory), self.network, self.scaler, meta)

    @classmethod
    def load(cls, directory: str | Path) -> TrainedAutoencoder:
        net, scaler, meta = _load(Path(directory), "autoencoder")
        return cls(
            network=net,
            scaler=scaler,
            genes=scaler.genes,
            config=meta["config"],
            best_epoch=int(meta["best_epoch"]),
            info=meta.get("info", {}),
        )


def mean_r2(target: np.ndarray, pred: np.ndarray) -> float:
    """Mean over genes of 1 - SS_res / SS_tot (genes constant in ``target`` skipped)."""
    target = np.asarray(target, dtype=np.float64)
    pred = np.asarray(pred, dtype=np.float64)
    ss_tot = ((target - target.mean(0)) ** 2).sum(0)
    ss_res = ((target - pred) ** 2).sum(0)
    ok = ss_tot > 1e-12
    if not ok.any():
        return float("nan")
    return float(np.mean(1.0 - ss_res[ok] / ss_tot[ok]))
