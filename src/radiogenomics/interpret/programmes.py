"""Programme network: which programme's activity a trait depends on, read at the set level.

Gene-level read-outs (masking a set's genes in a network of all genes, GSEA of gene-trait
correlations) see a programme only through its genes, and correlated programmes that share
genes or co-expression (glycolysis inside hypoxia, mTORC1 beside the proliferation sets) take
the driver's place at the top. Here each set becomes one input: its *programme score*, the
mean over its genes of each gene's z-score over the patients (label-blind, computed once on
every patient). A network of the trait's own configuration (without autoencoder layers) is
cross-validated on the collection's programme scores, repeated on new fold splits as the gene
network is, and each set is scored by out-of-fold keep-only masking: the average precision of
each patient's prediction, averaged over the repeats' fold models that held the patient out,
when only that set's score is kept (the others at their training mean), as the paper masks
gene sets. The network learns programme-level functions (thresholds, interactions, U shapes)
that a correlation cannot; the masked AP needs no size-matched null, since every input is one
score whatever the set's size; sets with identical scores are one input and share its AP.
This read-out ranks; it does not test (see
:func:`radiogenomics.interpret.drivers.driver_ranking` for how it enters the consensus).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult, cross_validate
from radiogenomics.interpret.correlation import collections_of
from radiogenomics.interpret.ensemble import SEP, MaskedEnsemble
from radiogenomics.utils.seeding import derive_seed


def programme_scores(X: pd.DataFrame, gene_sets: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Patients x sets: mean over the set's genes of each gene's z-score over the patients.

    Genes absent from ``X`` or constant are ignored; a set with no usable gene is refused.
    """
    values = X.to_numpy(dtype=np.float64)
    sd = values.std(axis=0)
    ok = sd > 0
    Z = np.zeros_like(values)
    Z[:, ok] = (values[:, ok] - values[:, ok].mean(axis=0)) / sd[ok]
    col = {g: i for i, g in enumerate(map(str, X.columns)) if ok[i]}
    out = {}
    for name, genes in gene_sets.items():
        idx = [col[g] for g in dict.fromkeys(map(str, genes)) if g in col]
        if not idx:
            raise InputError(
                f"set {name!r} has no expressed gene", field="programmes", expected="a set in X"
            )
        out[str(name)] = Z[:, idx].mean(axis=1)
    return pd.DataFrame(out, index=X.index)


def programme_network_evidence(
    cvs: Sequence[CVResult],
    X: pd.DataFrame,
    gene_sets: object,
    genes: Iterable[str],
    min_size: int = 15,
    max_size: int = 500,
    seed: int = 0,
    device: str | None = None,
    patients: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Keep-only masking of each set's programme score in a network of programme scores.

    ``cvs``: the gene network's CV runs (their labels, configuration, fold count and number
    give the programme network's); ``genes``: the gene network's genes (a set's score uses its
    genes among them, and a set is scored with ``min_size``..``max_size`` of them, as set
    masking does). Returns a table (class, collection, set, programme_ap, programme_auc and
    programme_cv_auc, the programme network's mean CV AUC) and every set's mean masked
    out-of-fold probabilities (patients x scored classes, keyed ``collection SEP set``) for the
    separation gate, with the patients in the order of ``patients`` (None: the labels' order;
    either way ``table.attrs["patients"]``).
    """
    if not cvs:
        raise InputError("no cross-validation runs", field="cv_result")
    cv = cvs[0]
    config = cv.config.model_copy(update={"ae_layers": 0})
    universe = set(map(str, genes))
    parts, recorded, order = [], {}, []
    for coll, sets in collections_of(gene_sets).items():
        kept = {n: [g for g in v if g in universe] for n, v in sets.items()}
        kept = {n: v for n, v in kept.items() if min_size <= len(v) <= max_size}
        if not kept:
            continue
        scores = programme_scores(X, kept)
        # sets with identical scores are one input: the network would split their credit at
        # random between the copies
        digest = pd.util.hash_pandas_object(scores.T, index=False)
        first = {h: n for n, h in reversed(list(digest.items()))}
        rep = {n: first[h] for n, h in digest.items()}
        S = scores[list(dict.fromkeys(rep.values()))]
        runs = [
            cross_validate(
                S,
                cv.labels,
                config,
                n_splits=cv.n_splits,
                seed=derive_seed(seed, "programme-cv", coll, r),
                keep_models=True,
                task=cv.task,
                classes=cv.classes,
                device=device,
            )
            for r in range(len(cvs))
        ]
        ensemble = MaskedEnsemble(runs, S, device)
        ensemble.recorded = {}
        masked = ensemble.scores({}, single_genes=True)
        recorded.update({f"{coll}{SEP}{n}": ensemble.recorded[r] for n, r in rep.items()})
        order = ensemble.patients
        cv_auc = float(np.mean([run.mean_auc for run in runs]))
        for cls, sc in masked.items():
            sc = sc.reindex([rep[n] for n in kept])
            parts.append(
                pd.DataFrame(
                    {
                        "class": cls,
                        "collection": coll,
                        "set": list(kept),
                        "programme_ap": sc["ap"].to_numpy(),
                        "programme_auc": sc["auc"].to_numpy(),
                        "programme_cv_auc": cv_auc,
                    }
                )
            )
    if not parts:
        raise InputError(
            "no gene set has an allowed size among the model's genes",
            field="gene_sets",
            expected=f"sets with {min_size}..{max_size} of the model's genes",
        )
    table = pd.concat(parts, ignore_index=True)
    if patients is not None:
        position = {p: i for i, p in enumerate(order)}
        try:
            rows = [position[str(p)] for p in patients]
        except KeyError as err:
            raise InputError(
                f"patient {err.args[0]!r} has no label", field="patients", expected="CV patients"
            ) from None
        recorded = {k: v[rows] for k, v in recorded.items()}
        order = list(map(str, patients))
    table.attrs["patients"] = order
    return table, recorded
