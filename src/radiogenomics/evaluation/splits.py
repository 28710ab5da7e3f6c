"""Stratified K-fold splits shared by the neural networks, the baselines and the bootstrap."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold

from radiogenomics.errors import InputError
from radiogenomics.utils.text import count


def check_classes(
    y: np.ndarray,
    n_splits: int,
    task: str = "trait",
    adjust: bool = False,
    class_names: Sequence[str] | None = None,
) -> int:
    """Check that ``y`` can be split into ``n_splits`` stratified folds; return the K to use.

    With ``adjust`` a class smaller than K lowers K (with a warning) instead of failing.
    ``class_names`` names the classes of integer codes ``y`` (code i: ``class_names[i]``) in
    the messages.
    """
    if isinstance(n_splits, bool) or not isinstance(n_splits, (int, np.integer)) or n_splits < 2:
        raise InputError(f"n_splits = {n_splits!r}", field="n_splits", expected="an integer >= 2")
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise InputError(
            f"only one class ({classes.tolist()}) among {len(y)} labelled patients",
            field=task,
            expected="at least two classes",
        )
    smallest = int(counts.min())
    if smallest >= n_splits:
        return n_splits
    code = classes[counts.argmin()]
    which = str(code if class_names is None else class_names[int(code)])  # a label, not np.int64(0)
    if adjust and smallest >= 2:
        warnings.warn(
            f"{task}: class {which!r} has {count(smallest, 'patient')}, fewer than {n_splits} folds; "
            f"using {smallest} folds",
            stacklevel=2,
        )
        return smallest
    raise InputError(
        f"class {which!r} has {count(smallest, 'patient')}, fewer than the {n_splits} folds asked for",
        field=task,
        expected=f"at least {n_splits} patients per class, or fewer folds",
    )


def stratified_folds(
    y: np.ndarray,
    n_splits: int = 10,
    seed: int = 0,
    task: str = "trait",
    adjust: bool = False,
    class_names: Sequence[str] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, validation indices) for each fold, stratified by class, shuffled by seed.

    ``class_names``: the class of each integer code of ``y``, for the messages.
    """
    k = check_classes(y, n_splits, task=task, adjust=adjust, class_names=class_names)
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=int(seed) % (2**32))
    return [(tr, va) for tr, va in skf.split(np.zeros(len(y)), np.asarray(y))]
