"""Run a study as a sequence of stages over a run folder, skipping what is already done."""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from radiogenomics import __version__
from radiogenomics.config import STAGES, StudyConfig, to_toml
from radiogenomics.errors import InputError
from radiogenomics.pipeline.runfolder import (
    RunFolder,
    describe_os_error,
    package_versions,
    sha256_json,
    sha256_path,
)
from radiogenomics.utils.io import atomic_write, read_table, write_json, write_table
from radiogenomics.utils.seeding import derive_seed

LOGGER_NAME = "radiogenomics.pipeline"
MAX_NOTES = 8  # warnings shown per stage in the report (all of them go to run.log)


class StageSkipped(Exception):
    """Raised by a stage that cannot run on this study (e.g. no clinical data): not an error."""


@dataclass(frozen=True)
class Stage:
    """One step of the study.

    ``requires``: stages that must have finished (if one is disabled, this one is skipped);
    ``uses``: stages whose outputs are used when present (disabled is fine).
    ``section``: the part of the config that determines this stage's results.
    ``inputs``: the data files it reads (hashed into its fingerprint).
    """

    name: str
    run: Callable[[StageContext], dict[str, Any] | None]
    requires: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    section: Callable[[StudyConfig], Any] | None = None
    inputs: Callable[[StudyConfig], dict[str, Path]] | None = None
    description: str = ""


@dataclass
class StageContext:
    """What a stage sees: its config, its folder, upstream outputs, the executor, a logger."""

    stage: str
    cfg: StudyConfig
    folder: RunFolder
    log: logging.Logger
    quiet: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def dir(self) -> Path:
        return self.folder.stage_dir(self.stage)

    @property
    def section(self) -> Any:
        return getattr(self.cfg, self.stage, None)

    @cached_property
    def executor(self):
        from radiogenomics.execution import make_executor

        ex = self.cfg.executor
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

    @cached_property
    def device(self):
        from radiogenomics.utils.device import default_device

        return default_device(self.cfg.device)

    def seed(self, *keys: object) -> int:
        """A seed for one unit of this stage, independent of what ran before it."""
        return derive_seed(self.cfg.seed, self.stage, *keys)

    # writing ---------------------------------------------------------------------------------
    def table(self, df: pd.DataFrame, name: str, index: bool = False) -> Path:
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

    # reading upstream ------------------------------------------------------------------------
    def done(self, stage: str) -> bool:
        m = self.folder.manifest(stage)
        return bool(m) and m.get("status") == "done"

    def stage_dir(self, stage: str) -> Path:
        return self.folder.stage_dir(stage)

    def has_table(self, stage: str, name: str) -> bool:
        return (self.folder.stage_dir(stage) / "tables" / f"{name}.parquet").is_file()

    def read(self, stage: str, name: str, index: str | None = None) -> pd.DataFrame:
        """A table of a stage; ``index`` names the column that becomes the index."""
        df = read_table(self.folder.stage_dir(stage) / "tables" / name)
        if index is not None and df.index.name != index:
            df = df.set_index(index)
        return df

    # units -----------------------------------------------------------------------------------
    def unit_done(self, key: str) -> bool:
        return self.folder.unit_done(self.stage, key)

    def mark_unit(self, key: str, info: dict[str, Any] | None = None) -> None:
        self.folder.mark_unit(self.stage, key, info)
        fault = os.environ.get("RADIOGENOMICS_FAULT_AFTER_UNIT")
        if fault and fault == f"{self.stage}:{key}":  # fault injection for resume tests
            self.log.error("injected fault after unit %s:%s", self.stage, key)
            os._exit(17)


@dataclass
class StageOutcome:
    stage: str
    status: str  # done, skipped (up to date), disabled, not-run (skipped: needs ...), failed
    seconds: float = 0.0
    reason: str = ""


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def setup_logging(run_dir: Path, quiet: bool) -> logging.Logger:
    """Log to ``<run>/run.log`` always, and to the terminal (rich) unless quiet."""
    log = logging.getLogger(LOGGER_NAME)
    log.setLevel(logging.INFO)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    log.propagate = False
    fh = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(fh)
    if not quiet:
        from rich.console import Console
        from rich.logging import RichHandler

        ch = RichHandler(
            console=Console(stderr=True),
            show_path=False,
            show_time=sys.stderr.isatty(),
            markup=False,
        )
        ch.setLevel(logging.INFO)
        log.addHandler(ch)
    return log


def close_logging() -> None:
    log = logging.getLogger(LOGGER_NAME)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()


class Pipeline:
    """The stages of a study over its run folder."""

    def __init__(self, cfg: StudyConfig, stages: dict[str, Stage] | None = None):
        from radiogenomics.pipeline.stages import STAGE_TABLE

        self.cfg = cfg
        self.stages = stages if stages is not None else STAGE_TABLE
        self.folder = RunFolder(cfg.run_dir)

    def select(self, stage: str | None = None, until: str | None = None) -> list[str]:
        names = list(self.stages)
        for opt, value in (("--stage", stage), ("--until", until)):
            if value is not None and value not in self.stages:
                raise InputError(
                    f"unknown stage {value!r}", field=opt, expected=f"one of {', '.join(names)}"
                )
        if stage is not None and until is not None:
            raise InputError("give either --stage or --until, not both", field="--stage")
        if stage is not None:
            return [stage]
        if until is not None:
            return names[: names.index(until) + 1]
        return names

    def fingerprint(self, name: str) -> dict[str, Any]:
        st = self.stages[name]
        section = st.section(self.cfg) if st.section else getattr(self.cfg, name, None)
        if hasattr(section, "model_dump"):
            section = section.model_dump(mode="json")
        inputs = {}
        for key, path in (st.inputs(self.cfg) if st.inputs else {}).items():
            inputs[key] = sha256_path(path)
        upstream = {}
        for u in (*st.requires, *st.uses):
            m = self.folder.manifest(u)
            if m is None or m.get("status") not in ("done", "disabled", "not-run"):
                upstream[u] = "missing"
            else:
                upstream[u] = m.get("output_hash") or m["status"]
        body = {
            "stage": name,
            "version": __version__,
            "seed": self.cfg.seed,
            "config": section,
            "inputs": inputs,
            "upstream": upstream,
        }
        return {**body, "hash": sha256_json(body)}

    def _upstream_problem(self, name: str) -> tuple[str, str] | None:
        """('not-run', reason) when a required stage is disabled; raises when one is missing."""
        st = self.stages[name]
        for u in (*st.requires, *st.uses):
            m = self.folder.manifest(u)
            status = None if m is None else m.get("status")
            if status == "done":
                continue
            if status in ("disabled", "not-run"):
                if u in st.requires:
                    return ("not-run", f"needs stage {u!r}, which did not run ({status})")
                continue
            raise InputError(
                f"stage {name!r} needs stage {u!r}, which has not finished"
                f" (status: {status or 'never run'})",
                field="--stage",
                expected=f"run the study up to it first: radiogenomics run CONFIG --until {u}",
            )
        return None

    def write_effective_config(self) -> None:
        eff = self.cfg.effective()
        atomic_write(self.folder.root / "config.toml", lambda p: p.write_text(to_toml(eff)))
        write_json(self.folder.root / "config.json", eff)

    def run(
        self, stage: str | None = None, until: str | None = None, force: bool = False
    ) -> list[StageOutcome]:
        """Run the selected stages in order; returns what happened to each."""
        selected = self.select(stage, until)
        self.folder.ensure_writable()
        quiet = self.cfg.quiet
        log = setup_logging(self.folder.root, quiet)
        outcomes: list[StageOutcome] = []
        threads_before = None
        if self.cfg.threads:
            import torch

            threads_before = torch.get_num_threads()
            torch.set_num_threads(self.cfg.threads)
        try:
            self.write_effective_config()
            log.info("study %s -> %s", self.cfg.name, self.folder.root)
            from radiogenomics.pipeline.stages import prepare_synthetic

            prepare_synthetic(self.cfg, self.folder, log)
            for name in self.stages:
                if name not in selected:
                    continue
                outcomes.append(self._run_one(name, force, log, quiet))
        except OSError as err:
            log.error("%s", describe_os_error(err, self.folder.root))
            raise InputError(
                describe_os_error(err, self.folder.root), file=self.folder.root
            ) from None
        finally:
            close_logging()
            if threads_before is not None:
                import torch

                torch.set_num_threads(threads_before)
        return outcomes

    def _run_one(self, name: str, force: bool, log: logging.Logger, quiet: bool) -> StageOutcome:
        st = self.stages[name]
        old = self.folder.manifest(name)
        if not self.cfg.stage_enabled(name):
            if old is None or old.get("status") != "disabled":
                previous = old if old and old.get("status") == "done" else None
                self.folder.write_manifest(
                    name, {"stage": name, "status": "disabled", "previous": previous}
                )
            log.info("stage %s: disabled in the config", name)
            return StageOutcome(name, "disabled", reason="disabled in the config")
        problem = self._upstream_problem(name)
        if problem is not None:
            status, reason = problem
            self.folder.write_manifest(name, {"stage": name, "status": status, "reason": reason})
            log.info("stage %s: not run, %s", name, reason)
            return StageOutcome(name, status, reason=reason)
        fp = self.fingerprint(name)
        if old and old.get("status") == "disabled" and old.get("previous"):
            old = old["previous"]  # re-enabled: its earlier results may still be valid
        same = bool(old) and old.get("fingerprint", {}).get("hash") == fp["hash"]
        if (
            not force
            and same
            and old.get("status") == "done"
            and self.folder.outputs_intact(name, old)
        ):
            self.folder.write_manifest(name, old)
            log.info("stage %s: up to date, skipped", name)
            return StageOutcome(name, "skipped", reason="up to date")
        if force or not same:
            self.folder.clear_stage(name)  # results of another config or input: not reusable
        elif old:
            done_units = self.folder.units(name)
            if done_units:
                log.info("stage %s: resuming, %d units already done", name, len(done_units))
        manifest: dict[str, Any] = {
            "stage": name,
            "status": "running",
            "description": st.description,
            "fingerprint": {"hash": fp["hash"]},
            "config": fp["config"],
            "inputs": fp["inputs"],
            "upstream": fp["upstream"],
            "seed": self.cfg.seed,
            "versions": package_versions(),
            "started": _now(),
        }
        self.folder.write_manifest(name, manifest)
        log.info("stage %s: running", name)
        ctx = StageContext(name, self.cfg, self.folder, log, quiet=quiet)
        t0 = time.perf_counter()
        c0 = _cpu_seconds()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                summary = st.run(ctx) or {}
            seen: list[str] = []
            for w in caught:
                text = str(w.message)
                if issubclass(w.category, (DeprecationWarning, FutureWarning)) or text in seen:
                    continue
                seen.append(text)
            for text in seen[:MAX_NOTES]:
                ctx.note(text)
            if len(seen) > MAX_NOTES:
                ctx.note(f"... and {len(seen) - MAX_NOTES} more warnings (see run.log)")
                for text in seen[MAX_NOTES:]:
                    log.info("%s: %s", name, text)
        except StageSkipped as why:
            manifest.update(status="not-run", reason=str(why), finished=_now())
            self.folder.write_manifest(name, manifest)
            log.info("stage %s: not run, %s", name, why)
            return StageOutcome(name, "not-run", reason=str(why))
        except BaseException as err:
            seconds = time.perf_counter() - t0
            kind = "interrupted" if isinstance(err, KeyboardInterrupt) else "failed"
            manifest.update(status=kind, error=f"{type(err).__name__}: {err}", seconds=seconds)
            try:
                self.folder.write_manifest(name, manifest)
            except OSError:
                pass
            if not isinstance(err, (InputError, KeyboardInterrupt)):
                log.error("stage %s failed:\n%s", name, traceback.format_exc())
            else:
                log.error("stage %s %s: %s", name, kind, err)
            raise
        seconds = time.perf_counter() - t0
        outputs = self.folder.outputs(name)
        manifest.update(
            status="done",
            finished=_now(),
            seconds=round(seconds, 3),
            cpu_seconds=round(_cpu_seconds() - c0, 3),
            summary=summary,
            notes=ctx.notes,
            outputs=outputs,
            output_hash=RunFolder.output_hash(outputs),
        )
        self.folder.write_manifest(name, manifest)
        log.info("stage %s: done in %.1f s (CPU %.1f s)", name, seconds, manifest["cpu_seconds"])
        return StageOutcome(name, "done", seconds=seconds)


def run_study(
    cfg: StudyConfig,
    stage: str | None = None,
    until: str | None = None,
    force: bool = False,
) -> list[StageOutcome]:
    """Run (or resume) a study; see :class:`Pipeline`."""
    return Pipeline(cfg).run(stage=stage, until=until, force=force)


__all__ = [
    "STAGES",
    "Pipeline",
    "Stage",
    "StageContext",
    "StageOutcome",
    "StageSkipped",
    "run_study",
]
