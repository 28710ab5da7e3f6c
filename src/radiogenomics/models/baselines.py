"""Baseline classifiers the neural networks are compared against (the paper's Figure 4).

Each model type is a :class:`BaselineSpec` in :data:`BASELINES`: a factory that builds an
unfitted estimator from plain hyperparameters and a seed, and a default grid over its main
hyperparameters. Every estimator is class-balanced (weights inversely proportional to class
frequency in the training patients) and single-threaded: parallelism comes from running many
work units at once, not from threads inside one fit.

Multi-class tasks (e.g. the molecular subtypes) fit one class-balanced binary model per class
against the others (:class:`OneVsRest`); its scores are the per-class probabilities normalised to
sum to 1 (decision values for the SVMs), scored by micro-averaged AUC as the networks are.

The default grids (``BaselineSpec.grid``) are used unless the caller passes its own:

=============== ===============================================================
logreg_l1       C: 0.01, 0.03, 0.1, 0.3, 1
logreg_l2       C: 1e-4, 1e-3, 1e-2, 0.1, 1
svm_linear      C: 1e-4, 1e-3, 1e-2, 0.1
svm_rbf         C: 0.1, 1, 10; gamma: "scale", 1e-4
random_forest   max_features: "sqrt", 0.05; min_samples_leaf: 1, 5 (200 trees)
xgboost         max_depth: 2, 4; learning_rate: 0.05, 0.2 (150 trees)
=============== ===============================================================

The functions here work on standardised arrays; folds, scaling and grid search live in
:mod:`radiogenomics.evaluation.baselines_cv`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sklearn
from sklearn.base import ClassifierMixin
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC
from sklearn.utils.class_weight import compute_sample_weight

from radiogenomics.errors import InputError
from radiogenomics.utils.seeding import derive_seed

Params = dict[str, Any]

# scikit-learn 1.8 deprecated ``penalty``; before it, ``l1_ratio`` is ignored unless
# penalty="elasticnet". Pick whichever spelling this version understands.
_SKLEARN_VERSION = tuple(int(p) for p in sklearn.__version__.split(".")[:2] if p.isdigit())
_USE_L1_RATIO = _SKLEARN_VERSION >= (1, 8)


# Logistic regressions are fitted to convergence (in float64, see BaselineSpec.float64). At
# scikit-learn's default tolerance (1e-4) weakly penalised fits stop early on expression data
# (p >> n): on TCGA-GBM subtypes fold AUCs moved by up to 0.03 at C = 1 and L1 kept nearly
# twice the genes of the converged fit; at 1e-6 L-BFGS was still 0.001 off (docs/baselines.md).
_LOGISTIC_TOL = 1e-8


def _logistic(penalty: str, params: Params, seed: int) -> LogisticRegression:
    extra: Params = {"l1_ratio": 1.0 if penalty == "l1" else 0.0}
    if not _USE_L1_RATIO:
        extra = {"penalty": penalty}
    solver = "liblinear" if penalty == "l1" else "lbfgs"
    return LogisticRegression(
        solver=solver,
        class_weight="balanced",
        max_iter=5000,
        tol=_LOGISTIC_TOL,
        random_state=seed,
        **extra,
        **params,
    )


def _logreg_l1(params: Params, seed: int) -> ClassifierMixin:
    return _logistic("l1", params, seed)


def _logreg_l2(params: Params, seed: int) -> ClassifierMixin:
    return _logistic("l2", params, seed)


def _svm_linear(params: Params, seed: int) -> ClassifierMixin:
    return SVC(kernel="linear", class_weight="balanced", random_state=seed, **params)


def _svm_rbf(params: Params, seed: int) -> ClassifierMixin:
    return SVC(kernel="rbf", class_weight="balanced", random_state=seed, **params)


def _random_forest(params: Params, seed: int) -> ClassifierMixin:
    defaults: Params = {"n_estimators": 200}
    return RandomForestClassifier(
        class_weight="balanced", n_jobs=1, random_state=seed, **{**defaults, **params}
    )


def _xgboost(params: Params, seed: int) -> ClassifierMixin:
    import xgboost  # imported lazily: it is the slowest import of the baselines

    defaults: Params = {
        "n_estimators": 150,
        "subsample": 0.8,
        "colsample_bytree": 0.5,
        "max_bin": 64,
    }
    return xgboost.XGBClassifier(
        tree_method="hist",
        n_jobs=1,
        random_state=seed,
        eval_metric="logloss",
        **{**defaults, **params},
    )


@dataclass(frozen=True)
class BaselineSpec:
    """One baseline model type: how to build it and which hyperparameters to search."""

    name: str
    label: str  # for figures and tables
    factory: Callable[[Params, int], ClassifierMixin]
    grid: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    # class balancing through fit(sample_weight=) instead of class_weight= in the factory
    weights_in_fit: bool = False
    # fitted on float64 (the expression arrays are float32): a solver's tolerance below
    # float32's resolution is never met otherwise
    float64: bool = False

    def param_grid(self, grid: Mapping[str, Sequence[Any]] | None = None) -> list[Params]:
        """Every combination of ``grid`` (default: this model's grid), in a stable order.

        A parameter the estimator does not have is an ``InputError`` (scikit-learn would fail
        only when the first model is built, and XGBoost would ignore it with a warning).
        """
        if grid is None:
            return expand_grid(self.grid)
        estimator = self.factory({}, 0)
        unknown = [k for k in grid if k not in estimator.get_params()]
        if unknown:
            raise InputError(
                f"{self.name}: unknown hyperparameters {unknown}",
                field=f"grids.{self.name}",
                expected=f"parameters of {type(estimator).__name__}, e.g. {', '.join(self.grid)}",
            )
        return expand_grid(grid)


BASELINES: dict[str, BaselineSpec] = {
    spec.name: spec
    for spec in (
        BaselineSpec(
            "logreg_l1",
            "logistic regression (L1)",
            _logreg_l1,
            {"C": [0.01, 0.03, 0.1, 0.3, 1.0]},
            float64=True,
        ),
        BaselineSpec(
            "logreg_l2",
            "logistic regression (L2)",
            _logreg_l2,
            {"C": [1e-4, 1e-3, 1e-2, 1e-1, 1.0]},
            float64=True,
        ),
        BaselineSpec("svm_linear", "SVM (linear)", _svm_linear, {"C": [1e-4, 1e-3, 1e-2, 1e-1]}),
        BaselineSpec(
            "svm_rbf",
            "SVM (RBF)",
            _svm_rbf,
            {"C": [0.1, 1.0, 10.0], "gamma": ["scale", 1e-4]},
        ),
        BaselineSpec(
            "random_forest",
            "random forest",
            _random_forest,
            {"max_features": ["sqrt", 0.05], "min_samples_leaf": [1, 5]},
        ),
        BaselineSpec(
            "xgboost",
            "gradient-boosted trees",
            _xgboost,
            {"max_depth": [2, 4], "learning_rate": [0.05, 0.2]},
            weights_in_fit=True,
        ),
    )
}

#: Every model type's default grid (what a study uses unless it sets its own).
DEFAULT_GRIDS: dict[str, dict[str, list[Any]]] = {
    name: {k: list(v) for k, v in spec.grid.items()} for name, spec in BASELINES.items()
}

#: Display names for figures and tables ("nn" is the neural network).
MODEL_LABELS: dict[str, str] = {"nn": "neural network"} | {
    name: spec.label for name, spec in BASELINES.items()
}


def expand_grid(grid: Mapping[str, Sequence[Any]]) -> list[Params]:
    """Cartesian product of a ``{name: [values]}`` grid as a list of parameter dicts."""
    keys = list(grid)
    for k in keys:
        values = grid[k]
        if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
            raise InputError(
                f"grid values for {k!r} must be a non-empty list, got {values!r}",
                field=f"grid.{k}",
                expected="a list of values",
            )
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*grid.values())]


def get_baseline(name: str) -> BaselineSpec:
    """The registered model type ``name``; a clear error names the valid ones."""
    try:
        return BASELINES[name]
    except KeyError:
        raise InputError(
            f"unknown baseline model {name!r}",
            field="models",
            expected=f"one of {', '.join(BASELINES)}",
        ) from None


def check_binary(y: np.ndarray, what: str = "y") -> np.ndarray:
    """``y`` as int64 0/1 with both classes present, else an InputError."""
    y = np.asarray(y)
    values = np.unique(y)
    if not np.isin(values, [0, 1]).all():
        raise InputError(
            f"labels must be 0/1, got {values[:5].tolist()}", field=what, expected="0/1 labels"
        )
    if len(values) < 2:
        raise InputError(
            f"only one class ({values.tolist()}) among {len(y)} patients",
            field=what,
            expected="both classes",
        )
    return y.astype(np.int64)


def check_labels(y: np.ndarray, n_classes: int | None = None, what: str = "y") -> np.ndarray:
    """``y`` as int64 class codes 0..C-1 with at least two classes present, else an InputError.

    ``n_classes`` defaults to 2 for 0/1 labels, else the largest code + 1."""
    y = np.asarray(y)
    values = np.unique(y)
    if len(values) and (not np.all(np.mod(values, 1) == 0) or values.min() < 0):
        raise InputError(
            f"labels must be class codes 0..C-1, got {values[:5].tolist()}",
            field=what,
            expected="integer class codes",
        )
    C = int(n_classes) if n_classes is not None else max(2, int(values.max()) + 1 if len(y) else 2)
    if len(values) and values.max() >= C:
        raise InputError(
            f"label {int(values.max())} with {C} classes", field=what, expected=f"codes 0..{C - 1}"
        )
    if len(values) < 2:
        raise InputError(
            f"only one class ({values.tolist()}) among {len(y)} patients",
            field=what,
            expected="at least two classes",
        )
    return y.astype(np.int64)


def _fit_binary(spec: BaselineSpec, params: Params, X: np.ndarray, y: np.ndarray, seed: int):
    est = spec.factory(dict(params), int(seed) % (2**31))
    with warnings.catch_warnings():
        # a weakly-regularised fit that stops at max_iter is still a valid grid point
        warnings.simplefilter("ignore", ConvergenceWarning)
        if spec.weights_in_fit:
            est.fit(X, y, sample_weight=compute_sample_weight("balanced", y))
        else:
            est.fit(X, y)
    return est


@dataclass
class OneVsRest:
    """One binary model per class (that class = 1, every other = 0), each class-balanced."""

    estimators: list[ClassifierMixin]
    uses_probabilities: bool  # predict_proba (normalised over classes), else decision values

    @property
    def n_classes(self) -> int:
        return len(self.estimators)

    def scores(self, X: np.ndarray) -> np.ndarray:
        """(patients, classes) scores: probabilities summing to 1 per patient (as scikit-learn's
        ``OneVsRestClassifier.predict_proba``), or the SVMs' decision values."""
        S = np.column_stack([positive_scores(e, X) for e in self.estimators])
        if self.uses_probabilities:
            total = S.sum(axis=1, keepdims=True)
            S = np.divide(S, total, out=np.full_like(S, 1.0 / S.shape[1]), where=total > 0)
        return S


def fit_baseline(
    name: str,
    params: Params,
    X: np.ndarray,
    y: np.ndarray,
    seed: int,
    n_classes: int | None = None,
) -> ClassifierMixin | OneVsRest:
    """Fit model type ``name`` with ``params`` on standardised ``X`` and class codes ``y``.

    Two classes (0/1): one class-balanced estimator. More (``n_classes`` > 2, or codes above 1):
    a :class:`OneVsRest` of such estimators, class c's seeded ``derive_seed(seed, "ovr", c)``;
    every class must be present.
    """
    spec = get_baseline(name)
    y = check_labels(y, n_classes, what=f"{name} training labels")
    if spec.float64:  # once, not per one-vs-rest model
        X = np.asarray(X, dtype=np.float64)
    C = int(n_classes) if n_classes is not None else max(2, int(y.max()) + 1)
    if C == 2:
        return _fit_binary(spec, params, X, y, seed)
    absent = sorted(set(range(C)) - set(np.unique(y).tolist()))
    if absent:
        raise InputError(
            f"classes {absent} have no training patient",
            field=f"{name} training labels",
            expected=f"every one of the {C} classes",
        )
    estimators = [
        _fit_binary(spec, params, X, (y == c).astype(np.int64), derive_seed(seed, "ovr", c))
        for c in range(C)
    ]
    probabilities = hasattr(estimators[0], "predict_proba") and not isinstance(estimators[0], SVC)
    return OneVsRest(estimators, probabilities)


def positive_scores(estimator: ClassifierMixin, X: np.ndarray) -> np.ndarray:
    """A score that ranks patients by the positive class (probability or decision value)."""
    if hasattr(estimator, "predict_proba") and not isinstance(estimator, SVC):
        proba = estimator.predict_proba(X)
        col = list(estimator.classes_).index(1)
        return np.asarray(proba[:, col], dtype=np.float64)
    return np.asarray(estimator.decision_function(X), dtype=np.float64)


def class_scores(model: ClassifierMixin | OneVsRest, X: np.ndarray) -> np.ndarray:
    """Scores of a fitted baseline: (patients,) for a binary model, (patients, classes) for a
    :class:`OneVsRest`."""
    if isinstance(model, OneVsRest):
        return model.scores(X)
    return positive_scores(model, X)
