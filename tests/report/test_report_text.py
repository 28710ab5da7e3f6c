"""What the page says matches the study: its traits, sample sizes, resamples, columns, tests."""

from __future__ import annotations

import html
import json
import re

import numpy as np
import pandas as pd
import pytest

from radiogenomics.report import build_report
from radiogenomics.runfolder import RunFolder
from radiogenomics.utils.io import read_json, read_table, write_json, write_table
from radiogenomics.utils.stats import benjamini_hochberg


def _text(page: str) -> str:
    """The page as a reader sees it: no scripts, no tags, entities decoded, spaces collapsed."""
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    page = re.sub(r'<div id="[^"]*_fallback">.*?</table></div>', " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _findings(page: str) -> str:
    text = _text(page)
    start = text.index(" Findings The ")
    return text[start : text.index(" Cohort Patients and genes", start)]


def _rows(page: str, table_id: str) -> list[dict]:
    """The rows an interactive table shows, as {header: cell}."""
    block = page[page.index(f'id="{table_id}"') :]
    head = json.loads('"' + re.search(r'"table_html": "(.*?)",\n', block).group(1) + '"')
    data = json.loads(json.loads('"' + re.search(r'"data_json": "(.*?)",\n', block).group(1) + '"'))
    return [dict(zip(re.findall(r"<th>(.*?)</th>", head), row, strict=True)) for row in data]


def _set_config(run, **sections) -> None:
    cfg = read_json(run / "config.json")
    for name, values in sections.items():
        cfg[name].update(values)
    write_json(run / "config.json", cfg)


def _done(run, stage) -> None:
    write_json(run / stage / "manifest.json", {"status": "done", "seconds": 1.0})


# 1 --------------------------------------------------------------------------------- traits
def test_methods_name_the_traits_the_study_modelled(planted_run):
    text = _text(build_report(planted_run).read_text())
    assert "modelled against 2 binary VASARI MRI traits (edema, ncet);" in text
    assert "six" not in text
    folder = RunFolder(planted_run)
    tasks = folder.table("load", "tasks").assign(kept=[True, False])
    write_table(tasks, folder.stage_dir("load") / "tables" / "tasks")
    text = _text(build_report(planted_run).read_text())
    assert "modelled against 1 binary VASARI MRI trait (edema);" in text
    assert "in a class were left out (left out: ncet)." in text


def test_methods_name_the_classes_of_a_subtype_study(planted_run):
    folder = RunFolder(planted_run)
    tasks = pd.DataFrame(
        {"task": ["subtype"], "classes": ["Classical: 39 | Neural: 26"], "positive": [None]}
    )
    write_table(tasks.assign(kept=True), folder.stage_dir("load") / "tables" / "tasks")
    _set_config(planted_run, data={"task": "subtype"})
    text = _text(build_report(planted_run).read_text())
    assert "modelled against the molecular subtype (2 classes: Classical, Neural);" in text


# 2 ----------------------------------------------------------------------------- Cox tables
def test_each_univariate_cox_result_says_on_which_patients_it_was_fitted(planted_run):
    """The findings' univariate models use every patient with the variable (40); the Cox table
    refits them on the multivariable model's complete cases (36)."""
    folder = RunFolder(planted_run)
    tables = folder.stage_dir("survival") / "tables"
    write_table(
        pd.DataFrame(
            {
                "outcome": ["OS", "OS"],
                "variable": ["age_over_median", "edema+SET_A"],
                "role": ["forced", "selected"],
                "hr_univariate": [1.6, 3.1],
                "p_univariate": [0.15, 0.001],
                "hr_adjusted": [1.4, 2.7],
                "p_adjusted": [0.3, 0.008],
            }
        ),
        tables / "cox_table",
    )
    write_table(pd.DataFrame({"outcome": ["OS"], "n": [36], "events": [27]}), tables / "lrt")
    page = build_report(planted_run).read_text()
    cox = _rows(page, "table-survival-cox-table")
    assert [r["patients (complete cases)"] for r in cox] == [36, 36]
    assert [r["events"] for r in cox] == [27, 27]
    text = _text(page)
    assert "univariate ones (hr_univariate, p_univariate) included, is fitted on the complete " in (
        text
    )
    assert "each fitted on every analysed patient with the variable and the outcome (patients" in (
        text
    )
    findings = {r["variable"]: r for r in _rows(page, "findings-survival")}
    assert findings["edema+SET_A"]["patients"] == 38


# 3 ------------------------------------------------------------------------------ bootstrap
def test_every_bootstrap_interval_says_how_many_resamples_it_comes_from(planted_run):
    folder = RunFolder(planted_run)
    diffs = folder.table("bootstrap", "bootstrap_differences")
    write_table(
        diffs[diffs["rep"] < 2], folder.stage_dir("bootstrap") / "tables" / "bootstrap_differences"
    )
    _set_config(planted_run, bootstrap={"repetitions": 2})
    page = build_report(planted_run).read_text()
    text = _text(page)
    assert "the 95% percentile interval of the AUC difference (over 2 resamples) is above" in text
    assert "with its 95% percentile interval over 2 resamples (column resamples)" in text
    assert "interval of each difference over 2 resamples." in text  # the section's intro
    assert "reported with its 95% percentile interval over 2 resamples." in text  # methods
    assert text.count("95% percentile interval") == 4
    assert {str(r["resamples"]) for r in _rows(page, "findings-performance")} == {"2"}
    # so few resamples: the headline, the caption, the section and the methods say so
    rough = "With only 2 resamples these intervals are rough"
    assert text.count(rough) == 4 and rough in _findings(page).split(" Trait prediction")[0]


def test_counts_read_back_as_floats_show_as_integers(planted_run):
    """The bootstrap summary's n_reps and a driver table's ranks come back as floats."""
    write_table(
        pd.DataFrame(
            {
                "trait": ["edema"],
                "model": ["logreg_l2"],
                "diff_mean": [0.05],
                "diff_ci_low": [0.01],
                "diff_ci_high": [0.09],
                "n_reps": [40.0],
            }
        ),
        planted_run / "bootstrap" / "tables" / "bootstrap_summary",
    )
    folder = RunFolder(planted_run)
    drivers = folder.table("drivers", "drivers")
    drivers["correlation_rank"] = drivers["correlation_rank"].astype(float)
    drivers.loc[0, "correlation_rank"] = np.nan
    write_table(drivers, planted_run / "drivers" / "tables" / "drivers")
    page = build_report(planted_run).read_text()
    perf = _rows(page, "findings-performance")
    assert [r["resamples"] for r in perf] == ["40", ""]
    ranks = [r["naive peer rank"] for r in _rows(page, "findings-drivers")]
    assert ranks[0] == "" and set(ranks[1:]) <= {"0", "1", "2", "3"}


def test_the_rough_interval_caveat_holds_below_100_resamples(planted_run):
    text = _text(build_report(planted_run).read_text())  # 40 resamples: still rough
    assert "With only 40 resamples these intervals are rough" in text
    from radiogenomics.report.builder import rough_intervals

    assert rough_intervals([100, 500]) == "" and rough_intervals([]) == ""
    assert rough_intervals([20, 99]).startswith("With only 20-99 resamples")


# 4, 5 ---------------------------------------------------------------------------- grammar
def test_a_single_fold_split_and_a_single_auc_read_as_such(planted_run):
    folder = RunFolder(planted_run)
    chosen = folder.table("classifiers", "chosen").assign(auc_mean=0.92)
    write_table(chosen, folder.stage_dir("classifiers") / "tables" / "chosen")
    _set_config(planted_run, drivers={"repeats": 1})
    text = _text(build_report(planted_run).read_text())
    assert "The network predicts 2 traits with CV AUC 0.92 (best: edema, 0.92)." in text
    assert "from 0.92 to 0.92" not in text
    assert "Each trait's cross-validation was run on one fold split (not repeated), and" in text
    assert "1 fold splits" not in text


# 6 ------------------------------------------------------------------------------- saliency
def test_saliency_methods_say_what_was_differentiated_for_a_multi_class_task(planted_run):
    _done(planted_run, "saliency")
    text = _text(build_report(planted_run).read_text())
    assert "the absolute gradient of the network's logit (the log-odds of the positive class)" in (
        text
    )
    folder = RunFolder(planted_run)
    tasks = pd.DataFrame(
        {"task": ["subtype"], "classes": ["A: 9 | B: 8 | C: 7"], "positive": [None], "kept": True}
    )
    write_table(tasks, folder.stage_dir("load") / "tables" / "tasks")
    text = _text(build_report(planted_run).read_text())
    assert "absolute gradient of each class's logit (its pre-softmax output; one saliency" in text
    assert "positive class" not in text
    _set_config(planted_run, saliency={"target": "log_odds"})
    text = _text(build_report(planted_run).read_text())
    assert "gradient of each class's log-odds against the other classes (its logit minus" in text


# 7 -------------------------------------------------------------------------- drivers text
def _caption_columns(text: str) -> list[str]:
    caption = text[text.index("The top sets of each trait; ") :]
    caption = caption[len("The top sets of each trait; ") : caption.index(". ")]
    return [part.split(":", 1)[0] for part in caption.split("; ")]


@pytest.mark.parametrize("drivers", [True, False], ids=["driver ranking", "masking"])
def test_the_driver_caption_describes_the_columns_shown_and_no_others(planted_factory, drivers):
    page = build_report(planted_factory(drivers=drivers)).read_text()
    described = _caption_columns(_text(page))
    shown = set(_rows(page, "findings-drivers")[0])
    assert set(described) <= shown, set(described) - shown
    assert {"rank", "q", "masking AUC"} <= set(described)
    assert ("NES" in described) == ("NES" in shown) == (not drivers)
    assert ("GSEA NES" in _findings(page)) == (not drivers)  # the NES column, when shown


# 8 ------------------------------------------------------------------------- bootstrap off
def test_the_performance_title_names_only_what_the_table_shows(planted_run):
    text = _text(build_report(planted_run).read_text())
    assert "Trait prediction: network, best baseline and the bootstrap difference" in text
    write_json(planted_run / "bootstrap" / "manifest.json", {"status": "disabled"})
    findings = _findings(build_report(planted_run).read_text())
    assert "Trait prediction: network and best baseline " in findings
    assert "bootstrap" not in findings.lower()


# 9 ------------------------------------------------------------------------- called drivers
def test_called_drivers_name_their_collection_when_there_are_several(planted_run):
    folder = RunFolder(planted_run)
    drivers = folder.table("drivers", "drivers")
    other = drivers.assign(collection="hallmark", set="HALLMARK_" + drivers["set"])
    write_table(pd.concat([drivers, other]), folder.stage_dir("drivers") / "tables" / "drivers")
    findings = _findings(build_report(planted_run).read_text())
    assert (
        "Called drivers (8): edema [hallmark]: HALLMARK_SET_A; edema [hallmark]: HALLMARK_SET_D; "
        "edema [programmes]: SET_A; edema [programmes]: SET_D; ncet [hallmark]: HALLMARK_SET_A;"
    ) in findings


# 10 ---------------------------------------------------------------------- multiple testing
def test_survival_findings_give_the_tests_made_and_bh_q_beside_p(planted_run):
    """PFS: edema at p 0.04 among 10 decoys does not survive BH; OS's two hits do."""
    p = [0.04, *np.linspace(0.3, 0.9, 10)]
    write_table(
        pd.DataFrame(
            {
                "variable": ["edema", *[f"decoy{i}" for i in range(10)]],
                "n": 40,
                "events": 20,
                "hr": 1.5,
                "ci_low": 1.0,
                "ci_high": 2.2,
                "p": p,
            }
        ),
        planted_run / "survival" / "tables" / "pfs_cox_univariate",
    )
    page = build_report(planted_run).read_text()
    findings = _findings(page)
    assert (
        "3 results (2 variables) have an uncorrected univariate Cox p below 0.05 (1 radiogenomic "
        "trait), of 15 univariate tests (OS 4, PFS 11); 2 of them keep a BH q below 0.05 within "
        "their outcome."
    ) in findings
    assert "tests made per outcome (OS 4, PFS 11): q is their Benjamini-Hochberg q" in findings
    rows = {(r["outcome"], r["variable"]): r for r in _rows(page, "findings-survival")}
    pfs = rows[("PFS", "edema")]
    assert float(pfs["q"]) == round(float(benjamini_hochberg(np.array(p))[0]), 4)
    assert pfs["q < 0.05"] is False and rows[("OS", "edema+SET_A")]["q < 0.05"] is True
    assert float(rows[("OS", "edema")]["q"]) == 0.02  # 0.01 x 4 tests / rank 2
    # with nothing below 0.05, one plain sentence instead of "0 results (0 variables) have"
    write_table(
        pd.DataFrame({"variable": ["edema"], "n": 40, "events": 20, "hr": 1.1, "ci_low": 0.6,
                      "ci_high": 2.0, "p": [0.6]}),
        planted_run / "survival" / "tables" / "pfs_cox_univariate",
    )  # fmt: skip
    os_univariate = planted_run / "survival" / "tables" / "os_cox_univariate"
    write_table(read_table(os_univariate).assign(p=0.5), os_univariate)
    none = _findings(build_report(planted_run).read_text())
    assert "None of the 5 univariate Cox tests (OS 4, PFS 1) has an uncorrected p below 0.05." in (
        none
    )
    assert "0 results" not in none


# 11 ------------------------------------------------------------------------ missing values
def test_missing_values_are_empty_cells_in_every_table(planted_run):
    folder = RunFolder(planted_run)
    genes = pd.DataFrame(
        {
            "task": ["edema", "edema"],
            "set": ["G000", "G001"],
            "auc": [0.7, np.nan],
            "p_ap": [np.nan, np.nan],  # single genes have no null: a column left all missing
            "note": [None, "x"],
        }
    )
    write_table(genes, folder.stage_dir("masking") / "tables" / "top_genes")
    page = build_report(planted_run).read_text()
    shown = _rows(page, "table-masking-top-genes")
    assert [(r["auc"], r["p_ap"], r["note"]) for r in shown] == [("0.7", "", ""), ("", "", "x")]
    findings = _rows(page, "findings-survival")  # NaN adjusted HR of a non-final variable
    assert {r["adjusted HR"] for r in findings if not r["in final model"]} == {""}
    tables = ("findings-performance", "findings-drivers", "table-masking-top-sets")
    cells = {str(v) for t in tables for r in _rows(page, t) for v in r.values()}
    assert not {"None", "NaN", "nan"} & cells


def test_methods_name_the_stepwise_criterion_the_study_used(planted_run):
    _done(planted_run, "survival")
    _set_config(planted_run, survival={"criterion": "bic", "outcomes": ["os"]})
    text = _text(build_report(planted_run).read_text())
    assert "a multivariable Cox model chosen by stepwise BIC (direction" in text
    assert "stepwise AIC (direction" not in text
    # the fits are Efron's (tests/survival: R's coxph), and the methods say so
    assert "tied times by Efron's method" in text


# user review of a small study's report --------------------------------------------------
def test_driver_score_and_bootstrap_columns_and_margin_are_explained(planted_run):
    folder = RunFolder(planted_run)
    drivers = folder.table("drivers", "drivers_top").assign(score=-1.0)
    write_table(drivers, planted_run / "drivers" / "tables" / "drivers_top")
    write_table(
        pd.DataFrame(
            {"trait": ["edema"], "model": ["logreg_l2"], "n_reps": [40.0], "diff_not_ahead": [0.1]}
        ),
        planted_run / "bootstrap" / "tables" / "bootstrap_summary",
    )
    page = build_report(planted_run).read_text()
    text = _text(page)
    assert "score: the number the read-out sorts the sets by, higher first" in text
    assert "minus the set's place in the programme network's forward order" in text
    assert "diff_not_ahead: the share of repetitions in which the network was not ahead" in text
    assert "The dotted line at +0.10 marks the margin by which the paper found" in text
    spec = re.search(
        r'<figure id="bootstrap-differences">.*?class="figure-spec">(.*?)</script>', page, re.S
    ).group(1)
    lines = json.loads(spec)["layout"]["shapes"]
    assert [(s["y0"], s["line"]["dash"]) for s in lines] == [(0.0, "dash"), (0.1, "dot")]


def test_survival_says_which_patients_and_names_the_final_models(planted_run):
    tables = planted_run / "survival" / "tables"
    variables = pd.DataFrame({"patient": [f"P{i}" for i in range(40)], "edema": 1.0})
    write_table(variables.set_index("patient"), tables / "variables")
    write_table(
        pd.DataFrame(
            {
                "item": ["patients with expression", "patients with overall survival"],
                "value": ["60", "58"],
            }
        ),
        planted_run / "load" / "tables" / "cohort_summary",
    )
    page = build_report(planted_run).read_text()
    text = _text(page)
    findings = _findings(page)
    assert "Table 2" not in findings  # the paper's Table 2 is the masking's driver-set table
    who = (
        "Survival is analysed in the 40 patients with imaging labels and expression "
        "(survival/tables/variables), not in every patient with an outcome (the cohort has 58 "
        "with OS)"
    )
    assert who in findings  # the caption
    assert text.count(who) == 3  # the caption, the survival section and the methods
    assert (
        "The final multivariable Cox models (stepwise selection, covariates forced in) keep 2 "
        "variables for OS (edema+SET_A, age_over_median)."
    ) in findings
    assert "rows are in a final" not in text


@pytest.mark.parametrize(
    ("report", "said"),
    [
        (
            {"scale": "counts", "transform": "log2(CPM + 1), library size over all input genes"},
            "Expression read counts were transformed to log2(CPM + 1) (library size over all "
            "input genes) and modelled against",
        ),
        ({"scale": "tpm", "transform": "log2(TPM + 1)"}, "Expression TPM values were "),
        ({"scale": "log2", "transform": "none (already log2)"}, "Expression was read as log2"),
        (None, "Expression was brought to a log2 scale (its scale detected on loading)"),
    ],
)
def test_methods_say_how_expression_was_transformed(planted_run, report, said):
    if report is not None:
        write_json(planted_run / "load" / "load_report.json", {"expression": report})
    text = _text(build_report(planted_run).read_text())
    assert said in text and "input scale" not in text


def test_km_figures_name_the_groups(planted_run):
    folder = RunFolder(planted_run)
    tasks = folder.table("load", "tasks").assign(classes=["<1/3: 30 | >=1/3: 10"] * 2)
    write_table(tasks, planted_run / "load" / "tables" / "tasks")
    page = build_report(planted_run).read_text()
    names = {}
    for fig_id, payload in re.findall(
        r'<figure id="(km-[^"]+)">.*?class="figure-spec">(.*?)</script>', page, re.S
    ):
        names[fig_id] = [t["name"] for t in json.loads(payload)["data"]]
    assert names["km-os-edema"] == ["edema: <1/3", "edema: >=1/3"]
    assert names["km-os-edema-set-a"] == ["edema+SET_A: absent", "edema+SET_A: present"]
    assert names["km-os-age-over-median"] == [
        "age_over_median: age <= median",
        "age_over_median: age > median",
    ]


def test_a_top_ranked_set_that_is_not_significant_is_not_called_a_driver(planted_run):
    """With no driver significant, the headline said "Top driver set per trait: edema:
    SYN_DECOY_09" for a set at q = 1."""
    folder = RunFolder(planted_run)
    drivers = folder.table("drivers", "drivers")
    write_table(
        drivers.assign(q=1.0, called=False), folder.stage_dir("drivers") / "tables" / "drivers"
    )
    findings = _findings(build_report(planted_run).read_text())
    assert "Top-ranked set per trait, none significant at q < 0.05" in findings
    assert "Top driver set per trait" not in findings
    # one parenthesis per set: what its programme does, then its q
    assert "ncet: SET_A (higher 1.0 SD; q = 1, not significant)" in findings
    assert (
        "edema: SET_A (higher 1.0 SD, first with 2/3 of the programme network's seeds; q = 1, "
        "not significant)"
    ) in findings


def test_the_survival_tables_say_what_groups_0_and_1_and_the_hazard_ratio_mean(planted_run):
    from radiogenomics.report.builder import GROUPS_0_1, SECTIONS

    page = html.unescape(build_report(planted_run).read_text())
    assert "Group 1 is the trait (an imaging trait's class such as >=1/3" in page  # findings
    assert "A hazard ratio above 1 means a higher hazard in group 1." in GROUPS_0_1
    logrank = next(t for sec in SECTIONS for t in sec.tables if t.name == "logrank")
    assert logrank.caption.startswith(GROUPS_0_1)  # its n_0 / n_1 columns
