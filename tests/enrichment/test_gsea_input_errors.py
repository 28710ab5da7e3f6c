"""Bad GSEA input is refused with a message that names the right file, option or column: a
constant ranking, an unknown or missing device, gene-set files that share too few genes with the
ranking, a header-only ranking; the CLI summary of several collections."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from radiogenomics.cli import app
from radiogenomics.enrichment import gsea, gsea_many
from radiogenomics.enrichment.gsea import rank_genes
from radiogenomics.errors import InputError
from radiogenomics.utils.device import default_device

GENES = [f"G{i:03d}" for i in range(200)]


@pytest.fixture(scope="module")
def ranking() -> pd.Series:
    rng = np.random.default_rng(7)
    return pd.Series(rng.normal(size=len(GENES)), index=GENES, name="score")


@pytest.fixture(scope="module")
def sets() -> dict[str, list[str]]:
    rng = np.random.default_rng(8)
    return {f"S{j}": list(rng.choice(GENES, 20, replace=False)) for j in range(4)}


def _gmt(path, sets) -> str:
    path.write_text("".join(f"{k}\tdesc\t" + "\t".join(v) + "\n" for k, v in sets.items()))
    return str(path)


def _cli(tmp_path, ranking_file, gmts, *extra):
    args = ["gsea", "--ranking", str(ranking_file), "--out", str(tmp_path / "out")]
    for g in gmts:
        args += ["--gene-sets", str(g)]
    args += ["--nperm", "50", "--no-small-p", "--top", "0", "--quiet", *extra]
    return CliRunner().invoke(app, args)


# ------------------------------------------------------------------ 1. constant rankings, ties
def test_a_constant_ranking_is_refused_naming_it(ranking, sets):
    with pytest.raises(InputError, match=r"all 200 scores .* are equal \(0\)") as err:
        gsea(ranking * 0, sets, nperm=50, small_p=None)
    assert "expected scores that differ between genes" in str(err.value)
    frame = pd.DataFrame({"good": ranking, "flat": 1.5})
    with pytest.raises(InputError, match=r"\[ranking 'flat'\]: all 200 scores"):
        gsea_many(frame, sets, nperm=50)


def test_zero_scores_are_not_counted_as_ties(ranking):
    """A run of zeros only steps the running sum down (weight > 0), so its order cannot change
    the ES; equal non-zero scores can, and are counted."""
    r = ranking.copy()
    r.iloc[:10] = 0.0
    assert int(rank_genes(r.to_frame()).n_tied[0]) == 0
    r.iloc[10:13] = 2.0  # three equal non-zero scores: 2 tie with the gene ranked above
    assert int(rank_genes(r.to_frame()).n_tied[0]) == 2
    assert int(rank_genes(r.to_frame(), weight=0.0).n_tied[0]) == 11  # unweighted: hits step up


def test_gsea_of_a_named_series_names_it_in_its_messages(ranking, sets):
    """gsea() called its one ranking 'ranking' in warnings and errors, though the result was
    named after the Series."""
    r = ranking.rename("edema_ap")
    r.iloc[50:60] = r.iloc[50]
    with pytest.warns(UserWarning, match="most: 'edema_ap' with"):
        res = gsea(r, sets, nperm=50)
    assert res.rankings == ("edema_ap",) and res.n_tied["edema_ap"] == res.table.attrs["n_tied"]
    with pytest.raises(InputError, match=r"\[ranking 'edema_ap'\]: 1 missing"):
        gsea(r.where(r.index != r.index[3]), sets, nperm=50)


def test_cli_refuses_a_constant_column_naming_file_and_column(tmp_path, ranking, sets):
    f = tmp_path / "flat.csv"
    pd.DataFrame({"gene": GENES, "score": 0.0, "other": ranking.to_numpy()}).to_csv(f, index=False)
    gmt = _gmt(tmp_path / "s.gmt", sets)
    for extra in (["--column", "score"], []):
        res = _cli(tmp_path, f, [gmt], *extra)
        assert res.exit_code != 0 and isinstance(res.exception, InputError)
        text = str(res.exception)
        assert text.startswith(f"{f} [score]: all 200 scores in column 'score' are equal (0)")
    ok = _cli(tmp_path, f, [gmt], "--column", "other")
    assert ok.exit_code == 0, ok.output


# ------------------------------------------------------------- 2. summary of several collections
def test_cli_summary_adds_up_every_collection(tmp_path, ranking, sets):
    f = tmp_path / "rank.csv"
    ranking.rename_axis("gene").to_frame().assign(score2=-ranking).to_csv(f)
    first = _gmt(tmp_path / "first.gmt", {**sets, "ONE": [GENES[0]]})  # ONE: dropped by size
    second = _gmt(tmp_path / "second.gmt", sets)  # the same sets again: tested again
    res = _cli(tmp_path, f, [first, second])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "gsea_summary.json").read_text())
    assert summary["sets_tested"] == 8 and summary["tests"] == 16
    assert summary["sets_dropped_by_size"] == 1
    assert summary["tied_scores"] == {"score": 0, "score2": 0}
    assert summary["collections"]["first"] == {
        "file": first,
        "sets": 5,
        "sets_tested": 4,
        "sets_dropped_by_size": 1,
    }
    assert summary["collections"]["second"]["sets_dropped_by_size"] == 0
    args = ["gsea", "--ranking", str(f), "--gene-sets", first, "--gene-sets", second]
    args += ["--out", str(tmp_path / "loud"), "--nperm", "50", "--no-small-p", "--top", "0"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "8 sets x 2 rankings (1 of 9 sets left out: fewer than 15 or more than 500" in res.output


def test_cli_summary_reports_ties_once_per_ranking(tmp_path, ranking, sets):
    r = ranking.copy()
    r.iloc[:6] = 1.5  # 5 ties (equal non-zero scores)
    f = tmp_path / "ties.csv"
    r.rename_axis("gene").to_frame().to_csv(f)
    gmts = [_gmt(tmp_path / "a.gmt", sets), _gmt(tmp_path / "b.gmt", sets)]
    res = _cli(tmp_path, f, gmts)
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "out" / "gsea_summary.json").read_text())
    assert summary["tied_scores"] == {"score": 5}
    assert res.output.count("tied scores") == 1  # the ranking's warning, not one per collection


# ------------------------------------------------------------------------------- 3. --device
def test_unknown_device_is_an_input_error():
    from radiogenomics.utils.device import check_device

    with pytest.raises(InputError, match=r"\[--device\]: unknown device 'tpu'"):
        check_device("tpu", field="--device")
    with pytest.raises(InputError, match=r"\[device\]: unknown device 'gpu'"):
        default_device("gpu")
    assert check_device("cpu") == "cpu" and default_device("auto").type in ("cpu", "cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_says_so():
    with pytest.raises(InputError, match="CUDA is not available on this machine") as err:
        default_device("cuda")
    assert isinstance(err.value, RuntimeError)  # callers that caught RuntimeError still do


def test_cli_device_errors_name_the_option(tmp_path, ranking, sets):
    f = tmp_path / "rank.csv"
    ranking.rename_axis("gene").to_frame().to_csv(f)
    gmt = _gmt(tmp_path / "s.gmt", sets)
    res = _cli(tmp_path, f, [gmt], "--device", "tpu")
    assert isinstance(res.exception, InputError)
    assert str(res.exception).startswith("[--device]: unknown device 'tpu'")
    assert "auto, cpu, cuda or cuda:N" in str(res.exception)
    if not torch.cuda.is_available():
        res = _cli(tmp_path, f, [gmt], "--device", "cuda")
        assert isinstance(res.exception, InputError)
        assert "[--device]" in str(res.exception) and "CUDA is not available" in str(res.exception)


# ------------------------------------------------------------ 4. errors that name the right file
@pytest.mark.parametrize(
    "kind, gene_sets, why",
    [
        ("onegene", {"ONE": [GENES[9]]}, "share 1 gene and the largest set has 1 of them"),
        ("lower", {"L": [g.lower() for g in GENES[:30]]}, "share no gene (30 match when upper"),
        ("nooverlap", {"X": [f"X{i}" for i in range(30)]}, "the files share no gene"),
    ],
)
def test_cli_blames_the_gene_set_file(tmp_path, ranking, kind, gene_sets, why):
    f = tmp_path / "rank.csv"
    ranking.rename_axis("gene").to_frame().to_csv(f)
    gmt = _gmt(tmp_path / f"gs_{kind}.gmt", gene_sets)
    res = _cli(tmp_path, f, [gmt])
    assert isinstance(res.exception, InputError)
    text = str(res.exception)
    assert text.startswith(f"{gmt} [--gene-sets]: nothing was tested: no set of {gmt}")
    assert f"genes ranked in {f}" in text and why in text
    assert "ids in rank.csv: G000, G001, G002" in text  # examples of both files' ids
    first = sorted(g for v in gene_sets.values() for g in v)[0]
    assert f"in gs_{kind}.gmt: {first}" in text
    assert "same kind as the gene sets'" not in text
    assert "no gene set has" not in res.output  # said once, as the error


def test_cli_warns_once_about_a_collection_that_tests_nothing(tmp_path, ranking, sets):
    f = tmp_path / "rank.csv"
    ranking.rename_axis("gene").to_frame().to_csv(f)
    bad = _gmt(tmp_path / "lower.gmt", {"L": [g.lower() for g in GENES[:30]]})
    res = _cli(tmp_path, f, [bad, _gmt(tmp_path / "good.gmt", sets)])
    assert res.exit_code == 0, res.output
    assert res.output.count(f"no set of {bad}") == 1
    assert "no gene set has" not in res.output


def test_cli_header_only_ranking_has_no_data_rows(tmp_path, sets):
    f = tmp_path / "hdr.csv"
    f.write_text("gene,score\n")
    res = _cli(tmp_path, f, [_gmt(tmp_path / "s.gmt", sets)])
    assert isinstance(res.exception, InputError)
    assert str(res.exception).startswith(f"{f}: no data rows")
    assert "hold no numbers" not in str(res.exception)


def test_cli_reads_a_headerless_rnk_with_comments_as_the_same_ranking(tmp_path, ranking, sets):
    """GSEA's .rnk has no header row and may open with # comments (past five of them the file
    was said to be empty): every gene is ranked (the first is not taken for a header) and the
    result equals that of the file with a header."""
    gmt = _gmt(tmp_path / "s.gmt", sets)
    with_header = tmp_path / "with_header.tsv"
    ranking.rename_axis("gene").to_frame().to_csv(with_header, sep="\t")
    rnk = tmp_path / "ranked.rnk"
    rnk.write_text("# ranked by t\n" * 7 + "".join(f"{g}\t{v!r}\n" for g, v in ranking.items()))
    tables = {}
    for f in (with_header, rnk):
        out = tmp_path / f.stem
        res = CliRunner().invoke(
            app,
            ["gsea", "--ranking", str(f), "--gene-sets", gmt, "--out", str(out)]
            + ["--nperm", "50", "--no-small-p", "--top", "0", "--quiet"],
        )
        assert res.exit_code == 0, res.output
        assert json.loads((out / "gsea_summary.json").read_text())["genes"] == len(GENES)
        tables[f.stem] = pd.read_csv(out / "gsea.csv")
    assert set(tables["ranked"]["ranking"]) == {"score"}
    pd.testing.assert_frame_equal(tables["ranked"], tables["with_header"])
    comments = tmp_path / "comments.rnk"
    comments.write_text("# nothing ranked yet\n")
    res = _cli(tmp_path, comments, [gmt])
    assert "the file holds only 1 comment line" in str(res.exception)
    two = tmp_path / "two.rnk"
    two.write_text("".join(f"{g}\t{v}\t{-v}\n" for g, v in ranking.items()))
    res = _cli(tmp_path, two, [gmt])
    assert res.exit_code == 0, res.output
    assert set(pd.read_csv(tmp_path / "out" / "gsea.csv")["ranking"]) == {"score1", "score2"}


def test_cli_text_column_points_to_column_option(tmp_path, ranking, sets):
    f = tmp_path / "annotated.csv"
    table = ranking.rename_axis("gene").to_frame()
    table.insert(0, "description", "a gene")
    table.to_csv(f)
    gmt = _gmt(tmp_path / "s.gmt", sets)
    res = _cli(tmp_path, f, [gmt])
    assert isinstance(res.exception, InputError)
    assert "description hold no numbers" in str(res.exception)
    assert "pick the score column with --column" in str(res.exception)
    assert _cli(tmp_path, f, [gmt], "--column", "score").exit_code == 0


def test_cli_refuses_an_unwritable_out_before_the_permutations(
    tmp_path, ranking, sets, monkeypatch
):
    """--out under a file used to end in a traceback after GSEA had run: now an error naming
    --out, before any permutation."""
    import radiogenomics.enrichment as enrichment

    f = tmp_path / "r.csv"
    ranking.rename_axis("gene").to_frame().to_csv(f)
    (tmp_path / "a_file").write_text("")
    ran = []
    monkeypatch.setattr(enrichment, "gsea_many", lambda *a, **k: ran.append(a))
    args = ["gsea", "--ranking", str(f), "--gene-sets", _gmt(tmp_path / "s.gmt", sets)]
    res = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a_file" / "out")])
    assert isinstance(res.exception, InputError) and ran == []
    assert "[--out]: cannot write to the output folder: Not a directory" in str(res.exception)


def test_cli_refuses_a_negative_top(tmp_path, ranking, sets):
    f = tmp_path / "r.csv"
    ranking.rename_axis("gene").to_frame().to_csv(f)
    res = _cli(tmp_path, f, [_gmt(tmp_path / "s.gmt", sets)], "--top", "-1")
    assert res.exit_code == 2 and "--top" in res.output  # head(-1) drew all plots but one
    # the other bounds name the option as typed (they said '[nperm]'), before any file is read
    missing = tmp_path / "not_there.gmt"
    for option, value in (("--nperm", "0"), ("--min-size", "0"), ("--weight", "-1")):
        res = _cli(tmp_path, f, [missing], option, value)
        assert res.exit_code == 2 and option in res.output and "not_there" not in res.output
    res = _cli(tmp_path, f, [missing], "--min-size", "50", "--max-size", "10")
    assert str(res.exception).startswith("[--min-size/--max-size]: --min-size 50 is above")


def test_two_rankings_with_one_name_are_refused_not_merged(ranking, sets):
    frame = pd.concat([ranking.rename("a"), ranking.rename("b"), (-ranking).rename("a")], axis=1)
    with pytest.raises(
        InputError, match=r"\[rankings columns\]: ranking names used twice: \['a'\]"
    ):
        gsea_many(frame, sets, nperm=50)


def test_a_chunk_size_below_one_is_refused(ranking, sets):
    for bad in (0, -1):
        with pytest.raises(InputError, match=rf"\[chunk_size\]: chunk_size={bad}"):
            gsea_many(ranking.to_frame(), sets, nperm=50, chunk_size=bad)
