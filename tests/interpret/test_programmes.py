"""The programme network: set-level read-out of which programme a trait depends on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from radiogenomics.errors import InputError
from radiogenomics.evaluation.nn_cv import cross_validate
from radiogenomics.interpret import driver_ranking
from radiogenomics.interpret.drivers import combine_readouts, first_shares, repeated_cv
from radiogenomics.interpret.metrics import auc_ap_columns
from radiogenomics.interpret.programmes import (
    SEP,
    heldout_selection_gain,
    programme_network_evidence,
    programme_scores,
    programme_seed,
    score_shift,
)
from radiogenomics.models import NetworkConfig
from radiogenomics.utils.seeding import derive_seed

NET = NetworkConfig(
    hidden=(8,), activation="tanh", optimizer="adam", dropout=0.0, max_epochs=30, patience=10
)


def overlapping_cohort(n=150, seed=0):
    """Two independent programmes: ``driver`` (genes 0-29) sets the trait, ``other`` (genes
    30-59) does not; ``mixed`` holds half of each, so every gene-level read-out sees half the
    driver's genes in it. ``noise`` is genes 60-89; ``copy`` repeats the driver's genes."""
    g = np.random.default_rng(seed)
    f = g.standard_normal((n, 2))
    X = g.standard_normal((n, 120))
    X[:, :30] += 0.9 * f[:, [0]]
    X[:, 30:60] += 0.9 * f[:, [1]]
    genes = [f"G{i}" for i in range(120)]
    X = pd.DataFrame(X + 5.0, index=[f"P{i}" for i in range(n)], columns=genes)
    latent = f[:, 0] + 0.3 * g.standard_normal(n)
    y = pd.Series(np.where(latent > np.quantile(latent, 2 / 3), "high", "low"), index=X.index)
    sets = {
        "driver": genes[:30],
        "other": genes[30:60],
        "mixed": genes[:15] + genes[30:45],
        "noise": genes[60:90],
        "copy": genes[:30],
    }
    return X, y.rename("trait"), sets


@pytest.fixture(scope="module")
def evidence():
    X, y, sets = overlapping_cohort()
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    cvs = repeated_cv(cv, X, repeats=2, seed=0)
    table, probs = programme_network_evidence(cvs, X, {"c": sets}, X.columns, min_size=10)
    return X, y, sets, cvs, table.set_index("set"), probs


def test_the_driver_outranks_a_set_sharing_half_its_genes(evidence):
    *_, t, _ = evidence
    assert t["class"].unique().tolist() == ["high"] and t["collection"].unique().tolist() == ["c"]
    order = t.sort_values("programme_ap", ascending=False).index.tolist()
    assert set(order[:2]) == {"driver", "copy"} and order[2] == "mixed"
    assert t.loc["driver", "programme_ap"] > t.loc["mixed", "programme_ap"] + 0.1
    # keep-only masked AP of an unrelated programme is near the positive share (1/3)
    assert t.loc["noise", "programme_ap"] < 0.5 and t.loc["other", "programme_ap"] < 0.5
    assert t["programme_cv_auc"].iloc[0] > 0.85


def test_identical_programme_scores_are_one_input_and_share_their_evidence(evidence):
    *_, t, probs = evidence
    assert t.loc["copy", "programme_ap"] == t.loc["driver", "programme_ap"]
    np.testing.assert_array_equal(probs[f"c{SEP}copy"], probs[f"c{SEP}driver"])
    assert probs[f"c{SEP}driver"].shape == (len(t.attrs["patients"]), 1)


def test_probabilities_come_in_the_order_asked_for(evidence):
    X, _, sets, cvs, t, probs = evidence
    wanted = list(reversed(t.attrs["patients"]))
    again, moved = programme_network_evidence(
        cvs, X, {"c": sets}, X.columns, min_size=10, patients=wanted
    )
    assert again.attrs["patients"] == wanted
    np.testing.assert_array_equal(moved[f"c{SEP}driver"], probs[f"c{SEP}driver"][::-1])
    with pytest.raises(InputError, match="patient 'NOBODY' has no label"):
        programme_network_evidence(cvs, X, {"c": sets}, X.columns, min_size=10, patients=["NOBODY"])


def _retrained_runs(S, y, cvs, repeats=None):
    """The programme network's CV runs, retrained as the function trains them."""
    config = cvs[0].config.model_copy(update={"ae_layers": 0})
    return [
        cross_validate(
            S,
            y,
            config,
            n_splits=3,
            seed=derive_seed(0, "programme-cv", "c", r),
            keep_models=True,
            task=cvs[0].task,
            classes=cvs[0].classes,
        )  # fmt: skip
        for r in range(len(cvs) if repeats is None else repeats)
    ]


def _by_hand(runs, patient, profile):
    """Mean over the runs of the held-out fold model's probability on one patient's
    (masked) programme scores."""
    total = 0.0
    for run in runs:
        k = next(i for i, f in enumerate(run.folds) if patient in set(map(str, f.val_ids)))
        model = run.fold_models[k]
        Z = model.standardise(profile.to_frame().T)
        total += model.proba_from_logits(model.logits(Z))[0, 1]
    return total / len(runs)


def test_repeats_sets_how_many_programme_cv_runs_are_averaged(evidence):
    """``repeats`` runs the programme network on that many fold splits, however many CV runs
    the gene network had; the first runs are the default's."""
    X, y, sets, cvs, t, probs = evidence
    more, more_probs = programme_network_evidence(
        cvs, X, {"c": sets}, X.columns, min_size=10, repeats=4
    )
    assert not np.allclose(more_probs[f"c{SEP}driver"], probs[f"c{SEP}driver"])
    kept = {n: v for n, v in sets.items() if n != "copy"}
    S = programme_scores(X, kept)
    runs = _retrained_runs(S, y, cvs, repeats=4)
    mean = S.mean()
    centred = S - mean
    slope = centred.mul(centred["driver"], axis=0).mean() / centred["driver"].var(ddof=0)
    for patient in more.attrs["patients"][:3]:
        profile = mean + slope * (S.loc[patient, "driver"] - mean["driver"])
        got = more_probs[f"c{SEP}driver"][more.attrs["patients"].index(patient), 0]
        assert got == pytest.approx(_by_hand(runs, patient, profile), abs=1e-5)
    same, _ = programme_network_evidence(
        cvs, X, {"c": sets}, X.columns, min_size=10, repeats=len(cvs)
    )
    pd.testing.assert_frame_equal(same, t.reset_index()[same.columns])
    with pytest.raises(InputError, match="repeats=0"):
        programme_network_evidence(cvs, X, {"c": sets}, X.columns, min_size=10, repeats=0)


def test_masked_probabilities_match_a_prediction_on_the_filled_in_profile(evidence):
    """Each patient's recorded probability is the mean, over the repeats, of the fold model
    that held it out, on a profile with the kept score and every other score filled in: by
    its regression on the kept score over the cohort (conditional), or at the fold's
    training mean (the paper's masking)."""
    X, y, sets, cvs, t, probs = evidence
    kept = {n: v for n, v in sets.items() if n != "copy"}
    S = programme_scores(X, kept)
    runs = _retrained_runs(S, y, cvs)
    patient = t.attrs["patients"][7]
    s = S.loc[patient]
    # conditional: E[S_j | S_driver] by least squares over the cohort, the driver kept as is
    centred = S - S.mean()
    slope = centred.mul(centred["driver"], axis=0).mean() / centred["driver"].var(ddof=0)
    profile = S.mean() + slope * (s["driver"] - S.mean()["driver"])
    assert profile["driver"] == pytest.approx(s["driver"])
    got = probs[f"c{SEP}driver"][t.attrs["patients"].index(patient), 0]
    assert got == pytest.approx(_by_hand(runs, patient, profile), abs=1e-5)
    # mean fill: every other score at the training mean of the fold model that scores it
    _, mean_probs = programme_network_evidence(
        cvs, X, {"c": sets}, X.columns, min_size=10, fill="mean"
    )
    total = 0.0
    for run in runs:
        k = next(i for i, f in enumerate(run.folds) if patient in set(map(str, f.val_ids)))
        model = run.fold_models[k]
        Z = model.standardise(S.loc[[patient]])
        keep = np.array([g == "driver" for g in model.scaler.genes], dtype=np.float32)
        total += model.proba_from_logits(model.logits(Z * keep))[0, 1]
    got = mean_probs[f"c{SEP}driver"][t.attrs["patients"].index(patient), 0]
    assert got == pytest.approx(total / len(runs), abs=1e-5)
    with pytest.raises(InputError, match="fill='median'"):
        programme_network_evidence(cvs, X, {"c": sets}, X.columns, min_size=10, fill="median")


def stand_in_cohort(n=200, seed=3):
    """``driver`` sets the trait; ``stand_in``'s genes follow the driver closely (its score
    correlates ~0.9 with the driver's) without setting it; ``other`` is unrelated."""
    g = np.random.default_rng(seed)
    f = g.standard_normal((n, 2))
    X = g.standard_normal((n, 90))
    X[:, :30] += 1.2 * f[:, [0]]
    X[:, 30:60] += 1.2 * (0.85 * f[:, [0]] + 0.5 * f[:, [1]])
    genes = [f"G{i}" for i in range(90)]
    X = pd.DataFrame(X, index=[f"P{i}" for i in range(n)], columns=genes)
    latent = X.iloc[:, :30].mean(axis=1).to_numpy() + 0.1 * g.standard_normal(n)
    y = pd.Series(np.where(latent > np.quantile(latent, 2 / 3), "high", "low"), index=X.index)
    sets = {"driver": genes[:30], "stand_in": genes[30:60], "other": genes[60:90]}
    return X, y, sets


def test_the_conditional_fill_gives_the_driver_the_credit_a_stand_in_shares():
    X, y, sets = stand_in_cohort()
    S = programme_scores(X, sets)
    assert S["driver"].corr(S["stand_in"]) > 0.8
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    cvs = repeated_cv(cv, X, repeats=2, seed=0)
    t, _ = programme_network_evidence(cvs, X, {"c": sets}, X.columns, min_size=10)
    t = t.set_index("set")
    assert t.loc["driver", "programme_rank"] == 1
    # keeping the stand-in and filling the driver in from it is a noisy copy of the driver
    assert t.loc["driver", "programme_ap"] > t.loc["stand_in", "programme_ap"] + 0.05
    assert t.loc["other", "programme_ap"] < 0.5


def and_cohort(n=240, seed=5):
    """A trait that needs two independent programmes together (both high), and a set
    holding half of each programme's genes."""
    g = np.random.default_rng(seed)
    f = g.standard_normal((n, 3))
    X = g.standard_normal((n, 120))
    for i in range(3):
        X[:, 30 * i : 30 * (i + 1)] += 1.2 * f[:, [i]]
    genes = [f"G{i}" for i in range(120)]
    X = pd.DataFrame(X, index=[f"P{i}" for i in range(n)], columns=genes)
    latent = np.minimum(f[:, 0], f[:, 1])
    y = pd.Series(np.where(latent > np.quantile(latent, 2 / 3), "both", "not"), index=X.index)
    sets = {
        "A": genes[:30],
        "B": genes[30:60],
        "C": genes[60:90],
        "half_A_half_B": genes[:15] + genes[30:45],
        "noise": genes[90:120],
    }
    return X, y, sets


def test_the_forward_order_places_both_programmes_of_an_and_trait_first():
    X, y, sets = and_cohort()
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    cvs = repeated_cv(cv, X, repeats=2, seed=0)
    t, _ = programme_network_evidence(cvs, X, {"c": sets}, X.columns, min_size=10)
    t = t.set_index("set")
    entered = t["programme_order"].dropna().sort_values()
    # the half-and-half set is the best one alone, but once A and B have entered it adds
    # nothing: the floating order drops it, and the two programmes come first; the noise set
    # that raised their AP a little in this sample does not hold up on held-out halves
    assert entered.tolist() == [1.0, 2.0]
    assert t["programme_ap"].idxmax() == "half_A_half_B"
    assert set(entered.index) == {"A", "B"}
    assert t["programme_rank"].to_dict() == pytest.approx(
        {**{s: i + 1 for i, s in enumerate(entered.index)},
         **{s: 3 + i for i, s in enumerate(
             t.drop(entered.index).sort_values("programme_ap", ascending=False).index)}}
    )  # fmt: skip
    one, _ = programme_network_evidence(
        cvs, X, {"c": sets}, X.columns, min_size=10, forward_steps=1
    )
    assert one["programme_order"].notna().sum() == 1


def test_combine_readouts_puts_the_forward_order_first_then_the_better_of_two_mean_ranks():
    sets = ["A", "B", "C", "D", "E"]
    base = {"class": "x", "collection": "c", "set": sets}
    masking = pd.DataFrame(
        {**base, "size": [20, 30, 40, 50, 60], "ap": 0.5, "auc": 0.5,
         "z_ap": [3.0, 2.0, 1.0, 0.0, -1.0], "z_auc": 0.0, "excess_ap": 0.0,
         "p": [1e-4, 1e-3, 1e-2, 0.5, 0.9], "q": np.nan, "rank": [1, 2, 3, 4, 5]}
    )  # fmt: skip
    corr = pd.DataFrame(
        {**base, "size": [20, 30, 40, 50, 60], "nes": [2.0, 3.0, 1.0, 0.5, 0.2], "pval": 0.001,
         "padj": 0.003, "rank": [2, 1, 3, 4, 5]}
    )  # fmt: skip
    # C entered the forward order first, B second; then by AP (A, E; D is unscored)
    prog = pd.DataFrame(
        {"class": "x", "collection": "c", "set": ["A", "B", "C", "E"],
         "programme_ap": [0.8, 0.9, 0.6, 0.5], "programme_order": [np.nan, 2.0, 1.0, np.nan],
         "programme_score_auc": [0.6, 0.95, 0.7, 0.9], "programme_shift": [0.2, -1.0, 0.4, 0.9]}
    )  # fmt: skip
    t = combine_readouts(masking, corr, prog).set_index("set")
    # the shift is carried over as it is: the ranking uses either direction (B is low)
    assert t["programme_shift"].to_dict() == pytest.approx(
        {"A": 0.2, "B": -1.0, "C": 0.4, "D": np.nan, "E": 0.9}, nan_ok=True
    )
    assert t["programme_rank"].to_dict() == {"A": 3, "B": 2, "C": 1, "D": 5, "E": 4}
    assert t["programme_score_rank"].to_dict() == {"A": 4, "B": 1, "C": 3, "D": 5, "E": 2}
    assert t["masking_rank"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert t["correlation_rank"].to_dict() == {"A": 2, "B": 1, "C": 3, "D": 4, "E": 5}
    # C and B first, in the forward order (B's better ranks elsewhere do not move it ahead);
    # then each set by the better of its programme mean and its gene mean: A by its gene
    # level (masking 1, correlation 2: 1.5; programme 3 and 4: 3.5), E by its programme level
    # (4 and 2: 3.0; gene 5), D, which the programme network did not score, by its gene
    # level (4)
    assert t["rank"].to_dict() == {"C": 1, "B": 2, "A": 3, "E": 4, "D": 5}
    expected = {"C": -1.0, "B": -2.0, "A": -3.5, "E": -5.0, "D": -6.0}
    assert t["score"].to_dict() == pytest.approx(expected)
    # where the gene level ties every set, the programme level orders them: E (3.0), A
    # (3.5), D (5)
    flat = combine_readouts(masking.assign(z_ap=1.0), corr.assign(nes=1.0), prog)
    assert flat.set_index("set")["rank"].to_dict() == {"C": 1, "B": 2, "E": 3, "A": 4, "D": 5}
    # and where the programme means tie too, the programme network's rank decides
    tied = combine_readouts(
        masking.assign(z_ap=1.0),
        corr.assign(nes=1.0),
        prog.assign(programme_score_auc=[0.6, 0.95, 0.7, 0.65]),
    )
    assert tied.set_index("set")["rank"].to_dict() == {"C": 1, "B": 2, "A": 3, "E": 4, "D": 5}
    # the programme ranks order but do not test: p is the masking/correlation p
    assert t.loc["B", "p"] == pytest.approx(1e-3)
    two = combine_readouts(masking, corr).set_index("set")
    assert two["programme_ap"].isna().all() and two.loc["A", "score"] == -1.5
    assert two["rank"].to_dict() == {"A": 1, "B": 2, "C": 3, "D": 4, "E": 5}
    assert "_programme_mean" not in t.columns and "_programme_mean" not in two.columns


def test_driver_ranking_without_the_programme_network_is_the_two_rank_consensus():
    X, y, sets = overlapping_cohort(n=90, seed=1)
    sets = {k: v for k, v in sets.items() if k != "copy"}
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    kw = dict(repeats=1, null_draws=20, nperm=200, min_size=10, gate_draws=20, gate_nperm=50)
    off = driver_ranking(cv, X, y, {"c": sets}, programme_network=False, **kw).set_index("set")
    on = driver_ranking(cv, X, y, {"c": sets}, **kw).set_index("set")
    assert off["programme_ap"].isna().all() and on["programme_ap"].notna().all()
    np.testing.assert_allclose(off["score"], -(off["masking_rank"] + off["correlation_rank"]) / 2)
    programme = on[["programme_rank", "programme_score_rank"]].mean(axis=1)
    mean = np.minimum(programme, on[["masking_rank", "correlation_rank"]].mean(axis=1))
    entered = on["programme_order"].count()
    expected = np.where(on["programme_order"].notna(), -on["programme_order"], -(entered + mean))
    np.testing.assert_allclose(on["score"], expected)
    assert on.attrs["programme_network"] and on.attrs["programme_cv_auc"]["c"] > 0.7
    assert on["rank"].idxmin() == "driver"


def test_first_shares_counts_the_rankings_that_put_each_set_first():
    def ranking(order, cls="x"):
        return pd.DataFrame(
            {"class": cls, "collection": "c", "set": order, "rank": range(1, len(order) + 1)}
        )

    base = pd.concat([ranking(["A", "B", "C"]), ranking(["C", "A", "B"], "y")], ignore_index=True)
    others = [
        pd.concat([ranking(["B", "A", "C"]), ranking(["C", "B", "A"], "y")]),
        pd.concat([ranking(["A", "C", "B"]), ranking(["A", "C", "B"], "y")]),
    ]
    share = base.assign(share=first_shares([base, *others])).set_index(["class", "set"])
    assert share["share"].to_dict() == pytest.approx(
        {("x", "A"): 2 / 3, ("x", "B"): 1 / 3, ("x", "C"): 0.0,
         ("y", "C"): 2 / 3, ("y", "A"): 1 / 3, ("y", "B"): 0.0}
    )  # fmt: skip
    assert first_shares([base])[base["rank"] == 1].eq(1.0).all()


def test_driver_ranking_reports_how_many_programme_seeds_put_each_set_first():
    """Other seeds of the programme network change no rank; ``first_share`` is the share of
    them (the ranking's own included) whose consensus puts the set first."""
    X, y, sets = overlapping_cohort(n=90, seed=1)
    sets = {k: v for k, v in sets.items() if k != "copy"}
    cv = cross_validate(X, y, NET, n_splits=3, seed=0, keep_models=True)
    kw = dict(repeats=1, null_draws=20, nperm=200, min_size=10, gate_draws=20, gate_nperm=50)
    one = driver_ranking(cv, X, y, {"c": sets}, programme_seeds=1, **kw).set_index("set")
    three = driver_ranking(cv, X, y, {"c": sets}, programme_seeds=3, **kw).set_index("set")
    pd.testing.assert_series_equal(one["rank"], three["rank"])
    assert one["first_share"].to_dict() == {s: float(s == one["rank"].idxmin()) for s in one.index}
    assert three["first_share"].sum() == pytest.approx(1.0)
    assert set(np.round(three["first_share"] * 3, 9)) <= {0.0, 1.0, 2.0, 3.0}
    assert three.loc["driver", "first_share"] >= 1 / 3 and three.attrs["programme_seeds"] == 3
    # the second seed's network, trained and combined by hand, puts the same set first
    again, _ = programme_network_evidence(
        [cv], X, {"c": sets}, list(X.columns), min_size=10, seed=programme_seed(0, 2)
    )
    second = again.sort_values("programme_rank")["set"].iloc[0]
    assert three.loc[second, "first_share"] >= 1 / 3
    off = driver_ranking(cv, X, y, {"c": sets}, programme_network=False, **kw)
    assert off["first_share"].isna().all()
    with pytest.raises(InputError, match="programme_seeds=0"):
        driver_ranking(cv, X, y, {"c": sets}, programme_seeds=0, **kw)


def test_the_score_shift_says_which_way_each_programme_moves_with_the_class():
    g = np.random.default_rng(4)
    base = g.standard_normal((400, 1))
    positive = base[:, 0] > 0.5
    # up with the class, down with it, a U around it, a constant
    scores = np.hstack([base, -2 * base, np.abs(base) - 0.8, np.ones((400, 1))])
    shift = score_shift(scores, positive)
    for j in range(3):
        col = scores[:, j]
        expected = (col[positive].mean() - col[~positive].mean()) / col.std()
        assert shift[j] == pytest.approx(expected)
    assert shift[0] > 1.5 and shift[1] == pytest.approx(-shift[0])  # SD units: scale-free
    assert shift[3] == 0.0  # a constant score does not move


#: the places before each place that _forward_names's last call judged out of sample
judged: list[list[str]] = []


def _forward_names(monkeypatch, names, ap, steps=3, positive=np.array([True]), gains=None):
    """forward_order's sets, by name, where ``ap`` gives the AP of every set and combination
    kept together (keyed by their names' letters, in any order) and ``gains`` the held-out
    gain of each addition's choice, in turn (None: every choice holds up)."""
    import radiogenomics.interpret.programmes as programmes

    key = {frozenset(k): v for k, v in ap.items()}

    def joint_ap(masker, units, positive, column):
        return np.array([key[frozenset(names[i] for i in u)] for u in units])

    held_out = iter(gains or [])

    def selection_gain(masker, chosen, rest, positive, column, rng):
        judged.append([names[i] for i in chosen])
        return 1.0 if gains is None else next(held_out)

    judged.clear()

    monkeypatch.setattr(programmes, "_joint_ap", joint_ap)
    monkeypatch.setattr(programmes, "_selection_gain", selection_gain)
    masker = type("M", (), {"columns": names})()
    single = np.array([ap[n] for n in names])
    return [names[i] for i in programmes.forward_order(masker, single, positive, 0, steps)]


def test_the_floating_order_drops_a_stand_in_the_later_sets_make_redundant(monkeypatch):
    """S, the best set alone, carries a little of both programmes of an AND; the greedy order
    kept it first for good. Once A and B are in, A + B without S beats every pair found
    before, so S is dropped (and may come back later, behind them)."""
    names = ["S", "A", "B", "N"]
    ap = {"S": 0.80, "A": 0.70, "B": 0.65, "N": 0.30,
          "SA": 0.85, "SB": 0.84, "SN": 0.80, "AB": 0.95, "AN": 0.70, "BN": 0.66,
          "SAB": 0.96, "SAN": 0.86, "SBN": 0.85, "ABN": 0.94}  # fmt: skip
    assert _forward_names(monkeypatch, names, ap) == ["A", "B", "S"]
    # without a better pair the greedy order stands
    ap.update(AB=0.83)
    assert _forward_names(monkeypatch, names, ap) == ["S", "A", "B"]
    assert _forward_names(monkeypatch, names, ap, steps=1, positive=None) == ["S"]


def test_the_forward_order_stops_when_no_set_raises_the_ap(monkeypatch):
    """A forward place is only for a set that raises the AP of those kept: the driver of a
    one-programme trait stands alone, and an AND's pair is not followed by a set that lowers
    its AP (nor can such a set make the floating step drop one of the pair)."""
    names = ["D", "A", "N"]
    ap = {"D": 0.80, "A": 0.60, "N": 0.30, "DA": 0.79, "DN": 0.78, "AN": 0.55, "DAN": 0.81}
    assert _forward_names(monkeypatch, names, ap) == ["D"]
    # D and A together beat D; N then lowers their AP, so two places
    ap.update(DA=0.90, DAN=0.89, AN=0.95)
    assert _forward_names(monkeypatch, names, ap) == ["D", "A"]
    # a tie does not raise it either
    ap.update(DAN=0.90)
    assert len(_forward_names(monkeypatch, names, ap)) == 2


def test_a_later_forward_place_needs_a_choice_that_holds_up_out_of_sample(monkeypatch):
    """The best of many candidates raises the AP by chance; the order keeps each later place
    while choosing it, given the places before it, holds up on held-out halves."""
    names = ["D", "A", "N"]
    ap = {"D": 0.80, "A": 0.60, "N": 0.30, "DA": 0.85, "DN": 0.78, "AN": 0.55, "DAN": 0.90}
    assert _forward_names(monkeypatch, names, ap, gains=[0.02, 0.01]) == ["D", "A", "N"]
    assert judged == [["D"], ["D", "A"]]
    assert _forward_names(monkeypatch, names, ap, gains=[0.02, 0.0]) == ["D", "A"]
    assert _forward_names(monkeypatch, names, ap, gains=[-0.01]) == ["D"]
    # an AND's stand-in is dropped once its pair is in (and comes back behind it), and B is
    # judged beside A, not beside the stand-in that carried it when it entered
    names = ["S", "A", "B", "N"]
    ap = {"S": 0.80, "A": 0.70, "B": 0.65, "N": 0.30,
          "SA": 0.85, "SB": 0.84, "SN": 0.80, "AB": 0.95, "AN": 0.70, "BN": 0.66,
          "SAB": 0.96, "SAN": 0.86, "SBN": 0.85, "ABN": 0.94}  # fmt: skip
    assert _forward_names(monkeypatch, names, ap, gains=[0.03, 0.01]) == ["A", "B", "S"]
    assert judged == [["A"], ["A", "B"]]
    assert _forward_names(monkeypatch, names, ap, gains=[0.03, -0.01]) == ["A", "B"]
    assert _forward_names(monkeypatch, names, ap, gains=[-0.01]) == ["A"]


def test_the_held_out_selection_gain_tells_a_real_addition_from_the_best_of_noise():
    rng = np.random.default_rng(0)
    positive = rng.random(150) < 1 / 3
    signal = 2 * positive + rng.normal(0, 1.0, 150)
    kept = signal + rng.normal(0, 2.0, 150)  # a first set that carries part of the signal
    noise = kept[:, None] + rng.normal(0, 0.5, (150, 100))  # 100 sets that add nothing
    # in the whole sample the best of them raises the AP all the same
    _, base = auc_ap_columns(kept[:, None], positive)
    _, ap = auc_ap_columns(noise, positive)
    assert ap.max() > base[0] + 0.01
    assert heldout_selection_gain(kept, noise, positive, np.random.default_rng(1)) < 0
    # a set that adds the rest of the signal is chosen on one half and gains on the other
    real = np.column_stack([noise, kept + 2 * signal])
    assert heldout_selection_gain(kept, real, positive, np.random.default_rng(1)) > 0.1
    # one patient in a class: no halving holds both classes, nothing to judge (no place kept)
    lone = np.arange(150) == 0
    assert np.isnan(heldout_selection_gain(kept, real, lone, np.random.default_rng(1)))


def test_the_held_out_selection_gain_against_a_direct_computation():
    rng = np.random.default_rng(3)
    positive = rng.random(40) < 0.4
    kept = rng.random(40)
    candidates = rng.random((40, 5))
    gain = heldout_selection_gain(kept, candidates, positive, np.random.default_rng(7), splits=1)
    # the same halving, drawn the same way; scikit-learn's AP
    draw = np.random.default_rng(7)
    first = np.zeros(40, dtype=bool)
    for cls in (True, False):
        members = draw.permutation(np.flatnonzero(positive == cls))
        first[members[: len(members) // 2]] = True
    expected = []
    for a, b in ((first, ~first), (~first, first)):

        def ap(x, rows):
            return average_precision_score(positive[rows], x[rows])

        pick = max(range(5), key=lambda j: ap(candidates[:, j], a) - ap(kept, a))
        expected.append(ap(candidates[:, pick], b) - ap(kept, b))
    assert gain == pytest.approx(np.mean(expected))
