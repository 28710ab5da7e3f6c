"""Each defect of the integrity review, reproduced on a small synthetic cohort and fixed."""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from radiogenomics.config import load_config
from radiogenomics.data import read_clinical, read_expression
from radiogenomics.data.synthetic import generate_cohort
from radiogenomics.errors import InputError
from radiogenomics.pipeline.load import read_study


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    d = tmp_path_factory.mktemp("defects")
    generate_cohort(d, seed=6, n_patients=60, n_genes=300)
    return d


def _copy(cohort, tmp_path):
    out = tmp_path / "cohort"
    shutil.copytree(cohort, out)
    return out


def _edit_tsv(path, fn):
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    fn(df).to_csv(path, sep="\t", index=False)


@pytest.mark.parametrize("file", ["clinical_patient.txt", "clinical_follow_up.tsv"])
def test_vital_status_spelled_yes_no_is_refused_with_file_column_and_values(cohort, tmp_path, file):
    c = _copy(cohort, tmp_path)

    def yes_no(df):
        df["vital_status"] = df["vital_status"].str.lower().map({"dead": "yes", "alive": "no"})
        return df.fillna("")

    _edit_tsv(c / file, yes_no)
    with pytest.raises(InputError) as err:
        read_clinical(c / "clinical_patient.txt", c / "clinical_follow_up.tsv")
    msg = str(err.value)
    assert file in msg and "[vital_status]" in msg and "['no', 'yes']" in msg


def test_vital_status_deceased_living_gives_the_events_of_dead_alive(cohort, tmp_path):
    c = _copy(cohort, tmp_path)
    plain = read_clinical(c / "clinical_patient.txt", c / "clinical_follow_up.tsv")
    for file in ("clinical_patient.txt", "clinical_follow_up.tsv"):
        _edit_tsv(
            c / file,
            lambda df: df.assign(
                vital_status=df["vital_status"]
                .str.lower()
                .map({"dead": "Deceased", "alive": "Living"})
                .fillna("")
            ),
        )
    spelled = read_clinical(c / "clinical_patient.txt", c / "clinical_follow_up.tsv")
    pd.testing.assert_series_equal(plain["os_event"], spelled["os_event"])
    assert plain["os_event"].sum() > 0


def test_negative_survival_days_are_refused_naming_the_clinical_file(cohort, tmp_path):
    c = _copy(cohort, tmp_path)
    _edit_tsv(
        c / "clinical_follow_up.tsv",
        lambda df: df.assign(
            days_to_last_followup=df["days_to_last_followup"].where(
                df.index != 3, "-" + df["days_to_last_followup"].astype(str)
            )
        ),
    )
    with pytest.raises(
        InputError, match=r"clinical_follow_up.tsv \[days_to_last_followup\].*negative"
    ):
        read_clinical(c / "clinical_patient.txt", c / "clinical_follow_up.tsv")


def _samples_x_genes(cohort, tmp_path, header: str, rename=lambda s: s, extra_rows=0):
    expr = pd.read_csv(cohort / "expression.tsv.gz", sep="\t", index_col=0)
    t = expr.T.rename(index=rename)
    if extra_rows:
        t = pd.concat([t, t.iloc[:extra_rows]])
    t.index.name = header
    path = tmp_path / "samples_x_genes.tsv.gz"
    with gzip.open(path, "wt") as fh:
        t.to_csv(fh, sep="\t")
    return path, expr


def test_ambiguous_orientation_is_refused_and_the_setting_reads_it(cohort, tmp_path):
    path, expr = _samples_x_genes(
        cohort, tmp_path, header="id", rename=lambda s: s.replace("SYN-", "P")
    )
    with pytest.raises(InputError, match=r"samples_x_genes.tsv.gz \[orientation\].*cannot tell"):
        read_expression(path, scale="counts")
    got = read_expression(path, scale="counts", orientation="samples_x_genes")
    same = expr.rename(columns=lambda s: s.replace("SYN-", "P"))
    same.index.name = "gene_id"
    plain = tmp_path / "genes_x_samples.tsv.gz"
    with gzip.open(plain, "wt") as fh:
        same.to_csv(fh, sep="\t")
    want = read_expression(plain, scale="counts", orientation="genes_x_samples")
    pd.testing.assert_frame_equal(got, want)
    assert got.shape[0] == expr.shape[1]  # every sample a row


def test_duplicate_sample_rows_keep_the_first_with_a_warning(cohort, tmp_path):
    path, expr = _samples_x_genes(cohort, tmp_path, header="patient", extra_rows=3)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = read_expression(path, scale="counts", orientation="samples_x_genes")
    assert any("more than once" in str(w.message) for w in caught)
    want = read_expression(cohort / "expression.tsv.gz", scale="counts")
    pd.testing.assert_frame_equal(got, want)  # the repeated rows changed nothing


def _study(c, **data):
    return load_config(
        data={
            "name": "d",
            "out": "unused",
            "data": {
                "root": str(c),
                "expression": "expression.tsv.gz",
                "expression_scale": "counts",
                "vasari": "vasari.csv",
                "gene_sets": [{"name": "programmes", "path": "gene_sets.gmt"}],
                **data,
            },
        }
    )


def test_a_matrix_of_constant_genes_is_refused_at_load(cohort, tmp_path):
    c = _copy(cohort, tmp_path)
    expr = pd.read_csv(c / "expression.tsv.gz", sep="\t", index_col=0)
    with gzip.open(c / "expression.tsv.gz", "wt") as fh:
        (expr * 0 + 7).to_csv(fh, sep="\t")
    cfg = _study(c)
    with pytest.raises(InputError, match=r"expression.tsv.gz.*all 300 genes have the same value"):
        read_study(cfg.data, cfg.data_files(), cfg.source)


def test_a_collection_outside_the_gene_universe_names_itself_and_the_overlap(cohort, tmp_path):
    c = _copy(cohort, tmp_path)
    lines = (c / "gene_sets.gmt").read_text().splitlines()
    (c / "gene_sets.gmt").write_text(
        "\n".join(
            "\t".join([*ln.split("\t")[:2], *[f"ENSG{i}" for i in range(40)]]) for ln in lines
        )
    )
    cfg = _study(c)
    with pytest.raises(InputError) as err:
        read_study(cfg.data, cfg.data_files(), cfg.source)
    msg = str(err.value)
    assert f"collection 'programmes': none of its {len(lines)} gene sets" in msg
    assert "0 of its 40 genes are among the matrix's 300" in msg


@pytest.mark.parametrize(
    ("section", "values", "key"),
    [
        ("baselines", {"models": ["logreg_l3"]}, r"\[baselines\] models"),
        ("masking", {"collections": ["hallmark"]}, r"\[masking\] collections"),
        ("enrichment", {"min_size": 50, "max_size": 10}, r"\[enrichment\]"),
        ("survival", {"outcomes": ["pfs"]}, r"\[survival\] outcomes"),
    ],
)
def test_settings_caught_only_mid_run_before_are_refused_at_load(cohort, section, values, key):
    data = {
        "name": "d",
        "out": "unused",
        "data": {
            "root": str(cohort),
            "expression": "expression.tsv.gz",
            "vasari": "vasari.csv",
            "gene_sets": [{"name": "programmes", "path": "gene_sets.gmt"}],
        },
        section: values,
    }
    with pytest.raises(InputError, match=key):
        load_config(data=data)


def test_fewer_patients_than_folds_lowers_k_with_one_message_in_every_stage():
    from radiogenomics.evaluation.splits import check_classes

    y = np.array([0] * 20 + [1] * 3)
    with pytest.warns(UserWarning, match=r"edema: class '1' has 3 patients, fewer than 10 folds"):
        assert check_classes(y, 10, task="edema", adjust=True) == 3
    import inspect

    from radiogenomics.pipeline import comparison_stage, models_stage

    for module in (comparison_stage, models_stage):  # every training stage uses that policy
        assert "adjust_folds=True" in inspect.getsource(module)


def test_gsea_command_names_the_ranking_file_for_repeated_genes_and_bad_scores(tmp_path):
    gmt = tmp_path / "s.gmt"
    gmt.write_text("S\tna\t" + "\t".join(f"G{i}" for i in range(20)) + "\n")
    for name, body, expected in [
        (
            "dup.csv",
            "gene,score\nG1,1\nG1,2\nG2,3\n",
            r"dup.csv \[gene\]: 1 gene on more than one row",
        ),
        ("inf.csv", "gene,score\nG1,1\nG2,inf\nG3,3\n", r"inf.csv \[score\]: infinite scores"),
        ("txt.csv", "gene,score\nG1,1\nG2,abc\nG3,3\n", r"txt.csv \[score\]: 1 non-numeric"),
        (
            "few.csv",
            "gene,score\nG1,1\nG2,\nG3,3\n",
            r"s.gmt \[--gene-sets\]: nothing was tested: .* 15..500 genes among the 2 genes ranked in .*few.csv",
        ),
    ]:
        (tmp_path / name).write_text(body)
        res = subprocess.run(
            [
                sys.executable,
                "-m",
                "radiogenomics",
                "gsea",
                "--ranking",
                str(tmp_path / name),
                "--gene-sets",
                str(gmt),
                "--out",
                str(tmp_path / "out"),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 2 and "Traceback" not in res.stderr
        import re

        assert re.search(expected, res.stderr), res.stderr


def test_check_reads_every_input_and_plans_without_training(tmp_path):
    from radiogenomics.config import to_toml
    from study_configs import synthetic_study

    study = synthetic_study(
        tmp_path / "runs",
        name="checked",
        seed=2,
        n_patients=60,
        n_genes=300,
        executor={"kind": "local", "workers": 1},
        classifiers={"folds": 12},
    )
    path = tmp_path / "study.toml"
    path.write_text(to_toml(study))
    for columns in ("200", "80"):  # 80: a class per line, nothing cut short with an ellipsis
        res = subprocess.run(
            [sys.executable, "-m", "radiogenomics", "check", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            env={**__import__("os").environ, "COLUMNS": columns},
        )
        assert res.returncode == 0, res.stderr[-2000:]
        out = res.stdout
        assert "patients with expression" in out and "the study is valid" in out
        # a class smaller than 12: the folds every stage will use
        assert "(of 12 asked) / " in out and "\u2026" not in out
        assert "never finished" in out  # the plan: nothing ran yet
        assert not (tmp_path / "runs" / "checked").exists()  # check writes nothing


def test_labelled_patients_without_expression_are_counted_and_named(cohort, tmp_path):
    c = _copy(cohort, tmp_path)
    vasari = pd.read_csv(c / "vasari.csv", dtype=str, keep_default_na=False)
    extra = vasari.head(2).copy()
    extra.iloc[:, 0] = ["TCGA-ZZ-0001", "TCGA-ZZ-0002"]  # imaged, never sequenced
    pd.concat([vasari, extra]).to_csv(c / "vasari.csv", index=False)
    cfg = _study(c)
    loaded = read_study(cfg.data, cfg.data_files(), cfg.source)
    assert any(
        "2 patients with imaging labels but no expression left out" in n and "TCGA-ZZ-0001" in n
        for n in loaded.notes
    ), loaded.notes
    from radiogenomics.pipeline.load import _summary

    table = _summary(loaded.expression, loaded.targets, None, {}, "imaging")
    counts = dict(zip(table["item"], table["value"], strict=True))
    assert counts["patients with imaging labels and no expression"] == "2"


def test_a_network_no_better_than_chance_or_cut_short_is_flagged():
    """An autoencoder at CV R^2 -0.1 was transferred without a word, and training that ended
    at max_epochs (best epoch the last) was not said either."""
    from radiogenomics.pipeline.models_stage import _training_warnings

    said = _training_warnings("the autoencoder", -0.097, "CV R^2", 0.0, 5, 5)
    assert len(said) == 2
    assert "CV R^2 -0.097, no better than chance (CV R^2 0)" in said[0]
    assert "median best epoch is the last (5 = max_epochs)" in said[1]
    assert _training_warnings("classifier edema", 0.81, "CV AUC", 0.5, 40, 100) == []
    assert "no better than chance" in _training_warnings("c", 0.48, "CV AUC", 0.5, 4, 100)[0]
