"""VASARI annotations: the six traits, their class labels and the binary encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data import TRAIT_COLUMNS, TRAITS, encode_binary, read_vasari
from radiogenomics.errors import InputError

VASARI = "tcga_gbm/vasari_annotations_20_patients.csv"


@pytest.mark.realdata
def test_real_vasari_counts(shared_data):
    v = read_vasari(shared_data / VASARI)
    assert v.shape == (20, 6) and list(v.columns) == list(TRAITS)
    counts = {t: v[t].value_counts().to_dict() for t in TRAITS}
    assert counts == {
        "enhancing": {"<1/3": 11, ">=1/3": 9},
        "ncet": {"<1/3": 13, ">=1/3": 7},
        "necrosis": {"<1/3": 17, ">=1/3": 3},
        "edema": {"<1/3": 12, ">=1/3": 8},
        "focal": {"focal": 16, "non-focal": 4},
        "infiltrative": {"expansive": 11, "infiltrative": 8},
    }
    assert v["infiltrative"].isna().sum() == 1 and pd.isna(v.loc["TCGA-14-1401", "infiltrative"])
    # The patient with n/a stays in the other tasks.
    assert v.loc["TCGA-14-1401"].notna().sum() == 5
    positives = {t: encode_binary(v[t])[1][1] for t in TRAITS}
    assert positives == {
        "enhancing": ">=1/3",
        "ncet": ">=1/3",
        "necrosis": ">=1/3",
        "edema": ">=1/3",
        "focal": "non-focal",
        "infiltrative": "infiltrative",
    }


def _write(path, rows, patients=None):
    cols = list(TRAIT_COLUMNS.values())
    df = pd.DataFrame(rows, columns=cols)
    df.insert(0, "", patients or [f"TCGA-AA-000{i}" for i in range(len(rows))])
    df.to_csv(path, index=False)


ROW = [
    "Less than 1/3",
    "Minimal",
    "More than 2/3",
    "Between 1/3 and 2/3",
    "Focal",
    "expansive (T1~FLAIR)",
]


def test_mapping_and_missing(tmp_path):
    f = tmp_path / "v.csv"
    _write(
        f,
        [
            ROW,
            ["", "n/a", "indeterminate", "Minimal", "Multicentric", "mixed (T1 less than FLAIR)"],
            ROW[:4] + ["Gliomatosis", "infiltrative (T1 much smaller than FLAIR)"],
        ],
    )
    v = read_vasari(f)
    assert v.iloc[0].tolist() == ["<1/3", "<1/3", ">=1/3", ">=1/3", "focal", "expansive"]
    assert v.iloc[1, :3].isna().all()
    assert v.iloc[1, 3:].tolist() == ["<1/3", "non-focal", "infiltrative"]
    assert v.iloc[2, 4:].tolist() == ["non-focal", "infiltrative"]


def test_unknown_label_names_row_and_column(tmp_path):
    f = tmp_path / "v.csv"
    _write(f, [ROW, ROW[:2] + ["About half"] + ROW[3:]])
    with pytest.raises(InputError) as e:
        read_vasari(f)
    msg = str(e.value)
    assert "f7.proportion.necrosis" in msg and "'About half'" in msg and "TCGA-AA-0001" in msg
    assert "row 3" in msg and "More than 2/3" in msg and "v.csv" in msg


def test_missing_column_and_wrong_delimiter(tmp_path):
    f = tmp_path / "v.csv"
    pd.DataFrame({"": ["TCGA-AA-0001"], "f5.proportion.enhancing": ["Minimal"]}).to_csv(
        f, index=False
    )
    with pytest.raises(InputError, match="missing VASARI column"):
        read_vasari(f)
    g = tmp_path / "w.csv"
    g.write_text("patient|f5.proportion.enhancing\nTCGA-AA-0001|Minimal\n")
    with pytest.raises(InputError, match="delimiter"):
        read_vasari(g)
    h = tmp_path / "h.csv"
    h.write_text("patient,scan.type," + ",".join(TRAIT_COLUMNS.values()) + "\n")
    with pytest.raises(InputError, match="h.csv: the table has a header but no data rows"):
        read_vasari(h)  # said "no pre-operative scan in the table"


def test_column_names_match_in_any_case_and_with_any_separator(tmp_path):
    """'F5 Proportion Enhancing' and 'F5_PROPORTION_ENHANCING' are f5.proportion.enhancing (a
    spreadsheet export renames them); two columns that read as one feature are refused, and a
    missing feature's error lists the file's columns."""
    f = tmp_path / "v.csv"
    _write(f, [ROW, ROW[:2] + ["Minimal"] + ROW[3:]])
    expected = read_vasari(f)
    table = pd.read_csv(f, dtype=str, keep_default_na=False)
    g = tmp_path / "renamed.csv"
    for names in (
        {c: c.replace(".", " ").title() for c in TRAIT_COLUMNS.values()},
        {c: c.replace(".", "_").upper() for c in TRAIT_COLUMNS.values()},
    ):
        table.rename(columns=names).to_csv(g, index=False)
        pd.testing.assert_frame_equal(read_vasari(g), expected)
    both = table.assign(**{"F5 Proportion Enhancing": table["f5.proportion.enhancing"]})
    both.to_csv(g, index=False)
    with pytest.raises(InputError) as err:
        read_vasari(g)
    assert "columns 'f5.proportion.enhancing' and 'F5 Proportion Enhancing' both read as" in str(
        err.value
    )
    table.drop(columns="f6.proportion.ncet").to_csv(g, index=False)
    with pytest.raises(InputError) as err:
        read_vasari(g)
    assert "missing VASARI column(s) f6.proportion.ncet (the file's columns: Unnamed: 0, f5." in (
        str(err.value)
    )


def test_duplicates(tmp_path):
    f = tmp_path / "v.csv"
    other = ["More than 2/3"] + ROW[1:]
    _write(f, [ROW, ROW, other], patients=["TCGA-AA-0001", "TCGA-AA-0001", "TCGA-AA-0002"])
    v = read_vasari(f)
    assert v.shape == (2, 6) and v.loc["TCGA-AA-0001", "enhancing"] == "<1/3"
    _write(f, [ROW, other], patients=["TCGA-AA-0001", "TCGA-AA-0001"])
    with pytest.warns(UserWarning, match="TCGA-AA-0001 is listed 2 times with conflicting"):
        v = read_vasari(f)
    assert pd.isna(v.loc["TCGA-AA-0001", "enhancing"])
    assert v.loc["TCGA-AA-0001", "ncet"] == "<1/3"


def test_encode_binary():
    s = pd.Series(["a", "b", "b", None, "b"], name="t")
    enc, classes = encode_binary(s)
    assert classes == ("b", "a")
    assert enc.tolist()[:3] == [1.0, 0.0, 0.0] and np.isnan(enc.iloc[3])
    enc, classes = encode_binary(s, positive="b")
    assert classes == ("a", "b") and enc.iloc[1] == 1.0
    # Tie on a known trait: the second listed class is positive.
    enc, classes = encode_binary(pd.Series(["focal", "non-focal"]))
    assert classes == ("focal", "non-focal")
    with pytest.raises(InputError, match=r"\[t\]: 3 classes \(a, b, c\) in 't'"):
        encode_binary(pd.Series(["a", "b", "c"], name="t"))
    with pytest.raises(InputError) as err:  # an unnamed Series: no '[None]' field
        encode_binary(pd.Series(["a", "b", "c"]))
    assert str(err.value).startswith("3 classes (a, b, c) in the labels")
    with pytest.raises(InputError, match="only 1 class"):
        encode_binary(pd.Series(["a", "a"], name="t"))
    with pytest.raises(InputError, match="positive class 'z'"):
        encode_binary(s, positive="z")
