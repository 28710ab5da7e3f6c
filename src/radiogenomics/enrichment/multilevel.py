"""Small p-values beyond the permutation floor: multilevel splitting of the null ES distribution.

A permutation test with ``nperm`` draws cannot report p below ``1 / (nperm + 1)``. For a set of
size ``k`` with observed ES ``s > 0`` we estimate ``P(ES_null >= s)`` for a uniformly random set
of ``k`` genes by adaptive multilevel splitting (the idea of fgsea's multilevel method):

1. draw ``n`` random sets and compute their ES;
2. take the median ES as the next level ``t``; the half above it survives, ``P(ES > t)`` is
   estimated as the surviving fraction; the other half is replaced by copies of survivors;
3. every set then takes ``5 + k // 10`` Metropolis steps that swap one member for a random non-member and are
   accepted only if the ES stays above ``t`` (this keeps the sets distributed uniformly among
   those with ES > t while decorrelating the copies);
4. repeat until the median reaches ``s``; then ``P(ES >= s)`` is the product of the level
   fractions times the final fraction of sets with ES >= s.

Negative ES are handled by reversing the ranking (the running sum of the reversed ranking is the
negated one). The standard error of log2 p is ``sqrt(L * (psi1((n+1)/2) - psi1(n+1))) / ln 2`` for
``L`` levels (the variance of the log of a median fraction, a Beta((n+1)/2, (n+1)/2) variable; as
fgsea reports it). Random numbers come from a counter-based generator keyed by each task's own
seed, so a task's estimate does not depend on which other tasks share its batch.

Two engines give the same estimates: the compiled one (``engine="numba"``, one task per thread,
:func:`radiogenomics.enrichment._kernels.multilevel_tasks`) and the vectorised numpy reference
below (``engine="reference"``), kept to test the compiled one against.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import polygamma

from radiogenomics.enrichment._null import sample_positions
from radiogenomics.errors import InputError

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class MultilevelResult:
    """Per task: tail probability ``P(ES_null >= |ES|)`` on the ES's side, its log2 standard
    error, the number of levels, and whether the estimate hit the ``eps`` floor."""

    pval: np.ndarray
    log2err: np.ndarray
    levels: np.ndarray
    hit_eps: np.ndarray


def _mix(z: np.ndarray) -> np.ndarray:
    z = z + _GOLD
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _uniform(seeds: np.ndarray, counters: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Uniform [0, 1) numbers ``(T, *shape)`` from a hash of (task seed, task counter, index)."""
    size = int(np.prod(shape))
    with np.errstate(over="ignore"):
        key = (counters.astype(np.uint64)[:, None] << np.uint64(24)) + np.arange(
            size, dtype=np.uint64
        )
        z = _mix(seeds.astype(np.uint64)[:, None] ^ _mix(key))
    return ((z >> np.uint64(11)).astype(np.float64) * 2.0**-53).reshape(len(seeds), *shape)


def _es(
    flat_w: np.ndarray, pos: np.ndarray, n: int, valid: np.ndarray, inv_miss: np.ndarray
) -> np.ndarray:
    """ES of sets given by sorted positions ``pos (T, m, K)`` into ``flat_w`` (the T weight rows
    end to end, row t's positions being ``t * n + rank``; padding points at a trailing 0).

    valid: ``(T, 1, K)`` the first ``k_t`` slots; inv_miss: ``(T, 1, 1)`` ``1 / (n - k_t)``.
    """
    kk = pos.shape[2]
    w = np.take(flat_w, pos)
    c = np.cumsum(w, axis=2)
    total = c[..., -1:]
    zero = total[..., 0] == 0
    if zero.any():
        w[zero] = 1.0
        w *= valid
        c = np.cumsum(w, axis=2)
        total = c[..., -1:]
    inv = 1.0 / total
    tops = c * inv
    tops -= (pos % n - np.arange(kk)) * inv_miss
    top = np.where(valid, tops, -np.inf).max(axis=2)
    w *= inv
    tops -= w
    bottom = np.where(valid, tops, np.inf).min(axis=2)
    return np.where(top > -bottom, top, np.where(top < -bottom, bottom, 0.0))


def _run_batch(
    weights: np.ndarray,
    target: np.ndarray,
    seeds: np.ndarray,
    sizes: np.ndarray,
    n_samples: int,
    eps: float,
    steps: np.ndarray,
    max_levels: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Multilevel estimates of ``P(ES >= target)``, tasks of any sizes padded to the largest.

    Every task draws its random numbers from its own seed and its own (level, step) counter, so
    its estimate does not depend on the other tasks of the batch."""
    t_count, n = weights.shape
    kk = int(sizes.max())
    pad = t_count * n  # index of the trailing zero weight
    flat_w = np.concatenate([np.ascontiguousarray(weights).ravel(), [0.0]])
    pos = np.full((t_count, n_samples, kk), pad, dtype=np.int64)
    for t, (s, k) in enumerate(zip(seeds, sizes, strict=True)):
        draw = sample_positions(np.random.default_rng(int(s)), n, int(k), n_samples)
        pos[t, :, :k] = np.sort(draw, axis=1) + t * n
    valid_all = (np.arange(kk) < sizes[:, None])[:, None, :]
    inv_miss_all = (1.0 / (n - sizes))[:, None, None]
    es = _es(flat_w, pos, n, valid_all, inv_miss_all)
    log_p = np.zeros(t_count)
    levels = np.zeros(t_count, dtype=np.int64)
    pval = np.full(t_count, np.nan)
    hit_eps = np.zeros(t_count, dtype=bool)
    active = np.arange(t_count)
    log_eps = math.log(eps)
    mid = n_samples // 2
    while active.size:
        a_es = es[active]
        thr = np.sort(a_es, axis=1)[:, mid]
        done = thr >= target[active]
        floor = (log_p[active] < log_eps) | (levels[active] >= max_levels)
        frac_final = (a_es >= target[active, None]).mean(axis=1)
        fin = done | floor
        pval[active[fin]] = np.exp(log_p[active[fin]]) * frac_final[fin]
        hit_eps[active[floor & ~done]] = True
        keep = ~fin
        active, a_es, thr = active[keep], a_es[keep], thr[keep]
        if not active.size:
            break
        above = a_es > thr[:, None]
        stuck = ~above.any(axis=1)  # a flat top half: count it as surviving to move on
        above[stuck] = a_es[stuck] >= thr[stuck, None]
        n_above = above.sum(axis=1)
        log_p[active] += np.log(n_above / n_samples)
        levels[active] += 1
        # Replace every set below the level by a copy of a random survivor.
        base_counter = levels[active] * 4096
        u = _uniform(seeds[active], base_counter, (n_samples,))
        pick = np.minimum((u * n_above[:, None]).astype(np.int64), n_above[:, None] - 1)
        surv_idx = np.argsort(~above, axis=1, kind="stable")  # survivors first
        src = np.where(above, np.arange(n_samples), np.take_along_axis(surv_idx, pick, axis=1))
        a_pos = np.take_along_axis(pos[active], src[:, :, None], axis=1)
        a_es = np.take_along_axis(a_es, src, axis=1)
        base = (active * n)[:, None]
        k_act = sizes[active][:, None]
        valid, inv_miss = valid_all[active], inv_miss_all[active]
        a_steps = steps[active]
        for step in range(int(a_steps.max())):
            u = _uniform(seeds[active], base_counter + 1 + step, (n_samples, 2))
            out_j = (u[..., 0] * k_act).astype(np.int64)
            new = (u[..., 1] * n).astype(np.int64) + base
            member = (a_pos == new[..., None]).any(axis=2)
            prop = a_pos.copy()
            np.put_along_axis(prop, out_j[..., None], new[..., None], axis=2)
            prop.sort(axis=2)
            es_new = _es(flat_w, prop, n, valid, inv_miss)
            acc = (es_new > thr[:, None]) & ~member & (step < a_steps)[:, None]
            a_pos = np.where(acc[..., None], prop, a_pos)
            a_es = np.where(acc, es_new, a_es)
        pos[active] = a_pos
        es[active] = a_es
    return pval, levels, hit_eps


def _compiled(weights, rank_t, size_t, es_t, seed_t, sample_size, eps, step_t, max_levels):
    """The numba engine: the same initial samples as the reference, then one task per thread
    (dynamic scheduling: task costs differ by orders of magnitude)."""
    import numba

    from radiogenomics.enrichment._kernels import multilevel_tasks

    t_count, n = es_t.size, weights.shape[1]
    neg = es_t < 0
    rows = np.unique(np.stack([rank_t, neg.astype(np.int64)], axis=1), axis=0)
    row_of = {(int(r), bool(g)): i for i, (r, g) in enumerate(rows)}
    w_rows = np.ascontiguousarray(
        np.stack([weights[r, ::-1] if g else weights[r] for r, g in rows]), dtype=np.float64
    )
    w_row = np.array([row_of[(int(r), bool(g))] for r, g in zip(rank_t, neg, strict=True)])
    k_max = int(size_t.max())
    init = np.zeros((t_count * sample_size, k_max), dtype=np.int64)
    for t in range(t_count):
        draw = sample_positions(
            np.random.default_rng(int(seed_t[t])), n, int(size_t[t]), sample_size
        )
        init[t * sample_size : (t + 1) * sample_size, : size_t[t]] = np.sort(draw, axis=1)
    ptr = np.arange(t_count + 1, dtype=np.int64) * sample_size
    # costly tasks first so that no thread is left with a long one at the end
    order = np.argsort(-np.abs(es_t) * np.sqrt(size_t), kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(t_count)
    init = init.reshape(t_count, sample_size, k_max)[order].reshape(-1, k_max)
    before = numba.get_parallel_chunksize()
    numba.set_parallel_chunksize(1)
    try:
        pval, levels, hit = multilevel_tasks(
            w_rows, w_row[order], np.abs(es_t[order]), seed_t[order], size_t[order], init, ptr,
            float(eps), step_t[order].astype(np.int64), int(max_levels),
        )  # fmt: skip
    finally:
        numba.set_parallel_chunksize(before)
    return pval[inv], levels[inv], hit[inv]


def default_steps(k: np.ndarray | int) -> np.ndarray:
    """Metropolis steps per level for sets of size ``k``: ``5 + k // 10``."""
    return 5 + np.asarray(k) // 10


def multilevel_pvalues(
    weights: np.ndarray,
    ranking_of_task: Sequence[int],
    size_of_task: Sequence[int],
    es_of_task: Sequence[float],
    seed_of_task: Sequence[int],
    sample_size: int = 101,
    eps: float = 1e-50,
    steps: int | None = None,
    max_levels: int = 400,
    batch_bytes: float = 4e5,
    engine: str = "numba",
) -> MultilevelResult:
    """Tail probabilities ``P(ES_null >= ES)`` (ES > 0) or ``P(ES_null <= ES)`` (ES < 0).

    weights: ``(R, N)`` ``|score|^w`` of each ranking in rank order; one task per (ranking, size,
    observed ES, seed). ``steps`` Metropolis steps per level (default :func:`default_steps`).
    The estimate stops at ``eps`` (``hit_eps`` marks it as an upper bound). Tasks are batched
    (padded to the largest size of the batch) so that one ``(tasks, samples, k)`` array holds
    about ``batch_bytes``: small enough to stay in cache, which is several times faster than
    one large batch. ``engine``: ``"numba"`` (compiled, tasks in parallel threads) or
    ``"reference"`` (vectorised numpy); the two give the same estimates.
    """
    if engine not in ("numba", "reference"):
        raise InputError(f"engine={engine!r}", field="engine", expected="'numba' or 'reference'")
    weights = np.asarray(weights, dtype=np.float64)
    rank_t = np.asarray(ranking_of_task, dtype=np.int64)
    size_t = np.asarray(size_of_task, dtype=np.int64)
    es_t = np.asarray(es_of_task, dtype=np.float64)
    seed_t = np.asarray(seed_of_task, dtype=np.uint64)
    t_count = es_t.size
    pval = np.full(t_count, np.nan)
    levels = np.zeros(t_count, dtype=np.int64)
    hit = np.zeros(t_count, dtype=bool)
    neg = es_t < 0
    step_t = np.full(t_count, steps) if steps is not None else default_steps(size_t)
    if engine == "numba" and t_count:
        pval, levels, hit = _compiled(
            weights, rank_t, size_t, es_t, seed_t, sample_size, eps, step_t, max_levels
        )
    elif t_count:
        order = np.argsort(size_t, kind="stable")  # similar sizes together: little padding
        start = 0
        while start < t_count:
            k = int(size_t[order[start]])
            batch = int(max(1, batch_bytes // (sample_size * max(k, 1) * 8)))
            b = order[start : start + batch]
            start += batch
            w = weights[rank_t[b]]
            w = np.where(neg[b, None], w[:, ::-1], w)
            pval[b], levels[b], hit[b] = _run_batch(
                w, np.abs(es_t[b]), seed_t[b], size_t[b], sample_size, eps, step_t[b], max_levels
            )
    var_level = polygamma(1, (sample_size + 1) / 2) - polygamma(1, sample_size + 1)
    log2err = np.sqrt((levels + 1) * var_level) / math.log(2)
    return MultilevelResult(pval=pval, log2err=log2err, levels=levels, hit_eps=hit)
