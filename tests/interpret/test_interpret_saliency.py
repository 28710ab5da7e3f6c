"""Gene saliency: gradients checked by finite differences, integrated gradients by Captum."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.interpret import gene_saliency
from radiogenomics.models.network import MLP


def random_model(n_genes=30, n_out=1, activation="tanh", n_patients=8, seed=0, double=True):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = MLP(n_genes, [16, 8], n_out, activation=activation, dropout=0.4)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
    if double:
        net.double()
    net.train()
    genes = [f"G{i}" for i in range(n_genes)]
    X = pd.DataFrame(
        rng.normal(3, 1, (n_patients, n_genes)),
        index=[f"P{i}" for i in range(n_patients)],
        columns=genes,
    )
    classes = ("neg", "pos") if n_out == 1 else tuple(f"C{k}" for k in range(n_out))
    return SimpleNamespace(network=net, scaler=Scaler.fit(X), classes=classes), X


def target_output(model, z, cls, output="logit"):
    """The reference pre-activation output, written independently of the package."""
    net = copy.deepcopy(model.network).eval()
    with torch.no_grad():
        logits = net(torch.as_tensor(z))
    k = list(model.classes).index(cls)
    if logits.shape[1] == 1:
        return (logits[:, 0] if k == 1 else -logits[:, 0]).numpy()
    if output == "logit":
        return logits[:, k].numpy()
    p = torch.softmax(logits, 1)[:, k]
    return torch.log(p / (1 - p)).numpy()


def finite_differences(model, X, cls, output="logit", eps=1e-5):
    z = model.scaler.transform(X).astype(np.float64)
    out = np.empty((z.shape[1], z.shape[0]))
    for g in range(z.shape[1]):
        up, down = z.copy(), z.copy()
        up[:, g] += eps
        down[:, g] -= eps
        out[g] = (
            target_output(model, up, cls, output) - target_output(model, down, cls, output)
        ) / (2 * eps)
    return out


@pytest.mark.parametrize(
    "n_out,activation,output",
    [
        (1, "tanh", "logit"),
        (1, "relu", "log_odds"),
        (4, "sigmoid", "log_odds"),
        (3, "tanh", "logit"),
    ],
)
def test_signed_saliency_equals_finite_differences(n_out, activation, output):
    model, X = random_model(n_out=n_out, activation=activation, seed=n_out)
    per_class = gene_saliency(model, X, method="signed", scale=None, output=output).frames
    assert set(per_class) == set(model.classes if n_out > 1 else ["pos"])
    for cls, frame in per_class.items():
        assert list(frame.index) == list(model.scaler.genes)
        assert list(frame.columns) == list(X.index)
        np.testing.assert_allclose(
            frame.to_numpy(), finite_differences(model, X, cls, output), rtol=1e-5, atol=1e-7
        )
    assert model.network.training


def test_default_output_is_the_class_logit_and_differs_from_log_odds():
    """The paper's (keras-vis) target by default: d l_k / dz, checked by autograd on the class
    logit; log-odds subtracts the softmax-weighted gradients of the other logits."""
    model, X = random_model(n_out=3, seed=21)
    default = gene_saliency(model, X, method="signed", scale=None).frames
    log_odds = gene_saliency(model, X, method="signed", scale=None, output="log_odds").frames
    net = copy.deepcopy(model.network).eval()
    z = torch.as_tensor(model.scaler.transform(X).astype(np.float64)).requires_grad_(True)
    logits = net(z)
    for k, cls in enumerate(model.classes):
        (grad,) = torch.autograd.grad(logits[:, k].sum(), z, retain_graph=True)
        np.testing.assert_allclose(default[cls].to_numpy(), grad.numpy().T, rtol=1e-10)
        # d/dz [l_k - logsumexp(l_j, j != k)] = g_k - sum_j softmax_j(others) g_j
        others = [j for j in range(3) if j != k]
        w = torch.softmax(logits[:, others], dim=1).detach()
        mix = sum(
            w[:, i : i + 1] * torch.autograd.grad(logits[:, j].sum(), z, retain_graph=True)[0]
            for i, j in enumerate(others)
        )
        np.testing.assert_allclose(log_odds[cls].to_numpy(), (grad - mix).numpy().T, rtol=1e-8)
        assert not np.allclose(default[cls], log_odds[cls], rtol=1e-3)
    binary, Xb = random_model(seed=22)
    pd.testing.assert_frame_equal(
        gene_saliency(binary, Xb, method="signed", scale=None).matrix(),
        gene_saliency(binary, Xb, method="signed", scale=None, output="log_odds").matrix(),
    )


def test_negative_class_is_the_negated_gradient_and_absolute_minmax_keeps_ranking():
    model, X = random_model(seed=4)
    signed = gene_saliency(model, X, method="signed", scale=None).matrix()
    neg = gene_saliency(model, X, target="neg", method="signed", scale=None).matrix()
    np.testing.assert_allclose(neg, -signed, atol=1e-12)
    paper = gene_saliency(model, X).matrix()  # absolute, per-patient min-max: the paper's default
    assert paper.min().min() == 0.0 and np.allclose(paper.max(), 1.0)
    for p in X.index:
        assert (paper[p].rank().to_numpy() == signed[p].abs().rank().to_numpy()).all()


def test_batched_equals_one_patient_at_a_time_in_float32():
    model, X = random_model(n_out=3, n_patients=12, seed=9, double=False)
    batched = gene_saliency(model, X, method="signed", scale=None, memory_budget_mb=0.01).frames
    for p in ["P0", "P7", "P11"]:
        alone = gene_saliency(model, X.loc[[p]], method="signed", scale=None).frames
        for cls in model.classes:
            np.testing.assert_allclose(batched[cls][p], alone[cls][p], rtol=1e-4, atol=1e-6)


def test_integrated_gradients_complete_and_agree_with_captum():
    from captum.attr import IntegratedGradients

    model, X = random_model(n_out=3, seed=12)
    ig = gene_saliency(
        model,
        X,
        method="integrated_gradients",
        scale=None,
        n_steps=64,
        memory_budget_mb=0.05,
        output="log_odds",
    ).frames
    z = model.scaler.transform(X).astype(np.float64)
    for cls, frame in ig.items():
        # completeness: attributions sum to f(z) - f(baseline 0)
        gap = target_output(model, z, cls, "log_odds") - target_output(
            model, np.zeros_like(z), cls, "log_odds"
        )
        np.testing.assert_allclose(frame.sum(axis=0), gap, rtol=1e-4, atol=1e-6)
    net = copy.deepcopy(model.network).eval()
    k = 1

    def log_odds(x):
        logits = net(x)
        others = [j for j in range(3) if j != k]
        return logits[:, k] - torch.logsumexp(logits[:, others], dim=1)

    ref = IntegratedGradients(log_odds).attribute(
        torch.as_tensor(z), baselines=0.0, n_steps=64, method="gausslegendre"
    )
    np.testing.assert_allclose(ig["C1"].to_numpy(), ref.numpy().T, rtol=1e-6, atol=1e-9)


def test_saliency_refuses_bad_arguments():
    model, X = random_model()
    with pytest.raises(InputError, match="method"):
        gene_saliency(model, X, method="guided")
    with pytest.raises(InputError, match="target"):
        gene_saliency(model, X, target="maybe")
    with pytest.raises(InputError, match="scale"):
        gene_saliency(model, X, scale="zscore")
    with pytest.raises(InputError, match="output"):
        gene_saliency(model, X, output="probability")
    with pytest.raises(InputError, match="genes are missing"):
        gene_saliency(model, X.drop(columns="G3"))
