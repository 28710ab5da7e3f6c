"""The study as a sequence of stages over a resumable run folder.

``run_study(load_config("study.toml"))`` runs load, autoencoder, classifiers, baselines,
bootstrap, masking, saliency, enrichment, drivers, radiogenomic_traits, survival and report in
order, each into ``<out>/<name>/<stage>/`` with a ``manifest.json``; finished stages whose settings and
inputs did not change are skipped.
"""

from radiogenomics.config import STAGES
from radiogenomics.pipeline.contract import Stage, StageContext, StageSkipped
from radiogenomics.pipeline.runner import (
    Pipeline,
    StageOutcome,
    StagePlan,
    run_study,
)
from radiogenomics.runfolder import RunFolder, package_versions, sha256_file

__all__ = [
    "STAGES",
    "Pipeline",
    "RunFolder",
    "Stage",
    "StageContext",
    "StageOutcome",
    "StagePlan",
    "StageSkipped",
    "package_versions",
    "run_study",
    "sha256_file",
]
