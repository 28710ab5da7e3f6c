"""numerics="keras": Glorot-uniform init, Keras' BatchNorm and optimiser constants, both engines.

Each piece is checked against a computation written here from Keras 2.2.4's definitions, not
against the package's own code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from radiogenomics.data.scaling import Scaler
from radiogenomics.models import NetworkConfig, TrainedModel
from radiogenomics.models.config import AutoencoderConfig
from radiogenomics.models.engine import (
    FoldData,
    StackedOptimizer,
    _plain_optimizer,
    batch_bounds,
    init_network,
    train_batched,
    train_plain,
)
from radiogenomics.models.numerics import bn_update_share, get_numerics
from radiogenomics.models.training import (
    autoencoder_spec,
    classifier_spec,
    fit_autoencoders,
    fit_classifiers,
)
from radiogenomics.utils.seeding import derive_seed


def _data(n=60, p=20, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=n) > 0).astype(np.int64)
    return X, y


def _linears(net):
    return [m for m in net.modules() if isinstance(m, torch.nn.Linear)]


def test_glorot_uniform_init_bounds_and_distribution():
    spec = classifier_spec(NetworkConfig(hidden=(300, 50), numerics="keras"), 400, 2)
    net = init_network(spec, seed=3)
    for lin in _linears(net):
        fan_out, fan_in = lin.weight.shape
        bound = np.sqrt(6.0 / (fan_in + fan_out))
        w = lin.weight.detach().double().numpy().ravel()
        assert np.abs(w).max() <= bound
        assert np.all(lin.bias.detach().numpy() == 0.0)
        if w.size >= 10_000:  # enough draws to test the distribution itself
            assert np.abs(w).max() > 0.99 * bound
            assert stats.kstest(w, "uniform", args=(-bound, 2 * bound)).pvalue > 1e-3
    # PyTorch's default draws from the narrower U(+-1/sqrt(fan_in)) and has non-zero biases
    torch_net = init_network(classifier_spec(NetworkConfig(hidden=(300, 50)), 400, 2), seed=3)
    first = torch_net.first_linear
    assert np.abs(first.weight.detach().numpy()).max() <= 1 / np.sqrt(400)
    assert np.abs(first.bias.detach().numpy()).max() > 0
    # seeded: the same seed gives the same Keras initialisation
    again = init_network(spec, seed=3)
    assert torch.equal(again.first_linear.weight, net.first_linear.weight)


def _tf_debiased_moving_average(values, momentum=0.99):
    """TensorFlow 1's ``assign_moving_average(v, value, momentum, zero_debias=True)`` after each
    value: a biased average started from 0, divided by ``1 - momentum ** t``."""
    biased = np.zeros_like(values[0])
    for v in values:
        biased = biased - (biased - v) * (1.0 - momentum)
    return biased / (1.0 - momentum ** len(values))


@pytest.mark.parametrize("engine", ["plain", "batched"])
def test_batchnorm_moving_statistics_follow_keras(engine):
    """Three epochs of four minibatches through a frozen first Dense layer (so BatchNorm's input
    is known): the moving mean and (unbiased) variance are Keras' zero-debiased averages with
    momentum 0.99 of the minibatch statistics; evaluation uses epsilon 1e-3."""
    n, p, bs, seed = 40, 8, 10, 4
    X, y = _data(n=n, p=p)
    rng = np.random.default_rng(7)
    # small weights: BatchNorm's input has a small variance, so its epsilon shows
    W = (0.1 * rng.normal(size=(6, p))).astype(np.float32)
    b = rng.normal(size=6).astype(np.float32)
    cfg = NetworkConfig(hidden=(6,), batch_size=bs, numerics="keras", ae_layers=1, frozen=True)
    spec = classifier_spec(cfg, p, 2)
    data = FoldData(Z_train=X, y_train=y, seed=seed, epochs=3, transfer=[(W, b)])
    fit = train_plain(spec, data) if engine == "plain" else train_batched(spec, [data])[0]
    # the minibatches: each epoch one permutation from the network's training generator
    gen = torch.Generator().manual_seed(derive_seed(seed, "train"))
    h = X.astype(np.float64) @ W.T.astype(np.float64) + b
    means, variances = [], []
    for _ in range(3):
        perm = torch.randperm(n, generator=gen).numpy()
        for s, e in batch_bounds(n, bs):
            means.append(h[perm[s:e]].mean(0))
            variances.append(h[perm[s:e]].var(0, ddof=1))
    norm = fit.network.blocks[0].norm
    assert int(norm.num_batches_tracked) == 12
    expected_mean = _tf_debiased_moving_average(means)
    np.testing.assert_allclose(norm.running_mean.numpy(), expected_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        norm.running_var.numpy(), _tf_debiased_moving_average(variances), rtol=1e-5
    )
    # PyTorch's convention (momentum 0.1 from 0 and 1) lands elsewhere
    plain_ema = np.zeros(6)
    for v in means:
        plain_ema = 0.9 * plain_ema + 0.1 * v
    assert np.abs(plain_ema - expected_mean).max() > 1e-2
    assert norm.eps == pytest.approx(1e-3) and norm.momentum == pytest.approx(0.01)
    # evaluation: the output computed by hand with epsilon 1e-3 (1e-5 would differ)
    net = fit.network.eval()
    out = net.output

    def by_hand(eps):
        z = (h - norm.running_mean.numpy()) / np.sqrt(norm.running_var.numpy() + eps)
        a = np.tanh(z * norm.weight.detach().numpy() + norm.bias.detach().numpy())
        return a @ out.weight.detach().double().numpy().T + out.bias.detach().numpy()

    with torch.no_grad():
        got = net(torch.as_tensor(X)).double().numpy()
    np.testing.assert_allclose(got, by_hand(1e-3), atol=1e-5)
    assert np.abs(got - by_hand(1e-5)).max() > 1e-3


def test_zero_debiased_share_of_each_update():
    keras, torch_ = get_numerics("keras"), get_numerics("torch")
    assert bn_update_share(keras, 1) == pytest.approx(1.0)  # the first update replaces 0 / 1
    t = np.arange(1, 2000)
    share = bn_update_share(keras, t)
    np.testing.assert_allclose(share, 0.01 / (1 - 0.99**t))
    assert share[-1] == pytest.approx(0.01, rel=1e-6)
    assert bn_update_share(torch_, 5) == 0.1


def _keras_adadelta(p, grads, lr=1.0, rho=0.95, eps=1e-7):
    """Keras 2.2.4's Adadelta.get_updates, step by step."""
    a, d_a = np.zeros_like(p), np.zeros_like(p)
    for g in grads:
        a = rho * a + (1.0 - rho) * g**2
        update = g * np.sqrt(d_a + eps) / np.sqrt(a + eps)
        p = p - lr * update
        d_a = rho * d_a + (1.0 - rho) * update**2
    return p


def _keras_nadam(p, grads, lr=2e-3, b1=0.9, b2=0.999, eps=1e-7, schedule_decay=0.004):
    """Keras 2.2.4's Nadam.get_updates, step by step."""
    m, v, m_schedule = np.zeros_like(p), np.zeros_like(p), 1.0
    for t, g in enumerate(grads, start=1):
        mom_t = b1 * (1.0 - 0.5 * 0.96 ** (t * schedule_decay))
        mom_t1 = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * schedule_decay))
        m_schedule_new = m_schedule * mom_t
        m_schedule_next = m_schedule * mom_t * mom_t1
        m_schedule = m_schedule_new
        g_prime = g / (1.0 - m_schedule_new)
        m = b1 * m + (1.0 - b1) * g
        m_prime = m / (1.0 - m_schedule_next)
        v = b2 * v + (1.0 - b2) * g**2
        v_prime = v / (1.0 - b2**t)
        m_bar = (1.0 - mom_t) * g_prime + mom_t1 * m_prime
        p = p - lr * m_bar / (np.sqrt(v_prime) + eps)
    return p


@pytest.mark.parametrize("name,reference", [("adadelta", _keras_adadelta), ("nadam", _keras_nadam)])
def test_optimisers_follow_keras_updates(name, reference):
    rng = np.random.default_rng(1)
    p0 = rng.normal(size=(2, 7))
    # small gradients make epsilon matter (Adadelta's first steps are about sqrt(eps))
    grads = [1e-3 * rng.normal(size=(2, 7)) for _ in range(8)]
    expected = np.stack([reference(p0[k], [g[k] for g in grads]) for k in range(2)])
    cfg = NetworkConfig(hidden=(4,), optimizer=name, numerics="keras")
    spec = classifier_spec(cfg, 7, 2)
    stacked = torch.tensor(p0).requires_grad_(True)
    opt = StackedOptimizer(name, cfg.lr, [stacked], 2, spec.constants)
    plain_params = [torch.tensor(p0[k]).requires_grad_(True) for k in range(2)]
    plain_opts = [_plain_optimizer(spec, [q]) for q in plain_params]
    for g in grads:
        stacked.grad = torch.tensor(g)
        opt.step([stacked], np.array([True, True]))
        for k in range(2):
            plain_params[k].grad = torch.tensor(g[k])
            plain_opts[k].step()
    np.testing.assert_allclose(stacked.detach().numpy(), expected, rtol=1e-9, atol=1e-12)
    for k in range(2):
        np.testing.assert_allclose(plain_params[k].detach().numpy(), expected[k], rtol=1e-9)
    # PyTorch's constants (rho 0.9 / eps 1e-6, or eps 1e-8) give a different trajectory
    torch_spec = classifier_spec(NetworkConfig(hidden=(4,), optimizer=name), 7, 2)
    q = torch.tensor(p0[0]).requires_grad_(True)
    other = _plain_optimizer(torch_spec, [q])
    for g in grads:
        q.grad = torch.tensor(g[0])
        other.step()
    assert not np.allclose(q.detach().numpy(), expected[0], rtol=1e-6, atol=0)


def test_optimiser_constants_and_default_learning_rates():
    keras = get_numerics("keras")
    assert (keras.adadelta_rho, keras.adadelta_eps, keras.bn_eps) == (0.95, 1e-7, 1e-3)
    assert keras.bn_momentum == pytest.approx(1 - 0.99)
    assert NetworkConfig(numerics="keras").lr == 1.0  # Adadelta
    assert NetworkConfig(optimizer="sgd", numerics="keras").lr == 0.01
    assert NetworkConfig(optimizer="sgd").lr == 1e-3
    assert NetworkConfig(optimizer="nadam", numerics="keras", learning_rate=0.5).lr == 0.5
    assert autoencoder_spec(AutoencoderConfig(numerics="keras"), 10).numerics == "keras"
    with pytest.raises(ValueError, match="numerics"):
        NetworkConfig(numerics="tensorflow")


@pytest.mark.parametrize("optimizer,dropout", [("adadelta", 0.3), ("nadam", 0.0)])
def test_batched_equals_plain_under_keras_numerics(optimizer, dropout):
    X, y = _data(n=90, p=30)
    idx = np.arange(90)
    folds = [(X[idx % 3 != i], y[idx % 3 != i], X[idx % 3 == i], y[idx % 3 == i]) for i in range(3)]
    cfg = NetworkConfig(
        hidden=(12, 6), optimizer=optimizer, dropout=dropout, max_epochs=10, patience=4,
        numerics="keras",
    )  # fmt: skip
    a = fit_classifiers(folds, cfg, seeds=[1, 2, 3], engine="batched")
    b = fit_classifiers(folds, cfg, seeds=[1, 2, 3], engine="plain")
    for (na, ea, ha), (nb, eb, hb) in zip(a, b, strict=True):
        assert ea == eb
        np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-4, atol=1e-6)
        with torch.no_grad():
            oa, ob = na.eval()(torch.as_tensor(X)), nb.eval()(torch.as_tensor(X))
        np.testing.assert_allclose(oa.numpy(), ob.numpy(), rtol=1e-3, atol=1e-4)
        assert na.blocks[1].norm.eps == pytest.approx(1e-3)


def test_saved_model_keeps_keras_batchnorm(tmp_path):
    X, y = _data(n=40, p=6)
    cfg = NetworkConfig(hidden=(5,), numerics="keras", max_epochs=3)
    net, _, _ = fit_classifiers([(X, y, None, None)], cfg, seeds=[0], epochs=3)[0]
    genes = [f"G{i}" for i in range(6)]
    frame = pd.DataFrame(X, columns=genes)
    scaler = Scaler.fit(frame)
    model = TrainedModel(net, scaler, scaler.genes, ["a", "b"], "t", cfg.to_dict(), 3)
    back = TrainedModel.load(model.save(tmp_path / "m"))
    assert back.network.blocks[0].norm.eps == pytest.approx(1e-3)
    assert back.network.blocks[0].norm.momentum == pytest.approx(0.01)
    pd.testing.assert_frame_equal(back.predict_proba(frame), model.predict_proba(frame))


def test_autoencoder_under_keras_numerics_same_in_both_engines():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3)) @ rng.normal(size=(3, 12)) + 0.3 * rng.normal(size=(60, 12))
    X = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    folds = [(X[:45], X[45:]), (X[15:], X[:15])]
    cfg = AutoencoderConfig(hidden=(8, 4), max_epochs=5, patience=3, numerics="keras")
    a = fit_autoencoders(folds, cfg, [1, 2])
    b = fit_autoencoders(folds, cfg, [1, 2], engine="plain")
    for (na, ea, ha), (nb, eb, hb) in zip(a, b, strict=True):
        assert ea == eb
        np.testing.assert_allclose(ha["val_metric"], hb["val_metric"], atol=1e-5)
        for block_a, block_b in zip(na.blocks, nb.blocks, strict=True):
            assert block_a.norm.eps == pytest.approx(1e-3)
            np.testing.assert_allclose(
                block_a.norm.running_var.numpy(), block_b.norm.running_var.numpy(), rtol=1e-4
            )
