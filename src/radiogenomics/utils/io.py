"""Atomic writes: a file appears complete or not at all, so an interrupted run loses nothing."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd


def atomic_write(path: str | os.PathLike, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        # mkstemp makes the file private (0600); give it the mode any new file would get
        os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()
    return path


def writable_folder(
    path: str | os.PathLike, field: str, what: str = "output folder", expected: str | None = None
) -> Path:
    """Create ``path`` (with its parents) and prove it writable with a probe file of its own,
    before any work whose results would be lost on a write that fails at the end; an
    InputError naming ``field`` otherwise."""
    from radiogenomics.errors import InputError

    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # a probe of its own: two runs starting at once must not remove each other's
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise InputError(
            f"cannot write to the {what}: {err.strerror or err}",
            file=folder,
            field=field,
            expected=expected or "a folder this user can create and write to",
        ) from None
    return folder


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    def _write(tmp: Path) -> None:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")

    return atomic_write(path, _write)


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def write_table(df: pd.DataFrame, path_stem: str | os.PathLike, index: bool = False) -> Path:
    """Write ``df`` as ``<stem>.parquet`` and ``<stem>.csv`` (both atomically); returns the stem."""
    stem = Path(path_stem)
    frame = df.copy()
    # Parquet wants string column names; object columns of lists stay as lists.
    frame.columns = [str(c) for c in frame.columns]
    atomic_write(stem.with_suffix(".parquet"), lambda p: frame.to_parquet(p, index=index))
    atomic_write(stem.with_suffix(".csv"), lambda p: frame.to_csv(p, index=index))
    return stem


def read_table(path_stem: str | os.PathLike) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (the Parquet copy)."""
    return pd.read_parquet(Path(path_stem).with_suffix(".parquet"))
