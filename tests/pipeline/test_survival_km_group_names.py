"""Kaplan-Meier legends name the groups: an imaging trait's classes, absent/present for a
radiogenomic trait, female/male and the like for the covariates (not "0" and "1")."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd

from radiogenomics.survival.plots import group_labels


def test_survival_stage_passes_the_group_names_to_the_km_figures(tmp_path, monkeypatch):
    import radiogenomics.survival as survival
    from radiogenomics.pipeline import survival_stage as stage

    rng = np.random.default_rng(1)
    n = 60
    patients = [f"P{i:02d}" for i in range(n)]
    clinical = pd.DataFrame(
        {
            "os_days": rng.integers(30, 1500, n).astype(float),
            "os_event": rng.integers(0, 2, n).astype(float),
            "gender": rng.choice(["male", "female"], n),
            "race": rng.choice(["white", "asian"], n),
            "age": rng.integers(30, 80, n).astype(float),
        },
        index=patients,
    )
    targets = pd.DataFrame({"edema": rng.choice(["<1/3", ">=1/3"], n)}, index=patients)
    sd = SimpleNamespace(
        clinical=clinical,
        kind="imaging",
        task_names=["edema"],
        targets=targets,
        positive=lambda t: ">=1/3",
        expression=pd.DataFrame(index=patients, data={"G1": rng.normal(size=n)}),
    )
    seen = {}

    def write(analysis, out, prefix="", labels=None, **kw):
        seen[prefix] = labels
        return []

    monkeypatch.setattr(stage, "study_data", lambda ctx: sd)
    monkeypatch.setattr(survival, "write_survival", write)
    ctx = SimpleNamespace(
        cfg=SimpleNamespace(
            survival=SimpleNamespace(
                outcomes=["os"],
                forced=["gender", "race", "age"],
                min_patients=5,
                direction="both",
                criterion="aic",
            )
        ),
        done=lambda name: False,
        note=lambda msg: None,
        table=lambda df, name, index=False: None,
        log=SimpleNamespace(info=lambda *a: None),
        dir=tmp_path,
    )
    (tmp_path / "tables").mkdir()
    stage.run_survival(ctx)
    labels = seen["os_"]
    assert labels["edema"] == ("<1/3", ">=1/3")
    assert labels["gender_male"] == ("female", "male")
    assert labels["age_over_median"] == ("age <= median", "age > median")


def test_group_labels_cover_every_kind_of_variable():
    labels = group_labels(
        ["gender_male", "race_white"], {"edema": ("<1/3", ">=1/3")}, ["edema+SYN_EMT"]
    )
    assert labels == {
        "gender_male": ("female", "male"),
        "race_white": ("not white", "white"),
        "edema": ("<1/3", ">=1/3"),
        "edema+SYN_EMT": ("absent", "present"),
    }
