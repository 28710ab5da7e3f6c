"""Subtype labels from both layouts and the Verhaak signature gene sets."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from radiogenomics.data import read_expression, read_subtype_signatures, read_subtypes
from radiogenomics.errors import InputError

PAN = "tcga_gbm/glioma_molecular_subtypes_2016.tsv"
CLANC = "tcga_gbm/TCGA_unified_CORE_ClaNC840.txt"


@pytest.fixture(scope="module")
def rnaseq_patients(shared_data):
    return read_expression(shared_data / "tcga_gbm/rnaseq_rsem_tpm.tsv.gz").index


@pytest.mark.realdata
def test_pan_glioma_counts_over_rnaseq(shared_data, rnaseq_patients):
    five = read_subtypes(shared_data / PAN, four_class=False)
    counts = five.reindex(rnaseq_patients).value_counts().to_dict()
    assert counts == {
        "Mesenchymal": 49,
        "Classical": 39,
        "Proneural": 29,
        "Neural": 26,
        "G-CIMP": 8,
    }
    with pytest.warns(UserWarning, match="G-CIMP patients are labelled Proneural"):
        four = read_subtypes(shared_data / PAN)
    c4 = four.reindex(rnaseq_patients).value_counts().to_dict()
    assert c4 == {"Mesenchymal": 49, "Classical": 39, "Proneural": 37, "Neural": 26}
    assert four.index.name == "patient" and "G-CIMP" in four.attrs["note"]
    # Grade G4 only: 146 + 39 + 157 + 83 + 99 labelled GBM rows in the table.
    assert len(five) == 524


@pytest.mark.realdata
def test_clanc_labels(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = read_subtypes(shared_data / CLANC, four_class=False)
    assert len(s) == 173
    assert s.value_counts().to_dict() == {
        "Mesenchymal": 56,
        "Proneural": 53,
        "Classical": 38,
        "Neural": 26,
    }
    assert s.index.str.len().max() == 12


@pytest.mark.realdata
def test_signatures(shared_data):
    sig = read_subtype_signatures(shared_data / CLANC)
    assert dict(sig.sizes()) == {
        "Proneural": 178,
        "Neural": 129,
        "Classical": 162,
        "Mesenchymal": 216,
    }
    assert "CDKN1B" in sig["Proneural"]
    assert len(sig.genes) == 685


def test_small_tables(tmp_path):
    pan = tmp_path / "pan.tsv"
    pd.DataFrame(
        {
            "Case": ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003", "TCGA-AA-0004"],
            "Original Subtype": ["Classical", "G-CIMP", "Neural", "NA"],
            "Grade": ["G4", "G4", "G3", "G4"],
        }
    ).to_csv(pan, sep="\t", index=False)
    s = read_subtypes(pan, four_class=False)
    assert s.to_dict() == {"TCGA-AA-0001": "Classical", "TCGA-AA-0002": "G-CIMP"}
    bad = tmp_path / "bad.tsv"
    pd.DataFrame({"Case": ["TCGA-AA-0001"], "Original Subtype": ["Glial"], "Grade": ["G4"]}).to_csv(
        bad, sep="\t", index=False
    )
    with pytest.raises(InputError, match="unknown subtype label.*Glial"):
        read_subtypes(bad)
    other = tmp_path / "other.tsv"
    other.write_text("a\tb\n1\t2\n")
    with pytest.raises(InputError, match="unrecognised subtype table layout"):
        read_subtypes(other)


def test_clanc_conflicting_samples(tmp_path):
    f = tmp_path / "clanc.txt"
    f.write_text(
        "CLID\tGO\tTCGA-AA-0001-01A-01\tTCGA-AA-0001-01B-01\tTCGA-AA-0002-01A-01\n"
        "Subtype\tGO genes\tNeural\tClassical\tMesenchymal\n"
        "EGFR\tCL\t1\t2\t3\n"
        "XYZ\t\t1\t2\t3\n"
    )
    with pytest.warns(UserWarning, match="different subtypes"):
        s = read_subtypes(f)
    assert s.to_dict() == {"TCGA-AA-0002": "Mesenchymal"}
    sig = read_subtype_signatures(f)
    assert sig["Classical"] == ("EGFR",) and sig["Proneural"] == ()
    f.write_text(f.read_text().replace("EGFR\tCL", "EGFR\tXX"))
    with pytest.raises(InputError, match="unknown signature code 'XX' for gene EGFR"):
        read_subtype_signatures(f)
