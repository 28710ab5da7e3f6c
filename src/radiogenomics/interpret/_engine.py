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
# single-gene rows sit at positions fixed modulo this (see MaskingEngine.pair_logits); 48 is a
# multiple of the GEMM row tiles in use (1, 2, 3, 4, 6, 8, 12, 16, 24)
ROW_ALIGN = 48
# Slotted single-gene chunks (one height per engine): big enough for efficient GEMMs (at least
# PAIR_ROWS rows, or about PAIR_MACS multiply-adds after the first layer for cheap rows) and
# small enough that padding a call's last chunk costs little.
PAIR_ROWS = 8192
PAIR_MACS = 2**30


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


def unique_pairs(
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


def pair_slots(cols: np.ndarray, pair_gene: np.ndarray) -> np.ndarray:
    """Each distinct pair's slot (see ``MaskingEngine.pair_logits``), from the pair alone.

    ``pair_gene`` numbers the genes of gene-major pairs (values ascending within a gene, as
    ``unique_pairs`` returns them); a pair's slot is its rank among its gene's distinct values
    plus its model column, modulo ``ROW_ALIGN`` (the column spreads genes over the slots).
    """
    pair_gene = np.asarray(pair_gene)
    new = np.ones(len(pair_gene), dtype=bool)
    new[1:] = pair_gene[1:] != pair_gene[:-1]
    starts = np.flatnonzero(new)
    rank = np.arange(len(pair_gene)) - np.repeat(starts, np.diff(np.append(starts, len(new))))
    return (rank + np.asarray(cols)) % ROW_ALIGN


def _bn_affine(norm: nn.BatchNorm1d) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as y = x * scale + shift."""
    scale = torch.rsqrt(norm.running_var + norm.eps)
    if norm.weight is not None:
        scale = scale * norm.weight
    shift = -norm.running_mean * scale
    if norm.bias is not None:
        shift = shift + norm.bias
    return scale.detach(), shift.detach()


_IN_PLACE = {nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_, nn.ReLU: torch.relu_}


def _fusable(network: nn.Module) -> bool:
    """True for the package's MLP, unmodified: its eval-mode layers can be folded."""
    from radiogenomics.models.network import MLP, Block

    if type(network) is not MLP or not isinstance(network.output, nn.Linear):
        return False
    for blk in network.blocks:
        if type(blk) is not Block or type(blk.norm) is not nn.BatchNorm1d:
            return False
        if blk.norm.running_mean is None or type(blk.act) not in _IN_PLACE:
            return False
        if type(blk.dropout) is not nn.Dropout or type(blk.linear) is not nn.Linear:
            return False
    return True


class MaskingEngine:
    """A network prepared for masked inference on many rows.

    The first layer's weights are kept transposed (a gene's row is contiguous) with one zero row
    appended for padding. For the package's MLP every eval-mode BatchNorm is folded into the
    Dense layer before it and activations run in place on reused buffers (same function, fewer
    passes over memory); any other network honouring the first-layer contract runs through its
    own ``forward_from_first``.
    """

    def __init__(
        self, network: nn.Module, memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB
    ) -> None:
        self.network = network
        self.rows = rows_per_chunk(network, memory_budget_mb)
        linears = [m for m in network.modules() if isinstance(m, nn.Linear)]
        self.tail_macs = sum(m.weight.numel() for m in linears if m is not network.first_linear)
        height = max(PAIR_ROWS, PAIR_MACS // max(1, self.tail_macs))
        self.pair_rows = max(ROW_ALIGN, min(self.rows, height) // ROW_ALIGN * ROW_ALIGN)
        self.gather_bytes = max(1, int(memory_budget_mb * 2**20 // 8))
        W, b = first_layer(network)
        self.n_genes, self.width = W.shape[1], W.shape[0]
        self.fused = _fusable(network)
        with torch.no_grad():
            if self.fused:
                scale, shift = _bn_affine(network.blocks[0].norm)
                b = b * scale + shift
            else:
                scale = None
            WT = torch.zeros((self.n_genes + 1, self.width), dtype=W.dtype, device=W.device)
            WT[: self.n_genes] = W.T if scale is None else W.T * scale
            self.WT, self.b0 = WT, b.detach().clone()
            self.layers: list[tuple[torch.Tensor, torch.Tensor, Callable | None]] = []
            if self.fused:
                self.act0 = _IN_PLACE[type(network.blocks[0].act)]
                for blk in network.blocks[1:]:
                    sc, sh = _bn_affine(blk.norm)
                    lw = (blk.linear.weight * sc[:, None]).T.contiguous()
                    lb = blk.linear.bias * sc + sh if blk.linear.bias is not None else sh
                    self.layers.append((lw, lb.detach(), _IN_PLACE[type(blk.act)]))
                out = network.output
                ob = out.bias if out.bias is not None else torch.zeros_like(out.weight[:, 0])
                self.layers.append((out.weight.T.contiguous(), ob.detach(), None))
        self._buffers: dict[int, torch.Tensor] = {}

    def _buffer(self, key: int, n: int, width: int) -> torch.Tensor:
        buf = self._buffers.get(key)
        if buf is None or buf.shape[0] < n or buf.shape[1] != width:
            buf = torch.empty((n, width), dtype=self.WT.dtype, device=self.WT.device)
            self._buffers[key] = buf
        return buf[:n]

    def first_buffer(self, n: int) -> torch.Tensor:
        """Scratch rows for the first layer's output (reused across chunks)."""
        return self._buffer(0, n, self.width)

    def tail(self, h: torch.Tensor) -> torch.Tensor:
        """Logits from the first Dense layer's output (as produced with ``WT``/``b0``)."""
        if not self.fused:
            with eval_mode(self.network):
                return self.network.forward_from_first(h)
        self.act0(h)
        for i, (lw, lb, act) in enumerate(self.layers, start=1):
            h = torch.addmm(lb, h, lw, out=self._buffer(i, h.shape[0], lw.shape[1]))
            if act is not None:
                act(h)
        return h

    def pair_logits(
        self,
        cols: np.ndarray,
        vals: np.ndarray,
        slots: np.ndarray | None = None,
        advance: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Logits of single-gene masked rows given as (model column, standardised value) pairs.

        Row ``i`` keeps gene ``cols[i]`` at value ``vals[i]``; its first layer is
        ``b + vals[i] * W[:, cols[i]]``. Returns float32 (rows, n_outputs).

        Without ``slots`` the rows run consecutively in chunks of ``rows``. With ``slots``,
        the same pair gets the same bits in any call: BLAS picks its kernels by matrix shape,
        and a kernel may sum a row differently by the row's position within its tile, so a
        row's last bits can depend on its chunk's height and on its place in it. Here every
        chunk then has the same height, ``pair_rows`` (a multiple of ``ROW_ALIGN``, the last
        chunk padded with all-masked rows), and row ``i`` sits at a position congruent to
        ``slots[i]`` modulo ``ROW_ALIGN``. Callers give a pair a slot that depends on the pair
        alone (``pair_slots``), so its logits do not depend on which other rows are computed
        with it; the interpolated path relies on that when it re-evaluates near-ties exactly.
        """
        n_rows = len(cols)
        if slots is None:
            step, position = self.rows, np.arange(n_rows)
            total = n_rows
        else:
            step = self.pair_rows
            order = np.argsort(slots, kind="stable")
            sorted_slots = slots[order]
            first = np.searchsorted(sorted_slots, sorted_slots, side="left")
            position = np.empty(n_rows, dtype=np.int64)
            position[order] = (np.arange(n_rows) - first) * ROW_ALIGN + sorted_slots
            total = -(-(int(position.max(initial=-1)) + 1) // step) * step
        dev = self.WT.device
        # the rows in their layout; empty places keep the zero row of WT (all genes masked)
        layout_col = np.full(total, self.n_genes, dtype=np.int64)
        layout_val = np.zeros(total, dtype=np.float64)
        layout_col[position] = cols
        layout_val[position] = vals
        col_t = torch.as_tensor(layout_col, device=dev)
        val_t = torch.as_tensor(layout_val, device=dev, dtype=self.WT.dtype)
        out = None
        with torch.inference_mode():
            for start in range(0, total, step):
                stop = min(start + step, total)
                h = self.first_buffer(stop - start)
                torch.index_select(self.WT, 0, col_t[start:stop], out=h)
                h.mul_(val_t[start:stop, None]).add_(self.b0)
                logits = self.tail(h)
                if out is None:
                    out = np.empty((total, logits.shape[1]), dtype=np.float32)
                out[start:stop] = logits.float().cpu().numpy()
                if advance is not None:
                    advance(int((layout_col[start:stop] < self.n_genes).sum()))
        if out is None:
            return np.empty((0, 0), dtype=np.float32)
        return out if slots is None else out[position]

    def single_gene_logits(
        self,
        Z: torch.Tensor,
        genes: np.ndarray,
        dedupe: bool = True,
        advance: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Logits when only one gene is kept, for each gene in ``genes`` (column positions of Z).

        ``Z`` is patients x model genes (standardised, on the network's device). Returns
        float32 (len(genes), patients, n_outputs). The first layer of gene g for patient p is
        ``b + Z[p, g] * W[:, g]``: a batched outer product. The exact reference of the
        interpolated path (``_interpolated.py``).
        """
        genes = np.asarray(genes, dtype=np.int64)
        n_pat = Z.shape[0]
        Zg = Z[:, torch.as_tensor(genes, device=Z.device)].cpu().numpy()
        if dedupe:
            pair_col, pair_val, row_of = unique_pairs(Zg)
        else:
            pair_col = np.repeat(np.arange(len(genes)), n_pat)
            pair_val = Zg.T.reshape(-1)
            row_of = np.arange(len(genes))[None, :] * n_pat + np.arange(n_pat)[:, None]
        if len(pair_col) == 0:
            return np.empty((len(genes), n_pat, 0), dtype=np.float32)
        cols = genes[pair_col]
        slots = pair_slots(cols, pair_col) if dedupe else None
        out = self.pair_logits(cols, pair_val, slots, advance)
        return np.ascontiguousarray(out[row_of].transpose(1, 0, 2))

    def gene_set_logits(
        self,
        Z: torch.Tensor,
        sets: Sequence[np.ndarray],
        advance: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Logits when only each set's genes are kept (each set: column positions of Z).

        The first layer of set S is ``b + Z[:, S] @ W[:, S].T``. Sets are taken in order of
        size and padded to the largest of each batch with a zero gene, so one batched GEMM
        (``baddbmm``) computes many sets' first layers at once. Returns float32
        (len(sets), patients, n_outputs); an empty set gives the all-masked output.
        """
        n_pat = Z.shape[0]
        dev = Z.device
        pad = self.n_genes
        ZT = torch.zeros((self.n_genes + 1, n_pat), dtype=self.WT.dtype, device=dev)
        ZT[: self.n_genes] = Z.T
        sizes = np.array([len(s) for s in sets], dtype=np.int64)
        order = np.argsort(sizes, kind="stable")
        per_chunk = max(1, self.rows // max(n_pat, 1))
        itemsize = self.WT.element_size()
        out = None
        with torch.inference_mode():
            for start in range(0, len(order), per_chunk):
                chunk = order[start : start + per_chunk]
                h = self.first_buffer(len(chunk) * n_pat).view(len(chunk), n_pat, self.width)
                i = 0
                while i < len(chunk):  # sizes ascend: the last set of a batch is its largest
                    j = i + 1
                    # a batch pads to its largest set: keep sizes within 25% (bounded waste)
                    limit = max(8, int(1.25 * sizes[chunk[i]]))
                    while (
                        j < len(chunk)
                        and sizes[chunk[j]] <= limit
                        and (j + 1 - i) * max(1, int(sizes[chunk[j]])) * self.width * itemsize
                        <= self.gather_bytes
                    ):
                        j += 1
                    sub = chunk[i:j]
                    kmax = max(1, int(sizes[sub[-1]]))
                    index = np.full((len(sub), kmax), pad, dtype=np.int64)
                    for r, k in enumerate(sub):
                        index[r, : sizes[k]] = sets[k]
                    idx = torch.as_tensor(index, device=dev)
                    torch.baddbmm(self.b0, ZT[idx].transpose(1, 2), self.WT[idx], out=h[i:j])
                    i = j
                logits = self.tail(h.view(-1, self.width))
                if out is None:
                    out = np.empty((len(sets), n_pat, logits.shape[1]), dtype=np.float32)
                out[chunk] = logits.float().cpu().numpy().reshape(len(chunk), n_pat, -1)
                if advance is not None:
                    advance(len(chunk))
        if out is None:
            return np.empty((0, n_pat, 0), dtype=np.float32)
        return out


def single_gene_logits(
    network: nn.Module,
    Z: torch.Tensor,
    genes: np.ndarray,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    dedupe: bool = True,
) -> np.ndarray:
    """Single-gene masked logits (see ``MaskingEngine.single_gene_logits``)."""
    return MaskingEngine(network, memory_budget_mb).single_gene_logits(Z, genes, dedupe)


def gene_set_logits(
    network: nn.Module,
    Z: torch.Tensor,
    sets: Sequence[np.ndarray],
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
) -> np.ndarray:
    """Gene-set masked logits (see ``MaskingEngine.gene_set_logits``)."""
    return MaskingEngine(network, memory_budget_mb).gene_set_logits(Z, sets)


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
    per_row = itemsize * 2 * n_genes  # the dense masked input and its mask product
    budget_rows = int(memory_budget_mb * 2**20 // per_row)
    rows = max(n_pat, min(rows_per_chunk(network, memory_budget_mb), budget_rows))
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
