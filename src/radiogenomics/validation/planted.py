"""Imaging traits planted in real expression: does the imaging-trait path find the programme?

No large public VASARI set exists for TCGA-GBM, so binary traits are made from real MSigDB
hallmark programme scores of the real RNA-seq (mean z-score of a set's genes): each trait is a
non-linear function of one or two programme scores plus Gaussian noise, and the top third of
patients are positive (about 1:2, as the VASARI traits). The trait then goes through the path of
an imaging trait (CV, retraining, gene-set masking with a size-matched null, retrained and out of
fold, GSEA of single-gene masking AP), and the planted set's rank among the hallmark collection
says whether the method found the driver.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from radiogenomics.enrichment import gsea_many
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult, cross_validate, retrain
from radiogenomics.interpret import MaskingResult, gene_masking, out_of_fold_masking
from radiogenomics.interpret.programmes import programme_scores
from radiogenomics.models import NetworkConfig, TrainedModel
from radiogenomics.utils.seeding import rng
from radiogenomics.validation.subtypes import masking_ap_ranking

POSITIVE, NEGATIVE = "present", "absent"
#: Maps of (one or two) standardised programme scores to a latent trait value.
KINDS = ("extremes", "and", "xor", "step", "linear")


def check_trait(kind: str, programmes: Sequence[str], noise: float, share: float) -> None:
    """Refuse a planted trait whose kind, programme count, noise or positive share is invalid."""
    if kind not in KINDS:
        raise InputError(f"trait kind {kind!r}", field="kind", expected=f"one of {KINDS}")
    need = (2,) if kind in ("and", "xor") else (1, 2) if kind == "linear" else (1,)
    if len(programmes) not in need:
        raise InputError(
            f"{kind!r} takes {' or '.join(map(str, need))} programme(s), got {len(programmes)}",
            field="programmes",
        )
    if not 0 < share < 1 or noise < 0:
        raise InputError(
            f"positive_share={share}, noise={noise}",
            field="positive_share/noise",
            expected="0 < positive_share < 1 and noise >= 0",
        )


@dataclass(frozen=True)
class TraitSpec:
    """One planted trait: ``kind`` of function of the ``programmes`` scores, noise SD (in units
    of the latent's SD) and the share of positive patients.

    - ``extremes``: |s1| (both tails positive: no linear model separates it),
    - ``and``: min(s1, s2) (both programmes high),
    - ``xor``: s1 * s2 (the two programmes agree in sign),
    - ``step``: 1[s1 > its (1 - positive_share) quantile] (a hard threshold),
    - ``linear``: s1 (+ s2) (monotone in each programme).
    """

    name: str
    kind: str
    programmes: tuple[str, ...]
    noise: float = 0.5
    positive_share: float = 1 / 3

    def __post_init__(self) -> None:
        check_trait(self.kind, self.programmes, self.noise, self.positive_share)


def _standardise(v: np.ndarray) -> np.ndarray:
    sd = v.std()
    return (v - v.mean()) / (sd if sd > 0 else 1.0)


def plant_labels(
    scores: pd.DataFrame,
    name: str,
    kind: str,
    programmes: Sequence[str],
    noise: float,
    share: float,
    noise_rng: np.random.Generator,
) -> pd.Series:
    """Binary labels (``present``/``absent``) of one planted trait for every patient.

    latent = f(standardised programme scores), standardised, plus ``noise`` x N(0, 1) drawn from
    ``noise_rng``; the ``share`` of patients with the largest value are ``present``.
    """
    missing = [p for p in programmes if p not in scores.columns]
    if missing:
        raise InputError(
            f"programmes {missing} have no score", field="programmes", expected="scored sets"
        )
    s = [_standardise(scores[p].to_numpy(dtype=np.float64)) for p in programmes]
    if kind == "extremes":
        latent = np.abs(s[0])
    elif kind == "and":
        latent = np.minimum(s[0], s[1])
    elif kind == "xor":
        latent = s[0] * s[1]
    elif kind == "linear":
        latent = np.sum(s, axis=0)
    else:
        latent = (s[0] > np.quantile(s[0], 1 - share)).astype(np.float64)
    noisy = _standardise(latent) + noise * noise_rng.standard_normal(len(latent))
    n_pos = int(round(share * len(noisy)))
    order = np.argsort(-noisy, kind="stable")
    labels = np.full(len(noisy), NEGATIVE, dtype=object)
    labels[order[:n_pos]] = POSITIVE
    return pd.Series(labels, index=scores.index, name=name)


def plant_trait(scores: pd.DataFrame, spec: TraitSpec, seed: int = 0) -> pd.Series:
    """Binary labels of ``spec`` for every patient (:func:`plant_labels`; noise from ``seed``)."""
    noise_rng = rng(seed, "planted-noise", spec.name)
    return plant_labels(
        scores, spec.name, spec.kind, spec.programmes, spec.noise, spec.positive_share, noise_rng
    )


def null_z(result: MaskingResult, metric: str = "ap") -> pd.Series:
    """Per gene set: (score - mean of its size-matched null) / SD of that null."""
    if result.null is None:
        raise InputError("the masking run has no null", field="null_draws", expected="> 0")
    t = result.table[result.table["collection"] != "single_genes"]
    stats = result.null.groupby("size")[metric].agg(["mean", "std"])
    mu = t["size"].map(stats["mean"]).to_numpy()
    sd = t["size"].map(stats["std"]).to_numpy()
    z = (t[metric].to_numpy() - mu) / np.where(sd > 0, sd, np.nan)
    return pd.Series(z, index=t["set"].to_numpy())


def _rank_of(order: Sequence[str], name: str) -> int:
    hits = [i for i, s in enumerate(order) if s == name]
    return hits[0] + 1 if hits else -1


def planted_ranks(
    result: MaskingResult, planted: Sequence[str], collection: str | None = None
) -> pd.DataFrame:
    """Ranks (1 = best) of each planted set among the masked sets of one binary model.

    ``rank_ap``: by AP alone (no null, the paper's reading); ``rank_null``: by the z-score
    against the size-matched null (random sets of the same size); also AP, AUC, p and q.
    """
    t = result.table[result.table["collection"] != "single_genes"]
    if collection is not None:
        t = t[t["collection"] == collection]
    t = t.reset_index(drop=True)
    by_ap = t.sort_values(["ap", "auc", "set"], ascending=[False, False, True])["set"].tolist()
    has_null = result.null is not None
    if has_null:
        z = null_z(result).reindex(t["set"]).to_numpy()
        t = t.assign(z_ap=z)
        by_null = t.sort_values(["z_ap", "set"], ascending=[False, True])["set"].tolist()
    rows = []
    for name in planted:
        r = t[t["set"] == name]
        if r.empty:
            raise InputError(f"planted set {name!r} was not masked", field="planted")
        r = r.iloc[0]
        rows.append(
            {
                "set": name,
                "n_sets": len(t),
                "ap": float(r["ap"]),
                "auc": float(r["auc"]),
                "rank_ap": _rank_of(by_ap, name),
                "top_by_ap": by_ap[0],
                "z_ap": float(r["z_ap"]) if has_null else np.nan,
                "p_ap": float(r["p_ap"]) if has_null else np.nan,
                "q_ap": float(r["q_ap"]) if has_null else np.nan,
                "rank_null": _rank_of(by_null, name) if has_null else -1,
                "top_by_null": by_null[0] if has_null else "",
            }
        )
    return pd.DataFrame(rows)


def gsea_ranks(
    gsea_table: pd.DataFrame, planted: Sequence[str], ranking: str | None = None
) -> pd.DataFrame:
    """Ranks of the planted sets by NES (1 = most positively enriched) in one GSEA result."""
    t = gsea_table if ranking is None else gsea_table[gsea_table["ranking"] == ranking]
    order = t.sort_values(["nes", "set"], ascending=[False, True])["set"].tolist()
    rows = []
    for name in planted:
        r = t[t["set"] == name]
        if r.empty:
            raise InputError(f"planted set {name!r} was not tested by GSEA", field="planted")
        r = r.iloc[0]
        rows.append(
            {
                "set": name,
                "n_sets": len(t),
                "nes": float(r["nes"]),
                "padj": float(r["padj"]),
                "rank_nes": _rank_of(order, name),
                "top_by_nes": order[0],
            }
        )
    return pd.DataFrame(rows)


@dataclass
class PlantedRun:
    """One planted trait through the imaging-trait path."""

    spec: TraitSpec
    labels: pd.Series
    cv: CVResult
    model: TrainedModel
    masking: dict[str, MaskingResult]
    set_ranks: dict[str, pd.DataFrame]
    gsea: dict[str, pd.DataFrame]
    gsea_ranks: dict[str, pd.DataFrame]
    notes: list[str] = field(default_factory=list)

    def summary(self) -> pd.DataFrame:
        """One row per (planted set, mode): every rank the report shows."""
        rows = []
        for mode, ranks in self.set_ranks.items():
            g = self.gsea_ranks[mode].set_index("set")
            for _, r in ranks.iterrows():
                rows.append(
                    {
                        "trait": self.spec.name,
                        "kind": self.spec.kind,
                        "noise": self.spec.noise,
                        "cv_auc": self.cv.mean_auc,
                        "mode": mode,
                        "set": r["set"],
                        "masking_ap": r["ap"],
                        "rank_ap": int(r["rank_ap"]),
                        "rank_null": int(r["rank_null"]),
                        "q_ap": r["q_ap"],
                        "top_by_ap": r["top_by_ap"],
                        "top_by_null": r["top_by_null"],
                        "gsea_nes": g.loc[r["set"], "nes"],
                        "gsea_padj": g.loc[r["set"], "padj"],
                        "gsea_rank": int(g.loc[r["set"], "rank_nes"]),
                        "gsea_top": g.loc[r["set"], "top_by_nes"],
                        "n_sets": int(r["n_sets"]),
                    }
                )
        return pd.DataFrame(rows)


def run_planted_trait(
    X: pd.DataFrame,
    spec: TraitSpec,
    collection: Mapping[str, Iterable[str]],
    config: NetworkConfig,
    n_splits: int = 10,
    seed: int = 0,
    null_draws: int = 100,
    nperm: int = 10000,
    scores: pd.DataFrame | None = None,
    modes: Sequence[str] = ("retrained", "out_of_fold"),
    quiet: bool = True,
) -> PlantedRun:
    """Plant ``spec`` in ``X`` and run CV, retraining, masking of ``collection`` (with the
    null) and GSEA of single-gene masking AP against ``collection``, in each of ``modes``
    (permutation p-values, floor 1 / (nperm + 1))."""
    sets = {str(k): list(map(str, v)) for k, v in collection.items()}
    if scores is None:
        scores = programme_scores(X, {p: sets[p] for p in spec.programmes})
    y = plant_trait(scores, spec, seed)
    cv = cross_validate(X, y, config, n_splits=n_splits, seed=seed, keep_models=True)
    model = retrain(X, y, config, cv_result=cv, seed=seed)
    kwargs = dict(
        gene_sets={"hallmark": sets},
        single_genes=True,
        null_draws=null_draws,
        seed=seed,
        quiet=quiet,
    )
    masking: dict[str, MaskingResult] = {}
    if "retrained" in modes:
        masking["retrained"] = gene_masking(model, X, y, **kwargs)
    if "out_of_fold" in modes:
        masking["out_of_fold"] = out_of_fold_masking(cv, X, y, **kwargs)
    set_ranks, gsea_tables, g_ranks = {}, {}, {}
    for mode, res in masking.items():
        set_ranks[mode] = planted_ranks(res, spec.programmes)
        ranking = masking_ap_ranking(res.table, "ap")
        g = gsea_many(ranking, sets, nperm=nperm, seed=seed, small_p=None).table
        gsea_tables[mode] = g
        g_ranks[mode] = gsea_ranks(g, spec.programmes)
    return PlantedRun(
        spec=spec,
        labels=y,
        cv=cv,
        model=model,
        masking=masking,
        set_ranks=set_ranks,
        gsea=gsea_tables,
        gsea_ranks=g_ranks,
    )
