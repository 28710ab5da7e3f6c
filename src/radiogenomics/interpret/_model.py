"""What interpretation needs from a trained model, read off any object that has it.

A model is anything with ``.network`` (an MLP honouring the first-layer contract),
``.scaler`` (``genes`` and ``transform(df)``) and ``.classes`` (labels in logit order). A binary
network has one logit, the log-odds of the positive class ``classes[1]``; a multi-class network has one logit per class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch import nn

from radiogenomics.errors import InputError
from radiogenomics.interpret._engine import eval_mode, first_layer


@dataclass(frozen=True)
class ModelView:
    network: nn.Module
    scaler: object
    genes: tuple[str, ...]
    classes: tuple[str, ...]
    n_outputs: int

    @property
    def binary(self) -> bool:
        return self.n_outputs == 1

    @property
    def scored_classes(self) -> tuple[str, ...]:
        """Classes that get a row in a masking table (binary: the positive class only)."""
        return (self.classes[1],) if self.binary else self.classes

    def standardise(self, X: pd.DataFrame, device: torch.device) -> torch.Tensor:
        Z = self.scaler.transform(X)
        return torch.as_tensor(
            np.asarray(Z), dtype=next(self.network.parameters()).dtype, device=device
        )


def _n_outputs(network: nn.Module) -> int:
    W, _ = first_layer(network)
    with torch.inference_mode(), eval_mode(network):
        return int(network.forward_from_first(torch.zeros_like(W[:, 0])[None, :]).shape[1])


def model_view(model: object) -> ModelView:
    """Check the duck-typed model and read what interpretation uses."""
    for attr in ("network", "scaler", "classes"):
        if not hasattr(model, attr):
            raise InputError(
                f"the model has no {attr!r}",
                field="model",
                expected="a trained model with .network, .scaler and .classes",
            )
    network = model.network
    if not (hasattr(network, "first_linear") and hasattr(network, "forward_from_first")):
        raise InputError(
            "the model's network does not expose first_linear / forward_from_first",
            field="model.network",
            expected="a radiogenomics.models.network.MLP",
        )
    classes = tuple(str(c) for c in model.classes)
    genes = tuple(str(g) for g in model.scaler.genes)
    W, _ = first_layer(network)
    if W.shape[1] != len(genes):
        raise InputError(
            f"the network takes {W.shape[1]} inputs but the scaler has {len(genes)} genes",
            field="model.scaler",
            expected="the scaler the network was trained with",
        )
    n_out = _n_outputs(network)
    if n_out == 1:
        if len(classes) != 2:
            raise InputError(
                f"a one-logit network needs 2 classes, the model names {len(classes)}",
                field="model.classes",
            )
    elif n_out != len(classes):
        raise InputError(
            f"the network has {n_out} logits but the model names {len(classes)} classes",
            field="model.classes",
        )
    return ModelView(network, model.scaler, genes, classes, n_out)


def align_labels(X: pd.DataFrame, y: pd.Series, classes: tuple[str, ...]) -> pd.Series:
    """Labels of the patients in both X and y (X's order), as strings, checked against classes."""
    if not isinstance(X, pd.DataFrame):
        raise InputError("expression must be a patients x genes DataFrame", field="X")
    if not isinstance(y, pd.Series):
        raise InputError("labels must be a pandas Series indexed by patient", field="y")
    if X.index.has_duplicates:
        raise InputError("patients appear more than once", field="X.index", expected="unique ids")
    labelled = y.dropna()
    if labelled.index.has_duplicates:
        raise InputError("patients appear more than once", field="y.index", expected="unique ids")
    common = X.index[X.index.isin(labelled.index)]
    if len(common) == 0:
        raise InputError(
            "no patient of the expression matrix has a label",
            field="y.index",
            expected="patient ids shared with X.index",
        )
    out = labelled.loc[common].astype(str)
    unknown = sorted(set(out) - set(classes))
    if unknown:
        raise InputError(
            f"labels {unknown} are not classes of the model {list(classes)}",
            field="y",
            expected="the model's class labels",
        )
    return out
