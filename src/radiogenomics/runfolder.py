"""The run folder: its layout, written and read in this one module.

``<out>/<name>/<stage>/`` holds a stage's tables (Parquet + CSV), figures, models and
``manifest.json``: what the stage was computed from (the settings it reads, the SHA-256 of its
input files, the output hashes of the stages upstream, the seed) and what it wrote (SHA-256 of
every output), with package versions and timings. Inside a stage, finished *units* (a trait, a
repetition) are recorded so an interrupted stage resumes without redoing them.

Nothing finished is lost: a stage runs in ``.staging/<stage>/`` and replaces its old folder only
when it succeeded (:meth:`RunFolder.publish`, journalled, so a kill in the middle of the swap is
completed by the next run). One process at a time works on a run folder (:meth:`RunFolder.lock`).

The pipeline writes through this module and the report, the demo's recovery table and every stage
that reads another stage's outputs read through it; it imports nothing from either.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.utils.io import read_json, read_table, writable_folder, write_json

MANIFEST = "manifest.json"
UNITS = ".units"
STAGING = ".staging"  # stages at work: <run>/.staging/<stage>/
LOCK = ".lock"
_JOURNAL = ".publishing-{stage}.json"  # written before a swap, removed after it
# utils.io.atomic_write's temporary for <name>: mkstemp's ".<name>.<8 random chars>.tmp"
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")
_JOURNAL_NAME = re.compile(r"\.publishing-.+\.json")
_CONFIG_FILES = ("config.toml", "config.json")  # the effective config, written by each run
_BUSY = (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK)  # what flock gives for a held lock
# Files that feed downstream stages; figures and CSV copies do not (figures embed dates).
_HASHED_FOR_DOWNSTREAM = {".parquet", ".json", ".safetensors", ".npy", ".npz", ".gmt", ".txt"}
_PACKAGES = (
    "radiogenomics",
    "numpy",
    "scipy",
    "pandas",
    "pyarrow",
    "torch",
    "scikit-learn",
    "xgboost",
    "xgboost-cpu",
    "lifelines",
    "matplotlib",
    "seaborn",
    "pydantic",
    "jinja2",
    "safetensors",
)


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_path(path: str | os.PathLike) -> str:
    """Hash of a file, or of every file under a folder (relative names and contents)."""
    p = Path(path)
    if p.is_file():
        return sha256_file(p)
    h = hashlib.sha256()
    for f in sorted(q for q in p.rglob("*") if q.is_file()):
        h.update(str(f.relative_to(p)).encode())
        h.update(sha256_file(f).encode())
    return h.hexdigest()


def sha256_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


class RunFolderBusy(InputError):
    """Another live process holds the run folder's lock."""


class RunFolder:
    """``<out>/<name>``: stage folders, the effective config, the log and the lock."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        self._lock_fd: int | None = None
        self._as_recovered: dict[str, Path] = {}  # see as_recovered()

    def ensure_writable(self) -> None:
        """Create the run folder and prove it is writable, or fail with a clear message (of two
        runs starting at once, the second is then refused by the lock, saying who holds it)."""
        writable_folder(
            self.root,
            field="out",
            what="run folder",
            expected="a writable folder (set `out` in the config or --out)",
        )

    # the lock ----------------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[dict[str, Any]]:
        """Hold the run folder for this process; refuse at once when another live one holds it.

        An advisory ``flock`` on ``<run>/.lock``: the kernel releases it when its holder dies
        (even by SIGKILL), so a lock left by a killed run is taken over. The file names the
        holder (pid, host, command) for the message a second run prints. Yields what the lock
        file said before (the previous holder, if any).
        """
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise InputError(
                f"cannot open the run folder's lock file: {err.strerror or err}",
                file=path,
                expected="a file the run can write (remove what is there; no run holds it)",
            ) from None
        try:
            _flock_patiently(fd, fcntl.LOCK_EX)
        except OSError as err:
            os.close(fd)
            if err.errno not in _BUSY:
                raise
            holder = self.lock_holder() or {}
            raise RunFolderBusy(
                "the run folder is in use by process "
                f"{holder.get('pid', '?')} on host {holder.get('host', '?')} "
                f"(started {holder.get('started', '?')}: {holder.get('command', '?')})",
                file=self.root,
                expected="one run at a time per run folder: wait for it to finish, stop it, "
                "or give this run another --name",
            ) from None
        previous = self.lock_holder()
        me = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": " ".join(sys.argv)[:300],
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(me) + "\n").encode(), 0)
        self._lock_fd = fd
        try:
            yield previous or {}
        finally:
            self._lock_fd = None
            try:
                os.ftruncate(fd, 0)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def in_use(self) -> dict[str, Any] | None:
        """The holder of the lock when a run holds the folder now: a process on this host that
        holds the ``flock``, or any holder on another host (whose locks may not be visible
        from here). None when free, or when the process named in the file is gone or no longer
        holds the lock (its pid may since have gone to an unrelated process)."""
        holder = self.lock_holder()
        if not holder:
            return None
        if holder.get("host") != socket.gethostname():
            return holder
        held = self._lock_is_held()
        if held is not None:
            return holder if held else None
        try:  # the lock file cannot be opened for the test: whether its process lives
            os.kill(int(holder.get("pid", -1)), 0)
        except ProcessLookupError:
            return None
        except (PermissionError, ValueError, TypeError):
            return holder  # a live process of another user, or a lock file we cannot read
        return holder

    def _lock_is_held(self) -> bool | None:
        """Whether some process holds the lock now (None when the file cannot be tested). A
        shared lock taken and dropped at once: a run starting in that instant waits for it
        (:func:`_flock_patiently`) instead of being refused."""
        try:
            fd = os.open(self.root / LOCK, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError as err:
            return True if err.errno in _BUSY else None
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        finally:
            os.close(fd)

    def lock_holder(self) -> dict[str, Any] | None:
        """What the lock file says about its last holder (None when empty or absent)."""
        try:
            text = (self.root / LOCK).read_text().strip()
            return json.loads(text) if text else None
        except (OSError, json.JSONDecodeError):
            return None

    # layout -------------------------------------------------------------------------------------
    def stage_dir(self, stage: str) -> Path:
        """The published folder of a stage (what every reader sees)."""
        return self._as_recovered.get(stage) or self.root / stage

    def staging_dir(self, stage: str) -> Path:
        """Where a stage at work writes; published by :meth:`publish` when it succeeded."""
        return self.root / STAGING / stage

    def _dir(self, stage: str, staging: bool) -> Path:
        return self.staging_dir(stage) if staging else self.stage_dir(stage)

    def manifest_path(self, stage: str) -> Path:
        return self.stage_dir(stage) / MANIFEST

    def manifest(self, stage: str, staging: bool = False) -> dict[str, Any] | None:
        path = self._dir(stage, staging) / MANIFEST
        if not path.is_file():
            return None
        try:
            return read_json(path)
        except (OSError, json.JSONDecodeError):
            return None

    def write_manifest(self, stage: str, manifest: dict[str, Any], staging: bool = False) -> None:
        write_json(self._dir(stage, staging) / MANIFEST, manifest)

    def done(self, stage: str) -> bool:
        m = self.manifest(stage)
        return bool(m) and m.get("status") == "done"

    # reading outputs (published, or a stage's own work in staging) ------------------------------
    def table_path(self, stage: str, name: str, staging: bool = False) -> Path:
        return self._dir(stage, staging) / "tables" / f"{name}.parquet"

    def has_table(self, stage: str, name: str, staging: bool = False) -> bool:
        return self.table_path(stage, name, staging).is_file()

    def table(
        self, stage: str, name: str, index: str | None = None, staging: bool = False
    ) -> pd.DataFrame:
        """A stage's table; ``index`` names the column that becomes the index."""
        df = read_table(self._dir(stage, staging) / "tables" / name)
        if index is not None and df.index.name != index:
            df = df.set_index(index)
        return df

    def table_names(self, stage: str, pattern: str = "*") -> list[str]:
        """Names of a stage's tables matching a glob ``pattern`` (sorted; [] when none)."""
        d = self.stage_dir(stage) / "tables"
        return sorted(p.stem for p in d.glob(f"{pattern}.parquet")) if d.is_dir() else []

    def table_if_done(self, stage: str, name: str) -> pd.DataFrame | None:
        """A table of a finished stage, or None (stage not done or table absent)."""
        if not (self.done(stage) and self.has_table(stage, name)):
            return None
        return self.table(stage, name)

    def figures(self, stage: str) -> list[Path]:
        d = self.stage_dir(stage) / "figures"
        return sorted(d.glob("*.png")) if d.is_dir() else []

    def config(self) -> dict[str, Any]:
        """The effective study configuration the last run wrote (``config.json``)."""
        p = self.root / "config.json"
        return read_json(p) if p.is_file() else {}

    def truth(self) -> dict[str, Any] | None:
        """The synthetic cohort's planted links (``cohort/truth.json``), when there is one."""
        p = self.root / "cohort" / "truth.json"
        return read_json(p) if p.is_file() else None

    # hashing outputs ----------------------------------------------------------------------------
    def _output_files(self, stage: str, staging: bool = False) -> dict[str, Path]:
        """Every file a stage wrote, by its path relative to the stage folder (manifest and
        units aside)."""
        d = self._dir(stage, staging)
        out = {}
        for f in sorted(q for q in d.rglob("*") if q.is_file()):
            rel = f.relative_to(d)
            if rel.parts[0] in (MANIFEST, UNITS) or f.name.startswith("."):
                continue
            out[rel.as_posix()] = f
        return out

    def outputs(self, stage: str, staging: bool = False) -> dict[str, str]:
        """SHA-256 of every file a stage wrote (relative to its folder), manifest and units aside."""
        return {rel: sha256_file(f) for rel, f in self._output_files(stage, staging).items()}

    @staticmethod
    def output_hash(outputs: dict[str, str]) -> str:
        keep = {k: v for k, v in outputs.items() if Path(k).suffix in _HASHED_FOR_DOWNSTREAM}
        return sha256_json(keep)

    def damaged_outputs(self, stage: str, manifest: dict[str, Any]) -> dict[str, str]:
        """The outputs a stage's manifest records that are no longer as it wrote them:
        ``{relative path: "missing" | "changed"}`` (each file's SHA-256 against the manifest's,
        so a table edited, truncated or replaced in place is found, not used)."""
        d = self.stage_dir(stage)
        damaged = {}
        for rel, digest in (manifest.get("outputs") or {}).items():
            f = d / rel
            if not f.is_file():
                damaged[rel] = "missing"
            elif sha256_file(f) != digest:
                damaged[rel] = "changed"
        return damaged

    # staging and publishing ---------------------------------------------------------------------
    def open_staging(self, stage: str, key: str) -> bool:
        """Prepare ``.staging/<stage>`` for work identified by ``key`` (the fingerprint).

        Returns True when an earlier, interrupted attempt at the same work is there to resume
        (its finished units are kept); any other staging content is discarded. The published
        folder is not touched.
        """
        d = self.staging_dir(stage)
        stamp = d / ".key"
        if d.is_dir() and stamp.is_file() and stamp.read_text() == key:
            return True
        if d.exists():
            shutil.rmtree(d)
        d.mkdir(parents=True)
        stamp.write_text(key)
        return False

    def open_staging_key(self, stage: str) -> str | None:
        """The work key of an interrupted attempt left in staging (None when there is none)."""
        stamp = self.staging_dir(stage) / ".key"
        if stage in self._as_recovered:
            return None  # published by the recovery
        return stamp.read_text() if stamp.is_file() else None

    def discard_staging(self, stage: str) -> None:
        d = self.staging_dir(stage)
        if d.exists():
            shutil.rmtree(d)

    def publish(self, stage: str) -> None:
        """Replace the stage's published folder by its staging folder.

        Two renames with a journal written before them: a kill between the renames leaves the
        journal, and :meth:`recover` (run at the start of every run) completes the swap, so a
        reader never finds a stage half-replaced once the folder is recovered.
        """
        journal = self.root / _JOURNAL.format(stage=stage)
        write_json(journal, {"stage": stage})
        self._swap(stage)
        journal.unlink()

    def _swap(self, stage: str) -> None:
        new, live = self.staging_dir(stage), self.stage_dir(stage)
        old = self.root / STAGING / f"{stage}.old"
        if new.is_dir():
            if live.exists():
                if old.exists():
                    shutil.rmtree(old)
                live.rename(old)
            _fault_point(f"publish:{stage}")
            new.rename(live)
            (live / ".key").unlink(missing_ok=True)
        if old.exists():
            shutil.rmtree(old)

    def remove_stale_temporaries(self) -> list[Path]:
        """Remove the temporaries of atomic writes that a killed run (SIGKILL, a lost machine)
        left behind; returns them.

        Only while this process holds the lock, and only files the lock holder alone writes:
        everything in the staging area, the run's configuration and publishing journals in its
        root, and the stages' manifests. No other process writes them meanwhile (work units
        return their results to the process that holds the lock), so each such temporary is
        stale. Left in a stage's staging folder, one was kept by a resumed attempt and then
        published with the stage's outputs.
        """
        if self._lock_fd is None:
            raise RuntimeError("remove_stale_temporaries needs the run folder's lock")
        found = []
        staging = self.root / STAGING
        if staging.is_dir():
            found += [p for p in staging.rglob(".*.tmp") if _TEMPORARY.fullmatch(p.name)]
        for p in self.root.glob(".*.tmp"):
            m = _TEMPORARY.fullmatch(p.name)
            if m and (m["name"] in _CONFIG_FILES or _JOURNAL_NAME.fullmatch(m["name"])):
                found.append(p)
        found += [p for p in self.root.glob(f"*/.{MANIFEST}.*.tmp") if _TEMPORARY.fullmatch(p.name)]
        removed = []
        for p in found:
            if p.is_file() and not p.is_symlink():
                p.unlink(missing_ok=True)
                removed.append(p)
        return removed

    def recover(self) -> list[str]:
        """Complete the swaps a killed run left half done; returns the stages recovered."""
        done = []
        for journal in sorted(self.root.glob(_JOURNAL.format(stage="*"))):
            try:
                stage = read_json(journal)["stage"]
            except (OSError, json.JSONDecodeError, KeyError):
                journal.unlink(missing_ok=True)
                continue
            self._swap(stage)
            journal.unlink()
            done.append(stage)
        return done

    @contextmanager
    def as_recovered(self) -> Iterator[None]:
        """Read the folder as :meth:`recover` will leave it, changing nothing (for a plan): a
        stage whose swap a killed run left half done reads from the folder it is publishing."""
        for journal in self.root.glob(_JOURNAL.format(stage="*")):
            try:
                stage = read_json(journal)["stage"]
            except (OSError, ValueError, KeyError, TypeError):
                continue
            if self.staging_dir(stage).is_dir():
                self._as_recovered[stage] = self.staging_dir(stage)
        try:
            yield
        finally:
            self._as_recovered = {}

    # units: finished pieces of work inside a stage at work --------------------------------------
    def unit_path(self, stage: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in key)
        return self.staging_dir(stage) / UNITS / f"{safe}.json"

    def unit_done(self, stage: str, key: str) -> bool:
        """Whether a unit finished and its files are still as it wrote them (a unit whose
        record is unreadable, or whose files were deleted or changed, is computed again)."""
        record = _read_unit(self.unit_path(stage, key))
        return record is not None and record["unit"] == key and self._unit_intact(stage, record)

    def _unit_intact(self, stage: str, record: dict[str, Any]) -> bool:
        d = self.staging_dir(stage)
        return all(
            (d / rel).is_file() and sha256_file(d / rel) == digest
            for rel, digest in (record.get("files") or {}).items()
        )

    def mark_unit(self, stage: str, key: str, info: dict[str, Any] | None = None) -> None:
        """Record a finished unit with the SHA-256 of the files it wrote: those in staging that
        no other unit's record claims."""
        path = self.unit_path(stage, key)
        claimed: set[str] = set()
        d = self.staging_dir(stage) / UNITS
        for p in d.glob("*.json") if d.is_dir() else ():
            record = _read_unit(p)
            if record is not None and p != path:
                claimed.update(record.get("files") or {})
        files = {
            rel: sha256_file(f)
            for rel, f in self._output_files(stage, staging=True).items()
            if rel not in claimed
        }
        write_json(path, {"unit": key, **(info or {}), "files": files})

    def units(self, stage: str) -> list[str]:
        """The finished units of the attempt in staging whose files are intact."""
        d = self.staging_dir(stage) / UNITS
        if not d.is_dir():
            return []
        records = (_read_unit(p) for p in d.glob("*.json"))
        return sorted(r["unit"] for r in records if r is not None and self._unit_intact(stage, r))


def _read_unit(path: Path) -> dict[str, Any] | None:
    """A unit's record, or None when it is absent or unreadable (e.g. truncated)."""
    try:
        record = read_json(path)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and isinstance(record.get("unit"), str) else None


def _fault_point(name: str) -> None:
    """Fault injection for the tests of kills at awkward moments (``RADIOGENOMICS_FAULT_AT``)."""
    if os.environ.get("RADIOGENOMICS_FAULT_AT") == name:
        os._exit(17)


def describe_os_error(err: OSError, where: str | os.PathLike) -> str:
    """A one-line explanation of a failed write that says what to do (and names the file
    when the error does)."""
    file = f" ({err.filename})" if err.filename else ""
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return (
            f"the disk is full while writing under {where}{file}: "
            "free space and run again to resume"
        )
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied while writing under {where}{file}: make the run folder writable"
    return f"could not write under {where}: {err.strerror or err}{file}"


_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


def stage_os_error(err: OSError, where: str | os.PathLike, stage: str) -> InputError:
    """The error to report for an OSError raised by a stage's own work (reading its inputs,
    its units, writing its outputs), as one line that names the file.

    Unlike the run's own bookkeeping, which only writes, such an error is often not a write
    (a unit reading a file that is gone): it is worded as one only when it is (the disk full,
    a file under the run folder not writable); otherwise it names the file and the system's
    reason, with the work unit that raised when an executor ran it.
    """
    cause = err.cause if isinstance(getattr(err, "cause", None), OSError) else err  # Ray's
    file = cause.filename
    inside = file is None or _is_under(file, where)
    if cause.errno in (errno.ENOSPC, errno.EDQUOT) and not inside:
        return InputError(
            f"stage {stage!r} failed: the disk is full while writing this file: free space"
            " and run again to resume",
            file=file,
        )
    if inside and cause.errno in _WRITE_ERRNOS:
        return InputError(describe_os_error(cause, where), file=where)
    reason = cause.strerror or str(cause) or type(cause).__name__
    # the executors name the unit that raised in a note (on Ray's wrapper, not its cause)
    notes = [n for n in getattr(err, "__notes__", ()) if isinstance(n, str)]
    return InputError(
        f"stage {stage!r} failed: {reason}" + "".join(f" {n}" for n in notes),
        file=file if file is not None else where,
    )


def _is_under(file: Any, folder: str | os.PathLike) -> bool:
    """Whether ``file`` (an OSError's filename) lies in ``folder``."""
    try:
        Path(os.fsdecode(file)).resolve().relative_to(Path(folder).resolve())
    except (TypeError, ValueError, OSError):
        return False
    return True


def _flock_patiently(fd: int, kind: int, tries: int = 10, pause: float = 0.05) -> None:
    """``flock(fd, kind)`` without blocking, tried a few times over half a second: `check`
    tests the lock by holding it for an instant, which must not refuse a run starting then."""
    for attempt in range(tries):
        try:
            fcntl.flock(fd, kind | fcntl.LOCK_NB)
            return
        except OSError as err:
            if err.errno not in _BUSY or attempt == tries - 1:
                raise
            time.sleep(pause)
