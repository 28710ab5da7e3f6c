"""Single-gene masking by Chebyshev interpolation, exact wherever a ranking could change.

With every other gene at the training mean (standardised value 0), the masked network's logits
for gene g are a function of one number, the gene's standardised value z: f_g(z) =
tail(b + z * W[:, g]). For tanh and sigmoid networks f_g is analytic, so its Chebyshev
interpolant on the observed range [min z, max z] converges geometrically. Instead of one row
per (gene, distinct value) through the layers after the first (the cost of exact masking), each
gene costs the rows of a few Chebyshev-Lobatto nodes, and every patient's logits are read off
the interpolant.

What makes the scores equal to exact masking, not merely close:

1. Error bound. The nodes are nested (9 in 17 in 33 in 65), so the interpolant on the coarser
   grid is checked against exact rows at the new nodes of the finer one; those sit where the
   coarse interpolant's error peaks. A gene passes when that residual r is at most
   ``max(ATOL, noise)``, where ``noise`` is the float32 rounding of the exact path itself
   (measured once per call against float64). The finer interpolant is then used with the bound
   ``E = SAFETY * max(r, noise)`` plus the float32 rounding of the interpolated value. A gene
   that never passes, or whose next grid would cost as many rows as its distinct values, is
   computed exactly. Networks whose f_g is not analytic (ReLU, or a network the engine cannot
   read) are always computed exactly.
2. Near-ties re-evaluated exactly. AUC and AP depend only on the order of the patients'
   scores (and on exact ties). Per gene and class the scores are sorted; neighbours closer than
   twice the bound form a cluster, and every member of a cluster of two or more is evaluated
   exactly. Two patients in different clusters have interpolated scores more than 2E apart, so
   their exact scores are ordered the same way; inside a cluster the scores are exact. The
   order, ties included, is therefore that of exact masking, and so are AUC and AP.
3. Same bits as the exact path. Near-ties (and genes computed exactly) go through
   ``MaskingEngine.pair_logits`` at the slots the exact path gives them; its fixed-height,
   slot-aligned chunks give a (gene, value) pair the same bits in any call, so a re-evaluated
   score is the exact path's score to the last bit.

The returned logits of the other patients differ from exact ones by at most E (about 1e-8 to
1e-6 on the networks measured), so probabilities agree far below the 1e-5 the tests use.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from radiogenomics.interpret._engine import MaskingEngine, pair_slots, unique_pairs

LEVELS = (9, 17, 33, 65)  # nested Chebyshev-Lobatto grids: each holds every node of the previous
SAFETY = 4.0  # the bound over the measured residual (the finer interpolant is far better still)
ATOL = 1e-6  # logits: a residual this small passes even above the rounding noise
NOISE_GENES = 64  # genes (4 values each) whose float32 rows are compared with float64
GENES_PER_CHUNK = 512  # interpolated genes evaluated together (bounds the temporaries)
# Below this many multiply-adds per row in the layers after the first, an exact row costs less
# than the interpolation's bookkeeping per value (measured: a 14k -> 32 -> 4 network, 128 per
# row, ran 1.2x slower interpolated; the demo's 2000 -> 128/64/32 -> 1, 10k per row, 1.7x faster)
MIN_TAIL_MACS = 4096
_SMOOTH = (nn.Tanh, nn.Sigmoid)


@dataclass
class InterpolationStats:
    """What the interpolated path did, for the run's notes and the benchmark."""

    genes: int = 0
    interpolated: dict[int, int] | None = None  # nodes per gene -> genes interpolated with it
    exact_genes: int = 0  # genes computed exactly (few distinct values, no pass, or not smooth)
    rows: int = 0  # rows through the network (nodes, near-ties, exact genes, noise check)
    exact_rows: int = 0  # rows the exact path needs (distinct (gene, value) pairs)
    near_ties: int = 0  # interpolated values re-evaluated exactly
    noise: float = 0.0  # float32 rounding of the exact logits (max over the sample)
    max_bound: float = 0.0  # largest error bound used for an interpolated gene
    reason: str = ""  # why nothing was interpolated, if so

    @classmethod
    def pooled(cls, parts: list[InterpolationStats]) -> InterpolationStats:
        """One summary for several models (out of fold: one per fold model)."""
        out = cls(interpolated={})
        for p in parts:
            out.genes += p.genes
            for n, g in (p.interpolated or {}).items():
                out.interpolated[n] = out.interpolated.get(n, 0) + g
            out.exact_genes += p.exact_genes
            out.rows += p.rows
            out.exact_rows += p.exact_rows
            out.near_ties += p.near_ties
            out.noise = max(out.noise, p.noise)
            out.max_bound = max(out.max_bound, p.max_bound)
        reasons = {p.reason for p in parts}
        if len(reasons) == 1:
            out.reason = reasons.pop()
        return out

    def note(self, n_models: int = 1) -> str:
        models = f" over {n_models} models" if n_models > 1 else ""
        if self.reason:
            return f"single genes: computed exactly ({self.reason}){models}"
        levels = ", ".join(f"{g} with {n} nodes" for n, g in sorted(self.interpolated.items()))
        n_interp = sum(self.interpolated.values())
        return (
            f"single genes{models}: {n_interp} of {self.genes} interpolated ({levels}), "
            f"{self.exact_genes} exact; {self.near_ties} near-tie values re-evaluated exactly; "
            f"{self.rows} network rows instead of {self.exact_rows} "
            f"(max logit error bound {self.max_bound:.1e}, float32 noise {self.noise:.1e})"
        )


def is_smooth(engine: MaskingEngine) -> bool:
    """True when every activation is analytic (tanh, sigmoid) in a network the engine folded."""
    if not engine.fused:
        return False
    return all(type(blk.act) in _SMOOTH for blk in engine.network.blocks)


def lobatto(n: int) -> np.ndarray:
    """Chebyshev-Lobatto points cos(pi k / (n - 1)), k = 0..n-1 (from 1 down to -1)."""
    return np.cos(np.pi * np.arange(n) / (n - 1))


def _bary_weights(n: int) -> np.ndarray:
    w = (-1.0) ** np.arange(n)
    w[0] *= 0.5
    w[-1] *= 0.5
    return w


def barycentric(t: np.ndarray, x: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Evaluate Chebyshev-Lobatto interpolants at points, one interpolant per row.

    ``t``: (genes, points) in [-1, 1]; ``x``: (genes, n) the nodes actually used (Lobatto
    points up to the rounding of the node values); ``f``: (genes, n, outputs) values at the
    nodes. Returns (genes, points, outputs). A point equal to a node takes the node's value.
    """
    w = _bary_weights(x.shape[1])
    d = t[:, :, None] - x[:, None, :]
    hit = d == 0
    d[hit] = 1.0
    q = w / d
    num = np.einsum("gpn,gno->gpo", q, f)
    den = q.sum(axis=2)
    out = num / den[:, :, None]
    gi, pi, ni = np.nonzero(hit)
    out[gi, pi] = f[gi, ni]
    return out


def _float64_logits(engine: MaskingEngine, cols: torch.Tensor, vals: torch.Tensor) -> np.ndarray:
    """The engine's folded layers in float64 (the rounding-free reference of the noise check)."""
    with torch.inference_mode():
        h = engine.WT[cols].double() * vals.double()[:, None] + engine.b0.double()
        engine.act0(h)
        for lw, lb, act in engine.layers:
            h = torch.addmm(lb.double(), h, lw.double())
            if act is not None:
                act(h)
    return h.cpu().numpy()


def rounding_noise(
    engine: MaskingEngine, cols: np.ndarray, vals: np.ndarray, low: np.ndarray
) -> float:
    """Largest |exact logits ``low`` - float64 logits| over sample rows (0 for float64 nets)."""
    if engine.WT.dtype == torch.float64 or len(cols) == 0:
        return 0.0
    dev = engine.WT.device
    c = torch.as_tensor(cols, device=dev)
    v = torch.as_tensor(vals, device=dev, dtype=engine.WT.dtype)
    return float(np.abs(low.astype(np.float64) - _float64_logits(engine, c, v)).max())


def class_scores(logits: np.ndarray, binary: bool) -> np.ndarray:
    """Ranking score of each scored class: the log-probability (a monotone map of it).

    Ranking by log-probability computed in float64 gives the same AUC/AP as exact
    probabilities, without the ties a float32 sigmoid/softmax creates when it saturates.
    The masking table and the near-tie check both score with this function.
    """
    x = logits.astype(np.float64)
    if binary:
        return x[..., :1]
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def near_ties(scores: np.ndarray, group: np.ndarray, bound: np.ndarray) -> np.ndarray:
    """Rows whose score lies within 2 * bound of another row's score of the same group.

    ``scores``: rows x classes; ``group``: the gene of each row; ``bound``: per row, the error
    bound of its scores. Sorting each class's scores within the gene and linking neighbours
    closer than twice the bound flags exactly the members of clusters of two or more.
    """
    flagged = np.zeros(len(group), dtype=bool)
    for j in range(scores.shape[1]):
        order = np.lexsort((scores[:, j], group))
        s, g, b = scores[order, j], group[order], bound[order]
        close = (g[1:] == g[:-1]) & (s[1:] - s[:-1] <= 2.0 * np.maximum(b[1:], b[:-1]))
        flagged[order[1:][close]] = True
        flagged[order[:-1][close]] = True
    return flagged


@dataclass
class _Genes:
    """The distinct (gene, value) pairs of the genes to mask, gene-major, values ascending."""

    col: np.ndarray  # model column of each pair
    val: np.ndarray  # standardised value (the network's dtype)
    gene: np.ndarray  # position of the pair's gene in the request
    start: np.ndarray  # first pair of each gene
    count: np.ndarray  # distinct values of each gene

    @property
    def lo(self) -> np.ndarray:
        return self.val[self.start].astype(np.float64)

    @property
    def hi(self) -> np.ndarray:
        return self.val[self.start + self.count - 1].astype(np.float64)

    def nodes(self, g: np.ndarray, n: int, k: np.ndarray) -> np.ndarray:
        """Values of nodes k of the n-point grid on each gene's range (genes x k, ascending)."""
        lo, hi = self.lo[g], self.hi[g]
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        z = (mid[:, None] - half[:, None] * lobatto(n)[k][None, :]).astype(self.val.dtype)
        z[:, k == 0] = self.val[self.start[g]][:, None]  # the ends are patients' values
        z[:, k == n - 1] = self.val[self.start[g] + self.count[g] - 1][:, None]
        return z

    def to_t(self, g: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Values mapped to [-1, 1] (nodes ascend: lobatto() reversed, the same weights)."""
        lo, hi = self.lo[g][:, None], self.hi[g][:, None]
        return (2.0 * z.astype(np.float64) - (lo + hi)) / (hi - lo)


@dataclass
class _Fit:
    """Genes whose interpolant passed: their nodes, values there, and checked residual."""

    genes: np.ndarray
    z: np.ndarray  # genes x nodes
    f: np.ndarray  # genes x nodes x outputs (exact rows, float32)
    resid: np.ndarray  # genes


def _distinct_pairs(Z: torch.Tensor, genes: np.ndarray) -> tuple[_Genes, np.ndarray]:
    Zg = Z[:, torch.as_tensor(genes, device=Z.device)].cpu().numpy()
    pair_gene, pair_val, row_of = unique_pairs(Zg)
    count = np.bincount(pair_gene, minlength=len(genes))
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    return _Genes(genes[pair_gene], pair_val, pair_gene, start, count), row_of


def _fit_grids(
    engine: MaskingEngine, pairs: _Genes, candidates: np.ndarray, run, stats: InterpolationStats
) -> list[_Fit]:
    """Nested grids per gene until the coarser interpolant checks out (or the gene drops out).

    The first call also computes the rows of the rounding-noise check (``stats.noise``).
    """
    n = LEVELS[0]
    active = candidates
    z_nodes = pairs.nodes(active, n, np.arange(n))
    first, count = pairs.start[active], pairs.count[active]
    sample = np.unique(np.linspace(0, len(active) - 1, NOISE_GENES).astype(int))
    pick = np.concatenate([first, first + count - 1, first + count // 3, first + count // 2])
    pick = pick.reshape(4, -1)[:, sample].reshape(-1)
    level0 = run(
        np.concatenate([np.repeat(pairs.col[first], n), pairs.col[pick]]),
        np.concatenate([z_nodes.reshape(-1), pairs.val[pick]]),
    )
    f_nodes = level0[: len(active) * n].reshape(len(active), n, -1)
    noise = rounding_noise(engine, pairs.col[pick], pairs.val[pick], level0[len(active) * n :])
    stats.noise = noise
    fits = []
    for level in range(1, len(LEVELS)):
        n_new = LEVELS[level]
        new_k = np.arange(1, n_new, 2)
        z_new = pairs.nodes(active, n_new, new_k)
        f_new = run(
            np.repeat(pairs.col[pairs.start[active]], len(new_k)), z_new.reshape(-1)
        ).reshape(len(active), len(new_k), -1)
        # the coarse interpolant at the new nodes, where its error peaks
        coarse = barycentric(
            pairs.to_t(active, z_new), pairs.to_t(active, z_nodes), f_nodes.astype(np.float64)
        )
        resid = np.abs(coarse - f_new).max(axis=(1, 2))
        # the fine grid, ascending: the coarse nodes at even positions, the new ones at odd
        z_fine = np.empty((len(active), n_new), dtype=z_nodes.dtype)
        f_fine = np.empty((len(active), n_new, f_nodes.shape[2]), dtype=np.float32)
        z_fine[:, 0::2], z_fine[:, 1::2] = z_nodes, z_new
        f_fine[:, 0::2], f_fine[:, 1::2] = f_nodes, f_new
        ok = resid <= max(ATOL, noise)
        if ok.any():
            fits.append(_Fit(active[ok], z_fine[ok], f_fine[ok], resid[ok]))
            stats.interpolated[n_new] = stats.interpolated.get(n_new, 0) + int(ok.sum())
        if level + 1 == len(LEVELS):
            break
        more = ~ok & (pairs.count[active] > LEVELS[level + 1])  # else exact is as cheap
        active, z_nodes, f_nodes = active[more], z_fine[more], f_fine[more]
        if len(active) == 0:
            break
    return fits


def _interpolate(
    pairs: _Genes, fit: _Fit, noise: float, logits: np.ndarray, bound: np.ndarray
) -> float:
    """Write every distinct value's interpolated logits and error bound; return the max bound."""
    biggest = 0.0
    for i in range(0, len(fit.genes), GENES_PER_CHUNK):
        g = fit.genes[i : i + GENES_PER_CHUNK]
        z, f, resid = (a[i : i + GENES_PER_CHUNK] for a in (fit.z, fit.f, fit.resid))
        # every distinct value of these genes, padded to the largest count for one einsum
        width = int(pairs.count[g].max())
        idx = pairs.start[g][:, None] + np.minimum(np.arange(width), pairs.count[g][:, None] - 1)
        values = barycentric(
            pairs.to_t(g, pairs.val[idx]), pairs.to_t(g, z), f.astype(np.float64)
        ).astype(np.float32)
        scale = np.abs(values).max(axis=(1, 2))
        e = SAFETY * np.maximum(resid, noise) + np.spacing(scale)  # + one float32 ulp
        logits[idx] = values  # even on a node: nodes are not laid out like the exact path
        bound[idx] = e[:, None]
        biggest = max(biggest, float(e.max(initial=0.0)))
    return biggest


def interpolated_single_gene_logits(
    engine: MaskingEngine,
    Z: torch.Tensor,
    genes: np.ndarray,
    binary: bool,
) -> tuple[np.ndarray, InterpolationStats]:
    """Single-gene masked logits with the AUC/AP of exact masking (see the module docstring).

    ``Z`` is patients x model genes (standardised, on the network's device); ``genes`` are
    column positions of Z; ``binary`` says how the table scores the logits (the logit itself,
    or each class's log-softmax). Returns float32 (len(genes), patients, n_outputs) like
    ``MaskingEngine.single_gene_logits``, and what was done.
    """
    genes = np.asarray(genes, dtype=np.int64)
    n_pat = Z.shape[0]
    pairs, row_of = _distinct_pairs(Z, genes)
    stats = InterpolationStats(genes=len(genes), interpolated={}, exact_rows=len(pairs.col))
    if len(pairs.col) == 0:
        return np.empty((len(genes), n_pat, 0), dtype=np.float32), stats

    def run(cols: np.ndarray, vals: np.ndarray, slots: np.ndarray | None = None) -> np.ndarray:
        stats.rows += len(cols)
        if len(cols) == 0:
            return np.empty((0, n_out), dtype=np.float32)
        return engine.pair_logits(cols, vals, slots)

    n_out = engine.pair_logits(pairs.col[:1], pairs.val[:1]).shape[1]  # one row
    logits = np.zeros((len(pairs.col), n_out), dtype=np.float32)
    bound = np.zeros(len(pairs.col))
    candidates = np.flatnonzero(pairs.count > LEVELS[1])  # fewer values: exact is as cheap
    fits = []
    if not is_smooth(engine):
        stats.reason = "the network's activations are not all tanh/sigmoid"
    elif engine.tail_macs < MIN_TAIL_MACS:
        stats.reason = (
            f"the layers after the first are small ({engine.tail_macs} multiply-adds per row): "
            "exact rows cost less"
        )
    elif len(candidates) == 0:
        stats.reason = f"no gene has more than {LEVELS[1]} distinct values"
    else:
        fits = _fit_grids(engine, pairs, candidates, run, stats)
    interpolated = np.zeros(len(genes), dtype=bool)
    for fit in fits:
        interpolated[fit.genes] = True
        biggest = _interpolate(pairs, fit, stats.noise, logits, bound)
        stats.max_bound = max(stats.max_bound, biggest)

    # exact rows, at the exact path's slots: genes not interpolated, then the near-ties
    slots = pair_slots(pairs.col, pairs.gene)
    plain = np.flatnonzero(~interpolated[pairs.gene])
    stats.exact_genes = int((~interpolated).sum())
    logits[plain] = run(pairs.col[plain], pairs.val[plain], slots[plain])
    rows = np.flatnonzero(interpolated[pairs.gene])
    score_bound = bound[rows] * (1.0 if binary else 2.0)  # log-softmax: twice a logit's error
    scores = class_scores(logits[rows], binary)
    flagged = rows[near_ties(scores, pairs.gene[rows], score_bound)]
    stats.near_ties = len(flagged)
    logits[flagged] = run(pairs.col[flagged], pairs.val[flagged], slots[flagged])
    out = logits[row_of]  # patients x genes x outputs
    return np.ascontiguousarray(out.transpose(1, 0, 2)), stats
