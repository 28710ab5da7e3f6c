"""The study configuration: one pydantic model per stage, read from TOML.

Every key is validated when the file is read: an unknown key, a value of the wrong type or a
data file that does not exist fails at once with a message naming the file and the key. Data
paths are resolved against ``data.root`` when it is set, else against the folder of the config
file. The run folder is ``<out>/<name>`` with ``out`` resolved against the current directory.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from radiogenomics.errors import InputError

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
    "radiogenomic_traits",
    "survival",
    "report",
)


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

    def network_gpus(self, device: str) -> float:
        """The GPU fraction a network-training unit declares for a study on ``device``."""
        return 0.0 if device == "cpu" else float(self.gpus_per_network)


class GeneSetSource(Section):
    """One gene-set collection file (GMT, column-per-set CSV or long gene,set CSV)."""

    name: str
    path: Path
    min_size: int = Field(15, ge=1)
    max_size: int = Field(500, ge=1)


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
    vasari: Path | None = None
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


class NetworkGrid(Section):
    """The hyperparameter grid searched for the trait classifiers (METHOD.md 2)."""

    optimizer: list[Literal["adadelta", "nadam", "adam", "sgd"]] = ["adadelta"]
    activation: list[Literal["tanh", "sigmoid", "relu"]] = ["tanh"]
    dropout: list[float] = [0.0]
    hidden: list[list[int]] = [[64, 32, 16]]
    ae_layers: list[int] = Field([0], description="autoencoder layers transferred (0 = none)")
    frozen: list[bool] = [True]


class AutoencoderConfig(Section):
    enabled: bool = True
    hidden: list[int] = [64, 32, 16]
    activation: Literal["tanh", "sigmoid", "relu"] = "tanh"
    optimizer: Literal["adadelta", "nadam", "adam", "sgd"] = "adadelta"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_size: int = Field(50, ge=1)
    max_epochs: int = Field(500, ge=1)
    patience: int = Field(50, ge=1)
    folds: int = Field(10, ge=2)
    train_on: Literal["unlabelled", "all"] = "unlabelled"


class ClassifiersConfig(Section):
    enabled: bool = True
    folds: int = Field(10, ge=2)
    batch_size: int = Field(10, ge=1)
    max_epochs: int = Field(500, ge=1)
    patience: int = Field(200, ge=1)
    grid: NetworkGrid = Field(default_factory=NetworkGrid)


class BaselinesConfig(Section):
    enabled: bool = True
    models: list[str] = [
        "logreg_l1",
        "logreg_l2",
        "svm_linear",
        "svm_rbf",
        "random_forest",
        "xgboost",
    ]
    folds: int | None = Field(None, ge=2, description="None: classifiers.folds")


class BootstrapConfig(Section):
    enabled: bool = True
    repetitions: int = Field(100, ge=1)
    models: list[str] = Field(default_factory=list, description="[] = baselines.models")
    folds: int | None = Field(None, ge=2, description="None: classifiers.folds")


class MaskingConfig(Section):
    enabled: bool = True
    single_genes: bool = True
    collections: list[str] = Field(default_factory=list, description="[] = every collection")
    driver_genes: list[str] = Field(default_factory=list)
    null_draws: int = Field(200, ge=0, description="random gene sets per size for the null")
    out_of_fold: bool = True
    readout: Literal["out_of_fold", "retrained"] = Field(
        "out_of_fold",
        description="which masking the summaries (top sets and genes, heatmaps, GSEA of the "
        "single-gene ranking) read: out-of-fold (patients the model never saw) or the "
        "retrained model on its own training patients (the paper's); the table holds both",
    )
    top: int = Field(20, ge=1, description="rows shown per trait in heatmaps and the report")

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


class EnrichmentConfig(Section):
    enabled: bool = True
    ranking: Literal["ap", "auc"] = "ap"
    collections: list[str] = Field(default_factory=list, description="[] = every collection")
    nperm: int = Field(10000, ge=10)
    small_p: Literal["multilevel", "none"] = Field(
        "none",
        description="'multilevel' estimates p below 1/(nperm+1) (fgsea's multilevel); 'none' is "
        "the paper's simple permutation p",
    )
    min_size: int = Field(15, ge=1)
    max_size: int = Field(500, ge=1)


class RadiogenomicTraitsConfig(Section):
    enabled: bool = True
    collections: list[str] = Field(default_factory=list, description="[] = every collection")
    nperm: int = Field(10000, ge=10)
    small_p: Literal["multilevel", "none"] = "none"
    min_size: int = Field(15, ge=1)
    max_size: int = Field(500, ge=1)
    alpha: float = Field(0.05, gt=0.0, lt=1.0)
    min_patients: int = Field(5, ge=1)


class SurvivalConfig(Section):
    enabled: bool = True
    outcomes: list[Literal["os", "pfs"]] = ["os", "pfs"]
    forced: list[Literal["gender", "race", "age"]] = ["gender", "race", "age"]
    direction: Literal["both", "forward", "backward"] = "both"
    criterion: Literal["aic"] = "aic"
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
    radiogenomic_traits: RadiogenomicTraitsConfig = Field(default_factory=RadiogenomicTraitsConfig)
    survival: SurvivalConfig = Field(default_factory=SurvivalConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    source: Path | None = Field(None, description="the TOML file this study was read from")

    @field_validator("name")
    @classmethod
    def _safe_name(cls, v: str) -> str:
        if any(c in v for c in "/\\") or v in (".", ".."):
            raise ValueError("must be a plain folder name (no '/' or '\\')")
        return v

    @property
    def run_dir(self) -> Path:
        return Path(self.out) / self.name

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

    def check_files(self) -> None:
        """Every data file named in the config exists (fails naming the key and the file)."""
        where = str(self.source) if self.source else "config"
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

    def stage_enabled(self, stage: str) -> bool:
        if stage == "load":
            return True
        section = getattr(self, stage)
        return bool(section.enabled)

    def effective(self) -> dict[str, Any]:
        """The effective configuration as plain data (paths as strings)."""
        return json.loads(self.model_dump_json())


def _format_errors(err: ValidationError, source: str) -> InputError:
    lines = []
    first_field = None
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"])
        first_field = first_field or loc
        if e["type"] == "extra_forbidden":
            lines.append(f"unknown key '{loc}'")
        elif e["type"] == "missing":
            lines.append(f"missing key '{loc}'")
        else:
            got = e.get("input")
            shown = repr(got) if not isinstance(got, dict) else "a table"
            lines.append(f"'{loc}' = {shown}: {e['msg']}")
    return InputError("; ".join(lines), file=source, field=first_field)


def load_config(
    path: str | os.PathLike | None = None,
    overrides: dict[str, Any] | None = None,
    *,
    data: dict[str, Any] | None = None,
    check_files: bool = True,
) -> StudyConfig:
    """Read and validate a study TOML (or a dict), apply dotted ``overrides`` (CLI options).

    ``overrides`` maps dotted keys (``"executor.kind"``) to values; ``None`` values are ignored.
    """
    source = str(path) if path is not None else "config"
    if data is None:
        if path is None:
            raise ValueError("either path or data must be given")
        p = Path(path)
        if not p.is_file():
            raise InputError("config file not found", file=source, expected="a TOML study file")
        try:
            with p.open("rb") as fh:
                data = tomllib.load(fh)
        except tomllib.TOMLDecodeError as err:
            raise InputError(f"not valid TOML: {err}", file=source) from None
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
        cfg = StudyConfig.model_validate(data)
    except ValidationError as err:
        raise _format_errors(err, source) from None
    if check_files and not cfg.synthetic.enabled:
        cfg.check_files()
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
