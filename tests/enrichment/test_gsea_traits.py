"""Radiogenomic traits recover planted patient-level enrichment; figures and the CLI write what
they promise, with numbers that match the engine."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from radiogenomics.cli import app
from radiogenomics.enrichment import (
    gsea,
    gsea_many,
    plot_enrichment,
    plot_nes_heatmap,
    plot_patients_enriched,
    radiogenomic_traits,
    running_sum,
)
from radiogenomics.errors import InputError


@pytest.fixture(scope="module")
def cohort():
    rng = np.random.default_rng(3)
    n_genes, n_pat = 600, 12
    genes = [f"G{i}" for i in range(n_genes)]
    sal = pd.DataFrame(
        np.abs(rng.normal(size=(n_genes, n_pat))),
        index=genes,
        columns=[f"P{j:02d}" for j in range(n_pat)],
    )
    sets = {f"R{j}": list(rng.choice(genes[60:], 25, replace=False)) for j in range(6)}
    sets["A"] = genes[:30]
    planted = sal.columns[:6]
    sal.loc[genes[:30], planted] += 2.5  # programme A drives these patients' predictions
    return sal, sets, planted


def test_traits_recover_planted_patients(cohort):
    sal, sets, planted = cohort
    result = radiogenomic_traits(
        sal, sets, model_name="ncet", alpha=0.05, min_patients=3, nperm=500, seed=1, small_p=None
    )
    traits, table = result.traits, result.table
    assert list(traits.index) == list(sal.columns)
    assert "ncet + A" in traits.columns
    got = traits["ncet + A"]
    assert got[planted].all()
    assert got.drop(planted).sum() <= 1
    assert all(c == "ncet + A" for c in traits.columns if traits[c].sum() >= 3)
    assert {"patient", "set", "nes", "padj", "trait", "enriched"} <= set(table.columns)
    row = table[(table["patient"] == planted[0]) & (table["set"] == "A")].iloc[0]
    assert row["enriched"] and row["nes"] > 0 and row["padj"] < 0.05
    # min_patients drops rare traits; model name optional (pipeline prefixes itself)
    few = radiogenomic_traits(
        sal, sets, min_patients=len(sal.columns) + 1, nperm=200, small_p=None
    ).traits
    assert few.shape == (len(sal.columns), 0)
    plain = radiogenomic_traits(sal, sets, min_patients=3, nperm=300, seed=1, small_p=None).traits
    assert "A" in plain.columns
    with pytest.raises(InputError, match="alpha"):
        radiogenomic_traits(sal, sets, alpha=1.5)


def test_a_trait_of_nearly_every_patient_is_dropped_like_a_rare_one(cohort):
    sal, sets, planted = cohort
    everyone = sal.copy()
    everyone.loc[sets["A"], ~everyone.columns.isin(planted)] += 2.5  # A in all 12 patients
    kept = radiogenomic_traits(everyone, sets, min_patients=3, nperm=500, seed=1, small_p=None)
    found = kept.table[kept.table["set"] == "A"]["enriched"]
    assert found.sum() >= len(sal.columns) - 2  # enriched in (nearly) all of them ...
    assert "A" not in kept.traits.columns  # ... so no group is left to compare it with
    half = radiogenomic_traits(sal, sets, min_patients=3, nperm=500, seed=1, small_p=None)
    assert "A" in half.traits.columns  # planted in 6 of 12: both groups large enough


def test_running_sum_matches_engine_es(cohort, tmp_path):
    sal, sets, _ = cohort
    r = sal.iloc[:, 0]
    es = gsea(r, {"A": sets["A"]}, nperm=50, small_p=None).table["es"].iloc[0]
    run, hits, scores = running_sum(r, sets["A"])
    assert run[np.argmax(np.abs(run))] == pytest.approx(es, abs=1e-12)
    assert len(hits) == 30 and abs(run[-1]) < 1e-9
    assert np.all(np.diff(scores) <= 0)
    plot_enrichment(r, sets["A"], title="A", stem=tmp_path / "enr")
    assert (tmp_path / "enr.png").stat().st_size > 0 and (tmp_path / "enr.svg").exists()
    with pytest.raises(InputError, match="ranked gene"):
        running_sum(r, ["nope"])


def test_heatmap_and_patients_chart(cohort, tmp_path):
    sal, sets, _ = cohort
    result = radiogenomic_traits(sal, sets, model_name="m", min_patients=1, nperm=200, small_p=None)
    traits, table = result.traits, result.table
    fig = plot_nes_heatmap(table, tmp_path / "heat", ranking_col="patient")
    labels = {t.get_text() for t in fig.axes[0].get_yticklabels()} | {
        t.get_text() for ax in fig.axes for t in ax.get_yticklabels()
    }
    assert "A" in labels
    assert (tmp_path / "heat.png").exists() and (tmp_path / "heat.svg").exists()
    plot_patients_enriched(traits, tmp_path / "patients")
    assert (tmp_path / "patients.png").exists()
    with pytest.raises(InputError):
        plot_patients_enriched(traits.iloc[:, :0])


def test_cli_writes_table_and_figures(cohort, tmp_path):
    sal, sets, _ = cohort
    rank_file = tmp_path / "ranking.tsv"
    sal.iloc[:, :2].rename_axis("gene").to_csv(rank_file, sep="\t")
    gmt = tmp_path / "sets.gmt"
    gmt.write_text("".join(f"{k}\tdesc\t" + "\t".join(v) + "\n" for k, v in sets.items()))
    out = tmp_path / "out"
    args = ["gsea", "--ranking", str(rank_file), "--gene-sets", str(gmt), "--out", str(out)]
    result = CliRunner().invoke(
        app, [*args, "--nperm", "300", "--top", "1", "--quiet", "--no-small-p"]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "gsea.parquet")
    assert set(table["ranking"]) == {"P00", "P01"} and len(table) == 2 * len(sets)
    direct = gsea(sal["P00"], sets, nperm=300, seed=0, small_p=None).table.set_index("set")
    got = table[table["ranking"] == "P00"].set_index("set")
    np.testing.assert_allclose(got.loc[direct.index, "pval"], direct["pval"])
    assert (out / "gsea.csv").exists()
    assert len(list((out / "figures").glob("enrichment_*.png"))) == 2
    assert (out / "figures" / "nes_heatmap.svg").exists()
    bad = CliRunner().invoke(
        app,
        [
            "gsea",
            "--ranking",
            str(tmp_path / "missing.csv"),
            "--gene-sets",
            str(gmt),
            "--out",
            str(out),
        ],
    )
    assert bad.exit_code != 0
    assert isinstance(bad.exception, InputError) and "not found" in str(bad.exception)


def _gsea_cli_on_collections(cohort, tmp_path, collections, nperm, top):
    """`radiogenomics gsea` of the cohort's first patient against one GMT file per collection
    (name -> the cohort's set keys); returns the output folder."""
    sal, sets, _ = cohort
    rank_file = tmp_path / "ranking.tsv"
    sal.iloc[:, :1].rename_axis("gene").to_csv(rank_file, sep="\t")
    files = []
    for name, keys in collections.items():
        path = tmp_path / f"{name}.gmt"
        path.write_text("".join(f"{k}\td\t" + "\t".join(sets[k]) + "\n" for k in keys))
        files += ["--gene-sets", str(path)]
    out = tmp_path / "out"
    args = ["gsea", "--ranking", str(rank_file), *files, "--out", str(out), "--nperm", str(nperm)]
    result = CliRunner().invoke(app, [*args, "--quiet", "--no-small-p", "--top", str(top)])
    assert result.exit_code == 0, result.output
    return out


def test_cli_tests_each_collection_apart(cohort, tmp_path):
    sal, sets, _ = cohort
    collections = {"first": ["A", "R0", "R1"], "second": ["R2", "R3", "R4", "R5"]}
    out = _gsea_cli_on_collections(cohort, tmp_path, collections, nperm=300, top=1)
    table = pd.read_parquet(out / "gsea.parquet")
    assert table.groupby("collection")["set"].apply(set).to_dict() == {
        "first": {"A", "R0", "R1"},
        "second": {"R2", "R3", "R4", "R5"},
    }
    from radiogenomics.utils.stats import benjamini_hochberg

    for _, part in table.groupby("collection"):  # BH within each collection
        np.testing.assert_allclose(part["padj"], benjamini_hochberg(part["pval"].to_numpy()))
    alone = gsea(sal["P00"], {k: sets[k] for k in ("A", "R0", "R1")}, nperm=300, small_p=None)
    got = table[table["collection"] == "first"].set_index("set")["pval"]
    np.testing.assert_allclose(got.loc[alone.table["set"]], alone.table["pval"])


def test_cli_figure_names_keep_dotted_collection_names(cohort, tmp_path):
    """MSigDB files are named like 'h.all.v6.2.symbols.gmt': each top set keeps its own plot."""
    collections = {"h.all.v6.2": ["A", "R0"], "c1.all.v6.1": ["R1", "R2"]}
    out = _gsea_cli_on_collections(cohort, tmp_path, collections, nperm=200, top=3)
    table = pd.read_parquet(out / "gsea.parquet").assign(strength=lambda t: -t["nes"].abs())
    table = table.sort_values(["padj", "pval", "strength"], kind="stable")
    expected = {f"enrichment_P00_{r.collection}_{r.set}.png" for r in table.head(3).itertuples()}
    assert {p.name for p in (out / "figures").glob("enrichment_*.png")} == expected


def test_nes_heatmap_makes_room_for_long_set_names(cohort, tmp_path):
    """MSigDB-length names beside two columns: no 'Tight layout not applied' warning."""
    sal, sets, _ = cohort
    long_sets = {f"HALLMARK_EPITHELIAL_MESENCHYMAL_TRANSITION_{k}": v for k, v in sets.items()}
    table = gsea_many(sal.iloc[:, :2], long_sets, nperm=100, seed=0).table
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plot_nes_heatmap(table, tmp_path / "heat")
    assert (tmp_path / "heat.png").exists()


@pytest.mark.parametrize("n_sets, n_columns", [(40, 8), (5, 2), (1, 1)])
def test_nes_heatmap_layout_leaves_the_map_clear(tmp_path, n_sets, n_columns):
    """Long column labels on a few sets left the map no room (seaborn: 'Tight layout not
    applied'); on a tall map the colour bar ran down beside its first rows. The map keeps its
    height, and the colour bar sits above it and left of it, over the row dendrogram."""
    rng = np.random.default_rng(3)
    table = pd.DataFrame(
        [
            {"ranking": f"subtype: Mesenchymal (masking_ap) {j}", "set": f"HALLMARK_WNT_{i}"}
            for i in range(n_sets)
            for j in range(n_columns)
        ]
    )
    table = table.assign(set=table["set"] + "_BETA_CATENIN", nes=rng.normal(size=len(table)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = plot_nes_heatmap(table, tmp_path / "heat")
    fig.canvas.draw()
    heat = fig.axes[2].get_position()  # seaborn's order: row and column dendrograms, map, bar
    bar = fig.axes[3].get_position()
    assert heat.height * fig.get_size_inches()[1] > 0.2 * n_sets + 0.5
    assert bar.y0 >= heat.y1 and bar.x1 <= heat.x0
    assert fig.axes[3].get_title() == "NES"


def test_cli_quiet_keeps_warnings_about_the_input(cohort, tmp_path):
    """--quiet drops the summary line, not what is wrong with the input (ties, empty scores)."""
    sal, sets, _ = cohort
    ranking = sal.iloc[:, :2].rename_axis("gene").copy()
    ranking.iloc[:5, 0] = 1.0  # tied scores
    ranking.iloc[7, :] = np.nan  # a gene without a score: dropped
    rank_file = tmp_path / "ranking.tsv"
    ranking.to_csv(rank_file, sep="\t")
    gmt = tmp_path / "sets.gmt"
    gmt.write_text("".join(f"{k}\tdesc\t" + "\t".join(v) + "\n" for k, v in sets.items()))
    args = ["gsea", "--ranking", str(rank_file), "--gene-sets", str(gmt), "--nperm", "100"]
    args += ["--no-small-p", "--top", "1"]
    loud = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "loud")])
    assert loud.exit_code == 0 and "results in" in loud.output
    quiet = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "quiet"), "--quiet"])
    assert quiet.exit_code == 0 and "results in" not in quiet.output
    for out in (loud.output, quiet.output):
        assert "tied scores" in out and "without a score dropped" in out
    import typer

    params = typer.main.get_command(app).commands["gsea"].params
    help_text = next(p.help for p in params if p.name == "quiet")
    assert "warnings and errors are still printed" in help_text  # what the help promises


def test_cli_top_plots_break_p_value_ties_by_the_strength_of_enrichment(tmp_path):
    """With few permutations many sets share the smallest p-value: the plots go to the sets
    enriched most strongly (largest |NES|), not to whichever the table lists first."""
    rng = np.random.default_rng(0)
    genes = [f"G{i}" for i in range(600)]
    score = pd.Series(rng.normal(size=600), index=genes)
    score[genes[:30]] += 1.5  # WEAK: enriched, but less than STRONG
    score[genes[30:60]] += 4.0
    rank_file = tmp_path / "ranking.tsv"
    score.rename("trait").rename_axis("gene").to_frame().to_csv(rank_file, sep="\t")
    gmt = tmp_path / "sets.gmt"
    gmt.write_text(
        "WEAK\td\t" + "\t".join(genes[:30]) + "\nSTRONG\td\t" + "\t".join(genes[30:60]) + "\n"
    )
    out = tmp_path / "out"
    args = ["gsea", "--ranking", str(rank_file), "--gene-sets", str(gmt), "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--nperm", "100", "--no-small-p", "--top", "1"])
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(out / "gsea.parquet").set_index("set")
    assert table.loc["WEAK", "pval"] == table.loc["STRONG", "pval"]  # tied at the floor
    assert table.loc["STRONG", "nes"] > table.loc["WEAK", "nes"] > 0
    assert [p.name for p in (out / "figures").glob("enrichment_*.png")] == [
        "enrichment_trait_STRONG.png"
    ]
