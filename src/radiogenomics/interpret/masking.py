"""Gene masking: how well the network predicts when it sees only one gene or one gene set.

For each gene set S (and each gene alone) every patient's standardised expression is kept on
S and set to 0 (the training mean) elsewhere, the network scores the masked profile, and the
class probabilities over the cohort are scored by ROC AUC and average precision against the
true labels (multi-class: one vs rest per class). METHOD.md section 4.

Beyond the paper: a size-matched null (random gene sets of the same size drawn from the
model's genes, shared by every set of that size) gives each set an empirical p-value and a
BH q-value, and out-of-fold masking scores each patient with the fold model that did not train
on it, so the associations are not read off the model's own training patients.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from radiogenomics.errors import InputError
from radiogenomics.interpret._engine import (
    DEFAULT_MEMORY_BUDGET_MB,
    MaskingEngine,
    eval_mode,
    first_layer,
    on_device,
)
from radiogenomics.interpret._interpolated import (
    InterpolationStats,
    class_scores,
    interpolated_single_gene_logits,
)
from radiogenomics.interpret._model import ModelView, align_labels, model_view
from radiogenomics.interpret.metrics import auc_ap_columns, empirical_p
from radiogenomics.utils.device import default_device
from radiogenomics.utils.progress import progress_bar
from radiogenomics.utils.results import ResultMixin, new_axes, top_bars
from radiogenomics.utils.seeding import rng
from radiogenomics.utils.stats import benjamini_hochberg
from radiogenomics.utils.text import count

SINGLE_GENES = "single_genes"
TABLE_COLUMNS = [
    "mode",
    "collection",
    "set",
    "size",
    "set_size",
    "coverage_pct",
    "class",
    "auc",
    "ap",
]
NULL_COLUMNS = ["p_auc", "q_auc", "p_ap", "q_ap"]
# "auto": single genes by Chebyshev interpolation where its error check passes (same AUC/AP
# as exact masking, see _interpolated.py), exactly elsewhere; "exact": every row exactly
SINGLE_GENE_METHODS = ("auto", "exact")


@dataclass
class MaskingResult(ResultMixin):
    """A masking run: the tidy score table and, on request, the masked probabilities.

    ``table`` has one row per (collection, set, class): ``size`` genes kept (those the model
    has), ``set_size`` genes named by the set, ``coverage_pct`` = 100 * size / set_size, ``auc``
    and ``ap`` over the cohort and, with a null, ``p_auc``/``p_ap`` (empirical, size-matched)
    and ``q_auc``/``q_ap`` (BH within each collection and class). Binary models get one row per
    set (the positive class); multi-class models one per class.
    ``probabilities`` is float32 (units, patients, classes) in the order of ``units``.
    ``mode`` is "retrained" (one model over the cohort) or "out_of_fold".
    """

    TITLE = "Gene masking"
    SETTINGS = ("mode", "classes", "n_patients", "null_draws", "seed", "single_gene_method")

    mode: str
    table: pd.DataFrame
    classes: tuple[str, ...]
    patients: tuple[str, ...]
    labels: pd.Series
    units: pd.DataFrame
    probabilities: np.ndarray | None = None
    null: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    null_draws: int = 0
    seed: int = 0
    single_gene_method: str = "auto"

    @property
    def n_patients(self) -> int:
        return len(self.patients)

    def plot(
        self,
        ax=None,
        metric: str = "ap",
        n: int = 20,
        class_: str | None = None,
        collection: str | None = None,
    ):
        """Bars of the ``n`` best sets (or genes) by ``metric`` for one class (default: the
        first scored class), on ``ax`` or a new figure; returns the Axes."""
        if metric not in ("auc", "ap"):
            raise InputError(f"metric={metric!r}", field="metric", expected="'auc' or 'ap'")
        scored = list(dict.fromkeys(self.table["class"]))
        if class_ is None and scored:
            class_ = scored[0]
        if class_ is not None and str(class_) not in scored:
            raise InputError(
                f"class {class_!r} is not scored here", field="class_", expected=f"one of {scored}"
            )
        best = self.top(metric, n, class_, collection)
        ax = new_axes(ax, figsize=(5.5, 1.0 + 0.25 * max(len(best), 1)))
        where = f" ({collection})" if collection else ""
        return top_bars(
            ax,
            best["set"],
            best[metric],
            f"{metric.upper()} with only the set kept",
            f"{self.mode} masking, class {class_}{where}",
        )

    def _unit_row(self, name: str, collection: str | None) -> int:
        hit = self.units["set"] == name
        if collection is not None:
            hit &= self.units["collection"] == collection
        rows = np.flatnonzero(hit.to_numpy())
        if len(rows) != 1:
            what = "no" if len(rows) == 0 else "several"
            raise InputError(
                f"{what} masked sets named {name!r}",
                field="set",
                expected="a set in the table (name its collection if several share the name)",
            )
        return int(rows[0])

    def _need_probabilities(self) -> np.ndarray:
        if self.probabilities is None:
            raise InputError(
                "probabilities were not kept",
                field="return_probabilities",
                expected="return_probabilities=True",
            )
        return self.probabilities

    def probability_frame(self, name: str, collection: str | None = None) -> pd.DataFrame:
        """Patients x classes probabilities when only set ``name`` is kept."""
        probs = self._need_probabilities()
        row = self._unit_row(name, collection)
        return pd.DataFrame(probs[row], index=list(self.patients), columns=list(self.classes))

    def probability_matrix(self, class_: str) -> pd.DataFrame:
        """(collection, set) x patients probabilities of one class."""
        probs = self._need_probabilities()
        if str(class_) not in list(self.classes):
            raise InputError(
                f"unknown class {class_!r}", field="class_", expected=f"one of {list(self.classes)}"
            )
        j = list(self.classes).index(str(class_))
        index = pd.MultiIndex.from_frame(self.units[["collection", "set"]])
        return pd.DataFrame(probs[:, :, j], index=index, columns=list(self.patients))

    def top(
        self,
        metric: str = "ap",
        n: int = 20,
        class_: str | None = None,
        collection: str | None = None,
    ) -> pd.DataFrame:
        """The ``n`` best rows by ``metric`` per class (optionally one class / collection)."""
        t = self.table
        if collection is not None:
            t = t[t["collection"] == collection]
        if class_ is not None:
            t = t[t["class"] == str(class_)]
        return (
            t.sort_values(metric, ascending=False, kind="stable")
            .groupby("class", sort=False)
            .head(n)
            .reset_index(drop=True)
        )


@dataclass
class _Scorer:
    """One network and the pooled patients it scores."""

    view: ModelView
    network: torch.nn.Module
    rows: np.ndarray  # positions in the pooled patient order
    Z: torch.Tensor  # standardised expression of those patients, model gene order
    u2m: np.ndarray  # universe position -> model column, -1 where the model lacks the gene
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB
    _baseline: np.ndarray | None = None
    _engine: MaskingEngine | None = None

    @property
    def engine(self) -> MaskingEngine:
        """Prepared once per network and reused by every call (sets, singles, null draws)."""
        if self._engine is None:
            self._engine = MaskingEngine(self.network, self.memory_budget_mb)
        return self._engine

    def baseline(self) -> np.ndarray:
        """Logits with every gene masked (the training-mean profile): one row."""
        if self._baseline is None:
            _, b = first_layer(self.network)
            with torch.inference_mode(), eval_mode(self.network):
                out = self.network.forward_from_first(b[None, :])
            self._baseline = out.float().cpu().numpy()[0]
        return self._baseline


@dataclass(frozen=True)
class _Unit:
    collection: str
    name: str
    positions: np.ndarray  # in the universe
    set_size: int


def _collections(
    gene_sets: object, collection: str | None
) -> list[tuple[str, Mapping[str, Iterable[str]]]]:
    """Normalise the gene_sets argument to [(collection name, {set: genes})]."""
    if gene_sets is None:
        return []
    if isinstance(gene_sets, Mapping):
        values = list(gene_sets.values())
        if values and all(isinstance(v, Mapping) for v in values):
            return [(str(k), v) for k, v in gene_sets.items()]
        name = collection or getattr(gene_sets, "collection", None) or "gene_sets"
        return [(str(name), gene_sets)]
    if isinstance(gene_sets, Sequence) and all(isinstance(v, Mapping) for v in gene_sets):
        return [
            (str(getattr(v, "collection", None) or f"gene_sets_{i + 1}"), v)
            for i, v in enumerate(gene_sets)
        ]
    raise InputError(
        f"gene sets of type {type(gene_sets).__name__}",
        field="gene_sets",
        expected="a mapping set -> genes, a mapping collection -> (set -> genes), or GeneSets",
    )


def _set_units(
    collections: list[tuple[str, Mapping[str, Iterable[str]]]],
    universe: dict[str, int],
    notes: list[str],
) -> list[_Unit]:
    units = []
    for coll, sets in collections:
        skipped = []
        for name, genes in sets.items():
            if isinstance(genes, str):
                raise InputError(
                    f"set {name!r} is a single string",
                    field=f"gene_sets[{coll}]",
                    expected="a collection of gene symbols per set",
                )
            named = list(dict.fromkeys(str(g) for g in genes))
            pos = np.array([universe[g] for g in named if g in universe], dtype=np.int64)
            if len(pos) == 0:
                skipped.append(str(name))
                continue
            units.append(_Unit(coll, str(name), pos, len(named)))
        if skipped:
            shown = ", ".join(skipped[:5]) + (" ..." if len(skipped) > 5 else "")
            notes.append(
                f"{coll}: {count(len(skipped), 'set')} share no gene with the model and were skipped "
                f"({shown})"
            )
    return units


def _single_units(single_genes: bool | Iterable[str], universe: dict[str, int]) -> list[_Unit]:
    if single_genes is False or single_genes is None:
        return []
    if single_genes is True:
        names = list(universe)
    else:
        if isinstance(single_genes, str):
            single_genes = [single_genes]
        names = list(dict.fromkeys(str(g) for g in single_genes))
        missing = [g for g in names if g not in universe]
        if missing:
            shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
            verb = "is not an input" if len(missing) == 1 else "are not inputs"
            raise InputError(
                f"{count(len(missing), 'gene')} to mask {verb} of the model: {shown}",
                field="single_genes",
                expected="genes the model was trained on",
            )
    return [_Unit(SINGLE_GENES, g, np.array([universe[g]]), 1) for g in names]


def _unit_logits(
    scorers: list[_Scorer],
    n_patients: int,
    units: list[_Unit],
    single: bool,
    desc: str,
    quiet: bool,
    single_gene_method: str = "exact",
    notes: list[str] | None = None,
) -> np.ndarray:
    """Logits (units, pooled patients, outputs) of every unit, each patient by its scorer.

    Single genes go through the interpolated path with ``single_gene_method="auto"`` (its
    summary, pooled over the scorers, appended to ``notes``), else through the exact closed form.
    """
    n_out = scorers[0].view.n_outputs
    out = np.empty((len(units), n_patients, n_out), dtype=np.float32)
    if not units:
        return out
    interpolation: list[InterpolationStats] = []
    total = len(units) * len(scorers)
    with progress_bar(desc, total=total, quiet=quiet) as advance:
        for sc in scorers:
            if single:
                cols = sc.u2m[np.array([u.positions[0] for u in units])]
                have = np.flatnonzero(cols >= 0)
                lacking = np.flatnonzero(cols < 0)
                if len(have) and single_gene_method == "auto":
                    logits, stats = interpolated_single_gene_logits(
                        sc.engine, sc.Z, cols[have], sc.view.binary
                    )
                    out[np.ix_(have, sc.rows)] = logits
                    interpolation.append(stats)
                elif len(have):
                    logits = sc.engine.single_gene_logits(sc.Z, cols[have])
                    out[np.ix_(have, sc.rows)] = logits
                advance(len(have))
            else:
                mapped = [sc.u2m[u.positions] for u in units]
                mapped = [m[m >= 0] for m in mapped]
                have = np.flatnonzero([len(m) > 0 for m in mapped])
                lacking = np.flatnonzero([len(m) == 0 for m in mapped])
                if len(have):
                    logits = sc.engine.gene_set_logits(sc.Z, [mapped[i] for i in have], advance)
                    out[np.ix_(have, sc.rows)] = logits
            if len(lacking):
                out[np.ix_(lacking, sc.rows)] = sc.baseline()
            advance(len(lacking))
    if interpolation and notes is not None:
        notes.append(InterpolationStats.pooled(interpolation).note(len(interpolation)))
    return out


def _probabilities(logits: np.ndarray, binary: bool) -> np.ndarray:
    t = torch.from_numpy(logits.astype(np.float64))
    if binary:
        p = torch.sigmoid(t[..., 0])
        return torch.stack([1 - p, p], dim=-1).float().numpy()
    return torch.softmax(t, dim=-1).float().numpy()


def _score(
    logits: np.ndarray, labels: np.ndarray, view: ModelView
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """AUC and AP per scored class, each a vector over the units."""
    scores = class_scores(logits, view.binary)
    out = {}
    for j, cls in enumerate(view.scored_classes):
        out[cls] = auc_ap_columns(scores[:, :, j].T, labels == cls)
    return out


def _null_scores(
    scorers: list[_Scorer],
    n_patients: int,
    labels: np.ndarray,
    sizes: Iterable[int],
    n_universe: int,
    null_draws: int,
    seed: int,
    quiet: bool,
) -> pd.DataFrame:
    """AUC/AP of ``null_draws`` random gene sets of each size (genes from the universe).

    The draws of size k come from their own generator (seed, k), so they do not depend on
    which other sizes are present; several sizes go through the network together.
    """
    view = scorers[0].view
    sizes = sorted(set(int(s) for s in sizes))
    per_call = max(null_draws, 1024)
    frames = []
    with progress_bar("null gene sets", total=len(sizes), quiet=quiet) as advance:
        for start in range(0, len(sizes), max(1, per_call // null_draws)):
            group = sizes[start : start + max(1, per_call // null_draws)]
            units = []
            for k in group:
                gen = rng(seed, "masking-null", k)
                for i in range(null_draws):
                    draw = np.sort(gen.choice(n_universe, size=k, replace=False))
                    units.append(_Unit("null", str(i), draw, k))
            logits = _unit_logits(scorers, n_patients, units, False, "", quiet=True)
            for cls, (auc, ap) in _score(logits, labels, view).items():
                frames.append(
                    pd.DataFrame(
                        {
                            "size": np.repeat(group, null_draws),
                            "draw": np.tile(np.arange(null_draws), len(group)),
                            "class": cls,
                            "auc": auc,
                            "ap": ap,
                        }
                    )
                )
            advance(len(group))
    if not frames:
        return pd.DataFrame(columns=["size", "draw", "class", "auc", "ap"])
    return pd.concat(frames, ignore_index=True).sort_values(
        ["size", "class", "draw"], kind="stable", ignore_index=True
    )


def _add_null_columns(table: pd.DataFrame, null: pd.DataFrame) -> pd.DataFrame:
    table = table.copy()
    for c in NULL_COLUMNS:
        table[c] = np.nan
    is_set = table["collection"] != SINGLE_GENES
    groups = null.groupby(["size", "class"])
    for (k, cls), idx in table[is_set].groupby(["size", "class"]).groups.items():
        draws = groups.get_group((k, cls))
        for metric in ("auc", "ap"):
            table.loc[idx, f"p_{metric}"] = empirical_p(
                table.loc[idx, metric].to_numpy(), draws[metric].to_numpy()
            )
    for _, idx in table[is_set].groupby(["collection", "class"]).groups.items():
        for metric in ("auc", "ap"):
            table.loc[idx, f"q_{metric}"] = benjamini_hochberg(
                table.loc[idx, f"p_{metric}"].to_numpy()
            )
    return table


def _run(
    mode: str,
    scorers: list[_Scorer],
    labels: pd.Series,
    universe: list[str],
    gene_sets: object,
    single_genes: bool | Iterable[str],
    null_draws: int,
    seed: int,
    return_probabilities: bool,
    memory_budget_mb: float,
    collection: str | None,
    quiet: bool,
    single_gene_method: str = "auto",
) -> MaskingResult:
    if single_gene_method not in SINGLE_GENE_METHODS:
        raise InputError(
            f"single_gene_method={single_gene_method!r}",
            field="single_gene_method",
            expected=" or ".join(repr(m) for m in SINGLE_GENE_METHODS),
        )
    if null_draws < 0:
        raise InputError(f"null_draws={null_draws}", field="null_draws", expected="0 or more")
    if memory_budget_mb <= 0:
        raise InputError(
            f"memory_budget_mb={memory_budget_mb}", field="memory_budget_mb", expected="> 0"
        )
    notes: list[str] = []
    index = {g: i for i, g in enumerate(universe)}
    singles = _single_units(single_genes, index)
    sets = _set_units(_collections(gene_sets, collection), index, notes)
    if not singles and not sets and gene_sets is None:
        raise InputError(
            "nothing to mask", field="gene_sets", expected="gene sets and/or single_genes=True"
        )
    view = scorers[0].view
    y = labels.to_numpy()
    n_pat = len(labels)
    for cls in view.scored_classes:
        n_pos = int((y == cls).sum())
        if n_pos == 0 or n_pos == n_pat:
            notes.append(f"class {cls!r}: only one label among the patients; AUC/AP are NaN")
    logit_parts = [
        _unit_logits(
            scorers, n_pat, singles, True, "single genes", quiet, single_gene_method, notes
        ),
        _unit_logits(scorers, n_pat, sets, False, "gene sets", quiet),
    ]
    units = singles + sets
    logits = np.concatenate(logit_parts, axis=0)
    unit_frame = pd.DataFrame(
        {
            "collection": [u.collection for u in units],
            "set": [u.name for u in units],
            "size": np.array([len(u.positions) for u in units], dtype=np.int64),
            "set_size": np.array([u.set_size for u in units], dtype=np.int64),
        }
    )
    unit_frame["coverage_pct"] = 100.0 * unit_frame["size"] / unit_frame["set_size"]
    parts = []
    for cls, (auc, ap) in _score(logits, y, view).items():
        part = unit_frame.copy()
        part.insert(0, "mode", mode)
        part["class"] = cls
        part["auc"] = auc
        part["ap"] = ap
        parts.append(part)
    table = pd.concat(parts, ignore_index=True)[TABLE_COLUMNS] if parts else None
    if table is None:
        table = pd.DataFrame(columns=TABLE_COLUMNS)
    null = None
    if null_draws > 0:
        null = _null_scores(
            scorers,
            n_pat,
            y,
            (len(u.positions) for u in sets),
            len(universe),
            null_draws,
            seed,
            quiet,
        )
        table = _add_null_columns(table, null)
        if singles:
            notes.append("single genes have no size-matched null (p/q columns are NaN)")
    return MaskingResult(
        mode=mode,
        table=table,
        classes=view.classes,
        patients=tuple(str(p) for p in labels.index),
        labels=labels,
        units=unit_frame,
        probabilities=_probabilities(logits, view.binary) if return_probabilities else None,
        null=null,
        notes=notes,
        null_draws=null_draws,
        seed=seed,
        single_gene_method=single_gene_method,
    )


def gene_masking(
    model: object,
    X: pd.DataFrame,
    y: pd.Series,
    gene_sets: object = None,
    single_genes: bool | Iterable[str] = True,
    null_draws: int = 0,
    seed: int = 0,
    return_probabilities: bool = False,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    device: str | torch.device | None = None,
    collection: str | None = None,
    quiet: bool = False,
    single_gene_method: str = "auto",
) -> MaskingResult:
    """Mask a trained model with single genes and/or gene sets and score each over the cohort.

    ``X`` is patients x genes on the model's input scale (the scaler standardises it); ``y``
    labels the patients (unlabelled ones are left out). ``gene_sets`` is a mapping set ->
    genes (a GeneSets, named by its ``collection`` or the ``collection`` argument), a mapping
    collection -> (set -> genes), or a list of GeneSets. Genes the model lacks lower a set's
    coverage; a set with none is skipped with a note. ``single_genes`` masks every model gene
    (True) or the named ones. ``null_draws`` random sets per set size give p/q-values.
    ``single_gene_method="auto"`` interpolates each gene's masked output where its error check
    passes (same AUC/AP as exact masking; ``_interpolated.py``), ``"exact"`` computes every row.
    """
    view = model_view(model)
    labels = align_labels(X, y, view.classes)
    dev = default_device(None if device is None else str(device))
    network = on_device(view.network, dev)
    Z = view.standardise(X.loc[labels.index], dev)
    scorer = _Scorer(
        view=view,
        network=network,
        rows=np.arange(len(labels)),
        Z=Z,
        u2m=np.arange(len(view.genes)),
        memory_budget_mb=memory_budget_mb,
    )
    return _run(
        "retrained",
        [scorer],
        labels,
        list(view.genes),
        gene_sets,
        single_genes,
        null_draws,
        seed,
        return_probabilities,
        memory_budget_mb,
        collection,
        quiet,
        single_gene_method,
    )


def masking_from_folds(
    fold_models: Sequence[object],
    fold_patients: Sequence[Sequence[str]],
    X: pd.DataFrame,
    y: pd.Series,
    gene_sets: object = None,
    single_genes: bool | Iterable[str] = True,
    null_draws: int = 0,
    seed: int = 0,
    return_probabilities: bool = False,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    device: str | torch.device | None = None,
    collection: str | None = None,
    quiet: bool = False,
    single_gene_method: str = "auto",
) -> MaskingResult:
    """Out-of-fold masking from explicit fold models and each one's held-out patients.

    Each labelled patient must be held out by exactly one fold model; its masked probabilities
    come from that model, and AUC/AP are computed once over the pooled cohort. The gene universe
    is the union of the fold models' genes (in first-seen order); a fold model lacking a gene
    scores sets restricted to the genes it has (a set it lacks entirely: the all-masked output).
    """
    if len(fold_models) != len(fold_patients) or not fold_models:
        raise InputError(
            f"{len(fold_models)} fold models but {len(fold_patients)} held-out patient lists",
            field="cv_result",
            expected="one held-out patient list per fold model",
        )
    views = [model_view(m) for m in fold_models]
    classes = views[0].classes
    if any(v.classes != classes or v.n_outputs != views[0].n_outputs for v in views):
        raise InputError("fold models disagree on their classes", field="cv_result.fold_models")
    labels = align_labels(X, y, classes)
    owner: dict[str, int] = {}
    for k, pats in enumerate(fold_patients):
        for p in pats:
            p = str(p)
            if p in owner:
                raise InputError(
                    f"patient {p!r} is held out by folds {owner[p] + 1} and {k + 1}",
                    field="cv_result.folds",
                    expected="disjoint validation folds",
                )
            owner[p] = k
    pos_of = {str(p): i for i, p in enumerate(labels.index)}
    unscored = [p for p in pos_of if p not in owner]
    if unscored:
        shown = ", ".join(unscored[:5]) + (" ..." if len(unscored) > 5 else "")
        verb = "is" if len(unscored) == 1 else "are"
        raise InputError(
            f"{count(len(unscored), 'labelled patient')} {verb} in no validation fold: {shown}",
            field="cv_result.folds",
            expected="folds covering every labelled patient",
        )
    universe = list(dict.fromkeys(g for v in views for g in v.genes))
    uindex = {g: i for i, g in enumerate(universe)}
    dev = default_device(None if device is None else str(device))
    scorers = []
    for k, view in enumerate(views):
        pats = [str(p) for p in fold_patients[k] if str(p) in pos_of]
        if not pats:
            continue
        u2m = np.full(len(universe), -1, dtype=np.int64)
        u2m[[uindex[g] for g in view.genes]] = np.arange(len(view.genes))
        rows_labels = labels.index[[pos_of[p] for p in pats]]
        scorers.append(
            _Scorer(
                view=view,
                network=on_device(view.network, dev),
                rows=np.array([pos_of[p] for p in pats], dtype=np.int64),
                Z=view.standardise(X.loc[rows_labels], dev),
                u2m=u2m,
                memory_budget_mb=memory_budget_mb,
            )
        )
    return _run(
        "out_of_fold",
        scorers,
        labels,
        universe,
        gene_sets,
        single_genes,
        null_draws,
        seed,
        return_probabilities,
        memory_budget_mb,
        collection,
        quiet,
        single_gene_method,
    )


def out_of_fold_masking(
    cv_result: object,
    X: pd.DataFrame,
    y: pd.Series | None = None,
    gene_sets: object = None,
    single_genes: bool | Iterable[str] = True,
    **kwargs: object,
) -> MaskingResult:
    """Out-of-fold masking from a cross-validation run kept with ``keep_models=True``.

    Each patient is scored by the fold model that held it out (``cv_result.folds[k].val_ids``
    with ``cv_result.fold_models[k]``); ``y`` defaults to the labels the CV used. Other
    options as in :func:`gene_masking`.
    """
    fold_models = getattr(cv_result, "fold_models", None)
    folds = getattr(cv_result, "folds", None)
    if not fold_models or folds is None:
        raise InputError(
            "the cross-validation result kept no fold models",
            field="cv_result.fold_models",
            expected="cross_validate(..., keep_models=True)",
        )
    if y is None:
        y = getattr(cv_result, "labels", None)
        if y is None:
            raise InputError("no labels given and none in the CV result", field="y")
    fold_patients = [list(getattr(f, "val_ids", f)) for f in folds]
    return masking_from_folds(fold_models, fold_patients, X, y, gene_sets, single_genes, **kwargs)
