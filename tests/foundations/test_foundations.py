"""The shared building blocks: scaler, stratified folds, seeds, executor, atomic writes, CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.evaluation.splits import stratified_folds
from radiogenomics.execution import LocalExecutor
from radiogenomics.utils.io import read_table, write_table
from radiogenomics.utils.seeding import derive_seed


def test_scaler_matches_manual_zscore_and_drops_constant_genes():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(5, 2, (30, 4)), columns=["A", "B", "C", "D"])
    X["C"] = 3.0
    sc = Scaler.fit(X)
    assert sc.genes == ("A", "B", "D") and sc.dropped == ("C",)
    Z = sc.transform(X[["D", "C", "B", "A"]])  # column order does not matter
    expected = (X[["A", "B", "D"]] - X[["A", "B", "D"]].mean()) / X[["A", "B", "D"]].std(ddof=0)
    np.testing.assert_allclose(Z, expected.to_numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(sc.transform_array(X.to_numpy()), Z)
    assert sc.mean["A"] == pytest.approx(X["A"].mean())
    assert Scaler.from_dict(sc.to_dict()).genes == sc.genes


def test_scaler_refuses_missing_genes_and_nan():
    X = pd.DataFrame(np.random.default_rng(1).normal(size=(5, 2)), columns=["A", "B"])
    sc = Scaler.fit(X)
    with pytest.raises(InputError, match=r"new.tsv \[genes\].*B"):
        sc.transform(X[["A"]], source="new.tsv")
    X.iloc[3, 1] = np.inf
    with pytest.raises(InputError, match=r"new.tsv \[expression\].*patient 3, gene 'B'"):
        sc.transform(X, source="new.tsv")
    X.iloc[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        Scaler.fit(X)


def test_stratified_folds_cover_every_patient_once_and_keep_balance():
    y = np.array([0] * 30 + [1] * 10)
    folds = stratified_folds(y, 10, seed=3)
    val = np.concatenate([va for _, va in folds])
    assert sorted(val.tolist()) == list(range(40))
    assert all(y[va].sum() == 1 for _, va in folds)
    again = stratified_folds(y, 10, seed=3)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again, strict=True))


def test_stratified_folds_refuse_or_lower_k_for_small_classes():
    y = np.array([0] * 20 + [1] * 4)
    with pytest.raises(InputError, match="fewer than the 10 folds"):
        stratified_folds(y, 10)
    with pytest.warns(UserWarning, match="using 4 folds"):
        assert len(stratified_folds(y, 10, adjust=True)) == 4
    with pytest.raises(InputError, match="only one class"):
        stratified_folds(np.zeros(12), 3)


def test_derive_seed_is_stable_and_key_dependent():
    assert derive_seed(7, "boot", 1) == derive_seed(7, "boot", 1)
    assert derive_seed(7, "boot", 1) != derive_seed(7, "boot", 2)
    assert derive_seed(7, "boot", 1) != derive_seed(8, "boot", 1)


def _square_plus(item, shared):
    return item * item + shared["offset"]


@pytest.mark.parametrize("workers", [1, 2])
def test_local_executor_returns_results_in_item_order(workers):
    seen = []
    out = LocalExecutor(workers=workers, quiet=True).map(
        _square_plus, [3, 1, 2], shared={"offset": 10}, on_result=lambda i, r: seen.append(i)
    )
    assert out == [19, 11, 14]
    assert sorted(seen) == [0, 1, 2]


def test_write_table_writes_parquet_and_csv(tmp_path):
    df = pd.DataFrame({"set": ["a", "b"], "auc": [0.5, 0.75]})
    stem = write_table(df, tmp_path / "scores")
    assert (tmp_path / "scores.csv").exists()
    pd.testing.assert_frame_equal(read_table(stem), df)
    assert not list(tmp_path.glob(".*tmp"))
    mask = os.umask(0)
    os.umask(mask)
    assert (tmp_path / "scores.csv").stat().st_mode & 0o777 == 0o666 & ~mask


def test_cli_version_and_help():
    out = subprocess.run(
        [sys.executable, "-m", "radiogenomics", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("radiogenomics ")
    out = subprocess.run(
        [sys.executable, "-m", "radiogenomics", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0 and "Usage" in out.stdout
