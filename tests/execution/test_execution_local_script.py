"""A pool started from a script's unguarded top-level code: spawned workers import the script
again and die while starting. With the shared inputs in the start-up pipe the parent blocked
for ever; now it fails at once, saying what to do."""

from __future__ import annotations

import operator
import subprocess
import sys
import textwrap

import pytest

from radiogenomics.execution.local import LocalExecutor, _broken


def test_an_unguarded_script_fails_with_advice_instead_of_hanging(tmp_path):
    script = tmp_path / "analysis.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            from radiogenomics.execution.local import LocalExecutor

            def double(i, shared):
                return i * 2 + float(shared[0])

            print(LocalExecutor(workers=2, quiet=True).map(double, [1, 2, 3], shared=np.zeros(200_000)))
            """
        )
    )
    res = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert res.returncode != 0
    assert "a worker process died" in res.stderr
    assert 'analysis.py is a script, put its top-level code under `if __name__ == "__main__":`' in (
        res.stderr
    )
    guarded = script.read_text().replace("print(", 'if __name__ == "__main__":\n    print(')
    script.write_text(guarded)
    res = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=180, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == "[2.0, 4.0, 6.0]"


def test_a_dead_worker_under_the_command_line_gets_no_script_advice(monkeypatch):
    # `radiogenomics run` with a worker killed mid-stage said "If radiogenomics is a script,
    # put its top-level code under if __name__ == ...", advice for Python scripts only
    main = sys.modules["__main__"]
    monkeypatch.setattr(main, "__file__", "/venv/bin/radiogenomics", raising=False)
    err = str(_broken("masking enhancing"))
    assert "a worker process died in 'masking enhancing'" in err
    assert "__main__" not in err
    monkeypatch.setattr(main, "__file__", "/home/me/analysis.py", raising=False)
    assert "analysis.py is a script" in str(_broken("bootstrap"))
    # units had finished, so the workers had started: the script's guard is not the cause
    assert "__main__" not in str(_broken("bootstrap", started=True))


def test_a_dead_worker_is_one_line_at_the_command_line(monkeypatch, capsys):
    # a worker's death is not the input's fault, but the command line printed a traceback
    import radiogenomics.cli as cli
    from radiogenomics.errors import ExecutionError

    err = _broken("masking enhancing", started=True)
    assert isinstance(err, ExecutionError) and isinstance(err, RuntimeError)

    def dies():
        raise err

    monkeypatch.setattr(cli, "app", dies)
    with pytest.raises(SystemExit) as code:
        cli.main()
    assert code.value.code == 1
    printed = capsys.readouterr().err
    assert printed.startswith("error: a worker process died in 'masking enhancing'")
    assert "Traceback" not in printed


@pytest.mark.parametrize("workers", [1, 2])
def test_a_unit_that_raises_is_named(workers):
    # the Ray executor named the unit; the local one raised the bare error
    with pytest.raises(ZeroDivisionError) as info:
        LocalExecutor(workers=workers, quiet=True).map(
            operator.truediv, [3, 4], shared=0, desc="bootstrap"
        )
    notes = "\n".join(info.value.__notes__)
    assert "in 'bootstrap', item " in notes and "the unit raised" in notes
    assert ("work unit 0 of 2" in notes) or (workers == 2 and "work unit 1 of 2" in notes)


def test_a_failed_map_does_not_run_the_units_left(tmp_path):
    # a unit that raised was reported only after every other unit had run (the pool's exit
    # waited for all of them): at the paper's scale, hours of work thrown away
    script = tmp_path / "fails_first.py"
    script.write_text(
        textwrap.dedent(
            """
            import sys, time
            from pathlib import Path
            from radiogenomics.execution.local import LocalExecutor

            def unit(item, folder):
                Path(folder, f"started-{item}").touch()
                if item == 0:
                    raise ValueError("unit 0 fails")
                time.sleep(1.5)
                return item

            if __name__ == "__main__":
                try:
                    LocalExecutor(workers=2, quiet=True).map(unit, range(16), shared=sys.argv[1])
                except ValueError:
                    print(len(list(Path(sys.argv[1]).glob("started-*"))))
            """
        )
    )
    res = subprocess.run(
        [sys.executable, str(script), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert int(res.stdout) <= 8  # those already running or queued to a worker, not all 16
