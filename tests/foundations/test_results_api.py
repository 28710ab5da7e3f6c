"""Every result kind has one shape: a ``.table``, its settings, an escaped HTML view for
notebooks and ``plot(ax=None) -> Axes`` drawn on the Axes it is given, without touching the
backend. Each kind is computed on a small cohort with a planted signal, so the figure and the
HTML are checked against what the analysis must find."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from radiogenomics.enrichment import GseaResult, gsea, gsea_many, radiogenomic_traits
from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import CVResult, cross_validate
from radiogenomics.interpret import (
    MaskingResult,
    SaliencyResult,
    gene_saliency,
    out_of_fold_masking,
)
from radiogenomics.models import NetworkConfig
from radiogenomics.survival import (
    CoxUnivariateResult,
    KaplanMeierResult,
    StepwiseResult,
    cox_stepwise,
    cox_univariate,
    kaplan_meier,
)

PLANTED = "UP<b>"  # a set name that must come out escaped in the HTML
SMALL = NetworkConfig(
    hidden=(16,), optimizer="adam", learning_rate=0.01, max_epochs=40, patience=10, batch_size=10
)


@pytest.fixture(scope="module")
def trained():
    """A binary trait planted on genes G0-G7 of 40; the CV keeps its fold models."""
    rng = np.random.default_rng(0)
    n, p = 90, 40
    X = rng.normal(5.0, 1.0, size=(n, p))
    s = X[:, :8].sum(1) + 0.3 * rng.normal(size=n)
    ids = [f"P{i:03d}" for i in range(n)]
    genes = [f"G{j}" for j in range(p)]
    X = pd.DataFrame(X, index=ids, columns=genes)
    y = pd.Series(np.where(s > np.quantile(s, 0.6), "high", "low"), index=ids, name="trait")
    sets = {
        PLANTED: genes[:8],
        "NOISE_A": genes[10:18],
        "NOISE_B": genes[20:28],
        "NOISE_C": genes[30:38],
    }
    cv = cross_validate(X, y, SMALL, n_splits=3, seed=0, keep_models=True)
    return X, y, sets, cv


@pytest.fixture(scope="module")
def survival_frame() -> pd.DataFrame:
    """Exponential survival with a strong planted effect of ``risk`` and none of ``noise``."""
    rng = np.random.default_rng(5)
    n = 160
    risk = rng.integers(0, 2, n)
    noise = rng.integers(0, 2, n)
    cov = rng.integers(0, 2, n)
    t = rng.exponential(1.0 / np.exp(1.2 * risk), n) * 500
    censor = rng.uniform(0, 1500, n)
    return pd.DataFrame(
        {
            "time": np.minimum(t, censor),
            "event": (t <= censor).astype(float),
            "risk": risk.astype(float),
            "noise": noise.astype(float),
            "cov": cov.astype(float),
        }
    )


@pytest.fixture(autouse=True)
def backend_unchanged():
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    yield
    assert matplotlib.get_backend() == before
    plt.close("all")


def given_ax():
    fig = Figure()
    return fig.add_subplot()


def bar_labels(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_yticklabels()]


def check_html(result, must_contain: list[str]) -> str:
    text = result._repr_html_()
    assert result.TITLE in text
    for name in result.SETTINGS:
        assert f"<dt>{name}</dt>" in text
    for value in must_contain:
        assert value in text, value
    assert "<script" not in text
    return text


def test_masking_result(trained):
    X, y, sets, cv = trained
    res = out_of_fold_masking(cv, X, gene_sets=sets, null_draws=20, seed=3, quiet=True)
    assert isinstance(res, MaskingResult)
    best = res.top("ap", n=1, collection="gene_sets").iloc[0]
    assert best["set"] == PLANTED  # the planted set masks best
    first = res.table.iloc[0]
    check_html(res, ["out_of_fold", "<dd>20</dd>", "<dd>3</dd>", f"{first['auc']:.4g}"])
    ax = given_ax()
    assert res.plot(ax=ax, n=3, collection="gene_sets") is ax
    assert len(ax.patches) == 3
    assert bar_labels(ax)[0] == PLANTED
    np.testing.assert_allclose(ax.patches[0].get_width(), best["ap"])
    own = res.plot(n=5)
    assert isinstance(own, Axes) and len(own.patches) == 5
    with pytest.raises(InputError, match="class"):
        res.plot(class_="absent")


def test_cv_result(trained):
    _, _, _, cv = trained
    assert isinstance(cv, CVResult)
    assert list(cv.table.columns[:3]) == ["task", "fold", "auc"]
    assert (cv.table["task"] == "trait").all() and len(cv.table) == 3
    check_html(cv, [f"{cv.table['auc'].iloc[0]:.4g}", SMALL.label()])
    ax = given_ax()
    assert cv.plot(ax=ax) is ax
    assert len(ax.patches) == 1  # one bar: this task's mean AUC
    np.testing.assert_allclose(ax.patches[0].get_height(), cv.mean_auc)
    dots = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.sort(np.asarray(dots)[:, 1]), np.sort(cv.table["auc"]))


def test_saliency_result(trained):
    X, _, _, cv = trained
    res = gene_saliency(cv.fold_models[0], X.iloc[:30], scale=None)
    assert isinstance(res, SaliencyResult)
    assert len(res.table) == res.n_genes * 30
    assert list(res.table.columns) == ["class", "gene", "patient", "saliency"]
    mat = res.matrix()
    first = res.table.iloc[0]
    assert first["saliency"] == pytest.approx(mat.loc[first["gene"], first["patient"]])
    check_html(res, [f"{len(res.table)} rows", "absolute", f"{first['saliency']:.4g}"])
    ax = given_ax()
    assert res.plot(ax=ax, n=6) is ax
    assert len(ax.patches) == 6
    top = mat.mean(axis=1).sort_values(ascending=False)
    assert bar_labels(ax) == list(top.index[:6])
    assert sum(g in {f"G{j}" for j in range(8)} for g in bar_labels(ax)) >= 4  # planted genes
    with pytest.raises(InputError, match="class"):
        res.matrix("absent")


def test_gsea_result_one_and_many_rankings():
    genes = [f"G{j}" for j in range(200)]
    rng = np.random.default_rng(1)
    scores = pd.Series(rng.normal(size=200), index=genes)
    scores.iloc[:20] += 3.0  # the planted set sits at the top
    sets = {PLANTED: genes[:20], "RANDOM": list(rng.choice(genes[20:], 20, replace=False))}
    res = gsea(scores, sets, nperm=500, min_size=5, seed=2)
    assert isinstance(res, GseaResult) and "ranking" not in res.table.columns
    assert res.nperm == 500 and res.min_size == 5 and res.seed == 2
    html = check_html(res, ["UP&lt;b&gt;", f"{res.table['nes'].iloc[0]:.4g}", "<dd>500</dd>"])
    assert "UP<b>" not in html
    ax = given_ax()
    assert res.plot(ax=ax, n=1) is ax
    assert len(ax.patches) == 1 and bar_labels(ax) == [PLANTED]
    assert ax.patches[0].get_width() > 1.0

    both = pd.DataFrame({"a": scores, "b": -scores})
    many = gsea_many(both, sets, nperm=300, min_size=5, seed=2)
    assert many.rankings == ("a", "b") and set(many.table["ranking"]) == {"a", "b"}
    ax = many.plot(ranking="b", n=2)
    widths = {label: p.get_width() for label, p in zip(bar_labels(ax), ax.patches, strict=True)}
    assert widths[PLANTED] < -1.0  # reversed in ranking b
    with pytest.raises(InputError, match="ranking"):
        many.plot(ranking="c")


def test_radiogenomic_traits_result():
    genes = [f"G{j}" for j in range(120)]
    rng = np.random.default_rng(4)
    sal = pd.DataFrame(rng.random((120, 12)), index=genes, columns=[f"P{i}" for i in range(12)])
    sal.iloc[:15, :6] += 2.0  # planted: the first 15 genes lead for half the patients
    sets = {"LEAD": genes[:15], "OTHER": genes[60:75]}
    res = radiogenomic_traits(sal, sets, model_name="m", min_patients=1, nperm=300, seed=0)
    assert res.traits["m + LEAD"].sum() == 6
    check_html(res, ["<dd>m</dd>", "<dd>300</dd>", "m + LEAD"])
    fig = Figure()
    axes = fig.subplots(1, 2)
    out = res.plot(ax=axes)
    assert out is axes and len(out[0].patches) == res.n_traits
    new = res.plot()
    assert len(new) == 2 and all(isinstance(a, Axes) for a in new)


def test_kaplan_meier_result(survival_frame):
    km = kaplan_meier(survival_frame, "time", "event", "risk")
    assert isinstance(km, KaplanMeierResult)
    assert set(km.table["variable"]) == {"risk"} and km.logrank_p < 1e-3
    check_html(km, ["<dd>risk</dd>", f"{km.logrank_p:.4g}", f"{km.table['time'].iloc[0]:.4g}"])
    ax = given_ax()
    assert km.plot(ax=ax, labels=("low", "high")) is ax
    curves = [line for line in ax.get_lines() if "(n=" in line.get_label()]
    assert len(curves) == 2  # one step curve per group
    assert [c.get_label().split()[0] for c in curves] == ["low", "high"]
    assert "p < 0.001" in ax.get_title()


def test_cox_univariate_and_stepwise_results(survival_frame):
    uni = cox_univariate(survival_frame, "time", "event", ["risk", "noise", "cov"])
    assert isinstance(uni, CoxUnivariateResult) and uni.variables == ["risk", "noise", "cov"]
    hr = uni.table.set_index("variable")["hr"]
    assert hr["risk"] > 2.0
    check_html(uni, ["<dd>time</dd>", f"{hr['risk']:.4g}"])
    ax = given_ax()
    assert uni.plot(ax=ax) is ax
    squares = np.asarray(ax.collections[-1].get_offsets())
    np.testing.assert_allclose(np.sort(squares[:, 0]), np.sort(hr.to_numpy()))

    step = cox_stepwise(survival_frame, "time", "event", ["risk", "noise"], forced=["cov"])
    assert isinstance(step, StepwiseResult) and "risk" in step.variables
    assert step.table is step.summary
    check_html(step, ["<dd>both</dd>", "<dd>aic</dd>", f"{step.aic:.4g}"])
    ax = given_ax()
    assert step.plot(ax=ax) is ax
    squares = np.asarray(ax.collections[-1].get_offsets())
    assert len(squares) == len(step.variables)
    own = step.plot(adjusted=False)
    assert isinstance(own, Axes)
