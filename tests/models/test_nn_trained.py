"""TrainedModel / TrainedAutoencoder: prediction by gene name, persistence, config validation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import r2_score

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.models import (
    MLP,
    AutoencoderConfig,
    NetworkConfig,
    TrainedAutoencoder,
    TrainedModel,
)
from radiogenomics.models.trained import mean_r2


def _model(n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    genes = [f"G{i}" for i in range(6)]
    X = pd.DataFrame(
        rng.normal(3, 2, size=(12, 6)), index=[f"P{i}" for i in range(12)], columns=genes
    )
    torch.manual_seed(seed)
    net = MLP(6, (5, 3), 1 if n_classes == 2 else n_classes, dropout=0.4)
    # make BatchNorm statistics non-trivial
    net.train()
    with torch.no_grad():
        for _ in range(3):
            net(torch.randn(8, 6))
    classes = ["neg", "pos"] if n_classes == 2 else [f"c{i}" for i in range(n_classes)]
    scaler = Scaler.fit(X)
    m = TrainedModel(net, scaler, scaler.genes, classes, "trait", {"hidden": [5, 3]}, 7)
    return m, X


def test_predict_proba_standardises_reorders_and_scores():
    m, X = _model()
    Z = ((X - X.mean()) / X.std(ddof=0)).to_numpy(np.float32)
    with torch.no_grad():
        expected = torch.sigmoid(m.network.eval()(torch.as_tensor(Z))[:, 0]).numpy()
    p = m.predict_proba(X[X.columns[::-1]])
    assert list(p.columns) == ["neg", "pos"] and list(p.index) == list(X.index)
    np.testing.assert_allclose(p["pos"], expected, rtol=1e-5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0)
    assert not m.network.training  # eval mode: dropout off, deterministic
    pd.testing.assert_frame_equal(p, m.predict_proba(X))


def test_multiclass_softmax_and_logits_contract():
    m, X = _model(n_classes=3)
    Z = m.standardise(X)
    logits = m.logits(Z)
    assert logits.shape == (12, 3)
    net = m.network
    with torch.no_grad():
        t = torch.as_tensor(Z)
        via_first = net.forward_from_first(net.first_linear(net.input_dropout(t))).numpy()
    np.testing.assert_allclose(logits, via_first, rtol=1e-6)
    p = m.predict_proba(X)
    np.testing.assert_allclose(
        p.to_numpy(), np.exp(logits) / np.exp(logits).sum(1, keepdims=True), rtol=1e-5
    )


def test_refuses_missing_genes_nan_and_wrong_shapes():
    m, X = _model()
    with pytest.raises(InputError, match="1 of the model's 6 genes are missing: G3"):
        m.predict_proba(X.drop(columns="G3"))
    Xn = X.copy()
    Xn.iloc[0, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        m.predict_proba(Xn)
    with pytest.raises(ValueError, match="standardised"):
        m.logits(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="3 classes need 3 outputs"):
        TrainedModel(m.network, m.scaler, m.genes, ["a", "b", "c"], "t", {}, 1)


def test_save_load_round_trip_without_pickle(tmp_path):
    m, X = _model(n_classes=4)
    m.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == ["model.json", "weights.safetensors"]
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["genes"] == list(m.genes) and meta["classes"] == m.classes
    back = TrainedModel.load(tmp_path / "m")
    assert back.genes == m.genes and back.classes == m.classes and back.best_epoch == 7
    np.testing.assert_array_equal(back.scaler.mean_, m.scaler.mean_)  # float64 kept exactly
    pd.testing.assert_frame_equal(back.predict_proba(X), m.predict_proba(X))
    for k, v in m.network.state_dict().items():
        assert torch.equal(v, back.network.state_dict()[k])
    with pytest.raises(InputError, match="not an autoencoder"):
        TrainedAutoencoder.load(tmp_path / "m")
    with pytest.raises(InputError, match="missing model file"):
        TrainedModel.load(tmp_path / "nothing")


def test_autoencoder_round_trip_and_r2(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(20, 5)), columns=list("abcde"))
    torch.manual_seed(0)
    net = MLP(5, (4, 2, 4), 5, input_dropout=0.0).eval()
    sc = Scaler.fit(X)
    ae = TrainedAutoencoder(net, sc, sc.genes, {"hidden": [4, 2]}, 3, {"cv_r2": 0.1})
    assert ae.encoder_sizes == (4, 2)
    W, b = ae.encoder_layers(2)[1]
    assert W.shape == (2, 4) and b.shape == (2,)
    Z = sc.transform(X)
    assert ae.r2(X) == pytest.approx(r2_score(Z, ae.reconstruct(Z)), abs=1e-6)
    ae.save(tmp_path / "ae")
    back = TrainedAutoencoder.load(tmp_path / "ae")
    assert back.r2(X) == pytest.approx(ae.r2(X)) and back.info == {"cv_r2": 0.1}
    with pytest.raises(InputError, match="not a classifier"):
        TrainedModel.load(tmp_path / "ae")


def test_mean_r2_matches_sklearn_and_skips_constant_genes():
    rng = np.random.default_rng(1)
    t = rng.normal(size=(30, 4))
    p = t + 0.5 * rng.normal(size=(30, 4))
    assert mean_r2(t, p) == pytest.approx(r2_score(t, p))
    t2 = np.column_stack([t, np.ones(30)])
    p2 = np.column_stack([p, np.zeros(30)])
    assert mean_r2(t2, p2) == pytest.approx(r2_score(t, p))


def test_config_validation_and_defaults():
    c = NetworkConfig()
    assert c.hidden == (4000, 2000, 1000) and c.optimizer == "adadelta" and c.lr == 1.0
    assert NetworkConfig(optimizer="nadam").lr == 2e-3
    assert NetworkConfig(optimizer="sgd", learning_rate=0.1).lr == 0.1
    assert NetworkConfig(dropout=0.4).p_input == 0.4
    assert NetworkConfig(dropout=0.4, input_dropout=0.0).p_input == 0.0
    assert AutoencoderConfig(hidden=(8, 4, 2)).layers == (8, 4, 2, 4, 8)
    assert NetworkConfig(**json.loads(c.model_dump_json())) == c  # TOML/JSON round trip
    for bad in (
        {"ae_layers": 4},
        {"hidden": (4,), "ae_layers": 2},
        {"optimizer": "rmsprop"},
        {"activation": "gelu"},
        {"dropout": 1.0},
        {"hidden": ()},
        {"batch_size": 1},
        {"unknown": 1},
    ):
        with pytest.raises(InputError, match=r"\[NetworkConfig"):  # bad input, named
            NetworkConfig(**bad)
    with pytest.raises(InputError, match=r"\[AutoencoderConfig.batch_size\]: batch_size = 1"):
        AutoencoderConfig(batch_size=1)
