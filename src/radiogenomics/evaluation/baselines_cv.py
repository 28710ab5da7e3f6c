"""Grid search and observed cross-validated performance of the baseline classifiers.

Every baseline sees exactly what the neural networks see: the same stratified folds of each
trait's labelled patients and a per-gene z-score fitted on each fold's training patients. A work
unit is one (trait, model type, hyperparameters, fold) fit, so the grid runs on every core (or
on a cluster) through an :class:`~radiogenomics.execution.Executor`; each unit derives its seed
from what it is, never from when it runs.

A trait of more than two labels (e.g. the molecular subtypes) is multi-class: each baseline is
then one-vs-rest (:class:`~radiogenomics.models.baselines.OneVsRest`) and scored, like the
networks, by micro-averaged AUC and AP over the (patient, class) pairs.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from radiogenomics.data.scaling import Scaler
from radiogenomics.data.vasari import encode_binary, is_zero_one
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_metrics import micro_ap, micro_auc
from radiogenomics.evaluation.splits import stratified_folds
from radiogenomics.execution import Executor, LocalExecutor
from radiogenomics.models.baselines import (
    Params,
    class_scores,
    fit_baseline,
    get_baseline,
)
from radiogenomics.utils.io import write_json, write_table
from radiogenomics.utils.seeding import derive_seed

Folds = list[tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class TraitData:
    """The labelled patients of one trait: rows of the expression array and class codes.

    Binary: 0/1 codes, 1 = ``positive`` (the least frequent label). Multi-class: codes into
    ``classes`` (sorted labels); ``negative``/``positive`` are then None.
    """

    name: str
    rows: np.ndarray  # int64 positions in the expression array
    y: np.ndarray  # int64 class codes
    negative: str | None
    positive: str | None
    classes: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        return max(2, len(self.classes))

    @property
    def n_positive(self) -> int | None:
        """Patients of the positive class (binary traits; None for multi-class)."""
        return int(self.y.sum()) if self.n_classes == 2 else None


@dataclass(frozen=True)
class CohortArrays:
    """Expression as one float32 array plus every trait's labelled rows (the shared inputs)."""

    X: np.ndarray  # patients x genes, float32
    patients: tuple[str, ...]
    genes: tuple[str, ...]
    traits: dict[str, TraitData]

    def digest(self, trait: str) -> str:
        """A short hash of the expression and labels one trait's models see (for resuming)."""
        t = self.traits[trait]
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X[t.rows]).tobytes())
        h.update(t.y.tobytes())
        h.update("\x1f".join(self.genes).encode())
        return h.hexdigest()[:16]


def binary_labels(values: pd.Series, trait: str) -> tuple[pd.Series, str, str]:
    """Encode one trait column as 0/1 over its labelled patients (NaN = missing).

    Numeric 0/1 (or boolean) columns keep 1 as the positive class; a column of two labels
    makes the least frequent one positive, exactly as the cohort encodes it for the networks
    (:func:`radiogenomics.data.vasari.encode_binary`). Returns (0/1 labels, negative, positive).
    """
    v = values.dropna()
    if v.empty:
        raise InputError("no labelled patients", field=trait, expected="two classes")
    if is_zero_one(v):
        y = v.astype(np.int64)
        return y, "0", "1"
    enc, (negative, positive) = encode_binary(v.rename(trait))
    return enc.astype(np.int64), negative, positive


def encode_trait(values: pd.Series, trait: str) -> tuple[pd.Series, list[str]]:
    """Class codes of one trait column over its labelled patients, and the class names.

    Two labels (or numeric 0/1): :func:`binary_labels`, classes ``[negative, positive]``.
    More labels: multi-class, codes into the sorted labels (numbers sorted as numbers), the
    order the networks' cross-validation uses.
    """
    v = values.dropna()
    if v.nunique() <= 2:
        y, negative, positive = binary_labels(values, trait)
        return y, [negative, positive]
    if pd.api.types.is_numeric_dtype(v) and not np.all(np.mod(v.to_numpy(dtype=float), 1) == 0):
        raise InputError(
            f"{v.nunique()} distinct non-integer values",
            field=trait,
            expected="class labels (text or integer codes), not a continuous measurement",
        )
    labels = sorted(v.unique().tolist())
    names = [str(x) for x in labels]
    if len(set(names)) != len(names):
        raise InputError(
            f"labels {labels} collide as text", field=trait, expected="distinct labels"
        )
    codes = v.map({x: i for i, x in enumerate(labels)}).astype(np.int64)
    return codes, names


def prepare_cohort(
    X: pd.DataFrame, traits: pd.DataFrame, names: Sequence[str] | None = None
) -> CohortArrays:
    """Align expression (patients x genes) and traits (patients x traits; binary or
    multi-class labels, NaN = missing) by patient."""
    if not isinstance(X, pd.DataFrame) or not isinstance(traits, pd.DataFrame):
        raise InputError(
            "expression and traits must be DataFrames indexed by patient",
            field="expression/traits",
            expected="pandas DataFrames",
        )
    if X.index.has_duplicates:
        dup = X.index[X.index.duplicated()].unique()[:5].tolist()
        raise InputError(f"duplicated patients {dup}", field="expression", expected="unique ids")
    names = list(traits.columns) if names is None else list(names)
    missing = [n for n in names if n not in traits.columns]
    if missing:
        raise InputError(
            f"traits {missing} are not columns of the trait table",
            field="traits",
            expected=f"some of {list(traits.columns)}",
        )
    values = X.to_numpy(dtype=np.float32)
    if not np.isfinite(values).all():
        raise InputError("expression contains NaN or inf", field="expression", expected="finite")
    pos = pd.Series(np.arange(len(X)), index=X.index.astype(str))
    out: dict[str, TraitData] = {}
    for name in names:
        col = traits[name].copy()
        col.index = col.index.astype(str)
        y, classes = encode_trait(col, str(name))
        unknown = y.index.difference(pos.index)
        if len(unknown) == len(y):
            raise InputError(
                "no labelled patient has expression",
                field=str(name),
                expected="trait rows indexed by the expression's patient ids",
            )
        if len(unknown):
            warnings.warn(
                f"{name}: {len(unknown)} labelled patients without expression are left out",
                stacklevel=2,
            )
            y = y.drop(unknown)
        binary = len(classes) == 2
        out[str(name)] = TraitData(
            name=str(name),
            rows=pos.loc[y.index].to_numpy(dtype=np.int64),
            y=y.to_numpy(dtype=np.int64),
            negative=classes[0] if binary else None,
            positive=classes[1] if binary else None,
            classes=tuple(classes),
        )
    return CohortArrays(
        X=values,
        patients=tuple(map(str, X.index)),
        genes=tuple(map(str, X.columns)),
        traits=out,
    )


def trait_folds(y: np.ndarray, n_splits: int, seed: int, trait: str, adjust: bool = False) -> Folds:
    """The stratified folds of one trait's labelled patients (in the trait table's order).

    The same call as the networks' cross-validation makes, so with the same seed the
    baselines and the networks see exactly the same folds.
    """
    return stratified_folds(y, n_splits, seed=seed, task=trait, adjust=adjust)


def standardise(
    X: np.ndarray, genes: Sequence[str], train: np.ndarray, other: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Z-score ``X[train]`` and ``X[other]`` with a scaler fitted on the training rows only."""
    scaler = Scaler.fit(X[train], genes=genes)
    return scaler.transform_array(X[train]), scaler.transform_array(X[other])


def score(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """(ROC AUC, average precision) of scores ``s`` for labels ``y``: binary for 1-D scores and
    0/1 labels, micro-averaged over (patient, class) pairs for (patients, classes) scores."""
    s = np.asarray(s)
    if s.ndim == 2:
        return micro_auc(y, s), micro_ap(y, s)
    return float(roc_auc_score(y, s)), float(average_precision_score(y, s))


@dataclass(frozen=True)
class GridUnit:
    """One fit of the grid search: a trait, a model type, one point of its grid, one fold."""

    trait: str
    model: str
    params_id: int
    params: Params
    fold: int


def unit_threads():
    """Cap BLAS/OpenMP threads inside a work unit at torch's thread count (which the executor
    sets to cores / workers), so parallel units do not oversubscribe the cores."""
    import torch
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=max(1, torch.get_num_threads()))


def _grid_unit(unit: GridUnit, shared: dict[str, Any]) -> tuple[float, float]:
    """Fit one grid point on one fold's training patients; score its validation patients."""
    data: CohortArrays = shared["data"]
    t = data.traits[unit.trait]
    tr, va = shared["folds"][unit.trait][unit.fold]
    with unit_threads():
        Ztr, Zva = standardise(data.X, data.genes, t.rows[tr], t.rows[va])
        seed = derive_seed(shared["seed"], "baseline", unit.trait, unit.model, unit.fold)
        est = fit_baseline(unit.model, unit.params, Ztr, t.y[tr], seed, n_classes=t.n_classes)
        return score(t.y[va], class_scores(est, Zva))


def params_key(params: Params) -> str:
    """Hyperparameters as canonical JSON (a table column and a dictionary key)."""
    return json.dumps(params, sort_keys=True, default=str)


@dataclass(frozen=True)
class BaselineResults:
    """Observed CV performance of the baselines at their chosen hyperparameters."""

    folds: pd.DataFrame  # trait, model, fold, auc, ap (chosen hyperparameters)
    summary: pd.DataFrame  # trait, model, auc_mean, auc_sd, ap_mean, ap_sd, n_folds, ...
    grid: pd.DataFrame  # trait, model, params, fold, auc, ap (every grid point)
    chosen: dict[str, dict[str, Params]]  # trait -> model -> hyperparameters


def grid_search_baselines(
    data: CohortArrays,
    models: Sequence[str],
    n_splits: int = 10,
    seed: int = 0,
    executor: Executor | None = None,
    grids: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
    folds: Mapping[str, Folds] | None = None,
    adjust_folds: bool = False,
) -> BaselineResults:
    """Grid-search every model type on every trait in the same folds; keep the best mean AUC.

    ``grids`` (model -> ``{parameter: [values]}``) overrides a model type's default grid
    (:data:`~radiogenomics.models.baselines.DEFAULT_GRIDS`); ``folds`` (trait -> folds)
    overrides the default :func:`trait_folds`. ``adjust_folds`` lowers K for a trait whose smaller class has
    fewer patients than folds (as the networks' option does). Ties go to the earlier grid
    point.
    """
    if not models:
        raise InputError("no baseline model to run", field="models", expected="one or more")
    executor = executor or LocalExecutor()
    grids = dict(grids or {})
    unknown = [m for m in grids if m not in models]
    if unknown:
        raise InputError(f"grids given for models not run: {unknown}", field="grids")
    specs = {m: get_baseline(m) for m in models}
    points = {m: specs[m].param_grid(grids.get(m)) for m in models}
    fold_map = {
        name: (
            list(folds[name])
            if folds is not None and name in folds
            else trait_folds(t.y, n_splits, seed, name, adjust=adjust_folds)
        )
        for name, t in data.traits.items()
    }
    units = [
        GridUnit(trait, model, i, p, k)
        for trait in data.traits
        for model in models
        for i, p in enumerate(points[model])
        for k in range(len(fold_map[trait]))
    ]
    shared = {"data": data, "folds": fold_map, "seed": int(seed)}
    results = executor.map(_grid_unit, units, shared=shared, desc="baseline grid search")
    grid = pd.DataFrame(
        {
            "trait": [u.trait for u in units],
            "model": [u.model for u in units],
            "params_id": [u.params_id for u in units],
            "params": [params_key(u.params) for u in units],
            "fold": [u.fold for u in units],
            "auc": [r[0] for r in results],
            "ap": [r[1] for r in results],
        }
    )
    return _choose(grid, data, points)


def _choose(
    grid: pd.DataFrame, data: CohortArrays, points: Mapping[str, list[Params]]
) -> BaselineResults:
    means = grid.groupby(["trait", "model", "params_id"], sort=False)["auc"].mean().reset_index()
    chosen: dict[str, dict[str, Params]] = {}
    best_rows = []
    for (trait, model), g in means.groupby(["trait", "model"], sort=False):
        best = int(g.sort_values(["auc", "params_id"], ascending=[False, True]).iloc[0].params_id)
        chosen.setdefault(trait, {})[model] = dict(points[model][best])
        best_rows.append((trait, model, best))
    best = pd.DataFrame(best_rows, columns=["trait", "model", "params_id"])
    folds = grid.merge(best, on=["trait", "model", "params_id"])[
        ["trait", "model", "fold", "auc", "ap"]
    ].reset_index(drop=True)
    summary = summarise_cv(folds)
    summary["n_patients"] = [len(data.traits[t].y) for t in summary.trait]
    summary["n_positive"] = [data.traits[t].n_positive for t in summary.trait]
    summary["n_classes"] = [data.traits[t].n_classes for t in summary.trait]
    pairs = zip(summary.trait, summary.model, strict=True)
    summary["params"] = [params_key(chosen[t][m]) for t, m in pairs]
    return BaselineResults(folds=folds, summary=summary, grid=grid, chosen=chosen)


def summarise_cv(folds: pd.DataFrame) -> pd.DataFrame:
    """Mean and SD over folds of AUC and AP per (trait, model), from a tidy per-fold table."""
    g = folds.groupby(["trait", "model"], sort=False)
    out = g.agg(
        auc_mean=("auc", "mean"),
        auc_sd=("auc", "std"),
        ap_mean=("ap", "mean"),
        ap_sd=("ap", "std"),
        n_folds=("fold", "nunique"),
    )
    return out.reset_index()


def run_baselines(
    X: pd.DataFrame,
    traits: pd.DataFrame,
    models: Sequence[str],
    n_splits: int = 10,
    seed: int = 0,
    executor: Executor | None = None,
    out_dir: str | Path | None = None,
    grids: Mapping[str, Mapping[str, Sequence[Any]]] | None = None,
    folds: Mapping[str, Folds] | None = None,
    adjust_folds: bool = False,
    figure_dir: str | Path | None = None,
) -> BaselineResults:
    """The ``baselines`` stage: grid search, observed CV AUC/AP, chosen hyperparameters.

    ``X`` is patients x genes (log2 expression, unscaled: each fold standardises on its own
    training patients); ``traits`` is patients x traits (binary, or multi-class labels scored
    one-vs-rest by micro-AUC; NaN = missing). Give the same
    ``seed`` as the networks' cross-validation so both use the same folds. With
    ``out_dir``, writes ``baseline_cv`` (per fold), ``baseline_cv_summary``, ``baseline_grid``
    (tables, Parquet + CSV), ``chosen_params.json`` and the ``cv_auc`` figure (PNG + SVG,
    in ``figure_dir`` when given, else ``out_dir``).
    """
    data = prepare_cohort(X, traits)
    res = grid_search_baselines(
        data, models, n_splits, seed, executor, grids=grids, folds=folds, adjust_folds=adjust_folds
    )
    if out_dir is not None:
        out = Path(out_dir)
        write_table(res.folds, out / "baseline_cv")
        write_table(res.summary, out / "baseline_cv_summary")
        write_table(res.grid, out / "baseline_grid")
        write_json(out / "chosen_params.json", res.chosen)
        from radiogenomics.evaluation.comparison_figures import plot_cv_auc

        plot_cv_auc(res.folds, Path(figure_dir or out) / "cv_auc")
    return res
