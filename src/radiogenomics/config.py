"""The study configuration: one pydantic model per stage, read from TOML.

Every value is validated once, when the file is read, before any stage runs or any output is
touched: an unknown key, a value of the wrong type (strictly: ``"3"`` is not an integer), a value
out of the library's bounds or a data file that does not exist fails at once with a message
naming the file, the key path and what is allowed. Sections that configure library objects take
their field types from those objects (:class:`radiogenomics.models.NetworkConfig`,
:class:`radiogenomics.models.AutoencoderConfig`, :class:`radiogenomics.utils.settings.GseaSettings`),
so the study file and the library cannot disagree about what is valid.

Data paths are resolved against ``data.root`` when it is set, else against the folder of the
config file. The run folder is ``<out>/<name>`` with ``out`` resolved against the current
directory.
"""

from __future__ import annotations

import difflib
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from radiogenomics.errors import InputError
from radiogenomics.models.config import AutoencoderConfig as AutoencoderNetwork
from radiogenomics.models.config import NetworkConfig
from radiogenomics.utils.settings import GseaSettings, SizeBounds

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

STAGES: tuple[str, ...] = (
    "load",
    "autoencoder",
    "classifiers",
    "baselines",
    "bootstrap",
    "masking",
    "saliency",
    "enrichment",
    "cv_repeats",
    "drivers",
    "radiogenomic_traits",
    "survival",
    "report",
)


def enabled_key(stage: str) -> str:
    """The setting that switches a stage on or off (the CV repeats run with the drivers)."""
    return "drivers.enabled" if stage == "cv_repeats" else f"{stage}.enabled"


class SettingError(ValueError):
    """A value that is wrong given other settings; ``key`` is the setting to change."""

    def __init__(self, key: str, message: str):
        super().__init__(message)
        self.key = key


class Section(BaseModel):
    """Base of every config section: unknown keys are errors, values are validated strictly."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ExecutorConfig(Section):
    """Where independent work units run (bootstrap repetitions, grid points)."""

    kind: Literal["local", "ray"] = "local"
    address: str | None = Field(None, description="Ray cluster address, e.g. 'auto'")
    workers: int | None = Field(None, ge=1, description="local worker processes (None: all cores)")
    max_retries: int = Field(
        2, ge=0, description="ray: re-runs of a task whose worker process or node died"
    )
    cpus_per_task: float | None = Field(
        None, gt=0, description="ray: CPUs every work unit declares (None: what the stage asks)"
    )
    gpus_per_task: float | None = Field(
        None, ge=0, description="ray: GPU fraction every work unit declares (None: none)"
    )
    gpus_per_network: float = Field(
        0.25,
        ge=0,
        description="ray: GPU fraction a network-training unit declares when the study's device "
        "is not 'cpu' (dropped on a cluster without GPUs; baseline units declare none)",
    )

    @model_validator(mode="after")
    def _fits_the_private_instance(self) -> ExecutorConfig:
        # without an address, Ray is a private instance of `workers` CPUs: a larger request
        # per task could never run, and was found only when the first stage's units started
        private = self.kind == "ray" and self.address is None and self.workers is not None
        if private and self.cpus_per_task is not None and self.cpus_per_task > self.workers:
            raise SettingError(
                "executor.cpus_per_task",
                f"each task asks for {self.cpus_per_task:g} CPUs but the private Ray instance "
                f"(no address) has workers = {self.workers}; lower cpus_per_task or raise workers",
            )
        return self

    def network_gpus(self, device: str) -> float:
        """The GPU fraction a network-training unit declares for a study on ``device``."""
        return 0.0 if device == "cpu" else float(self.gpus_per_network)


def library_type(model: type[BaseModel], name: str) -> Any:
    """The type of ``model.name`` with the library's own constraints (bounds, validators)."""
    info = model.model_fields[name]
    checks = [
        AfterValidator(d.func)
        for d in model.__pydantic_decorators__.field_validators.values()
        if name in d.info.fields and d.info.mode == "after"
    ]
    extra = (*info.metadata, *checks)
    return Annotated[(info.annotation, *extra)] if extra else info.annotation


# Network settings, validated exactly as the library validates them.
Activation = library_type(NetworkConfig, "activation")
Optimizer = library_type(NetworkConfig, "optimizer")
Dropout = library_type(NetworkConfig, "dropout")
Hidden = library_type(NetworkConfig, "hidden")
AeLayers = library_type(NetworkConfig, "ae_layers")
NetBatchSize = library_type(NetworkConfig, "batch_size")
NetMaxEpochs = library_type(NetworkConfig, "max_epochs")
NetPatience = library_type(NetworkConfig, "patience")
Numerics = library_type(NetworkConfig, "numerics")
AeBatchSize = library_type(AutoencoderNetwork, "batch_size")
AeMaxEpochs = library_type(AutoencoderNetwork, "max_epochs")
AePatience = library_type(AutoencoderNetwork, "patience")


class GeneSetSource(Section, SizeBounds):
    """One gene-set collection file (GMT, column-per-set CSV or long gene,set CSV)."""

    name: str = Field(..., min_length=1)
    path: Path


class SyntheticConfig(Section):
    """Generate the embedded synthetic cohort into ``<run>/cohort`` before loading it."""

    enabled: bool = False
    n_patients: int = Field(500, ge=20)
    n_genes: int = Field(2000, ge=50)
    seed: int | None = Field(None, description="None: the study seed")


class DataConfig(Section):
    """Input files (stage ``load``). Paths are relative to ``root`` (default: the config's folder)."""

    root: Path | None = None
    expression: Path
    expression_scale: Literal["auto", "log2", "tpm", "counts"] = "auto"
    orientation: Literal["auto", "genes_x_samples", "samples_x_genes"] = Field(
        "auto",
        description="axes of a matrix file; 'auto' recognises TCGA barcodes and refuses a file "
        "whose orientation it cannot tell",
    )
    sample_types: list[str] | None = Field(
        ["01"],
        description="TCGA sample-type codes kept (01 primary tumour; None keeps every aliquot); "
        "the others are dropped and counted in the load report",
    )
    min_mean_expression: float | None = Field(
        None,
        description="drop genes whose mean log2 expression over all patients is below this "
        "(label-blind; the paper's analyses used 1 on log2 TPM+1)",
    )
    vasari: Path | None = None
    pre_op_only: bool = Field(
        True, description="keep only pre-operative scans where the VASARI table has scan.type"
    )
    subtypes: Path | None = None
    subtype_signatures: Path | None = Field(
        None,
        description="Verhaak ClaNC840 file: its gene->subtype column becomes a gene-set collection",
    )
    clinical: Path | None = None
    follow_up: Path | None = None
    gene_sets: list[GeneSetSource] = Field(default_factory=list)
    task: Literal["imaging", "subtype"] = "imaging"
    traits: list[str] = Field(default_factory=list, description="imaging traits to model; [] = all")
    min_patients_per_class: int = Field(5, ge=2)

    @field_validator("gene_sets")
    @classmethod
    def _unique_names(cls, v: list[GeneSetSource]) -> list[GeneSetSource]:
        names = [g.name for g in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"collection names must be unique; repeated: {dup}")
        return v

    @field_validator("traits")
    @classmethod
    def _unique_traits(cls, v: list[str]) -> list[str]:
        dup = sorted({t for t in v if v.count(t) > 1})
        if dup:
            raise ValueError(f"each trait once; listed twice: {dup}")
        return v

    def collection_names(self) -> list[str]:
        """The gene-set collections the study will have (the subtype signatures included)."""
        names = [g.name for g in self.gene_sets]
        if self.subtype_signatures is not None:
            from radiogenomics.data.subtypes import SIGNATURE_COLLECTION

            names.append(SIGNATURE_COLLECTION)
        return names

    def files(self) -> dict[str, Path]:
        """Every input file named in this section, keyed by its config key."""
        out: dict[str, Path] = {"data.expression": self.expression}
        for key in ("vasari", "subtypes", "subtype_signatures", "clinical", "follow_up"):
            value = getattr(self, key)
            if value is not None:
                out[f"data.{key}"] = value
        for i, gs in enumerate(self.gene_sets):
            out[f"data.gene_sets[{i}].path ({gs.name})"] = gs.path
        return out


def _grid(default: list) -> Any:
    """A grid axis: a non-empty list of values (each checked by the item type)."""
    return Field(default, min_length=1)


class NetworkGrid(Section):
    """The hyperparameter grid searched for the trait classifiers (METHOD.md 2); every value
    is checked against :class:`radiogenomics.models.NetworkConfig`'s bounds."""

    optimizer: list[Optimizer] = _grid(["adadelta"])
    activation: list[Activation] = _grid(["tanh"])
    dropout: list[Dropout] = _grid([0.0])
    hidden: list[Hidden] = _grid([(64, 32, 16)])
    ae_layers: list[AeLayers] = Field(
        [0], min_length=1, description="autoencoder layers transferred (0 = none)"
    )
    frozen: list[bool] = _grid([True])


class AutoencoderGrid(Section):
    """Other autoencoder configurations to search (the paper chose the best autoencoder of a
    search by CV R^2): each axis lists values of one field; [] keeps the section's value."""

    hidden: list[Hidden] = Field(default_factory=list)
    activation: list[Activation] = Field(default_factory=list)
    optimizer: list[Optimizer] = Field(default_factory=list)
    dropout: list[Dropout] = Field(default_factory=list)

    def axes(self) -> dict[str, list]:
        return {k: v for k, v in self.model_dump().items() if v}


class AutoencoderConfig(Section):
    """Stage ``autoencoder``; the network's fields are validated as
    :class:`radiogenomics.models.AutoencoderConfig` validates them."""

    enabled: bool = True
    hidden: Hidden = (64, 32, 16)
    activation: Activation = "tanh"
    optimizer: Optimizer = "adadelta"
    dropout: Dropout = 0.0
    batch_size: AeBatchSize = 50
    max_epochs: AeMaxEpochs = 500
    patience: AePatience = 50
    numerics: Numerics = Field(
        "torch", description="'keras': Glorot init, Keras' BatchNorm and optimiser constants"
    )
    folds: int = Field(10, ge=2)
    train_on: Literal["unlabelled", "all"] = "unlabelled"
    grid: AutoencoderGrid = Field(default_factory=AutoencoderGrid)

    def network(self) -> AutoencoderNetwork:
        """The library's autoencoder configuration (the base of the grid)."""
        shared = set(AutoencoderNetwork.model_fields) & set(type(self).model_fields)
        return AutoencoderNetwork(**{k: getattr(self, k) for k in shared})


class ClassifiersConfig(Section):
    """Stage ``classifiers``: the training settings and the grid of network configurations."""

    enabled: bool = True
    folds: int = Field(10, ge=2)
    batch_size: NetBatchSize = 10
    max_epochs: NetMaxEpochs = 500
    patience: NetPatience = 200
    numerics: Numerics = Field(
        "torch",
        description="'keras' reproduces the paper's Keras numerics (Glorot-uniform init, "
        "BatchNorm momentum 0.99 / eps 1e-3, Adadelta rho 0.95); see docs/models.md",
    )
    grid: NetworkGrid = Field(default_factory=NetworkGrid)


def _known_baselines(models: list[str]) -> list[str]:
    from radiogenomics.models.baselines import BASELINES

    unknown = [m for m in models if m not in BASELINES]
    if unknown:
        raise ValueError(f"unknown models {unknown}; known: {', '.join(BASELINES)}")
    return models


BaselineModels = Annotated[list[str], AfterValidator(_known_baselines)]


class BaselinesConfig(Section):
    """Stage ``baselines``: multi-class tasks are compared one-vs-rest (micro-AUC)."""

    enabled: bool = True
    grids: dict[str, dict[str, list[Any]]] = Field(
        default_factory=dict,
        description="hyperparameter grid per model, e.g. {logreg_l2 = {C = [0.01, 1]}}; a model "
        "not named keeps the default grid (radiogenomics.models.baselines.DEFAULT_GRIDS)",
    )
    models: BaselineModels = [
        "logreg_l1",
        "logreg_l2",
        "svm_linear",
        "svm_rbf",
        "random_forest",
        "xgboost",
    ]
    folds: int | None = Field(None, ge=2, description="None: classifiers.folds")

    @model_validator(mode="after")
    def _grids_of_models_run(self) -> BaselinesConfig:
        stray = [m for m in self.grids if m not in self.models]
        if stray:
            raise SettingError(
                "baselines.grids",
                f"grids given for models not run: {stray} (models: {self.models})",
            )
        empty = [f"{m}.{k}" for m, g in self.grids.items() for k, v in g.items() if not v]
        if empty:
            raise SettingError("baselines.grids", f"empty value lists: {empty}")
        if self.grids:  # a misspelt hyperparameter fails here, not after the stages before
            from radiogenomics.models.baselines import BASELINES

            for m, grid in self.grids.items():
                try:
                    BASELINES[m].param_grid(grid)
                except InputError as err:
                    text = err.message.removeprefix(f"{m}: ")
                    raise SettingError(f"baselines.grids.{m}", f"{text} ({err.expected})") from None
        return self


class BootstrapConfig(Section):
    enabled: bool = True
    repetitions: int = Field(100, ge=1)
    models: BaselineModels = Field(default_factory=list, description="[] = baselines.models")
    folds: int | None = Field(None, ge=2, description="None: classifiers.folds")


class MaskingConfig(Section):
    enabled: bool = True
    single_genes: bool = True
    collections: list[str] = Field(default_factory=list, description="[] = every collection")
    driver_genes: list[str] = Field(
        default_factory=list,
        description="the driver query: sets containing any of these genes are masked as the "
        "'driver_query' collection (configs/paper.toml lists the paper's 22 GBM driver genes)",
    )
    driver_keywords: list[str] = Field(
        default_factory=list,
        description="the driver query: sets whose name or description holds one of these "
        "words (e.g. 'ECM', 'hypoxia')",
    )
    driver_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="named groups of sets whose masking AUC and AP are averaged (the paper's "
        "Table 2, footnote c)",
    )
    null_draws: int = Field(200, ge=0, description="random gene sets per size for the null")
    out_of_fold: bool = True
    readout: Literal["out_of_fold", "retrained"] = Field(
        "out_of_fold",
        description="which masking the summaries (top sets and genes, heatmaps, GSEA of the "
        "single-gene ranking) read: out-of-fold (patients the model never saw) or the "
        "retrained model on its own training patients (the paper's); the table holds both",
    )
    top: int = Field(20, ge=1, description="rows shown per trait in heatmaps and the report")
    single_gene_method: Literal["auto", "exact"] = Field(
        "auto",
        description="'auto' interpolates each gene's output where its error check guarantees "
        "the same AUC/AP as exact masking (docs/interpret.md, 'Below the floor'); 'exact' never",
    )

    @model_validator(mode="after")
    def _readout_was_computed(self) -> MaskingConfig:
        if self.readout == "out_of_fold" and not self.out_of_fold:
            raise ValueError(
                "readout 'out_of_fold' needs out_of_fold = true; set readout = 'retrained' "
                "to summarise the retrained model's masking"
            )
        return self


class SaliencyConfig(Section):
    enabled: bool = True
    method: Literal["absolute", "signed", "integrated_gradients"] = "absolute"
    target: Literal["logit", "log_odds"] = Field(
        "logit",
        description="what is differentiated for a multi-class task: the class logit (the "
        "paper's keras-vis) or the class log-odds; binary tasks give the same either way",
    )


class EnrichmentConfig(Section, GseaSettings):
    """Stage ``enrichment``: GSEA settings as :class:`radiogenomics.utils.settings.GseaSettings`."""

    enabled: bool = True
    ranking: Literal["ap", "auc"] = "ap"
    collections: list[str] = Field(default_factory=list, description="[] = every collection")


class DriversConfig(Section, SizeBounds):
    """Stage ``drivers``: :func:`radiogenomics.interpret.driver_ranking` per task, the report's
    default read-out of which gene sets drive a trait. The defaults are the verb's, which the
    driver-recovery benchmark chose (docs/results.md, "Driver recovery")."""

    enabled: bool = True
    readout: Literal["consensus", "masking", "correlation"] = Field(
        "consensus",
        description="the ranking, p, q and calls reported: 'consensus' (ranked by the "
        "programme network and each programme score's AUC, tested by set masking against a "
        "size-matched null and correlation GSEA together; recommended), 'masking' (the gene "
        "network alone) or 'correlation' (the naive peer)",
    )
    repeats: int = Field(
        3,
        ge=1,
        description="cross-validation runs averaged per patient: the classifiers stage's and "
        "repeats - 1 more on new fold splits (each an executor unit)",
    )
    null_draws: int = Field(100, ge=2, description="random gene sets per set size for the null")
    nperm: int = Field(10000, ge=10, description="permutations of the correlation GSEA")
    alpha: float = Field(0.05, gt=0.0, lt=1.0, description="q below which sets may be called")
    max_calls: int = Field(
        1,
        ge=1,
        description="driver calls at most per class and collection (1: the gated first call, "
        "the benchmark's choice; more adds sets beyond the called genes)",
    )
    gate_draws: int = Field(
        200,
        ge=0,
        description="patient resamples of the separation gate: the top set is called only if "
        "it stays first among the significant sets in >= 1 - alpha of them (0: no gate)",
    )
    gate_nperm: int = Field(
        300, ge=10, description="permutations of each resample's correlation GSEA in the gate"
    )
    programme_network: bool = Field(
        True,
        description="rank by the programme network (a network on the collection's programme "
        "scores, conditional keep-only masked AP, a forward order first) and each programme "
        "score's own AUC, gated on both (false: by masking and correlation GSEA)",
    )
    programme_seeds: int = Field(
        3,
        ge=1,
        description="programme networks trained from this many seeds: the ranking's, and "
        "others that change no rank but give each set's first_share, the share of them "
        "whose ranking puts it first (1: the ranking's network alone)",
    )
    collections: list[str] = Field(default_factory=list, description="[] = every collection")


class RadiogenomicTraitsConfig(Section, GseaSettings):
    """Stage ``radiogenomic_traits``: GSEA of each patient's saliency ranking."""

    enabled: bool = True
    collections: list[str] = Field(default_factory=list, description="[] = every collection")
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    min_patients: int = Field(5, ge=1)


class SurvivalConfig(Section):
    enabled: bool = True
    outcomes: list[Literal["os", "pfs"]] | None = Field(
        None, description="None: OS, and PFS when data.follow_up is given"
    )
    forced: list[Literal["gender", "race", "age"]] = ["gender", "race", "age"]
    direction: Literal["both", "forward", "backward"] = "both"
    criterion: Literal["aic", "bic"] = "aic"
    min_patients: int = Field(5, ge=1)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)


class ReportConfig(Section):
    enabled: bool = True
    title: str | None = None


class StudyConfig(Section):
    """A whole study: global options and one section per stage."""

    name: str = Field(..., min_length=1)
    seed: int = 0
    out: Path = Path("runs")
    device: str = Field("auto", description="auto, cpu, cuda or cuda:N")
    threads: int | None = Field(
        None,
        ge=1,
        description="torch threads in this process (None: torch's default); 1 is fastest for "
        "small networks on a few cores",
    )
    quiet: bool = False
    executor: ExecutorConfig = Field(default_factory=ExecutorConfig)
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig)
    data: DataConfig
    autoencoder: AutoencoderConfig = Field(default_factory=AutoencoderConfig)
    classifiers: ClassifiersConfig = Field(default_factory=ClassifiersConfig)
    baselines: BaselinesConfig = Field(default_factory=BaselinesConfig)
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    masking: MaskingConfig = Field(default_factory=MaskingConfig)
    saliency: SaliencyConfig = Field(default_factory=SaliencyConfig)
    enrichment: EnrichmentConfig = Field(default_factory=EnrichmentConfig)
    drivers: DriversConfig = Field(default_factory=DriversConfig)
    radiogenomic_traits: RadiogenomicTraitsConfig = Field(default_factory=RadiogenomicTraitsConfig)
    survival: SurvivalConfig = Field(default_factory=SurvivalConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    source: Path | None = Field(None, description="the TOML file this study was read from")

    @field_validator("device")
    @classmethod
    def _device_exists(cls, v: str) -> str:
        from radiogenomics.utils.device import check_device  # torch: only when validating

        try:
            return check_device(v)
        except InputError as err:  # reworded below with the file and the key path
            raise ValueError(str(err).removeprefix("[device]: ")) from None

    @model_validator(mode="after")
    def _consistent(self) -> StudyConfig:
        """Settings that refer to other settings: collections by name, outcomes and their data."""
        known = self.data.collection_names()
        for section in ("masking", "enrichment", "drivers", "radiogenomic_traits"):
            unknown = [c for c in getattr(self, section).collections if c not in known]
            if unknown:
                raise SettingError(
                    f"{section}.collections",
                    f"unknown gene-set collections {unknown}; the study has {known or 'none'} "
                    "(the names of [[data.gene_sets]])",
                )
        self._grid_has_a_network()
        s = self.survival
        if s.outcomes is None:
            s.outcomes = ["os", "pfs"] if self.data.follow_up is not None else ["os"]
        elif "pfs" in s.outcomes and self.data.follow_up is None:
            raise SettingError(
                "survival.outcomes",
                "'pfs' needs the follow-up file that dates progression (data.follow_up)",
            )
        return self

    def _grid_has_a_network(self) -> None:
        """Some combination of the classifiers' grid must be trainable: transferring
        ``ae_layers`` layers needs an autoencoder whose encoder starts with those hidden sizes
        (the classifiers stage leaves the other combinations out)."""
        if not self.classifiers.enabled:
            return
        a, g = self.autoencoder, self.classifiers.grid
        encoders = [tuple(h) for h in (a.grid.hidden or [a.hidden])] if a.enabled else []
        if any(
            n == 0 or any(tuple(h)[:n] == e[:n] and n <= min(len(h), len(e)) for e in encoders)
            for h in g.hidden
            for n in g.ae_layers
        ):
            return
        if not a.enabled:
            why, fix = "the autoencoder is disabled", "enable it, or add 0 to ae_layers"
        else:
            why = f"no hidden sizes of the grid start with the autoencoder's encoder {encoders}"
            fix = "add 0 to ae_layers, or hidden sizes that start with the encoder's"
        raise SettingError(
            "classifiers.grid",
            f"no trainable network: ae_layers = {list(g.ae_layers)} transfer autoencoder layers"
            f" but {why}; {fix}",
        )

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if any(c in v for c in "/\\") or v in (".", ".."):
            raise ValueError("must be a plain folder name (no '/' or '\\')")
        return v

    @property
    def run_dir(self) -> Path:
        return Path(self.out) / self.name

    @property
    def keep_fold_models(self) -> bool:
        """Whether the classifiers keep each fold's model: out-of-fold masking and the driver
        ranking read them. Derived from three settings; the classifiers declare this, not them,
        so switching the drivers off when out-of-fold masking keeps the models anyway retrains
        nothing."""
        return (self.masking.enabled and self.masking.out_of_fold) or self.drivers.enabled

    def data_root(self) -> Path:
        if self.data.root is not None:
            return Path(self.data.root)
        if self.source is not None:
            return Path(self.source).resolve().parent
        return Path.cwd()

    def resolve(self, path: Path | str) -> Path:
        """A data path made absolute against the data root."""
        p = Path(os.path.expanduser(str(path)))
        return p if p.is_absolute() else (self.data_root() / p)

    def data_files(self) -> dict[str, Path]:
        return {k: self.resolve(v) for k, v in self.data.files().items()}

    def check_files(self, where: str | None = None) -> None:
        """Every data file named in the config exists (fails naming the key and the file;
        ``where``: the study file as the user named it, default its resolved path)."""
        where = where or (str(self.source) if self.source else "config")
        for key, path in self.data_files().items():
            if not path.exists():
                hint = (
                    " (the synthetic cohort is generated by `radiogenomics demo` or with"
                    " [synthetic] enabled = true)"
                    if self.synthetic.enabled
                    else ""
                )
                raise InputError(
                    f"{key} = {path}: file not found{hint}",
                    file=where,
                    field=key,
                    expected=f"an existing file (relative paths are read from {self.data_root()})",
                )
            if path.is_dir() and key != "data.expression":  # expression may be a GDC folder
                raise InputError(
                    f"{key} = {path}: a folder, not a file (an empty path names the data root)",
                    file=where,
                    field=key,
                    expected="the path of a file, or the key left out",
                )

    def stage_enabled(self, stage: str) -> bool:
        if stage == "load":
            return True
        section = getattr(self, enabled_key(stage).split(".")[0])
        return bool(section.enabled)

    def effective(self) -> dict[str, Any]:
        """The effective configuration as plain data (paths as strings)."""
        return json.loads(self.model_dump_json())


def key_path(loc: tuple[Any, ...]) -> tuple[str, str]:
    """``('classifiers', 'grid', 'dropout', 0)`` -> (``classifiers.grid``, ``dropout[0]``)."""
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int) and parts:
            parts[-1] += f"[{item}]"
        else:
            parts.append(str(item))
    if not parts:
        return "", ""
    last = max((i for i, p in enumerate(parts) if not p.startswith("[")), default=0)
    return ".".join(parts[:last]), ".".join(parts[last:])


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _section_type(annotation: Any) -> type[BaseModel] | None:
    """The config section inside a field's annotation (``X``, ``X | None``, ``list[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next(filter(None, map(_section_type, get_args(annotation))), None)


def _section_model(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The config section that holds the key at ``loc`` (None where the path leaves them)."""
    model: type[BaseModel] | None = StudyConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an item of a list of sections, whose type the list's field gave
        field = model.model_fields.get(str(part)) if model is not None else None
        model = _section_type(field.annotation) if field is not None else None
    return model


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """' (did you mean ...?)' for an unknown key that is close to an allowed one."""
    model = _section_model(loc)
    if model is None:
        return ""
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _format_errors(err: ValidationError, source: str) -> InputError:
    """One line per problem: ``[section] key = value: what is allowed``."""
    lines = []
    first_field = None
    for e in err.errors():
        cause = (e.get("ctx") or {}).get("error")
        if isinstance(cause, SettingError):
            section, _, key = cause.key.rpartition(".")
            where, dotted = f"[{section}] {key}", cause.key
            message = str(cause)
        else:
            section, key = key_path(e["loc"])
            dotted = ".".join(p for p in (section, key) if p)
            table = isinstance(e.get("input"), dict) and e["type"] != "missing"
            if table:
                where = f"[{dotted}]"
            else:
                where = f"[{section}] {key}" if section else key
            message = e["msg"].removeprefix("Value error, ")
        first_field = first_field or dotted
        if e["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key{_did_you_mean(e['loc'])}")
        elif e["type"] == "missing":
            lines.append(f"{where}: missing (required)")
        elif isinstance(cause, SettingError) or isinstance(e.get("input"), dict):
            lines.append(f"{where}: {message}")
        else:
            lines.append(f"{where} = {_shown(e.get('input'))}: {message}")
    error = InputError("; ".join(lines), file=source)  # each line names its key
    error.field = first_field
    return error


def load_config(
    path: str | os.PathLike | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    data: dict[str, Any] | None = None,
    check_files: bool = True,
) -> StudyConfig:
    """Read and validate a study TOML (or a dict), apply dotted ``overrides`` (CLI options).

    ``overrides`` maps dotted keys (``"executor.kind"``) to values; ``None`` values are ignored.
    Validation is strict, as TOML is typed: ``"3"`` is not an integer, ``1`` is not a boolean.
    """
    source = str(path) if path is not None else "config"
    if data is None:
        if path is None:
            raise ValueError("either path or data must be given")
        p = Path(path)
        if p.is_dir():
            raise InputError("a folder, not a file", file=source, expected="a TOML study file")
        if not p.is_file():
            raise InputError("config file not found", file=source, expected="a TOML study file")
        try:
            # utf-8-sig: an editor's byte-order mark is not a TOML error at line 1, column 1
            data = tomllib.loads(p.read_bytes().decode("utf-8-sig"))
        except tomllib.TOMLDecodeError as err:
            raise InputError(f"not valid TOML: {err}", file=source) from None
        except UnicodeDecodeError:
            raise InputError("not a text file", file=source, expected="a TOML study file") from None
        data.setdefault("source", str(p.resolve()))
    data = json.loads(json.dumps(data, default=str))
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    try:
        cfg = StudyConfig.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as err:
        raise _format_errors(err, source) from None
    address = (overrides or {}).get("executor.address")
    if address is not None and cfg.executor.kind != "ray":  # it ran on this machine, silently
        raise InputError(
            f"--address {address!r} is a Ray cluster's, but the executor is "
            f"{cfg.executor.kind!r}: the study would run on this machine",
            field="executor.address",
            expected="--executor ray with it, or kind = 'ray' in [executor]",
        )
    if check_files and not cfg.synthetic.enabled:
        cfg.check_files(where=source)  # named as typed, as every other error of the file
    return cfg


def to_toml(obj: dict[str, Any]) -> str:
    """Serialise the effective config (nested dicts of scalars and lists) as TOML."""

    def scalar(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(scalar(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {scalar(x)}" for k, x in v.items()) + " }"
        return json.dumps(str(v))

    lines: list[str] = []

    def emit(prefix: str, d: dict[str, Any]) -> None:
        tables = []
        arrays = []
        for k, v in d.items():
            if v is None:
                continue
            if isinstance(v, dict):
                tables.append((k, v))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                arrays.append((k, v))
            else:
                lines.append(f"{k} = {scalar(v)}")
        for k, v in tables:
            name = f"{prefix}{k}"
            lines.append("")
            lines.append(f"[{name}]")
            emit(f"{name}.", v)
        for k, items in arrays:
            for item in items:
                lines.append("")
                lines.append(f"[[{prefix}{k}]]")
                for ik, iv in item.items():
                    if iv is not None:
                        lines.append(f"{ik} = {scalar(iv)}")

    emit("", obj)
    return "\n".join(lines).lstrip("\n") + "\n"
