"""The contract between the runner and a stage: what a stage declares, sees and writes.

A stage declares the settings it reads (``reads``: dotted key paths of the study config) and
the stages whose outputs it reads (``requires``, ``uses``). Its fingerprint is exactly those
settings' values, the hashes of its input files and the output hashes of its upstream stages,
and the stage sees the config only through a :class:`ConfigView` of those keys: reading any
other setting fails at once, so a stage cannot depend on a setting that does not rerun it.

A few settings say where and how work runs, not what it computes (:data:`AMBIENT`); any stage
may read them and changing them never reruns a finished stage.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel

from radiogenomics.config import StudyConfig
from radiogenomics.runfolder import RunFolder
from radiogenomics.utils.io import atomic_write, write_json
from radiogenomics.utils.seeding import derive_seed

#: Settings of where and how work runs: readable by every stage, never in a fingerprint.
#: (Results are reproducible across them: seeds are per unit, not per worker or thread.)
AMBIENT: frozenset[str] = frozenset(
    {"name", "out", "source", "device", "threads", "quiet", "executor", "data.root"}
)
#: Readable by every stage: the ambient settings and the seed (in every fingerprint already).
READABLE: frozenset[str] = AMBIENT | {"seed"}
ALL = "*"  # ``reads=(ALL,)``: every setting (the report, which prints the whole config)


class StageSkipped(Exception):
    """Raised by a stage that cannot run on this study (e.g. no clinical data): not an error."""


class UndeclaredSettingError(RuntimeError):
    """A stage read a setting, or a part of the load outputs, it does not declare (a bug in
    the stage, not in the study)."""


#: The load stage's outputs by what they hold. A stage declares the parts it reads
#: (``Stage.load_parts``); its fingerprint takes only their hashes, so a changed clinical file
#: reruns survival, not the networks, and a new gene-set collection does not retrain them.
LOAD_PARTS: dict[str, tuple[str, ...]] = {
    "cohort": (
        "expression.parquet",
        "study.json",
        "tables/targets.parquet",
        "tables/tasks.parquet",
    ),
    "gene_sets": ("tables/gene_sets.parquet",),
    "clinical": ("tables/clinical.parquet",),
}


def _covers(declared: str, path: str) -> bool:
    return declared == ALL or path == declared or path.startswith(declared + ".")


class ConfigView:
    """The study config as one stage may see it: the declared keys (and the ambient ones)."""

    __slots__ = ("_obj", "_stage", "_reads", "_path")

    def __init__(self, obj: BaseModel, stage: str, reads: tuple[str, ...], path: str = ""):
        self._obj, self._stage, self._reads, self._path = obj, stage, reads, path

    def __getattr__(self, name: str) -> Any:
        path = f"{self._path}.{name}" if self._path else name
        value = getattr(self._obj, name)
        if any(_covers(k, path) for k in (*self._reads, *READABLE)):
            return value
        if isinstance(value, BaseModel) and any(k.startswith(path + ".") for k in self._reads):
            return ConfigView(value, self._stage, self._reads, path)
        raise UndeclaredSettingError(
            f"stage {self._stage!r} reads the setting {path!r} but does not declare it in "
            f"Stage(reads=...): declare it, so that changing it reruns the stage"
        )

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ConfigView.__slots__:
            object.__setattr__(self, name, value)
            return
        raise UndeclaredSettingError(f"stage {self._stage!r} may not change settings ({name})")


def setting(cfg: StudyConfig, path: str) -> Any:
    """The value of a dotted setting as plain data for a fingerprint.

    Ambient sub-keys are left out, and paths become their file names (their contents are
    fingerprinted as the stage's input files, their location is not a result).
    """
    value: Any = cfg
    for part in path.split("."):
        value = getattr(value, part)
    return _plain(value, path)


def _plain(value: Any, path: str) -> Any:
    if isinstance(value, BaseModel):
        return {
            k: _plain(getattr(value, k), f"{path}.{k}")
            for k in type(value).model_fields
            if f"{path}.{k}" not in AMBIENT
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v, path) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, path) for k, v in value.items()}
    if isinstance(value, Path):
        return value.name
    return value


def declared_settings(cfg: StudyConfig, reads: tuple[str, ...]) -> dict[str, Any]:
    """``{key: value}`` of a stage's declared settings (the whole config for ``ALL``)."""
    if ALL in reads:
        return {k: setting(cfg, k) for k in type(cfg).model_fields if k not in AMBIENT}
    return {k: setting(cfg, k) for k in sorted(reads)}


@dataclass(frozen=True)
class Stage:
    """One step of the study.

    ``requires``: stages that must have finished (if one is disabled, this one is not run);
    ``uses``: stages whose outputs are read when present (disabled is fine);
    ``reads``: the settings it reads (dotted keys; the stage's own section is not implied);
    ``inputs``: the data files it reads (hashed into its fingerprint); ``revision``: raised
    when the stage's method changes what it computes from the same settings and inputs, so
    that run folders made before recompute it (1, the first, is not fingerprinted: folders
    from before revisions existed stay valid); ``load_parts``: the parts of the load stage's
    outputs it reads (:data:`LOAD_PARTS`; its fingerprint hashes only those, and reading any
    other fails), None for all of them; ``skips``: why the stage cannot run on a study, when
    the config alone tells (None: it can), so that ``check`` plans what ``run`` will do; a
    stage that finds out only from the data raises :class:`StageSkipped`.
    """

    name: str
    run: Callable[[StageContext], dict[str, Any] | None]
    requires: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    inputs: Callable[[StudyConfig], dict[str, Path]] | None = None
    description: str = ""
    revision: int = 1
    load_parts: tuple[str, ...] | None = None
    skips: Callable[[StudyConfig], str | None] | None = None

    def skip_reason(self, cfg: StudyConfig) -> str | None:
        return self.skips(cfg) if self.skips else None


@dataclass
class StageContext:
    """What a stage sees: the settings it declared, its (staging) folder, upstream outputs,
    the executor and a logger."""

    stage: str
    study: StudyConfig  # the runner's copy; stages read ``cfg`` (the view)
    folder: RunFolder
    log: logging.Logger
    reads: tuple[str, ...] = ()
    files: dict[str, Path] = field(default_factory=dict)  # input files (load stage)
    quiet: bool = False
    notes: list[str] = field(default_factory=list)
    load_parts: tuple[str, ...] | None = None  # the load outputs it may read (None: all)

    @cached_property
    def cfg(self) -> ConfigView:
        return ConfigView(self.study, self.stage, self.reads)

    @property
    def dir(self) -> Path:
        """Where this stage writes: its staging folder, published when it succeeds."""
        return self.folder.staging_dir(self.stage)

    @cached_property
    def executor(self):
        from radiogenomics.execution import make_executor

        ex = self.study.executor
        if ex.kind == "ray":
            opts: dict[str, Any] = {
                "quiet": self.quiet,
                "max_retries": ex.max_retries,
                "cpus_per_task": ex.cpus_per_task,
                "gpus_per_task": ex.gpus_per_task,
            }
            if ex.address:
                opts["address"] = ex.address
            elif ex.workers:
                opts["num_cpus"] = ex.workers  # a local Ray started with this many CPUs
            return make_executor("ray", **opts)
        return make_executor("local", workers=ex.workers, quiet=self.quiet)

    @property
    def device(self) -> str:
        return self.study.device

    def network_gpus(self) -> float:
        """The GPU fraction a network-training unit declares on the study's device."""
        return self.study.executor.network_gpus(self.study.device)

    def seed(self, *keys: object) -> int:
        """A seed for one unit of this stage, independent of what ran before it."""
        return derive_seed(self.study.seed, self.stage, *keys)

    # writing ---------------------------------------------------------------------------------
    def table(self, df: pd.DataFrame, name: str, index: bool = False) -> Path:
        from radiogenomics.utils.io import write_table

        return write_table(df, self.dir / "tables" / name, index=index)

    def matrix(self, df: pd.DataFrame, name: str) -> Path:
        """A large numeric table (e.g. genes x patients): Parquet only, index kept."""
        path = self.dir / "tables" / f"{name}.parquet"
        frame = df.copy()
        frame.columns = [str(c) for c in frame.columns]
        return atomic_write(path, lambda p: frame.to_parquet(p, index=True))

    def figure(self, fig: Any, name: str) -> list[Path]:
        from radiogenomics.utils.figures import save_figure

        return save_figure(fig, self.dir / "figures" / name)

    def json(self, obj: Any, name: str) -> Path:
        return write_json(self.dir / f"{name}.json", obj)

    @property
    def models_dir(self) -> Path:
        d = self.dir / "models"
        d.mkdir(parents=True, exist_ok=True)
        return d

    def note(self, text: str) -> None:
        """A remark for the report (e.g. a trait left out and why)."""
        self.notes.append(text)
        self.log.warning("%s: %s", self.stage, text)

    # reading upstream (published) and this stage's own work (staging) -------------------------
    def done(self, stage: str) -> bool:
        return self.folder.done(stage)

    def stage_dir(self, stage: str) -> Path:
        return self.dir if stage == self.stage else self.folder.stage_dir(stage)

    def reads_load(self, part: str) -> bool:
        """Whether this stage declared that part of the load outputs (:data:`LOAD_PARTS`)."""
        return self.load_parts is None or part in self.load_parts

    def load_file(self, rel: str) -> Path:
        """A load output by its path in the stage folder; one the stage did not declare (and
        so does not fingerprint) is refused."""
        if self.stage != "load" and self.load_parts is not None:
            allowed = {f for part in self.load_parts for f in LOAD_PARTS[part]}
            if rel not in allowed:
                raise UndeclaredSettingError(
                    f"stage {self.stage!r} reads the load output {rel!r}, which is not in its"
                    f" declared load_parts {self.load_parts} (add the part to its Stage)"
                )
        return self.stage_dir("load") / rel

    def has_table(self, stage: str, name: str) -> bool:
        if stage == "load":
            self.load_file(f"tables/{name}.parquet")
        return self.folder.has_table(stage, name, staging=stage == self.stage)

    def read(self, stage: str, name: str, index: str | None = None) -> pd.DataFrame:
        """A table of a stage (this stage's own: from its staging folder)."""
        if stage == "load":
            self.load_file(f"tables/{name}.parquet")
        return self.folder.table(stage, name, index=index, staging=stage == self.stage)

    # units -----------------------------------------------------------------------------------
    def unit_done(self, key: str) -> bool:
        return self.folder.unit_done(self.stage, key)

    def mark_unit(self, key: str, info: dict[str, Any] | None = None) -> None:
        self.folder.mark_unit(self.stage, key, info)
        fault = os.environ.get("RADIOGENOMICS_FAULT_AFTER_UNIT")
        if fault and fault == f"{self.stage}:{key}":  # fault injection for resume tests
            self.log.error("injected fault after unit %s:%s", self.stage, key)
            os._exit(17)
