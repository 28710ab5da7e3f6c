"""Faults, not inputs: a second run on a folder in use, a kill in the middle of replacing a
stage's outputs, a failing rerun over a finished run. Nothing finished may be lost."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radiogenomics.config import load_config
from radiogenomics.errors import InputError
from radiogenomics.pipeline import Pipeline
from radiogenomics.runfolder import RunFolder, RunFolderBusy

HERE = Path(__file__).resolve().parent

SCRIPT = """
import json, signal, sys
# a run started from a terminal turns Ctrl-C into KeyboardInterrupt; a child inherits an
# ignored SIGINT from its parent (another test in this worker may have set that), so say so
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {here!r})
import test_pipeline_runner as toy
from radiogenomics.config import load_config
from radiogenomics.pipeline import Pipeline
data = json.loads({data!r})
Pipeline(load_config(data=data), stages=toy._stages()).run()
"""


def _data(tmp_path: Path, max_epochs: int = 2) -> dict:
    (tmp_path / "in.csv").write_text("x\n1\n2\n3\n")
    return {
        "name": "toy",
        "out": str(tmp_path / "runs"),
        "quiet": True,
        "data": {"expression": str(tmp_path / "in.csv")},
        "autoencoder": {"max_epochs": max_epochs},
    }


def _toy(tmp_path: Path, max_epochs: int = 2) -> Pipeline:
    sys.path.insert(0, str(HERE))
    import test_pipeline_runner as toy

    return Pipeline(load_config(data=_data(tmp_path, max_epochs)), stages=toy._stages())


def _spawn(tmp_path: Path, env: dict[str, str], max_epochs: int = 2) -> subprocess.Popen:
    script = SCRIPT.format(here=str(HERE), data=json.dumps(_data(tmp_path, max_epochs)))
    return subprocess.Popen(
        [sys.executable, "-c", script],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for_lock(run: Path, proc: subprocess.Popen) -> dict:
    for _ in range(400):
        holder = RunFolder(run).lock_holder()
        if holder and holder.get("pid") == proc.pid:
            return holder
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the first run never took the lock")


def _snapshot(run: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(run)): p.read_bytes()
        for p in sorted(run.rglob("*"))
        if p.is_file()
        and p.name not in ("run.log", ".lock", "config.toml", "config.json")
        and ".staging" not in p.parts
    }


def test_a_second_run_on_a_folder_in_use_refuses_naming_the_holder(tmp_path):
    first = _spawn(tmp_path, {"TOY_SLEEP": "30"})
    try:
        holder = _wait_for_lock(tmp_path / "runs/toy", first)
        assert RunFolder(tmp_path / "runs/toy").in_use()["pid"] == first.pid  # what check says
        t0 = time.perf_counter()
        with pytest.raises(RunFolderBusy, match=rf"in use by process {first.pid} on host") as err:
            _toy(tmp_path).run()
        assert time.perf_counter() - t0 < 5  # refused at once, not after waiting
        assert holder["host"] in str(err.value) and "another --name" in str(err.value)
    finally:
        first.kill()
        first.wait()


def test_runs_starting_at_once_do_not_fail_on_each_others_write_probe(tmp_path):
    """Each start proves the folder writable before taking the lock; a probe shared by name
    was removed under another start ('cannot write to the run folder: No such file')."""
    import threading

    errors: list[str] = []

    def start() -> None:
        folder = RunFolder(tmp_path / "runs/toy")
        for _ in range(300):
            try:
                folder.ensure_writable()
            except InputError as err:
                errors.append(str(err))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [p.name for p in (tmp_path / "runs/toy").iterdir()] == []


def test_a_lock_file_that_cannot_be_opened_is_a_clear_error(tmp_path):
    p = _toy(tmp_path)
    (p.folder.root / ".lock").mkdir(parents=True)  # e.g. replaced by hand
    with pytest.raises(InputError, match="cannot open the run folder's lock file") as err:
        p.run()
    assert ".lock" in str(err.value)


def test_a_stale_lock_naming_a_reused_pid_does_not_make_check_report_a_run(tmp_path):
    """A killed run's lock file names its pid; once the kernel hands that pid to an unrelated
    process, the folder is still free: `check` tests the lock itself, as `run` does."""
    import socket

    folder = RunFolder(tmp_path / "runs/toy")
    folder.root.mkdir(parents=True)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        stale = {"pid": other.pid, "host": socket.gethostname(), "command": "radiogenomics run"}
        (folder.root / ".lock").write_text(json.dumps(stale))
        assert folder.in_use() is None
        with folder.lock():  # held by a run: reported, and the test did not take it
            assert folder.in_use()["pid"] == os.getpid()
        assert folder.in_use() is None
    finally:
        other.kill()
        other.wait()


def test_a_lock_left_by_a_killed_run_is_taken_over(tmp_path):
    first = _spawn(tmp_path, {"TOY_SLEEP": "30"})
    _wait_for_lock(tmp_path / "runs/toy", first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    folder = RunFolder(tmp_path / "runs/toy")
    assert folder.lock_holder()["pid"] == first.pid  # left behind ...
    assert folder.in_use() is None  # ... by a process that is gone: the folder is free
    left = (folder.root / ".lock").read_text()
    elsewhere = {**folder.lock_holder(), "host": "another-host"}
    (folder.root / ".lock").write_text(json.dumps(elsewhere))
    assert folder.in_use() == elsewhere  # a holder on a host we cannot see is taken as live
    (folder.root / ".lock").write_text(left)
    out = _toy(tmp_path).run()
    assert {o.status for o in out} >= {"done"}
    log = (tmp_path / "runs/toy/run.log").read_text()
    assert f"lock taken over from process {first.pid}" in log


def test_a_kill_while_outputs_are_replaced_is_completed_by_the_next_run(tmp_path):
    _toy(tmp_path).run()
    run = tmp_path / "runs/toy"
    # a changed setting reruns 'autoencoder'; the process dies between the two renames
    proc = _spawn(tmp_path, {"RADIOGENOMICS_FAULT_AT": "publish:autoencoder"}, max_epochs=3)
    proc.communicate(timeout=120)
    assert proc.returncode == 17
    assert not (run / "autoencoder").exists()  # the old outputs were moved aside ...
    assert list(run.glob(".publishing-autoencoder.json"))  # ... and the swap is journalled
    fresh = _toy(tmp_path, max_epochs=3)
    # the plan reads the folder as the run finds it once the swap is completed
    plan = {p.stage: p.action for p in fresh.plan()}
    assert plan["autoencoder"] == "skip" and plan["classifiers"] == "run"
    assert list(run.glob(".publishing-autoencoder.json"))  # planning changed nothing
    out = {o.stage: o.status for o in fresh.run()}
    assert out["autoencoder"] == "skipped"  # the killed run had finished it: not redone
    assert not list(run.glob(".publishing-*.json"))
    m = json.loads((run / "autoencoder/manifest.json").read_text())
    assert m["status"] == "done" and m["settings"]["autoencoder"]["max_epochs"] == 3
    total = __import__("pandas").read_parquet(run / "classifiers/tables/total.parquet")
    assert float(total["total"].iloc[0]) == pytest.approx(1 + 2**3 + 3**3)


KILL_MID_WRITE = """
import os, signal
import pandas as pd
real = pd.DataFrame.to_parquet
def dying(self, path, *args, **kwargs):
    if "unit_1" in str(path):  # the second unit's table, half written into its temporary
        open(path, "wb").write(b"PAR1")
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, path, *args, **kwargs)
pd.DataFrame.to_parquet = dying
"""


def test_a_run_removes_the_temporaries_a_killed_run_left(tmp_path):
    # a resumed attempt kept the half-written temporary in staging and published it with the
    # stage's outputs: runs/toy/autoencoder/tables/.unit_1.parquet.<random>.tmp
    script = SCRIPT.format(here=str(HERE), data=json.dumps(_data(tmp_path)))
    script = script.replace("data = json.loads", KILL_MID_WRITE + "data = json.loads", 1)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]
    run = tmp_path / "runs/toy"
    left = list(run.rglob("*.tmp"))
    assert [p.name.startswith(".unit_1.parquet.") for p in left] == [True]
    assert left[0].parent == run / ".staging/autoencoder/tables"
    # what the lock holder alone does not write is not its to remove: a concurrent report
    # build's page, another program's files
    keep = [run / "report/.index.html.abcd1234.tmp", run / ".staging/notes.tmp"]
    for p in keep:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("not the run's")
    out = {o.stage: o.status for o in _toy(tmp_path).run()}
    assert out["autoencoder"] == "done"
    assert sorted(run.rglob("*.tmp")) == sorted(keep)
    assert "removed 1 temporary files a killed run left" in (run / "run.log").read_text()


def test_temporaries_are_removed_only_under_the_lock(tmp_path):
    folder = RunFolder(tmp_path / "runs/toy")
    stale = [
        folder.staging_dir("masking") / "tables/.top_sets.parquet.k2j4_x9a.tmp",
        folder.root / ".config.toml.abcdefgh.tmp",
        folder.root / "..publishing-masking.json.abcdefgh.tmp",
        folder.root / "masking/.manifest.json.abcdefgh.tmp",
    ]
    kept = [
        folder.root / ".write-test-abcdefgh",  # another run's write probe, taken before its lock
        folder.root / "masking/tables/.top_sets.parquet.abcdefgh.tmp",  # outputs: left as is
        folder.root / ".results.csv.abcdefgh.tmp",  # not a file the run writes in its root
    ]
    for p in stale + kept:
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("")
    with pytest.raises(RuntimeError, match="needs the run folder's lock"):
        folder.remove_stale_temporaries()
    with folder.lock():
        assert sorted(folder.remove_stale_temporaries()) == sorted(stale)
    assert not any(p.exists() for p in stale) and all(p.exists() for p in kept)


def test_a_failing_rerun_leaves_the_finished_outputs_and_manifest_as_they_were(tmp_path):
    sys.path.insert(0, str(HERE))
    import test_pipeline_runner as toy

    _toy(tmp_path).run()
    run = tmp_path / "runs/toy"
    before = _snapshot(run)
    config = {f: (run / f).read_bytes() for f in ("config.toml", "config.json")}
    toy.FAIL_AT["autoencoder"] = 1
    try:
        with pytest.raises(RuntimeError, match="killed"):
            _toy(tmp_path, max_epochs=3).run()
    finally:
        toy.FAIL_AT.clear()
    assert _snapshot(run) == before  # every finished output and manifest, byte for byte
    # the run finished nothing, so the folder's config still describes its results
    assert {f: (run / f).read_bytes() for f in config} == config
    attempt = json.loads((run / ".staging/autoencoder/manifest.json").read_text())
    assert attempt["status"] == "failed"
    out = {o.stage: o.status for o in _toy(tmp_path).run()}  # the old settings: still valid
    assert out == {
        "load": "skipped",
        "autoencoder": "skipped",
        "classifiers": "skipped",
        "baselines": "not-run",
    }
    assert not (run / ".staging/autoencoder").exists()  # the stale attempt is cleared


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_interrupt_is_recorded_with_a_reason(tmp_path, sig):
    proc = _spawn(tmp_path, {"TOY_SLEEP": "30"})  # the load stage sleeps
    run = tmp_path / "runs/toy"
    _wait_for_lock(run, proc)
    # the stage sleeps 30 s once started; on a loaded machine it may take a while to start
    deadline = time.monotonic() + 25
    while not (run / ".staging/load/manifest.json").is_file():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the load stage never started"
        time.sleep(0.05)
    time.sleep(0.5)  # well inside the stage's work
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    attempt = json.loads((run / ".staging/load/manifest.json").read_text())
    assert attempt["status"] == "interrupted" and sig.name in attempt["error"]
    assert not (run / "load").exists()
    # the run finished nothing: it leaves no configuration claiming results
    assert not (run / "config.toml").exists() and not (run / "config.json").exists()


def test_disk_errors_are_one_clear_line(tmp_path, monkeypatch):
    import errno

    p = _toy(tmp_path)

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(p.folder, "publish", full)
    with pytest.raises(InputError, match="the disk is full while writing under"):
        p.run()


def test_a_disk_error_names_the_file_when_it_is_known(tmp_path, monkeypatch):
    import errno

    p = _toy(tmp_path)
    where = p.folder.staging_dir("load") / "tables/numbers.parquet"

    def gone(*args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(where))

    monkeypatch.setattr(p.folder, "publish", gone)
    with pytest.raises(InputError, match="No such file or directory") as err:
        p.run()
    assert str(where) in str(err.value)


def _read_unit(item, shared):
    return Path(item).read_text()


def _stage_reading(path: Path):
    def run(ctx):
        ctx.executor.map(_read_unit, [str(path)], desc="reading")

    return run


def test_a_unit_that_fails_reading_a_file_names_it_not_a_write(tmp_path, monkeypatch):
    # a unit's read of a missing file was "could not write under <run folder>: No such file"
    from radiogenomics.pipeline import Stage

    p = _toy(tmp_path)
    gone = tmp_path / "sets" / "hallmark.gmt"
    monkeypatch.setitem(
        p.stages, "load", Stage("load", _stage_reading(gone), inputs=lambda c: c.data_files())
    )
    with pytest.raises(InputError) as err:
        p.run(stage="load")
    text = str(err.value)
    assert "could not write" not in text and "while writing" not in text
    assert err.value.file == str(gone)
    assert "stage 'load' failed: No such file or directory" in text
    assert "work unit 0 of 1 in 'reading'" in text  # which unit raised
    attempt = json.loads((tmp_path / "runs/toy/.staging/load/manifest.json").read_text())
    assert attempt["status"] == "failed" and attempt["error"] == text
    assert text in (tmp_path / "runs/toy/run.log").read_text()


def test_a_unit_error_from_ray_is_described_by_its_cause(tmp_path):
    # Ray raises a wrapper that is an OSError too, without errno or filename, whose text is
    # the remote traceback; the cause it carries has them
    from radiogenomics.runfolder import stage_os_error

    where = tmp_path / "runs/toy"
    cause = FileNotFoundError(2, "No such file or directory", "/data/x.gmt")

    class Wrapped(FileNotFoundError):
        def __init__(self):
            super().__init__("ray::_run_unit() (pid=1)\nTraceback (most recent call last): ...")
            self.cause = cause

    wrapped = Wrapped()
    wrapped.add_note("(work unit 3 of 8 in 'masking', item 'x': the unit raised)")
    err = stage_os_error(wrapped, where, "masking")
    assert str(err) == (
        "/data/x.gmt: stage 'masking' failed: No such file or directory"
        " (work unit 3 of 8 in 'masking', item 'x': the unit raised)"
    )


def test_a_stage_error_is_worded_as_a_write_only_when_it_is_one(tmp_path):
    import errno

    from radiogenomics.runfolder import stage_os_error

    where = tmp_path / "runs/toy"
    output = where / ".staging/load/tables/t.parquet"
    denied = PermissionError(errno.EACCES, "Permission denied", str(output))
    assert "permission denied while writing under" in str(stage_os_error(denied, where, "load"))
    elsewhere = PermissionError(errno.EACCES, "Permission denied", "/data/e.tsv")
    err = stage_os_error(elsewhere, where, "load")
    assert str(err) == "/data/e.tsv: stage 'load' failed: Permission denied"
    full = OSError(errno.ENOSPC, "No space left on device", "/scratch/x.pickle")
    assert "the disk is full while writing this file" in str(stage_os_error(full, where, "load"))
    full_here = OSError(errno.ENOSPC, "No space left on device")
    assert "the disk is full while writing under" in str(stage_os_error(full_here, where, "load"))
    missing = FileNotFoundError(errno.ENOENT, "No such file or directory", str(output))
    err = stage_os_error(missing, where, "load")
    assert "could not write" not in str(err) and err.file == str(output)


def test_an_unreachable_cluster_is_not_reported_as_a_failed_write(tmp_path, monkeypatch):
    p = _toy(tmp_path)

    def unreachable(*args, **kwargs):  # what the Ray executor raises for a dead address
        raise ConnectionError("no Ray cluster answers at '127.0.0.1:6399' (Connection refused)")

    monkeypatch.setattr(p.folder, "publish", unreachable)
    with pytest.raises(InputError) as err:
        p.run()
    assert str(err.value).startswith("[executor.address]: no Ray cluster answers at")
    assert "could not write" not in str(err.value)
