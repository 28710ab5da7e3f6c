"""Masked out-of-fold probabilities averaged over repeated CV runs: the ensemble every
driver read-out masks (gene sets in :mod:`radiogenomics.interpret.drivers`, programme scores
in :mod:`radiogenomics.interpret.programmes`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult
from radiogenomics.interpret.correlation import scored_classes
from radiogenomics.interpret.masking import out_of_fold_masking
from radiogenomics.interpret.metrics import auc_ap_columns

#: Separates the parts of a masked unit's name (collection and set, null key, size, draw).
SEP = "\x1f"


class MaskedEnsemble:
    """Masked, out-of-fold probabilities averaged over repeated CVs, for any gene lists."""

    def __init__(
        self,
        cvs: Sequence[CVResult],
        X: pd.DataFrame,
        device: str | None = None,
    ):
        if not cvs:
            raise InputError("no cross-validation runs", field="cv_result")
        self.cvs = list(cvs)
        self.X = X
        self.device = device
        #: set to a dict to keep every masked unit's mean probabilities (patients x scored
        #: classes) by unit name, for read-outs computed later without masking again
        self.recorded: dict[str, np.ndarray] | None = None
        #: the patients' order in the probabilities (set by the first masking)
        self.patients: list[str] = []
        first = self.cvs[0]
        self.labels = first.labels
        self.classes = list(first.classes)
        self.scored = scored_classes(self.classes)
        genes: dict[str, None] = {}
        for cv in self.cvs:
            for m in cv.fold_models or []:
                genes.update(dict.fromkeys(map(str, m.genes)))
        columns = set(map(str, X.columns))
        self.universe = [g for g in genes if g in columns]

    def probabilities(
        self, units: dict[str, list[str]], single_genes: bool = False
    ) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Unit names, their mean probabilities (patients x units x scored classes) and the
        patients' labels in that order."""
        total, names, labels = None, None, None
        for cv in self.cvs:
            res = out_of_fold_masking(
                cv,
                self.X,
                self.labels,
                gene_sets={"units": units} if units else None,
                single_genes=single_genes,
                null_draws=0,
                return_probabilities=True,
                device=self.device,
                quiet=True,
            )
            order = [self.classes.index(c) for c in self.scored]
            probs = res.probabilities[:, :, order].astype(np.float64)
            these = res.units["set"].tolist()
            if names is None:
                names, total, labels = these, probs, res.labels.to_numpy().astype(str)
                self.patients = list(map(str, res.labels.index))
            elif these != names:
                raise InputError("the repeats masked different units", field="cv_result")
            else:
                total = total + probs
        mean = np.transpose(total / len(self.cvs), (1, 0, 2))
        if self.recorded is not None:
            self.recorded.update({n: mean[:, i, :].astype(np.float32) for i, n in enumerate(names)})
        return names, mean, labels

    def scores(
        self, units: dict[str, list[str]], single_genes: bool = False
    ) -> dict[str, pd.DataFrame]:
        """Per scored class: AUC and AP of every unit (index: unit name)."""
        names, probs, labels = self.probabilities(units, single_genes)
        out = {}
        for j, cls in enumerate(self.scored):
            auc, ap = auc_ap_columns(probs[:, :, j], labels == cls)
            out[cls] = pd.DataFrame({"auc": auc, "ap": ap}, index=pd.Index(names, name="unit"))
        return out
