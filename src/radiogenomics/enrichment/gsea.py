"""Preranked GSEA with fgsea semantics (METHOD.md section 6), one ranking or thousands at once.

- ES: weighted Kolmogorov-Smirnov running sum; hits step up by ``|r|^weight / sum over hits``,
  misses step down by ``1 / (N - k)``; ES is the running sum's largest deviation from zero
  (0 when the positive and negative extremes are equal, as fgsea; equal within 1e-10, so that
  rounding does not pick a sign). Null ES within 1e-10 of the observed ES count as ties.
- Ties: genes are ordered by score (descending), ties broken by gene name, so the result never
  depends on input order; the number of tied scores is reported.
- Null: fgsea's simple algorithm (one random sample of the largest size per permutation, smaller
  sizes read off its prefixes), shared by every set and every ranking over the same genes;
  computed by compiled kernels on the CPU (``engine="numba"``) or by torch on any device
  (``engine="torch"``: the reference implementation, and the CUDA path).
- p = min((1 + #null <= ES) / (1 + #null <= 0), (1 + #null >= ES) / (1 + #null >= 0));
  NES = ES / mean of the same-signed null ES; BH over the sets of each ranking.
- Small p: sets with no null ES as extreme as theirs get a multilevel estimate (see
  :mod:`radiogenomics.enrichment.multilevel`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import torch
from scipy.special import polygamma

from radiogenomics.enrichment._null import (
    PERM_BLOCK,
    TIE_TOL,
    NullAccumulator,
    compiled_null_counts,
    perm_blocks,
)
from radiogenomics.errors import InputError
from radiogenomics.utils.device import default_device
from radiogenomics.utils.results import ResultMixin, new_axes, top_bars
from radiogenomics.utils.stats import benjamini_hochberg
from radiogenomics.utils.text import count

RESULT_COLUMNS = [
    "set",
    "size",
    "es",
    "nes",
    "pval",
    "padj",
    "log2err",
    "n_more_extreme",
    "pval_method",
    "leading_edge",
]


@dataclass
class GseaResult(ResultMixin):
    """A preranked GSEA run and its settings.

    ``table``: one row per (ranking, set) for :func:`gsea_many` (ranking, set, size, es, nes,
    pval, padj, log2err, n_more_extreme, pval_method, leading_edge), the same without the
    ranking column for :func:`gsea`. ``n_tied``: tied scores per ranking; ``n_sets_dropped``:
    sets outside ``min_size..max_size`` among the ranked genes.
    """

    TITLE = "Preranked GSEA"
    SETTINGS = (
        "rankings",
        "nperm",
        "min_size",
        "max_size",
        "weight",
        "seed",
        "small_p",
        "n_sets_dropped",
    )

    table: pd.DataFrame
    rankings: tuple[str, ...]
    nperm: int
    min_size: int
    max_size: int
    weight: float
    seed: int
    small_p: str | None
    n_tied: dict[str, int]
    n_sets_dropped: int

    def ranking_table(self, ranking: str | None = None) -> pd.DataFrame:
        """The rows of one ranking (default: the only or the first one)."""
        if "ranking" not in self.table.columns:
            return self.table
        names = list(self.rankings)
        if ranking is None:
            ranking = names[0] if names else None
        if ranking not in names:
            raise InputError(
                f"no ranking {ranking!r}", field="ranking", expected=f"one of {names[:10]}"
            )
        return self.table[self.table["ranking"] == ranking].drop(columns="ranking")

    def plot(self, ax=None, n: int = 20, ranking: str | None = None, padj_max: float = 0.05):
        """Bars of NES of the ``n`` sets with the largest |NES| in one ranking (default: the
        first), red where padj < ``padj_max``; on ``ax`` or a new figure. Returns the Axes."""
        if n < 1:
            raise InputError(f"n={n}", field="n", expected="1 or more")
        rows = self.ranking_table(ranking)
        rows = rows.loc[rows["nes"].abs().sort_values(ascending=False, kind="stable").index[:n]]
        ax = new_axes(ax, figsize=(5.5, 1.0 + 0.25 * max(len(rows), 1)))
        colors = np.where(rows["padj"].to_numpy(float) < padj_max, "#c0392b", "#7f8c8d")
        name = ranking if ranking is not None else (self.rankings[0] if self.rankings else "")
        top_bars(ax, rows["set"], rows["nes"], f"NES (red: padj < {padj_max:g})", name, colors)
        ax.axvline(0, color="grey", lw=0.6)
        return ax


class NoSetTestedWarning(UserWarning):
    """No gene set has ``min_size..max_size`` genes among the ranked genes: nothing tested."""


class TiedScoresWarning(UserWarning):
    """Some rankings have tied scores (ordered by gene name); ``n_tied`` has the counts."""


@dataclass
class RankedGenes:
    """Rankings over one gene universe, each in its own rank order.

    genes: the universe (``N``); order: ``(R, N)`` gene index at each rank (0 = top);
    weights: ``(R, N)`` ``|score|^weight`` in rank order; scores: ``(R, N)`` scores in rank order;
    n_tied: per ranking, how many genes share their (non-zero) score with a gene ranked above.
    """

    names: list[str]
    genes: np.ndarray
    order: np.ndarray
    scores: np.ndarray
    weights: np.ndarray
    n_tied: np.ndarray


@dataclass
class PreparedSets:
    """Gene sets restricted to the universe and filtered by size (members as gene indices)."""

    names: list[str]
    members: list[np.ndarray]
    sizes: np.ndarray
    n_dropped: int


def rank_genes(rankings: pd.DataFrame, weight: float = 1.0) -> RankedGenes:
    """Validate a genes x rankings frame and order each ranking (score desc, then gene name)."""
    if not isinstance(rankings, pd.DataFrame):
        raise InputError(
            "rankings must be a DataFrame", field="rankings", expected="genes x rankings"
        )
    if rankings.shape[0] < 2 or rankings.shape[1] < 1:
        raise InputError(
            f"rankings has shape {rankings.shape}",
            field="rankings",
            expected="at least 2 genes (rows) and 1 ranking (column)",
        )
    names = rankings.columns.astype(str)
    if names.has_duplicates:  # results are keyed by ranking name: two would be merged
        raise InputError(
            f"ranking names used twice: {sorted(set(names[names.duplicated()]))}",
            field="rankings columns",
            expected="one name per ranking",
        )
    genes = rankings.index.astype(str)
    dup = genes[genes.duplicated()]
    if len(dup):
        raise InputError(
            f"{len(dup)} duplicated gene names, e.g. {', '.join(map(str, dup[:5]))}",
            field="ranking index",
            expected="one score per gene (aggregate duplicates first)",
        )
    try:
        values = rankings.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            "scores are not numeric", field="ranking scores", expected="numbers"
        ) from None
    bad = ~np.isfinite(values)
    if bad.any():
        col = rankings.columns[np.flatnonzero(bad.any(axis=0))[0]]
        gene = genes[np.flatnonzero(bad.any(axis=1))[0]]
        raise InputError(
            f"{int(bad.sum())} missing or infinite scores (first: gene {gene!r})",
            field=f"ranking {col!r}",
            expected="a finite score for every gene (drop genes without one)",
        )
    constant = np.flatnonzero((values == values[:1]).all(axis=0))
    if constant.size:
        j = int(constant[0])
        more = f" (and {constant.size - 1} more rankings)" if constant.size > 1 else ""
        raise InputError(
            f"all {values.shape[0]} scores of ranking {str(rankings.columns[j])!r} are equal "
            f"({values[0, j]:g}){more}: a constant ranking orders the genes by name alone, so "
            "its ES, NES and p-values would be artefacts of the gene names",
            field=f"ranking {str(rankings.columns[j])!r}",
            expected="scores that differ between genes",
        )
    if not np.isfinite(weight) or weight < 0:
        raise InputError(f"weight {weight}", field="weight", expected="a finite number >= 0")
    gene_arr = np.asarray(genes, dtype=object)
    name_rank = np.argsort(np.argsort(gene_arr, kind="stable"), kind="stable")
    r_count = values.shape[1]
    n = values.shape[0]
    order = np.empty((r_count, n), dtype=np.int64)
    for j in range(r_count):
        order[j] = np.lexsort((name_rank, -values[:, j]))
    scores = np.take_along_axis(values.T, order, axis=1)
    weights = np.abs(scores) ** weight if weight != 1.0 else np.abs(scores)
    # Zeros are left out when weight > 0: a run of zero scores then only steps the sum down, so
    # its extremes (and the ES) do not depend on how the run is ordered.
    tied = (scores[:, 1:] == scores[:, :-1]) & ((scores[:, 1:] != 0) | (weight == 0))
    return RankedGenes(
        names=[str(c) for c in rankings.columns],
        genes=gene_arr,
        order=order,
        scores=scores,
        weights=weights,
        n_tied=tied.sum(axis=1),
    )


def prepare_sets(
    gene_sets: Mapping[str, Sequence[str]], genes: np.ndarray, min_size: int, max_size: int
) -> PreparedSets:
    """Restrict each set to the ranked genes (deduplicated) and keep ``min_size..max_size``."""
    if not isinstance(gene_sets, Mapping):
        raise InputError(
            f"gene_sets is a {type(gene_sets).__name__}",
            field="gene_sets",
            expected="a mapping of set name -> genes",
        )
    if min_size < 1 or max_size < min_size:
        raise InputError(
            f"min_size={min_size}, max_size={max_size}",
            field="min_size/max_size",
            expected="1 <= min_size <= max_size",
        )
    index = {g: i for i, g in enumerate(genes)}
    n = len(genes)
    names, members, sizes = [], [], []
    dropped = 0
    for name, set_genes in gene_sets.items():
        if isinstance(set_genes, str):
            raise InputError(
                f"set {name!r} is a single string",
                field="gene_sets",
                expected="a sequence of gene names per set",
            )
        idx = np.unique([index[g] for g in set_genes if g in index]).astype(np.int64)
        if min_size <= idx.size <= max_size and idx.size < n:
            names.append(str(name))
            members.append(idx)
            sizes.append(idx.size)
        else:
            dropped += 1
    return PreparedSets(names, members, np.asarray(sizes, dtype=np.int64), dropped)


def _observed(ranked: RankedGenes, sets: PreparedSets) -> tuple[np.ndarray, list[list[list[str]]]]:
    """Observed ES ``(R, S)`` (float64) and leading edges (per ranking, per set)."""
    r_count, n = ranked.order.shape
    rank_of = np.empty_like(ranked.order)
    rows = np.arange(r_count)[:, None]
    rank_of[rows, ranked.order] = np.arange(n)[None, :]
    es = np.zeros((r_count, len(sets.names)))
    edges: list[list[list[str]]] = [[None] * len(sets.names) for _ in range(r_count)]
    for s, idx in enumerate(sets.members):
        k = idx.size
        pos = np.sort(rank_of[:, idx], axis=1)  # (R, k)
        w = np.ascontiguousarray(np.take_along_axis(ranked.weights, pos, axis=1))
        c = np.cumsum(w, axis=1)  # sequential sums: the same bits however many rankings
        zero = c[:, -1] == 0
        if zero.any():
            w[zero] = 1.0
            c = np.cumsum(w, axis=1)
        total = c[:, -1:]
        c = c / total
        miss = (pos - np.arange(k)) / (n - k)
        tops = c - miss
        bottoms = tops - w / total
        top = tops.max(axis=1)
        bottom = bottoms.min(axis=1)
        lean = top + bottom  # ES 0 where top and bottom tie, within rounding
        es[:, s] = np.where(lean > TIE_TOL, top, np.where(lean < -TIE_TOL, bottom, 0.0))
        arg_top = tops.argmax(axis=1)
        arg_bottom = bottoms.argmin(axis=1)
        for j in range(r_count):
            if es[j, s] > 0:
                le = pos[j, : arg_top[j] + 1]
            elif es[j, s] < 0:
                le = pos[j, arg_bottom[j] :][::-1]
            else:
                le = pos[j, :0]
            edges[j][s] = list(ranked.genes[ranked.order[j, le]])
    return es, edges


def _resolve_device(device: str | torch.device | None) -> torch.device:
    if isinstance(device, torch.device):
        return device
    return default_device(device)


ENGINES = ("auto", "numba", "torch")


def _resolve_engine(engine: str, device: torch.device) -> str:
    if engine not in ENGINES:
        raise InputError(f"engine={engine!r}", field="engine", expected=" or ".join(ENGINES))
    if engine == "auto":
        return "torch" if device.type != "cpu" else "numba"
    if engine == "numba" and device.type != "cpu":
        raise InputError(
            f"engine='numba' with device {device}",
            field="engine",
            expected="engine 'torch' (or 'auto') for a GPU device; numba runs on the CPU",
        )
    return engine


@contextmanager
def numba_threads(threads: int | None):
    """Run the compiled kernels on ``threads`` threads (None: leave numba's setting)."""
    if threads is None:
        yield
        return
    import numba

    if not isinstance(threads, int | np.integer) or not 1 <= threads:
        raise InputError(f"threads={threads}", field="threads", expected="an integer >= 1")
    before = numba.get_num_threads()
    numba.set_num_threads(min(int(threads), numba.config.NUMBA_NUM_THREADS))
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _auto_chunk(n_rankings: int, max_size: int, dtype: torch.dtype, budget: float = 4e8) -> int:
    """Rankings per chunk so that one block's temporaries stay near ``budget`` bytes."""
    item = torch.finfo(dtype).bits // 8
    per_ranking = PERM_BLOCK * max(max_size, 1) * item * 6
    return int(max(1, min(n_rankings, budget // per_ranking)))


def gsea_many(
    rankings: pd.DataFrame,
    gene_sets: Mapping[str, Sequence[str]],
    nperm: int = 10000,
    min_size: int = 15,
    max_size: int = 500,
    weight: float = 1.0,
    seed: int = 0,
    small_p: str | None = None,
    device: str | torch.device | None = None,
    chunk_size: int | None = None,
    dtype: torch.dtype = torch.float32,
    ml_sample_size: int = 101,
    eps: float = 1e-50,
    progress: bool = False,
    engine: str = "auto",
    threads: int | None = None,
) -> GseaResult:
    """Preranked GSEA of every column of ``rankings`` (genes x rankings) against ``gene_sets``.

    The random gene samples are drawn once per permutation (fgsea simple) and shared by all
    sets and all rankings; rankings are processed ``chunk_size`` at a time on ``device``
    (CUDA when present). Returns a :class:`GseaResult` whose ``table`` is long: ranking, set,
    size, es, nes, pval, padj, log2err, n_more_extreme, pval_method, leading_edge (its
    ``attrs['n_tied']`` also maps each ranking to its number of tied scores). Numbers equal those of :func:`gsea` per ranking with the same seed
    and settings. ``small_p="multilevel"`` adds multilevel estimates below the permutation floor
    (off by default here: over many rankings they can cost far more than the permutations).

    ``engine``: ``"numba"`` (compiled CPU kernels, float64), ``"torch"`` (the reference
    implementation on ``device`` in ``dtype``; the CUDA path), or ``"auto"``: torch when
    ``device`` resolves to CUDA, numba otherwise. Both use the same draws. ``threads``: CPU
    threads of the compiled kernels (default: numba's setting); results do not depend on it,
    nor on ``chunk_size`` (torch engine).
    """
    from radiogenomics.enrichment.multilevel import multilevel_pvalues
    from radiogenomics.utils.progress import progress_bar

    if not isinstance(nperm, int | np.integer) or nperm < 1:
        raise InputError(f"nperm={nperm}", field="nperm", expected="an integer >= 1")
    if chunk_size is not None and (not isinstance(chunk_size, int | np.integer) or chunk_size < 1):
        raise InputError(
            f"chunk_size={chunk_size!r}", field="chunk_size", expected="None or an integer >= 1"
        )
    if small_p == "none":  # the config spelling
        small_p = None
    if small_p not in ("multilevel", None):
        raise InputError(
            f"small_p={small_p!r}", field="small_p", expected="'multilevel', 'none' or None"
        )
    dev = _resolve_device(device)  # a bad device fails before any work
    ranked = rank_genes(rankings, weight)
    sets = prepare_sets(gene_sets, ranked.genes, min_size, max_size)
    settings = dict(
        nperm=int(nperm),
        min_size=min_size,
        max_size=max_size,
        weight=weight,
        seed=seed,
        small_p=small_p,
    )
    n_tied = dict(zip(ranked.names, ranked.n_tied.tolist(), strict=True))
    if n_tied and max(n_tied.values()) > 0:
        worst = max(n_tied, key=n_tied.get)
        warnings.warn(
            f"tied scores in {count(sum(v > 0 for v in n_tied.values()), 'ranking')} (most: {worst!r} "
            f"with {n_tied[worst]} of {len(ranked.genes)} genes); ties are ordered by gene name",
            TiedScoresWarning,
            stacklevel=2,
        )
    if not sets.names:
        warnings.warn(
            f"no gene set has {min_size}..{max_size} genes among the {len(ranked.genes)} "
            "ranked genes; nothing tested",
            NoSetTestedWarning,
            stacklevel=2,
        )
        out = pd.DataFrame({c: [] for c in ["ranking", *RESULT_COLUMNS]})
        out.attrs["n_tied"] = n_tied
        return _result(out, ranked.names, n_tied, sets.n_dropped, settings)

    obs, edges = _observed(ranked, sets)
    engine = _resolve_engine(engine, dev)
    r_count = len(ranked.names)
    n_blocks = -(-nperm // PERM_BLOCK)
    with progress_bar("GSEA permutations", n_blocks, quiet=not progress) as advance:
        if engine == "numba":
            with numba_threads(threads):
                counts = compiled_null_counts(
                    ranked.weights, obs, sets.sizes, seed, nperm, on_block=advance
                )
        else:
            n = len(ranked.genes)
            k_max = int(sets.sizes.max())
            acc = NullAccumulator(obs, sets.sizes, dev, dtype)
            chunk = chunk_size or _auto_chunk(r_count, k_max, dtype)
            weights = torch.as_tensor(ranked.weights, dtype=dtype, device=dev)
            for draws_np in perm_blocks(seed, n, k_max, nperm):
                draws = torch.as_tensor(draws_np, device=dev)
                for start in range(0, r_count, chunk):
                    rows = slice(start, min(r_count, start + chunk))
                    acc.add_block(weights[rows], rows, draws, n)
                advance(1)
            counts = acc.numpy()

    le_es, ge_es = counts["le_es"], counts["ge_es"]
    le0, ge0 = counts["le_zero"], counts["ge_zero"]
    pval = np.minimum((1 + le_es) / (1 + le0), (1 + ge_es) / (1 + ge0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pos = counts["sum_pos"] / ge0
        mean_neg = counts["sum_neg"] / le0
        nes = np.where(obs > 0, obs / mean_pos, obs / np.abs(mean_neg))
    more = np.where(obs > 0, ge_es, le_es)
    log2err = np.sqrt(polygamma(1, more + 1) - polygamma(1, nperm + 1)) / math.log(2)
    method = np.full(obs.shape, "permutation", dtype=object)

    if small_p == "multilevel":
        todo = np.argwhere((more == 0) & (obs != 0))
        if todo.size:
            ti, si = todo[:, 0], todo[:, 1]
            tails = np.where(obs[ti, si] > 0, ge0[ti, si], le0[ti, si])
            denom = (1 + tails) / (1 + nperm)
            with numba_threads(threads):
                ml = multilevel_pvalues(
                    ranked.weights,
                    ranking_of_task=todo[:, 0],
                    size_of_task=sets.sizes[todo[:, 1]],
                    es_of_task=obs[todo[:, 0], todo[:, 1]],
                    seed_of_task=[_set_seed(seed, sets.names[s]) for s in todo[:, 1]],
                    sample_size=ml_sample_size,
                    eps=eps,
                )
            # the estimate replaces the floor, as in fgseaMultilevel: the smaller of the two
            # would bias p down wherever no null ES was as extreme by chance alone
            pval[todo[:, 0], todo[:, 1]] = np.minimum(1.0, np.maximum(ml.pval / denom, eps))
            log2err[todo[:, 0], todo[:, 1]] = ml.log2err
            method[todo[:, 0], todo[:, 1]] = np.where(ml.hit_eps, "multilevel<eps", "multilevel")

    padj = np.vstack([benjamini_hochberg(row) for row in pval])
    s_count = len(sets.names)
    out = pd.DataFrame(
        {
            "ranking": np.repeat(ranked.names, s_count),
            "set": np.tile(sets.names, r_count),
            "size": np.tile(sets.sizes, r_count),
            "es": obs.ravel(),
            "nes": nes.ravel(),
            "pval": pval.ravel(),
            "padj": padj.ravel(),
            "log2err": log2err.ravel(),
            "n_more_extreme": more.ravel().astype(np.int64),
            "pval_method": method.ravel(),
            "leading_edge": [le for row in edges for le in row],
        }
    )
    out.attrs["n_tied"] = n_tied
    out.attrs["nperm"] = nperm
    out.attrs["n_sets_dropped"] = sets.n_dropped
    return _result(out, ranked.names, n_tied, sets.n_dropped, settings)


def _result(
    table: pd.DataFrame,
    rankings: Sequence[str],
    n_tied: dict[str, int],
    n_dropped: int,
    settings: dict,
) -> GseaResult:
    return GseaResult(
        table=table,
        rankings=tuple(rankings),
        n_tied=n_tied,
        n_sets_dropped=int(n_dropped),
        **settings,
    )


def _set_seed(seed: int, set_name: str) -> int:
    from radiogenomics.utils.seeding import derive_seed

    return derive_seed(seed, "gsea-multilevel", set_name)


def gsea(
    ranking: pd.Series,
    gene_sets: Mapping[str, Sequence[str]],
    nperm: int = 10000,
    min_size: int = 15,
    max_size: int = 500,
    weight: float = 1.0,
    seed: int = 0,
    small_p: str | None = "multilevel",
    device: str | torch.device | None = None,
    **kwargs,
) -> GseaResult:
    """Preranked GSEA of one ranking (gene -> score) with fgsea semantics.

    Returns a :class:`GseaResult` whose ``table`` has one row per tested set: set, size, es, nes, pval, padj, log2err (standard error of
    log2 p), n_more_extreme, pval_method ("permutation" or "multilevel"), leading_edge (genes,
    from the extreme end inwards). ``attrs['n_tied']`` is the number of tied scores. Genes with a
    missing score are refused: drop them first.
    """
    if isinstance(ranking, pd.DataFrame) and ranking.shape[1] == 1:
        ranking = ranking.iloc[:, 0]
    if not isinstance(ranking, pd.Series):
        raise InputError(
            f"ranking is a {type(ranking).__name__}",
            field="ranking",
            expected="a pandas Series of scores indexed by gene",
        )
    # the ranking's own name in gsea_many's messages (ties, missing scores), as in the result
    name = str(ranking.name) if ranking.name is not None else "ranking"
    frame = ranking.to_frame(name=name)
    res = gsea_many(
        frame,
        gene_sets,
        nperm=nperm,
        min_size=min_size,
        max_size=max_size,
        weight=weight,
        seed=seed,
        small_p=small_p,
        device=device,
        **kwargs,
    )
    out = res.table.drop(columns="ranking").reset_index(drop=True)
    out.attrs["n_tied"] = res.n_tied.get(name, 0)
    out.attrs["nperm"] = nperm
    out.attrs["n_sets_dropped"] = res.n_sets_dropped
    return replace(res, table=out, rankings=(name,), n_tied={name: res.n_tied.get(name, 0)})
