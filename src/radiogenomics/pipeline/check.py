"""``radiogenomics check``: validate a study and read every input without training anything.

Reads the inputs exactly as the load stage does (:func:`radiogenomics.pipeline.load.read_study`),
then says what the study would model (tasks, class balance, the folds each stage will use) and
what a run would do with each stage now (:meth:`Pipeline.plan`).
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from radiogenomics.config import StudyConfig
from radiogenomics.pipeline.load import LoadedStudy, read_study
from radiogenomics.pipeline.runner import Pipeline, StagePlan


@dataclass
class StudyCheck:
    """What ``check`` found: the inputs' summary, the tasks and their folds, the plan."""

    loaded: LoadedStudy
    summary: pd.DataFrame
    folds: pd.DataFrame  # task, classes, smallest class, then the K each stage will use
    collections: pd.DataFrame  # collection, sets kept, genes in the matrix
    plan: list[StagePlan]


def folds_used(y: pd.Series, asked: int) -> int:
    """The K every stage will use: the stages' own rule (lowered to the smallest class)."""
    from radiogenomics.evaluation.splits import check_classes

    with warnings.catch_warnings():  # the stages warn when they lower K; check says it below
        warnings.simplefilter("ignore")
        return check_classes(y.to_numpy(), asked, task=str(y.name), adjust=True)


def _folds_table(cfg: StudyConfig, ld: LoadedStudy) -> pd.DataFrame:
    rows = []
    expr = ld.expression.index
    for task in ld.targets.columns:
        y = ld.targets[task].dropna()
        y = y[y.index.isin(expr)].astype(str)
        counts = y.value_counts()
        smallest = int(counts.min())
        row = {
            "task": task,
            "patients": len(y),
            "classes": " | ".join(f"{k}: {v}" for k, v in counts.sort_index().items()),
            "smallest class": smallest,
        }
        asked = {
            "classifiers": cfg.classifiers.folds,
            "baselines": cfg.baselines.folds or cfg.classifiers.folds,
            "bootstrap": cfg.bootstrap.folds or cfg.classifiers.folds,
        }
        for stage, k in asked.items():
            if not cfg.stage_enabled(stage):  # the plan below says it is disabled
                row[f"{stage} folds"] = "-"
                continue
            used = folds_used(y.rename(task), k)
            row[f"{stage} folds"] = f"{used}" if used == k else f"{used} (of {k} asked)"
        rows.append(row)
    return pd.DataFrame(rows)


def _collections_table(ld: LoadedStudy) -> pd.DataFrame:
    universe = set(map(str, ld.expression.columns))
    rows = []
    for name, gs in ld.collections.items():
        genes = {g for _, members in gs.items() for g in members}
        rows.append(
            {
                "collection": name,
                "sets kept": len(gs),
                "genes in sets": len(genes),
                "of them in the matrix": len(genes & universe),
            }
        )
    return pd.DataFrame(rows)


def check_study(cfg: StudyConfig) -> StudyCheck:
    """Read and check every input of ``cfg`` and plan the run; trains nothing, writes nothing
    into the run folder (a synthetic cohort is generated into a temporary folder)."""
    with tempfile.TemporaryDirectory(prefix="radiogenomics-check-") as tmp:
        data_cfg = cfg
        if cfg.synthetic.enabled and not (cfg.run_dir / "cohort" / ".generated.json").is_file():
            from radiogenomics.data.synthetic import generate_cohort

            s = cfg.synthetic
            generate_cohort(
                Path(tmp),
                n_patients=s.n_patients,
                n_genes=s.n_genes,
                seed=cfg.seed if s.seed is None else s.seed,
            )
            data_cfg = cfg.model_copy(deep=True)
            data_cfg.data.root = Path(tmp)
        elif cfg.synthetic.enabled:
            data_cfg = cfg.model_copy(deep=True)
            data_cfg.data.root = cfg.run_dir / "cohort"
        data_cfg.check_files()
        ld = read_study(data_cfg.data, data_cfg.data_files(), cfg.source)
        plan = Pipeline(data_cfg).plan()
    return StudyCheck(
        loaded=ld,
        summary=ld.summary(cfg.data.task),
        folds=_folds_table(cfg, ld),
        collections=_collections_table(ld),
        plan=plan,
    )
