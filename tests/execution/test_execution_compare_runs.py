"""scripts/compare_runs.py: exact table-by-table comparison of two run folders."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compare_runs.py"


def _module():
    spec = importlib.util.spec_from_file_location("compare_runs", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_runs"] = module
    spec.loader.exec_module(module)
    return module


def _write(folder: Path, rel: str, df: pd.DataFrame) -> None:
    path = folder / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path)


def test_identical_different_and_missing_tables(tmp_path, capsys):
    cr = _module()
    a, b = tmp_path / "a", tmp_path / "b"
    same = pd.DataFrame({"x": [0.1, np.nan, 3.0], "k": ["u", "v", "w"]})
    _write(a, "s1/tables/same.parquet", same)
    _write(b, "s1/tables/same.parquet", same.copy())  # NaN equals NaN
    close = same.assign(x=[0.1, np.nan, np.nextafter(3.0, 4.0)])  # one ulp apart
    _write(a, "s2/tables/close.parquet", same)
    _write(b, "s2/tables/close.parquet", close)
    _write(a, "s2/tables/dtype.parquet", pd.DataFrame({"n": [1, 2]}))
    _write(b, "s2/tables/dtype.parquet", pd.DataFrame({"n": [1.0, 2.0]}))
    _write(a, "s3/only_a.parquet", same)
    res = cr.compare_runs(a, b)
    assert res.identical == ["s1/tables/same.parquet"]
    assert set(res.different) == {"s2/tables/close.parquet", "s2/tables/dtype.parquet"}
    assert res.only_a == ["s3/only_a.parquet"] and res.only_b == []
    assert not res.ok and res.n_tables == 3
    assert cr.main([str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "DIFFERS   s2/tables/close.parquet" in out and "ONLY IN A s3/only_a.parquet" in out
    assert "1 of 3 tables identical" in out
    assert cr.main([str(a / "s1"), str(b / "s1")]) == 0
    assert "1 of 1 tables identical" in capsys.readouterr().out


def test_missing_and_empty_folders(tmp_path, capsys):
    cr = _module()
    with pytest.raises(SystemExit) as info:  # a FileNotFoundError traceback before
        cr.main([str(tmp_path / "nowhere"), str(tmp_path)])
    assert info.value.code == 2 and "nowhere" in capsys.readouterr().err
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert cr.main([str(tmp_path / "a"), str(tmp_path / "b")]) == 1  # 0: '0 of 0 identical'
    assert "no Parquet table" in capsys.readouterr().out
