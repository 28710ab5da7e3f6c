"""Run a study as a sequence of stages over a run folder, skipping what is already done."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from radiogenomics import __version__
from radiogenomics.config import STAGES, StudyConfig, enabled_key, to_toml
from radiogenomics.data._common import shown
from radiogenomics.errors import ExecutionError, InputError
from radiogenomics.pipeline.contract import (
    LOAD_PARTS,
    Stage,
    StageContext,
    StageSkipped,
    declared_settings,
)
from radiogenomics.pipeline.stages import STAGE_TABLE, prepare_synthetic
from radiogenomics.runfolder import (
    RunFolder,
    describe_os_error,
    package_versions,
    sha256_json,
    sha256_path,
    stage_os_error,
)
from radiogenomics.utils.io import atomic_write, write_json

LOGGER_NAME = "radiogenomics.pipeline"
_SET_ASIDE = ("disabled", "not-run")
MAX_NOTES = 8  # warnings shown per stage in the report (all of them go to run.log)
#: The run folder's effective configuration, as the last run that finished a stage wrote it.
_CONFIG_FILES = ("config.toml", "config.json")


@dataclass
class StageOutcome:
    stage: str
    status: str  # done, skipped (up to date), disabled, not-run (skipped: needs ...), failed
    seconds: float = 0.0
    reason: str = ""


@dataclass
class StagePlan:
    """What a run would do with one stage, and why (``radiogenomics check`` prints it)."""

    stage: str
    action: str  # "skip" (up to date), "run", "resume", "disabled", "not-run", "after upstream"
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
    log.setLevel(logging.DEBUG)
    for h in list(log.handlers):
        log.removeHandler(h)
        h.close()
    log.propagate = False
    fh = logging.FileHandler(run_dir / "run.log", encoding="utf-8")
    fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    fh.setLevel(logging.DEBUG)  # tracebacks go to run.log only
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

    # fingerprints -------------------------------------------------------------------------------
    def fingerprint(
        self, name: str, assumed: dict[str, dict[str, Any]] | None = None
    ) -> dict[str, Any]:
        """What a stage's results are a function of: the settings it reads, its input files,
        its upstream stages' outputs, the seed, the package version and the stage's revision.
        ``assumed``: upstream manifests as a run would leave them (for :meth:`plan`)."""
        st = self.stages[name]
        inputs = self._input_hashes(name)
        upstream = {}
        for u in (*st.requires, *st.uses):
            m = (assumed or {}).get(u) or self.folder.manifest(u)
            if m is None or m.get("status") not in ("done", "disabled", "not-run"):
                upstream[u] = "missing"
            elif u == "load" and st.load_parts is not None:
                upstream[u] = _load_parts_hash(m, st.load_parts)
            else:
                upstream[u] = m.get("output_hash") or m["status"]
        body = {
            "stage": name,
            "version": __version__,
            "seed": self.cfg.seed,
            "settings": declared_settings(self.cfg, st.reads),
            "inputs": inputs,
            "upstream": upstream,
        }
        if st.revision > 1:
            body["revision"] = st.revision
        return {**body, "hash": sha256_json(body)}

    def _input_hashes(self, name: str) -> dict[str, str]:
        st = self.stages[name]
        files = st.inputs(self.cfg) if st.inputs else {}
        return {k: sha256_path(p) if p.exists() else "missing" for k, p in files.items()}

    def _reusable(self, name: str) -> dict[str, Any] | None:
        """The finished results a stage has on disk (its manifest), set aside ones included."""
        old = self.folder.manifest(name)
        if old and old.get("status") in ("disabled", "not-run") and old.get("previous"):
            old = old["previous"]  # re-enabled: its earlier results may still be valid
        return old

    def _up_to_date(self, name: str, fp: dict[str, Any], unknown: list[str] | None = None) -> bool:
        """Whether the stage's finished results match ``fp``; ``unknown``: upstream stages that
        will run first (for :meth:`plan`), taken to leave the outputs this stage was made from
        (a rerun stage whose manifest was lost reads as "missing" until then)."""
        old = self._reusable(name)
        if not old or old.get("status") != "done":
            return False
        if unknown:
            was = old.get("upstream") or {}
            body = {k: v for k, v in fp.items() if k != "hash"}
            body["upstream"] = {**fp["upstream"], **{u: was[u] for u in unknown if u in was}}
            fp = {**fp, "hash": sha256_json(body)}
        return old.get("fingerprint", {}).get("hash") == fp["hash"] and not (
            self.folder.damaged_outputs(name, old)
        )

    def plan(self, stage: str | None = None, until: str | None = None) -> list[StagePlan]:
        """What :meth:`run` would do with each selected stage now, without running anything.

        A stage downstream of one that will run is "after upstream": whether it reruns depends
        on whether the upstream outputs change. The folder is read as the run will find it
        after completing any swap of outputs a killed run left half done.
        """
        with self.folder.as_recovered():
            return self._plan(self.select(stage, until))

    def _plan(self, selected: list[str]) -> list[StagePlan]:
        out: list[StagePlan] = []
        pending: set[str] = set()
        # the manifests the run will leave, as far as known before running: a stage set aside
        # is "disabled" / "not-run", a skipped one is its reusable results (set-aside ones too)
        assumed: dict[str, dict[str, Any]] = {}
        for name in self.stages:
            if name not in selected:
                continue
            st = self.stages[name]
            if not self.cfg.stage_enabled(name):
                assumed[name] = {"status": "disabled"}
                out.append(StagePlan(name, "disabled", _disabled(name)))
                continue
            off = [u for u in st.requires if assumed.get(u, {}).get("status") in _SET_ASIDE]
            if off:
                assumed[name] = {"status": "not-run"}
                out.append(
                    StagePlan(name, "not-run", f"needs stage {off[0]!r}, which will not run")
                )
                continue
            reason = st.skip_reason(self.cfg)
            if reason:
                assumed[name] = {"status": "not-run"}
                out.append(StagePlan(name, "not-run", reason))
                continue
            fp = self.fingerprint(name, assumed)
            waits = [u for u in (*st.requires, *st.uses) if u in pending]
            if self._up_to_date(name, fp, unknown=waits):
                assumed[name] = self._reusable(name)
                if waits:  # reruns if what it reads from them changes
                    pending.add(name)
                    out.append(StagePlan(name, "after upstream", "upstream: " + ", ".join(waits)))
                else:
                    out.append(StagePlan(name, "skip", "up to date"))
                continue
            pending.add(name)
            old = self._reusable(name)
            if self.folder.open_staging_key(name) == fp["hash"]:
                n = len(self.folder.units(name))
                why = f"{n} finished units kept" if n else "no unit had finished"
                out.append(StagePlan(name, "resume", f"an interrupted attempt: {why}"))
            elif not old and self.folder.manifest_path(name).is_file():
                out.append(StagePlan(name, "run", "its manifest.json is unreadable"))
            elif not old or old.get("status") != "done":
                out.append(StagePlan(name, "run", "never finished"))
            else:
                out.append(StagePlan(name, "run", self._why_rerun(name, old, fp)))
        return out

    def _why_rerun(self, name: str, old: dict[str, Any], fp: dict[str, Any]) -> str:
        """Why a finished stage is not up to date: what changed in its fingerprint, or which
        of its outputs are missing or no longer as written."""
        if old.get("fingerprint", {}).get("hash") != fp["hash"]:
            return _what_changed(old, fp)
        damaged = self.folder.damaged_outputs(name, old)
        return "; ".join(
            f"outputs {kind} since written: {shown([f for f, k in damaged.items() if k == kind])}"
            for kind in ("missing", "changed")
            if kind in damaged.values()
        )

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
                # --until the stage asked for: it runs every stage it needs, however many
                expected=f"run the study up to it: radiogenomics run {self._config_name()} --until {name}",
            )
        return None

    def _config_name(self) -> str:
        """The study file as the advice in an error should name it."""
        return str(self.cfg.source) if self.cfg.source else "CONFIG"

    def write_effective_config(self) -> dict[str, bytes | None]:
        """Write ``config.toml`` / ``config.json``; returns what they held before (None: absent)
        for :meth:`restore_config`."""
        before = {}
        for fname in _CONFIG_FILES:
            path = self.folder.root / fname
            before[fname] = path.read_bytes() if path.is_file() else None
        eff = self.cfg.effective()
        atomic_write(self.folder.root / "config.toml", lambda p: p.write_text(to_toml(eff)))
        write_json(self.folder.root / "config.json", eff)
        return before

    def restore_config(self, before: dict[str, bytes | None]) -> None:
        """Put back the configuration files a run that finished nothing had replaced: they
        describe the results in the folder, not a refused attempt."""
        for fname, data in before.items():
            path = self.folder.root / fname
            if data is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, lambda p, data=data: p.write_bytes(data))

    # running ------------------------------------------------------------------------------------
    def run(
        self, stage: str | None = None, until: str | None = None, force: bool = False
    ) -> list[StageOutcome]:
        """Run the selected stages in order; returns what happened to each.

        Holds the run folder's lock throughout (a second run on it refuses at once) and first
        completes any output swap a killed run left half done.
        """
        selected = self.select(stage, until)
        self.folder.ensure_writable()
        with self.folder.lock() as previous, _terminate_as_interrupt():
            return self._run_locked(selected, force, previous, alone=stage)

    def _ancestors(self, name: str) -> list[str]:
        """Every stage whose outputs ``name`` reads, directly or through others, in run order."""
        found: set[str] = set()
        todo = [name]
        while todo:
            st = self.stages[todo.pop()]
            for u in (*st.requires, *st.uses):
                if u not in found:
                    found.add(u)
                    todo.append(u)
        return [s for s in self.stages if s in found]

    def _refuse_stale_upstream(self, name: str) -> None:
        """``--stage NAME`` alone must not read upstream results that the config no longer
        describes (e.g. classifiers trained with other settings): the stage and the report
        would present them as this config's. Raises naming each stale stage and why."""
        stale = []
        for u in self._ancestors(name):
            old = self._reusable(u)
            if not self.cfg.stage_enabled(u) or not old or old.get("status") != "done":
                continue  # disabled or never finished: _upstream_problem words those
            fp = self.fingerprint(u)
            if not self._up_to_date(u, fp):
                stale.append(f"{u} ({self._why_rerun(u, old, fp)})")
        if stale:
            raise InputError(
                f"stage {name!r} would read results the config no longer describes: "
                + "; ".join(stale),
                field="--stage",
                expected=f"those stages rerun first: radiogenomics run {self._config_name()} --until {name}",
            )

    def _run_locked(
        self, selected: list[str], force: bool, previous: dict[str, Any], alone: str | None
    ) -> list[StageOutcome]:
        import matplotlib

        matplotlib.use("Agg")  # the study writes figures to files, never to a screen
        quiet = self.cfg.quiet
        log = setup_logging(self.folder.root, quiet)
        outcomes: list[StageOutcome] = []
        threads_before = None
        if self.cfg.threads:
            import torch

            threads_before = torch.get_num_threads()
            torch.set_num_threads(self.cfg.threads)
        try:
            if previous.get("pid"):
                log.debug("lock taken over from process %s (no longer running)", previous["pid"])
            stale = self.folder.remove_stale_temporaries()
            if stale:
                log.info("removed %d temporary files a killed run left", len(stale))
            for s in self.folder.recover():
                log.info("stage %s: completed the swap of its outputs a killed run left", s)
            before = self.write_effective_config()
            log.info("study %s -> %s", self.cfg.name, self.folder.root)
            try:
                prepare_synthetic(self.cfg, self.folder, log)  # data.root may point there now
                if alone is not None:
                    self._refuse_stale_upstream(alone)
                for name in self.stages:
                    if name not in selected:
                        continue
                    outcomes.append(self._run_one(name, force, log, quiet))
            except BaseException:
                if not any(o.status == "done" for o in outcomes):
                    self.restore_config(before)
                raise
        except ConnectionError as err:  # the executor's cluster did not answer: no write failed
            log.debug("%s", traceback.format_exc())
            log.error("%s", err)
            raise InputError(str(err), field="executor.address") from None
        except OSError as err:
            log.debug("%s", traceback.format_exc())
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

    def _set_aside(self, name: str, status: str, reason: str) -> None:
        """Record a stage that does not run now; its finished results stay for later reuse."""
        old = self.folder.manifest(name)
        if old and old.get("status") == status and old.get("reason") == reason:
            return
        if old and old.get("status") in ("disabled", "not-run"):
            old = old.get("previous")
        previous = old if old and old.get("status") == "done" else None
        self.folder.write_manifest(
            name, {"stage": name, "status": status, "reason": reason, "previous": previous}
        )

    def _run_one(self, name: str, force: bool, log: logging.Logger, quiet: bool) -> StageOutcome:
        st = self.stages[name]
        if not self.cfg.stage_enabled(name):
            why = _disabled(name)
            self._set_aside(name, "disabled", why)
            log.info("stage %s: disabled (%s)", name, why)
            return StageOutcome(name, "disabled", reason=why)
        problem = self._upstream_problem(name)
        if problem is not None:
            status, reason = problem
            self._set_aside(name, status, reason)
            log.info("stage %s: not run, %s", name, reason)
            return StageOutcome(name, status, reason=reason)
        reason = st.skip_reason(self.cfg)
        if reason:
            self._set_aside(name, "not-run", reason)
            log.info("stage %s: not run, %s", name, reason)
            return StageOutcome(name, "not-run", reason=reason)
        fp = self.fingerprint(name)
        if not force and self._up_to_date(name, fp):
            # an attempt at other work (e.g. a failed run on a broken input since fixed) is
            # stale: the published results are what this config asks for
            self.folder.discard_staging(name)
            self.folder.write_manifest(name, self._reusable(name))
            log.info("stage %s: up to date, skipped", name)
            return StageOutcome(name, "skipped", reason="up to date")
        if force:
            self.folder.discard_staging(name)
        if self.folder.open_staging(name, fp["hash"]):
            done_units = self.folder.units(name)
            if done_units:
                log.info("stage %s: resuming, %d units already done", name, len(done_units))
        manifest: dict[str, Any] = {
            "stage": name,
            "status": "running",
            "description": st.description,
            "fingerprint": {"hash": fp["hash"]},
            "revision": st.revision,
            "settings": fp["settings"],
            "inputs": fp["inputs"],
            "upstream": fp["upstream"],
            "seed": self.cfg.seed,
            "versions": package_versions(),
            "started": _now(),
        }
        ctx = StageContext(
            name,
            self.cfg,
            self.folder,
            log,
            reads=st.reads,
            files=st.inputs(self.cfg) if st.inputs else {},
            quiet=quiet,
            load_parts=st.load_parts,
        )
        t0 = time.perf_counter()
        c0 = _cpu_seconds()
        try:  # from here on, whatever stops the stage is recorded in its attempt's manifest
            self.folder.write_manifest(name, manifest, staging=True)
            old = self._reusable(name)
            why = (
                ""
                if force or not old or old.get("status") != "done"
                else self._why_rerun(name, old, fp)
            )
            log.info("stage %s: running%s", name, f" ({why})" if why else "")
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                summary = st.run(ctx) or {}
            _notes_from_warnings(ctx, caught, log)
            # the fingerprint hashed the inputs before the stage read them: results read from
            # an input edited meanwhile would be recorded as made from the earlier version
            now = self._input_hashes(name)
            edited = sorted(k for k in now if now[k] != fp["inputs"].get(k))
            if edited:
                raise InputError(
                    f"{', '.join(edited)} changed while stage {name!r} read it",
                    file=ctx.files[edited[0]],
                    expected="inputs left as they are during a run: run again",
                )
        except StageSkipped as why:
            self.folder.discard_staging(name)
            self._set_aside(name, "not-run", str(why))
            log.info("stage %s: not run, %s", name, why)
            return StageOutcome(name, "not-run", reason=str(why))
        except BaseException as err:
            seconds = time.perf_counter() - t0
            interrupted = isinstance(err, KeyboardInterrupt)
            kind = "interrupted" if interrupted else "failed"
            # the stage's own work failed on a file (an input, a unit's, an output): name it
            # and what happened, rather than blaming a write to the run folder (ConnectionError:
            # the executor's cluster, worded where the run catches it)
            failure = (
                stage_os_error(err, self.folder.root, name)
                if isinstance(err, OSError) and not isinstance(err, ConnectionError)
                else None
            )
            if isinstance(err, Terminated):
                text = "interrupted (SIGTERM)"
            elif failure is not None:
                text = str(failure)
            else:
                text = "interrupted (SIGINT or Ctrl-C)" if interrupted else _describe(err)
            manifest.update(status=kind, error=text, seconds=seconds, finished=_now())
            try:  # the published outputs and manifest stay as they were
                self.folder.write_manifest(name, manifest, staging=True)
            except OSError:
                pass
            if isinstance(err, (InputError, ExecutionError, KeyboardInterrupt, OSError)):
                log.debug("stage %s %s:\n%s", name, kind, traceback.format_exc())
                if failure is not None:
                    log.error("%s", text)
                    raise failure from None
                if not isinstance(err, OSError):  # the caller words those
                    log.error("stage %s %s: %s", name, kind, text)
            else:
                log.error("stage %s failed:\n%s", name, traceback.format_exc())
            raise
        seconds = time.perf_counter() - t0
        outputs = self.folder.outputs(name, staging=True)
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
        self.folder.write_manifest(name, manifest, staging=True)
        self.folder.publish(name)
        log.info("stage %s: done in %.1f s (CPU %.1f s)", name, seconds, manifest["cpu_seconds"])
        return StageOutcome(name, "done", seconds=seconds)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a batch scheduler) during a run: handled as Ctrl-C is,
    so the stage's attempt is recorded as interrupted and resumes on the next run."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated("SIGTERM")


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` while a run holds its folder (main thread only:
    signal handlers cannot be set elsewhere)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _load_parts_hash(manifest: dict[str, Any], parts: tuple[str, ...]) -> str:
    """The hash of the load outputs a stage reads (an absent one, e.g. no clinical table,
    counts as absent)."""
    outputs = manifest.get("outputs") or {}
    files = sorted(f for part in parts for f in LOAD_PARTS[part])
    return sha256_json({f: outputs.get(f, "absent") for f in files})


def _describe(err: BaseException) -> str:
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _notes_from_warnings(ctx: StageContext, caught: list, log: logging.Logger) -> None:
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
            log.info("%s: %s", ctx.stage, text)


_ABSENT = object()


def _changed_keys(
    before: dict[str, Any], now: dict[str, Any], prefix: str = ""
) -> list[tuple[str, str]]:
    """(dotted key, how) of the settings that differ, down to the setting
    (``autoencoder.max_epochs``, not the whole section): ``changed``, ``new`` (absent when the
    stage last ran: a setting a newer version added) or ``gone``."""
    out = []
    for k in sorted(set(before) | set(now)):
        a, b = before.get(k, _ABSENT), now.get(k, _ABSENT)
        if a == b:
            continue
        if isinstance(a, dict) and isinstance(b, dict):
            out += _changed_keys(a, b, f"{prefix}{k}.")
        else:
            how = "new" if a is _ABSENT else "gone" if b is _ABSENT else "changed"
            out.append((f"{prefix}{k}", how))
    return out


def _disabled(stage: str) -> str:
    """Why a stage does not run: the setting that switched it off (the action says the rest)."""
    return f"{enabled_key(stage)} = false"


def _what_changed(old: dict[str, Any], fp: dict[str, Any]) -> str:
    """Why a finished stage's fingerprint differs: the settings, inputs or upstream changed,
    or the stage's method was revised."""
    parts = []
    before = old.get("settings")
    if isinstance(before, dict):
        keys = _changed_keys(before, fp["settings"])
        for how, said in (
            ("changed", "settings changed"),
            ("new", "new settings, absent when it last ran"),
            ("gone", "settings no longer read"),
        ):
            named = sorted(k for k, h in keys if h == how)
            if named:
                parts.append(f"{said}: " + ", ".join(named))
    elif before is None:
        parts.append("finished by an older version")
    for key in ("inputs", "upstream"):
        was, now = old.get(key) or {}, fp[key]
        for said, named in (
            (f"{key} changed", [k for k in now if k in was and was[k] != now[k]]),
            (f"new {key}", [k for k in now if k not in was]),  # a file or stage added
            (f"{key} no longer read", [k for k in was if k not in now]),
        ):
            if named:
                parts.append(f"{said}: " + ", ".join(sorted(named)))
    was, now = old.get("revision"), fp.get("revision", 1)
    if was is not None and was != now:  # older manifests do not record it
        parts.append(f"the stage's method was revised (revision {was} -> {now})")
    if not parts:
        was_version = (old.get("versions") or {}).get("radiogenomics")
        if old.get("seed") is not None and old.get("seed") != fp["seed"]:
            parts.append(f"seed changed ({old.get('seed')} -> {fp['seed']})")
        elif was_version is not None and was_version != fp["version"]:
            parts.append(f"finished by version {was_version} (now {fp['version']})")
        else:
            parts.append("the stage's method was revised")
    return "; ".join(parts)


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
    "StagePlan",
    "StageSkipped",
    "run_study",
]
