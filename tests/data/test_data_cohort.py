"""Cohort alignment, accessors and summary, on small tables and on the real files."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data import Cohort
from radiogenomics.errors import InputError

G = "tcga_gbm/"


def _small():
    pts = [f"P{i}" for i in range(6)]
    expr = pd.DataFrame(
        np.arange(18, dtype=np.float32).reshape(6, 3), index=pts, columns=["A", "B", "C"]
    )
    traits = pd.DataFrame(
        {
            "edema": ["<1/3", ">=1/3", "<1/3", np.nan, np.nan, "<1/3"],
            "focal": ["focal", "focal", np.nan, "non-focal", np.nan, "focal"],
        },
        index=["P0", "P1", "P2", "P3", "P4", "X9"],
        dtype=object,
    )
    clinical = pd.DataFrame(
        {
            "os_days": [10.0, 20, 30, 40, np.nan, 60],
            "os_event": [1.0, 0, 1, 1, np.nan, 0],
            "pfs_days": [5.0, 20, 10, 40, np.nan, 60],
            "pfs_event": [1.0, 0, 1, 0, np.nan, 0],
            "gender": ["male", "female", "male", np.nan, "female", "male"],
            "race_white": [1.0, 0, 1, 1, 1, np.nan],
            "age": [30.0, 40, 50, 60, 70, 80],
        },
        index=pts,
    )
    subtypes = pd.Series(["Neural", "Classical", "Neural"], index=["P0", "P1", "Q"])
    return Cohort(expr, traits, subtypes, clinical, name="small")


def test_accessors():
    c = _small()
    assert list(c.labelled_patients("edema")) == ["P0", "P1", "P2"]
    assert list(c.imaged_patients()) == ["P0", "P1", "P2", "P3"]
    assert list(c.unlabelled_patients()) == ["P4", "P5"]
    y, classes = c.labels("edema")
    assert classes == ("<1/3", ">=1/3") and y.tolist() == [0, 1, 0] and y.dtype == np.float32
    y, classes = c.labels("focal")
    assert classes == ("focal", "non-focal") and y.to_dict() == {"P0": 0, "P1": 0, "P3": 1}
    enc, cls = c.encoded_traits()
    assert enc.shape == (4, 2) and cls["focal"][1] == "non-focal"
    assert c.X(["P1"]).tolist() == [[3, 4, 5]]
    assert c.subtype_labels().to_dict() == {"P0": "Neural", "P1": "Classical"}
    os_ = c.survival("os")
    assert list(os_.index) == ["P0", "P1", "P2", "P3", "P5"] and list(os_.columns) == [
        "days",
        "event",
    ]
    cov = c.covariates()
    # Median age of the transcriptome cohort (30..80) is 55.
    assert cov["age_over_median"].tolist() == [0, 0, 0, 1, 1, 1]
    assert cov["gender_male"].iloc[:3].tolist() == [1, 0, 1] and np.isnan(
        cov["gender_male"].iloc[3]
    )
    assert list(c.subset(["P0", "P2", "ZZ"]).patients) == ["P0", "P2"]
    with pytest.raises(InputError, match="unknown trait 'size'"):
        c.labels("size")
    with pytest.raises(InputError, match="unknown endpoint"):
        c.survival("dfs")


def test_summary_tables():
    c = _small()
    ov = c.overlap_table()
    assert ov.loc["traits"].tolist() == [6, 5] and ov.loc["subtypes"].tolist() == [3, 2]
    assert ov.loc["all tables", "patients"] == 2
    bal = c.balance_table()
    assert bal.loc["edema", ["labelled", "n_negative", "n_positive", "missing"]].tolist() == [
        3,
        2,
        1,
        1,
    ]
    text = str(c)
    assert "6 patients with expression x 3 genes" in text
    assert "without imaging (autoencoder): 2" in text and "OS 5 patients (3 deaths)" in text
    assert repr(c).startswith("Cohort('small', 6 patients x 3 genes")


def test_bad_alignment():
    c = _small()
    with pytest.raises(InputError, match="no patient in common") as e:
        Cohort(c.expression, traits=c.traits.set_axis([f"Z{i}" for i in range(6)]))
    assert "traits" in str(e.value)
    dup = pd.concat([c.expression, c.expression.iloc[:1]])
    with pytest.raises(InputError, match="1 patient on more than one row"):
        Cohort(dup)
    with pytest.raises(InputError, match="no subtype table"):
        Cohort(c.expression).subtype_labels()


@pytest.mark.realdata
def test_real_cohort(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = Cohort.load(
            shared_data / G / "rnaseq_rsem_raw_counts.tsv.gz",
            traits=shared_data / G / "vasari_annotations_20_patients.csv",
            subtypes=shared_data / G / "glioma_molecular_subtypes_2016.tsv",
            clinical=shared_data / G / "nationwidechildrens.org_clinical_patient_gbm.txt",
            follow_up=shared_data / G / "clinical_follow_up_gbm.tsv",
            name="tcga",
        )
    assert c.expression.shape == (153, 20501)
    assert c.expression_report.scale == "counts"
    assert c.overlap_table()["with_expression"].to_dict() == {
        "expression": 153,
        "traits": 7,
        "subtypes": 151,
        "clinical": 153,
        "all tables": 7,
    }
    assert len(c.unlabelled_patients()) == 146
    assert len(c.survival("os")) == len(c.survival("pfs")) == 153
    assert "(8 G-CIMP patients counted as Proneural)" in str(c)
