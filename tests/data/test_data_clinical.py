"""Clinical outcomes and covariates from the TCGA layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data import CLINICAL_COLUMNS, age_group, read_clinical, read_expression
from radiogenomics.errors import InputError

PAT = "tcga_gbm/nationwidechildrens.org_clinical_patient_gbm.txt"
FU = "tcga_gbm/clinical_follow_up_gbm.tsv"


@pytest.fixture(scope="module")
def real(shared_data):
    expr = read_expression(shared_data / "tcga_gbm/rnaseq_rsem_tpm.tsv.gz")
    with pytest.warns(UserWarning, match="TCGA-15-1444.*capped"):
        cl = read_clinical(shared_data / PAT, shared_data / FU)
    return cl, expr.index


@pytest.mark.realdata
def test_real_clinical_covers_rnaseq(real):
    cl, patients = real
    # 548 patients in the patient file + 33 listed only in the follow-up forms.
    assert cl.shape == (581, 7) and list(cl.columns) == list(CLINICAL_COLUMNS)
    sub = cl.loc[patients]
    assert (
        sub[["os_days", "os_event", "pfs_days", "pfs_event", "age", "gender"]].notna().all().all()
    )
    assert sub["os_event"].value_counts().to_dict() == {1.0: 121, 0.0: 32}
    assert sub["pfs_event"].value_counts().to_dict() == {1.0: 85, 0.0: 68}
    assert (sub["pfs_days"] <= sub["os_days"]).all()
    assert set(sub["gender"]) == {"male", "female"}
    assert sub["race_white"].isna().sum() == 1


@pytest.mark.realdata
def test_real_clinical_known_patients(real):
    cl, _ = real
    # TCGA-02-0001: dead at 358 (patient file); follow-up form: new tumour event at day 137.
    r = cl.loc["TCGA-02-0001"]
    assert (r.os_days, r.os_event, r.pfs_days, r.pfs_event) == (358, 1, 137, 1)
    assert (r.gender, r.race_white, r.age) == ("female", 1.0, 44)
    # Patient-form row with '256|256': earliest event day 256.
    assert cl.loc["TCGA-06-1806", "pfs_days"] == 256
    # Vital status [Not Available], last contact 95: censored at 95.
    r = cl.loc["TCGA-28-2499"]
    assert (r.os_days, r.os_event) == (95, 0)


def _write_patient(path, rows):
    header = [
        "bcr_patient_uuid",
        "bcr_patient_barcode",
        "gender",
        "race",
        "vital_status",
        "last_contact_days_to",
        "death_days_to",
        "age_at_initial_pathologic_diagnosis",
    ]
    cde = ["CDE_ID:"] + [f"CDE_ID:{i}" for i in range(len(header) - 1)]
    lines = ["\t".join(header), "\t".join(header), "\t".join(cde)]
    lines += ["\t".join(map(str, r)) for r in rows]
    path.write_text("\n".join(lines) + "\n")


def test_small_patient_and_follow_up(tmp_path):
    pat = tmp_path / "patient.txt"
    _write_patient(
        pat,
        [
            ["u1", "TCGA-AA-0001", "MALE", "WHITE", "Dead", 100, 120, 50],
            ["u2", "TCGA-AA-0002", "FEMALE", "ASIAN", "Alive", 300, "[Not Applicable]", 70],
            [
                "u3",
                "TCGA-AA-0003",
                "FEMALE",
                "[Not Available]",
                "Alive",
                50,
                "[Not Applicable]",
                60,
            ],
        ],
    )
    cl = read_clinical(pat)
    assert cl["os_days"].tolist() == [120, 300, 50]
    assert cl["os_event"].tolist() == [1, 0, 0]
    assert cl["pfs_days"].isna().all()
    assert cl["race_white"].iloc[:2].tolist() == [1, 0] and np.isnan(cl["race_white"].iloc[2])
    fu = tmp_path / "fu.tsv"
    pd.DataFrame(
        {
            "bcr_patient_barcode": ["TCGA-AA-0002", "TCGA-AA-0002", "TCGA-AA-0001"],
            "bcr_followup_barcode": ["f1", "f2", "(patient form)"],
            "vital_status": ["alive", "dead", "dead"],
            "days_to_death": ["", "400", ""],
            "days_to_last_followup": ["350", "", ""],
            "days_to_new_tumor_event_after_initial_treatment": ["200|90", "150", "80|60"],
        }
    ).to_csv(fu, sep="\t", index=False)
    cl = read_clinical(pat, fu)
    # Later form: patient 2 died at day 400; earliest event over all forms: 90.
    assert cl.loc["TCGA-AA-0002", ["os_days", "os_event", "pfs_days", "pfs_event"]].tolist() == [
        400,
        1,
        90,
        1,
    ]
    assert cl.loc["TCGA-AA-0001", ["pfs_days", "pfs_event"]].tolist() == [60, 1]
    # No event: censored at the OS time.
    assert cl.loc["TCGA-AA-0003", ["pfs_days", "pfs_event"]].tolist() == [50, 0]


def test_bad_clinical(tmp_path):
    with pytest.raises(InputError, match="not found"):
        read_clinical(tmp_path / "none.txt")
    pat = tmp_path / "patient.txt"
    _write_patient(pat, [["u1", "TCGA-AA-0001", "MALE", "WHITE", "Dead", "soon", 120, 50]])
    with pytest.raises(InputError, match="non-numeric value 'soon'") as e:
        read_clinical(pat)
    assert "last_contact_days_to" in str(e.value)
    _write_patient(
        pat,
        [
            ["u1", "TCGA-AA-0001", "MALE", "WHITE", "Dead", 1, 120, 50],
            ["u2", "TCGA-AA-0001", "MALE", "WHITE", "Dead", 1, 120, 50],
        ],
    )
    with pytest.raises(InputError, match="TCGA-AA-0001 appears in 2 rows"):
        read_clinical(pat)
    (tmp_path / "x.txt").write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="no patient barcode column"):
        read_clinical(tmp_path / "x.txt")


def _follow_up(path, ids, nte):
    pd.DataFrame(
        {
            "bcr_patient_barcode": ids,
            "vital_status": ["dead"] * len(ids),
            "days_to_death": ["500"] * len(ids),
            "days_to_new_tumor_event_after_initial_treatment": nte,
        }
    ).to_csv(path, sep="\t", index=False)


def test_follow_up_of_patients_without_tcga_barcodes(tmp_path):
    pat, fu = tmp_path / "patient.txt", tmp_path / "fu.tsv"
    _write_patient(pat, [["u1", "P0001", "MALE", "WHITE", "Alive", 100, "", 50]])
    _follow_up(fu, ["P0001", "P0001"], ["300", ""])
    row = read_clinical(pat, fu).loc["P0001"]  # the forms were dropped as "not barcodes"
    assert row[["os_days", "os_event", "pfs_days", "pfs_event"]].tolist() == [500, 1, 300, 1]


@pytest.mark.parametrize(
    "cell, message",
    [
        ("2010-05-03", "non-numeric value '2010-05-03' for patient TCGA-AA-0001"),
        ("soon", "non-numeric value 'soon'"),
        ("-30", "negative number of days '-30'"),
        ("120|x", "non-numeric value 'x'"),
    ],
)
def test_new_tumour_event_days_must_be_day_counts(tmp_path, cell, message):
    """A date or a word used to be read as the digits it holds (PFS -5 days) or as no event."""
    pat, fu = tmp_path / "patient.txt", tmp_path / "fu.tsv"
    _write_patient(pat, [["u1", "TCGA-AA-0001", "MALE", "WHITE", "Alive", 100, "", 50]])
    _follow_up(fu, ["TCGA-AA-0001"], [cell])
    with pytest.raises(InputError, match=message) as e:
        read_clinical(pat, fu)
    assert "days_to_new_tumor_event_after_initial_treatment" in str(e.value)
    assert "fu.tsv" in str(e.value)


def test_gender_race_and_age_codes(tmp_path):
    pat = tmp_path / "patient.txt"
    _write_patient(
        pat,
        [
            ["u1", "TCGA-AA-0001", "M", "Caucasian", "Alive", 100, "", 50],
            ["u2", "TCGA-AA-0002", "f", "Black or African American", "Alive", 100, "", 60],
            ["u3", "TCGA-AA-0003", "Female", "[Not Evaluated]", "Alive", 100, "", 70],
        ],
    )
    cl = read_clinical(pat)
    assert cl["gender"].tolist() == ["male", "female", "female"]  # M/F used to be "not male"
    assert cl["race_white"].iloc[:2].tolist() == [1, 0] and np.isnan(cl["race_white"].iloc[2])
    for column, value, expected in [
        (2, "unknown-ish", "male / female"),
        (3, "Martian", "white / Caucasian"),
        (7, "-5", "age at diagnosis in years, 0-130"),
        (7, "550", "age at diagnosis in years"),
    ]:
        row = ["u1", "TCGA-AA-0001", "MALE", "WHITE", "Alive", 100, "", 50]
        row[column] = value
        _write_patient(pat, [row])
        with pytest.raises(InputError, match=expected) as e:
            read_clinical(pat)
        assert value in str(e.value) and "TCGA-AA-0001" in str(e.value)


def test_a_death_without_a_day_is_said(tmp_path):
    pat = tmp_path / "patient.txt"
    _write_patient(
        pat,
        [
            ["u1", "TCGA-AA-0001", "MALE", "WHITE", "Dead", 100, "", 50],
            ["u2", "TCGA-AA-0002", "MALE", "WHITE", "Dead", 100, 80, 50],
        ],
    )
    with pytest.warns(UserWarning, match=r"1 patient dead with no day of death .*TCGA-AA-0001"):
        cl = read_clinical(pat)
    assert np.isnan(cl.loc["TCGA-AA-0001", "os_days"]) and cl.loc["TCGA-AA-0002", "os_days"] == 80


def test_age_group():
    ages = pd.Series([40.0, 50, 60, np.nan, 70], index=list("abcde"))
    ref = pd.Series([30.0, 55, 80])
    g = age_group(ages, ref)
    assert g.attrs["median"] == 55
    assert g.iloc[[0, 1, 2, 4]].tolist() == [0, 0, 1, 1] and np.isnan(g["d"])
    assert age_group(ages).attrs["median"] == 55
