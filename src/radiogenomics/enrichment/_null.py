"""Permutation null of the enrichment score, fgsea's simple algorithm, for many rankings at once.

Each permutation draws ONE random sample of ``K`` rank positions (``K`` = the largest set size)
and reads the null ES of every smaller size ``k`` off its first ``k`` positions. The draws are
positions in rank space (0 = top of the ranking), so the very same draws serve every ranking
over the same genes and every set: only the weights ``|score|^w`` at those positions differ.

Draws come in fixed blocks of ``PERM_BLOCK`` permutations from a generator seeded by
``(seed, block)``, so the numbers never depend on how rankings are chunked or on the threads.
Two engines consume the same draws: :func:`compiled_null_counts` (numba, CPU, the default) and
:class:`NullAccumulator` (torch, any device: the reference, and the CUDA path).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

PERM_BLOCK = 500
TIE_TOL = 1e-10  # as in the compiled kernels: ES this close count as tied


def sample_positions(rng: np.random.Generator, n: int, k: int, rows: int) -> np.ndarray:
    """``rows`` ordered samples of ``k`` distinct integers in ``[0, n)``, uniformly at random.

    Sequential draws with duplicates rejected (the first occurrence kept) give a uniformly
    random ordered sample without replacement, so every prefix is a uniform random subset.
    """
    if not 0 < k <= n:
        raise ValueError(f"cannot draw {k} distinct positions out of {n}")
    if 4 * k > n:  # dense case: random keys, argsort
        return np.argsort(rng.random((rows, n)), axis=1, kind="stable")[:, :k].astype(np.int64)
    out = np.empty((rows, k), dtype=np.int64)
    todo = np.arange(rows)
    expected_dups = k * k / n
    extra = int(2 * expected_dups + 6 * np.sqrt(expected_dups) + 8)
    while todo.size:
        m = k + extra
        draws = rng.integers(0, n, size=(todo.size, m))
        order = np.argsort(draws, axis=1, kind="stable")
        ordered = np.take_along_axis(draws, order, axis=1)
        is_first = np.ones(draws.shape, dtype=bool)
        first_sorted = np.ones(draws.shape, dtype=bool)
        first_sorted[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
        np.put_along_axis(is_first, order, first_sorted, axis=1)
        count = np.cumsum(is_first, axis=1)
        ok = count[:, -1] >= k
        keep = is_first & (count <= k)
        out[todo[ok]] = draws[ok][keep[ok]].reshape(-1, k)
        todo = todo[~ok]
        extra *= 2
    return out


def block_seed(seed: int, block: int) -> np.uint64:
    """The 64-bit key of permutation block ``block`` of a run seeded with ``seed``."""
    state = np.random.SeedSequence([int(seed), 0x65A, int(block)]).generate_state(1, np.uint64)
    return state[0]


def block_rows(nperm: int) -> np.ndarray:
    """Permutations per block: ``PERM_BLOCK``, the last block taking the rest."""
    n_blocks = -(-nperm // PERM_BLOCK)
    return np.minimum(PERM_BLOCK, nperm - PERM_BLOCK * np.arange(n_blocks))


def block_draws(
    seed: int, blocks: range, n: int, k: int, nperm: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draws of the permutation blocks ``blocks``: ``(rows, k)`` int32 rank positions, each row an
    ordered uniform sample without replacement (its every prefix a uniform random subset), and
    the row where each block starts (plus the end)."""
    from radiogenomics.enrichment._kernels import draw_blocks

    if not 0 < k <= n:
        raise ValueError(f"cannot draw {k} distinct positions out of {n}")
    rows = block_rows(nperm)[blocks.start : blocks.stop]
    starts = np.zeros(len(rows) + 1, dtype=np.int64)
    starts[1:] = np.cumsum(rows)
    seeds = np.array([block_seed(seed, b) for b in blocks], dtype=np.uint64)
    return draw_blocks(seeds, n, k, starts), starts


def perm_blocks(seed: int, n: int, k: int, nperm: int) -> Iterator[np.ndarray]:
    """The permutation draws, block by block (each ``(<= PERM_BLOCK, k)`` int64), fixed by the
    seed (the draws of :func:`compiled_null_counts`, for the torch engine)."""
    for b in range(-(-nperm // PERM_BLOCK)):
        yield block_draws(seed, range(b, b + 1), n, k, nperm)[0].astype(np.int64)


# Blocks computed per pass of the compiled engine: a constant, so that the float sums of the null
# are added in the same order whatever the number of rankings or threads.
BLOCKS_PER_PASS = 32


def compiled_null_counts(
    weights: np.ndarray,
    obs: np.ndarray,
    size_of_set: np.ndarray,
    seed: int,
    nperm: int,
    group: int = 16,
    budget_bytes: float = 2.5e8,
    on_block=None,
) -> dict[str, np.ndarray]:
    """The permutation-null counts of :class:`NullAccumulator` by the compiled kernels.

    weights ``(R, N)`` in rank order; obs ``(R, S)``; size_of_set ``(S,)``. Rankings are taken
    ``group`` at a time by one thread (SIMD lanes) and in chunks whose temporaries stay near
    ``budget_bytes``, so memory does not grow with the number of rankings beyond the ``(R, S)``
    counts themselves. ``on_block(m)`` is called after each ``m`` blocks (progress).
    """
    from radiogenomics.enrichment._kernels import null_counts

    r_count, n = weights.shape
    s_count = obs.shape[1]
    sizes, size_index = np.unique(size_of_set, return_inverse=True)
    d_count = sizes.size
    order = np.argsort(size_index, kind="stable")
    set_ptr = np.searchsorted(size_index[order], np.arange(d_count + 1)).astype(np.int64)
    set_idx = order.astype(np.int64)
    sizes = sizes.astype(np.int64)
    k_max = int(sizes[-1])
    n_blocks = -(-nperm // PERM_BLOCK)
    per_ranking = BLOCKS_PER_PASS * (2 * 4 * s_count + 4 * 8 * d_count) + 16 * n
    chunk = int(max(group, min(r_count, budget_bytes // per_ranking)))
    chunk = -(-chunk // group) * group
    out = {
        "le_es": np.zeros((r_count, s_count), dtype=np.int64),
        "ge_es": np.zeros((r_count, s_count), dtype=np.int64),
        "le_zero": np.zeros((r_count, d_count), dtype=np.int64),
        "ge_zero": np.zeros((r_count, d_count), dtype=np.int64),
        "sum_pos": np.zeros((r_count, d_count)),
        "sum_neg": np.zeros((r_count, d_count)),
    }
    obs = np.ascontiguousarray(obs, dtype=np.float64)
    for first in range(0, n_blocks, BLOCKS_PER_PASS):
        blocks = range(first, min(n_blocks, first + BLOCKS_PER_PASS))
        draws, starts = block_draws(seed, blocks, n, k_max, nperm)
        nb = len(blocks)
        for r0 in range(0, r_count, chunk):
            rows = slice(r0, min(r_count, r0 + chunk))
            m = rows.stop - r0
            wt = np.ascontiguousarray(weights[rows].T, dtype=np.float64)
            part = {
                "le_es": np.empty((nb, m, s_count), dtype=np.int32),
                "ge_es": np.empty((nb, m, s_count), dtype=np.int32),
                "le_zero": np.empty((nb, m, d_count), dtype=np.int32),
                "ge_zero": np.empty((nb, m, d_count), dtype=np.int32),
                "sum_pos": np.empty((nb, m, d_count)),
                "sum_neg": np.empty((nb, m, d_count)),
            }
            null_counts(
                wt, group, draws, starts, sizes, set_ptr, set_idx, obs[rows],
                part["le_es"], part["ge_es"], part["le_zero"], part["ge_zero"],
                part["sum_pos"], part["sum_neg"],
            )  # fmt: skip
            for name, arr in part.items():
                for b in range(nb):  # block order: the same float sums however chunked
                    out[name][rows] += arr[b]
        if on_block is not None:
            on_block(len(blocks))
    for name in ("le_zero", "ge_zero", "sum_pos", "sum_neg"):
        out[name] = out[name][:, size_index]
    return out


def es_of_sorted_positions(weights: torch.Tensor, pos: torch.Tensor, n: int) -> torch.Tensor:
    """ES (fgsea convention) of sets given by sorted positions.

    weights: ``(R, n)`` ``|score|^w`` in rank order; pos: ``(B, k)`` ascending positions shared by
    all rankings. Returns ``(R, B)``. A set whose weights are all zero counts every hit as 1/k.
    """
    b, k = pos.shape
    r = weights.shape[0]
    w = weights.index_select(1, pos.reshape(-1)).reshape(r, b, k)
    c = torch.cumsum(w, dim=2)
    total = c[:, :, -1:]
    zero = total == 0
    if bool(zero.any()):
        w = torch.where(zero, torch.ones_like(w), w)
        c = torch.cumsum(w, dim=2)
        total = c[:, :, -1:]
    inv = 1.0 / total
    steps = torch.arange(k, device=pos.device, dtype=pos.dtype)
    miss = (pos - steps).to(weights.dtype) * (-1.0 / (n - k))  # (B, k), negated
    tops = torch.addcmul(miss, c, inv)  # fused: c / total - misses so far
    top = tops.amax(dim=2)
    bottom = torch.addcmul(tops, w, inv, value=-1.0).amin(dim=2)
    return torch.where(
        top + bottom > TIE_TOL,
        top,
        torch.where(top + bottom < -TIE_TOL, bottom, torch.zeros_like(top)),
    )


class NullAccumulator:
    """Running counts of the permutation null for every (ranking, set), block after block.

    ``obs``: ``(R, S)`` observed ES; ``size_of_set``: ``(S,)`` sizes. Keeps, per (ranking, set):
    null ES <= ES, >= ES (within ``TIE_TOL``), <= 0, >= 0, and the sums of positive and negative
    null ES.
    """

    def __init__(self, obs: np.ndarray, size_of_set: np.ndarray, device: torch.device, dtype):
        self.device = device
        self.dtype = dtype
        self.obs = torch.as_tensor(obs, dtype=dtype, device=device)
        self.sizes = np.unique(size_of_set)
        self.sets_of_size = {
            int(s): torch.as_tensor(np.flatnonzero(size_of_set == s), device=device)
            for s in self.sizes
        }
        r, s = obs.shape
        zeros = dict(dtype=torch.int64, device=device)
        self.le_es = torch.zeros((r, s), **zeros)
        self.ge_es = torch.zeros((r, s), **zeros)
        self.le_zero = torch.zeros((r, s), **zeros)
        self.ge_zero = torch.zeros((r, s), **zeros)
        self.sum_pos = torch.zeros((r, s), dtype=torch.float64, device=device)
        self.sum_neg = torch.zeros((r, s), dtype=torch.float64, device=device)
        self.nperm = 0

    def add_block(self, weights: torch.Tensor, rows: slice, draws: torch.Tensor, n: int) -> None:
        """Add one block of draws ``(B, K)`` for the rankings ``rows`` (weights ``(r, n)``)."""
        for size in self.sizes:
            k = int(size)
            pos = torch.sort(draws[:, :k], dim=1).values
            null = es_of_sorted_positions(weights, pos, n)  # (r, B)
            self.add_null(null, rows, k)

    def add_null(self, null: torch.Tensor, rows: slice, k: int) -> None:
        idx = self.sets_of_size[k]
        obs = self.obs[rows][:, idx]  # (r, m)
        nl = null[:, :, None]
        self.le_es[rows, idx] += (nl <= obs[:, None, :] + TIE_TOL).sum(dim=1)
        self.ge_es[rows, idx] += (nl >= obs[:, None, :] - TIE_TOL).sum(dim=1)
        m = idx.numel()
        self.le_zero[rows, idx] += (null <= 0).sum(dim=1, keepdim=True).expand(-1, m)
        self.ge_zero[rows, idx] += (null >= 0).sum(dim=1, keepdim=True).expand(-1, m)
        pos_sum = null.clamp(min=0).sum(dim=1, dtype=torch.float64)
        neg_sum = null.clamp(max=0).sum(dim=1, dtype=torch.float64)
        self.sum_pos[rows, idx] += pos_sum[:, None].expand(-1, m)
        self.sum_neg[rows, idx] += neg_sum[:, None].expand(-1, m)

    def numpy(self) -> dict[str, np.ndarray]:
        return {
            name: getattr(self, name).cpu().numpy()
            for name in ("le_es", "ge_es", "le_zero", "ge_zero", "sum_pos", "sum_neg")
        }
