"""Benjamini-Hochberg within groups (per task, ranking and collection), against a hand
computation per group."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.utils.stats import bh_by_group


def _bh_by_hand(p: list[float]) -> list[float]:
    """q_i = min over j with p_j >= p_i of p_j * m / rank_j, capped at 1 (loops, no sorting
    tricks)."""
    m = len(p)
    ranks = [sum(q < x for q in p) + sum(q == x for q in p) for x in p]  # largest tied rank
    return [min(1.0, min(p[j] * m / ranks[j] for j in range(m) if p[j] >= p[i])) for i in range(m)]


def test_known_values_one_group():
    t = pd.DataFrame({"pval": [0.01, 0.04, 0.03, 0.2]})
    # m = 4: sorted 0.01, 0.03, 0.04, 0.2 -> 0.04, 0.0533, 0.0533, 0.2
    got = bh_by_group(t, by=[])["padj"].to_numpy()
    np.testing.assert_allclose(got, [0.04, 0.16 / 3, 0.16 / 3, 0.2], rtol=1e-12)


def test_groups_adjusted_separately():
    rng = np.random.default_rng(7)
    rows = []
    for task in ("edema", "focal"):
        for ranking in ("ap", "correlation"):
            for collection, n in (("h.all", 7), ("c5.bp", 23)):
                for i in range(n):
                    rows.append((task, ranking, collection, f"S{i}", float(rng.random() ** 3)))
    t = pd.DataFrame(rows, columns=["task", "ranking", "collection", "set", "pval"])
    t = t.sample(frac=1.0, random_state=1).reset_index(drop=True)  # groups interleaved
    t.loc[3, "pval"] = t.loc[5, "pval"]  # a tie across rows
    t.loc[8, "pval"] = np.nan  # not counted in its group
    got = bh_by_group(t, by=["task", "ranking", "collection"])
    assert list(got.index) == list(t.index) and got["pval"].equals(t["pval"])
    for _, grp in t.groupby(["task", "ranking", "collection"]):
        ok = grp["pval"].notna()
        expected = _bh_by_hand(grp.loc[ok, "pval"].tolist())
        np.testing.assert_allclose(got.loc[grp.index[ok], "padj"], expected, rtol=1e-12)
        assert got.loc[grp.index[~ok], "padj"].isna().all()
    # Over the union of the collections the numbers differ: the grouping is what changed.
    union = bh_by_group(t, by=["task", "ranking"])
    assert not np.allclose(union["padj"], got["padj"], equal_nan=True)


def test_bad_input():
    t = pd.DataFrame({"task": ["a"], "pval": [0.5]})
    with pytest.raises(InputError, match="column\\(s\\) collection not in the table"):
        bh_by_group(t, by=["task", "collection"])
    with pytest.raises(InputError, match="outside \\[0, 1\\]"):
        bh_by_group(pd.DataFrame({"task": ["a"], "pval": [1.5]}), by="task")
    got = bh_by_group(t, by="task", p="pval", out="q")
    assert got["q"].tolist() == [0.5] and "padj" not in got
