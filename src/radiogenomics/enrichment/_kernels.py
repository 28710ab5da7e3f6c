"""Compiled (numba) kernels: the permutation draws, the GSEA permutation null, multilevel splitting.

Draws. Row ``p`` of permutation block ``b`` is an ordered sample of ``K`` distinct rank positions by
a partial Fisher-Yates shuffle driven by a counter-based generator keyed by ``(seed, b)``: any
block, on any thread, in any order, gives the same draws.

Permutation null, one sample for every set size. The null set of size ``k`` is the first ``k``
draws of a permutation. The draws are inserted one by one into a sorted list; at each tested size
one pass over the list gives the running sum's extremes. At the ``i``-th hit (rank order) of a set
of size ``k`` with weights summing to ``C`` the running sum is ``(C_i - lam x_i) / C``, with
``C_i`` the weight of the hits up to it, ``x_i`` the misses before it and ``lam = C / (N - k)``.
The sorted list depends on the draws only, so it is shared by a group of rankings and the pass
runs with the rankings as its innermost loop: SIMD lanes with no dependency between them, which
hides the latency of the running sum. A permutation costs ``K log K`` for the insertions plus
the sum of the distinct tested sizes divided by the vector width; each ranking gets the same
arithmetic whichever group it is in (tested bit for bit).

Multilevel splitting: :func:`multilevel_tasks` runs, one task per thread, the algorithm of
:func:`radiogenomics.enrichment.multilevel._run_batch` with the same counter-based random numbers
and the same floating-point operations, so its estimates equal the reference's.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
# Null and observed ES closer than this count as tied (as equal ES should): different sets with
# the same exact ES (common with weight 0) differ by rounding only, ~1e-15; distinct ES differ
# by at least 1 / (k (N - k)).
TIE_TOL = 1e-10


# --------------------------------------------------------------------------------- draws


@njit(cache=True, inline="always")
def _mix(z):
    z = z + _GOLD
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


@njit(cache=True, inline="always")
def _uniform(seed, counter, index):
    """Uniform [0, 1) from a hash of (seed, counter, index) (multilevel's reference generator)."""
    key = (np.uint64(counter) << np.uint64(24)) + np.uint64(index)
    z = _mix(seed ^ _mix(key))
    return np.float64(z >> np.uint64(11)) * 2.0**-53


@njit(cache=True, parallel=True)
def draw_blocks(block_seeds, n, k, block_starts):
    """Draws of several blocks at once, ``(block_starts[-1], k)`` int32: row ``q`` of block
    ``b`` (rows ``block_starts[b]..block_starts[b+1]-1``) is an ordered sample of ``k``
    distinct positions in ``[0, n)``, uniformly at random, by a partial Fisher-Yates shuffle
    whose ``i``-th swap is driven by hash(block seed, q, i): no row depends on the threads."""
    nb = block_seeds.shape[0]
    out = np.empty((block_starts[nb], k), dtype=np.int32)
    per_block = 4  # tasks per block: each keeps one shuffled copy of 0..n-1
    for t in prange(nb * per_block):
        b = t // per_block
        seed = block_seeds[b]
        perm = np.arange(n, dtype=np.int32)
        swaps = np.empty(k, dtype=np.int64)
        for row in range(block_starts[b] + t % per_block, block_starts[b + 1], per_block):
            q = row - block_starts[b]
            for i in range(k):
                j = i + int(_uniform(seed, q, i) * (n - i))
                swaps[i] = j
                tmp = perm[i]
                perm[i] = perm[j]
                perm[j] = tmp
                out[row, i] = perm[i]
            for i in range(k - 1, -1, -1):  # undo: back to the identity for the next row
                j = swaps[i]
                tmp = perm[i]
                perm[i] = perm[j]
                perm[j] = tmp
    return out


# --------------------------------------------------------------------------- permutation null


@njit(cache=True, inline="always")
def _signed_es(top, bottom):
    """The deviation of larger magnitude; 0 when top and bottom tie (within ``TIE_TOL``)."""
    if top + bottom > TIE_TOL:
        return top
    if top + bottom < -TIE_TOL:
        return bottom
    return 0.0


@njit(cache=True)
def _unit_weight_es_sorted(spos, n, k):
    """ES when every drawn weight is 0: each hit counts 1/k (the reference's operations, as the
    symmetric cases where top and bottom tie are common here)."""
    top = -np.inf
    bottom = np.inf
    inv = 1.0 / k
    inv_miss = 1.0 / (n - k)
    for i in range(k):
        t = (i + 1.0) * inv
        t -= (spos[i] - i) * inv_miss
        top = max(top, t)
        bottom = min(bottom, t - inv)
    return _signed_es(top, bottom)


@njit(cache=True)
def _scan_group(wt, draws, p0, p1, n, sizes, out_es):
    """Null ES ``out_es[r, p - p0, d]`` of the first ``sizes[d]`` draws of permutations p0..p1-1
    for a group of rankings (``wt (N, G)``: weights in rank order, one column per ranking).

    The draws are inserted one by one into a sorted list shared by the group; at each tested size
    one pass over it computes every ranking's running sum, the rankings being the innermost
    (vectorised) loop: the same arithmetic per ranking whichever rankings share the group."""
    g = wt.shape[1]
    k_max = sizes[sizes.shape[0] - 1]
    spos = np.empty(k_max, dtype=np.int64)
    total = np.empty(g)
    lam = np.empty(g)
    c = np.empty(g)
    top = np.empty(g)
    bottom = np.empty(g)
    for p in range(p0, p1):
        inserted = 0
        total[:] = 0.0
        for d in range(sizes.shape[0]):
            k = sizes[d]
            while inserted < k:
                pos = draws[p, inserted]
                lo = 0
                hi = inserted
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if spos[mid] < pos:
                        lo = mid + 1
                    else:
                        hi = mid
                for i in range(inserted, lo, -1):
                    spos[i] = spos[i - 1]
                spos[lo] = pos
                for r in range(g):
                    total[r] += wt[pos, r]
                inserted += 1
            inv_miss = 1.0 / (n - k)
            for r in range(g):
                lam[r] = total[r] * inv_miss
                c[r] = 0.0
                top[r] = -np.inf
                bottom[r] = np.inf
            for i in range(k):
                pos = spos[i]
                x = float(pos - i)
                for r in range(g):
                    v = c[r] - lam[r] * x  # just before the hit
                    bottom[r] = min(bottom[r], v)
                    wv = wt[pos, r]
                    c[r] += wv
                    top[r] = max(top[r], v + wv)
            for r in range(g):
                if total[r] == 0.0:
                    out_es[r, p - p0, d] = _unit_weight_es_sorted(spos, n, k)
                    continue
                t = top[r] / total[r]
                b = bottom[r] / total[r]
                out_es[r, p - p0, d] = _signed_es(t, b)


@njit(cache=True)
def _scan_one(w, draws, p0, p1, n, sizes, out_es):
    """:func:`_scan_group` for a single ranking (``w (N,)``), with the very same operations per
    element. Alone, the insertions would cost as much as the passes, so the draws between two
    tested sizes are sorted among themselves and merged into the list during the pass."""
    k_max = sizes[sizes.shape[0] - 1]
    listed = np.empty(k_max, dtype=np.int64)
    merged = np.empty(k_max, dtype=np.int64)
    fresh = np.empty(k_max, dtype=np.int64)
    for p in range(p0, p1):
        m = 0
        total = 0.0
        for d in range(sizes.shape[0]):
            k = sizes[d]
            nf = 0
            for t in range(m, k):
                pos = draws[p, t]
                total += w[pos]
                j = nf
                while j > 0 and fresh[j - 1] > pos:
                    fresh[j] = fresh[j - 1]
                    j -= 1
                fresh[j] = pos
                nf += 1
            lam = total * (1.0 / (n - k))
            c = 0.0
            top = -np.inf
            bottom = np.inf
            i = 0
            jf = 0
            for q in range(k):
                if jf < nf and (i >= m or fresh[jf] < listed[i]):
                    pos = fresh[jf]
                    jf += 1
                else:
                    pos = listed[i]
                    i += 1
                merged[q] = pos
                v = c - lam * float(pos - q)
                bottom = min(bottom, v)
                wv = w[pos]
                c += wv
                top = max(top, v + wv)
            listed, merged = merged, listed
            m = k
            if total == 0.0:
                out_es[p - p0, d] = _unit_weight_es_sorted(listed, n, k)
                continue
            out_es[p - p0, d] = _signed_es(top / total, bottom / total)


@njit(cache=True, parallel=True)
def null_counts(
    wt,
    group,
    draws,
    block_starts,
    sizes,
    set_ptr,
    set_idx,
    obs,
    le_es,
    ge_es,
    le0,
    ge0,
    sum_pos,
    sum_neg,
):
    """Permutation-null counts of every (group of rankings, block), one per thread.

    wt ``(N, R)`` weights in rank order, one column per ranking, processed ``group`` columns
    at a time; draws ``(P, K)`` rank positions in draw order, shared by every ranking; block
    ``b`` is permutations ``block_starts[b]..block_starts[b+1]-1``; sizes ``(D,)`` ascending
    distinct set sizes; the sets of size ``sizes[d]`` are ``set_idx[set_ptr[d]:set_ptr[d+1]]``;
    obs ``(R, S)`` observed ES. Outputs, per block: ``le_es, ge_es (nb, R, S)`` null ES <= / >=
    the observed one (within ``TIE_TOL``); ``le0, ge0 (nb, R, D)`` null ES <= 0 / >= 0; ``sum_pos, sum_neg
    (nb, R, D)`` sums of the positive / negative null ES (in permutation order). Each
    (ranking, block) gets the same numbers whatever the threads and groups.
    """
    n, r_count = wt.shape
    nb = block_starts.shape[0] - 1
    d_count = sizes.shape[0]
    n_groups = (r_count + group - 1) // group
    for t in prange(n_groups * nb):
        gi = t // nb
        b = t % nb
        r0 = gi * group
        r1 = min(r_count, r0 + group)
        p0 = block_starts[b]
        p1 = block_starts[b + 1]
        es = np.empty((r1 - r0, p1 - p0, d_count))
        if r1 - r0 == 1:
            _scan_one(np.ascontiguousarray(wt[:, r0]), draws, p0, p1, n, sizes, es[0])
        else:
            _scan_group(np.ascontiguousarray(wt[:, r0:r1]), draws, p0, p1, n, sizes, es)
        for rr in range(r1 - r0):
            r = r0 + rr
            for d in range(d_count):
                lo = 0
                hi = 0
                sp = 0.0
                sn = 0.0
                for q in range(p1 - p0):
                    v = es[rr, q, d]
                    if v <= 0.0:
                        lo += 1
                        sn += v
                    if v >= 0.0:
                        hi += 1
                        sp += v
                le0[b, r, d] = lo
                ge0[b, r, d] = hi
                sum_pos[b, r, d] = sp
                sum_neg[b, r, d] = sn
                for j in range(set_ptr[d], set_ptr[d + 1]):
                    s = set_idx[j]
                    o = obs[r, s]
                    cl = 0
                    cg = 0
                    for q in range(p1 - p0):
                        v = es[rr, q, d]
                        cl += v <= o + TIE_TOL
                        cg += v >= o - TIE_TOL
                    le_es[b, r, s] = cl
                    ge_es[b, r, s] = cg


@njit(cache=True, parallel=True)
def null_es_scan(wt, group, draws, sizes):
    """The null ES themselves, ``(R, P, D)``, by the group scan: for tests."""
    n, r_count = wt.shape
    out = np.empty((r_count, draws.shape[0], sizes.shape[0]))
    n_groups = (r_count + group - 1) // group
    for gi in prange(n_groups):
        r0 = gi * group
        r1 = min(r_count, r0 + group)
        if r1 - r0 == 1:
            _scan_one(np.ascontiguousarray(wt[:, r0]), draws, 0, draws.shape[0], n, sizes, out[r0])
        else:
            _scan_group(
                np.ascontiguousarray(wt[:, r0:r1]), draws, 0, draws.shape[0], n, sizes, out[r0:r1]
            )
    return out


# ----------------------------------------------------------------------- multilevel splitting


@njit(cache=True)
def _ml_extremes(w, pos, k, inv_miss, cum, total):
    """ES of the sorted positions ``pos[:k]`` whose cumulated weights are ``cum[:k]``, with the
    reference's floating-point operations (``_es`` in multilevel.py)."""
    unit = total == 0.0
    if unit:
        for i in range(k):
            cum[i] = i + 1.0
        total = float(k)
    inv = 1.0 / total
    top = -np.inf
    bottom = np.inf
    for i in range(k):
        t = cum[i] * inv
        t -= (pos[i] - i) * inv_miss
        top = max(top, t)
        wi = 1.0 if unit else w[pos[i]]
        t -= wi * inv
        bottom = min(bottom, t)
    if top > -bottom:
        return top
    if top < -bottom:
        return bottom
    return 0.0


@njit(cache=True)
def _ml_es(w, pos, k, inv_miss, cum):
    c = 0.0
    for i in range(k):
        c += w[pos[i]]
        cum[i] = c
    return _ml_extremes(w, pos, k, inv_miss, cum, c)


@njit(cache=True)
def _ml_propose(w, row, k, out_j, new, prop, cum):
    """Sorted proposal ``row`` minus slot ``out_j`` plus ``new``, with its cumulated weights, in
    one pass; returns -1.0 when ``new`` is already a member (no proposal), else the total."""
    q = 0
    c = 0.0
    placed = False
    for src_q in range(k):
        v = row[src_q]
        if v == new:
            return -1.0
        if src_q == out_j:
            continue
        if not placed and new < v:
            prop[q] = new
            c += w[new]
            cum[q] = c
            q += 1
            placed = True
        prop[q] = v
        c += w[v]
        cum[q] = c
        q += 1
    if not placed:
        prop[q] = new
        c += w[new]
        cum[q] = c
    return c


@njit(cache=True)
def _ml_task(w, target, seed, k, init_pos, eps, steps, max_levels):
    """One multilevel estimate (see :mod:`radiogenomics.enrichment.multilevel`)."""
    n = w.shape[0]
    m_count = init_pos.shape[0]
    pos = init_pos.copy()
    nxt = np.empty_like(pos)
    es = np.empty(m_count)
    es_next = np.empty(m_count)
    buf = np.empty(k)
    prop = np.empty(k, dtype=np.int64)
    inv_miss = 1.0 / (n - k)
    for i in range(m_count):
        es[i] = _ml_es(w, pos[i], k, inv_miss, buf)
    log_p = 0.0
    levels = 0
    log_eps = math.log(eps)
    mid = m_count // 2
    above = np.empty(m_count, dtype=np.bool_)
    survivors = np.empty(m_count, dtype=np.int64)
    while True:
        thr = np.sort(es)[mid]
        done = thr >= target
        floor = (log_p < log_eps) or (levels >= max_levels)
        if done or floor:
            n_final = 0
            for i in range(m_count):
                n_final += es[i] >= target
            return math.exp(log_p) * (n_final / m_count), levels, floor and not done
        n_above = 0
        for i in range(m_count):
            above[i] = es[i] > thr
            n_above += above[i]
        if n_above == 0:  # a flat top half: count it as surviving to move on
            for i in range(m_count):
                above[i] = es[i] >= thr
                n_above += above[i]
        log_p += math.log(n_above / m_count)
        levels += 1
        j = 0
        for i in range(m_count):
            if above[i]:
                survivors[j] = i
                j += 1
        base_counter = levels * 4096
        for i in range(m_count):
            src = i
            if not above[i]:
                u = _uniform(seed, base_counter, i)
                pick = min(int(u * n_above), n_above - 1)
                src = survivors[pick]
            nxt[i, :] = pos[src, :]
            es_next[i] = es[src]
        pos, nxt = nxt, pos
        es, es_next = es_next, es
        for step in range(steps):
            counter = base_counter + 1 + step
            for i in range(m_count):
                u0 = _uniform(seed, counter, 2 * i)
                u1 = _uniform(seed, counter, 2 * i + 1)
                out_j = int(u0 * k)
                new = int(u1 * n)
                row = pos[i]
                total = _ml_propose(w, row, k, out_j, new, prop, buf)
                if total < 0.0:
                    continue
                es_new = _ml_extremes(w, prop, k, inv_miss, buf, total)
                if es_new > thr:
                    row[:] = prop
                    es[i] = es_new


@njit(cache=True, parallel=True)
def multilevel_tasks(
    weights, w_row, target, seeds, sizes, init_pos, init_ptr, eps, steps, max_levels
):
    """Multilevel estimates of ``P(ES >= target[t])``, one task per thread.

    weights ``(W, N)``: the rows the tasks use (already reversed for negative ES), task t using
    ``weights[w_row[t]]``; its initial sample is rows ``init_ptr[t]..init_ptr[t+1]-1`` of
    ``init_pos`` (sorted positions, padded to the largest size). Returns pval, levels, hit_eps.
    """
    t_count = target.shape[0]
    pval = np.empty(t_count)
    levels = np.zeros(t_count, dtype=np.int64)
    hit = np.zeros(t_count, dtype=np.bool_)
    for t in prange(t_count):
        k = sizes[t]
        init = np.ascontiguousarray(init_pos[init_ptr[t] : init_ptr[t + 1], :k])
        p, lv, h = _ml_task(
            weights[w_row[t]], target[t], seeds[t], k, init, eps, steps[t], max_levels
        )
        pval[t] = p
        levels[t] = lv
        hit[t] = h
    return pval, levels, hit
