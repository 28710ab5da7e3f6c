"""Driver recovery: which read-out names the programme planted behind an imaging-like trait?

Traits are planted in the real TCGA-GBM RNA-seq (as in :mod:`radiogenomics.validation.planted`,
plus a ``linear`` kind and programmes from several collections), go through the imaging-trait
path (repeated 5-fold CV of a small network), and every read-out ranks the sets of the planted
programme's collection. A read-out is scored by the planted set's rank (the best planted set
for two-programme traits) and by the share of false discoveries among the sets it calls
significant (any set that is not planted counts as false, even one correlated with the driver).
The traits and their lists are in :mod:`radiogenomics.validation.recovery_traits`.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult, cross_validate
from radiogenomics.interpret.correlation import correlation_gsea, gsea_by_collection
from radiogenomics.interpret.drivers import (
    GATE_STATISTICS,
    combine_readouts,
    conditional_calls,
    repeated_cv,
    seed_consensus,
    separation_gates,
    set_masking_evidence,
)
from radiogenomics.interpret.ensemble import MaskedEnsemble
from radiogenomics.interpret.programmes import programme_network_evidence, programme_seed
from radiogenomics.interpret.saliency import gene_saliency
from radiogenomics.models import NetworkConfig
from radiogenomics.utils.stats import benjamini_hochberg
from radiogenomics.validation.planted import POSITIVE
from radiogenomics.validation.recovery_readouts import family_counts
from radiogenomics.validation.recovery_traits import (
    RecoveryTrait,
    drive_match,
    driving_scores,
    gene_subset,
    plant,
)


@dataclass(frozen=True)
class RecoverySettings:
    """Network, CV and read-out settings of one benchmark run."""

    network: NetworkConfig
    n_splits: int = 5
    repeats: int = 3
    null_draws: int = 100
    nperm: int = 2000
    alpha: float = 0.05
    ig_steps: int = 16
    gate_draws: int = 200  # patient resamples of the separation gate
    gate_nperm: int = 300  # GSEA permutations per resample
    min_size: int = 15
    max_size: int = 500
    n_genes: int | None = None  # a gene subset (smoke runs); None: every expressed gene
    # the programme network trained from this many seeds: the default's, then the others
    # scored as consensus_seed2, ... (how far the default's ranks move with that seed alone)
    programme_seeds: int = 3
    # the programme network's CV runs, each on a new fold split (None: as many as repeats)
    programme_repeats: int | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["network"] = self.network.to_dict()
        return d


def full_settings() -> RecoverySettings:
    # batches of 32 and one 16-unit layer: a third of the optimiser steps of batch 10, the CV
    # AUCs of docs/results.md's planted traits (0.93 / 0.86 / 0.67 on ifng, emt_and_g2m,
    # hypoxia_extremes against 0.91 / 0.86 / 0.65)
    net = NetworkConfig(
        hidden=(16,),
        activation="tanh",
        optimizer="adam",
        learning_rate=3e-3,
        dropout=0.2,
        batch_size=32,
        max_epochs=20,
        patience=6,
    )
    return RecoverySettings(network=net, null_draws=50, nperm=1000, ig_steps=8)


def quick_settings() -> RecoverySettings:
    net = full_settings().network.model_copy(update={"max_epochs": 8, "patience": 4})
    return RecoverySettings(
        network=net, n_splits=3, repeats=2, null_draws=20, nperm=500, ig_steps=4, n_genes=3000,
        gate_draws=50, gate_nperm=100, programme_seeds=2,
    )  # fmt: skip


# ----------------------------------------------------------------------------- read-outs


def _oof_saliency(cv: CVResult, X: pd.DataFrame, steps: int) -> pd.DataFrame:
    """Cohort-level |saliency| and |integrated gradients| per gene: each patient by the fold
    model that held it out, mean over patients."""
    grads, igs = [], []
    for fold, model in zip(cv.folds, cv.fold_models or [], strict=True):
        Xv = X.loc[fold.val_ids]
        grads.append(gene_saliency(model, Xv, method="absolute", scale=None).matrix())
        ig = gene_saliency(model, Xv, method="integrated_gradients", scale=None, n_steps=steps)
        ig = ig.matrix()
        igs.append(ig.abs())
    sal = pd.concat(grads, axis=1).mean(axis=1)
    ig = pd.concat(igs, axis=1).mean(axis=1)
    return pd.DataFrame({"saliency": sal, "integrated_gradients": ig})


def _logreg_coefficients(X: pd.DataFrame, y: pd.Series, positive: str) -> pd.Series:
    """L2 logistic regression (C = 1, class-balanced) on z-scored genes: coefficients."""
    Xl = X.loc[y.index].to_numpy(dtype=np.float64)
    sd = Xl.std(axis=0)
    ok = sd > 0
    Z = (Xl[:, ok] - Xl[:, ok].mean(axis=0)) / sd[ok]
    # the dual problem has one variable per patient: fast with 150 patients and 14,000 genes
    fit = LogisticRegression(
        C=1.0, class_weight="balanced", solver="liblinear", dual=True, max_iter=5000
    )
    fit.fit(Z, (y.to_numpy() == positive).astype(int))
    return pd.Series(fit.coef_[0], index=X.columns[ok].astype(str))


def _ranks_and_calls(
    table: pd.DataFrame, score: str, planted: Sequence[str], called: np.ndarray | None
) -> dict:
    # ranks (the read-out's own order, with its tie-breaks) ascending; any other column:
    # descending
    up = score in ("rank", "programme_rank")
    order = table.sort_values([score, "set"], ascending=[up, True])["set"].tolist()
    ranks = [order.index(p) + 1 for p in planted if p in order]
    if not ranks:
        raise InputError(f"no planted set among the ranked sets: {list(planted)}", field="planted")
    out = {"rank": min(ranks), "n_sets": len(order), "top": order[0]}
    if called is None:
        out.update(n_called=np.nan, n_false=np.nan)
    else:
        names = table["set"].to_numpy()[called]
        out.update(n_called=int(len(names)), n_false=int(sum(n not in planted for n in names)))
    return out


def score_readouts(
    combined: pd.DataFrame,
    two_way: pd.DataFrame,
    gsea_table: pd.DataFrame,
    extra_ranks: pd.DataFrame,
    planted: Sequence[str],
    alpha: float,
) -> pd.DataFrame:
    """One row per read-out: the planted set's rank, the top set, calls and false calls.

    ``combined``: set masking, correlation GSEA and the programme network (with their
    consensus and ``called``); ``two_way``: the consensus of masking and correlation alone;
    ``gsea_table``: GSEA of the gene-level network/LR rankings (column ``class`` = ranking);
    ``extra_ranks``: further rankings that only order (set, then one column per read-out,
    higher = stronger).
    """
    rows = {}
    c = combined
    rows["set_masking_ap"] = _ranks_and_calls(c, "masking_ap", planted, None)
    rows["set_masking_auc"] = _ranks_and_calls(c, "masking_auc", planted, None)
    rows["set_masking_excess_ap"] = _ranks_and_calls(c, "excess_ap", planted, None)
    q_mask = c["masking_q"].to_numpy()
    rows["set_masking_z_ap"] = _ranks_and_calls(c, "masking_z", planted, q_mask < alpha)
    rows["set_masking_z_auc"] = _ranks_and_calls(c, "z_auc", planted, None)
    corr_sig = (c["correlation_padj"] < alpha) & (c["correlation_nes"] > 0)
    rows["correlation_gsea"] = _ranks_and_calls(c, "correlation_nes", planted, corr_sig.to_numpy())
    both = (q_mask < alpha) & corr_sig.to_numpy()
    rows["consensus"] = _ranks_and_calls(c, "rank", planted, c["q"].to_numpy() < alpha)
    top_sig = (c["rank"] == 1).to_numpy() & (c["q"].to_numpy() < alpha)
    rows["consensus_top_only"] = _ranks_and_calls(c, "rank", planted, top_sig)
    rows["consensus_called"] = _ranks_and_calls(c, "rank", planted, c["called"].to_numpy())
    rows["consensus_both_sig"] = _ranks_and_calls(c, "rank", planted, both)
    rows["consensus_two_way"] = _ranks_and_calls(
        two_way, "rank", planted, two_way["q"].to_numpy() < alpha
    )
    rows["programme_network"] = _ranks_and_calls(c, "programme_rank", planted, None)
    rows["programme_score_auc"] = _ranks_and_calls(c, "programme_score_auc", planted, None)
    # mean-rank rankings, ties to the programme network: the consensus before the sixth
    # list, and the candidate chosen on it (the verb's consensus without the forward order)
    for name, parts in {
        "consensus_masking_programme": ["masking_rank", "programme_rank"],
        "programme_and_score": ["programme_rank", "programme_score_rank"],
    }.items():
        mean = -c[parts].mean(axis=1) - 1e-6 * c["programme_rank"]
        rows[name] = _ranks_and_calls(c.assign(mean=mean), "mean", planted, None)
    for name in extra_ranks.columns.drop("set"):
        rows[name] = _ranks_and_calls(extra_ranks, name, planted, None)
    for name, g in gsea_table.groupby("class"):
        sig = ((g["padj"] < alpha) & (g["nes"] > 0)).to_numpy()
        rows[f"gsea_{name}"] = _ranks_and_calls(g, "nes", planted, sig)
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("readout").reset_index()


def programme_peer_ranks(
    cvs: Sequence[CVResult],
    X: pd.DataFrame,
    sets: Mapping[str, Mapping[str, Sequence[str]]],
    universe: Sequence[str],
    seed: int,
    patients: Sequence[str],
    repeats: int | None = None,
) -> pd.DataFrame:
    """``programme_mean_fill``: the programme network's ranking with the paper's fill (the
    same networks and forward order, keep-only with the others at the training mean)."""
    mean_fill, _ = programme_network_evidence(
        cvs, X, sets, universe, seed=seed, patients=patients, fill="mean", repeats=repeats
    )
    return pd.DataFrame(
        {
            "set": mean_fill["set"].to_numpy(),
            "programme_mean_fill": -mean_fill["programme_rank"].to_numpy(),
        }
    )


def consensus_seed_rows(
    masking: pd.DataFrame,
    correlation: pd.DataFrame,
    cvs: Sequence[CVResult],
    X: pd.DataFrame,
    sets: Mapping[str, Mapping[str, Sequence[str]]],
    universe: Sequence[str],
    patients: Sequence[str],
    planted: Sequence[str],
    trait_seed: int,
    draws: Sequence[int],
    repeats: int | None = None,
) -> pd.DataFrame:
    """Rows ``consensus_seed<k>``: the consensus with its programme network trained from the
    ``k``-th seed draw (:func:`programme_seed`), everything else unchanged (the gene network,
    masking and correlation GSEA): how far the planted set's rank moves with that seed alone.
    The seed of the gene network moves every read-out; the programme network's moves only the
    consensus, and costs a few seconds a draw. ``repeats``: the programme network's CV runs
    (None: as many as ``cvs``)."""
    tables = seed_consensus(
        masking, correlation, cvs, X, sets, universe, trait_seed, draws, patients=patients,
        repeats=repeats,
    )  # fmt: skip
    return pd.DataFrame(
        [
            {"readout": f"consensus_seed{k}", **_ranks_and_calls(t, "rank", planted, None)}
            for k, t in zip(draws, tables, strict=True)
        ]
    )


def save_trait_cache(
    stem: Path,
    ensemble: MaskedEnsemble,
    masked: Mapping[str, np.ndarray],
    cvs: Sequence[CVResult],
    gene_rankings: pd.DataFrame,
    combined: pd.DataFrame,
    gsea_table: pd.DataFrame,
) -> None:
    """A trait's intermediate results: ``stem.npz`` (patients, positive labels, every masked
    unit's mean out-of-fold probability of the positive class, the out-of-fold probability
    without masking averaged over the CV repeats) and ``stem_genes.csv`` / ``stem_sets.csv`` /
    ``stem_gsea.csv`` (gene-level rankings, the per-set table, GSEA of the gene rankings) and
    ``stem_cvs.pkl`` (the CV runs with their fold models)."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    patients = list(ensemble.patients)
    units = list(masked)
    probs = np.stack([masked[u][:, 0] for u in units], axis=1).astype(np.float32)
    oof = np.mean([cv.oof_proba.loc[patients, POSITIVE].to_numpy() for cv in cvs], axis=0)
    positive = ensemble.labels.loc[patients].to_numpy() == POSITIVE
    np.savez_compressed(
        stem.with_suffix(".npz"),
        patients=np.asarray(patients),
        positive=positive,
        units=np.asarray(units),
        probs=probs,
        oof=oof,
        cv_auc=np.asarray([cv.mean_auc for cv in cvs]),
    )
    with open(f"{stem}_cvs.pkl", "wb") as fh:  # the fold models: later read-outs mask again
        pickle.dump(list(cvs), fh)
    gene_rankings.to_csv(f"{stem}_genes.csv")
    combined.to_csv(f"{stem}_sets.csv", index=False)
    gsea_table.to_csv(f"{stem}_gsea.csv", index=False)


def gated_rows(gated: pd.DataFrame, planted: Sequence[str], alpha: float) -> pd.DataFrame:
    """Rows of the gated calls (``consensus_gated``: gate and further steps;
    ``consensus_gated_top``: the gated first call only) with strict and family-level counts."""
    top_rank = gated.loc[gated["q"] < alpha, "rank"].min()
    rows = []
    for name, called in (
        ("consensus_gated", gated["called"].to_numpy(dtype=bool)),
        ("consensus_gated_top", (gated["called"] & (gated["rank"] == top_rank)).to_numpy()),
    ):
        r = _ranks_and_calls(gated, "rank", planted, called)
        r["family_calls"], r["family_false"] = family_counts(gated.assign(called=called), planted)
        share = gated["separation"].dropna()
        r["separation"] = float(share.iloc[0]) if len(share) else np.nan
        rows.append({"readout": name, **r})
    return pd.DataFrame(rows)


def run_trait(
    X: pd.DataFrame,
    collections: Mapping[str, Mapping[str, Sequence[str]]],
    trait: RecoveryTrait,
    settings: RecoverySettings,
    cache: str | Path | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Plant one trait, run repeated CV and every read-out; (scores per read-out, info).

    ``info["sets"]`` is the per-set table (set masking, correlation GSEA, consensus, calls) for
    looking into a trait beyond the planted set's rank. ``cache``: a folder where the trait's
    intermediate results are saved (:func:`save_trait_cache`), so that new read-outs can be
    scored later without training again."""
    sets = {trait.collection: dict(collections[trait.collection])}
    for p in trait.programmes:  # a planted set every read-out ranks
        n = len(set(sets[trait.collection].get(p, ())) & set(map(str, X.columns)))
        if not settings.min_size <= n <= settings.max_size:
            raise InputError(
                f"planted set {p!r} has {n} expressed genes",
                field="programmes",
                expected=f"{settings.min_size}..{settings.max_size} genes of the expression",
            )
    if settings.n_genes is not None:
        X = gene_subset(X, sets[trait.collection], settings.n_genes, trait.seed)
    y = plant(driving_scores(X, sets[trait.collection], trait), trait)
    s = settings
    cv = cross_validate(X, y, s.network, n_splits=s.n_splits, seed=trait.seed, keep_models=True)
    cvs = repeated_cv(cv, X, repeats=s.repeats, seed=trait.seed)
    ens = MaskedEnsemble(cvs, X)
    ens.recorded = {}
    masking = set_masking_evidence(ens, sets, s.null_draws, trait.seed, s.min_size, s.max_size)
    masked, ens.recorded = ens.recorded, None
    corr = correlation_gsea(
        X, cv.labels, sets, s.nperm, trait.seed, s.min_size, s.max_size, list(cv.classes)
    )
    programme, probs = programme_network_evidence(
        cvs, X, sets, ens.universe, seed=programme_seed(trait.seed, 1), patients=ens.patients,
        repeats=s.programme_repeats,
    )  # fmt: skip
    combined = combine_readouts(masking, corr, programme)
    combined["masking_q"] = np.nan
    for _, idx in combined.groupby(["class", "collection"]).groups.items():
        combined.loc[idx, "masking_q"] = benjamini_hochberg(
            combined.loc[idx, "masking_p"].to_numpy()
        )
    combined = conditional_calls(
        ens, combined, sets, s.alpha, null_draws=s.null_draws, seed=trait.seed
    )
    # driver_ranking's calls: the separation gate first, then the conditional steps
    gates = separation_gates(
        ens, masked, combined, sets, GATE_STATISTICS["consensus"], s.alpha, s.gate_draws,
        s.gate_nperm, trait.seed, programme_probs=probs,
    )  # fmt: skip
    gated = conditional_calls(
        ens, combined, sets, s.alpha, null_draws=s.null_draws, seed=trait.seed, gates=gates
    )
    # gene-level network read-outs, each averaged over the repeats where it is cheap
    singles = ens.scores({}, single_genes=True)[POSITIVE]
    gene_rankings = pd.DataFrame(
        {"single_gene_ap": singles["ap"], "single_gene_auc": singles["auc"]}
    )
    gene_rankings = gene_rankings.join(_oof_saliency(cvs[0], X, s.ig_steps), how="inner")
    lr = _logreg_coefficients(X, cv.labels, POSITIVE).rename("logreg_coef")
    gene_rankings = gene_rankings.join(lr, how="inner").dropna()
    g = gsea_by_collection(gene_rankings, sets, s.nperm, trait.seed, s.min_size, s.max_size)
    peers = programme_peer_ranks(
        cvs, X, sets, ens.universe, trait.seed, ens.patients, s.programme_repeats
    )
    two_way = combine_readouts(masking, corr)
    table = score_readouts(combined, two_way, g, peers, trait.programmes, s.alpha)
    table = pd.concat([table, gated_rows(gated, trait.programmes, s.alpha)], ignore_index=True)
    if cache is not None:
        save_trait_cache(Path(cache) / trait.name, ens, masked, cvs, gene_rankings, combined, g)
    # the gene-level read-outs from the first CV alone: what the repeats add
    one = MaskedEnsemble(cvs[:1], X)
    single_cv = combine_readouts(
        set_masking_evidence(one, sets, s.null_draws, trait.seed, s.min_size, s.max_size), corr
    )
    extra = pd.DataFrame(
        [
            {"readout": "set_masking_z_ap_1cv", **_ranks_and_calls(single_cv, "masking_z", trait.programmes, None)},
            {"readout": "consensus_two_way_1cv", **_ranks_and_calls(single_cv, "rank", trait.programmes, None)},
        ]
    )  # fmt: skip
    seeds = consensus_seed_rows(
        masking, corr, cvs, X, sets, ens.universe, ens.patients, trait.programmes, trait.seed,
        range(2, s.programme_seeds + 1), s.programme_repeats,
    )  # fmt: skip
    table = pd.concat([table, extra, seeds], ignore_index=True)
    info = {
        **{k: v for k, v in asdict(trait).items() if k != "programmes"},
        "programmes": ", ".join(trait.programmes),
        "cv_auc": float(np.mean([c.mean_auc for c in cvs])),
        "cv_auc_first": float(cv.mean_auc),
        "programme_cv_auc": float(programme["programme_cv_auc"].iloc[0]),
        **drive_match(X, sets[trait.collection], trait, s.min_size, s.max_size),
    }
    for k, v in info.items():
        if k not in ("programmes",):
            table[k] = v
    table["programmes"] = info["programmes"]
    info["sets"] = combined.assign(trait=trait.name)
    return table, info


def summarise(results: pd.DataFrame, min_auc: float = 0.75) -> pd.DataFrame:
    """Per read-out, over all traits and over the learnt ones (mean CV AUC >= ``min_auc``):
    traits, top-1 rate, mean rank, calls, the false-discovery proportion among them and the
    share of traits where a planted set was called (and,
    where the rows have them, calls and FDP counting each inseparable family as one call).
    The learnt traits are also split by their number of programmes and, where the rows have
    ``drive_rank`` (:func:`~radiogenomics.validation.recovery_traits.drive_match`), kept to
    those whose planted set best matches its drive.
    With ``consensus_seed<k>`` rows, ``consensus_all_seeds`` pools them with ``consensus``:
    the default's top-1 rate and mean rank over its programme network's seed draws."""
    rows = []
    learnt = results[results["cv_auc"] >= min_auc]
    subsets = [("all", results), (f"cv_auc>={min_auc}", learnt)]
    if "programmes" in results:  # one- and two-programme traits fare differently
        two = learnt["programmes"].astype(str).str.contains(",")
        subsets += [(f"cv_auc>={min_auc}, one programme", learnt[~two])]
        subsets += [(f"cv_auc>={min_auc}, two programmes", learnt[two])]
    if "drive_rank" in results:  # the planted set is the best match of its drive
        subsets += [(f"cv_auc>={min_auc}, drive matched", learnt[learnt["drive_rank"] == 1])]
    for subset, part in subsets:
        if part.empty:
            continue
        for readout, r in part.groupby("readout", sort=False):
            rows.append(_summary_row(subset, str(readout), r))
        draws = part["readout"].eq("consensus") | part["readout"].str.match(r"consensus_seed\d+$")
        if part.loc[draws, "readout"].nunique() > 1:
            pooled = _summary_row(subset, "consensus_all_seeds", part[draws])
            # ranks only (the seed rows call nothing); n: traits, not draws
            pooled.update(n=int(part["readout"].eq("consensus").sum()), calls=np.nan)
            pooled.update(fdp=np.nan, found=np.nan)
            rows.append(pooled)
    return pd.DataFrame(rows)


def _summary_row(subset: str, readout: str, r: pd.DataFrame) -> dict:
    calls = r["n_called"].sum(min_count=1)
    false = r["n_false"].sum(min_count=1)
    row = {
        "traits": subset,
        "readout": readout,
        "n": len(r),
        "top1": float((r["rank"] == 1).mean()),
        "mean_rank": float(r["rank"].mean()),
        "calls": calls,
        "fdp": float(false / calls) if calls and calls > 0 else np.nan,
        # the share of traits with a planted set among the calls: what the calls cost
        "found": float(((r["n_called"] - r["n_false"]) > 0).mean())
        if r["n_called"].notna().any()
        else np.nan,
    }
    if "family_calls" in r:  # gated calls: inseparable families counted as one call
        fam = r["family_calls"].sum(min_count=1)
        fam_false = r["family_false"].sum(min_count=1)
        row["family_calls"] = fam
        row["family_fdp"] = float(fam_false / fam) if fam and fam > 0 else np.nan
    return row
