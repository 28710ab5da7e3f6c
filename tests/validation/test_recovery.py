"""The driver-recovery benchmark's pieces: planting, scoring of read-outs, the summary, and the
benchmark script's --quick mode on the real data."""

from __future__ import annotations

import dataclasses
import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.decomposition import PCA
from sklearn.metrics import roc_auc_score

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.interpret import drivers
from radiogenomics.interpret.programmes import programme_network_evidence, programme_scores
from radiogenomics.models import NetworkConfig
from radiogenomics.validation import load_real_data, recovery
from radiogenomics.validation.planted import POSITIVE
from radiogenomics.validation.recovery import (
    consensus_seed_rows,
    full_settings,
    programme_peer_ranks,
    quick_settings,
    score_readouts,
    summarise,
)
from radiogenomics.validation.recovery_readouts import (
    cached_sides,
    family_counts,
    load_cache,
    rescore_trait,
    stouffer,
)
from radiogenomics.validation.recovery_traits import (
    TRAIT_LISTS,
    RecoveryTrait,
    benchmark_traits,
    drive_match,
    driving_scores,
    gene_subset,
    holdout2_traits,
    holdout3_traits,
    holdout4_traits,
    holdout5_traits,
    holdout6_traits,
    holdout7_traits,
    holdout_traits,
    load_collections,
    plant,
)

REPO = Path(__file__).resolve().parents[2]


def _bench_recovery():
    """The benchmark script, imported as a module."""
    spec = importlib.util.spec_from_file_location(
        "bench_recovery", REPO / "benchmarks" / "bench_recovery.py"
    )
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def scores(n=120, seed=0):
    g = np.random.default_rng(seed)
    return pd.DataFrame(g.standard_normal((n, 2)), columns=["A", "B"])


@pytest.mark.parametrize(
    "kind, programmes, latent",
    [
        ("linear", ("A", "B"), lambda s: s["A"] + s["B"]),
        ("and", ("A", "B"), lambda s: np.minimum(s["A"], s["B"])),
        ("xor", ("A", "B"), lambda s: s["A"] * s["B"]),
        ("extremes", ("A",), lambda s: s["A"].abs()),
    ],
)
def test_plant_without_noise_marks_the_top_third_of_the_latent(kind, programmes, latent):
    s = scores()
    z = (s - s.mean()) / s.std(ddof=0)
    y = plant(s, RecoveryTrait("t", kind, programmes, "c", noise=0.0))
    expected = latent(z).rank(ascending=False, method="first") <= 40
    assert (y == "present").sum() == 40
    assert ((y == "present") == expected).all()


def test_plant_step_noise_and_bad_specs():
    s = scores()
    clean = plant(s, RecoveryTrait("t", "step", ("A",), "c", noise=0.0))
    assert set(clean[clean == "present"].index) == set(s["A"].nlargest(40).index)
    noisy = plant(s, RecoveryTrait("t", "step", ("A",), "c", noise=1.0, seed=3))
    again = plant(s, RecoveryTrait("t", "step", ("A",), "c", noise=1.0, seed=3))
    assert noisy.equals(again) and not noisy.equals(clean)
    with pytest.raises(InputError, match="kind"):
        RecoveryTrait("t", "cubic", ("A",), "c")
    with pytest.raises(InputError, match="programme"):
        RecoveryTrait("t", "and", ("A",), "c")


def test_benchmark_traits_cover_every_kind_and_collection():
    traits = benchmark_traits()
    assert len(traits) >= 24 and len({t.name for t in traits}) == len(traits)
    assert {t.kind for t in traits} == {"step", "linear", "and", "xor", "extremes"}
    assert {t.collection for t in traits} == {"hallmark", "celltype", "kegg"}
    assert len({t.noise for t in traits}) >= 3 and len({t.seed for t in traits}) >= 3


def test_holdout_traits_are_disjoint_from_the_benchmark_traits():
    held, bench, third = holdout_traits(), benchmark_traits(), holdout2_traits()
    later = [holdout3_traits(), holdout4_traits(), holdout5_traits(), holdout6_traits()]
    later.append(holdout7_traits())
    assert len(held) >= 12 and len(third) >= 9 and min(map(len, later)) >= 12
    names = ("", 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19)
    assert set(TRAIT_LISTS) == {"benchmark", *(f"holdout{i}" for i in names)}
    lists = [bench, held, third, *later]
    for i, a in enumerate(lists):
        # from the fifth list on every cell-type set of 15+ expressed genes is planted before,
        # from the eighth every hallmark set
        wanted = {"kegg"} if i >= 7 else {"hallmark", "kegg"} if i >= 4 else None
        assert {t.collection for t in a} == (wanted or {"hallmark", "celltype", "kegg"})
        assert len({t.kind for t in a}) >= 4 and len({t.seed for t in a}) >= 4
        for b in lists[i + 1 :]:
            assert not {t.name for t in a} & {t.name for t in b}
            # no programme planted in one list is planted again in another
            assert not {p for t in a for p in t.programmes} & {p for t in b for p in t.programmes}


@pytest.mark.parametrize(
    "name, collections, kinds, drives",
    [
        ("holdout8", {"hallmark"}, 5, 1),
        ("holdout9", {"hallmark", "kegg"}, 5, 1),
        ("holdout10", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout11", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout12", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout13", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout14", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout15", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout16", {"hallmark", "celltype", "kegg"}, 4, 1),
        ("holdout17", {"hallmark", "celltype", "kegg"}, 3, 2),  # monotone functions only
        ("holdout18", {"hallmark", "celltype", "kegg"}, 4, 3),
        ("holdout19", {"hallmark", "celltype", "kegg"}, 4, 3),
    ],
)
def test_the_replanted_lists_are_new_traits_of_programmes_planted_before(
    name, collections, kinds, drives
):
    replanted = TRAIT_LISTS[name]()
    earlier = [t for other, make in TRAIT_LISTS.items() if other != name for t in make()]
    assert len(replanted) == 14 and {t.collection for t in replanted} == collections
    assert len({t.kind for t in replanted}) == kinds
    programmes = [p for t in replanted for p in t.programmes]
    assert len(programmes) == len(set(programmes))  # none twice in the list
    assert not {t.name for t in replanted} & {t.name for t in earlier}
    assert not {t.seed for t in replanted} & {t.seed for t in earlier}
    # new traits: no function and programme(s) planted before through the same drive
    assert not {(t.kind, frozenset(t.programmes), t.drive) for t in replanted} & {
        (t.kind, frozenset(t.programmes), t.drive) for t in earlier
    }
    assert len({t.drive for t in replanted}) == drives


@pytest.mark.realdata
@pytest.mark.slow
def test_bench_recovery_plants_through_the_drive_asked_for(shared_data, tmp_path):
    bench = _bench_recovery()
    argv = ["--quick", "--data", str(shared_data), "--only", "oxphos_step"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert bench.main([*argv, "--drive", "pc1", "--out", str(tmp_path)]) == 0
    rows = pd.read_csv(tmp_path / "recovery_rows.csv")
    assert set(rows["name"]) == {"oxphos_step"} and set(rows["drive"]) == {"pc1"}
    with pytest.raises(SystemExit):
        bench.main([*argv, "--drive", "median"])


def test_driving_scores_of_each_drive():
    g = np.random.default_rng(4)
    axis = g.standard_normal(200)
    X = pd.DataFrame(
        np.outer(axis, np.linspace(0.2, 2.0, 40)) + g.standard_normal((200, 40)) + 5.0,
        columns=[f"G{i}" for i in range(40)],
    )
    X["FLAT"] = 1.0  # constant: ignored by every drive, as by the programme score
    sets = {"P": [*X.columns[:32], "FLAT", "NOT_EXPRESSED"]}
    trait = RecoveryTrait("t", "step", ("P",), "c", seed=7)
    mean = driving_scores(X, sets, trait)
    pd.testing.assert_frame_equal(mean, programme_scores(X, sets))
    core = driving_scores(X, sets, dataclasses.replace(trait, drive="core"))
    # a quarter of the 32 usable genes (8), the same ones from the same seed and trait
    z = (X.iloc[:, :32] - X.iloc[:, :32].mean()) / X.iloc[:, :32].std(ddof=0)
    again = driving_scores(X, sets, dataclasses.replace(trait, drive="core"))
    pd.testing.assert_frame_equal(core, again)
    other = driving_scores(X, sets, dataclasses.replace(trait, drive="core", seed=8))
    assert not np.allclose(core["P"], other["P"])
    # the core's score is the mean z-score of 8 of the set's genes: solve for the weights
    w, *_ = np.linalg.lstsq(z.to_numpy(), core["P"].to_numpy(), rcond=None)
    assert np.sum(np.abs(w) > 1e-6) == 8 and np.allclose(w[np.abs(w) > 1e-6], 1 / 8)
    pc1 = driving_scores(X, sets, dataclasses.replace(trait, drive="pc1"))["P"]
    # sklearn's first component of the standardised genes, up to its sign
    ref = PCA(n_components=1).fit_transform(z.to_numpy())[:, 0]
    assert np.allclose(np.abs(pc1), np.abs(ref))
    assert np.corrcoef(pc1, mean["P"])[0, 1] > 0.9  # oriented with the programme score
    with pytest.raises(InputError, match="drive"):
        RecoveryTrait("t", "step", ("P",), "c", drive="median")


def test_drive_match_finds_the_set_closer_to_the_drive_than_the_planted_one():
    g = np.random.default_rng(5)
    X = pd.DataFrame(g.standard_normal((150, 60)) + 5.0, columns=[f"G{i}" for i in range(60)])
    # P: 32 independent genes; OTHER: 16 genes unrelated to P; the drives are random picks of
    # P's genes, so a set of exactly those genes is the best match of each
    sets = {"P": list(X.columns[:32]), "OTHER": list(X.columns[40:56])}
    trait = RecoveryTrait("t", "step", ("P",), "c", seed=3)
    mean = drive_match(X, sets, trait, min_size=5)
    assert mean["drive_rank"] == 1 and mean["drive_r"] == pytest.approx(1.0)
    assert mean["stand_in"] == "OTHER" and mean["stand_in_r"] < 0.3
    core_trait = dataclasses.replace(trait, drive="core")
    core = driving_scores(X, sets, core_trait)["P"]
    z = (X.iloc[:, :32] - X.iloc[:, :32].mean()) / X.iloc[:, :32].std(ddof=0)
    w, *_ = np.linalg.lstsq(z.to_numpy(), core.to_numpy(), rcond=None)
    sets["CORE"] = list(z.columns[np.abs(w) > 1e-6])  # the 8 genes the drive is the mean of
    assert len(sets["CORE"]) == 8
    m = drive_match(X, sets, core_trait, min_size=5)
    # the core set's score is the drive itself; P's correlates about sqrt(8/32) = 0.5
    assert m["drive_rank"] == 2 and m["stand_in"] == "CORE"
    assert m["stand_in_r"] == pytest.approx(1.0) and 0.35 < m["drive_r"] < 0.65
    # a set outside the size limits is not ranked (unless planted)
    assert drive_match(X, sets, core_trait, min_size=9)["drive_rank"] == 1
    two = RecoveryTrait("t2", "and", ("OTHER", "P"), "c", seed=3, drive="core")
    assert drive_match(X, sets, two, min_size=5)["drive_rank"] == 1  # OTHER is its own best


def test_stouffer_combines_masking_z_and_the_one_sided_correlation_z():
    t = pd.DataFrame(
        {
            "class": "x",
            "collection": "c",
            "set": ["A", "B", "C"],
            "masking_z": [2.0, 3.0, 0.0],
            "correlation_nes": [1.5, -1.5, 1.0],
            "correlation_p": [0.02, 0.02, 1.0],
            "q": np.nan,
        }
    )
    s = stouffer(t).set_index("set")
    # A: z_corr = isf(0.01) = 2.326; B: a negative NES counts against (isf(0.99) = -2.326)
    assert s.loc["A", "score"] == pytest.approx((2.0 + 2.326348) / np.sqrt(2), rel=1e-6)
    assert s.loc["B", "score"] == pytest.approx((3.0 - 2.326348) / np.sqrt(2), rel=1e-6)
    assert s.loc["C", "score"] == pytest.approx(0.0, abs=1e-12)
    assert s["rank"].to_dict() == {"A": 1, "B": 2, "C": 3}


def test_family_counts_count_each_inseparable_family_once():
    t = pd.DataFrame(
        {
            "set": ["P", "X", "Y", "Z", "W"],
            "called": [False, False, False, True, False],
            "family": ["X", "X", "X", None, None],
        }
    )
    # the family {X, Y, P} holds the planted P: one correct call; Z is a false strict call
    assert family_counts(t, ["P"]) == (2, 1)
    assert family_counts(t, ["W"]) == (2, 2)


def test_gene_subset_keeps_every_set_gene():
    X = pd.DataFrame(np.zeros((3, 50)), columns=[f"G{i}" for i in range(50)])
    sub = gene_subset(X, {"s": ["G3", "G7", "MISSING"]}, 10, seed=1)
    assert sub.shape[1] == 10 and {"G3", "G7"} <= set(sub.columns)


def test_score_readouts_ranks_the_best_planted_set_and_counts_false_calls():
    sets = ["P1", "P2", "X", "Y"]
    combined = pd.DataFrame(
        {
            "set": sets,
            "masking_ap": [0.5, 0.9, 0.8, 0.1],
            "masking_auc": [0.5, 0.9, 0.8, 0.1],
            "excess_ap": [0.1, 0.4, 0.5, 0.0],
            "masking_z": [1.0, 2.0, 3.0, 0.0],
            "z_auc": [1.0, 2.0, 3.0, 0.0],
            "masking_q": [0.5, 0.01, 0.01, 0.9],
            "correlation_nes": [2.0, 1.0, 1.5, -1.0],
            "correlation_padj": [0.01, 0.01, 0.01, 0.01],
            "score": [-1.0, -2.0, -3.0, -4.0],
            "rank": [1, 2, 3, 4],
            "q": [0.01, 0.2, 0.01, 0.9],
            "called": [True, False, True, False],
        }
    )
    gsea = pd.DataFrame(
        {"class": "saliency", "set": sets, "nes": [0.1, 0.2, 3.0, 2.0], "padj": [1, 1, 0.01, 0.01]}
    )
    combined["programme_rank"] = [3, 2, 1, 4]
    combined["masking_rank"] = [2, 3, 1, 4]
    combined["programme_score_auc"] = [0.6, 0.9, 0.7, 0.5]
    combined["programme_score_rank"] = [3, 1, 2, 4]
    two_way = combined.assign(rank=[3, 1, 2, 4], q=[0.01, 0.01, 0.5, 0.9])
    extra = pd.DataFrame({"set": sets, "programme_mean_fill": [-1, -4, -2, -3]})
    t = score_readouts(combined, two_way, gsea, extra, ["P1", "P2"], alpha=0.05)
    t = t.set_index("readout")
    assert t.loc["set_masking_ap", "rank"] == 1 and np.isnan(t.loc["set_masking_ap", "n_called"])
    assert t.loc["set_masking_z_ap", ["rank", "n_called", "n_false"]].tolist() == [2, 2, 1]
    # correlation: Y has a negative NES, so it is not a call despite its padj
    assert t.loc["correlation_gsea", ["rank", "n_called", "n_false"]].tolist() == [1, 3, 1]
    assert t.loc["consensus_called", ["rank", "n_called", "n_false"]].tolist() == [1, 2, 1]
    assert t.loc["consensus_top_only", ["n_called", "n_false"]].tolist() == [1, 0]
    # the two-rank consensus by its own order; the programme network alone by its rank; the
    # extra rankings descending, without calls
    assert t.loc["consensus_two_way", ["rank", "n_called", "n_false"]].tolist() == [1, 2, 0]
    assert t.loc["programme_network", ["rank", "top"]].tolist() == [2, "X"]
    assert t.loc["programme_score_auc", ["rank", "top"]].tolist() == [1, "P2"]
    assert t.loc["programme_mean_fill", ["rank", "top"]].tolist() == [1, "P1"]
    assert np.isnan(t.loc["programme_score_auc", "n_called"])
    # the earlier consensus: masking P1 2, P2 3, X 1; programme 3, 2, 1: X first, then P1 and
    # P2 tied at 2.5, P2 ahead by the programme network
    mp = t.loc["consensus_masking_programme"]
    assert [mp["rank"], mp["top"]] == [2, "X"]
    # programme 3, 2, 1 and score AUC 3, 1, 2: P2 and X tie at 1.5, X first by the programme
    ps = t.loc["programme_and_score"]
    assert [ps["rank"], ps["top"]] == [2, "X"]
    assert t.loc["gsea_saliency", ["rank", "n_called", "n_false", "top"]].tolist() == [
        3, 2, 2, "X"
    ]  # fmt: skip


def test_the_mean_fill_peer_and_each_programme_scores_own_auc():
    g = np.random.default_rng(2)
    f = g.standard_normal((120, 2))
    X = g.standard_normal((120, 60))
    X[:, :20] += f[:, [0]]
    X[:, 20:40] += f[:, [1]]
    genes = [f"G{i}" for i in range(60)]
    X = pd.DataFrame(X, index=[f"P{i}" for i in range(120)], columns=genes)
    # a U shape in A: both tails positive, which a score's own AUC cannot see
    y = pd.Series(np.where(np.abs(f[:, 0]) > 1.0, POSITIVE, "absent"), index=X.index)
    sets = {"c": {"A": genes[:20], "B": genes[20:40], "N": genes[40:]}}
    net = NetworkConfig(hidden=(8,), activation="tanh", optimizer="adam", max_epochs=20)
    cv = cross_validate(X, y, net, n_splits=3, seed=0, keep_models=True)
    patients = list(reversed(X.index))
    peers = programme_peer_ranks([cv], X, sets, X.columns, 0, patients).set_index("set")
    scores = programme_scores(X, sets["c"]).loc[patients]
    positive = (y.loc[patients] == POSITIVE).to_numpy()
    table, _ = programme_network_evidence([cv], X, sets, X.columns, seed=0)
    table = table.set_index("set")
    for name in sets["c"]:
        auc = roc_auc_score(positive, scores[name])
        assert table.loc[name, "programme_score_auc"] == pytest.approx(max(auc, 1 - auc))
    assert table.loc["A", "programme_score_auc"] < 0.65  # blind to the U shape
    for name in sets["c"]:
        s = scores[name].to_numpy()
        shift = (s[positive].mean() - s[~positive].mean()) / s.std()
        assert table.loc[name, "programme_shift"] == pytest.approx(shift)
    t, _ = programme_network_evidence([cv], X, sets, X.columns, seed=0, fill="mean")
    expected = -t.set_index("set")["programme_rank"]
    assert peers["programme_mean_fill"].to_dict() == expected.to_dict()


def test_summarise_top1_mean_rank_and_false_discovery_proportion():
    rows = pd.DataFrame(
        {
            "readout": ["a", "a", "a"],
            "rank": [1, 3, 1],
            "n_called": [2, 1, 1],
            "n_false": [1, 1, 0],
            "cv_auc": [0.9, 0.6, 0.8],
        }
    )
    s = summarise(rows).set_index("traits")
    assert s.loc["all", ["n", "top1", "mean_rank", "calls"]].tolist() == [3, 2 / 3, 5 / 3, 4]
    assert s.loc["all", "fdp"] == pytest.approx(0.5)
    assert s.loc["all", "found"] == pytest.approx(2 / 3)  # the second trait's call is false
    learnt = s.loc["cv_auc>=0.75"]
    assert learnt["n"] == 2 and learnt["top1"] == 1.0 and learnt["fdp"] == pytest.approx(1 / 3)
    assert "family_fdp" not in s.columns
    families = rows.assign(family_calls=[2, 1, 1], family_false=[0, 1, 0])
    f = summarise(families).set_index("traits")
    assert f.loc["all", "family_calls"] == 4 and f.loc["all", "family_fdp"] == pytest.approx(0.25)
    assert "cv_auc>=0.75, one programme" not in s.index  # rows without programmes: no split


def test_summarise_splits_the_learnt_traits_by_programmes_and_drive_match():
    rows = pd.DataFrame(
        {
            "readout": ["a"] * 4,
            "rank": [1, 4, 2, 1],
            "n_called": [1, 1, 0, 1],
            "n_false": [0, 1, 0, 0],
            "cv_auc": [0.9, 0.8, 0.8, 0.6],
            "programmes": ["P", "P, Q", "R", "S"],
            "drive_rank": [1, 1, 3, 1],
        }
    )
    s = summarise(rows).set_index("traits")
    one, two = s.loc["cv_auc>=0.75, one programme"], s.loc["cv_auc>=0.75, two programmes"]
    assert one["n"] == 2 and one["top1"] == 0.5 and one["mean_rank"] == 1.5
    assert two["n"] == 1 and two["mean_rank"] == 4 and two["fdp"] == 1.0
    matched = s.loc["cv_auc>=0.75, drive matched"]  # the third trait's drive is another set's
    assert matched["n"] == 2 and matched["mean_rank"] == 2.5


def test_summarise_pools_the_consensus_over_its_programme_seeds():
    rows = pd.DataFrame(
        {
            "readout": ["consensus", "consensus_seed2", "consensus_seed3"] * 2 + ["masking"] * 2,
            "rank": [1, 2, 1, 1, 1, 4, 3, 1],
            "n_called": [1, np.nan, np.nan, 2, np.nan, np.nan, 5, 5],
            "n_false": [0, np.nan, np.nan, 1, np.nan, np.nan, 4, 4],
            "cv_auc": [0.9, 0.9, 0.9, 0.6, 0.6, 0.6, 0.9, 0.6],
        }
    )
    s = summarise(rows).set_index(["traits", "readout"])
    pooled = s.loc[("all", "consensus_all_seeds")]
    # two traits over three seeds: 4 of 6 ranks first, mean rank 10 / 6; calls not pooled
    assert pooled["n"] == 2 and pooled["top1"] == pytest.approx(4 / 6)
    assert pooled["mean_rank"] == pytest.approx(10 / 6) and np.isnan(pooled["calls"])
    learnt = s.loc[("cv_auc>=0.75", "consensus_all_seeds")]
    assert learnt["n"] == 1 and learnt["top1"] == pytest.approx(2 / 3)
    assert s.loc[("all", "consensus"), "calls"] == 3  # the default's own row is unchanged
    # no seed rows: nothing pooled
    alone = summarise(rows[~rows["readout"].str.startswith("consensus_seed")])
    assert "consensus_all_seeds" not in set(alone["readout"])


@pytest.mark.realdata
@pytest.mark.slow
def test_bench_recovery_quick_mode_runs(shared_data, tmp_path, capsys):
    bench = _bench_recovery()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        argv = ["--quick", "--data", str(shared_data), "--out", str(tmp_path)]
        assert bench.main([*argv, "--cache", str(tmp_path / "cache")]) == 0
    summary = pd.read_csv(tmp_path / "recovery_summary.csv")
    rows = pd.read_csv(tmp_path / "recovery_rows.csv")
    assert set(rows["name"]) == {t.name for t in benchmark_traits(quick=True)}
    assert set(rows["drive"]) == {"mean"}
    # the programme network sees the very score a threshold is planted on: it learns it
    assert (rows["programme_cv_auc"] > 0.8).all()
    assert {
        "consensus",
        "consensus_gated",
        "correlation_gsea",
        "gsea_saliency",
        "consensus_seed2",
        "consensus_all_seeds",
    } <= set(summary["readout"])
    # a clean hard threshold on one programme: the recommended read-out ranks it first
    best = rows[rows["readout"] == "consensus"]
    assert (best["rank"] == 1).all()
    assert "consensus" in capsys.readouterr().out
    # the cache scores read-outs again without training: the same consensus rank, and the
    # gated calls of a clean threshold name no set that was not planted
    trait = benchmark_traits(quick=True)[0]
    settings = quick_settings()
    collections = load_collections(shared_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = load_real_data(shared_data).expression
        X = gene_subset(X, collections[trait.collection], settings.n_genes, trait.seed)
        again = rescore_trait(
            tmp_path / "cache" / trait.name, X, collections, trait.collection,
            trait.programmes, nperm=settings.nperm, null_draws=settings.null_draws,
            draws=50, gate_nperm=100, seed=trait.seed, gated=["consensus"],
        ).set_index("readout")  # fmt: skip
    first = rows[(rows["readout"] == "consensus") & (rows["name"] == trait.name)]
    assert again.loc["consensus", "rank"] == first["rank"].iloc[0]
    assert again.loc["consensus_gated", "n_false"] == 0
    assert {"consensus_denoised", "stouffer", "denoised_correlation"} <= set(again.index)
    # the seed draws: the first is the default's own programme network (the same rank), the
    # second the row the benchmark wrote
    c = load_cache(tmp_path / "cache" / trait.name, X)
    masking, corr = cached_sides(c["sets"])
    sets = {trait.collection: dict(collections[trait.collection])}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        drawn = consensus_seed_rows(
            masking, corr, c["cvs"], X, sets, c["ensemble"].universe, c["ensemble"].patients,
            trait.programmes, trait.seed, [1, 2],
        ).set_index("readout")["rank"]  # fmt: skip
    written = rows[rows["name"] == trait.name].set_index("readout")["rank"]
    assert drawn["consensus_seed1"] == written["consensus"]
    assert drawn["consensus_seed2"] == written["consensus_seed2"]


@pytest.mark.realdata
def test_the_programme_repeats_setting_reaches_every_programme_network(shared_data, monkeypatch):
    """``--programme-repeats`` (``RecoverySettings.programme_repeats``) trains the default's
    programme network, its seed draws and its mean-fill peer on that many fold splits."""
    seen = []
    real = recovery.programme_network_evidence

    def spy(*args, **kwargs):
        seen.append((kwargs.get("fill", "conditional"), kwargs.get("repeats")))
        return real(*args, **kwargs)

    monkeypatch.setattr(recovery, "programme_network_evidence", spy)
    monkeypatch.setattr(drivers, "programme_network_evidence", spy)  # the seed draws'
    settings = dataclasses.replace(
        quick_settings(), programme_repeats=3, gate_draws=20, gate_nperm=20, ig_steps=1
    )
    collections = load_collections(shared_data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        X = load_real_data(shared_data).expression
        recovery.run_trait(X, collections, benchmark_traits(quick=True)[0], settings)
    # the default's network, the mean-fill peer, the second seed draw (quick: two draws)
    assert seen == [("conditional", 3), ("mean", 3), ("conditional", 3)]


def test_bench_recovery_refuses_a_programme_repeats_below_one(capsys):
    bench = _bench_recovery()
    with pytest.raises(SystemExit):
        bench.main(["--programme-repeats", "0"])
    assert "--programme-repeats: 0 (expected 1 or more)" in capsys.readouterr().err


@pytest.mark.realdata
def test_every_listed_trait_plants_sets_of_an_allowed_size(shared_data):
    """A list that names a set too small for the read-outs would stop a benchmark run midway."""
    X = load_real_data(shared_data).expression
    genes = set(map(str, X.columns))
    collections = load_collections(shared_data)
    s = full_settings()
    for name, make in TRAIT_LISTS.items():
        for t in make():
            for p in t.programmes:
                n = len(set(collections[t.collection][p]) & genes)
                assert s.min_size <= n <= s.max_size, (name, t.name, p, n)
