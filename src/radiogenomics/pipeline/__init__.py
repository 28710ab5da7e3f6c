"""The study as a sequence of stages over a resumable run folder.

``run_study(load_config("study.toml"))`` runs load, autoencoder, classifiers, baselines,
bootstrap, masking, saliency, enrichment, radiogenomic_traits, survival and report in order,
each into ``<out>/<name>/<stage>/`` with a ``manifest.json``; finished stages whose config and
inputs did not change are skipped.
"""

from radiogenomics.config import STAGES
from radiogenomics.pipeline.runfolder import RunFolder, package_versions, sha256_file
from radiogenomics.pipeline.runner import (
    Pipeline,
    Stage,
    StageContext,
    StageOutcome,
    StageSkipped,
    run_study,
)

__all__ = [
    "STAGES",
    "Pipeline",
    "RunFolder",
    "Stage",
    "StageContext",
    "StageOutcome",
    "StageSkipped",
    "package_versions",
    "run_study",
    "sha256_file",
]
