"""Patient-level radiogenomic traits on the synthetic cohort: which saliency can find them.

The edema network of the synthetic cohort learns EMT. A patient should carry "edema + SYN_EMT"
where EMT pushes edema up (the planted hazard follows that); integrated gradients from the
training-mean profile find those patients, the paper's |gradient| marks everyone alike.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from radiogenomics.data import read_gene_sets
from radiogenomics.data.scaling import Scaler
from radiogenomics.data.synthetic import generate_cohort, read_latent
from radiogenomics.enrichment import radiogenomic_traits
from radiogenomics.interpret import gene_saliency
from radiogenomics.models import NetworkConfig, fit_classifier


@pytest.fixture(scope="module")
def edema_model(tmp_path_factory):
    out = tmp_path_factory.mktemp("cohort")
    gen = generate_cohort(out, seed=0, n_patients=400, n_genes=700)
    c = gen.load()
    y = c.encoded_traits()[0]["edema"].dropna().astype(int)
    X = c.expression.loc[y.index]
    scaler = Scaler.fit(X)
    # dropout spreads the weight over a programme's correlated genes (as the demo's frozen
    # autoencoder layer does), so the programme, not a handful of its genes, carries the call
    cfg = NetworkConfig(
        hidden=(32, 16), activation="tanh", optimizer="adam", batch_size=32, dropout=0.5
    )
    net, _, _ = fit_classifier(scaler.transform(X), y.to_numpy(), None, None, cfg, epochs=30)
    model = SimpleNamespace(network=net, scaler=scaler, classes=("<1/3", ">=1/3"))
    sets = dict(read_gene_sets(gen.paths["gene_sets"]).items())
    return model, X, sets, read_latent(out).loc[X.index]


def _emt_calls(model, X, sets, method):
    scale = "minmax" if method == "absolute" else None
    sal = gene_saliency(model, X, method=method, scale=scale).matrix()
    long = radiogenomic_traits(
        sal, sets, model_name="edema", min_patients=0, nperm=2000, min_size=15, seed=3
    ).table
    return long[long["set"] == "SYN_EMT"].set_index("patient").loc[X.index]


@pytest.mark.slow
def test_integrated_gradients_call_the_patients_whom_emt_drives(edema_model):
    model, X, sets, latent = edema_model
    emt = _emt_calls(model, X, sets, "integrated_gradients")
    called = emt["enriched"].to_numpy(bool)
    assert 0.15 < called.mean() < 0.75  # the call splits the cohort
    assert np.corrcoef(emt["nes"], latent["SYN_EMT"])[0, 1] > 0.6
    drive = latent["edema_emt_drive"].to_numpy()  # what the planted hazard follows
    assert drive[called].mean() - drive[~called].mean() > 0.7


@pytest.mark.slow
def test_absolute_gradient_marks_patients_alike(edema_model):
    model, X, sets, latent = edema_model
    emt = _emt_calls(model, X, sets, "absolute")
    assert emt["enriched"].mean() > 0.9
    assert abs(np.corrcoef(emt["nes"], latent["SYN_EMT"])[0, 1]) < 0.3
