"""Programme network: which programme's activity a trait depends on, read at the set level.

Gene-level read-outs (masking a set's genes in a network of all genes, GSEA of gene-trait
correlations) see a programme only through its genes, and correlated programmes that share
genes or co-expression (glycolysis inside hypoxia, mTORC1 beside the proliferation sets) take
the driver's place at the top. Here each set becomes one input: its *programme score*, the
mean over its genes of each gene's z-score over the patients (label-blind, computed once on
every patient). A network of the trait's own configuration (without autoencoder layers) is
cross-validated on the collection's programme scores, repeated on new fold splits as the gene
network is, and each set is scored by out-of-fold *conditional* keep-only masking: the average
precision of each patient's prediction, averaged over the repeats' fold models that held the
patient out, when only that set's score is kept and every other score is filled in with its
linear conditional expectation given it
(:mod:`radiogenomics.interpret.programme_masking`; the paper's fill, the training mean, lets
a correlated stand-in tie with the driver). A trait that needs two programmes together (an
AND) is not carried by either alone, so the first :data:`FORWARD_STEPS` places (at most) go
to a floating forward order: the best single set, then the set that adds most to the AP of
those already kept together, while one raises it, dropping an earlier set that the later ones
make redundant (a stand-in for both programmes of an AND). The order keeps each place after
the first while choosing that set, given those before it, holds up out of sample
(:func:`heldout_selection_gain`): the best of 50-186 candidates raises the AP on noise alone.
The rest follow by their own AP.
The network learns programme-level functions (thresholds, interactions, U shapes) that a
correlation cannot; the masked AP needs no size-matched null, since every input is one score
whatever the set's size; sets with identical scores are one input and share its evidence.
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
from radiogenomics.interpret.ensemble import SEP
from radiogenomics.interpret.metrics import auc_ap_columns
from radiogenomics.interpret.programme_masking import ProgrammeMasker
from radiogenomics.utils.seeding import derive_seed

#: Sets the floating forward order places before the rest (a two-programme trait's pair, and
#: one more; as many as the driver calls at most).
FORWARD_STEPS = 3

#: Random halvings of the patients on which a forward addition's choice is repeated and tested.
FORWARD_SPLITS = 25


def programme_seed(seed: int, draw: int) -> int:
    """The programme network's seed in the ``draw``-th of a run's seed draws (1: ``seed``
    itself, the ranking's own network)."""
    return seed if draw == 1 else derive_seed(seed, "programme-seed", draw)


def programme_scores(X: pd.DataFrame, gene_sets: Mapping[str, Iterable[str]]) -> pd.DataFrame:
    """Patients x sets: mean over the set's genes of each gene's z-score over the patients.

    Genes absent from ``X`` or constant are ignored; a set with no usable gene is refused.
    """
    columns = list(map(str, X.columns))
    wanted = {str(g) for genes in gene_sets.values() for g in genes}
    used = [i for i, g in enumerate(columns) if g in wanted]  # z-score only the sets' genes
    values = X.iloc[:, used].to_numpy(dtype=np.float64)
    sd = values.std(axis=0)
    ok = sd > 0
    Z = np.zeros_like(values)
    Z[:, ok] = (values[:, ok] - values[:, ok].mean(axis=0)) / sd[ok]
    col = {columns[i]: j for j, i in enumerate(used) if ok[j]}
    out = {}
    for name, genes in gene_sets.items():
        idx = [col[g] for g in dict.fromkeys(map(str, genes)) if g in col]
        if not idx:
            raise InputError(
                f"set {name!r} has no expressed gene", field="programmes", expected="a set in X"
            )
        out[str(name)] = Z[:, idx].mean(axis=1)
    return pd.DataFrame(out, index=X.index)


def score_separation(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Each column's AUC for the class in either direction, max(AUC, 1 - AUC): how well the
    programme score alone, high or low, separates the class (no model)."""
    auc, _ = auc_ap_columns(scores, positive)
    return np.maximum(auc, 1 - auc)


def score_shift(scores: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Each column's mean in the class minus its mean in the other patients, in SDs of the
    column over all patients: which way the programme moves with the class (the ranking and
    the score AUC use either direction; a U shape moves it little either way)."""
    sd = scores.std(axis=0)
    diff = scores[positive].mean(axis=0) - scores[~positive].mean(axis=0)
    return np.divide(diff, sd, out=np.zeros_like(diff), where=sd > 0)


def _joint_ap(
    masker: ProgrammeMasker, units: list[list[int]], positive: np.ndarray, column: int
) -> np.ndarray:
    """The AP of each unit of scores kept together (``column``: the scored class)."""
    _, ap = auc_ap_columns(masker.probabilities(units)[:, :, column], positive)
    return ap


def heldout_selection_gain(
    kept: np.ndarray,
    candidates: np.ndarray,
    positive: np.ndarray,
    rng: np.random.Generator,
    splits: int = FORWARD_SPLITS,
) -> float:
    """How much choosing the best candidate gains out of sample: over ``splits`` random
    halvings of the patients (stratified by class), the candidate that most raises the AP of
    the kept scores on one half (``kept``: their probabilities, patients; ``candidates``:
    patients x candidates, each kept with them) is scored by the same gain on the other half;
    the mean of the 2 x ``splits`` held-out gains. The gain of the best of many candidates
    that add nothing is positive in the sample that chose it and near or below zero here.
    NaN where a class has fewer than two patients (no half holds both classes)."""
    patients = np.arange(len(positive))
    if min(positive.sum(), (~positive).sum()) < 2:
        return float("nan")
    held_out = []
    for _ in range(splits):
        first = np.zeros(len(positive), dtype=bool)
        for cls in (True, False):
            members = rng.permutation(patients[positive == cls])
            first[members[: len(members) // 2]] = True
        for chose, scored in ((first, ~first), (~first, first)):
            _, base = auc_ap_columns(kept[chose, None], positive[chose])
            _, ap = auc_ap_columns(candidates[chose], positive[chose])
            best = int(np.nanargmax(ap - base[0]))
            _, base = auc_ap_columns(kept[scored, None], positive[scored])
            _, ap = auc_ap_columns(candidates[scored][:, [best]], positive[scored])
            held_out.append(ap[0] - base[0])
    return float(np.mean(held_out))


def _selection_gain(
    masker: ProgrammeMasker,
    chosen: list[int],
    rest: list[int],
    positive: np.ndarray,
    column: int,
    rng: np.random.Generator,
) -> float:
    """:func:`heldout_selection_gain` of the step that adds one of ``rest`` to ``chosen``."""
    kept = masker.probabilities([list(chosen)])[:, 0, column]
    candidates = masker.probabilities([chosen + [j] for j in rest])[:, :, column]
    return heldout_selection_gain(kept, candidates, positive, rng)


def forward_order(
    masker: ProgrammeMasker,
    single_ap: np.ndarray,
    positive: np.ndarray,
    column: int,
    steps: int,
    seed: int = 0,
) -> list[int]:
    """Floating forward selection of programme scores (Pudil et al. 1994): first the score
    that alone gives the best AP (``single_ap``), then, step by step, the one that adds most
    to the AP of the scores already kept together, while it raises that AP; after each
    addition, an earlier score is dropped while the others without it beat the best AP yet
    found with as many scores (``column``: the scored class; at most ``steps`` scores).
    Returned: the order found, up to its first later place whose choice, given the places
    before it, does not hold up out of sample (:func:`heldout_selection_gain` > 0; ``seed``:
    its halvings).

    The drop is for a two-programme trait: the best single score is then often a stand-in
    that carries a little of both programmes, and once both have entered it adds nothing.
    The stop keeps a score that adds nothing to the network's AP out of the places before
    every other set, and out of the drop's comparisons, where it could push out the driver.
    The held-out test is for a one-programme trait: once its driver (or a stand-in) is in,
    the best of the other 50-186 scores still raises the AP by chance, and such scores took
    the places before the driver where a stand-in was first. It judges the order found, not each
    step: an AND's second programme, chosen beside a stand-in that carried it, is judged
    beside the first programme once the stand-in is dropped.
    """
    p = len(masker.columns)
    chosen = [int(np.nanargmax(single_ap))]
    best = {1: float(np.nanmax(single_ap))}
    kept_ap = best[1]  # the AP of the scores in ``chosen`` kept together
    while len(chosen) < min(steps, p):
        rest = [j for j in range(p) if j not in chosen]
        ap = _joint_ap(masker, [chosen + [j] for j in rest], positive, column)
        k = int(np.nanargmax(ap))
        if not ap[k] > kept_ap:
            break
        chosen.append(rest[k])
        kept_ap = float(ap[k])
        best[len(chosen)] = max(best.get(len(chosen), -np.inf), kept_ap)
        while len(chosen) > 2:
            without = _joint_ap(
                masker, [[c for c in chosen if c != i] for i in chosen], positive, column
            )
            i = int(np.nanargmax(without))
            # the score just added stays; each drop raises a best AP, so this ends
            if i == len(chosen) - 1 or not without[i] > best[len(chosen) - 1]:
                break
            chosen.pop(i)
            kept_ap = best[len(chosen)] = float(without[i])
    # each later place, given the places before it, must hold up out of sample
    rng = np.random.default_rng(seed)
    for place in range(1, len(chosen)):
        rest = [j for j in range(p) if j not in chosen[:place]]
        if not _selection_gain(masker, chosen[:place], rest, positive, column, rng) > 0:
            return chosen[:place]
    return chosen


def programme_order(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with ``programme_rank`` within each class and collection: the forward order
    first, then the other sets by conditional keep-only AP (sets sharing one score tie)."""
    t = table.copy()
    keys = ["class", "collection"]
    # forward entries before every other set, in order; then by AP
    key = np.where(t["programme_order"].notna(), -t["programme_order"] + 1e6, t["programme_ap"])
    t["programme_rank"] = (
        t.assign(_key=key).groupby(keys)["_key"].rank(ascending=False, method="min")
    )
    return t


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
    fill: str = "conditional",
    forward_steps: int = FORWARD_STEPS,
    repeats: int | None = None,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Conditional keep-only masking of each set's programme score in a network of programme
    scores, with a floating forward order of the first ``forward_steps`` sets.

    ``cvs``: the gene network's CV runs (their labels, configuration and fold count give the
    programme network's); ``repeats``: the programme network's CV runs, each on a new fold
    split (None: as many as ``cvs``); ``genes``: the gene network's genes (a set's score uses its
    genes among them, and a set is scored with ``min_size``..``max_size`` of them, as set
    masking does); ``fill``: ``conditional`` or ``mean``
    (:class:`~radiogenomics.interpret.programme_masking.ProgrammeMasker`). Returns a table
    (class, collection, set, programme_ap, programme_auc, programme_order: the place in the
    forward order or NaN, programme_score_auc: the set's programme score's own AUC for the
    class, either direction, programme_shift: its class-minus-rest mean in SDs
    (:func:`score_shift`; positive: higher in the class), programme_rank and
    programme_cv_auc, the programme network's
    mean CV AUC) and every set's keep-only out-of-fold probabilities (patients x scored classes,
    keyed ``collection SEP set``) for the separation gate, with the patients in the order of
    ``patients`` (None: the labels' order; either way ``table.attrs["patients"]``).
    """
    if not cvs:
        raise InputError("no cross-validation runs", field="cv_result")
    if forward_steps < 1:
        raise InputError(f"forward_steps={forward_steps}", field="forward_steps", expected=">= 1")
    repeats = len(cvs) if repeats is None else int(repeats)
    if repeats < 1:
        raise InputError(f"repeats={repeats}", field="repeats", expected="1 or more")
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
            for r in range(repeats)
        ]
        masker = ProgrammeMasker(runs, S, fill)
        single = masker.probabilities([[j] for j in range(S.shape[1])])
        column = {n: j for j, n in enumerate(S.columns)}
        recorded.update({f"{coll}{SEP}{n}": single[:, column[r]] for n, r in rep.items()})
        order = masker.patients
        cv_auc = float(np.mean([run.mean_auc for run in runs]))
        for j, cls in enumerate(masker.scored):
            positive = masker.labels == cls
            auc, ap = auc_ap_columns(single[:, :, j], positive)
            entered = forward_order(
                masker,
                ap,
                positive,
                j,
                forward_steps,
                seed=derive_seed(seed, "forward-splits", coll, cls),
            )
            place = {S.columns[c]: i + 1 for i, c in enumerate(entered)}
            idx = [column[rep[n]] for n in kept]
            score_auc = score_separation(masker.values, positive)
            shift = score_shift(masker.values, positive)
            parts.append(
                pd.DataFrame(
                    {
                        "class": cls,
                        "collection": coll,
                        "set": list(kept),
                        "programme_ap": ap[idx],
                        "programme_auc": auc[idx],
                        "programme_order": [place.get(rep[n], np.nan) for n in kept],
                        "programme_score_auc": score_auc[idx],
                        "programme_shift": shift[idx],
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
    table = programme_order(pd.concat(parts, ignore_index=True))
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
