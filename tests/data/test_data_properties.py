"""Property tests: the expression transform against a direct computation, and GeneSets filters."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from radiogenomics.data import GeneSets, encode_binary, read_expression

genes_st = st.lists(st.sampled_from([f"G{i}" for i in range(30)]), min_size=0, max_size=12)


@settings(max_examples=40, deadline=None)
@given(
    sets=st.dictionaries(st.sampled_from(list("ABCDEFGH")), genes_st, max_size=8),
    universe=st.sets(st.sampled_from([f"G{i}" for i in range(30)])),
    lo=st.integers(1, 6),
    span=st.integers(0, 8),
)
def test_filter_matches_definition(sets, universe, lo, span):
    gs = GeneSets(sets, "p")
    hi = lo + span
    out = gs.filter(universe, min_size=lo, max_size=hi)
    for name, genes in gs.items():
        kept = [g for g in genes if g in universe]
        if lo <= len(kept) <= hi and kept:
            assert out[name] == tuple(kept)
        else:
            assert name not in out
    cov = gs.coverage(universe)
    for name, genes in gs.items():
        assert cov.loc[name, "present"] == sum(g in universe for g in genes)


@settings(max_examples=40, deadline=None)
@given(labels=st.lists(st.sampled_from(["x", "y", None]), min_size=2, max_size=30))
def test_encode_binary_positive_is_least_frequent(labels):
    s = pd.Series(labels, dtype=object)
    present = s.dropna()
    if present.nunique() != 2:
        return
    enc, (neg, pos) = encode_binary(s)
    counts = present.value_counts()
    assert counts[pos] <= counts[neg]
    assert enc.isna().sum() == s.isna().sum()
    assert enc.sum() == counts[pos]


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_genes=st.integers(2, 8),
    n_samples=st.integers(1, 5),
)
def test_counts_transform_matches_direct(tmp_path_factory, seed, n_genes, n_samples):
    rng = np.random.default_rng(seed)
    counts = rng.integers(0, 5000, size=(n_genes, n_samples)).astype(float)
    counts[0] += 1  # every sample has reads
    genes = [f"S{i}|{i}" for i in range(n_genes)]
    samples = [f"TCGA-AB-{1000 + j}-01A" for j in range(n_samples)]
    path = tmp_path_factory.mktemp("p") / "m.tsv"
    pd.DataFrame(counts, index=pd.Index(genes, name="gene_id"), columns=samples).to_csv(
        path, sep="\t"
    )
    df = read_expression(path, scale="counts")
    expected = np.log2(counts / counts.sum(axis=0) * 1e6 + 1).T
    np.testing.assert_allclose(df.to_numpy(), expected, rtol=1e-5, atol=1e-5)
    assert list(df.index) == [s[:12] for s in samples]
