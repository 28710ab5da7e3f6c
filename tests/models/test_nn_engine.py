"""The batched engine gives the same networks as training one by one; optimisers, masks, AUC."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_auc_score

from radiogenomics.models.config import AutoencoderConfig, NetworkConfig
from radiogenomics.models.engine import (
    FoldData,
    NetSpec,
    StackedOptimizer,
    auc_batched,
    balanced_weights,
    batch_bounds,
    train_batched,
    train_plain,
)
from radiogenomics.models.training import (
    autoencoder_spec,
    classifier_spec,
    fit_autoencoders,
    fit_classifiers,
)


def _data(n=90, p=30, classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    score = X[:, 0] + X[:, 1] - X[:, 2]
    if classes == 2:
        y = (score + 0.5 * rng.normal(size=n) > 0).astype(np.int64)
    else:
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y


def _folds(X, y, k=3):
    idx = np.arange(len(X))
    out = []
    for i in range(k):
        va = idx[i::k]
        tr = np.setdiff1d(idx, va)
        out.append((X[tr], y[tr], X[va], y[va]))
    return out


def _outputs(net, X):
    with torch.no_grad():
        return net.eval()(torch.as_tensor(X)).numpy()


@pytest.mark.parametrize(
    "optimizer,dropout,classes,ae_layers",
    [
        ("adadelta", 0.0, 2, 0),
        ("adadelta", 0.3, 4, 0),
        ("nadam", 0.2, 2, 0),
        ("adam", 0.0, 3, 0),
        ("sgd", 0.0, 2, 0),
        ("adadelta", 0.0, 2, 1),
    ],
)
def test_batched_equals_one_by_one(optimizer, dropout, classes, ae_layers):
    X, y = _data(classes=classes)
    folds = _folds(X, y)
    cfg = NetworkConfig(
        hidden=(12, 6),
        optimizer=optimizer,
        dropout=dropout,
        max_epochs=12,
        patience=4,
        batch_size=10,
        ae_layers=ae_layers,
        frozen=bool(ae_layers),
    )
    rng = np.random.default_rng(5)
    transfer = [(rng.normal(size=(12, 30)).astype(np.float32) * 0.2, np.zeros(12, np.float32))]
    kw = {"transfer": transfer if ae_layers else None}
    a = fit_classifiers(folds, cfg, seeds=[1, 2, 3], engine="batched", **kw)
    b = fit_classifiers(folds, cfg, seeds=[1, 2, 3], engine="plain", **kw)
    for (na, ea, ha), (nb, eb, hb) in zip(a, b, strict=True):
        assert ea == eb
        np.testing.assert_allclose(ha["val_metric"], hb["val_metric"], atol=1e-6)
        np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(_outputs(na, X), _outputs(nb, X), rtol=1e-3, atol=1e-4)
        if ae_layers:  # the frozen Dense layer never moved
            np.testing.assert_array_equal(na.first_linear.weight.detach().numpy(), transfer[0][0])


def test_batched_with_fold_specific_genes_equals_plain():
    """A fold whose scaler dropped genes trains on its own columns inside the stacked model."""
    X, y = _data(n=60, p=20)
    spec = classifier_spec(NetworkConfig(hidden=(8,), max_epochs=8, patience=8, dropout=0.2), 20, 2)
    pos = [np.arange(20), np.array([0, 1, 2, 5, 7, 9, 11, 13, 15, 17, 19])]
    datas = [
        FoldData(X[:40][:, p], y[:40], X[40:][:, p], y[40:], balanced_weights(y[:40], 2), seed=s)
        for p, s in zip(pos, (3, 4), strict=True)
    ]
    batched = train_batched(spec, datas, pos, 20)
    for d, r in zip(datas, batched, strict=True):
        plain = train_plain(spec, d)
        assert r.best_epoch == plain.best_epoch
        assert r.network.first_linear.in_features == d.Z_train.shape[1]
        np.testing.assert_allclose(
            _outputs(r.network, d.Z_val), _outputs(plain.network, d.Z_val), atol=1e-4
        )


def test_autoencoder_batched_equals_plain_and_learns():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(80, 3)) @ rng.normal(size=(3, 16)) + 0.3 * rng.normal(size=(80, 16))
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    folds = [(X[:60], X[60:]), (X[20:], X[:20])]
    # MAE's gradient is a sign: over many epochs a float-level difference can flip one sign,
    # so the engines are compared over a few epochs
    cfg = AutoencoderConfig(hidden=(8, 4), max_epochs=6, patience=3, batch_size=10)
    a = fit_autoencoders(folds, cfg, [1, 2])
    b = fit_autoencoders(folds, cfg, [1, 2], engine="plain")
    for (na, ea, ha), (nb, eb, hb) in zip(a, b, strict=True):
        assert ea == eb
        np.testing.assert_allclose(ha["val_metric"], hb["val_metric"], atol=1e-5)
        np.testing.assert_allclose(_outputs(na, X), _outputs(nb, X), atol=1e-4)
    assert a[0][0].output.out_features == 16
    learn = AutoencoderConfig(
        hidden=(8, 4), optimizer="adam", learning_rate=0.01, batch_size=10, max_epochs=40
    )
    a = fit_autoencoders(folds, learn, [1, 2])
    assert max(a[0][2]["val_metric"]) > 0.6  # mean per-gene R^2 of a rank-3 signal plus noise


def test_determinism_same_seed_same_network():
    X, y = _data()
    cfg = NetworkConfig(hidden=(8,), dropout=0.3, max_epochs=5, patience=5)
    a = fit_classifiers(_folds(X, y), cfg, seeds=[7, 8, 9])
    b = fit_classifiers(_folds(X, y), cfg, seeds=[7, 8, 9])
    c = fit_classifiers(_folds(X, y), cfg, seeds=[7, 8, 10])
    for (na, _, _), (nb, _, _) in zip(a, b, strict=True):
        for ta, tb in zip(na.state_dict().values(), nb.state_dict().values(), strict=True):
            assert torch.equal(ta, tb)
    assert not torch.equal(a[2][0].output.weight, c[2][0].output.weight)


def test_auc_batched_matches_sklearn_with_ties_and_padding():
    rng = np.random.default_rng(0)
    s = np.round(rng.normal(size=(3, 25)), 1)  # ties
    lab = rng.integers(0, 2, size=(3, 25))
    mask = np.ones((3, 25), bool)
    mask[1, 20:] = False
    got = auc_batched(torch.tensor(s), torch.tensor(lab), torch.tensor(mask)).numpy()
    for k in range(3):
        m = mask[k]
        assert got[k] == pytest.approx(roc_auc_score(lab[k][m], s[k][m]))


def test_batch_bounds_never_leave_a_single_patient():
    assert batch_bounds(21, 10) == [(0, 10), (10, 21)]
    assert batch_bounds(20, 10) == [(0, 10), (10, 20)]
    assert batch_bounds(25, 10) == [(0, 10), (10, 20), (20, 25)]
    for n in range(2, 60):
        b = batch_bounds(n, 4)
        assert b[0][0] == 0 and b[-1][1] == n and all(e - s >= 2 for s, e in b)


@pytest.mark.parametrize("chunk", [False, True])
@pytest.mark.parametrize("name", ["adadelta", "adam", "nadam", "sgd"])
def test_stacked_optimizer_matches_torch_and_skips_inactive(name, chunk, monkeypatch):
    if chunk:  # large tensors are updated one network at a time
        monkeypatch.setattr("radiogenomics.models.engine._CHUNK", 1)
    rng = np.random.default_rng(0)
    p0 = torch.tensor(rng.normal(size=(2, 5)), dtype=torch.float32)
    grads = [torch.tensor(rng.normal(size=(2, 5)), dtype=torch.float32) for _ in range(6)]
    stacked = p0.clone().requires_grad_(True)
    opt = StackedOptimizer(
        name, {"adadelta": 1.0, "adam": 1e-3, "nadam": 2e-3, "sgd": 1e-3}[name], [stacked], 2
    )
    refs = [p0[k].clone().requires_grad_(True) for k in range(2)]
    cls = {
        "adadelta": torch.optim.Adadelta,
        "adam": torch.optim.Adam,
        "nadam": torch.optim.NAdam,
        "sgd": torch.optim.SGD,
    }[name]
    ref_opts = [cls([r]) for r in refs]
    for t, g in enumerate(grads):
        active = np.array([True, t % 2 == 0])  # network 1 skips every other step
        stacked.grad = g.clone()
        opt.step([stacked], active)
        for k in range(2):
            if active[k]:
                refs[k].grad = g[k].clone()
                ref_opts[k].step()
    for k in range(2):
        np.testing.assert_allclose(
            stacked[k].detach().numpy(), refs[k].detach().numpy(), rtol=1e-5, atol=1e-7
        )


def test_class_balanced_weights():
    w = balanced_weights(np.array([0, 0, 0, 1]), 2)
    np.testing.assert_allclose(w, [4 / 6, 4 / 6, 4 / 6, 2.0])
    assert w[:3].sum() == pytest.approx(w[3:].sum())


def test_spec_shapes():
    assert classifier_spec(NetworkConfig(hidden=(4,)), 10, 2).n_out == 1
    assert classifier_spec(NetworkConfig(hidden=(4,)), 10, 4).n_out == 4
    s = autoencoder_spec(AutoencoderConfig(hidden=(8, 4, 2)), 10)
    assert s.hidden == (8, 4, 2, 4, 8) and s.n_out == 10 and s.p_input == 0
    with pytest.raises(ValueError, match="kind"):
        NetSpec(n_in=1, hidden=(1,), n_out=1, kind="regression")


def test_frozen_first_layer_computed_once_gives_the_same_networks():
    X, y = _data(n=60, p=20)
    rng = np.random.default_rng(2)
    layer = [
        (rng.normal(size=(8, 20)).astype(np.float32) * 0.3, rng.normal(size=8).astype(np.float32))
    ]
    cfg = NetworkConfig(hidden=(8, 4), max_epochs=6, patience=6, ae_layers=1, frozen=True)
    spec = classifier_spec(cfg, 20, 2)
    datas = [
        FoldData(
            X[:40], y[:40], X[40:], y[40:], balanced_weights(y[:40], 2), seed=s, transfer=layer
        )
        for s in (1, 2)
    ]
    once = train_batched(spec, datas, precompute_frozen=True)
    every = train_batched(spec, datas, precompute_frozen=False)
    for a, b in zip(once, every, strict=True):
        assert a.best_epoch == b.best_epoch
        np.testing.assert_allclose(_outputs(a.network, X), _outputs(b.network, X), atol=1e-5)
        np.testing.assert_array_equal(a.network.first_linear.weight.detach().numpy(), layer[0][0])
        np.testing.assert_array_equal(a.network.first_linear.bias.detach().numpy(), layer[0][1])
