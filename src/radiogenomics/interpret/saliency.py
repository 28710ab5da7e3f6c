"""Gene saliency: per patient, how the target class's log-odds responds to each gene.

The gradient of the target's pre-activation output with respect to the standardised input
(METHOD.md section 5), for every patient in one batched forward/backward pass (chunked to a
memory budget), not a per-patient loop: in eval mode each row's output depends on that row
only, so the gradient of the summed outputs is every patient's own gradient.

Target output (pre-activation):
- binary: the network's logit, the log-odds of the positive class (its negation for the
  negative class); both ``output`` values give this;
- multi-class, ``output="logit"`` (default, the paper's): the raw class logit ``l_k``, what
  keras-vis differentiated after swapping the softmax for a linear output;
  ``output="log_odds"``: ``l_k - logsumexp(l_j, j != k)``, the log-odds of class k against the
  others, the quantity whose sigmoid is the class's softmax probability (softmax logits are
  defined only up to a common shift, which moves ``l_k`` but no probability).

Methods: ``absolute`` (|gradient|, the paper's default), ``signed`` and
``integrated_gradients`` (baseline 0 = the training-mean profile, Gauss-Legendre quadrature,
all patients x steps batched). ``scale="minmax"`` maps each patient's values to [0, 1]
(the paper's tool did this per call; it changes no ranking).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from radiogenomics.errors import InputError
from radiogenomics.interpret._engine import (
    DEFAULT_MEMORY_BUDGET_MB,
    eval_mode,
    on_device,
    param_dtype,
    rows_per_chunk,
)
from radiogenomics.interpret._model import ModelView, model_view
from radiogenomics.utils.device import default_device
from radiogenomics.utils.results import HEAD_ROWS, ResultMixin, new_axes, top_bars

METHODS = ("absolute", "signed", "integrated_gradients")
SCALES = ("minmax", None)
OUTPUTS = ("logit", "log_odds")


@dataclass
class SaliencyResult(ResultMixin):
    """Gene saliency of every patient for one or more target classes.

    ``frames`` maps each target class to its genes x patients matrix (what the pipeline writes,
    one file per class); ``table`` is the same in long form (class, gene, patient, saliency).
    """

    TITLE = "Gene saliency"
    SETTINGS = ("classes", "method", "scale", "output", "n_steps", "n_genes", "n_patients")

    frames: dict[str, pd.DataFrame]
    method: str
    scale: str | None
    output: str
    n_steps: int

    @property
    def classes(self) -> list[str]:
        return list(self.frames)

    @property
    def n_genes(self) -> int:
        return len(next(iter(self.frames.values())).index)

    @property
    def n_patients(self) -> int:
        return len(next(iter(self.frames.values())).columns)

    def matrix(self, class_: str | None = None) -> pd.DataFrame:
        """Genes x patients saliency of one target class (default: the only one)."""
        if class_ is None:
            if len(self.frames) != 1:
                raise InputError(
                    f"saliency of {len(self.frames)} classes",
                    field="class_",
                    expected=f"one of {self.classes}",
                )
            return next(iter(self.frames.values()))
        if str(class_) not in self.frames:
            raise InputError(f"class {class_!r}", field="class_", expected=f"one of {self.classes}")
        return self.frames[str(class_)]

    def _long(self, rows: int | None = None) -> pd.DataFrame:
        parts, left = [], rows
        for cls, frame in self.frames.items():
            long = frame.stack().rename("saliency")
            long.index.names = ["gene", "patient"]
            long = long.reset_index().assign(**{"class": cls})
            parts.append(long[["class", "gene", "patient", "saliency"]].head(left))
            if left is not None:
                left -= len(parts[-1])
                if left <= 0:
                    break
        return pd.concat(parts, ignore_index=True)

    @property
    def table(self) -> pd.DataFrame:
        return self._long()

    def _table_preview(self) -> tuple[pd.DataFrame, int]:  # the long table is huge
        return self._long(HEAD_ROWS), self.n_genes * self.n_patients * len(self.frames)

    def plot(self, ax=None, n: int = 20, class_: str | None = None):
        """Bars of the ``n`` genes with the largest mean saliency over the patients, for one
        class (default: the only one); on ``ax`` or a new figure. Returns the Axes."""
        if n < 1:
            raise InputError(f"n={n}", field="n", expected="1 or more")
        mat = self.matrix(class_)
        mean = mat.mean(axis=1).sort_values(ascending=False, kind="stable").iloc[:n]
        ax = new_axes(ax, figsize=(5.0, 1.0 + 0.25 * len(mean)))
        name = class_ if class_ is not None else self.classes[0]
        return top_bars(
            ax, mean.index, mean.to_numpy(), f"mean {self.method} saliency", f"class {name}"
        )


def _target_fn(view: ModelView, cls: str, output: str):
    """The scalar pre-activation output per row for class ``cls``."""
    k = view.classes.index(cls)
    if view.binary:
        sign = 1.0 if k == 1 else -1.0
        return lambda logits: sign * logits[:, 0]
    if output == "logit":
        return lambda logits: logits[:, k]

    others = [j for j in range(view.n_outputs) if j != k]

    def log_odds(logits: torch.Tensor) -> torch.Tensor:
        return logits[:, k] - torch.logsumexp(logits[:, others], dim=1)

    return log_odds


def _gradients(
    network: torch.nn.Module,
    Z: torch.Tensor,
    targets: list,
    rows: int,
) -> list[torch.Tensor]:
    """d target(row) / d input, for every row of Z and every target function; chunked rows."""
    grads = [torch.empty_like(Z) for _ in targets]
    with torch.enable_grad():
        for start in range(0, Z.shape[0], rows):
            zc = Z[start : start + rows].detach().clone().requires_grad_(True)
            logits = network(zc)
            for i, fn in enumerate(targets):
                (g,) = torch.autograd.grad(fn(logits).sum(), zc, retain_graph=i < len(targets) - 1)
                grads[i][start : start + rows] = g
    return grads


def _integrated_gradients(
    network: torch.nn.Module,
    Z: torch.Tensor,
    targets: list,
    rows: int,
    n_steps: int,
) -> list[torch.Tensor]:
    """Integrated gradients from the zero baseline, every (patient, step) pair batched."""
    x, w = np.polynomial.legendre.leggauss(n_steps)
    alphas = torch.as_tensor((x + 1) / 2, dtype=Z.dtype, device=Z.device)
    weights = torch.as_tensor(w / 2, dtype=Z.dtype, device=Z.device)
    per_chunk = max(1, rows // n_steps)
    out = [torch.empty_like(Z) for _ in targets]
    for start in range(0, Z.shape[0], per_chunk):
        zc = Z[start : start + per_chunk]
        path = (alphas[:, None, None] * zc[None, :, :]).reshape(-1, Z.shape[1])
        grads = _gradients(network, path, targets, path.shape[0])
        for i, g in enumerate(grads):
            avg = (weights[:, None, None] * g.view(n_steps, zc.shape[0], -1)).sum(dim=0)
            out[i][start : start + per_chunk] = zc * avg
    return out


def _minmax(a: np.ndarray) -> np.ndarray:
    """Per patient (column) scaling to [0, 1]; a constant column becomes 0."""
    lo = a.min(axis=0, keepdims=True)
    span = a.max(axis=0, keepdims=True) - lo
    return np.where(span > 0, (a - lo) / np.where(span > 0, span, 1.0), 0.0)


def gene_saliency(
    model: object,
    X: pd.DataFrame,
    target: str | None = None,
    method: str = "absolute",
    scale: str | None = "minmax",
    output: str = "logit",
    n_steps: int = 50,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    device: str | torch.device | None = None,
) -> SaliencyResult:
    """Saliency of every model gene for every patient of ``X`` (genes x patients per class).

    ``target`` names a class; by default the positive class of a binary model (one matrix,
    ``result.matrix()``) or every class of a multi-class model, one vs the others
    (``result.frames``: class -> genes x patients).
    ``method`` is "absolute" (default, the paper's), "signed" or "integrated_gradients";
    ``scale`` "minmax" (per patient, default) or None (raw values, keep it for signed output).
    ``output`` is what a multi-class model differentiates: "logit" (default, the paper's: the
    class's pre-softmax output) or "log_odds" (the class against the others); a binary model's
    logit is its log-odds, so both give the same there.
    """
    if method not in METHODS:
        raise InputError(f"method={method!r}", field="method", expected=f"one of {METHODS}")
    if scale not in SCALES:
        raise InputError(f"scale={scale!r}", field="scale", expected="'minmax' or None")
    if output not in OUTPUTS:
        raise InputError(f"output={output!r}", field="output", expected=f"one of {OUTPUTS}")
    if n_steps < 1:
        raise InputError(f"n_steps={n_steps}", field="n_steps", expected="1 or more")
    view = model_view(model)
    if target is None:
        classes = list(view.scored_classes)
    elif str(target) in view.classes:
        classes = [str(target)]
    else:
        raise InputError(
            f"target {target!r} is not a class of the model {list(view.classes)}",
            field="target",
            expected="one of the model's classes",
        )
    if not isinstance(X, pd.DataFrame) or len(X) == 0:
        raise InputError("expression must be a non-empty patients x genes DataFrame", field="X")
    dev = default_device(None if device is None else str(device))
    network = on_device(view.network, dev)
    Z = view.standardise(X, dev)
    targets = [_target_fn(view, c, output) for c in classes]
    itemsize = torch.finfo(param_dtype(network)).bits // 8
    # rows per chunk: activations kept for backward plus the input and its gradient
    per_row_mb = 2 * Z.shape[1] * itemsize / 2**20
    rows = max(1, rows_per_chunk(network, memory_budget_mb) // 2)
    rows = max(1, min(rows, int(memory_budget_mb / max(per_row_mb, 1e-9) / 2)))
    with eval_mode(network):
        if method == "integrated_gradients":
            values = _integrated_gradients(network, Z, targets, rows, n_steps)
        else:
            values = _gradients(network, Z, targets, rows)
    out = {}
    for cls, v in zip(classes, values, strict=True):
        a = v.detach().cpu().double().numpy().T  # genes x patients
        if method == "absolute":
            a = np.abs(a)
        if scale == "minmax":
            a = _minmax(a)
        out[cls] = pd.DataFrame(a, index=list(view.genes), columns=list(X.index))
    return SaliencyResult(frames=out, method=method, scale=scale, output=output, n_steps=n_steps)
