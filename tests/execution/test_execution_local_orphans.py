"""The local executor's pool workers exit when the main process is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import os, sys, time
from pathlib import Path
from radiogenomics.execution.local import LocalExecutor

def work(item, shared):
    Path(shared, f"{os.getpid()}.pid").write_text("x")
    time.sleep(120)

if __name__ == "__main__":
    LocalExecutor(workers=2, quiet=True).map(work, [0, 1], shared=sys.argv[1])
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"  # a zombie has exited (its new parent may not have reaped it yet)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc (Linux)")
def test_workers_exit_when_the_parent_is_killed(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(SCRIPT)
    pids_dir = tmp_path / "pids"
    pids_dir.mkdir()
    parent = subprocess.Popen([sys.executable, str(script), str(pids_dir)])
    try:
        deadline = time.monotonic() + 90
        while len(list(pids_dir.glob("*.pid"))) < 2:
            assert parent.poll() is None, "the parent process ended early"
            assert time.monotonic() < deadline, "the pool workers did not start"
            time.sleep(0.2)
        workers = [int(p.stem) for p in pids_dir.glob("*.pid")]
        assert all(_alive(w) for w in workers) and parent.pid not in workers
        parent.send_signal(signal.SIGTERM)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 8
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [w for w in workers if _alive(w)]
        assert not left, f"pool workers {left} outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
        for p in pids_dir.glob("*.pid"):
            if _alive(int(p.stem)):
                os.kill(int(p.stem), signal.SIGKILL)
