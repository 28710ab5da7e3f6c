"""Candidate read-outs and calls scored from a recovery trait's saved intermediate results.

:func:`radiogenomics.validation.recovery.run_trait` saves, per trait, the CV runs with their
fold models, every set's and null draw's masked probabilities and the per-set table; this
module scores further read-outs from them without training again:

- ``denoised_correlation``: GSEA of each gene's correlation with the network's out-of-fold
  probability (averaged over the CV repeats) instead of the noisy label;
- ``consensus_denoised`` / ``consensus_ig``: the consensus of the masking z-score with that,
  or with GSEA of cohort-level |integrated gradients|;
- ``stouffer`` / ``stouffer_denoised``: Stouffer's combination of the masking z-score and the
  (denoised) correlation GSEA's one-sided z, ranked by the combined z;
- ``programme_network`` (:mod:`radiogenomics.interpret.programmes`) alone (ranks only);
  ``consensus`` is the verb's (the programme network and the programme score's AUC),
  ``consensus_two_way`` the earlier consensus of the masking z-score and correlation GSEA;
- for each, calls through the bootstrap separation gate (``_gated_top``: the first call only;
  ``_gated``: the gate, then the conditional steps of further calls), with the inseparable
  families counted at family level beside the strict count.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

from radiogenomics.interpret.correlation import gsea_by_collection, score_correlation_ranking
from radiogenomics.interpret.drivers import (
    GATE_STATISTICS,
    combine_readouts,
    conditional_calls,
    oof_targets,
    separation_gates,
)
from radiogenomics.interpret.ensemble import MaskedEnsemble
from radiogenomics.interpret.programmes import programme_network_evidence
from radiogenomics.utils.stats import benjamini_hochberg
from radiogenomics.validation.planted import POSITIVE

#: Candidate rankings and the statistics their separation gate recomputes on resamples
#: (|integrated gradients| cannot be resampled from stored results: its consensus is gated on
#: the masking z-score and correlation, the statistics it shares a side with).
CANDIDATES = {
    "consensus": GATE_STATISTICS["consensus"],
    "consensus_two_way": ("masking", "correlation"),
    "denoised_correlation": ("denoised",),
    "consensus_denoised": ("masking", "denoised"),
    "consensus_ig": ("masking", "correlation"),
    "stouffer": ("masking", "correlation"),
    "stouffer_denoised": ("masking", "denoised"),
}


def stouffer(combined: pd.DataFrame) -> pd.DataFrame:
    """Rank by Stouffer's z of the masking z-score and the correlation GSEA's one-sided z
    (p/2 for a positive NES, 1 - p/2 for a negative one); p is its normal tail, q BH."""
    t = combined.copy()
    p_corr = np.where(t["correlation_nes"] > 0, t["correlation_p"] / 2, 1 - t["correlation_p"] / 2)
    z_corr = norm.isf(np.clip(p_corr, 1e-300, 1.0))
    t["score"] = (t["masking_z"].to_numpy() + z_corr) / np.sqrt(2.0)
    t["p"] = norm.sf(t["score"])
    keys = ["class", "collection"]
    t = t.sort_values(keys + ["score", "set"], ascending=[1, 1, 0, 1])
    t["rank"] = t.groupby(keys).cumcount() + 1
    for _, idx in t.groupby(keys).groups.items():
        t.loc[idx, "q"] = benjamini_hochberg(t.loc[idx, "p"].to_numpy())
    return t.reset_index(drop=True)


def _peer_table(gsea: pd.DataFrame) -> pd.DataFrame:
    """A GSEA table in the shape :func:`combine_readouts` takes as its correlation side."""
    return gsea[["class", "collection", "set", "size", "nes", "pval", "padj", "rank"]]


def _masking_table(combined: pd.DataFrame) -> pd.DataFrame:
    """The masking side of a saved per-set table, as :func:`set_masking_evidence` gives it."""
    t = combined.drop(columns=["p", "q", "rank", "score"]).rename(
        columns={
            "masking_ap": "ap",
            "masking_auc": "auc",
            "masking_z": "z_ap",
            "masking_p": "p",
            "masking_rank": "rank",
        }
    )
    t["q"] = np.nan
    cols = ["class", "collection", "set", "size", "ap", "auc", "z_ap", "excess_ap", "z_auc"]
    return t[cols + ["p", "q", "rank"]]


def cached_sides(combined: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The masking and correlation GSEA tables of a saved per-set table, as
    :func:`~radiogenomics.interpret.drivers.combine_readouts` takes them."""
    corr = pd.DataFrame(
        {
            **{k: combined[k] for k in ("class", "collection", "set", "size")},
            "nes": combined["correlation_nes"],
            "pval": combined["correlation_p"],
            "padj": combined["correlation_padj"],
            "rank": combined["correlation_rank"],
        }
    )
    return _masking_table(combined), corr


def load_cache(stem: Path, X: pd.DataFrame) -> dict:
    """A trait's saved results: the ensemble (with patients), masked probabilities by unit,
    the per-set table and the GSEA of gene rankings."""
    d = np.load(stem.with_suffix(".npz"))
    with open(f"{stem}_cvs.pkl", "rb") as fh:
        cvs = pickle.load(fh)
    ens = MaskedEnsemble(cvs, X)
    ens.patients = list(map(str, d["patients"]))
    probs = d["probs"]  # each d[...] reads and decompresses the array again
    masked = {str(u): probs[:, i : i + 1].astype(np.float64) for i, u in enumerate(d["units"])}
    return {
        "ensemble": ens,
        "cvs": cvs,
        "masked": masked,
        "sets": pd.read_csv(f"{stem}_sets.csv"),
        "gsea": pd.read_csv(f"{stem}_gsea.csv"),
    }


def family_counts(table: pd.DataFrame, planted: Sequence[str]) -> tuple[int, int]:
    """Calls and false calls at family level: each strict call counts (false if not planted),
    and each inseparable family counts once, false unless it holds a planted set."""
    called = table.loc[table["called"].astype(bool), "set"].tolist()
    n, false = len(called), sum(s not in planted for s in called)
    for _, members in table.dropna(subset=["family"]).groupby("family")["set"]:
        n += 1
        false += not any(m in planted for m in members)
    return n, false


def _score(table: pd.DataFrame, planted: Sequence[str], called: np.ndarray | None) -> dict:
    order = table.sort_values(["rank", "set"])["set"].tolist()
    ranks = [order.index(p) + 1 for p in planted if p in order]
    out = {"rank": min(ranks), "n_sets": len(order), "top": order[0]}
    if called is None:
        return {**out, "n_called": np.nan, "n_false": np.nan}
    names = table["set"].to_numpy()[called]
    return {**out, "n_called": len(names), "n_false": int(sum(n not in planted for n in names))}


def rescore_trait(
    stem: Path,
    X: pd.DataFrame,
    collections: Mapping[str, Mapping[str, Sequence[str]]],
    collection: str,
    planted: Sequence[str],
    *,
    nperm: int = 1000,
    null_draws: int = 50,
    alpha: float = 0.05,
    draws: int = 200,
    gate_nperm: int = 300,
    seed: int = 0,
    gated: Sequence[str] | None = None,
) -> pd.DataFrame:
    """One row per candidate read-out for a cached trait, and the gated calls of those in
    ``gated`` (None: all; the gate re-masks for the further calls, the costly part)."""
    c = load_cache(stem, X)
    ens, combined = c["ensemble"], c["sets"]
    sets = {collection: dict(collections[collection])}
    combined["family"] = None
    masking, corr = cached_sides(combined)
    targets = oof_targets(c["cvs"], ens.patients)
    den = gsea_by_collection(score_correlation_ranking(X, targets), sets, nperm, seed, 15, 500)
    ig = c["gsea"][c["gsea"]["class"] == "integrated_gradients"].assign(**{"class": POSITIVE})
    tables = {
        "consensus_two_way": combine_readouts(masking, corr),
        "consensus_denoised": combine_readouts(masking, _peer_table(den)),
        "consensus_ig": combine_readouts(masking, _peer_table(ig)),
    }
    tables["stouffer"] = stouffer(tables["consensus_two_way"])
    tables["stouffer_denoised"] = stouffer(tables["consensus_denoised"])
    d = den.copy()
    d["p"] = np.where(d["nes"] > 0, d["pval"], 1.0)
    d["q"] = benjamini_hochberg(d["p"].to_numpy())
    tables["denoised_correlation"] = d
    programme, probs = programme_network_evidence(
        c["cvs"], X, sets, ens.universe, seed=seed, patients=ens.patients
    )
    tables["consensus"] = combine_readouts(masking, corr, programme)
    alone = tables["consensus"].sort_values(["programme_rank", "set"])
    tables["programme_network"] = alone.assign(rank=np.arange(1, len(alone) + 1), q=np.nan)
    rows = {}
    for name, t in tables.items():
        ranks_only = name == "programme_network"  # it orders, it does not test
        rows[name] = _score(t, planted, None if ranks_only else (t["q"] < alpha).to_numpy())
        if name not in CANDIDATES or (gated is not None and name not in gated):
            continue
        gates = separation_gates(
            ens, c["masked"], t, sets, CANDIDATES[name], alpha, draws, gate_nperm, seed, targets,
            programme_probs=probs,
        )  # fmt: skip
        full = conditional_calls(ens, t, sets, alpha, null_draws=null_draws, seed=seed,
                                 gates=gates)  # fmt: skip
        # the first call is always the best-ranked significant set
        first = full["called"] & (full["rank"] == full.loc[full["q"] < alpha, "rank"].min())
        top = full.assign(called=first)
        for suffix, g in (("_gated_top", top), ("_gated", full)):
            r = _score(g, planted, g["called"].to_numpy(dtype=bool))
            r["family_calls"], r["family_false"] = family_counts(g, planted)
            share = g["separation"].dropna()
            r["separation"] = float(share.iloc[0]) if len(share) else np.nan
            rows[name + suffix] = r
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("readout").reset_index()
