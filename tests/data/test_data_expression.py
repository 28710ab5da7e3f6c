"""read_expression on the real RNA-seq files and on small files covering every format and edge."""

from __future__ import annotations

import gzip
import warnings

import numpy as np
import pandas as pd
import pytest

from radiogenomics.data import LoadReport, read_expression, read_expression_report
from radiogenomics.errors import InputError

RNA = "tcga_gbm/rnaseq_rsem_raw_counts.tsv.gz"
TPM = "tcga_gbm/rnaseq_rsem_tpm.tsv.gz"


@pytest.fixture(scope="module")
def counts(shared_data):
    return read_expression(shared_data / RNA, report=True)


@pytest.fixture(scope="module")
def tpm(shared_data):
    return read_expression(shared_data / TPM, report=True)


@pytest.fixture(scope="module")
def raw_counts(shared_data):
    return pd.read_csv(shared_data / RNA, sep="\t", index_col=0)


@pytest.mark.realdata
def test_real_counts_shape_and_report(counts):
    df, rep = counts
    assert df.shape == (153, 20501)
    assert df.index.name == "patient"
    assert (df.dtypes == np.float32).all()
    assert df.index.is_unique and df.columns.is_unique
    assert rep.scale == "counts" and rep.scale_detected
    assert rep.genes_in == 20531 and rep.samples_in == 155
    assert rep.unknown_dropped == 29
    assert rep.duplicate_symbols == 1 and rep.duplicate_rows_merged == 1
    assert set(rep.patients_with_aliquots) == {"TCGA-06-0211", "TCGA-06-0156"}
    assert rep.aliquots_averaged == 2
    text = str(rep)
    assert "153 patients x 20501 genes" in text and "'?' / empty symbols dropped: 29" in text
    assert not any(g.startswith("?") or "|" in g for g in df.columns)


@pytest.mark.realdata
def test_real_counts_values_are_log2_cpm(counts, raw_counts):
    df, _ = counts
    lib = raw_counts.sum(axis=0)
    col = "TCGA-02-0047-01A-01R-1849-01"
    row = next(i for i in raw_counts.index if i.startswith("EGFR|"))
    expected = np.log2(raw_counts.loc[row, col] / lib[col] * 1e6 + 1)
    assert df.loc["TCGA-02-0047", "EGFR"] == pytest.approx(expected, rel=1e-5)
    # The two aliquots of TCGA-06-0211 are averaged on the log2 scale.
    cols = [c for c in raw_counts.columns if c.startswith("TCGA-06-0211")]
    assert len(cols) == 2
    logs = [np.log2(raw_counts.loc[row, c] / lib[c] * 1e6 + 1) for c in cols]
    assert df.loc["TCGA-06-0211", "EGFR"] == pytest.approx(np.mean(logs), rel=1e-5)
    # The duplicated symbol is the mean of its rows.
    dup_rows = [i for i in raw_counts.index if i.startswith("SLC35E2|")]
    assert len(dup_rows) == 2
    vals = [np.log2(raw_counts.loc[r, col] / lib[col] * 1e6 + 1) for r in dup_rows]
    assert df.loc["TCGA-02-0047", "SLC35E2"] == pytest.approx(np.mean(vals), rel=1e-5)


@pytest.mark.realdata
def test_real_tpm_matches_counts_patients(tpm, counts):
    df, rep = tpm
    assert rep.scale == "tpm" and rep.transform == "log2(TPM + 1)"
    assert df.shape == (153, 20501)
    assert list(df.index) == list(counts[0].index)
    # TPM and CPM scales agree in ranking across genes for one patient.
    r = np.corrcoef(df.iloc[0], counts[0].iloc[0])[0, 1]
    assert r > 0.9


@pytest.mark.realdata
def test_real_gdc_folder(shared_data, tpm):
    with pytest.warns(UserWarning, match="no Case/Sample/Aliquot barcode"):
        df, rep = read_expression(shared_data / "tcga_gbm/gdc_rsem", report=True)
    assert df.shape == (3, 20501)
    assert set(df.index) == {"TCGA-76-4932", "TCGA-27-2523", "TCGA-32-1982"}
    assert len(rep.samples_skipped) == 1 and "8880d24b" in rep.samples_skipped[0][0]
    assert rep.sheet_rows_without_file == 152
    # scaled_estimate x 1e6 is the TPM file (which is rounded to 4 decimals).
    ref = tpm[0].loc[df.index, df.columns]
    assert np.abs(df.to_numpy() - ref.to_numpy()).max() < 1e-3


# ---------------------------------------------------------------------------------------------
# small files


def _matrix(n_genes=6, samples=("TCGA-AA-0001-01A", "TCGA-AA-0002-01A", "TCGA-AA-0002-01B")):
    rng = np.random.default_rng(0)
    genes = [f"G{i}|{100 + i}" for i in range(n_genes)]
    return pd.DataFrame(
        rng.integers(0, 1000, size=(n_genes, len(samples))).astype(float),
        index=pd.Index(genes, name="gene_id"),
        columns=list(samples),
    )


def _expected_log2cpm(m: pd.DataFrame) -> pd.DataFrame:
    cpm = np.log2(m / m.sum(axis=0) * 1e6 + 1)
    cpm.index = [i.split("|")[0] for i in cpm.index]
    out = cpm.T
    out.index = [c[:12] for c in out.index]
    return out.groupby(level=0).mean()


@pytest.mark.parametrize("fmt", ["tsv", "csv", "tsv.gz", "parquet", "gct", "samples_first"])
def test_formats_agree(tmp_path, fmt):
    m = _matrix()
    path = tmp_path / f"x.{fmt}"
    if fmt == "tsv":
        m.to_csv(path, sep="\t")
    elif fmt == "csv":
        m.to_csv(path)
    elif fmt == "tsv.gz":
        with gzip.open(path, "wt") as fh:
            m.to_csv(fh, sep="\t")
    elif fmt == "parquet":
        m.to_parquet(path)
    elif fmt == "gct":
        with open(path, "w") as fh:
            fh.write(f"#1.2\n{m.shape[0]}\t{m.shape[1]}\n")
            g = m.copy()
            g.insert(0, "Description", "na")
            g.index.name = "Name"
            g.to_csv(fh, sep="\t")
    else:
        path = tmp_path / "x.csv"
        m.T.rename_axis("sample").to_csv(path)
    df, rep = read_expression(path, scale="counts", report=True)
    exp = _expected_log2cpm(m)
    assert list(df.columns) == [f"G{i}" for i in range(6)]
    np.testing.assert_allclose(df.loc[exp.index, exp.columns].to_numpy(), exp.to_numpy(), 1e-5)
    assert rep.patients_with_aliquots == {"TCGA-AA-0002": ["TCGA-AA-0002-01A", "TCGA-AA-0002-01B"]}
    assert rep.ids_parsed == 6


def test_h5ad(tmp_path):
    anndata = pytest.importorskip("anndata")
    m = _matrix()
    ad = anndata.AnnData(
        X=m.T.to_numpy(),
        obs=pd.DataFrame(index=list(m.columns)),
        var=pd.DataFrame(index=list(m.index)),
    )
    path = tmp_path / "x.h5ad"
    ad.write_h5ad(path)
    df = read_expression(path, scale="counts")
    exp = _expected_log2cpm(m)
    np.testing.assert_allclose(df.loc[exp.index, exp.columns].to_numpy(), exp.to_numpy(), 1e-5)


def test_log2_kept_and_scale_detection(tmp_path):
    m = _matrix()
    logged = np.log2(m + 1)
    logged.to_csv(tmp_path / "l.tsv", sep="\t")
    df, rep = read_expression(tmp_path / "l.tsv", report=True)
    assert rep.scale == "log2" and rep.scale_detected
    assert df.loc["TCGA-AA-0001", "G0"] == pytest.approx(logged.iloc[0, 0], rel=1e-6)
    tpm = m / m.sum(axis=0) * 1e6
    tpm.to_csv(tmp_path / "t.tsv", sep="\t")
    df, rep = read_expression(tmp_path / "t.tsv", report=True)
    assert rep.scale == "tpm"
    assert df.loc["TCGA-AA-0001", "G1"] == pytest.approx(np.log2(tpm.iloc[1, 0] + 1), rel=1e-5)


def test_unknown_symbols_and_duplicates(tmp_path):
    m = _matrix(n_genes=5)
    m.index = ["?|1", "A|2", "A|3", "B|4", "|5"]
    m.to_csv(tmp_path / "d.tsv", sep="\t")
    df, rep = read_expression(tmp_path / "d.tsv", scale="log2", report=True)
    assert list(df.columns) == ["A", "B"]
    assert rep.unknown_dropped == 2 and rep.duplicate_symbols == 1
    assert df.loc["TCGA-AA-0001", "A"] == pytest.approx(m.iloc[1:3, 0].mean(), rel=1e-6)
    assert isinstance(rep, LoadReport) and "duplicate symbols merged" in str(rep)
    # what `check` prints: each change once, nothing about what did not happen
    assert rep.changes() == [
        "2 rows with '?' or empty symbols dropped",
        "1 symbol on several rows merged by their mean (1 extra row)",
        "aliquots averaged for 1 patient",
    ]


def test_a_matrix_read_as_it_was_reports_no_change(tmp_path):
    _matrix(samples=("TCGA-AA-0001-01A", "TCGA-AA-0002-01A")).to_csv(tmp_path / "x.tsv", sep="\t")
    _, rep = read_expression_report(tmp_path / "x.tsv")
    assert rep.changes() == []


def test_report_variant_returns_pair(tmp_path):
    _matrix().to_csv(tmp_path / "x.tsv", sep="\t")
    df, rep = read_expression_report(tmp_path / "x.tsv")
    assert rep.n_patients == df.shape[0] == 2 and rep.to_dict()["n_genes"] == 6


def test_missing_file():
    with pytest.raises(InputError, match="not found"):
        read_expression("/nonexistent/expr.tsv")


def test_non_numeric_names_cell(tmp_path):
    m = _matrix().astype(object)
    m.iloc[2, 1] = "high"
    m.to_csv(tmp_path / "x.tsv", sep="\t")
    with pytest.raises(InputError, match=r"non-numeric value 'high' at gene G2\|102") as e:
        read_expression(tmp_path / "x.tsv")
    assert "x.tsv" in str(e.value) and "TCGA-AA-0002-01A" in str(e.value)


def test_wrong_delimiter(tmp_path):
    m = _matrix()
    path = tmp_path / "x.tsv"
    m.to_csv(path, sep=" ")
    with pytest.raises(InputError, match="delimiter"):
        read_expression(path)


def test_inf_refused_nan_gene_dropped(tmp_path):
    m = _matrix()
    m.iloc[1, 0] = np.inf
    m.to_csv(tmp_path / "i.tsv", sep="\t")
    with pytest.raises(InputError, match="infinite value at gene G1"):
        read_expression(tmp_path / "i.tsv", scale="counts")
    m.iloc[1, 0] = np.nan
    m.to_csv(tmp_path / "n.tsv", sep="\t")
    # the row is named as the file has it: another row may carry the same symbol
    with pytest.warns(UserWarning, match=r"1 gene rows have missing .*\(first: row G1\|101,"):
        df, rep = read_expression(tmp_path / "n.tsv", scale="log2", report=True)
    assert "G1" not in df.columns and rep.nonfinite_genes_dropped == 1


def test_counts_declared_as_log2_are_read_with_a_warning(tmp_path):
    _matrix().to_csv(tmp_path / "c.tsv", sep="\t")  # counts up to ~1000
    with pytest.warns(UserWarning, match=r"given as log2 but values reach .* as counts would"):
        df = read_expression(tmp_path / "c.tsv", scale="log2")
    assert df.to_numpy().max() > 100  # read as told: the values are not transformed
    log2 = np.log2(_matrix() + 1)
    log2.to_csv(tmp_path / "l.tsv", sep="\t")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # real log2 values: no warning
        read_expression(tmp_path / "l.tsv", scale="log2")


def test_negative_counts_refused(tmp_path):
    m = _matrix()
    m.iloc[0, 0] = -3
    m.to_csv(tmp_path / "x.tsv", sep="\t")
    with pytest.raises(InputError, match="negative value -3.0 at gene .* in counts data"):
        read_expression(tmp_path / "x.tsv", scale="counts")
    # detected, not given: one negative cell among counts does not make the matrix log2
    with pytest.raises(InputError, match=r"in counts data \(detected: values reach"):
        read_expression(tmp_path / "x.tsv")
    m.iloc[:, :] = np.log2(_matrix() + 1) - 4.0  # centred log values keep their negatives
    m.to_csv(tmp_path / "l.tsv", sep="\t")
    assert read_expression(tmp_path / "l.tsv", report=True)[1].scale == "log2"


def test_bad_scale_and_empty(tmp_path):
    with pytest.raises(InputError, match="unknown scale"):
        read_expression(tmp_path / "x.tsv", scale="fpkm")  # type: ignore[arg-type]
    (tmp_path / "e.tsv").write_text("")
    with pytest.raises(InputError, match="empty"):
        read_expression(tmp_path / "e.tsv")


def test_gdc_folder_edge_cases(tmp_path):
    sheet_cols = ["File ID", "File Name", "Case ID", "Sample ID", "Aliquot ID"]
    rows = []
    rng = np.random.default_rng(1)
    genes = ["?|1", "A|2", "B|3"]
    for i, barcode in enumerate(["TCGA-AA-0001-01A", "", "TCGA-AA-0002-01A", None]):
        fid = f"id{i}"
        name = f"f{i}.rsem.genes.results"
        (tmp_path / fid).mkdir()
        pd.DataFrame(
            {
                "gene_id": genes,
                "raw_count": rng.integers(1, 100, 3).astype(float),
                "scaled_estimate": rng.random(3) / 3,
                "transcript_id": "t",
            }
        ).to_csv(tmp_path / fid / name, sep="\t", index=False)
        if barcode is not None:
            rows.append([fid, name, barcode[:12], barcode, barcode])
    rows.append(["gone", "missing.rsem.genes.results", "TCGA-AA-0009", "x", "x"])
    pd.DataFrame(rows, columns=sheet_cols).to_csv(
        tmp_path / "gdc_sample_sheet.tsv", sep="\t", index=False
    )
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        df, rep = read_expression(tmp_path, scale="counts", report=True)
    msgs = " ".join(str(x.message) for x in w)
    assert "not in the sample sheet" in msgs and "no Case/Sample/Aliquot barcode" in msgs
    assert list(df.index) == ["TCGA-AA-0001", "TCGA-AA-0002"]
    assert len(rep.samples_skipped) == 2 and rep.sheet_rows_without_file == 1
    with pytest.raises(InputError, match="GDC sample sheet file not found"):
        read_expression(tmp_path / "id0")


def test_repeated_and_empty_samples(tmp_path):
    m = _matrix()
    path = tmp_path / "r.tsv"
    text = m.to_csv(sep="\t").replace("TCGA-AA-0002-01B", "TCGA-AA-0002-01A")
    path.write_text(text)
    with pytest.warns(UserWarning, match="appear more than once in the header"):
        df, rep = read_expression(path, scale="counts", report=True)
    assert ("TCGA-AA-0002-01A.1", "sample id repeated in the header") in rep.samples_skipped
    assert rep.aliquots_averaged == 0 and df.shape == (2, 6)
    m2 = m.copy()
    m2["TCGA-AA-0003-01A"] = np.nan
    m2.to_csv(tmp_path / "e.tsv", sep="\t")
    with pytest.warns(UserWarning, match="1 sample without values skipped"):
        df, rep = read_expression(tmp_path / "e.tsv", scale="counts", report=True)
    assert list(df.index) == ["TCGA-AA-0001", "TCGA-AA-0002"] and rep.nonfinite_genes_dropped == 0


def test_corrupt_gzip_and_unreadable(tmp_path):
    import gzip

    bad = tmp_path / "x.tsv.gz"
    bad.write_bytes(gzip.compress(_matrix().to_csv(sep="\t").encode())[:25])  # truncated
    with pytest.raises(InputError, match="cannot read file") as e:
        read_expression(bad)
    assert "x.tsv.gz" in str(e.value)
    (tmp_path / "folder.tsv").mkdir()
    with pytest.raises(InputError, match="GDC sample sheet file not found"):
        read_expression(tmp_path / "folder.tsv")


def test_compression_is_read_from_the_content_not_the_name(tmp_path):
    import gzip

    m = _matrix()
    text = m.to_csv(sep="\t").encode()
    (tmp_path / "zipped.tsv").write_bytes(gzip.compress(text))  # gzipped, named .tsv
    (tmp_path / "plain.tsv.gz").write_bytes(text)  # plain, named .gz
    for name in ("zipped.tsv", "plain.tsv.gz"):
        df = read_expression(tmp_path / name, scale="log2")
        assert df.shape == (2, 6) and df.loc["TCGA-AA-0001", "G0"] == m.iloc[0, 0]
