"""The run folder: one sub-folder per stage with its tables, figures, models and manifest.

``manifest.json`` records what a stage was computed from (its config, the SHA-256 of its input
files, the output hashes of the stages upstream, the seed) and what it wrote (SHA-256 of every
output), with package versions and timings. A stage whose fingerprint is unchanged and whose
outputs are intact is skipped; inside a stage, finished *units* (a trait, a repetition) are
recorded so an interrupted stage resumes without redoing them.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import platform
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from radiogenomics.errors import InputError
from radiogenomics.utils.io import read_json, write_json

MANIFEST = "manifest.json"
UNITS = ".units"
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


class RunFolder:
    """``<out>/<name>``: stage folders, the effective config and the log."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def ensure_writable(self) -> None:
        """Create the run folder and prove it is writable, or fail with a clear message."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            probe = self.root / ".write-test"
            probe.write_text("ok")
            probe.unlink()
        except OSError as err:
            raise InputError(
                f"cannot write to the run folder: {err.strerror or err}",
                file=self.root,
                field="out",
                expected="a writable folder (set `out` in the config or --out)",
            ) from None

    def stage_dir(self, stage: str) -> Path:
        return self.root / stage

    def manifest_path(self, stage: str) -> Path:
        return self.stage_dir(stage) / MANIFEST

    def manifest(self, stage: str) -> dict[str, Any] | None:
        path = self.manifest_path(stage)
        if not path.is_file():
            return None
        try:
            return read_json(path)
        except (OSError, json.JSONDecodeError):
            return None

    def write_manifest(self, stage: str, manifest: dict[str, Any]) -> None:
        write_json(self.manifest_path(stage), manifest)

    def outputs(self, stage: str) -> dict[str, str]:
        """SHA-256 of every file a stage wrote (relative to its folder), manifest and units aside."""
        d = self.stage_dir(stage)
        out = {}
        for f in sorted(q for q in d.rglob("*") if q.is_file()):
            rel = f.relative_to(d)
            if rel.parts[0] in (MANIFEST, UNITS) or f.name.startswith("."):
                continue
            out[rel.as_posix()] = sha256_file(f)
        return out

    @staticmethod
    def output_hash(outputs: dict[str, str]) -> str:
        keep = {k: v for k, v in outputs.items() if Path(k).suffix in _HASHED_FOR_DOWNSTREAM}
        return sha256_json(keep)

    def outputs_intact(self, stage: str, manifest: dict[str, Any]) -> bool:
        d = self.stage_dir(stage)
        return all((d / rel).is_file() for rel in manifest.get("outputs", {}))

    def clear_stage(self, stage: str) -> None:
        d = self.stage_dir(stage)
        if d.exists():
            shutil.rmtree(d)

    # units: finished pieces of work inside a stage --------------------------------------------
    def unit_path(self, stage: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_.+" else "_" for c in key)
        return self.stage_dir(stage) / UNITS / f"{safe}.json"

    def unit_done(self, stage: str, key: str) -> bool:
        return self.unit_path(stage, key).is_file()

    def mark_unit(self, stage: str, key: str, info: dict[str, Any] | None = None) -> None:
        write_json(self.unit_path(stage, key), {"unit": key, **(info or {})})

    def units(self, stage: str) -> list[str]:
        d = self.stage_dir(stage) / UNITS
        if not d.is_dir():
            return []
        return sorted(read_json(p)["unit"] for p in d.glob("*.json"))


def describe_os_error(err: OSError, where: str | os.PathLike) -> str:
    """A one-line explanation of a failed write that says what to do."""
    if err.errno == errno.ENOSPC:
        return f"the disk is full while writing under {where}: free space and run again to resume"
    if err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied while writing under {where}: make the run folder writable"
    return f"could not write under {where}: {err.strerror or err}"
