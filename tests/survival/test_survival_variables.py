"""The survival variable table: covariates from clinical text, age split at a reference median,
radiogenomic traits kept when present in enough patients, bad tables refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.survival import SurvivalWarning, survival_variables


@pytest.fixture()
def clinical() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "os_days": [100.0, 200.0, 300.0, 400.0, 500.0, 50.0],
            "os_event": [1.0, 0.0, 1.0, 1.0, 0.0, 1.0],
            "gender": ["male", "FEMALE", "female", None, "Male", "male"],
            "race": [
                "WHITE",
                "BLACK OR AFRICAN AMERICAN",
                "[Not Available]",
                "ASIAN",
                "white",
                None,
            ],
            "age": [40.0, 55.0, 61.0, 70.0, np.nan, 60.0],
        },
        index=[f"P{i}" for i in range(6)],
    )


def test_covariates_and_age_at_reference_median(clinical):
    sv = survival_variables(clinical, reference_ages=[50, 58, 60, 62, 80])  # median 60
    t = sv.table
    assert sv.covariates == ["gender_male", "race_white", "age_over_median"]
    assert sv.outcomes == ["os_days", "os_event"] and sv.age_median == 60
    assert t["gender_male"].tolist()[:3] == [1.0, 0.0, 0.0] and np.isnan(t.loc["P3", "gender_male"])
    assert t.loc["P0", "race_white"] == 1 and t.loc["P1", "race_white"] == 0
    assert t.loc["P3", "race_white"] == 0 and t.loc["P4", "race_white"] == 1
    assert np.isnan(t.loc["P2", "race_white"]) and np.isnan(t.loc["P5", "race_white"])
    # Older than the median (60) -> 1; exactly 60 -> 0; unknown stays unknown.
    assert t["age_over_median"].tolist()[:4] == [0.0, 0.0, 1.0, 1.0]
    assert t.loc["P5", "age_over_median"] == 0 and np.isnan(t.loc["P4", "age_over_median"])
    assert t.loc["P0", "os_days"] == 100


def test_radiogenomic_traits_need_min_patients_and_imaging_is_binary(clinical):
    idx = clinical.index
    imaging = pd.DataFrame({"edema": [1, 0, 1, 0, None, 1]}, index=idx)
    radio = pd.DataFrame(
        {  # of the patients P0-P4 (P5 is not asked for)
            "edema + EMT": [True, True, True, False, False, True],  # 3 with, 2 without: kept
            "nCET + MYC": [True, False, False, False, False, False],  # 1 patient: dropped
            "ncet + E2F": [True, True, True, True, True, False],  # all 5: dropped, no contrast
        },
        index=idx,
    ).iloc[:6]
    patients = list(idx[:5]) + ["P9"]
    with pytest.warns(SurvivalWarning, match="present in, or absent from, fewer than 2"):
        sv = survival_variables(
            clinical, imaging, radio, patients=patients, reference_ages=[60], min_patients=2
        )
    assert sv.imaging == ["edema"] and sv.radiogenomic == ["edema + EMT"]
    assert sv.dropped == {"nCET + MYC": 1, "ncet + E2F": 5}
    assert sv.candidates == ["edema", "edema + EMT"]
    assert list(sv.table.index) == ["P0", "P1", "P2", "P3", "P4", "P9"]
    assert sv.table.loc["P9"].isna().all()  # a patient in no table: every value unknown
    with pytest.warns(SurvivalWarning, match="no reference"):
        survival_variables(clinical)
    bad = imaging.assign(edema=["<1/3", ">=1/3", "<1/3", None, None, "<1/3"])
    with pytest.raises(InputError, match=r"\[edema\].*'<1/3' for patient P0"):
        survival_variables(clinical, bad, reference_ages=[60])
    with pytest.raises(InputError, match="used twice"):
        clash = radio.rename(columns={"edema + EMT": "edema"})
        survival_variables(clinical, imaging, clash, reference_ages=[60], min_patients=2)
    with pytest.raises(InputError, match="no clinical"):
        survival_variables()


def test_a_trait_table_of_other_patients_is_refused(clinical):
    """It used to build the union of both tables and fail later, in the stepwise Cox model,
    with "no patient left ... after removing missing values"."""
    traits = pd.DataFrame({"rg": [1, 0, 1, 0]}, index=["Q0", "Q1", "Q2", "Q3"])
    with pytest.raises(InputError, match=r"\[radiogenomic index\]: none of the 4 patients"):
        survival_variables(clinical, radiogenomic=traits)


def test_race_and_gender_are_coded_as_the_clinical_reader_codes_them(clinical):
    """survival_variables had its own parser: "Caucasian" was non-white there, "woman" unknown."""
    raw = clinical.assign(race=["Caucasian", "Asian", None, "white", "[Not Available]", "Black"])
    raw = raw.assign(gender=["M", "woman", "F", None, "male", "Female"])
    sv = survival_variables(raw, reference_ages=[60])
    assert sv.table["race_white"].tolist()[:2] == [1.0, 0.0] and np.isnan(sv.table["race_white"][2])
    assert sv.table["gender_male"].iloc[[0, 1, 2, 4, 5]].tolist() == [1.0, 0.0, 0.0, 1.0, 0.0]
    with pytest.raises(InputError, match=r"\[race\]: unknown race values \['Martian'\]"):
        survival_variables(raw.assign(race="Martian"), reference_ages=[60])
