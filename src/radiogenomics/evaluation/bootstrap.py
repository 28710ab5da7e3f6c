"""Bootstrap comparison of the neural network against the baselines (METHOD.md 3, Fig. 4b).

For each repetition and trait, a new seed gives a new stratified K-fold split of the trait's
labelled patients; within each fold the training and the validation patients are resampled
separately with replacement (again, until every class of the fold is present). Every model type
trains at its chosen hyperparameters on the same resamples and is scored by ROC AUC on the
resampled validation patients (micro-averaged for a multi-class trait, the baselines then
one-vs-rest); a repetition's AUC is the mean over its K folds. The network trains with
its own early stopping on the resampled validation patients, as the paper's training did.

A work unit is one (repetition, trait, model type): its split, resamples and model seeds derive
from those keys alone, so the numbers do not depend on the executor, the worker count or the
order units finish in. Each finished unit is written at once (atomically) under
``<out_dir>/units``; re-running with the same folder reuses every unit whose inputs are
unchanged (same data, hyperparameters, K and seed), so an interrupted bootstrap continues where
it stopped and a larger B extends a smaller one.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.evaluation.baselines_cv import (
    CohortArrays,
    Folds,
    prepare_cohort,
    score,
    standardise,
    unit_threads,
)
from radiogenomics.evaluation.splits import stratified_folds
from radiogenomics.execution import Executor, LocalExecutor
from radiogenomics.models.baselines import BASELINES, class_scores, fit_baseline, get_baseline
from radiogenomics.utils.io import read_json, write_json, write_table
from radiogenomics.utils.seeding import derive_seed, rng

#: Bump when the unit computation changes, so stale units on disk are recomputed.
UNIT_VERSION = 1
NN = "nn"
POOLED = "all traits"
_FOLD_COLUMNS = ["trait", "model", "rep", "fold", "auc", "ap", "n_train", "n_val", "resample_id"]
_MAX_TRIES = 10_000


# ----------------------------------------------------------------------------- resampling


def resample_with_every_class(
    y: np.ndarray, idx: np.ndarray, gen: np.random.Generator, what: str = "set"
) -> np.ndarray:
    """Draw ``len(idx)`` of ``idx`` with replacement, drawing again until every class of
    ``y[idx]`` appears (both classes of a binary trait)."""
    idx = np.asarray(idx, dtype=np.int64)
    n_classes = len(np.unique(y[idx]))
    if n_classes < 2:
        raise InputError(
            f"the {what} holds one class only, so no resample of it can hold two",
            field=what,
            expected="two or more classes in every fold's training and validation patients",
        )
    for _ in range(_MAX_TRIES):
        draw = gen.choice(idx, size=len(idx), replace=True)
        if len(np.unique(y[draw])) == n_classes:
            return draw
    raise RuntimeError(
        f"no resample of the {what} held its {n_classes} classes in {_MAX_TRIES} draws"
    )


#: The binary name of :func:`resample_with_every_class` (the same draws for two classes).
resample_with_both_classes = resample_with_every_class


def bootstrap_split(
    y: np.ndarray, n_splits: int, seed: int, rep: int, trait: str, adjust: bool = False
) -> Folds:
    """The resampled (training, validation) positions of each fold of one repetition.

    Depends only on (seed, rep, trait), so every model type of a repetition trains and is scored
    on the same resamples. ``adjust`` lowers K when the smaller class has fewer patients.
    """
    y = np.asarray(y)
    folds = stratified_folds(
        y,
        n_splits,
        seed=derive_seed(seed, "bootstrap-split", rep, trait),
        task=trait,
        adjust=adjust,
    )
    out = []
    for k, (tr, va) in enumerate(folds):
        gen = rng(seed, "bootstrap-resample", rep, trait, k)
        out.append(
            (
                resample_with_every_class(y, tr, gen, what=f"{trait} training fold {k}"),
                resample_with_every_class(y, va, gen, what=f"{trait} validation fold {k}"),
            )
        )
    return out


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:12]


# ----------------------------------------------------------------------------- work units


@dataclass(frozen=True)
class BootstrapUnit:
    """One repetition of one model type on one trait (all K folds)."""

    rep: int
    trait: str
    model: str
    params: dict[str, Any]  # baseline hyperparameters, or the network config as a dict
    fingerprint: str = ""

    @property
    def filename(self) -> str:
        key = hashlib.sha256(f"{self.trait}\x1f{self.model}".encode()).hexdigest()[:12]
        return f"rep{self.rep:05d}-{key}.json"


@dataclass(frozen=True)
class NetworkInputs:
    """What the network needs beyond the cohort when it transfers autoencoder layers.

    The classifier then reuses the autoencoder's scaler (as the paper did): ``Z`` is the whole
    cohort standardised by it once, ``layers`` the encoder's (W, b) per Dense layer.
    """

    Z: np.ndarray  # patients x autoencoder genes, float32
    layers: tuple[tuple[np.ndarray, np.ndarray], ...]

    @classmethod
    def from_autoencoder(cls, autoencoder: Any, X: pd.DataFrame) -> NetworkInputs:
        """From a trained autoencoder (``scaler`` + ``encoder_layers``) and the expression."""
        n = len(autoencoder.encoder_sizes)
        return cls(
            Z=autoencoder.scaler.transform(X, source="expression"),
            layers=tuple(autoencoder.encoder_layers(n)),
        )

    def digest(self) -> str:
        return _digest(self.Z, *(a for layer in self.layers for a in layer))


def _baseline_scores(
    unit: BootstrapUnit, data: CohortArrays, folds: Folds, seeds: Sequence[int]
) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """Each fold's validation scores of a baseline trained on the fold's training resample."""
    t = data.traits[unit.trait]
    out = []
    for (tr, va), seed in zip(folds, seeds, strict=True):
        Ztr, Zva = standardise(data.X, data.genes, t.rows[tr], t.rows[va])
        est = fit_baseline(unit.model, unit.params, Ztr, t.y[tr], seed, n_classes=t.n_classes)
        out.append((class_scores(est, Zva), {}))
    return out


def _network_scores(
    unit: BootstrapUnit,
    data: CohortArrays,
    folds: Folds,
    seeds: Sequence[int],
    inputs: NetworkInputs | None,
    device: str | None = None,
) -> list[tuple[np.ndarray, dict[str, Any]]]:
    """The network at its chosen config on each fold, early-stopped on the validation resample.

    The K networks of a repetition train together (the modelling engine's batched trainer) on
    ``device``, resolved here on the worker (``None``/``"auto"``: the GPU the unit was given,
    if any).
    """
    import torch

    from radiogenomics.models.config import NetworkConfig
    from radiogenomics.models.training import fit_classifiers

    config = NetworkConfig(**unit.params)
    t = data.traits[unit.trait]
    arrays = []
    for tr, va in folds:
        if config.ae_layers:
            if inputs is None:
                raise InputError(
                    f"the network config transfers {config.ae_layers} autoencoder layers but no "
                    "autoencoder was given",
                    field=f"chosen.{unit.trait}.nn",
                    expected="run_bootstrap(..., autoencoder=<trained autoencoder>)",
                )
            Ztr, Zva = inputs.Z[t.rows[tr]], inputs.Z[t.rows[va]]
        else:
            Ztr, Zva = standardise(data.X, data.genes, t.rows[tr], t.rows[va])
        arrays.append((Ztr, t.y[tr], Zva, t.y[va]))
    transfer = list(inputs.layers) if (config.ae_layers and inputs is not None) else None
    fitted = fit_classifiers(
        arrays, config, list(seeds), n_classes=t.n_classes, transfer=transfer, device=device
    )
    out = []
    for (net, best_epoch, _), (_, _, Zva, _) in zip(fitted, arrays, strict=True):
        net.eval()
        device = next(net.parameters()).device
        with torch.no_grad():
            logits = net(torch.as_tensor(Zva, dtype=torch.float32, device=device)).double()
        # binary: the logit ranks patients; multi-class: softmax probabilities (micro-AUC)
        s = logits[:, 0] if t.n_classes == 2 else torch.softmax(logits, dim=1)
        out.append((s.cpu().numpy(), {"best_epoch": int(best_epoch)}))
    return out


def run_unit(unit: BootstrapUnit, shared: Mapping[str, Any]) -> dict[str, Any]:
    """Fit one model type on the K resampled folds of one repetition; AUC and AP per fold."""
    data: CohortArrays = shared["data"]
    seed = int(shared["seed"])
    t = data.traits[unit.trait]
    folds = bootstrap_split(
        t.y,
        int(shared["n_splits"]),
        seed,
        unit.rep,
        unit.trait,
        adjust=bool(shared.get("adjust_folds", False)),
    )
    seeds = [
        derive_seed(seed, "bootstrap-fit", unit.rep, unit.trait, unit.model, k)
        for k in range(len(folds))
    ]
    with unit_threads():
        if unit.model == NN:
            scored = _network_scores(
                unit, data, folds, seeds, shared.get("network_inputs"), shared.get("device")
            )
        else:
            scored = _baseline_scores(unit, data, folds, seeds)
    rows = []
    for k, ((tr, va), (s, extra)) in enumerate(zip(folds, scored, strict=True)):
        auc, ap = score(t.y[va], s)
        rows.append(
            {
                "fold": k,
                "auc": auc,
                "ap": ap,
                "n_train": len(tr),
                "n_val": len(va),
                "resample_id": _digest(tr, va),
                **extra,
            }
        )
    return {
        "rep": unit.rep,
        "trait": unit.trait,
        "model": unit.model,
        "fingerprint": unit.fingerprint,
        "folds": rows,
    }


def unit_resources(unit: BootstrapUnit, network_gpus: float = 0.0) -> tuple[float, float]:
    """(CPUs, GPUs) a unit declares to the executor: one CPU each, plus ``network_gpus`` (a GPU
    fraction) for the network's units; the baselines (scikit-learn, XGBoost) run on CPU."""
    return 1.0, (float(network_gpus) if unit.model == NN else 0.0)


# ----------------------------------------------------------------------------- the stage


@dataclass(frozen=True)
class BootstrapResults:
    folds: pd.DataFrame  # trait, model, rep, fold, auc, ap, n_train, n_val, resample
    auc: pd.DataFrame  # trait, model, rep, auc, ap (mean over folds)
    differences: pd.DataFrame  # trait, model, rep, difference (reference minus model)
    summary: pd.DataFrame  # trait, model, auc + difference means and 95% intervals
    reference: str
    n_computed: int = 0  # units computed in this call (the rest were read back from disk)


def _normalise_params(model: str, params: Any) -> dict[str, Any]:
    if model == NN:
        if hasattr(params, "model_dump"):
            return params.model_dump(mode="json")
        return json.loads(json.dumps(dict(params), default=list))
    get_baseline(model)
    return dict(params)


def _effective_params(model: str, params: dict[str, Any]) -> dict[str, Any]:
    """Every setting the model trains with, defaults included (so a changed default is a new
    input, never silently mixed with units computed under the old one)."""
    if model == NN:
        from radiogenomics.models.config import NetworkConfig

        return NetworkConfig(**params).model_dump(mode="json")
    est = get_baseline(model).factory(dict(params), 0)
    return {k: v for k, v in est.get_params().items() if k != "random_state"}


def plan_units(
    data: CohortArrays,
    chosen: Mapping[str, Mapping[str, Any]],
    n_reps: int,
    n_splits: int,
    seed: int,
    models: Sequence[str] | None = None,
    network_digest: str | None = None,
    adjust_folds: bool = False,
) -> list[BootstrapUnit]:
    """Every (repetition, trait, model type) unit, each with the fingerprint of its inputs."""
    missing = [t for t in data.traits if t not in chosen]
    if missing:
        raise InputError(
            f"no chosen hyperparameters for traits {missing}",
            field="chosen",
            expected="trait -> model -> hyperparameters for every trait",
        )
    units = []
    for trait in data.traits:
        per_model = chosen[trait]
        names = list(per_model) if models is None else list(models)
        absent = [m for m in names if m not in per_model]
        if absent:
            raise InputError(
                f"no chosen hyperparameters for {absent} on {trait}",
                field=f"chosen.{trait}",
                expected=f"one of {list(per_model)}",
            )
        digest = data.digest(trait)
        for model in names:
            params = _normalise_params(model, per_model[model])
            key = {
                "version": UNIT_VERSION,
                "trait": trait,
                "model": model,
                "params": _effective_params(model, params),
                "n_splits": int(n_splits),
                "adjust_folds": bool(adjust_folds),
                "seed": int(seed),
                "data": digest,
            }
            if model == NN and params.get("ae_layers"):
                key["autoencoder"] = network_digest
            base = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
            for rep in range(int(n_reps)):
                fp = hashlib.sha256(f"{base}\x1f{rep}".encode()).hexdigest()[:20]
                units.append(BootstrapUnit(rep, trait, model, params, fp))
    return units


def run_bootstrap(
    X: pd.DataFrame,
    traits: pd.DataFrame,
    chosen: Mapping[str, Mapping[str, Any]],
    n_reps: int = 100,
    n_splits: int = 10,
    seed: int = 0,
    executor: Executor | None = None,
    out_dir: str | Path | None = None,
    models: Sequence[str] | None = None,
    reference: str = NN,
    autoencoder: Any = None,
    figure_dir: str | Path | None = None,
    adjust_folds: bool = False,
    device: str | None = None,
    network_gpus: float = 0.0,
) -> BootstrapResults:
    """The ``bootstrap`` stage: B repetitions x model types x traits, resumable from ``out_dir``.

    ``chosen`` maps trait -> model -> hyperparameters (a baseline's parameter dict, e.g. from
    ``chosen_params.json``, or for ``"nn"`` a network config / its dict). ``models`` restricts
    the model types (default: every one in ``chosen``). With ``out_dir`` the finished units are
    kept under ``out_dir/units`` and the tables ``bootstrap_folds``, ``bootstrap_auc``,
    ``bootstrap_differences``, ``bootstrap_summary`` are written there, and the figure
    ``bootstrap_differences`` (PNG + SVG) in ``figure_dir`` (default: ``out_dir``).
    ``autoencoder`` (a trained autoencoder) is needed when the network's config transfers
    encoder layers; its scaler then standardises the network's input. ``adjust_folds`` lowers
    K (with a warning) for a trait whose smaller class has fewer patients than folds.
    ``device`` is where the networks train (``None``/``"auto"``: CUDA where the unit runs, if
    any); each network unit declares ``network_gpus`` (a GPU fraction) to the executor and the
    baseline units none (:func:`unit_resources`), which changes where units run, never their
    numbers.
    """
    if n_reps < 1:
        raise InputError(f"n_reps={n_reps}", field="n_reps", expected="at least 1")
    # the differences are against the reference: a misspelt one dropped them all, silently
    if reference != NN and reference not in BASELINES:
        raise InputError(
            f"unknown reference model {reference!r}",
            field="reference",
            expected=f"{NN!r} or one of {', '.join(BASELINES)}",
        )
    for trait, by_model in chosen.items():
        run = list(by_model) if models is None else list(models)
        if reference not in run:  # AUCs alone (e.g. baselines only): allowed, but said
            warnings.warn(
                f"{trait}: the reference model {reference!r} is not run ({', '.join(run)}):"
                " no differences are computed",
                stacklevel=2,
            )
    data = prepare_cohort(X, traits, names=list(chosen))
    inputs = None if autoencoder is None else NetworkInputs.from_autoencoder(autoencoder, X)
    digest = None if inputs is None else inputs.digest()
    units = plan_units(
        data,
        chosen,
        n_reps,
        n_splits,
        seed,
        models,
        network_digest=digest,
        adjust_folds=adjust_folds,
    )
    needs_ae = sorted({u.trait for u in units if u.model == NN and u.params.get("ae_layers")})
    if needs_ae and inputs is None:
        raise InputError(
            f"the network config of {needs_ae} transfers autoencoder layers but no autoencoder "
            "was given",
            field="chosen.nn.ae_layers",
            expected="run_bootstrap(..., autoencoder=<trained autoencoder>)",
        )
    unit_dir = None if out_dir is None else Path(out_dir) / "units"
    done = _read_done(units, unit_dir)
    # the network's units first: they are the longest, so the last to finish are short ones
    todo = sorted(
        (i for i in range(len(units)) if i not in done), key=lambda i: units[i].model != NN
    )

    def on_result(j: int, rec: dict[str, Any]) -> None:
        if unit_dir is not None:
            write_json(unit_dir / units[todo[j]].filename, rec)

    shared = {
        "data": data,
        "n_splits": int(n_splits),
        "seed": int(seed),
        "adjust_folds": bool(adjust_folds),
        "network_inputs": inputs,
        "device": None if device is None else str(device),
    }
    computed = (executor or LocalExecutor()).map(
        run_unit,
        [units[i] for i in todo],
        shared=shared,
        on_result=on_result,
        desc="bootstrap",
        resources=partial(unit_resources, network_gpus=network_gpus),
    )
    done.update(zip(todo, computed, strict=True))
    res = summarise_bootstrap([done[i] for i in range(len(units))], reference)
    res = replace(res, n_computed=len(todo))
    if out_dir is not None:
        write_bootstrap(res, Path(out_dir), figure_dir)
    return res


def _read_done(units: Sequence[BootstrapUnit], unit_dir: Path | None) -> dict[int, dict]:
    """Units already on disk whose fingerprint matches (same inputs): index -> record."""
    done: dict[int, dict] = {}
    if unit_dir is None or not unit_dir.is_dir():
        return done
    for i, u in enumerate(units):
        path = unit_dir / u.filename
        if not path.exists():
            continue
        try:
            rec = read_json(path)
        except (OSError, ValueError):
            continue  # unreadable: computed again
        if rec.get("fingerprint") == u.fingerprint:
            done[i] = rec
    return done


def summarise_bootstrap(
    records: Sequence[Mapping[str, Any]], reference: str = NN
) -> BootstrapResults:
    """Tidy tables from unit records: per fold, per repetition, differences and their summary."""
    rows = [
        {"trait": r["trait"], "model": r["model"], "rep": r["rep"], **f}
        for r in records
        for f in r["folds"]
    ]
    if not rows:
        raise InputError("no bootstrap units to summarise", field="bootstrap")
    # fixed row and column order, whether a unit was computed now or read back from disk
    traits = list(dict.fromkeys(r["trait"] for r in records))
    models = list(dict.fromkeys(r["model"] for r in records))
    folds = pd.DataFrame(rows)
    extra = sorted(set(folds.columns) - set(_FOLD_COLUMNS))
    folds = folds[[*_FOLD_COLUMNS, *extra]]
    folds = folds.assign(
        _t=folds.trait.map({t: i for i, t in enumerate(traits)}),
        _m=folds.model.map({m: i for i, m in enumerate(models)}),
    )
    folds = folds.sort_values(["_t", "_m", "rep", "fold"], kind="stable")
    folds = folds.drop(columns=["_t", "_m"]).reset_index(drop=True)
    auc = folds.groupby(["trait", "model", "rep"], sort=False)[["auc", "ap"]].mean().reset_index()
    summary = (
        auc.groupby(["trait", "model"], sort=False)["auc"]
        .agg(
            auc_mean="mean",
            auc_ci_low=lambda a: np.percentile(a, 2.5),
            auc_ci_high=lambda a: np.percentile(a, 97.5),
            n_reps="size",
        )
        .reset_index()
    )
    differences = bootstrap_differences(auc, reference)
    if len(differences):
        diff_summary = summarise_differences(differences).rename(
            columns=lambda c: c if c in ("trait", "model") else f"diff_{c}"
        )
        summary = summary.merge(diff_summary, on=["trait", "model"], how="outer", sort=False)
        t_order = {t: i for i, t in enumerate([*traits, POOLED])}
        m_order = {m: i for i, m in enumerate(models)}
        summary = summary.assign(_t=summary.trait.map(t_order), _m=summary.model.map(m_order))
        summary = summary.sort_values(["_t", "_m"], kind="stable").drop(columns=["_t", "_m"])
        summary = summary.reset_index(drop=True)
    return BootstrapResults(folds, auc, differences, summary, reference)


def bootstrap_differences(auc: pd.DataFrame, reference: str = NN) -> pd.DataFrame:
    """Per repetition, the reference model's AUC minus every other model's (same resamples).

    The trait :data:`POOLED` (``"all traits"``) holds, per repetition, the mean difference over the traits.
    """
    cols = ["trait", "model", "rep", "difference"]
    if reference not in set(auc.model):
        return pd.DataFrame(columns=cols)
    ref = auc[auc.model == reference][["trait", "rep", "auc"]].rename(columns={"auc": "ref"})
    other = auc[auc.model != reference].merge(ref, on=["trait", "rep"])
    other["difference"] = other["ref"] - other["auc"]
    diff = other[cols].reset_index(drop=True)
    if diff.trait.nunique() > 1:
        pooled = diff.groupby(["model", "rep"], sort=False)["difference"].mean().reset_index()
        pooled.insert(0, "trait", POOLED)
        diff = pd.concat([diff, pooled[cols]], ignore_index=True)
    return diff


def summarise_differences(differences: pd.DataFrame) -> pd.DataFrame:
    """Mean, 95% percentile interval and share of repetitions where the reference is not ahead."""
    g = differences.groupby(["trait", "model"], sort=False)["difference"]
    return g.agg(
        mean="mean",
        ci_low=lambda d: np.percentile(d, 2.5),
        ci_high=lambda d: np.percentile(d, 97.5),
        not_ahead=lambda d: float(np.mean(np.asarray(d) <= 0)),
    ).reset_index()


def write_bootstrap(res: BootstrapResults, out: Path, figure_dir: str | Path | None = None) -> None:
    """The bootstrap's tables (Parquet + CSV) and Fig. 4b (PNG + SVG) under ``out``."""
    write_table(res.folds, out / "bootstrap_folds")
    write_table(res.auc, out / "bootstrap_auc")
    write_table(res.differences, out / "bootstrap_differences")
    write_table(res.summary, out / "bootstrap_summary")
    if len(res.differences):
        from radiogenomics.evaluation.comparison_figures import plot_bootstrap_differences

        plot_bootstrap_differences(
            res.differences,
            summarise_differences(res.differences),
            Path(figure_dir or out) / "bootstrap_differences",
            reference=res.reference,
        )


__all__ = [
    "BootstrapResults",
    "BootstrapUnit",
    "bootstrap_split",
    "plan_units",
    "resample_with_both_classes",
    "resample_with_every_class",
    "run_bootstrap",
    "run_unit",
    "summarise_bootstrap",
    "unit_resources",
]
