"""The synthetic cohort: deterministic files that the real readers load, with its planted links
present in the data it writes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from lifelines import CoxPHFitter
from sklearn.metrics import roc_auc_score

from radiogenomics.data import read_gene_sets
from radiogenomics.data.synthetic import (
    FILES,
    PROGRAMMES,
    generate_cohort,
    load_synthetic,
    read_latent,
    read_truth,
)
from radiogenomics.errors import InputError


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    out = tmp_path_factory.mktemp("syn")
    generated = generate_cohort(out, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the synthetic files load without any warning
        c = load_synthetic(out)
    return out, generated, c


def _scores(c, truth):
    x = c.expression
    zs = (x - x.mean()) / x.std()
    return {p: zs[truth["programmes"][p]["genes"]].mean(axis=1) for p in truth["programmes"]}


def test_files_and_shapes(cohort):
    out, generated, c = cohort
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES.values())
    truth = read_truth(out)
    assert truth == generated.truth
    assert c.expression.shape == (500, 3000)
    rep = c.expression_report
    assert rep.scale == "counts" and rep.unknown_dropped == 3 and rep.duplicate_symbols == 1
    assert sorted(rep.patients_with_aliquots) == truth["patients_with_two_aliquots"]
    assert len(c.imaged_patients()) == truth["patients_with_imaging"] == 350
    assert len(c.unlabelled_patients()) == 150
    # Some n/a and empty cells, each missing for one trait only.
    assert c.traits.isna().sum().between(1, 25).all()
    bal = c.balance_table()
    assert bal["positive_fraction"].between(0.25, 0.5).all()  # between 1:1 and 1:3
    assert dict(bal["positive"]) == {t: r["positive"] for t, r in truth["traits"].items()}
    assert len(c.survival("os")) == len(c.survival("pfs")) == 500


def test_gene_sets_hold_programmes_and_decoys(cohort):
    out, generated, c = cohort
    truth = generated.truth
    gs = read_gene_sets(out / FILES["gene_sets"])
    assert set(PROGRAMMES) | set(truth["decoy_sets"]) == set(gs)
    for name, info in truth["programmes"].items():
        assert 20 <= info["size"] <= 80
        members = set(info["genes"])
        assert len(members & set(gs[name])) / len(members) >= 0.85
    assert gs.filter(c.genes, min_size=15, max_size=500).keys() == gs.keys()


def test_programme_scores_and_trait_links(cohort):
    out, generated, c = cohort
    truth = generated.truth
    latent = read_latent(out)
    scores = _scores(c, truth)
    for p in PROGRAMMES:  # the written expression carries each latent score
        assert np.corrcoef(scores[p], latent.loc[c.patients, p])[0, 1] > 0.95
    enc, _ = c.encoded_traits()
    for trait, rule in truth["traits"].items():
        y = enc[trait].dropna()
        aucs = [roc_auc_score(y, scores[p][y.index]) for p in rule["programmes"]]
        controls = [roc_auc_score(y, scores[p][y.index]) for p in truth["control_programmes"]]
        assert max(aucs) > 0.68, (trait, aucs)
        assert max(abs(a - 0.5) for a in controls) < 0.12, (trait, controls)


def test_edema_gate_and_survival_link(cohort):
    out, generated, c = cohort
    truth = generated.truth
    link = truth["radiogenomic_links"][0]
    assert (link["trait"], link["gene_set"]) == ("edema", "SYN_EMT")
    scores = _scores(c, truth)
    enc, _ = c.encoded_traits()
    y = enc["edema"].dropna()
    infl = scores["SYN_INFLAMMATION"][y.index]
    high = infl > infl.median()
    emt = scores["SYN_EMT"][y.index]
    auc_high = roc_auc_score(y[high], emt[high])
    auc_low = roc_auc_score(y[~high], emt[~high])
    assert (
        auc_high > 0.9 and auc_high - auc_low > 0.2
    )  # EMT acts on edema where inflammation is high
    # the hazard driver in latent.tsv is the gated EMT effect, standardised
    latent = read_latent(out)
    gate = 1 / (1 + np.exp(-5 * (latent["SYN_INFLAMMATION"] + 0.2)))
    d = gate * latent["SYN_EMT"]
    np.testing.assert_allclose(
        latent[truth["survival"]["driver"]], (d - d.mean()) / d.std(ddof=0), atol=1e-5
    )
    # recomputed from the observed expression alone, the driver predicts both outcomes
    z = {k: (v - v.mean()) / v.std() for k, v in scores.items()}
    observed = 1 / (1 + np.exp(-5 * (z["SYN_INFLAMMATION"] + 0.2))) * z["SYN_EMT"]
    for endpoint in ("os", "pfs"):
        surv = c.survival(endpoint)
        frame = surv.assign(D=observed[surv.index])
        cox = CoxPHFitter().fit(frame, "days", "event")
        assert cox.hazard_ratios_["D"] > 1.5 and cox.summary.loc["D", "p"] < 1e-6


def test_deterministic_bytes(tmp_path):
    a = generate_cohort(tmp_path / "a", seed=3, n_patients=60, n_genes=800)
    b = generate_cohort(tmp_path / "b", seed=3, n_patients=60, n_genes=800, scale="counts")
    for key in FILES:
        assert a.paths[key].read_bytes() == b.paths[key].read_bytes(), key
    c = generate_cohort(tmp_path / "c", seed=4, n_patients=60, n_genes=800)
    assert c.paths["expression"].read_bytes() != a.paths["expression"].read_bytes()


def test_tpm_variant_and_bad_arguments(tmp_path):
    gen = generate_cohort(tmp_path / "t", seed=1, n_patients=60, n_genes=800, scale="tpm")
    c = gen.load()
    assert c.expression_report.scale == "tpm" and c.expression.shape == (60, 800)
    small = generate_cohort(tmp_path / "s", seed=2, n_patients=50, n_genes=300).load()
    sets = read_gene_sets(tmp_path / "s" / FILES["gene_sets"]).filter(small.genes, 15, 500)
    assert small.expression.shape == (50, 300) and set(PROGRAMMES) <= set(sets)
    with pytest.raises(InputError, match="n_genes=100 is too small"):
        generate_cohort(tmp_path / "x", n_genes=100)
    with pytest.raises(InputError, match="unknown scale"):
        generate_cohort(tmp_path / "x", scale="fpkm")
    with pytest.raises(InputError, match="no truth.json"):
        read_truth(tmp_path)
