"""The numerical conventions a network trains with: PyTorch's defaults or Keras 2.2.4's.

The paper trained its networks with Keras 2.2.4 on TensorFlow 1.12. Where the two frameworks'
defaults differ, ``numerics = "keras"`` takes Keras':

- Dense layers: Glorot-uniform weights, U(-a, a) with a = sqrt(6 / (fan_in + fan_out)), and
  zero biases (PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for both);
- BatchNorm: epsilon 1e-3 (PyTorch: 1e-5) and moving averages with Keras momentum 0.99
  (PyTorch's convention names the new batch's share: momentum 0.01), zero-debiased as Keras'
  TensorFlow backend did them (``assign_moving_average(..., zero_debias=True)``): the moving
  value after t updates is the exponential average of the t batch statistics started from 0,
  divided by ``1 - 0.99**t``, so the initial 0 / 1 carry no weight (the first update replaces
  them). As a running update that is ``new = (1 - a_t) old + a_t batch`` with
  ``a_t = 0.01 / (1 - 0.99**t)`` (:func:`bn_update_share`). PyTorch: ``a_t = 0.1``;
- Adadelta: rho 0.95, epsilon 1e-7 (PyTorch: 0.9, 1e-6), learning rate 1.0 in both;
- Adam / NAdam: epsilon 1e-7 (PyTorch: 1e-8); SGD's default learning rate 0.01 (here: 1e-3).

The update formulas are the same in both frameworks except Adam's epsilon, which Keras adds
to sqrt(v) before the bias correction (a negligible difference). Keras' moving variance uses
n / (n - 1 - epsilon) for its unbiased correction, PyTorch n / (n - 1): a relative difference
of about 1e-4 at batch size 10, not reproduced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:  # torch is imported where networks are built, not with the settings
    from torch import nn

NumericsName = Literal["torch", "keras"]


@dataclass(frozen=True)
class Numerics:
    """Initialisation, BatchNorm and optimiser constants of one convention."""

    name: str
    glorot_init: bool  # Glorot-uniform Dense weights and zero biases (else PyTorch's default)
    bn_momentum: float  # PyTorch's convention: the share of the new batch statistic
    bn_eps: float
    bn_zero_debias: bool  # Keras/TensorFlow 1's debiased moving averages (see the module doc)
    adadelta_rho: float
    adadelta_eps: float
    adam_eps: float  # Adam and NAdam
    learning_rates: dict[str, float]  # default learning rate per optimiser


NUMERICS: dict[str, Numerics] = {
    "torch": Numerics(
        name="torch",
        glorot_init=False,
        bn_momentum=0.1,
        bn_eps=1e-5,
        bn_zero_debias=False,
        adadelta_rho=0.9,
        adadelta_eps=1e-6,
        adam_eps=1e-8,
        learning_rates={"adadelta": 1.0, "nadam": 2e-3, "adam": 1e-3, "sgd": 1e-3},
    ),
    "keras": Numerics(
        name="keras",
        glorot_init=True,
        bn_momentum=1.0 - 0.99,
        bn_eps=1e-3,
        bn_zero_debias=True,
        adadelta_rho=0.95,
        adadelta_eps=1e-7,
        adam_eps=1e-7,
        learning_rates={"adadelta": 1.0, "nadam": 2e-3, "adam": 1e-3, "sgd": 1e-2},
    ),
}


def get_numerics(name: str) -> Numerics:
    """The convention called ``name``; a clear error names the valid ones."""
    try:
        return NUMERICS[name]
    except KeyError:
        raise ValueError(
            f"unknown numerics {name!r} (expected one of {sorted(NUMERICS)})"
        ) from None


def bn_update_share(numerics: Numerics, t: int | np.ndarray) -> float | np.ndarray:
    """The share of the new batch statistic in BatchNorm's t-th moving-average update (t >= 1):
    the momentum, or with zero-debiasing ``momentum / (1 - (1 - momentum) ** t)``."""
    c = numerics.bn_momentum
    if not numerics.bn_zero_debias:
        return c if np.ndim(t) == 0 else np.full(np.shape(t), c)
    t = np.asarray(t, dtype=np.float64)
    share = c / (1.0 - (1.0 - c) ** np.maximum(t, 1.0))
    return float(share) if share.ndim == 0 else share


def glorot_uniform_(net: nn.Module) -> nn.Module:
    """Keras' Dense initialisation on every ``nn.Linear`` of ``net``: Glorot-uniform weights,
    zero biases. Draws from torch's global generator (seed it first)."""
    import torch
    from torch import nn

    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    m.bias.zero_()
    return net
