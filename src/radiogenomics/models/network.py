"""The paper's networks: blocks of Dense -> BatchNorm -> activation -> Dropout.

Contract used by interpretation (gene masking's closed-form first layer, saliency):
``MLP.first_linear`` is the first Dense layer, applied to the (input-dropped-out) standardised
expression; ``MLP.forward_from_first(h)`` runs everything after it, from that layer's
pre-BatchNorm output to the output logits. ``forward(x) == forward_from_first(first_linear(
input_dropout(x)))``. Outputs are logits: one column for a binary task (sigmoid gives the
positive class's probability), one per class for multi-class (softmax).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "relu": nn.ReLU}


def make_activation(name: str) -> nn.Module:
    try:
        return ACTIVATIONS[name]()
    except KeyError:
        raise ValueError(
            f"unknown activation {name!r} (expected one of {sorted(ACTIVATIONS)})"
        ) from None


class Block(nn.Module):
    """Dense -> BatchNorm -> activation -> Dropout."""

    def __init__(
        self,
        n_in: int,
        n_out: int,
        activation: str,
        dropout: float,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.norm = nn.BatchNorm1d(n_out, eps=bn_eps, momentum=bn_momentum)
        self.act = make_activation(activation)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.after_linear(self.linear(x))

    def after_linear(self, h: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.act(self.norm(h)))


class MLP(nn.Module):
    """Input dropout, hidden blocks, then a linear output layer (logits).

    The classifier applies ``input_dropout`` to its input; the autoencoder uses 0.
    ``bn_eps`` and ``bn_momentum`` (PyTorch's convention: the new batch's share) set every
    BatchNorm; the defaults are PyTorch's, Keras' are 1e-3 and 0.01.
    """

    def __init__(
        self,
        n_in: int,
        hidden: Sequence[int],
        n_out: int,
        activation: str = "tanh",
        dropout: float = 0.0,
        input_dropout: float | None = None,
        bn_eps: float = 1e-5,
        bn_momentum: float = 0.1,
    ):
        super().__init__()
        if not hidden:
            raise ValueError("at least one hidden layer is needed")
        self.input_dropout = nn.Dropout(dropout if input_dropout is None else input_dropout)
        sizes = [n_in, *hidden]
        self.blocks = nn.ModuleList(
            Block(a, b, activation, dropout, bn_eps, bn_momentum)
            for a, b in zip(sizes[:-1], sizes[1:], strict=True)
        )
        self.output = nn.Linear(sizes[-1], n_out)

    @property
    def first_linear(self) -> nn.Linear:
        return self.blocks[0].linear

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_from_first(self.first_linear(self.input_dropout(x)))

    def forward_from_first(self, h: torch.Tensor) -> torch.Tensor:
        """Everything after the first Dense layer, from its pre-BatchNorm output."""
        h = self.blocks[0].after_linear(h)
        for block in self.blocks[1:]:
            h = block(h)
        return self.output(h)
