"""check_table refuses what no survival analysis can use: a patient on two rows, an infinite
duration or value, an event that is not 0/1; its errors name the patient, or the row's
position when the table has no patient index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.errors import InputError
from radiogenomics.survival import run_survival
from radiogenomics.survival._frame import check_table


@pytest.fixture()
def table() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame(
        {
            "os_days": np.round(rng.exponential(500, n)) + 1,
            "os_event": rng.integers(0, 2, n),
            "gender_male": rng.integers(0, 2, n),
            "edema": rng.integers(0, 2, n).astype(float),
        },
        index=pd.Index([f"P{i:03d}" for i in range(n)], name="patient"),
    )


def test_duplicate_patient_is_refused(table):
    df = pd.concat([table, table.iloc[[3]]])
    with pytest.raises(InputError, match=r"patient 'P003' appears 2 times.*one row per patient"):
        check_table(df, "os_days", "os_event", ["gender_male"])


def test_infinite_duration_or_value_is_refused(table):
    df = table.copy()
    df.loc["P002", "os_days"] = np.inf
    with pytest.raises(InputError, match=r"\[os_days\]: infinite duration inf for patient 'P002'"):
        run_survival(df, "os_days", "os_event", ["gender_male"], ["edema"])
    df = table.copy()
    df.loc["P004", "edema"] = -np.inf
    with pytest.raises(InputError, match=r"\[edema\]: infinite value -inf for patient 'P004'"):
        check_table(df, "os_days", "os_event", ["edema"])


def test_errors_name_the_patient_or_the_position(table):
    df = table.copy()
    df.loc["P000", "os_days"] = -5.0
    with pytest.raises(InputError, match=r"negative duration -5.0 for patient 'P000'"):
        check_table(df, "os_days", "os_event", [])
    df = df.reset_index(drop=True)
    with pytest.raises(InputError, match=r"-5.0 for the row at position 0 \(0-based\)"):
        check_table(df, "os_days", "os_event", [])


def test_event_read_as_text_names_the_bad_value(table):
    df = table.astype({"os_event": str})  # one text cell in a file makes every event a string
    df.loc["P006", "os_event"] = "Dead"
    with pytest.raises(InputError, match=r"event value 'Dead' for patient 'P006'"):
        check_table(df, "os_days", "os_event", [])
    check_table(table.astype({"os_event": str}), "os_days", "os_event", [])  # "0"/"1" are fine
