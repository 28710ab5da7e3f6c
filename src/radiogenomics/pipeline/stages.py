"""The stages of a study, in order, and what each depends on.

Each stage is a thin adapter: it reads upstream outputs from the run folder, calls the library
function that does the work (``radiogenomics.models``, ``evaluation``, ``interpret``,
``enrichment``, ``survival``) and writes tables, figures and models into its folder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from radiogenomics.config import STAGES, StudyConfig
from radiogenomics.pipeline.load import run_load
from radiogenomics.pipeline.runfolder import RunFolder, sha256_json
from radiogenomics.pipeline.runner import Stage
from radiogenomics.utils.io import read_json, write_json


def _load_section(cfg: StudyConfig) -> dict[str, Any]:
    data = cfg.data.model_dump(mode="json")
    data.pop("root", None)  # where the files are does not matter, their contents do
    for key in ("expression", "vasari", "subtypes", "subtype_signatures", "clinical", "follow_up"):
        if data.get(key):
            data[key] = Path(data[key]).name
    for gs in data["gene_sets"]:
        gs["path"] = Path(gs["path"]).name
    return {"data": data, "synthetic": cfg.synthetic.model_dump(mode="json")}


def _with(cfg: StudyConfig, own: str, *others: str) -> dict[str, Any]:
    """A stage's section plus the sections of the stages whose settings it reuses."""
    out = {own: getattr(cfg, own).model_dump(mode="json")}
    for o in others:
        out[o] = getattr(cfg, o).model_dump(mode="json")
    return out


def _report(ctx) -> dict[str, Any]:
    from radiogenomics.report import build_report

    if (ctx.folder.root / "cohort" / "truth.json").is_file():
        from radiogenomics.pipeline.demo import recovery_table

        ctx.table(recovery_table(ctx.folder.root), "recovery")
    path = build_report(ctx.folder.root)
    return {"report": str(path)}


def _lazy(module: str, name: str):
    """Import a stage adapter only when the stage runs (keeps `radiogenomics --help` fast)."""

    def call(ctx):
        import importlib

        return getattr(importlib.import_module(f"radiogenomics.pipeline.{module}"), name)(ctx)

    call.__name__ = name
    return call


STAGE_TABLE: dict[str, Stage] = {
    "load": Stage(
        "load",
        run_load,
        section=_load_section,
        inputs=lambda cfg: cfg.data_files(),
        description="read expression, traits, clinical data and gene sets",
    ),
    "autoencoder": Stage(
        "autoencoder",
        _lazy("models_stage", "run_autoencoder"),
        requires=("load",),
        description="transcriptomic autoencoder: CV R^2 and the retrained model",
    ),
    "classifiers": Stage(
        "classifiers",
        _lazy("models_stage", "run_classifiers"),
        requires=("load",),
        uses=("autoencoder",),
        description="trait classifiers: grid search in CV, retraining, fold models",
    ),
    "baselines": Stage(
        "baselines",
        _lazy("comparison_stage", "run_baselines_stage"),
        requires=("load",),
        section=lambda c: {
            **_with(c, "baselines"),
            "folds": c.baselines.folds or c.classifiers.folds,
        },
        description="baseline classifiers in the same folds",
    ),
    "bootstrap": Stage(
        "bootstrap",
        _lazy("comparison_stage", "run_bootstrap_stage"),
        requires=("load", "classifiers", "baselines"),
        section=lambda c: {
            **_with(c, "bootstrap", "baselines"),
            "folds": c.bootstrap.folds or c.classifiers.folds,
            "train": c.classifiers.model_dump(mode="json", exclude={"grid"}),
        },
        description="bootstrap comparison of the network with the baselines",
    ),
    "masking": Stage(
        "masking",
        _lazy("interpret_stage", "run_masking"),
        requires=("load", "classifiers"),
        description="gene masking (single genes and gene sets, null q-values, out of fold)",
    ),
    "saliency": Stage(
        "saliency",
        _lazy("interpret_stage", "run_saliency"),
        requires=("load", "classifiers"),
        description="per-patient gene saliency",
    ),
    "enrichment": Stage(
        "enrichment",
        _lazy("enrichment_stage", "run_enrichment"),
        requires=("load", "masking"),
        section=lambda c: {**_with(c, "enrichment"), "masking_readout": c.masking.readout},
        description="preranked GSEA of the masking rankings",
    ),
    "radiogenomic_traits": Stage(
        "radiogenomic_traits",
        _lazy("enrichment_stage", "run_radiogenomic_traits"),
        requires=("load", "saliency"),
        description="patient-level radiogenomic traits from saliency GSEA",
    ),
    "survival": Stage(
        "survival",
        _lazy("survival_stage", "run_survival"),
        requires=("load",),
        uses=("radiogenomic_traits",),
        description="Kaplan-Meier, log-rank, univariate and stepwise Cox",
    ),
    "report": Stage(
        "report",
        _report,
        uses=tuple(s for s in STAGES if s != "report"),  # the report reads every stage
        section=lambda c: {"report": c.report.model_dump(mode="json"), "study": c.effective()},
        description="the HTML report",
    ),
}


def prepare_synthetic(cfg: StudyConfig, folder: RunFolder, log: logging.Logger) -> None:
    """With ``[synthetic] enabled``, write the synthetic cohort into ``<run>/cohort`` (once per
    cohort config) and point ``data.root`` at it."""
    if not cfg.synthetic.enabled:
        return
    from radiogenomics.data.synthetic import generate_cohort

    s = cfg.synthetic
    seed = cfg.seed if s.seed is None else s.seed
    target = folder.root / "cohort"
    stamp = target / ".generated.json"
    want = {"n_patients": s.n_patients, "n_genes": s.n_genes, "seed": seed}
    key = sha256_json(want)
    if not (stamp.is_file() and read_json(stamp).get("key") == key):
        log.info("synthetic cohort: %d patients x %d genes -> %s", s.n_patients, s.n_genes, target)
        generate_cohort(target, n_patients=s.n_patients, n_genes=s.n_genes, seed=seed)
        write_json(stamp, {"key": key, **want})
    cfg.data.root = target
    cfg.check_files()
