"""Driver ranking: which gene sets drive a trait, read from cross-validated networks.

One verb, :func:`driver_ranking`, turns a cross-validation run into a ranked table of gene sets
per class, with p- and q-values and the sets it calls drivers. What it does, and why (each
piece was kept because the driver-recovery benchmark supported it, docs/results.md):

1. **Repeated cross-validation.** With ~150 patients one fold split moves every out-of-fold
   score; the CV is repeated on new splits (``repeats``) and each patient's masked
   probabilities are averaged over the fold models that held it out (one per repeat): an
   ensemble of fold models, every patient still scored only by models that never saw it.
2. **Set masking against a size-matched null.** Each set is kept alone (every other gene at
   the training mean) and scored by average precision over the cohort; the same is done for
   ``null_draws`` random gene sets of each size, and the set's z-score against the null of its
   size ranks it (AP alone favours large sets). p is the normal tail of the z-score (the null
   is a sum over many genes' effects, close to normal; an empirical p would need thousands of
   draws to reach the BH thresholds of large collections).
3. **Ranked at the programme level, tested at the gene level.** The ``consensus`` read-out
   puts first the floating forward order of a network trained on the collection's programme
   scores (:mod:`radiogenomics.interpret.programmes`: conditional keep-only masking), which
   tells a driver from the correlated sets that share its genes or its co-expression and
   sees thresholds, interactions and U shapes; the other sets follow by the better of two
   mean ranks: the programme level's (that network's conditional masked AP, and the AUC of
   the set's programme score alone, either direction, which has no training noise for the
   monotone part) and the gene level's (the masking z-score and correlation GSEA), so that
   a programme acting through part of its genes, or beside another, is not buried under the
   programme level's stand-ins. Ties go to the programme level. The gene network's masking
   z-score and correlation GSEA (:mod:`radiogenomics.interpret.correlation`; the naive
   peer) also make the p-value: the larger of the masking and correlation p-values
   (intersection-union test: significant only where both are, valid however the two depend
   on each other); the programme ranks order, they do not test. ``programme_network=False``
   gives the consensus of the masking and correlation ranks. The programme network's seed
   flips near-tied first places, so it is also trained from other seeds, which change no
   rank: ``first_share`` says how many of them put each set first. (The benchmark chose this on
   two lists of traits written beforehand; the masking rank, which the consensus held
   before, ranked planted sets of KEGG and interaction traits far down.)
4. **Calls only where the data separate the driver.** Programmes are correlated (interferon
   and IL6/JAK/STAT3 scores correlate ~0.8 in TCGA-GBM), so every set that shares the
   driver's signal is significant too; calling them all is not naming the driver. Only the
   best-ranked set can be called, and only if it is significant (a significant set ranked
   below one that is not is not called in its place) and a paired bootstrap over patients
   keeps it first among the significant sets in >= 1 - alpha of the resamples, with the
   read-out's statistics recomputed on each resample
   (:mod:`radiogenomics.interpret.separation`, no retraining); if it does not, nothing is
   called and the sets the data cannot tell apart from it are reported as its ``family``.
   With ``max_calls`` > 1, each further set is called only if adding its genes to the called
   sets' genes beats adding as many genes drawn from the pooled significant sets
   (Bonferroni over the candidates of each step); the default is the gated first call
   alone, as the further steps brought back false calls in the benchmark.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult, cross_validate
from radiogenomics.interpret.correlation import (
    collections_of,
    correlation_gsea,
    scored_classes,
)
from radiogenomics.interpret.ensemble import SEP as _SEP
from radiogenomics.interpret.ensemble import MaskedEnsemble
from radiogenomics.interpret.metrics import auc_ap_columns
from radiogenomics.interpret.programmes import (
    programme_network_evidence,
    programme_order,
    programme_scores,
    programme_seed,
    score_separation,
)
from radiogenomics.interpret.separation import (
    gate,
    resampled_correlation_nes,
    resampled_masking_z,
    stratified_resamples,
)
from radiogenomics.utils.seeding import derive_seed, rng
from radiogenomics.utils.stats import benjamini_hochberg
from radiogenomics.utils.text import count

READOUTS = ("consensus", "masking", "correlation")
RECOMMENDED = "consensus"
#: The programme network's columns of the table (NaN without it).
PROGRAMME_COLUMNS = [
    "programme_ap",
    "programme_order",
    "programme_rank",
    "programme_score_auc",
    "programme_score_rank",
    "programme_shift",
    "first_share",
]
#: Columns of the table :func:`driver_ranking` returns.
COLUMNS = [
    "task",
    "class",
    "collection",
    "set",
    "size",
    "score",
    "rank",
    "p",
    "q",
    "called",
    "masking_ap",
    "masking_auc",
    "masking_z",
    "masking_p",
    "masking_rank",
    "correlation_nes",
    "correlation_padj",
    "correlation_rank",
    *PROGRAMME_COLUMNS,
    "conditional_p",
    "separation",
    "family",
]
#: The statistics each read-out's separation gate recomputes on the resamples: its own
#: parts (the consensus without the programme network: masking and correlation).
GATE_STATISTICS = {
    "consensus": ("programme", "score"),
    "masking": ("masking",),
}


# ----------------------------------------------------------------------------- repeats


def _repeat_unit(item: int, shared: dict[str, Any]) -> CVResult:
    """One more CV of the same configuration on a new fold split (an executor unit)."""
    cv: CVResult = shared["cv"]
    return cross_validate(
        shared["X"],
        cv.labels,
        cv.config,
        n_splits=cv.n_splits,
        seed=derive_seed(shared["seed"], "driver-repeat", item),
        autoencoder=shared["autoencoder"],
        keep_models=True,
        task=cv.task,
        classes=cv.classes,
        device=shared["device"],
    )


def repeated_cv(
    cv_result: CVResult,
    X: pd.DataFrame,
    repeats: int = 3,
    seed: int = 0,
    executor: Any = None,
    autoencoder: Any = None,
    device: str | None = None,
    network_gpus: float = 0.0,
) -> list[CVResult]:
    """``cv_result`` plus ``repeats - 1`` CVs of its configuration on new stratified splits.

    Each repeat is an executor unit (``executor.map``) with its own derived seed, so the result
    does not depend on where it runs. ``cv_result`` must keep its fold models.
    """
    if not isinstance(cv_result, CVResult) or not cv_result.fold_models:
        raise InputError(
            "the cross-validation result kept no fold models",
            field="cv_result",
            expected="cross_validate(..., keep_models=True)",
        )
    if int(repeats) < 1:
        raise InputError(f"repeats={repeats}", field="repeats", expected="1 or more")
    items = list(range(1, int(repeats)))
    if not items:
        return [cv_result]
    shared = {
        "cv": cv_result,
        "X": X,
        "seed": seed,
        "autoencoder": autoencoder,
        "device": None if device is None else str(device),
    }
    if executor is None:
        extra = [_repeat_unit(i, shared) for i in items]
    else:
        extra = executor.map(
            _repeat_unit,
            items,
            shared=shared,
            desc=f"{cv_result.task} CV repeats",
            num_gpus=network_gpus,
        )
    return [cv_result, *extra]


# ----------------------------------------------------------------------------- masking


def _null_units(
    universe: Sequence[str], sizes: Sequence[int], draws: int, seed: int, key: str
) -> dict[str, list[str]]:
    """``draws`` random gene lists of each size from ``universe`` (named key, size, draw)."""
    out = {}
    pool = np.asarray(universe, dtype=object)
    for k in sorted(set(int(s) for s in sizes)):
        gen = rng(seed, key, k)
        for d in range(draws):
            pick = gen.choice(len(pool), size=min(k, len(pool)), replace=False)
            out[f"{key}{_SEP}{k}{_SEP}{d}"] = list(pool[np.sort(pick)])
    return out


def _null_moments(sizes: pd.Series, null: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of the null draws (named key, size, draw) of each entry's size."""
    parts = null.index.to_series().str.split(_SEP, expand=True)
    frame = pd.DataFrame({"size": parts[1].astype(int).to_numpy(), "v": null.to_numpy()})
    stats = frame.groupby("size")["v"].agg(["mean", "std"])
    mu = sizes.map(stats["mean"]).to_numpy(dtype=np.float64)
    sd = sizes.map(stats["std"]).to_numpy(dtype=np.float64)
    return mu, sd


def _z_against_null(observed: pd.Series, sizes: pd.Series, null: pd.Series) -> np.ndarray:
    """(value - mean) / SD of the null draws of the same size."""
    mu, sd = _null_moments(sizes, null)
    return (observed.to_numpy(dtype=np.float64) - mu) / np.where(sd > 0, sd, np.nan)


def set_masking_evidence(
    ensemble: MaskedEnsemble,
    gene_sets: object,
    null_draws: int = 100,
    seed: int = 0,
    min_size: int = 15,
    max_size: int = 500,
) -> pd.DataFrame:
    """Set masking of every collection, scored against a size-matched random-set null.

    One row per (class, collection, set) with ``min_size``..``max_size`` genes among the
    model's: size, ap, auc, z_ap, z_auc (against the null of the same size), excess_ap (AP minus
    the null's mean), p (normal tail of z_ap), q (BH within class and collection) and rank (by
    z_ap, 1 = best).
    """
    if null_draws < 2:
        raise InputError(f"null_draws={null_draws}", field="null_draws", expected="2 or more")
    in_model = set(ensemble.universe)
    units, rows = {}, []
    for coll, sets in collections_of(gene_sets).items():
        for name, genes in sets.items():
            kept = [g for g in genes if g in in_model]
            if min_size <= len(kept) <= max_size:
                units[f"{coll}{_SEP}{name}"] = kept
                rows.append((coll, name, len(kept)))
    if not units:
        raise InputError(
            "no gene set has an allowed size among the model's genes",
            field="gene_sets",
            expected=f"sets with {min_size}..{max_size} of the model's genes",
        )
    meta = pd.DataFrame(rows, columns=["collection", "set", "size"])
    null = _null_units(ensemble.universe, meta["size"], null_draws, seed, "driver-null")
    scores = ensemble.scores({**units, **null})
    parts = []
    for cls, sc in scores.items():
        obs = sc.loc[list(units)]
        nul = sc.loc[list(null)]
        t = meta.assign(**{"class": cls, "ap": obs["ap"].to_numpy(), "auc": obs["auc"].to_numpy()})
        t["z_ap"] = _z_against_null(t["ap"], t["size"], nul["ap"])
        t["excess_ap"] = t["ap"] - _null_moments(t["size"], nul["ap"])[0]
        t["z_auc"] = _z_against_null(t["auc"], t["size"], nul["auc"])
        t["p"] = norm.sf(t["z_ap"])
        parts.append(t)
    out = pd.concat(parts, ignore_index=True)
    return _rank_and_adjust(out, "z_ap")


def _rank_and_adjust(t: pd.DataFrame, score: str) -> pd.DataFrame:
    """``rank`` by ``score`` (descending, ties by name) and BH ``q`` within class/collection."""
    t = t.sort_values(["class", "collection", score, "set"], ascending=[1, 1, 0, 1])
    t["rank"] = t.groupby(["class", "collection"]).cumcount() + 1
    t["q"] = np.nan
    for _, idx in t.groupby(["class", "collection"]).groups.items():
        t.loc[idx, "q"] = benjamini_hochberg(t.loc[idx, "p"].to_numpy())
    return t.reset_index(drop=True)


# ----------------------------------------------------------------------------- calls


def _competitive_p(
    ensemble: MaskedEnsemble,
    cls: str,
    base: list[str],
    added: dict[str, list[str]],
    pool: list[str],
    draws: int,
    seed: int,
) -> pd.Series:
    """p of each candidate: the masked AP of ``base`` + its added genes against ``base`` plus as
    many genes drawn at random from ``pool`` (normal tail of the z-score)."""
    units = {f"cand{_SEP}{c}": base + a for c, a in added.items()}
    sizes = pd.Series({c: min(len(a), len(pool)) for c, a in added.items()})
    null = {k: base + v for k, v in _null_units(pool, sizes, draws, seed, "pool").items()}
    sc = ensemble.scores({**units, **null})[cls]
    obs = sc.loc[list(units), "ap"].set_axis(list(added))
    z = _z_against_null(obs, sizes, sc.loc[list(null), "ap"])
    return pd.Series(np.nan_to_num(norm.sf(z), nan=1.0), index=list(added))


def separation_gates(
    ensemble: MaskedEnsemble,
    masked: dict[str, np.ndarray],
    table: pd.DataFrame,
    gene_sets: object,
    statistics: Sequence[str],
    alpha: float = 0.05,
    draws: int = 200,
    nperm: int = 300,
    seed: int = 0,
    targets: pd.DataFrame | None = None,
    programme_probs: dict[str, np.ndarray] | None = None,
) -> dict[tuple[str, str], tuple[bool, float, list[str]]]:
    """The bootstrap separation gate (:mod:`radiogenomics.interpret.separation`) of the top
    significant set (q < alpha) of each class/collection with two or more significant sets.

    ``masked``: every set's and null draw's masked probabilities as recorded by
    :func:`set_masking_evidence`. ``statistics``: the read-out's parts recomputed on each
    resample: ``masking`` (z-score), ``correlation`` (GSEA NES of the genes' correlation with
    the class indicator), ``denoised`` (with ``targets``: the network's out-of-fold
    probability per scored class) or ``programme`` (with ``programme_probs``: the programme
    network's conditional keep-only probabilities from :func:`programme_network_evidence`, patients
    in ``ensemble.patients`` order; their AP) or ``score`` (each set's programme score's AUC,
    either direction, :func:`~radiogenomics.interpret.programmes.score_separation`). Returns
    (called, share of resamples first, family).
    """
    known = {"masking", "correlation", "denoised", "programme", "score"}
    if not statistics or set(statistics) - known:
        raise InputError(f"statistics={statistics}", field="statistics", expected=str(known))
    if "denoised" in statistics and targets is None:
        raise InputError("the denoised statistic needs targets", field="targets")
    if "programme" in statistics and programme_probs is None:
        raise InputError("the programme statistic needs programme_probs", field="programme_probs")
    sets = collections_of(gene_sets)
    in_model = set(ensemble.universe)
    patients = list(ensemble.patients)
    values = ensemble.X.loc[patients].to_numpy(dtype=np.float64)
    genes = list(map(str, ensemble.X.columns))
    labels = ensemble.labels.loc[patients].to_numpy().astype(str)
    nulls = [k for k in masked if k.startswith(f"driver-null{_SEP}")]
    null_sizes = np.array([int(k.split(_SEP)[1]) for k in nulls])
    out = {}
    for (cls, coll), idx in table.groupby(["class", "collection"]).groups.items():
        group = table.loc[idx].sort_values("rank")
        candidates = group[group["q"] < alpha]
        if len(candidates) < 2:
            continue
        j = ensemble.scored.index(cls)
        positive = labels == cls
        resamples = stratified_resamples(positive, draws, derive_seed(seed, "gate", cls, coll))
        names = candidates["set"].tolist()
        stats = []
        if "masking" in statistics:
            set_probs = np.stack([masked[f"{coll}{_SEP}{n}"][:, j] for n in names], axis=1)
            sizes = candidates["size"].to_numpy(dtype=int)
            keep = np.isin(null_sizes, sizes)
            null_probs = np.stack(
                [masked[k][:, j] for k, ok in zip(nulls, keep, strict=True) if ok], axis=1
            )
            stats.append(
                resampled_masking_z(
                    set_probs, sizes, null_probs, null_sizes[keep], positive, resamples
                )
            )
        if "programme" in statistics:
            probs = np.stack([programme_probs[f"{coll}{_SEP}{n}"][:, j] for n in names], axis=1)
            stats.append(np.stack([auc_ap_columns(probs[i], positive[i])[1] for i in resamples]))
        cand_sets = {n: [g for g in sets[coll][n] if g in in_model] for n in names}
        if "score" in statistics:
            scores = programme_scores(ensemble.X, cand_sets).loc[patients].to_numpy()
            stats.append(np.stack([score_separation(scores[i], positive[i]) for i in resamples]))
        for kind in ("correlation", "denoised"):
            if kind in statistics:
                target = (
                    positive.astype(np.float64)
                    if kind == "correlation"
                    else targets.loc[patients, cls].to_numpy(dtype=np.float64)
                )
                stats.append(
                    resampled_correlation_nes(
                        values, genes, target, cand_sets, resamples, nperm,
                        derive_seed(seed, "gate-gsea", cls, coll),
                    )
                )  # fmt: skip
        called, share, family = gate(stats, alpha)
        out[(cls, coll)] = (called, share, [n for n, f in zip(names, family, strict=True) if f])
    return out


def oof_targets(cvs: Sequence[CVResult], patients: Sequence[str]) -> pd.DataFrame:
    """Each patient's out-of-fold probability of every scored class, averaged over the CV
    repeats (patients x scored classes): the network's denoised version of the label."""
    classes = list(cvs[0].classes)
    scored = scored_classes(classes)
    mean = np.mean([cv.oof_proba.loc[list(patients), scored].to_numpy() for cv in cvs], axis=0)
    return pd.DataFrame(mean, index=list(patients), columns=scored)


def conditional_calls(
    ensemble: MaskedEnsemble,
    table: pd.DataFrame,
    gene_sets: object,
    alpha: float = 0.05,
    max_calls: int = 3,
    null_draws: int = 100,
    seed: int = 0,
    gates: dict[tuple[str, str], tuple[bool, float, list[str]]] | None = None,
) -> pd.DataFrame:
    """Driver calls among the significant sets (q < alpha) of ``table``, per class/collection,
    when the best-ranked set is one of them (otherwise none).

    The null is competitive: genes drawn at random from the pooled genes of the significant
    sets (the sets that share the signal), not from the whole genome. The best-ranked
    significant set is called if its masked AP beats draws of its size (at most as many as
    there are) from the other significant sets' genes, or outright when those are fewer than
    half its size (no competitor to beat); then, step by
    step, the candidate whose genes, added to the called sets' genes, raise the AP most above
    adding as many pooled genes is called, if its p < alpha / candidates (Bonferroni).
    Adds ``called`` and ``conditional_p`` (the p of the step that last tested the set).

    ``gates`` (:func:`separation_gates`) replace the first step where given: the top set is
    called only if the bootstrap separates it from the other significant sets; if not, nothing
    is called and its inseparable ``family`` is marked (the top set's name in that column).
    ``separation``: the share of resamples where the top set stayed first.
    """
    sets = collections_of(gene_sets)
    in_model = set(ensemble.universe)
    t = table.copy()
    t["called"] = False
    t["conditional_p"] = np.nan
    t["separation"] = np.nan
    t["family"] = None
    for (cls, coll), idx in t.groupby(["class", "collection"]).groups.items():
        group = t.loc[idx].sort_values("rank")
        row_of = dict(zip(group["set"], group.index, strict=True))
        candidates = group[group["q"] < alpha]["set"].tolist()
        if candidates and candidates[0] != group["set"].iloc[0]:
            # a call is the read-out's own first choice: a significant set ranked below one
            # that is not is not called in its place (in the benchmark such calls were false)
            candidates = []
        genes_of = {c: [g for g in sets[coll][c] if g in in_model] for c in candidates}
        pool_all = sorted(set().union(*genes_of.values())) if candidates else []
        called: list[str] = []
        genes: set[str] = set()
        step = 0
        while candidates and len(called) < max_calls:
            step += 1
            if step == 1 and gates is not None and (cls, coll) in gates:
                ok, share, family = gates[(cls, coll)]
                t.loc[row_of[candidates[0]], "separation"] = share
                if not ok:
                    t.loc[[row_of[c] for c in family], "family"] = candidates[0]
                    break
                first = candidates[0]
                called.append(candidates.pop(0))
                genes |= set(genes_of[first])
                continue
            if step == 1:  # the best-ranked set alone, against its competitors' genes
                first = candidates[0]
                testable = {first: genes_of[first]}
                pool = [g for g in pool_all if g not in set(genes_of[first])]
                if len(pool) < len(genes_of[first]) / 2:  # no real competitor: q decides
                    called.append(candidates.pop(0))
                    genes |= set(genes_of[first])
                    continue
            else:
                testable = {c: [g for g in genes_of[c] if g not in genes] for c in candidates}
                testable = {c: a for c, a in testable.items() if a}
                pool = [g for g in pool_all if g not in genes]
            if not testable or not pool:
                break
            p = _competitive_p(
                ensemble,
                cls,
                sorted(genes),
                testable,
                pool,
                null_draws,
                derive_seed(seed, "driver-calls", cls, coll, step),
            )
            for c, pv in p.items():
                t.loc[row_of[c], "conditional_p"] = pv
            best = p.idxmin()
            if not p[best] < alpha / (1 if step == 1 else len(candidates)):
                break
            called.append(best)
            candidates.remove(best)
            genes |= set(genes_of[best])
        t.loc[[row_of[c] for c in called], "called"] = True
    return t


def seed_consensus(
    masking: pd.DataFrame,
    correlation: pd.DataFrame,
    cvs: Sequence[CVResult],
    X: pd.DataFrame,
    gene_sets: object,
    universe: Sequence[str],
    seed: int,
    draws: Sequence[int],
    *,
    min_size: int = 15,
    max_size: int = 500,
    device: str | None = None,
    patients: Sequence[str] | None = None,
    repeats: int | None = None,
) -> list[pd.DataFrame]:
    """The consensus (:func:`combine_readouts`) with the programme network trained from each
    of the seed ``draws`` (:func:`~radiogenomics.interpret.programmes.programme_seed`),
    everything else unchanged; ``repeats``: the programme network's CV runs."""
    return [
        combine_readouts(
            masking, correlation,
            programme_network_evidence(
                cvs, X, gene_sets, universe, min_size, max_size, programme_seed(seed, k),
                device, patients=patients, repeats=repeats,
            )[0],
        )
        for k in draws
    ]  # fmt: skip


def first_shares(tables: Sequence[pd.DataFrame]) -> pd.Series:
    """Per (class, collection, set) of ``tables[0]``: the share of the rankings in ``tables``
    (the same read-out with the programme network from other seeds) that put the set first.
    On the benchmark's learnt traits a top set first with all of three seeds was the planted
    one in 91% of rankings, with two in 49%, alone in 31% (docs/results.md)."""
    keys = ["class", "collection", "set"]
    firsts = pd.concat([t.loc[t["rank"] == 1, keys] for t in tables])
    n_first = firsts.value_counts().rename("n").reset_index()
    shares = tables[0][keys].merge(n_first, on=keys, how="left")["n"].fillna(0)
    return (shares / len(tables)).set_axis(tables[0].index)


# ----------------------------------------------------------------------------- the verb


def _check_readout(readout: str) -> None:
    if readout not in READOUTS:
        raise InputError(f"readout={readout!r}", field="readout", expected=f"one of {READOUTS}")


def combine_readouts(
    masking: pd.DataFrame, correlation: pd.DataFrame, programme: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Masking evidence and correlation GSEA side by side (sets both tested), with the
    consensus score (higher = better), p (the larger p) and its q and rank.

    With ``programme`` (:func:`programme_network_evidence`) the consensus is the programme
    network's forward order, then the other sets by the better of two mean ranks: the
    programme level's (the programme network's rank and the programme score's AUC rank,
    ``programme_score_rank``; sets the programme network did not score rank last by both) and
    the gene level's (the masking z-score's and correlation GSEA's ranks); ties to the
    programme level's mean, the programme network, then the masking z-score. Score is minus
    the place in the forward order, or minus (the forward order's length + the better mean
    rank). Masking and correlation GSEA stay beside it and in p. Without it, the mean of the
    masking and correlation ranks."""
    m = masking.rename(
        columns={
            "ap": "masking_ap",
            "auc": "masking_auc",
            "z_ap": "masking_z",
            "p": "masking_p",
            "rank": "masking_rank",
        }
    ).drop(columns=["q"])
    c = correlation.rename(
        columns={"nes": "correlation_nes", "padj": "correlation_padj", "pval": "correlation_p"}
    ).drop(columns=["rank", "size"])
    t = m.merge(c, on=["class", "collection", "set"], how="inner")
    keys = ["class", "collection"]
    # ranks again over the sets both read-outs tested, so the two are on one scale
    t["masking_rank"] = t.groupby(keys)["masking_z"].rank(ascending=False, method="min")
    t["correlation_rank"] = t.groupby(keys)["correlation_nes"].rank(ascending=False, method="min")
    if programme is None:
        for col in PROGRAMME_COLUMNS:
            t[col] = np.nan
        ranks, ties, up = ["masking_rank", "correlation_rank"], ["masking_z"], [False]
    else:
        wanted = ["programme_ap", "programme_order", "programme_score_auc", "programme_shift"]
        p = programme[keys + ["set", *wanted]]
        t = programme_order(t.merge(p, on=keys + ["set"], how="left"))
        last = t.groupby(keys)["set"].transform("size")
        t["programme_rank"] = t["programme_rank"].fillna(last)
        t["programme_score_rank"] = (
            t.groupby(keys)["programme_score_auc"].rank(ascending=False, method="min").fillna(last)
        )
        ranks = ["programme_rank", "programme_score_rank"]
        ties, up = ["_programme_mean", "programme_rank", "masking_z"], [False, True, False]
    t["score"] = -t[ranks].mean(axis=1)
    if programme is not None:
        # below the forward order, each set by the level that supports it more: a programme
        # that drives a trait through part of its genes, or beside another programme, has
        # stand-ins at the programme level that the gene level does not share
        t["_programme_mean"] = t["score"]
        gene = t[["masking_rank", "correlation_rank"]].mean(axis=1)
        t["score"] = np.maximum(t["score"], -gene)
        # the forward order's sets first, in its order: the network's own statement of which
        # sets act together (an AND's pair), which no single score's AUC can make
        forward = t["programme_order"].notna()
        entered = t.groupby(keys)["programme_order"].transform("count")
        t["score"] = np.where(forward, -t["programme_order"], t["score"] - entered)
    # a set counts only with a positive association in both (one-sided by construction)
    p_corr = np.where(t["correlation_nes"] > 0, t["correlation_p"], 1.0)
    t["p"] = np.maximum(t["masking_p"].to_numpy(), p_corr)
    t = t.sort_values(keys + ["score", *ties, "set"], ascending=[1, 1, 0, *up, 1])
    t = t.drop(columns=["_programme_mean"], errors="ignore")
    t["rank"] = t.groupby(keys).cumcount() + 1
    t["q"] = np.nan
    for _, idx in t.groupby(keys).groups.items():
        t.loc[idx, "q"] = benjamini_hochberg(t.loc[idx, "p"].to_numpy())
    return t.reset_index(drop=True)


def select_readout(combined: pd.DataFrame, readout: str) -> pd.DataFrame:
    """The combined table with score, rank, p and q of one read-out."""
    _check_readout(readout)
    t = combined.copy()
    keys = ["class", "collection"]
    if readout == "masking":
        t["score"], t["p"] = t["masking_z"], t["masking_p"]
    elif readout == "correlation":
        t["score"] = t["correlation_nes"]
        t["p"] = np.where(t["correlation_nes"] > 0, t["correlation_p"], 1.0)
    if readout != "consensus":
        t = t.sort_values(keys + ["score", "set"], ascending=[1, 1, 0, 1])
        t["rank"] = t.groupby(keys).cumcount() + 1
        t["q"] = np.nan
        for _, idx in t.groupby(keys).groups.items():
            t.loc[idx, "q"] = benjamini_hochberg(t.loc[idx, "p"].to_numpy())
    return t.reset_index(drop=True)


@contextmanager
def _step(on_step: Callable[[str, float], None] | None, what: str) -> Iterator[None]:
    """Time the block and call ``on_step(what, seconds)`` once it ends (nothing without one)."""
    start = time.perf_counter()
    yield
    if on_step is not None:
        on_step(what, time.perf_counter() - start)


def driver_ranking(
    cv_result: CVResult,
    X: pd.DataFrame,
    y: pd.Series | None,
    gene_sets: object,
    *,
    readout: str = RECOMMENDED,
    repeats: int = 3,
    null_draws: int = 100,
    nperm: int = 10000,
    alpha: float = 0.05,
    max_calls: int = 1,
    min_size: int = 15,
    max_size: int = 500,
    seed: int = 0,
    executor: Any = None,
    autoencoder: Any = None,
    device: str | None = None,
    network_gpus: float = 0.0,
    cvs: Sequence[CVResult] | None = None,
    gate_draws: int = 200,
    gate_nperm: int = 300,
    programme_network: bool = True,
    programme_seeds: int = 3,
    on_step: Callable[[str, float], None] | None = None,
) -> pd.DataFrame:
    """Rank the gene sets that drive a trait, per scored class, with p, q and driver calls.

    ``cv_result``: a CV run kept with ``keep_models=True``; ``y`` its labels (None: the CV's).
    ``gene_sets``: a mapping set -> genes (a GeneSets) or collection -> (set -> genes); ranks,
    q-values and calls are within each collection. ``readout``: ``consensus`` (recommended:
    ranked by the programme network and the programme score's AUC, tested by the masking
    z-score and correlation GSEA together), ``masking`` (the gene network alone) or
    ``correlation`` (the naive peer). ``repeats`` CV runs in all (the given one and new splits,
    each an ``executor`` unit); ``cvs`` passes repeats already run instead. ``gate_draws``
    patient resamples of the separation gate of the first call (0: the competitive test of
    :func:`conditional_calls` instead); ``gate_nperm`` GSEA permutations per resample.
    ``programme_network``: train the programme network
    (:mod:`radiogenomics.interpret.programmes`, as many CV runs as ``repeats``); the
    consensus and its gate are then the programme network and the programme score's AUC
    (False: masking and correlation). ``programme_seeds``: the programme network is also
    trained from ``programme_seeds - 1`` other seeds, which change no rank: ``first_share``
    is the share of the seeds whose consensus puts the set first, how far the top place is
    the network's seed's choice (1: the ranking's network alone). ``on_step``: called after
    each step with what it did and its seconds, for a log of a long ranking.

    Returns one row per (class, collection, set) with the columns of :data:`COLUMNS`:
    ``score`` (higher = stronger), ``rank`` (1 = best), ``p``, ``q`` and ``called`` of the
    chosen read-out, and every read-out's evidence beside it; ``separation`` (the share of
    resamples where the top significant set stayed first) and ``family`` (for the sets the
    data could not tell apart from the top one, when it was not called: its name). Binary
    tasks: the positive class.
    """
    _check_readout(readout)
    if int(programme_seeds) < 1:
        raise InputError(
            f"programme_seeds={programme_seeds}", field="programme_seeds", expected="1 or more"
        )
    if not 0 < alpha < 1:
        raise InputError(f"alpha={alpha}", field="alpha", expected="0 < alpha < 1")
    if y is not None:
        labels = y.dropna().astype(str)
        if not labels.sort_index().equals(cv_result.labels.sort_index()):
            raise InputError(
                "y does not match the labels the cross-validation used",
                field="y",
                expected="the CV's labels (or None)",
            )
    if cvs is None:
        with _step(on_step, f"{repeats} CV runs ({repeats - 1} on new fold splits)"):
            cvs = repeated_cv(
                cv_result, X, repeats, seed, executor, autoencoder, device, network_gpus
            )
    ensemble = MaskedEnsemble(cvs, X, device)
    ensemble.recorded = {}
    with _step(on_step, f"set masking against {null_draws} size-matched random sets per size"):
        masking = set_masking_evidence(ensemble, gene_sets, null_draws, seed, min_size, max_size)
    masked, ensemble.recorded = ensemble.recorded, None
    with _step(on_step, f"correlation GSEA ({nperm} permutations)"):
        corr = correlation_gsea(
            X, cv_result.labels, gene_sets, nperm, seed, min_size, max_size,
            list(cv_result.classes),
        )  # fmt: skip
    programme, programme_probs, programme_auc = None, None, None
    if programme_network and readout == "consensus":
        with _step(on_step, "programme network"):
            programme, programme_probs = programme_network_evidence(
                cvs, X, gene_sets, ensemble.universe, min_size, max_size, seed, device,
                patients=ensemble.patients,
            )  # fmt: skip
        programme_auc = programme.groupby("collection")["programme_cv_auc"].first().to_dict()
    table = select_readout(combine_readouts(masking, corr, programme), readout)
    if programme is not None:
        others = []
        if int(programme_seeds) > 1:
            with _step(
                on_step, f"programme network from {count(int(programme_seeds) - 1, 'more seed')}"
            ):
                others = seed_consensus(
                    masking, corr, cvs, X, gene_sets, ensemble.universe, seed,
                    range(2, int(programme_seeds) + 1), min_size=min_size, max_size=max_size,
                    device=device, patients=ensemble.patients,
                )  # fmt: skip
        table["first_share"] = first_shares([table, *others])
    if readout == "correlation":
        table["called"] = table["q"] < alpha
        table["conditional_p"] = np.nan
        table["separation"], table["family"] = np.nan, None
    else:
        gates = None
        if gate_draws:
            statistics = GATE_STATISTICS[readout]
            if programme is None and readout == "consensus":
                statistics = ("masking", "correlation")
            with _step(on_step, f"separation gate ({gate_draws} patient resamples)"):
                gates = separation_gates(
                    ensemble, masked, table, gene_sets, statistics, alpha, gate_draws,
                    gate_nperm, seed, programme_probs=programme_probs,
                )  # fmt: skip
        with _step(on_step, "driver calls"):
            table = conditional_calls(
                ensemble, table, gene_sets, alpha, max_calls, null_draws, seed, gates
            )
    table.insert(0, "task", cv_result.task)
    table = table[COLUMNS]
    table.attrs.update(
        readout=readout,
        repeats=len(cvs),
        cv_auc=[float(cv.mean_auc) for cv in cvs],
        null_draws=null_draws,
        nperm=nperm,
        alpha=alpha,
        gate_draws=gate_draws,
        programme_network=programme is not None,
        programme_seeds=int(programme_seeds) if programme is not None else None,
        programme_cv_auc=programme_auc,
    )
    return table
