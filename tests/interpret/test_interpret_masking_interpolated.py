"""Single-gene masking by interpolation: the same AUC/AP as the exact closed form, fewer rows.

The exact closed form (``MaskingEngine.single_gene_logits``) is the reference kept beside the
interpolated path; every comparison here is against it, on networks where interpolation is easy
(random weights), hard (a gene driving a saturated unit), impossible (ReLU kinks), and on a
trained demo-sized and a paper-scale network.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from test_interpret_masking import random_model

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.interpret import _interpolated as interpolated
from radiogenomics.interpret import gene_masking, masking_from_folds
from radiogenomics.interpret._engine import MaskingEngine, unique_pairs
from radiogenomics.interpret._interpolated import (
    LEVELS,
    barycentric,
    class_scores,
    interpolated_single_gene_logits,
    lobatto,
    near_ties,
)
from radiogenomics.interpret.metrics import auc_ap_columns
from radiogenomics.models.network import MLP


@pytest.fixture(autouse=True)
def interpolate_small_networks(monkeypatch):
    """The toy networks here are below the size where interpolation pays; test it anyway."""
    monkeypatch.setattr(interpolated, "MIN_TAIL_MACS", 0)


def both_ways(model, X, y, **kw):
    auto = gene_masking(model, X, y, quiet=True, return_probabilities=True, **kw)
    exact = gene_masking(
        model, X, y, quiet=True, return_probabilities=True, single_gene_method="exact", **kw
    )
    return auto, exact


def assert_same_scores(auto, exact):
    """AUC and AP identical (not merely close), probabilities within the interpolation error."""
    pd.testing.assert_frame_equal(auto.table, exact.table, check_exact=True)
    np.testing.assert_allclose(auto.probabilities, exact.probabilities, atol=1e-6, rtol=0)


def test_chebyshev_interpolation_known_answers():
    # nested grids: the 2n-1 point grid holds every node of the n point grid
    for n in LEVELS[:-1]:
        np.testing.assert_allclose(lobatto(2 * n - 1)[::2], lobatto(n), atol=1e-15)
    x = lobatto(9)[::-1].copy()[None, :]
    t = np.linspace(-1, 1, 101)[None, :]
    poly = np.polynomial.Polynomial([0.3, -1.0, 2.0, 0.5, -0.25, 1.5, 0.0, -2.0, 0.7])  # deg 8
    got = barycentric(t, x, poly(x)[:, :, None])[0, :, 0]
    np.testing.assert_allclose(got, poly(t[0]), atol=1e-12)  # degree < nodes: exact
    errors = []
    for n in (17, 33):  # analytic (poles at +-i pi/6): geometric convergence, never exact
        xn = lobatto(n)[None, ::-1]
        got = barycentric(t, xn, np.tanh(3 * xn)[:, :, None])[0, :, 0]
        errors.append(np.abs(got - np.tanh(3 * t[0])).max())
    assert 1e-9 < errors[1] < errors[0] * 1e-3 < 1e-6
    x17 = lobatto(17)[None, ::-1]
    on_node = barycentric(x17[:, [0, 5]], x17, np.tanh(3 * x17)[:, :, None])[0, :, 0]
    np.testing.assert_array_equal(on_node, np.tanh(3 * x17[0, [0, 5]]))


def test_near_ties_flags_clusters_within_twice_the_bound():
    scores = np.array([0.0, 1.0, 1.05, 3.0, 1.02, 5.0])[:, None]
    group = np.array([0, 0, 0, 0, 1, 1])  # 1.02 belongs to another gene: never linked
    flagged = near_ties(scores, group, np.full(6, 0.03))
    np.testing.assert_array_equal(flagged, [False, True, True, False, False, False])
    chain = near_ties(np.array([[0.0], [0.05], [0.1], [0.15]]), np.zeros(4, int), np.full(4, 0.03))
    assert chain.all()  # links chain: every member of a cluster is flagged


def test_exact_rows_carry_the_same_bits_whatever_else_is_computed():
    """A pair's logits must not depend on its batch: re-evaluated near-ties rely on it."""
    model, X, _ = random_model(n_genes=60, hidden=(24, 12, 6), n_out=4, n_patients=120, seed=4)
    net = model.network.eval()
    Z = torch.as_tensor(model.scaler.transform(X))
    engine = MaskingEngine(net)
    full = engine.single_gene_logits(Z, np.arange(60))
    for genes in ([7], [59, 3, 11], list(range(0, 60, 7))):
        part = engine.single_gene_logits(Z, np.array(genes))
        np.testing.assert_array_equal(part, full[genes])
    alone = MaskingEngine(net, memory_budget_mb=0.05).single_gene_logits(Z, np.array([5, 6]))
    assert not np.array_equal(alone, np.zeros_like(alone))
    np.testing.assert_allclose(alone, full[[5, 6]], atol=1e-6)


@pytest.mark.parametrize(
    "n_out,activation,seed", [(1, "tanh", 1), (3, "tanh", 2), (4, "sigmoid", 4), (2, "tanh", 5)]
)
def test_interpolated_masking_scores_like_exact_masking(n_out, activation, seed):
    model, X, y = random_model(
        n_genes=60, n_out=n_out, activation=activation, n_patients=120, seed=seed
    )
    auto, exact = both_ways(model, X, y)
    assert_same_scores(auto, exact)
    note = next(n for n in auto.notes if n.startswith("single genes"))
    assert "interpolated" in note and " 0 of 60 interpolated" not in note


def test_error_bound_holds_and_fewer_rows_go_through_the_network():
    model, X, y = random_model(n_genes=80, n_out=1, n_patients=150, seed=8)
    net = model.network.eval()
    Z = torch.as_tensor(model.scaler.transform(X))
    engine = MaskingEngine(net)
    genes = np.arange(80)
    exact = engine.single_gene_logits(Z, genes)
    approx, stats = interpolated_single_gene_logits(engine, Z, genes, binary=True)
    assert stats.rows < 0.3 * stats.exact_rows
    assert sum(stats.interpolated.values()) == 80 and stats.exact_genes == 0
    assert 0 < stats.noise < stats.max_bound < 1e-5
    err = np.abs(approx.astype(np.float64) - exact)
    assert err.max() <= stats.max_bound
    assert (err == 0).mean() > 0.05  # the near-ties and the gene with ties: exact values
    labels = np.asarray(y == "pos")
    for a, b in zip(
        auc_ap_columns(exact[:, :, 0].T, labels),
        auc_ap_columns(approx[:, :, 0].T, labels),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)


def test_a_gene_the_interpolant_cannot_follow_is_computed_exactly():
    model, X, y = random_model(n_genes=30, hidden=(16, 8), n_out=1, n_patients=150, seed=9)
    with torch.no_grad():  # G2 drives one unit through a near-step: tanh(60 z)
        model.network.first_linear.weight[:, 2] = 0.0
        model.network.first_linear.weight[0, 2] = 60.0
        model.network.blocks[1].linear.weight[:, 0] *= 20.0
    auto, exact = both_ways(model, X, y)
    assert_same_scores(auto, exact)
    note = next(n for n in auto.notes if n.startswith("single genes"))
    assert ", 1 exact" in note or ", 2 exact" in note


def test_small_networks_stay_exact_by_default(monkeypatch):
    monkeypatch.setattr(interpolated, "MIN_TAIL_MACS", 4096)
    model, X, y = random_model(n_genes=40, hidden=(24, 12, 6), n_out=1, n_patients=80, seed=3)
    auto, exact = both_ways(model, X, y)
    np.testing.assert_array_equal(auto.probabilities, exact.probabilities)
    assert any("(366 multiply-adds per row)" in n for n in auto.notes)  # 24*12 + 12*6 + 6


def test_relu_and_foreign_networks_stay_exact():
    model, X, y = random_model(n_genes=40, n_out=1, activation="relu", n_patients=80, seed=3)
    auto, exact = both_ways(model, X, y)
    assert_same_scores(auto, exact)
    np.testing.assert_array_equal(auto.probabilities, exact.probabilities)
    assert any("not all tanh/sigmoid" in n for n in auto.notes)
    with pytest.raises(InputError, match="single_gene_method"):
        gene_masking(model, X, y, single_gene_method="fast", quiet=True)


def test_ties_and_constant_genes_keep_their_ties():
    model, X, y = random_model(n_genes=30, n_out=3, n_patients=100, seed=12)
    X = X.copy()
    X.iloc[:60, 4] = 0.0  # many zero counts
    X.iloc[::2, 5] = X.iloc[1::2, 5].to_numpy()  # every value twice
    with torch.no_grad():
        model.network.first_linear.weight[:, 6] = 0.0  # a gene the network ignores: all ties
    model.scaler = Scaler.fit(X)
    auto, exact = both_ways(model, X, y)
    assert_same_scores(auto, exact)
    flat = auto.probability_frame("G6").to_numpy()
    np.testing.assert_array_equal(flat, np.broadcast_to(flat[0], flat.shape))


def test_out_of_fold_interpolation_matches_exact():
    base, X, y = random_model(n_out=3, n_patients=90, seed=21)
    models, folds = [], []
    patients = list(X.index)
    for k in range(3):
        m, _, _ = random_model(n_out=3, n_patients=90, seed=40 + k)
        held = patients[k::3]
        m.scaler = Scaler.fit(X.loc[[p for p in patients if p not in held]])
        models.append(m)
        folds.append(held)
    kw = dict(single_genes=True, return_probabilities=True, quiet=True)
    auto = masking_from_folds(models, folds, X, y, **kw)
    exact = masking_from_folds(models, folds, X, y, single_gene_method="exact", **kw)
    assert_same_scores(auto, exact)
    (note,) = [n for n in auto.notes if n.startswith("single genes")]  # pooled over the folds
    assert note.startswith("single genes over 3 models: ")
    assert f"of {3 * 40} interpolated" in note


@pytest.mark.slow
def test_trained_demo_sized_network(tmp_path):
    """The demo's shape (2,000 genes, 128/64/32 tanh) trained on the synthetic cohort."""
    from radiogenomics.data.synthetic import generate_cohort
    from radiogenomics.models import NetworkConfig, fit_classifier

    cohort = generate_cohort(tmp_path, seed=0, n_patients=300, n_genes=2000).load()
    y = cohort.encoded_traits()[0]["edema"].dropna().astype(int)
    X = cohort.expression.loc[y.index]
    scaler = Scaler.fit(X)
    cfg = NetworkConfig(hidden=(128, 64, 32), activation="tanh", optimizer="adam", batch_size=32)
    net, _, _ = fit_classifier(scaler.transform(X), y.to_numpy(), None, None, cfg, epochs=15)
    model = SimpleNamespace(network=net, scaler=scaler, classes=("0", "1"))
    auto, exact = both_ways(model, X, y.astype(str))
    assert_same_scores(auto, exact)
    note = next(n for n in auto.notes if n.startswith("single genes"))
    rows, instead = map(int, re.search(r"(\d+) network rows instead of (\d+)", note).groups())
    assert rows < instead / 4


@pytest.mark.slow
def test_paper_scale_network_sample_of_genes():
    """12,000 genes, 175 patients, 4000/2000/1000: identical AUC/AP on a sample of genes."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    net = MLP(12000, [4000, 2000, 1000], 1, activation="tanh", dropout=0.0).eval()
    Z = torch.as_tensor(rng.normal(size=(175, 12000)).astype(np.float32))
    Z[:50, 7] = Z[0, 7]  # ties
    engine = MaskingEngine(net)
    genes = np.sort(rng.choice(12000, size=120, replace=False))
    genes[0] = 7
    exact = engine.single_gene_logits(Z, genes)
    approx, stats = interpolated_single_gene_logits(engine, Z, genes, binary=True)
    labels = rng.random(175) < 0.4
    for a, b in zip(
        auc_ap_columns(class_scores(exact, True)[:, :, 0].T, labels),
        auc_ap_columns(class_scores(approx, True)[:, :, 0].T, labels),
        strict=True,
    ):
        np.testing.assert_array_equal(a, b)
    assert np.abs(approx - exact).max() <= stats.max_bound
    assert stats.rows < stats.exact_rows / 4
    _, _, row_of = unique_pairs(Z[:, genes].numpy())
    assert stats.exact_rows == row_of.max() + 1


@pytest.mark.realdata
@pytest.mark.slow
def test_real_tcga_subtype_network_every_gene(shared_data):
    """The 4-subtype classifier of the real-data check, every one of ~14k genes masked alone."""
    import warnings

    from radiogenomics.data import read_expression, read_subtypes
    from radiogenomics.evaluation.nn_cv import retrain
    from radiogenomics.models import NetworkConfig

    d = shared_data / "tcga_gbm"
    X = read_expression(d / "rnaseq_rsem_tpm.tsv.gz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # G-CIMP counted as Proneural
        y = read_subtypes(d / "glioma_molecular_subtypes_2016.tsv")
    X = X.loc[:, X.mean() > 1.0]
    y = y[y.index.isin(X.index)]
    cfg = NetworkConfig(hidden=(32,), activation="tanh", optimizer="adam", dropout=0.5)
    model = retrain(X, y, cfg, epochs=30, seed=0, device="cpu")
    auto, exact = both_ways(model, X, y)  # interpolated although the network is small
    assert_same_scores(auto, exact)
    note = next(n for n in auto.notes if n.startswith("single genes"))
    rows, instead = map(int, re.search(r"(\d+) network rows instead of (\d+)", note).groups())
    # how many rows the interpolation saves depends on the trained network, which moves with
    # the package versions and thread order: 3.2x fewer when this was written
    # (docs/interpret.md), 2.7-2.8x in later environments; it must save at least half
    assert rows < instead / 2
