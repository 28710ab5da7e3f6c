"""Gene-set collections: the three layouts, filters, coverage, driver-gene query, union."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from radiogenomics.data import GeneSets, read_expression, read_gene_sets, union
from radiogenomics.errors import InputError

HALLMARK = "gene_sets/h.all.v6.2.symbols.gmt"


@pytest.fixture(scope="module")
def hallmark(shared_data):
    return read_gene_sets(shared_data / HALLMARK)


@pytest.mark.realdata
def test_hallmark(hallmark, shared_data):
    assert isinstance(hallmark, Mapping) and len(hallmark) == 50
    assert hallmark.collection == "h.all.v6.2.symbols"
    hyp = hallmark["HALLMARK_HYPOXIA"]
    assert isinstance(hyp, tuple) and hyp[:3] == ("PGK1", "PDK1", "GBE1") and len(hyp) == 200
    assert hallmark.descriptions["HALLMARK_HYPOXIA"].startswith("http")
    # Sizes straight from the file.
    with open(shared_data / HALLMARK) as fh:
        sizes = {ln.split("\t")[0]: len(ln.rstrip("\n").split("\t")) - 2 for ln in fh}
    assert hallmark.sizes().to_dict() == sizes


@pytest.mark.realdata
def test_hallmark_coverage_against_rnaseq(hallmark, shared_data):
    genes = read_expression(shared_data / "tcga_gbm/rnaseq_rsem_tpm.tsv.gz").columns
    cov = hallmark.coverage(genes)
    assert list(cov.columns) == ["size", "present", "coverage"] and len(cov) == 50
    row = cov.loc["HALLMARK_HYPOXIA"]
    assert row["present"] == sum(g in set(genes) for g in hallmark["HALLMARK_HYPOXIA"])
    assert 0.8 < cov["coverage"].median() <= 1.0  # aliases make some genes absent
    kept = hallmark.filter(genes, min_size=15, max_size=500)
    assert all(set(v) <= set(genes) for v in kept.values())
    assert len(kept) == int(((cov["present"] >= 15) & (cov["present"] <= 500)).sum())
    drivers = hallmark.containing(["EGFR", "PTEN", "TP53"])
    assert "HALLMARK_P53_PATHWAY" in drivers
    assert all({"EGFR", "PTEN", "TP53"} & set(v) for v in drivers.values())


@pytest.mark.realdata
def test_puchalski_and_bretigea(shared_data):
    puch = read_gene_sets(shared_data / "gene_sets/puchalski2018_table_S15_celltypes.csv")
    assert len(puch) == 21
    assert all("na" not in v for v in puch.values())
    assert puch["Barres_endothelial"][:2] == ("CD34", "ABCB1")
    bret = read_gene_sets(shared_data / "gene_sets/bretigea_human_brain_cell_markers.csv")
    assert sorted(bret) == ["ast", "end", "mic", "neu", "oli", "opc"]
    assert sum(bret.sizes()) <= 5500 and bret["ast"][:2] == ("GPR98", "AQP4")


def test_small_layouts(tmp_path):
    gmt = tmp_path / "s.gmt"
    gmt.write_text("A\tdesc\tG1\tG2\tG3\nB\tna\tG3\tG4\n\n")
    gs = read_gene_sets(gmt, name="small")
    assert gs.collection == "small" and dict(gs) == {"A": ("G1", "G2", "G3"), "B": ("G3", "G4")}
    cols = tmp_path / "c.csv"
    cols.write_text("A,B\nna,na\nG1,G3\nG2,G4\nG3,\n")
    assert dict(read_gene_sets(cols)) == dict(gs)
    long = tmp_path / "l.csv"
    long.write_text("gene,set\nG1,A\nG2,A\nG3,A\nG3,B\nG4,B\n")
    assert dict(read_gene_sets(long)) == dict(gs)
    assert gs == read_gene_sets(long)  # Mapping equality


def test_filter_coverage_union():
    gs = GeneSets({"A": ["G1", "G2", "G3", "G4"], "B": ["G3", "X1", "X2", "X3"]}, "c")
    uni = ["G1", "G2", "G3", "G4", "G5"]
    cov = gs.coverage(uni)
    assert cov.loc["A", "coverage"] == 1.0 and cov.loc["B", "coverage"] == 0.25
    assert dict(gs.filter(uni, min_size=2)) == {"A": ("G1", "G2", "G3", "G4")}
    assert list(gs.filter(uni, min_size=1, min_coverage=0.5)) == ["A"]
    assert gs.filter(uni, min_size=1, restrict=False)["B"] == ("G3", "X1", "X2", "X3")
    assert list(gs.filter(max_size=3)) == []
    assert list(gs.containing(["X2"])) == ["B"]
    other = GeneSets({"C": ["G5"], "A": ["G4", "G3", "G2", "G1"]}, "d")
    both = gs | other
    assert list(both) == ["A", "B", "C"] and both.collection == "c+d"
    assert list(union(gs, {"Z": ["G9"]}, collection="all")) == ["A", "B", "Z"]
    with pytest.raises(InputError, match="'A' appears in two collections"):
        GeneSets.concat([gs, GeneSets({"A": ["G9"]}, "e")])
    with pytest.raises(InputError, match="unknown gene sets"):
        gs.select(["Q"])


def test_gmt_round_trip(tmp_path):
    gs = GeneSets({"A": ["G1", "G2"], "B": ["G2"]}, "rt", {"A": "first"})
    back = read_gene_sets(gs.to_gmt(tmp_path / "rt.gmt"))
    assert dict(back) == dict(gs) and back.descriptions["A"] == "first"


def test_bad_gene_set_files(tmp_path):
    bad = tmp_path / "bad.gmt"
    bad.write_text("A\tonly-two-fields\n")
    with pytest.raises(InputError, match="line 1 has 2 tab-separated fields"):
        read_gene_sets(bad)
    dup = tmp_path / "dup.gmt"
    dup.write_text("A\td\tG1\nA\td\tG2\n")
    with pytest.raises(InputError, match="defined twice"):
        read_gene_sets(dup)
    with pytest.raises(InputError, match="not found"):
        read_gene_sets(tmp_path / "none.gmt")


def test_gmt_with_a_byte_order_mark_compression_or_an_empty_name(tmp_path):
    import gzip

    text = "SET_A\tdesc\tG1\tG2\nSET_B\tdesc\tG2\tG3\n"
    (tmp_path / "bom.gmt").write_text("\ufeff" + text, encoding="utf-8")
    assert list(read_gene_sets(tmp_path / "bom.gmt")) == ["SET_A", "SET_B"]  # not "\ufeffSET_A"
    (tmp_path / "h.gmt.gz").write_bytes(gzip.compress(text.encode()))
    assert read_gene_sets(tmp_path / "h.gmt.gz")["SET_B"] == ("G2", "G3")
    (tmp_path / "e.gmt").write_text(text + "\tdesc\tG4\tG5\n")
    with pytest.raises(InputError, match="line 3 has no set name") as e:
        read_gene_sets(tmp_path / "e.gmt")
    assert "e.gmt" in str(e.value)


def test_filter_refuses_size_bounds_that_keep_nothing():
    gs = GeneSets({"A": ["G1", "G2"]}, "c")
    with pytest.raises(InputError, match=r"\[max_size\]: min_size 50 > max_size 10"):
        gs.filter(min_size=50, max_size=10)  # an empty collection, silently, before
