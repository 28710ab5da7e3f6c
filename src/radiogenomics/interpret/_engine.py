"""Masking engine over arrays: the first layer of a masked input in closed form.

A masked input keeps the standardised expression of a gene set S and sets every other gene to
0 (the training mean), so the network's first Dense layer gives ``h = b + Z[:, S] @ W[:, S].T``
exactly. The engine computes that product from the kept genes only (an outer product for single
genes, a gathered GEMM per gene set), never building the dense masked inputs, and then runs
``MLP.forward_from_first`` on large batches of rows. Everything is in eval mode (BatchNorm uses
its running statistics, dropout is the identity), so each row's output depends on that row only.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from radiogenomics.utils.device import default_device

DEFAULT_MEMORY_BUDGET_MB = 1024


@contextmanager
def eval_mode(network: nn.Module) -> Iterator[nn.Module]:
    """Eval mode for the duration, restoring the caller's train/eval state afterwards."""
    was_training = network.training
    network.eval()
    try:
        yield network
    finally:
        network.train(was_training)


def on_device(network: nn.Module, device: str | torch.device | None) -> nn.Module:
    """The network on ``device`` (default: CUDA when present); a copy if it has to move."""
    target = default_device(None if device is None else str(device))
    current = next(network.parameters()).device
    if current == target:
        return network
    return copy.deepcopy(network).to(target)


def param_dtype(network: nn.Module) -> torch.dtype:
    return next(network.parameters()).dtype


def rows_per_chunk(network: nn.Module, memory_budget_mb: float) -> int:
    """How many masked rows fit a chunk: the first-layer buffer plus each layer's temporaries."""
    widths = [m.out_features for m in network.modules() if isinstance(m, nn.Linear)]
    itemsize = torch.finfo(param_dtype(network)).bits // 8
    per_row = itemsize * (2 * widths[0] + 3 * sum(widths))
    return max(1, int(memory_budget_mb * 2**20 // per_row))


def first_layer(network: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """Weight (hidden x genes) and bias of the network's first Dense layer."""
    lin = network.first_linear
    bias = lin.bias if lin.bias is not None else torch.zeros_like(lin.weight[:, 0])
    return lin.weight.detach(), bias.detach()


def _unique_pairs(
    Z: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (gene, value) pairs of a patients x genes matrix.

    Returns the pairs' column positions and values (gene-major, values ascending) and, for every
    (patient, gene), the row of its pair. A gene's output depends only on its value, so ties
    (zero counts, the training mean itself) are computed once.
    """
    n_pat, n_genes = Z.shape
    order = np.argsort(Z, axis=0, kind="stable")
    s = np.take_along_axis(Z, order, axis=0)
    new = np.ones_like(s, dtype=bool)
    new[1:] = s[1:] != s[:-1]
    ids = np.cumsum(new, axis=0) - 1
    counts = ids[-1] + 1
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    row_of = np.empty((n_pat, n_genes), dtype=np.int64)
    np.put_along_axis(row_of, order, ids + offsets[None, :], axis=0)
    pair_col = np.repeat(np.arange(n_genes), counts)
    pair_val = s.T[new.T]
    return pair_col, pair_val, row_of


def single_gene_logits(
    network: nn.Module,
    Z: torch.Tensor,
    genes: np.ndarray,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    dedupe: bool = True,
    advance: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Logits when only one gene is kept, for each gene in ``genes`` (column positions of Z).

    ``Z`` is patients x model genes (standardised, on the network's device). Returns
    float32 (len(genes), patients, n_outputs). The first layer of gene g for patient p is
    ``b + Z[p, g] * W[:, g]``: a batched outer product.
    """
    genes = np.asarray(genes, dtype=np.int64)
    n_pat = Z.shape[0]
    W, b = first_layer(network)
    n_out = network.output.out_features if hasattr(network, "output") else None
    Zg = Z[:, torch.as_tensor(genes, device=Z.device)].cpu().numpy()
    if dedupe:
        pair_col, pair_val, row_of = _unique_pairs(Zg)
    else:
        pair_col = np.repeat(np.arange(len(genes)), n_pat)
        pair_val = Zg.T.reshape(-1)
        row_of = (np.arange(len(genes))[None, :] * n_pat + np.arange(n_pat)[:, None]).astype(
            np.int64
        )
    chunk = rows_per_chunk(network, memory_budget_mb)
    n_rows = len(pair_col)
    dev = Z.device
    WT = W.T[torch.as_tensor(genes, device=dev)].contiguous()  # kept genes x hidden
    col_t = torch.as_tensor(pair_col, device=dev)
    val_t = torch.as_tensor(pair_val, device=dev, dtype=Z.dtype)
    out = None
    with torch.inference_mode(), eval_mode(network):
        for start in range(0, n_rows, chunk):
            stop = min(start + chunk, n_rows)
            cols = col_t[start:stop]
            h = torch.addcmul(b, val_t[start:stop, None], WT[cols])
            logits = network.forward_from_first(h)
            if out is None:
                n_out = logits.shape[1]
                out = np.empty((n_rows, n_out), dtype=np.float32)
            out[start:stop] = logits.float().cpu().numpy()
            if advance is not None:
                advance(stop - start)
    if out is None:
        return np.empty((len(genes), n_pat, n_out or 0), dtype=np.float32)
    return np.ascontiguousarray(out[row_of].transpose(1, 0, 2))


def gene_set_logits(
    network: nn.Module,
    Z: torch.Tensor,
    sets: Sequence[np.ndarray],
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    advance: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Logits when only each set's genes are kept (each set: column positions of Z, non-empty).

    The first layer of set S is ``b + Z[:, S] @ W[:, S].T``: one gathered GEMM per set, written
    into a chunk buffer that the rest of the network then processes as one batch.
    Returns float32 (len(sets), patients, n_outputs).
    """
    n_pat = Z.shape[0]
    W, b = first_layer(network)
    dev = Z.device
    WT = W.T.contiguous()  # genes x hidden: a set's rows are contiguous
    ZT = Z.T.contiguous()  # genes x patients
    per_chunk = max(1, rows_per_chunk(network, memory_budget_mb) // max(n_pat, 1))
    index = [torch.as_tensor(np.asarray(s, dtype=np.int64), device=dev) for s in sets]
    out = None
    with torch.inference_mode(), eval_mode(network):
        for start in range(0, len(index), per_chunk):
            block = index[start : start + per_chunk]
            h = torch.empty((len(block), n_pat, W.shape[0]), dtype=W.dtype, device=dev)
            for i, idx in enumerate(block):
                torch.addmm(b, ZT[idx].T, WT[idx], out=h[i])
            logits = network.forward_from_first(h.view(-1, W.shape[0]))
            if out is None:
                out = np.empty((len(index), n_pat, logits.shape[1]), dtype=np.float32)
            out[start : start + len(block)] = (
                logits.float().cpu().numpy().reshape(len(block), n_pat, -1)
            )
            if advance is not None:
                advance(len(block))
    if out is None:
        n_out = network.output.out_features if hasattr(network, "output") else 0
        return np.empty((0, n_pat, n_out), dtype=np.float32)
    return out


def naive_masking_logits(
    network: nn.Module,
    Z: torch.Tensor,
    sets: Sequence[np.ndarray],
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
) -> np.ndarray:
    """Reference: build the dense masked inputs (batched) and call the whole network.

    Used by the tests (the fast path must agree) and the benchmarks (the peer to beat).
    """
    n_pat, n_genes = Z.shape
    itemsize = torch.finfo(Z.dtype).bits // 8
    per_row = itemsize * 2 * n_genes
    rows = max(n_pat, min(rows_per_chunk(network, memory_budget_mb), int(2**20 * 256 // per_row)))
    per_chunk = max(1, rows // n_pat)
    out = []
    with torch.inference_mode(), eval_mode(network):
        for start in range(0, len(sets), per_chunk):
            block = sets[start : start + per_chunk]
            mask = torch.zeros((len(block), n_genes), dtype=Z.dtype, device=Z.device)
            for i, idx in enumerate(block):
                mask[i, torch.as_tensor(np.asarray(idx, dtype=np.int64), device=Z.device)] = 1
            x = (Z[None, :, :] * mask[:, None, :]).reshape(-1, n_genes)
            logits = network(x)
            out.append(logits.float().cpu().numpy().reshape(len(block), n_pat, -1))
    return np.concatenate(out, axis=0)
