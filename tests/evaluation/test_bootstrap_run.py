"""The bootstrap stage: shared resamples across model types, differences against an independent
computation, resuming after an interruption, extending B, and independence of the worker count."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.evaluation.bootstrap import POOLED, run_bootstrap
from radiogenomics.execution import LocalExecutor

NN_CONFIG = {
    "hidden": [8, 4],
    "activation": "tanh",
    "optimizer": "adam",
    "dropout": 0.1,
    "batch_size": 10,
    "max_epochs": 12,
    "patience": 4,
}
MODELS = ["nn", "logreg_l2", "svm_rbf", "random_forest"]


def cohort(n: int = 70, p: int = 30, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, n))
    X = rng.standard_normal((n, p)) + 4.0
    X[:, :5] += a[:, None]
    X[:, 5:10] += b[:, None]
    patients = [f"P{i:03d}" for i in range(n)]
    traits = pd.DataFrame(
        {
            "edema": np.where(a + 0.5 * rng.standard_normal(n) > 0.5, "large", "small"),
            "focal": ((b > 0.3) & (a > -1)).astype(float),
        },
        index=patients,
    )
    traits.iloc[:3, 1] = np.nan
    return pd.DataFrame(X, index=patients, columns=[f"G{j}" for j in range(p)]), traits


CHOSEN = {
    trait: {
        "nn": NN_CONFIG,
        "logreg_l2": {"C": 0.1},
        "svm_rbf": {"C": 1.0, "gamma": "scale"},
        "random_forest": {"n_estimators": 25, "max_features": "sqrt"},
    }
    for trait in ("edema", "focal")
}


class Interrupted(Exception):
    pass


class StopAfter:
    """An in-process executor that dies after ``n`` finished units (like a killed run)."""

    name = "stop-after"

    def __init__(self, n: int):
        self.n = n
        self.items = 0

    def map(self, fn, items, *, shared=None, on_result=None, **_):
        self.items = len(items)
        out = []
        for i, item in enumerate(items):
            if i == self.n:
                raise Interrupted
            out.append(fn(item, shared))
            on_result(i, out[-1])
        return out


def run(out, n_reps=3, executor=None, data=None, **kw):
    X, traits = data or cohort()
    return run_bootstrap(
        X,
        traits,
        CHOSEN,
        n_reps=n_reps,
        n_splits=3,
        seed=11,
        executor=executor or LocalExecutor(1, quiet=True),
        out_dir=out,
        models=MODELS,
        **kw,
    )


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    return out, run(out)


def test_tables_shapes_and_shared_resamples(full):
    out, res = full
    assert len(res.folds) == 3 * 2 * len(MODELS) * 3  # reps x traits x models x folds
    assert res.n_computed == 3 * 2 * len(MODELS)
    # every model type of a repetition trained and was scored on the same resamples
    per_set = res.folds.groupby(["trait", "rep", "fold"]).resample_id.nunique()
    assert (per_set == 1).all()
    assert (
        res.folds.groupby(["trait", "fold"]).resample_id.nunique().min() == 3
    )  # new split per rep
    assert res.folds.auc.between(0, 1).all()
    nn = res.folds[res.folds.model == "nn"]
    assert nn.best_epoch.between(1, NN_CONFIG["max_epochs"]).all()
    assert res.folds.loc[res.folds.model != "nn", "best_epoch"].isna().all()
    # the planted signal is found: above-chance AUC for every model on "edema"
    edema = res.auc[res.auc.trait == "edema"].groupby("model").auc.mean()
    assert (edema > 0.6).all(), edema
    for stem in ("bootstrap_folds", "bootstrap_auc", "bootstrap_differences", "bootstrap_summary"):
        assert (out / f"{stem}.parquet").exists() and (out / f"{stem}.csv").exists()
    for ext in ("png", "svg"):
        assert (out / f"bootstrap_differences.{ext}").stat().st_size > 1000


def test_differences_match_an_independent_computation(full):
    _, res = full
    f = res.folds
    rep_auc = f.groupby(["trait", "model", "rep"]).auc.mean().unstack("model")
    for other in MODELS[1:]:
        expected = (rep_auc["nn"] - rep_auc[other]).rename("difference")
        got = res.differences[res.differences.model == other].set_index(["trait", "rep"])
        got = got.loc[expected.index, "difference"]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), atol=1e-12)
        pooled = expected.groupby("rep").mean()
        got_pooled = res.differences[
            (res.differences.model == other) & (res.differences.trait == POOLED)
        ].set_index("rep")["difference"]
        np.testing.assert_allclose(got_pooled.loc[pooled.index], pooled, atol=1e-12)
        for trait in ("edema", "focal", POOLED):
            d = (expected.xs(trait) if trait != POOLED else pooled).to_numpy()
            row = res.summary[(res.summary.trait == trait) & (res.summary.model == other)].iloc[0]
            assert row.diff_mean == pytest.approx(d.mean())
            lo, hi = np.percentile(d, [2.5, 97.5])
            assert (row.diff_ci_low, row.diff_ci_high) == pytest.approx((lo, hi))
    assert res.summary[res.summary.model == "nn"].diff_mean.isna().all()


def test_a_resumed_bootstrap_equals_an_uninterrupted_one(full, tmp_path):
    _, res = full
    total = 3 * 2 * len(MODELS)
    with pytest.raises(Interrupted):
        run(tmp_path, executor=StopAfter(5))
    assert len(list((tmp_path / "units").glob("*.json"))) == 5
    second = StopAfter(10**9)
    resumed = run(tmp_path, executor=second)
    assert second.items == total - 5 and resumed.n_computed == total - 5
    pd.testing.assert_frame_equal(resumed.folds, res.folds)
    pd.testing.assert_frame_equal(resumed.summary, res.summary)
    pd.testing.assert_frame_equal(
        pd.read_parquet(tmp_path / "bootstrap_differences.parquet"), res.differences
    )
    # nothing left to do: a third run computes nothing and gives the same table
    again = run(tmp_path, executor=StopAfter(0))
    assert again.n_computed == 0
    pd.testing.assert_frame_equal(again.folds, res.folds)


def test_a_larger_b_extends_a_smaller_one_and_changed_data_recomputes(full, tmp_path):
    _, res = full
    small = run(tmp_path, n_reps=2)
    pd.testing.assert_frame_equal(small.folds, res.folds[res.folds.rep < 2].reset_index(drop=True))
    grown = run(tmp_path, n_reps=3)
    assert grown.n_computed == 2 * len(MODELS)  # only repetition 2 is new
    pd.testing.assert_frame_equal(grown.folds, res.folds)
    X, traits = cohort()
    X.iloc[0, 0] += 1.0  # one value of P000 changed
    changed = run(tmp_path, n_reps=1, data=(X, traits))
    # P000 is labelled for edema only (missing for focal): only edema's units are recomputed
    assert changed.n_computed == len(MODELS)


@pytest.mark.slow
def test_results_do_not_depend_on_the_worker_count(full, tmp_path):
    _, res = full
    two = run(tmp_path, n_reps=2, executor=LocalExecutor(2, quiet=True))
    pd.testing.assert_frame_equal(two.folds, res.folds[res.folds.rep < 2].reset_index(drop=True))


def test_a_transferred_network_uses_the_autoencoder(tmp_path):
    from radiogenomics.data.scaling import Scaler
    from radiogenomics.errors import InputError
    from radiogenomics.models import AutoencoderConfig, TrainedAutoencoder, fit_autoencoder

    X, traits = cohort()
    ae_cfg = AutoencoderConfig(hidden=(8, 4), optimizer="adam", max_epochs=3, batch_size=10)
    scaler = Scaler.fit(X)
    Z = scaler.transform(X)
    net, best, _ = fit_autoencoder(Z, None, ae_cfg, seed=0, epochs=3)
    ae = TrainedAutoencoder(net, scaler, scaler.genes, ae_cfg.to_dict(), best)
    chosen = {"edema": {"nn": {**NN_CONFIG, "ae_layers": 1, "frozen": True}}}
    kw = dict(n_reps=1, n_splits=3, seed=11, executor=LocalExecutor(1, quiet=True))
    with pytest.raises(InputError, match=r"\['edema'\] transfers autoencoder layers"):
        run_bootstrap(X, traits, chosen, out_dir=tmp_path, **kw)
    res = run_bootstrap(X, traits, chosen, out_dir=tmp_path, autoencoder=ae, **kw)
    assert res.n_computed == 1 and res.folds.auc.between(0, 1).all()
    # another autoencoder is another input: the unit on disk is not reused
    net2, _, _ = fit_autoencoder(Z, None, ae_cfg, seed=1, epochs=3)
    ae2 = TrainedAutoencoder(net2, scaler, scaler.genes, ae_cfg.to_dict(), best)
    assert run_bootstrap(X, traits, chosen, out_dir=tmp_path, autoencoder=ae2, **kw).n_computed == 1
    assert run_bootstrap(X, traits, chosen, out_dir=tmp_path, autoencoder=ae2, **kw).n_computed == 0


def test_an_unknown_reference_is_refused_and_a_reference_not_run_is_said():
    """reference='svm' (for svm_linear), or a chosen without the network: the summary used to
    come back with no difference columns at all, without a word."""
    from radiogenomics.errors import InputError

    X, traits = cohort(n=30, p=10)
    chosen = {"edema": {"nn": NN_CONFIG, "logreg_l2": {"C": 1.0}}}
    kw = dict(n_reps=1, n_splits=3, executor=LocalExecutor(1, quiet=True))
    with pytest.raises(InputError, match=r"\[reference\]: unknown reference model 'svm'"):
        run_bootstrap(X, traits, chosen, reference="svm", **kw)
    with pytest.warns(UserWarning, match=r"edema: the reference model 'nn' is not run"):
        alone = run_bootstrap(X, traits, {"edema": {"logreg_l2": {"C": 1.0}}}, **kw)
    assert len(alone.auc) == 1  # the AUCs alone, as asked
    with pytest.raises(InputError, match=r"\[n_reps\]"):
        run_bootstrap(X, traits, chosen, **{**kw, "n_reps": 0})
