"""Training engines over arrays: one network at a time (plain loop) or K networks batched.

Both engines run the same algorithm and draw the same random numbers, so they give the same
networks (within float tolerance):

- initialisation: ``MLP`` built under ``torch.manual_seed(derive_seed(seed, "init"))``, then the
  transferred encoder Dense layers copied in;
- each epoch, from a per-network CPU generator seeded ``derive_seed(seed, "train")``: one
  permutation of the training patients, then (when any dropout is on) one uniform matrix with a
  row per patient (in epoch order) and a column per dropped-out unit (input genes, then each
  hidden layer); minibatches are consecutive ``batch_size`` slices of the permutation, a trailing
  batch of one patient merged into the previous one (BatchNorm needs two);
- loss: class-balanced weighted cross-entropy (binary or multi-class) or MAE (autoencoder),
  averaged over the minibatch;
- the Dense biases feeding BatchNorm are not trained: BatchNorm subtracts them again, so their
  true gradient is exactly 0 and the computed one is rounding noise that Adam-type optimisers
  would turn into a random walk (felt through the running means at evaluation);
- early stopping after every epoch on the validation metric (ROC AUC, micro-averaged for
  multi-class; mean per-gene R^2 for the autoencoder), strict improvement, ``patience`` epochs,
  best weights restored.

``NetSpec.numerics`` ("torch" or "keras", :mod:`radiogenomics.models.numerics`) sets the
initialisation, the BatchNorm momentum and epsilon and the optimisers' constants; both engines
read them from there.

The batched engine stacks the K networks' parameters (``(K, out, in)`` weights, batched matmuls),
pads the folds' data to a common size with row masks, and runs its own per-network optimiser
(Adadelta, Adam, NAdam, SGD with PyTorch's update rules) so a network that has no minibatch at a
step, or has stopped, is left untouched. Stopped networks are dropped from the stack. A frozen
first Dense layer without input dropout is applied once to every patient before training.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from radiogenomics.models.network import MLP
from radiogenomics.models.numerics import (
    Numerics,
    bn_update_share,
    get_numerics,
    glorot_uniform_,
)
from radiogenomics.utils.seeding import derive_seed

# Stacked tensors larger than this (1 MiB of float32) are updated one network at a time: each
# pass of the multi-pass elementwise update then runs on a cache-sized slice, and the update's
# temporaries stay the size of one network's tensor (paper-scale memory).
_CHUNK = 1 << 18
KINDS = ("binary", "multiclass", "autoencoder")


@dataclass(frozen=True)
class NetSpec:
    """Everything the engines need to know about one network and how to train it."""

    n_in: int
    hidden: tuple[int, ...]
    n_out: int
    kind: str  # binary | multiclass | autoencoder
    activation: str = "tanh"
    dropout: float = 0.0
    p_input: float = 0.0
    optimizer: str = "adadelta"
    lr: float = 1.0
    batch_size: int = 10
    max_epochs: int = 500
    patience: int = 200
    frozen_layers: int = 0  # leading Dense layers kept fixed
    numerics: str = "torch"  # torch | keras (radiogenomics.models.numerics)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r} (expected one of {KINDS})")
        get_numerics(self.numerics)

    @property
    def constants(self) -> Numerics:
        return get_numerics(self.numerics)


@dataclass
class FoldData:
    """One network's training (and optional validation) arrays, already standardised.

    ``y``: 0/1 for binary, class index for multi-class, ignored for the autoencoder (the target
    is the input). ``weights``: per training patient (class-balanced); None means 1.
    """

    Z_train: np.ndarray
    y_train: np.ndarray | None = None
    Z_val: np.ndarray | None = None
    y_val: np.ndarray | None = None
    weights: np.ndarray | None = None
    seed: int = 0
    transfer: Sequence[tuple[np.ndarray, np.ndarray]] = ()  # (W, b) of leading Dense layers
    epochs: int | None = None  # fixed epochs without validation (retraining)


@dataclass
class FitResult:
    network: MLP  # eval mode, CPU, best weights
    best_epoch: int
    history: dict[str, list[float]] = field(default_factory=dict)  # loss, val_metric per epoch


# ----------------------------------------------------------------------------- shared pieces


def balanced_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Class-balanced sample weights n / (C * n_c) (scikit-learn's "balanced")."""
    y = np.asarray(y, dtype=np.int64)
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    present = counts > 0
    w_class = np.zeros(n_classes)
    w_class[present] = len(y) / (present.sum() * counts[present])
    return w_class[y].astype(np.float32)


def init_network(
    spec: NetSpec, seed: int, transfer: Sequence[tuple[np.ndarray, np.ndarray]] = ()
) -> MLP:
    """The network at initialisation: seeded layers, then transferred encoder Dense layers."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(derive_seed(seed, "init"))
        net = build_network(spec)
        if spec.constants.glorot_init:
            glorot_uniform_(net)
    with torch.no_grad():
        for block, (W, b) in zip(net.blocks, transfer, strict=False):
            W = torch.as_tensor(np.asarray(W), dtype=torch.float32)
            if tuple(W.shape) != tuple(block.linear.weight.shape):
                raise ValueError(
                    f"transferred layer has shape {tuple(W.shape)}, "
                    f"expected {tuple(block.linear.weight.shape)}"
                )
            block.linear.weight.copy_(W)
            block.linear.bias.copy_(torch.as_tensor(np.asarray(b), dtype=torch.float32))
    return net


def build_network(spec: NetSpec) -> MLP:
    """An ``MLP`` of ``spec``'s shape with its numerics' BatchNorm constants (PyTorch init)."""
    c = spec.constants
    return MLP(
        spec.n_in,
        spec.hidden,
        spec.n_out,
        activation=spec.activation,
        dropout=spec.dropout,
        input_dropout=spec.p_input,
        bn_eps=c.bn_eps,
        bn_momentum=c.bn_momentum,
    )


def batch_bounds(n: int, batch_size: int) -> list[tuple[int, int]]:
    """Consecutive minibatch slices of an epoch; a trailing batch of one joins the previous."""
    bounds = [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]
    if len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1:
        bounds[-2] = (bounds[-2][0], n)
        bounds.pop()
    return bounds


def dropout_widths(spec: NetSpec, n_in: int) -> list[int]:
    """Columns of the epoch's uniform matrix: input genes (if dropped out), then hidden layers."""
    widths = [n_in if spec.p_input > 0 else 0]
    widths += [h if spec.dropout > 0 else 0 for h in spec.hidden]
    return widths


def epoch_draws(
    n: int, widths: Sequence[int], gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """This epoch's patient order and dropout uniforms (rows in epoch order)."""
    perm = torch.randperm(n, generator=gen)
    total = int(sum(widths))
    U = torch.rand(n, total, generator=gen) if total else None
    return perm, U


def _keep_masks(U: torch.Tensor | None, widths: Sequence[int], rates: Sequence[float]):
    """Split uniforms into scaled keep-masks per layer (None where the rate is 0)."""
    masks: list[torch.Tensor | None] = []
    start = 0
    for w, p in zip(widths, rates, strict=True):
        if w and p > 0:
            assert U is not None
            masks.append((U[..., start : start + w] >= p).float().mul_(1.0 / (1.0 - p)))
        else:
            masks.append(None)
        start += w
    return masks


def auc_batched(scores: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """ROC AUC of each row (ties count half); ``labels`` 0/1, ``mask`` marks real entries.

    Micro-averaged multi-class AUC is this over the flattened one-hot labels and probabilities.
    A row without both classes gets NaN.
    """
    pos = (labels > 0.5) & mask
    neg = (labels <= 0.5) & mask
    d = scores.unsqueeze(2) - scores.unsqueeze(1)  # (K, i, j): s_i - s_j
    wins = (d > 0).float() + 0.5 * (d == 0).float()
    pair = pos.unsqueeze(2).float() * neg.unsqueeze(1).float()
    n_pairs = pos.sum(1).float() * neg.sum(1).float()
    return (wins * pair).sum((1, 2)) / n_pairs.where(n_pairs > 0, torch.nan)


def r2_batched(pred: torch.Tensor, target: torch.Tensor, rowmask: torch.Tensor, genemask=None):
    """Mean per-gene R^2 of each network's validation patients (genes without spread skipped)."""
    m = rowmask.unsqueeze(2).float()
    cnt = m.sum(1, keepdim=True).clamp_min(1.0)
    mean = (target * m).sum(1, keepdim=True) / cnt
    ss_tot = (((target - mean) * m) ** 2).sum(1)
    ss_res = (((target - pred) * m) ** 2).sum(1)
    ok = ss_tot > 1e-12
    if genemask is not None:
        ok = ok & genemask
    r2 = torch.where(ok, 1.0 - ss_res / ss_tot.where(ok, 1.0), 0.0)
    return r2.sum(1) / ok.sum(1).clamp_min(1)


def _val_metric(spec: NetSpec, out: torch.Tensor, target: torch.Tensor, rowmask, genemask=None):
    """(K,) validation metric from (K, V, n_out) outputs."""
    if spec.kind == "autoencoder":
        return r2_batched(out, target, rowmask, genemask)
    if spec.kind == "binary":
        return auc_batched(out[..., 0], target.float(), rowmask)
    probs = torch.softmax(out, dim=-1)
    onehot = F.one_hot(target.long().clamp_min(0), spec.n_out).float()
    K = out.shape[0]
    m = rowmask.unsqueeze(2).expand_as(probs)
    return auc_batched(probs.reshape(K, -1), onehot.reshape(K, -1), m.reshape(K, -1))


def _sample_losses(spec: NetSpec, out: torch.Tensor, target: torch.Tensor, genemask=None):
    """Per-patient loss, shape (..., B)."""
    if spec.kind == "binary":
        return F.binary_cross_entropy_with_logits(out[..., 0], target.float(), reduction="none")
    if spec.kind == "multiclass":
        flat = F.cross_entropy(
            out.reshape(-1, out.shape[-1]), target.reshape(-1).long().clamp_min(0), reduction="none"
        )
        return flat.reshape(target.shape)
    err = (out - target).abs()
    if genemask is None:
        return err.mean(-1)
    gm = genemask.unsqueeze(-2).float()
    return (err * gm).sum(-1) / gm.sum(-1).clamp_min(1.0)


def _check_fold(spec: NetSpec, d: FoldData) -> None:
    if d.Z_train.ndim != 2 or d.Z_train.shape[0] < 2:
        raise ValueError(f"need at least 2 training patients, got shape {d.Z_train.shape}")
    if (d.Z_val is None) != (d.epochs is not None):
        raise ValueError("give either validation data (early stopping) or a fixed epoch count")
    if spec.kind != "autoencoder" and d.y_train is None:
        raise ValueError("a classifier needs y_train")


# ----------------------------------------------------------------------------- plain engine


def _plain_forward(net: MLP, x: torch.Tensor, masks, from_first: bool = False) -> torch.Tensor:
    """Training-mode forward with explicit dropout masks (``from_first``: x is the 1st Dense)."""
    if from_first:
        h = x
    else:
        if masks[0] is not None:
            x = x * masks[0]
        h = net.first_linear(x)
    for i, block in enumerate(net.blocks):
        if i > 0:
            h = block.linear(h)
        h = block.act(block.norm(h))
        if masks[i + 1] is not None:
            h = h * masks[i + 1]
    return net.output(h)


def _plain_optimizer(spec: NetSpec, params) -> torch.optim.Optimizer:
    c = spec.constants
    if spec.optimizer == "adadelta":
        return torch.optim.Adadelta(params, lr=spec.lr, rho=c.adadelta_rho, eps=c.adadelta_eps)
    if spec.optimizer == "adam":
        return torch.optim.Adam(params, lr=spec.lr, eps=c.adam_eps)
    if spec.optimizer == "nadam":
        return torch.optim.NAdam(params, lr=spec.lr, eps=c.adam_eps)
    if spec.optimizer == "sgd":
        return torch.optim.SGD(params, lr=spec.lr)
    raise ValueError(f"unknown optimizer {spec.optimizer!r}")


def train_plain(
    spec: NetSpec,
    data: FoldData,
    device: torch.device | str = "cpu",
    precompute_frozen: bool = True,
) -> FitResult:
    """Train one network with ``torch.nn`` modules and ``torch.optim`` (the reference engine)."""
    _check_fold(spec, data)
    device = torch.device(device)
    n_in = data.Z_train.shape[1]
    spec_k = NetSpec(**{**spec.__dict__, "n_in": n_in, "n_out": _n_out(spec, n_in)})
    net = init_network(spec_k, data.seed, data.transfer).to(device)
    for block in net.blocks[: spec.frozen_layers]:
        block.linear.requires_grad_(False)
    for block in net.blocks:  # BatchNorm cancels this bias: its true gradient is exactly 0
        block.linear.bias.requires_grad_(False)
    opt = _plain_optimizer(spec, [p for p in net.parameters() if p.requires_grad])
    gen = torch.Generator().manual_seed(derive_seed(data.seed, "train"))
    X = torch.as_tensor(data.Z_train, dtype=torch.float32, device=device)
    ae = spec.kind == "autoencoder"
    Y = X if ae else torch.as_tensor(data.y_train, device=device)
    w = torch.as_tensor(
        np.ones(len(X), np.float32) if data.weights is None else data.weights, device=device
    ).float()
    has_val = data.Z_val is not None
    if has_val:
        Xv = torch.as_tensor(data.Z_val, dtype=torch.float32, device=device)
        Yv = Xv if ae else torch.as_tensor(data.y_val, device=device)
    pre = precompute_frozen and spec.frozen_layers >= 1 and spec.p_input == 0
    if pre:
        with torch.no_grad():
            X_in = net.first_linear(X)
            Xv_in = net.first_linear(Xv) if has_val else None
    else:
        X_in, Xv_in = X, (Xv if has_val else None)
    widths = dropout_widths(spec, n_in)
    rates = [spec.p_input] + [spec.dropout] * len(spec.hidden)
    n_epochs = spec.max_epochs if has_val else int(data.epochs)
    debias = spec.constants.bn_zero_debias
    best, best_epoch, wait = -math.inf, 0, 0
    best_state = None
    history: dict[str, list[float]] = {"loss": [], "val_metric": []}
    for epoch in range(1, n_epochs + 1):
        net.train()
        perm, U = epoch_draws(len(X), widths, gen)
        perm = perm.to(device)
        masks_all = _keep_masks(U.to(device) if U is not None else None, widths, rates)
        total = 0.0
        for s, e in batch_bounds(len(X), spec.batch_size):
            idx = perm[s:e]
            masks = [None if m is None else m[s:e] for m in masks_all]
            if debias:  # this update's share of the batch statistic (Keras' zero-debiasing)
                t = int(net.blocks[0].norm.num_batches_tracked) + 1
                for block in net.blocks:
                    block.norm.momentum = bn_update_share(spec.constants, t)
            out = _plain_forward(net, X_in[idx], masks, from_first=pre)
            losses = _sample_losses(spec, out, Y[idx])
            loss = (losses * w[idx]).sum() / (e - s)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * (e - s)
        history["loss"].append(total / len(X))
        if not has_val:
            continue
        net.eval()
        with torch.no_grad():
            out = net.forward_from_first(Xv_in) if pre else net(Xv_in)
            rowmask = torch.ones(1, len(Xv), dtype=torch.bool, device=device)
            metric = float(_val_metric(spec, out.unsqueeze(0), Yv.unsqueeze(0), rowmask)[0])
        history["val_metric"].append(metric)
        if metric > best:
            best, best_epoch, wait = metric, epoch, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            wait += 1
            if wait >= spec.patience:
                break
    if has_val:
        if best_state is None:  # the metric was NaN throughout
            best_epoch = len(history["loss"])
        else:
            net.load_state_dict(best_state)
    else:
        best_epoch = n_epochs
    net = net.cpu().eval()
    for p in net.parameters():
        p.requires_grad_(True)
    for block in net.blocks:  # the nominal momentum, as a freshly built network has it
        block.norm.momentum = spec.constants.bn_momentum
    return FitResult(network=net, best_epoch=best_epoch, history=history)


def _n_out(spec: NetSpec, n_in: int) -> int:
    return n_in if spec.kind == "autoencoder" else spec.n_out


# ----------------------------------------------------------------------------- batched engine


class StackedOptimizer:
    """PyTorch's Adadelta / Adam / NAdam / SGD updates on stacked (K, ...) parameters.

    Each network keeps its own step count; ``step(active)`` updates only the active networks.
    """

    def __init__(
        self,
        name: str,
        lr: float,
        params: list[torch.Tensor],
        K: int,
        numerics: Numerics | None = None,
    ):
        self.name, self.lr = name, lr
        self.numerics = numerics or get_numerics("torch")
        self.steps = np.zeros(K, dtype=np.float64)
        self.mu_product = np.ones(K, dtype=np.float64)
        n_states = {"adadelta": 2, "adam": 2, "nadam": 2, "sgd": 0}[name]
        self.state = [[torch.zeros_like(p) for _ in range(n_states)] for p in params]
        self._scratch: dict[tuple, tuple[torch.Tensor, torch.Tensor]] = {}
        self._keep_scratch = False

    def select(self, keep: torch.Tensor) -> None:
        k = keep.cpu().numpy()
        self.steps, self.mu_product = self.steps[k], self.mu_product[k]
        self.state = [[s[keep] for s in st] for st in self.state]
        self._scratch.clear()

    @torch.no_grad()
    def step(self, params: list[torch.Tensor], active: np.ndarray) -> None:
        if not active.any():
            return
        self.steps[active] += 1
        on = np.flatnonzero(active)
        if self.name == "adam" and hasattr(torch, "_fused_adam_"):
            self._fused_adam(params, on)
            return
        t = self.steps[active]
        coef = self._coefficients(t, active)
        full = len(on) == len(active)
        idx = None if full else torch.as_tensor(on, device=params[0].device)
        for p, st in zip(params, self.state, strict=True):
            g = p.grad
            if full and p.numel() <= _CHUNK:
                self._keep_scratch = True
                self._update(p, g, st, coef)
                self._keep_scratch = False
            elif p.numel() > _CHUNK:
                # large stacked tensors: one network at a time (in-place views), so the
                # update's temporaries stay the size of one network's tensor
                self._keep_scratch = True
                for j, k in enumerate(on):
                    c = {name: v[j : j + 1] for name, v in coef.items()}
                    self._update(p[k : k + 1], g[k : k + 1], [s[k : k + 1] for s in st], c)
                self._keep_scratch = False
            else:
                sub_p, sub_g, sub_st = p[idx], g[idx], [s[idx] for s in st]
                self._update(sub_p, sub_g, sub_st, coef)
                p[idx] = sub_p
                for s, ss in zip(st, sub_st, strict=True):
                    s[idx] = ss

    def _fused_adam(self, params: list[torch.Tensor], on: np.ndarray) -> None:
        """PyTorch's fused Adam kernel over every active network's slices (one pass)."""
        steps = [torch.tensor(float(self.steps[k]), device=params[0].device) for k in on]
        ps, gs, ms, vs, ts = [], [], [], [], []
        for p, (m, v) in zip(params, self.state, strict=True):
            for j, k in enumerate(on):
                ps.append(p[k])
                gs.append(p.grad[k])
                ms.append(m[k])
                vs.append(v[k])
                ts.append(steps[j])
        torch._fused_adam_(
            ps,
            gs,
            ms,
            vs,
            [],
            ts,
            amsgrad=False,
            lr=self.lr,
            beta1=0.9,
            beta2=0.999,
            weight_decay=0.0,
            eps=self.numerics.adam_eps,
            maximize=False,
        )

    def _coefficients(self, t: np.ndarray, active: np.ndarray) -> dict[str, np.ndarray]:
        lr = self.lr
        if self.name == "adam":
            b1, b2 = 0.9, 0.999
            return {"step_size": lr / (1 - b1**t), "bc2_sqrt": np.sqrt(1 - b2**t)}
        if self.name == "nadam":
            b1, b2, md = 0.9, 0.999, 4e-3
            mu = b1 * (1.0 - 0.5 * 0.96 ** (t * md))
            mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * md))
            self.mu_product[active] *= mu
            mp = self.mu_product[active]
            return {
                "bc2": 1 - b2**t,
                "c_grad": -lr * (1.0 - mu) / (1.0 - mp),
                "c_avg": -lr * mu_next / (1.0 - mp * mu_next),
            }
        return {}

    def _update(self, p, g, st, coef) -> None:
        def col(a: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(a, dtype=p.dtype, device=p.device).reshape(
                -1, *([1] * (p.ndim - 1))
            )

        if self.name == "sgd":
            p.add_(g, alpha=-self.lr)
        elif self.name == "adadelta":
            rho, eps = self.numerics.adadelta_rho, self.numerics.adadelta_eps
            sq, acc = st
            sq.mul_(rho).addcmul_(g, g, value=1 - rho)
            # reuse two scratch tensors of this shape (no large allocation per step)
            key = (tuple(p.shape), p.dtype, p.device)
            if key in self._scratch:
                std, delta = self._scratch[key]
            else:
                std, delta = torch.empty_like(p), torch.empty_like(p)
                if self._keep_scratch:
                    self._scratch[key] = (std, delta)
            # delta = sqrt((acc + eps) / (sq + eps)) * g, in as few passes as possible
            torch.add(sq, eps, out=std)
            torch.add(acc, eps, out=delta).div_(std).sqrt_().mul_(g)
            acc.mul_(rho).addcmul_(delta, delta, value=1 - rho)
            p.add_(delta, alpha=-self.lr)
        elif self.name == "adam":
            m, v = st
            m.lerp_(g, 0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            denom = (v.sqrt() / col(coef["bc2_sqrt"])).add_(self.numerics.adam_eps)
            p.add_(m / denom * col(coef["step_size"]).neg())
        elif self.name == "nadam":
            m, v = st
            m.lerp_(g, 0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            denom = v.div(col(coef["bc2"])).sqrt_().add_(self.numerics.adam_eps)
            p.add_(g / denom * col(coef["c_grad"]))
            p.add_(m / denom * col(coef["c_avg"]))
        else:  # pragma: no cover - validated by the config
            raise ValueError(self.name)


class _Stack:
    """The K networks' parameters and buffers as stacked tensors."""

    def __init__(self, nets: list[MLP], P: int, gene_pos: list[np.ndarray], device, spec):
        L = len(spec.hidden)
        self.L = L
        # weights are stored transposed, (K, in, out): x @ W needs no transpose, and the weight
        # gradient x^T @ delta comes out contiguous
        W0 = torch.zeros(len(nets), P, spec.hidden[0])
        for k, (net, pos) in enumerate(zip(nets, gene_pos, strict=True)):
            W0[k][torch.as_tensor(pos)] = net.first_linear.weight.detach().T
        self.W = [W0] + [
            torch.stack([n.blocks[i].linear.weight.detach().T for n in nets]).contiguous()
            for i in range(1, L)
        ]
        self.b = [torch.stack([n.blocks[i].linear.bias.detach() for n in nets]) for i in range(L)]
        self.gamma = [
            torch.stack([n.blocks[i].norm.weight.detach() for n in nets]) for i in range(L)
        ]
        self.beta = [torch.stack([n.blocks[i].norm.bias.detach() for n in nets]) for i in range(L)]
        self.rm = [torch.stack([n.blocks[i].norm.running_mean for n in nets]) for i in range(L)]
        self.rv = [torch.stack([n.blocks[i].norm.running_var for n in nets]) for i in range(L)]
        if spec.kind == "autoencoder":
            Wo = torch.zeros(len(nets), spec.hidden[-1], P)
            bo = torch.zeros(len(nets), P)
            for k, (net, pos) in enumerate(zip(nets, gene_pos, strict=True)):
                Wo[k][:, torch.as_tensor(pos)] = net.output.weight.detach().T
                bo[k][torch.as_tensor(pos)] = net.output.bias.detach()
            self.Wo, self.bo = Wo, bo
        else:
            self.Wo = torch.stack([n.output.weight.detach().T for n in nets]).contiguous()
            self.bo = torch.stack([n.output.bias.detach() for n in nets])
        self.nbt = torch.zeros(len(nets), L, dtype=torch.long)  # BatchNorm's num_batches_tracked
        self.numerics = spec.constants
        self.bn_eps = spec.constants.bn_eps
        for name in ("W", "b", "gamma", "beta", "rm", "rv"):
            setattr(self, name, [t.to(device) for t in getattr(self, name)])  # fresh stacks
        self.Wo, self.bo = self.Wo.to(device), self.bo.to(device)
        trainable = [True] * L
        for i in range(spec.frozen_layers):
            trainable[i] = False
        self.trainable = trainable
        for i in range(L):
            self.W[i].requires_grad_(trainable[i])
            self.b[i].requires_grad_(False)  # cancelled by BatchNorm (see train_plain)
            self.gamma[i].requires_grad_(True)
            self.beta[i].requires_grad_(True)
        self.Wo.requires_grad_(True)
        self.bo.requires_grad_(True)

    def params(self) -> list[torch.Tensor]:
        out = []
        for i in range(self.L):
            if self.trainable[i]:
                out.append(self.W[i])
            out += [self.gamma[i], self.beta[i]]
        return out + [self.Wo, self.bo]

    def tensors(self) -> dict[str, torch.Tensor]:
        d = {}
        for i in range(self.L):
            d |= {f"W{i}": self.W[i], f"b{i}": self.b[i], f"g{i}": self.gamma[i]}
            d |= {f"be{i}": self.beta[i], f"rm{i}": self.rm[i], f"rv{i}": self.rv[i]}
        return d | {"Wo": self.Wo, "bo": self.bo}

    def select(self, keep: torch.Tensor) -> None:
        def sel(t: torch.Tensor) -> torch.Tensor:
            return t.detach()[keep].requires_grad_(t.requires_grad)

        for name in ("W", "b", "gamma", "beta", "rm", "rv"):
            setattr(self, name, [sel(t) for t in getattr(self, name)])
        self.Wo, self.bo = sel(self.Wo), sel(self.bo)
        self.nbt = self.nbt[keep.cpu()]

    def _update_share(self, like: torch.Tensor) -> float | torch.Tensor:
        """The new batch statistic's share in this step's moving averages: the momentum, or
        per network from its own update count when zero-debiased (``nbt`` counts the updates
        done before this step)."""
        if not self.numerics.bn_zero_debias:
            return self.numerics.bn_momentum
        share = bn_update_share(self.numerics, self.nbt[:, 0].numpy() + 1)
        return torch.as_tensor(share, dtype=like.dtype, device=like.device).view(-1, 1)

    def first(self, x: torch.Tensor) -> torch.Tensor:
        return torch.baddbmm(self.b[0].unsqueeze(1), x, self.W[0])

    def forward(self, x, masks=None, rowmask=None, cnt=None, active=None, from_first=False):
        """Training forward when ``rowmask`` is given (batch statistics), else evaluation."""
        train = rowmask is not None
        if train and masks[0] is not None and not from_first:
            x = x * masks[0]
        h = x if from_first else self.first(x)
        for i in range(self.L):
            if i > 0:
                h = torch.baddbmm(self.b[i].unsqueeze(1), h, self.W[i])
            if train:
                m = rowmask.unsqueeze(2)
                mean = (h * m).sum(1, keepdim=True) / cnt
                diff = (h - mean) * m
                var = (diff * diff).sum(1, keepdim=True) / cnt
                with torch.no_grad():
                    a = active.view(-1, 1)
                    unbiased = var.squeeze(1) * (cnt.view(-1, 1) / (cnt.view(-1, 1) - 1))
                    mom = self._update_share(h)
                    new_rm = self.rm[i] * (1 - mom) + mom * mean.squeeze(1)
                    new_rv = self.rv[i] * (1 - mom) + mom * unbiased
                    self.rm[i] = torch.where(a, new_rm, self.rm[i])
                    self.rv[i] = torch.where(a, new_rv, self.rv[i])
                h = (h - mean) * torch.rsqrt(var + self.bn_eps)
            else:
                rv = self.rv[i].unsqueeze(1)
                h = (h - self.rm[i].unsqueeze(1)) * torch.rsqrt(rv + self.bn_eps)
            h = h * self.gamma[i].unsqueeze(1) + self.beta[i].unsqueeze(1)
            h = _ACT[self.act](h)
            if train and masks[i + 1] is not None:
                h = h * masks[i + 1]
        return torch.baddbmm(self.bo.unsqueeze(1), h, self.Wo)


_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}


def _pad_stack(arrays: list[np.ndarray], dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(len(a) for a in arrays)
    shape = (len(arrays), n, *arrays[0].shape[1:])
    out = torch.zeros(shape, dtype=dtype)
    mask = torch.zeros(len(arrays), n, dtype=torch.bool)
    for k, a in enumerate(arrays):
        out[k, : len(a)] = torch.as_tensor(np.asarray(a), dtype=dtype)
        mask[k, : len(a)] = True
    return out, mask


def _embed(Z: np.ndarray, pos: np.ndarray, P: int) -> np.ndarray:
    if Z.shape[1] == P:
        return Z
    out = np.zeros((Z.shape[0], P), dtype=np.float32)
    out[:, pos] = Z
    return out


def train_batched(
    spec: NetSpec,
    folds: Sequence[FoldData],
    gene_pos: Sequence[np.ndarray] | None = None,
    n_genes: int | None = None,
    device: torch.device | str = "cpu",
    precompute_frozen: bool = True,
) -> list[FitResult]:
    """Train K networks together as one stacked model; the same results as :func:`train_plain`.

    Fold k's arrays may cover a subset of ``n_genes`` input genes (a gene constant in its
    training patients is dropped by its scaler): ``gene_pos[k]`` gives their positions. All
    folds either have validation data (early stopping) or the same fixed epoch count.
    """
    K = len(folds)
    if K == 0:
        return []
    for d in folds:
        _check_fold(spec, d)
    device = torch.device(device)
    ae = spec.kind == "autoencoder"
    if gene_pos is None:
        P = folds[0].Z_train.shape[1]
        gene_pos = [np.arange(P)] * K
    else:
        P = int(n_genes) if n_genes is not None else int(max(int(p.max()) for p in gene_pos) + 1)
    for d, pos in zip(folds, gene_pos, strict=True):
        if d.Z_train.shape[1] != len(pos):
            raise ValueError("each fold's gene positions must match its columns")
    has_val = folds[0].Z_val is not None
    if any((d.Z_val is not None) != has_val for d in folds):
        raise ValueError("all folds must have validation data, or none")
    if not has_val and len({int(d.epochs) for d in folds}) != 1:
        raise ValueError("all folds must train for the same fixed epoch count")

    nets, specs_k = [], []
    for d in folds:
        n_in = d.Z_train.shape[1]
        sk = NetSpec(**{**spec.__dict__, "n_in": n_in, "n_out": _n_out(spec, n_in)})
        specs_k.append(sk)
        nets.append(init_network(sk, d.seed, d.transfer))
    st = _Stack(nets, P, list(gene_pos), device, spec)
    st.act = spec.activation
    del nets

    Xtr, _ = _pad_stack([_embed(d.Z_train, p, P) for d, p in zip(folds, gene_pos, strict=True)])
    n_train = np.array([len(d.Z_train) for d in folds])
    if ae:
        Ytr = None
    else:
        Ytr, _ = _pad_stack([np.asarray(d.y_train) for d in folds], dtype=torch.long)
        Ytr = Ytr.to(device)
    Wtr, _ = _pad_stack(
        [np.ones(len(d.Z_train), np.float32) if d.weights is None else d.weights for d in folds]
    )
    Xtr, Wtr = Xtr.to(device), Wtr.to(device)
    genemask = None
    if ae:
        gm = torch.zeros(K, P, dtype=torch.bool)
        for k, pos in enumerate(gene_pos):
            gm[k, torch.as_tensor(pos)] = True
        genemask = gm.to(device)
    if has_val:
        Xv, vmask = _pad_stack(
            [_embed(d.Z_val, p, P) for d, p in zip(folds, gene_pos, strict=True)]
        )
        Xv, vmask = Xv.to(device), vmask.to(device)
        Yv = (
            Xv if ae else _pad_stack([np.asarray(d.y_val) for d in folds], torch.long)[0].to(device)
        )
    pre = precompute_frozen and spec.frozen_layers >= 1 and spec.p_input == 0
    if pre:
        with torch.no_grad():
            Htr = st.first(Xtr)
            Hv = st.first(Xv) if has_val else None
    gens = [torch.Generator().manual_seed(derive_seed(d.seed, "train")) for d in folds]
    params = st.params()
    opt = StackedOptimizer(spec.optimizer, spec.lr, params, K, spec.constants)
    rates = [spec.p_input] + [spec.dropout] * len(spec.hidden)
    widths_k = [dropout_widths(spec, s.n_in) for s in specs_k]
    n_epochs = spec.max_epochs if has_val else int(folds[0].epochs)

    alive = np.arange(K)  # original fold index of each stacked slot
    best = np.full(K, -np.inf)
    best_epoch = np.zeros(K, dtype=np.int64)
    wait = np.zeros(K, dtype=np.int64)
    best_state: list[dict[str, torch.Tensor] | None] = [None] * K
    final_state: list[dict[str, torch.Tensor] | None] = [None] * K
    histories = [{"loss": [], "val_metric": []} for _ in range(K)]
    arangeK = torch.arange(K, device=device)

    for epoch in range(1, n_epochs + 1):
        Ka = len(alive)
        # this epoch's draws, per network, from its own generator
        plans = [batch_bounds(int(n_train[k]), spec.batch_size) for k in alive]
        n_steps = max(len(p) for p in plans)
        bmax = max(e - s for p in plans for s, e in p)
        idx = torch.zeros(Ka, n_steps, bmax, dtype=torch.long)
        rows = torch.zeros(Ka, n_steps, bmax, dtype=torch.bool)
        mask_parts: list[list[torch.Tensor | None]] = []
        for j, k in enumerate(alive):
            n_k = int(n_train[k])
            perm, U = epoch_draws(n_k, widths_k[k], gens[k])
            # epoch position of each (step, slot); padding points at an extra zero row
            where = torch.full((n_steps, bmax), n_k, dtype=torch.long)
            for s_i, (s, e) in enumerate(plans[j]):
                where[s_i, : e - s] = torch.arange(s, e)
            real = where < n_k
            rows[j] = real
            idx[j] = torch.cat([perm, perm.new_zeros(1)])[where]
            laid: list[torch.Tensor | None] = []
            for m in _keep_masks(U, widths_k[k], rates):
                if m is None:
                    laid.append(None)
                    continue
                m = torch.cat([m, m.new_zeros(1, m.shape[1])])[where]
                if len(laid) == 0 and m.shape[-1] != P:
                    full = m.new_zeros(n_steps, bmax, P)
                    full[..., torch.as_tensor(gene_pos[k])] = m
                    m = full
                laid.append(m)
            mask_parts.append(laid)
        masks_ep = []
        for layer in range(len(rates)):
            if mask_parts[0][layer] is None:
                masks_ep.append(None)
            else:
                masks_ep.append(torch.stack([mp[layer] for mp in mask_parts]).to(device))
        idx, rows = idx.to(device), rows.to(device)
        counts = rows.sum(2)  # (Ka, n_steps)
        counts_np = counts.cpu().numpy()
        src = Htr if pre else Xtr
        loss_sum = torch.zeros(Ka, device=device)
        ar = arangeK[:Ka].unsqueeze(1)
        for t in range(n_steps):
            active_np = counts_np[:, t] > 0
            active = counts[:, t] > 0
            bi = idx[:, t]
            rm_t = rows[:, t]
            cnt = counts[:, t].clamp_min(2).float().view(-1, 1, 1)
            x = src[ar, bi]
            masks = [None if m is None else m[:, t] for m in masks_ep]
            out = st.forward(x, masks, rm_t.float(), cnt, active, from_first=pre)
            target = Xtr[ar, bi] if ae else Ytr[ar, bi]
            losses = _sample_losses(spec, out, target, genemask)
            per_net = (losses * Wtr[ar, bi] * rm_t).sum(1) / counts[:, t].clamp_min(1)
            for p in params:
                p.grad = None
            per_net.sum().backward()
            opt.step(params, active_np)
            st.nbt += torch.as_tensor(active_np, dtype=torch.long).unsqueeze(1)
            loss_sum += per_net.detach() * counts[:, t]
        loss_ep = (loss_sum.cpu().numpy() / n_train[alive]).tolist()
        for j, k in enumerate(alive):
            histories[k]["loss"].append(loss_ep[j])
        if not has_val:
            continue
        with torch.no_grad():
            out = st.forward(Hv, from_first=True) if pre else st.forward(Xv)
            metric = _val_metric(spec, out, Yv, vmask, genemask).cpu().numpy()
        stop = np.zeros(Ka, dtype=bool)
        for j, k in enumerate(alive):
            m = float(metric[j])
            histories[k]["val_metric"].append(m)
            if m > best[k]:
                best[k], best_epoch[k], wait[k] = m, epoch, 0
                best_state[k] = _slot_state(st, j)
            else:
                wait[k] += 1
                stop[j] = wait[k] >= spec.patience
        if stop.any() and epoch < n_epochs:
            for j in np.flatnonzero(stop):
                if best_state[alive[j]] is None:  # never improved: keep the last weights
                    final_state[alive[j]] = _slot_state(st, j)
            keep_np = ~stop
            if not keep_np.any():
                alive = alive[keep_np]
                break
            keep = torch.as_tensor(keep_np, device=device)
            st.select(keep)
            params = st.params()
            opt.select(keep)
            alive = alive[keep_np]
            Xtr, Wtr, Xv, vmask = Xtr[keep], Wtr[keep], Xv[keep], vmask[keep]
            Yv = Xv if ae else Yv[keep]
            if not ae:
                Ytr = Ytr[keep]
            if genemask is not None:
                genemask = genemask[keep]
            if pre:
                Htr, Hv = Htr[keep], Hv[keep]
    for j, k in enumerate(alive):
        if best_state[k] is None or not has_val:
            final_state[k] = _slot_state(st, j)
    del st, opt, params  # free the stacked parameters and optimiser state before unstacking

    results = []
    for k in range(K):
        if not has_val:
            state, be = final_state[k], n_epochs
        elif best_state[k] is None:
            state, be = final_state[k], len(histories[k]["loss"])
        else:
            state, be = best_state[k], int(best_epoch[k])
        net = _unstack(state, specs_k[k], np.asarray(gene_pos[k]), P)
        best_state[k] = final_state[k] = None
        results.append(FitResult(network=net, best_epoch=be, history=histories[k]))
    return results


def _slot_state(st: _Stack, j: int) -> dict[str, torch.Tensor]:
    d = {name: t[j].detach().clone() for name, t in st.tensors().items()}
    d["nbt"] = st.nbt[j].clone()
    return d


def _unstack(state: dict[str, torch.Tensor], spec: NetSpec, pos: np.ndarray, P: int) -> MLP:
    net = build_network(spec)
    post = torch.as_tensor(pos)
    with torch.no_grad():
        for i, block in enumerate(net.blocks):
            W = state[f"W{i}"].cpu()  # (in, out)
            block.linear.weight.copy_((W[post] if i == 0 else W).T)
            block.linear.bias.copy_(state[f"b{i}"].cpu())
            block.norm.weight.copy_(state[f"g{i}"].cpu())
            block.norm.bias.copy_(state[f"be{i}"].cpu())
            block.norm.running_mean.copy_(state[f"rm{i}"].cpu())
            block.norm.running_var.copy_(state[f"rv{i}"].cpu())
            block.norm.num_batches_tracked.fill_(int(state["nbt"][i]))
        Wo, bo = state["Wo"].cpu(), state["bo"].cpu()
        if spec.kind == "autoencoder":
            Wo, bo = Wo[:, post], bo[post]
        net.output.weight.copy_(Wo.T)
        net.output.bias.copy_(bo)
    return net.eval()
