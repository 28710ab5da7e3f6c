"""Small synthetic studies shared by the pipeline and executor tests (fast settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def synthetic_study(
    out: Path,
    *,
    name: str,
    seed: int,
    n_patients: int,
    n_genes: int,
    executor: dict[str, Any],
    **sections: dict[str, Any],
) -> dict[str, Any]:
    """Two traits on a synthetic cohort, small networks, few epochs, B=2, few permutations
    (and null draws, and CV repeats of the driver ranking);
    each keyword section updates the keys of that section."""
    study: dict[str, Any] = {
        "name": name,
        "seed": seed,
        "out": str(out),
        "quiet": True,
        "executor": executor,
        "synthetic": {"enabled": True, "n_patients": n_patients, "n_genes": n_genes},
        "data": {
            "expression": "expression.tsv.gz",
            "expression_scale": "counts",
            "vasari": "vasari.csv",
            "clinical": "clinical_patient.txt",
            "follow_up": "clinical_follow_up.tsv",
            "traits": ["edema", "ncet"],
            "gene_sets": [{"name": "programmes", "path": "gene_sets.gmt", "min_size": 15}],
        },
        "autoencoder": {
            "hidden": [16, 8],
            "folds": 3,
            "max_epochs": 8,
            "patience": 4,
            "optimizer": "adam",
        },
        "classifiers": {
            "folds": 3,
            "batch_size": 16,
            "max_epochs": 10,
            "patience": 5,
            "grid": {"hidden": [[16, 8]], "optimizer": ["adam"], "ae_layers": [1]},
        },
        "baselines": {"models": ["logreg_l2"]},
        "bootstrap": {"repetitions": 2},
        "masking": {"null_draws": 5, "top": 5},
        "enrichment": {"nperm": 100},
        "drivers": {"repeats": 2, "null_draws": 5, "nperm": 100},
        "radiogenomic_traits": {"nperm": 100, "min_patients": 3},
    }
    for section, values in sections.items():
        study[section] = {**study.get(section, {}), **values}
    return study
