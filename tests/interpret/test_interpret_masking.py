"""Gene masking: the closed-form fast path equals masking by hand; tables, null, out-of-fold."""

from __future__ import annotations

import copy
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from radiogenomics.data.scaling import Scaler
from radiogenomics.errors import InputError
from radiogenomics.interpret import gene_masking, masking_from_folds
from radiogenomics.interpret._engine import (
    MaskingEngine,
    gene_set_logits,
    naive_masking_logits,
    single_gene_logits,
)
from radiogenomics.models.network import MLP


def random_model(
    n_genes=40, hidden=(24, 12, 6), n_out=1, activation="tanh", dropout=0.3, n_patients=36, seed=0
):
    """A random MLP with non-trivial BatchNorm statistics, its scaler and a cohort."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = MLP(n_genes, list(hidden), n_out, activation=activation, dropout=dropout)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.normal_(0, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
    net.train()  # interpretation must switch to eval itself and restore this
    genes = [f"G{i}" for i in range(n_genes)]
    patients = [f"P{i:02d}" for i in range(n_patients)]
    X = pd.DataFrame(rng.normal(5, 2, (n_patients, n_genes)), index=patients, columns=genes)
    X.iloc[: n_patients // 3, 3] = 0.0  # ties: a gene with many zero counts
    classes = ("neg", "pos") if n_out == 1 else tuple(f"C{k}" for k in range(n_out))
    model = SimpleNamespace(network=net, scaler=Scaler.fit(X), classes=classes)
    y = pd.Series(rng.choice(classes, n_patients), index=patients)
    return model, X, y


def by_hand(model, X, keep):
    """Mask the raw expression (others at the training mean), standardise, run, probabilities."""
    net = copy.deepcopy(model.network).eval()
    Xm = X.copy()
    for g in model.scaler.genes:
        if g not in keep:
            Xm[g] = model.scaler.mean[g]
    x = torch.as_tensor(model.scaler.transform(Xm), dtype=next(net.parameters()).dtype)
    with torch.no_grad():
        logits = net(x).double()
    if logits.shape[1] == 1:
        p = torch.sigmoid(logits[:, 0])
        return torch.stack([1 - p, p], 1).numpy()
    return torch.softmax(logits, 1).numpy()


@pytest.mark.parametrize(
    "n_out,activation", [(1, "tanh"), (1, "relu"), (4, "sigmoid"), (3, "tanh")]
)
def test_fast_masking_equals_masking_by_hand(n_out, activation):
    model, X, y = random_model(n_out=n_out, activation=activation, seed=n_out)
    sets = {
        "a": ["G1", "G2", "G3", "NOT_A_GENE"],
        "b": [f"G{i}" for i in range(0, 40, 3)],
        "c": ["G39"],
        "absent": ["NOPE"],
    }
    res = gene_masking(model, X, y, gene_sets=sets, return_probabilities=True, collection="toy")
    assert model.network.training  # the caller's mode is restored
    for g in ["G0", "G3", "G17", "G39"]:
        np.testing.assert_allclose(res.probability_frame(g), by_hand(model, X, {g}), atol=1e-5)
    for name in ["a", "b", "c"]:
        expected = by_hand(model, X, set(sets[name]))
        np.testing.assert_allclose(res.probability_frame(name, "toy"), expected, atol=1e-5)
    row = res.table[(res.table["set"] == "a")].iloc[0]
    assert (row["size"], row["set_size"], row["coverage_pct"]) == (3, 4, 75.0)
    assert "absent" not in set(res.table["set"]) and any("absent" in n for n in res.notes)
    n_classes = 1 if n_out == 1 else n_out
    assert len(res.table) == (40 + 3) * n_classes
    with pytest.raises(InputError, match=r"\[class_\]: unknown class 'Nope'"):
        res.probability_matrix("Nope")  # "'Nope' is not in list" before


class OtherMLP(MLP):
    """Not the package's MLP class: the engine must use its forward_from_first as is."""


@pytest.mark.parametrize("fused", [True, False])
def test_engine_matches_dense_masking_in_bulk(fused):
    model, X, _ = random_model(n_genes=60, hidden=(32, 16), n_out=4, seed=7)
    net = model.network.eval()
    if not fused:
        other = OtherMLP(60, [32, 16], 4, activation="relu", dropout=0.2)
        other.load_state_dict(net.state_dict())
        net = other.eval()
    assert MaskingEngine(net).fused is fused
    Z = torch.as_tensor(model.scaler.transform(X))
    genes = np.arange(60)
    fast = single_gene_logits(net, Z, genes, memory_budget_mb=0.05)  # many small chunks
    naive = naive_masking_logits(net, Z, [np.array([g]) for g in genes])
    np.testing.assert_allclose(fast, naive, atol=1e-5)
    no_dedupe = single_gene_logits(net, Z, genes, dedupe=False)
    np.testing.assert_allclose(no_dedupe, fast, atol=1e-6)
    rng = np.random.default_rng(0)
    sets = [np.sort(rng.choice(60, size=k, replace=False)) for k in (1, 2, 5, 30, 60, 7, 7)]
    fast_sets = gene_set_logits(net, Z, sets, memory_budget_mb=0.05)
    np.testing.assert_allclose(fast_sets, naive_masking_logits(net, Z, sets), atol=1e-5)


def test_table_scores_match_sklearn_in_float64():
    model, X, y = random_model(n_out=3, seed=11)
    model.network.double()
    sets = {"s": ["G5", "G6", "G7", "G8"]}
    res = gene_masking(model, X, y, gene_sets=sets, single_genes=["G5", "G9"], collection="c")
    for name, keep in [("G5", {"G5"}), ("G9", {"G9"}), ("s", set(sets["s"]))]:
        probs = by_hand(model, X, keep)
        for k, cls in enumerate(model.classes):
            row = res.table[(res.table["set"] == name) & (res.table["class"] == cls)].iloc[0]
            assert row["auc"] == pytest.approx(roc_auc_score(y == cls, probs[:, k]), abs=1e-9)
            assert row["ap"] == pytest.approx(
                average_precision_score(y == cls, probs[:, k]), abs=1e-9
            )
    assert set(res.table["mode"]) == {"retrained"}


def planted_model(n_genes=80, n_patients=60, seed=3):
    """A network that reads only genes G0..G7: their sum decides the label."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = MLP(n_genes, [8], 1, activation="tanh", dropout=0.0)
    with torch.no_grad():
        w = torch.zeros(8, n_genes)
        w[:, :8] = 0.5
        net.first_linear.weight.copy_(w)
        net.first_linear.bias.zero_()
        net.output.weight.fill_(1.0)
        net.output.bias.zero_()
    net.eval()
    genes = [f"G{i}" for i in range(n_genes)]
    X = pd.DataFrame(
        rng.normal(size=(n_patients, n_genes)),
        columns=genes,
        index=[f"P{i}" for i in range(n_patients)],
    )
    sc = Scaler.fit(X)
    z = sc.transform(X)
    y = pd.Series(
        np.where(z[:, :8].sum(1) + rng.normal(0, 1, n_patients) > 0, "pos", "neg"), index=X.index
    )
    return SimpleNamespace(network=net, scaler=sc, classes=("neg", "pos")), X, y


def test_size_matched_null_flags_the_planted_set_only():
    model, X, y = planted_model()
    sets = {
        "signal": [f"G{i}" for i in range(8)],
        "noise": [f"G{i}" for i in range(40, 48)],
        "noise_small": ["G50", "G51", "G52"],
    }
    res = gene_masking(model, X, y, gene_sets=sets, single_genes=False, null_draws=99, seed=5)
    t = res.table.set_index("set")
    assert t.loc["signal", "auc"] > 0.8 and t.loc["signal", "p_auc"] == pytest.approx(0.01)
    assert t.loc["noise", "auc"] == 0.5 and t.loc["noise", "p_auc"] > 0.3
    # p-values are read off the shared draws of the set's size, which the result keeps
    null8 = res.null[(res.null["size"] == 8)]
    assert len(null8) == 99 and set(res.null["size"]) == {3, 8}
    expected = (1 + (null8["ap"] >= t.loc["noise", "ap"] - 1e-12).sum()) / 100
    assert t.loc["noise", "p_ap"] == pytest.approx(expected)
    assert t["q_auc"].notna().all() and (t["q_auc"] >= t["p_auc"] - 1e-12).all()
    again = gene_masking(model, X, y, gene_sets=sets, single_genes=False, null_draws=99, seed=5)
    pd.testing.assert_frame_equal(again.table, res.table)


def test_out_of_fold_pools_each_patient_from_its_fold_model():
    models, folds = [], []
    base, X, y = random_model(n_out=3, seed=21)
    patients = list(X.index)
    for k in range(3):
        m, _, _ = random_model(n_out=3, seed=30 + k)
        held = patients[k::3]
        train = [p for p in patients if p not in held]
        Xtr = X.loc[train].copy()
        if k == 1:
            Xtr["G7"] = 1.0  # constant in this fold's training patients: dropped by its scaler
        m.scaler = Scaler.fit(Xtr)
        if k == 1:  # rebuild its network for the smaller input
            net = MLP(39, [24, 12, 6], 3, activation="tanh", dropout=0.3)
            m.network = net
        models.append(m)
        folds.append(held)
    sets = {"s": ["G5", "G7", "G9"], "t": ["G7"]}
    res = masking_from_folds(
        models,
        folds,
        X,
        y,
        gene_sets=sets,
        single_genes=["G7", "G2"],
        return_probabilities=True,
        collection="c",
    )
    assert set(res.table["mode"]) == {"out_of_fold"}
    for name, keep in [("G2", {"G2"}), ("G7", {"G7"}), ("s", {"G5", "G7", "G9"}), ("t", {"G7"})]:
        pooled = pd.DataFrame(index=X.index, columns=list(base.classes), dtype=float)
        for m, held in zip(models, folds, strict=True):
            kept = keep & set(m.scaler.genes)
            pooled.loc[held] = by_hand(m, X.loc[held], kept)
        np.testing.assert_allclose(res.probability_frame(name), pooled.to_numpy(), atol=1e-5)
        for cls in base.classes:
            row = res.table[(res.table["set"] == name) & (res.table["class"] == cls)].iloc[0]
            assert row["auc"] == pytest.approx(roc_auc_score(y == cls, pooled[cls]), abs=1e-3)
    with pytest.raises(InputError, match="no validation fold"):
        masking_from_folds(models, [folds[0], folds[1], folds[2][:-1]], X, y)
    with pytest.raises(InputError, match="held out by folds"):
        masking_from_folds(models, [folds[0], folds[0], folds[2]], X, y)


def test_bad_input_is_refused_with_a_clear_message():
    model, X, y = random_model()
    with pytest.raises(InputError, match="not classes of the model"):
        gene_masking(model, X, y.replace("pos", "maybe"))
    with pytest.raises(InputError, match="genes are missing"):
        gene_masking(model, X.drop(columns=["G4"]), y)
    with pytest.raises(InputError, match="1 gene to mask is not an input of the model: XYZ"):
        gene_masking(model, X, y, single_genes=["G1", "XYZ"])
    with pytest.raises(InputError, match="single string"):
        gene_masking(model, X, y, gene_sets={"s": "G1"}, single_genes=False)
    with pytest.raises(InputError, match="no patient"):
        gene_masking(model, X, y.set_axis([f"Q{i}" for i in range(len(y))]))
    with pytest.raises(InputError, match="has no 'scaler'"):
        gene_masking(SimpleNamespace(network=model.network, classes=model.classes), X, y)


def test_out_of_fold_masking_of_a_cross_validation_run():
    from radiogenomics.evaluation.nn_cv import cross_validate
    from radiogenomics.interpret import out_of_fold_masking
    from radiogenomics.models import NetworkConfig

    _, X, y = random_model(n_genes=25, n_out=3, n_patients=30, seed=41)
    config = NetworkConfig(hidden=(8, 4), max_epochs=3, patience=2, batch_size=8, dropout=0.2)
    cv = cross_validate(X, y, config, n_splits=3, seed=0, keep_models=True, device="cpu")
    every_gene = {"all": list(X.columns)}
    res = out_of_fold_masking(
        cv, X, gene_sets=every_gene, single_genes=["G4"], return_probabilities=True, collection="c"
    )
    # keeping every gene masks nothing: the CV's own out-of-fold probabilities come back
    oof = cv.oof_proba.loc[list(res.patients), list(res.classes)]
    np.testing.assert_allclose(res.probability_frame("all"), oof.to_numpy(), atol=1e-5)
    for fold, model in zip(cv.folds, cv.fold_models, strict=True):
        alone = gene_masking(
            model, X.loc[fold.val_ids], y, single_genes=["G4"], return_probabilities=True
        )
        np.testing.assert_allclose(
            res.probability_frame("G4").loc[fold.val_ids], alone.probability_frame("G4"), atol=1e-6
        )
    cv.fold_models = None
    with pytest.raises(InputError, match="keep_models=True"):
        out_of_fold_masking(cv, X)
