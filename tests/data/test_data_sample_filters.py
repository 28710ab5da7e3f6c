"""Loading filters of the paper's data: VASARI ``None`` and unlisted labels, the pre-op scan
filter, the TCGA sample-type filter and the label-blind mean-expression gene filter."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data import (
    TRAIT_COLUMNS,
    Cohort,
    filter_low_expression,
    read_expression,
    read_vasari,
    sample_type,
)
from radiogenomics.errors import InputError

ROW = {
    "f5.proportion.enhancing": "Less than 1/3",
    "f6.proportion.ncet": "Minimal",
    "f7.proportion.necrosis": "More than 2/3",
    "f14.proportion.edema": "Between 1/3 and 2/3",
    "f9.multifocal.or.multicentric": "Focal",
    "f10.t1.flair.ratio": "expansive (T1~FLAIR)",
}


def _vasari(path, rows: list[dict], patients: list[str], scan_types: list[str] | None = None):
    df = pd.DataFrame([{**ROW, **r} for r in rows])[list(TRAIT_COLUMNS.values())]
    df.insert(0, "", patients)
    if scan_types is not None:
        df.insert(1, "scan.type", scan_types)
    df.to_csv(path, index=False)
    return path


# ------------------------------------------------------------------------------------- VASARI
def test_vasari_none_proportion_is_low(tmp_path):
    f = _vasari(
        tmp_path / "v.csv",
        [
            {"f6.proportion.ncet": "None", "f7.proportion.necrosis": "none"},
            {"f6.proportion.ncet": "n/a", "f9.multifocal.or.multicentric": "None"},
        ],
        ["TCGA-AA-0001", "TCGA-AA-0002"],
    )
    v, rep = read_vasari(f, report=True)
    assert v.loc["TCGA-AA-0001", "ncet"] == "<1/3" and v.loc["TCGA-AA-0001", "necrosis"] == "<1/3"
    assert rep.none_as_low == {"ncet": 1, "necrosis": 1}
    # n/a stays missing; 'None' is not a focality grade, so it stays missing there.
    assert pd.isna(v.loc["TCGA-AA-0002", "ncet"]) and pd.isna(v.loc["TCGA-AA-0002", "focal"])
    assert rep.missing["ncet"] == 1 and rep.missing["focal"] == 1 and rep.missing["edema"] == 0
    assert "'None' read as <1/3" in str(rep)


def test_vasari_unlisted_focality_and_t1_flair_labels(tmp_path):
    f = _vasari(
        tmp_path / "v.csv",
        [
            {"f9.multifocal.or.multicentric": "Bilateral", "f10.t1.flair.ratio": "ill-defined"},
            {"f9.multifocal.or.multicentric": "Bilateral", "f10.t1.flair.ratio": "mixed (T1<F)"},
            {"f9.multifocal.or.multicentric": "Multicentric"},
            {},
        ],
        ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003", "TCGA-AA-0004"],
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v, rep = read_vasari(f, report=True)
    said = " ".join(str(w.message) for w in caught)
    assert "outside the VASARI wording read as non-focal: 'Bilateral' x2" in said
    assert "read as infiltrative: 'ill-defined' x1" in said
    assert v["focal"].tolist() == ["non-focal", "non-focal", "non-focal", "focal"]
    assert v["infiltrative"].tolist() == ["infiltrative", "infiltrative", "expansive", "expansive"]
    # Only the labels outside the VASARI wording are counted; Multicentric and mixed are known.
    assert rep.unlisted_labels == {"focal": {"Bilateral": 2}, "infiltrative": {"ill-defined": 1}}
    assert "unlisted labels read as infiltrative: 'ill-defined' x1" in str(rep)


def test_vasari_pre_op_filter(tmp_path):
    post = {"f5.proportion.enhancing": "More than 2/3"}
    f = _vasari(
        tmp_path / "v.csv",
        [{}, post, {}, post, {}],
        ["TCGA-AA-0001", "TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003", "TCGA-AA-0004"],
        scan_types=["pre-operative", "post-operative", "", "Post-op", "Preop MRI"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the post-op row must not conflict with the pre-op one
        v, rep = read_vasari(f, report=True)
    # TCGA-AA-0003 had only a post-op scan: gone; an empty scan type is kept.
    assert list(v.index) == ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0004"]
    assert v.loc["TCGA-AA-0001", "enhancing"] == "<1/3"
    assert rep.rows_in == 5 and rep.rows_not_pre_op == 2 and rep.rows_without_scan_type == 1
    assert rep.scan_types == {
        "pre-operative": 1,
        "post-operative": 1,
        "": 1,
        "Post-op": 1,
        "Preop MRI": 1,
    }
    with pytest.warns(UserWarning, match="conflicting"):
        every = read_vasari(f, pre_op_only=False)
    assert len(every) == 4 and pd.isna(every.loc["TCGA-AA-0001", "enhancing"])
    g = _vasari(tmp_path / "w.csv", [{}], ["TCGA-AA-0001"], scan_types=["post-operative"])
    with pytest.raises(InputError, match="no pre-operative scan") as e:
        read_vasari(g)
    assert "scan.type" in str(e.value)


@pytest.mark.realdata
def test_real_vasari_report(shared_data):
    v, rep = read_vasari(shared_data / "tcga_gbm/vasari_annotations_20_patients.csv", report=True)
    assert rep.scan_types == {"pre-operative": 20} and rep.rows_not_pre_op == 0
    assert rep.unlisted_labels == {} and rep.none_as_low == {}
    assert rep.missing == {t: int(v[t].isna().sum()) for t in v.columns}
    assert rep.missing["infiltrative"] == 1 and rep.n_patients == 20


# -------------------------------------------------------------------------------- sample types
def _counts(samples, n_genes=8, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        rng.integers(1, 1000, size=(n_genes, len(samples))).astype(float),
        index=pd.Index([f"G{i}|{i}" for i in range(n_genes)], name="gene_id"),
        columns=list(samples),
    )


def _log2cpm(column: pd.Series) -> np.ndarray:
    return np.log2(column / column.sum() * 1e6 + 1).to_numpy()


def test_sample_type_codes():
    assert sample_type("TCGA-02-0047-01A-01R-1849-01") == "01"
    assert sample_type("TCGA-02-0047-11A") == "11"
    assert sample_type("TCGA-02-0047") is None and sample_type("patient_7") is None


def test_primary_tumour_kept_normal_dropped(tmp_path):
    samples = [
        "TCGA-AA-0001-01A-01R",
        "TCGA-AA-0001-11A-01R",
        "TCGA-AA-0002-01A",
        "TCGA-AA-0003-02A",
    ]
    m = _counts(samples)
    m.to_csv(tmp_path / "x.tsv", sep="\t")
    with pytest.warns(UserWarning, match="2 samples of TCGA sample types other than 01"):
        df, rep = read_expression(tmp_path / "x.tsv", scale="counts", report=True)
    assert list(df.index) == ["TCGA-AA-0001", "TCGA-AA-0002"]
    # The tumour aliquot alone, not its mean with the normal tissue.
    np.testing.assert_allclose(df.loc["TCGA-AA-0001"], _log2cpm(m[samples[0]]), rtol=1e-6)
    assert rep.samples_dropped_by_type == {"02": [samples[3]], "11": [samples[1]]}
    assert rep.aliquots_averaged == 0 and "samples dropped by type: 2" in str(rep)
    # Every type kept: the old behaviour, the two aliquots of patient 1 averaged.
    every, rep_all = read_expression(
        tmp_path / "x.tsv", scale="counts", sample_types=None, report=True
    )
    mean = (_log2cpm(m[samples[0]]) + _log2cpm(m[samples[1]])) / 2
    np.testing.assert_allclose(every.loc["TCGA-AA-0001"], mean, rtol=1e-6)
    assert rep_all.samples_dropped_by_type == {} and len(every) == 3
    with pytest.warns(UserWarning, match="1 samples of TCGA sample types other than 01, 02"):
        both = read_expression(tmp_path / "x.tsv", scale="counts", sample_types=["01", "02"])
    assert list(both.index) == ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003"]


def test_ids_without_type_are_kept_and_bad_codes_refused(tmp_path):
    m = _counts(["TCGA-AA-0001", "TCGA-AA-0002-01A", "TCGA-AA-0003-11A"])
    m.to_csv(tmp_path / "x.tsv", sep="\t")
    with pytest.warns(UserWarning, match="sample types other than 01"):
        df, rep = read_expression(tmp_path / "x.tsv", scale="counts", report=True)
    assert list(df.index) == ["TCGA-AA-0001", "TCGA-AA-0002"] and rep.samples_without_type == 1
    for bad in (["1"], ["tumour"], []):
        with pytest.raises(InputError, match="sample-type code") as e:
            read_expression(tmp_path / "x.tsv", sample_types=bad)
        assert "two-digit codes" in str(e.value)
    m = _counts(["TCGA-AA-0003-11A", "TCGA-AA-0004-10A"])
    m.to_csv(tmp_path / "n.tsv", sep="\t")
    with pytest.raises(InputError, match="every sample has a TCGA sample type outside 01"):
        read_expression(tmp_path / "n.tsv")


def test_gdc_folder_sample_type_filter(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    for i, barcode in enumerate(["TCGA-AA-0001-01A-01R", "TCGA-AA-0001-11A-01R"]):
        (tmp_path / f"id{i}").mkdir()
        name = f"f{i}.rsem.genes.results"
        pd.DataFrame(
            {
                "gene_id": ["A|1", "B|2", "C|3"],
                "raw_count": rng.integers(1, 100, 3).astype(float),
                "scaled_estimate": rng.random(3) / 3,
            }
        ).to_csv(tmp_path / f"id{i}" / name, sep="\t", index=False)
        rows.append([f"id{i}", name, barcode[:12], barcode[:16], barcode])
    pd.DataFrame(
        rows, columns=["File ID", "File Name", "Case ID", "Sample ID", "Aliquot ID"]
    ).to_csv(tmp_path / "gdc_sample_sheet.tsv", sep="\t", index=False)
    with pytest.warns(UserWarning, match="sample types other than 01"):
        df, rep = read_expression(tmp_path, report=True)
    tumour = pd.read_csv(tmp_path / "id0" / "f0.rsem.genes.results", sep="\t", index_col=0)
    np.testing.assert_allclose(
        df.loc["TCGA-AA-0001"], np.log2(tumour["scaled_estimate"] * 1e6 + 1), rtol=1e-6
    )
    assert rep.samples_dropped_by_type == {"11": ["TCGA-AA-0001-11A-01R"]}


# ------------------------------------------------------------------------ mean-expression filter
def test_min_mean_expression_filter(tmp_path):
    rng = np.random.default_rng(5)
    log2 = pd.DataFrame(
        rng.normal(loc=np.linspace(-1, 4, 12), scale=0.5, size=(6, 12)),
        index=[f"TCGA-AA-000{i}-01A" for i in range(6)],
        columns=[f"G{i}" for i in range(12)],
    )
    log2.T.to_csv(tmp_path / "x.tsv", sep="\t")
    df, rep = read_expression(
        tmp_path / "x.tsv", scale="log2", min_mean_expression=1.0, report=True
    )
    values = log2.to_numpy(dtype=np.float32).astype(np.float64)
    expected = [g for g, col in zip(log2.columns, values.T, strict=True) if col.mean() >= 1.0]
    assert 0 < len(expected) < 12 and list(df.columns) == expected
    assert rep.low_expression_genes_dropped == 12 - len(expected) and rep.n_genes == len(expected)
    assert "mean log2 expression < 1" in str(rep)
    kept, dropped = filter_low_expression(log2, 1.0)
    assert list(kept.columns) == expected and set(dropped) == set(log2.columns) - set(expected)
    with pytest.raises(InputError, match="no gene has a mean log2 expression >= 100"):
        read_expression(tmp_path / "x.tsv", scale="log2", min_mean_expression=100)
    with pytest.raises(InputError, match="not a finite number"):
        filter_low_expression(log2, float("nan"))


def test_cohort_load_passes_filters(tmp_path):
    samples = ["TCGA-AA-0001-01A", "TCGA-AA-0001-11A", "TCGA-AA-0002-01A", "TCGA-AA-0003-01A"]
    _counts(samples).to_csv(tmp_path / "x.tsv", sep="\t")
    f = _vasari(
        tmp_path / "v.csv",
        [{"f5.proportion.enhancing": "None"}, {}, {}],
        ["TCGA-AA-0001", "TCGA-AA-0002", "TCGA-AA-0003"],
        scan_types=["pre-operative", "pre-operative", "post-operative"],
    )
    with pytest.warns(UserWarning, match="sample types other than 01"):
        c = Cohort.load(tmp_path / "x.tsv", traits=f, scale="counts", min_mean_expression=0.0)
    assert c.expression_report.samples_dropped_by_type == {"11": ["TCGA-AA-0001-11A"]}
    assert c.traits_report.rows_not_pre_op == 1 and c.traits_report.none_as_low == {"enhancing": 1}
    assert list(c.traits.index) == ["TCGA-AA-0001", "TCGA-AA-0002"]
    assert c.traits.loc["TCGA-AA-0001", "enhancing"] == "<1/3"
