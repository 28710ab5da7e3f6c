"""The stages of a study, in order, and what each depends on.

Each stage is a thin adapter: it reads upstream outputs from the run folder, calls the library
function that does the work (``radiogenomics.models``, ``evaluation``, ``interpret``,
``enrichment``, ``survival``) and writes tables, figures and models into its folder.
"""

from __future__ import annotations

import logging

from radiogenomics.config import STAGES, StudyConfig
from radiogenomics.pipeline.contract import ALL, Stage
from radiogenomics.pipeline.load import run_load
from radiogenomics.runfolder import RunFolder, sha256_json
from radiogenomics.utils.io import read_json, write_json


def _lazy(module: str, name: str):
    """Import a stage adapter only when the stage runs (keeps `radiogenomics --help` fast)."""

    def call(ctx):
        import importlib

        return getattr(importlib.import_module(f"radiogenomics.pipeline.{module}"), name)(ctx)

    call.__name__ = name
    return call


# The parts of the load outputs each stage reads (contract.LOAD_PARTS; the report reads all).
COHORT = ("cohort",)
WITH_SETS = ("cohort", "gene_sets")
WITH_CLINICAL = ("cohort", "clinical")


def _no_gene_sets(cfg: StudyConfig) -> str | None:
    if cfg.data.gene_sets or cfg.data.subtype_signatures is not None:
        return None
    return "no gene-set collection in the config (data.gene_sets)"


def _no_clinical(cfg: StudyConfig) -> str | None:
    return (
        None if cfg.data.clinical is not None else "no clinical data in the config (data.clinical)"
    )


# ``reads`` lists every setting a stage's adapter reads (its ConfigView refuses any other), so
# the fingerprint is exactly what the stage depends on. Settings of where work runs (device,
# executor, threads, quiet) are readable by all and rerun nothing (contract.AMBIENT).
STAGE_TABLE: dict[str, Stage] = {
    "load": Stage(
        "load",
        run_load,
        reads=("data",),
        inputs=lambda cfg: cfg.data_files(),
        description="read expression, traits, clinical data and gene sets",
    ),
    "autoencoder": Stage(
        "autoencoder",
        _lazy("models_stage", "run_autoencoder"),
        load_parts=COHORT,
        requires=("load",),
        reads=("autoencoder",),
        description="transcriptomic autoencoder: CV R^2 and the retrained model",
    ),
    "classifiers": Stage(
        "classifiers",
        _lazy("models_stage", "run_classifiers"),
        load_parts=COHORT,
        requires=("load",),
        uses=("autoencoder",),
        # fold models are kept only when out-of-fold masking or the driver ranking reads them
        # (a derived setting: what matters is whether they are kept, not which stage wants them)
        reads=("classifiers", "keep_fold_models"),
        description="trait classifiers: grid search in CV, retraining, fold models",
    ),
    "baselines": Stage(
        "baselines",
        _lazy("comparison_stage", "run_baselines_stage"),
        load_parts=COHORT,
        requires=("load",),
        uses=("classifiers",),
        reads=("baselines", "classifiers.folds"),
        description="baseline classifiers in the same folds",
        revision=2,  # 2: logistic regressions fitted to convergence (tol 1e-8, float64)
    ),
    "bootstrap": Stage(
        "bootstrap",
        _lazy("comparison_stage", "run_bootstrap_stage"),
        load_parts=COHORT,
        requires=("load", "classifiers", "baselines"),
        uses=("autoencoder",),
        reads=("bootstrap", "baselines.models", "classifiers.folds"),
        description="bootstrap comparison of the network with the baselines",
        revision=2,  # 2: logistic regressions fitted to convergence (tol 1e-8, float64)
    ),
    "masking": Stage(
        "masking",
        _lazy("interpret_stage", "run_masking"),
        load_parts=WITH_SETS,
        requires=("load", "classifiers"),
        reads=("masking",),
        description="gene masking (single genes and gene sets, null q-values, out of fold)",
    ),
    "saliency": Stage(
        "saliency",
        _lazy("interpret_stage", "run_saliency"),
        load_parts=COHORT,
        requires=("load", "classifiers"),
        reads=("saliency", "masking.top"),
        description="per-patient gene saliency",
    ),
    "enrichment": Stage(
        "enrichment",
        _lazy("enrichment_stage", "run_enrichment"),
        skips=_no_gene_sets,
        load_parts=WITH_SETS,
        requires=("load", "masking"),
        reads=("enrichment", "masking.readout"),
        description="preranked GSEA of the masking rankings",
        # 2: task is the plain task name, the class in its own column; 3: a multilevel
        # p-value replaces the permutation floor (small_p = "multilevel")
        revision=3,
    ),
    "cv_repeats": Stage(
        "cv_repeats",
        _lazy("drivers_stage", "run_cv_repeats"),
        skips=_no_gene_sets,  # as the drivers stage, the one that reads them
        load_parts=COHORT,  # not the gene sets: a new collection retrains none of these runs
        requires=("load", "classifiers"),
        uses=("autoencoder",),  # transferred layers
        reads=("drivers.repeats",),
        description="the driver ranking's CV runs on new fold splits (fold models kept)",
    ),
    "drivers": Stage(
        "drivers",
        _lazy("drivers_stage", "run_drivers"),
        skips=_no_gene_sets,
        load_parts=WITH_SETS,
        requires=("load", "classifiers", "cv_repeats"),
        reads=("drivers",),
        description="driver ranking of the gene sets (repeated CV, set masking, naive peer)",
        # 2: the consensus became masking + the programme network's conditional masking;
        # 3: the programme network + each programme score's own AUC; 4: programme_shift;
        # 5: the floating forward order; 6: first_share, from the programme network's other
        # seeds; 7: the forward order stops where no set raises the programme network's AP;
        # 8: its later places only while their choice holds up on held-out halves (the extra
        # CV runs then moved to cv_repeats, with the same seeds: the same table); 9: below
        # the forward order, the median of four ranks (reverted to 8's order); 10: the better
        # of the programme and gene levels' mean ranks (not 9 again: a study ranked with the
        # median order would pass as up to date)
        revision=10,
    ),
    "radiogenomic_traits": Stage(
        "radiogenomic_traits",
        _lazy("enrichment_stage", "run_radiogenomic_traits"),
        skips=_no_gene_sets,
        load_parts=WITH_SETS,
        requires=("load", "saliency"),
        reads=("radiogenomic_traits",),
        description="patient-level radiogenomic traits from saliency GSEA",
        # 2: traits absent in fewer than min_patients patients are dropped too; 3: a
        # multilevel p-value replaces the permutation floor (small_p = "multilevel")
        revision=3,
    ),
    "survival": Stage(
        "survival",
        _lazy("survival_stage", "run_survival"),
        skips=_no_clinical,
        load_parts=WITH_CLINICAL,
        requires=("load",),
        uses=("radiogenomic_traits",),
        reads=("survival",),
        description="Kaplan-Meier, log-rank, univariate and stepwise Cox",
        revision=2,  # 2: the final model's HR, CI and p from the package's own Cox fit
    ),
    "report": Stage(
        "report",
        _lazy("report_stage", "run_report"),
        uses=tuple(s for s in STAGES if s != "report"),  # the report reads every stage
        reads=(ALL,),  # and prints the whole study config
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
        # a cohort half rewritten by a killed run must not pass for the one stamped before
        stamp.unlink(missing_ok=True)
        generate_cohort(target, n_patients=s.n_patients, n_genes=s.n_genes, seed=seed)
        write_json(stamp, {"key": key, **want})
    cfg.data.root = target
    cfg.check_files()
