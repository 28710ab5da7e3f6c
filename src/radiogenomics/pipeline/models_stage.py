"""Stages ``autoencoder`` and ``classifiers``: adapters over radiogenomics.evaluation's training.

The classifiers stage works one task at a time (a unit): grid search in CV, the chosen
configuration's fold models (for out-of-fold masking), and the retrained model, all saved
before the next task starts, so an interrupted stage resumes at the task it was on.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from radiogenomics.pipeline.contract import StageSkipped
from radiogenomics.pipeline.load import StudyData, study_data

AE_DIR = "autoencoder"


def load_autoencoder(ctx):
    """The retrained autoencoder when that stage finished, else None."""
    from radiogenomics.models.trained import TrainedAutoencoder

    if not ctx.done("autoencoder"):
        return None
    path = ctx.stage_dir("autoencoder") / "models" / AE_DIR
    return TrainedAutoencoder.load(path) if path.is_dir() else None


def run_autoencoder(ctx) -> dict:
    from radiogenomics.evaluation.nn_autoencoder import (
        search_autoencoders,
        train_autoencoder,
        unlabelled_patients,
    )

    a = ctx.cfg.autoencoder
    sd = study_data(ctx)
    X = sd.expression
    labelled = sd.targets.index[sd.targets.notna().any(axis=1)].intersection(X.index)
    X_ae = unlabelled_patients(X, sd.targets) if a.train_on == "unlabelled" else X
    if len(X_ae) < max(2 * a.folds, 10):
        raise StageSkipped(
            f"only {len(X_ae)} patients to train the autoencoder on "
            f"(autoencoder.train_on = {a.train_on!r}); at least {max(2 * a.folds, 10)} needed"
        )
    config = a.network()
    ctx.log.info("autoencoder: %d patients, %d genes, %d folds", len(X_ae), X.shape[1], a.folds)
    X_eval = X.loc[labelled] if len(labelled) else None
    if a.grid.axes():  # the paper's search: the best CV R^2 of several configurations
        search = search_autoencoders(
            X_ae,
            a.grid.axes(),
            base=config,
            n_splits=a.folds,
            seed=ctx.seed("autoencoder"),
            X_eval=X_eval,
            executor=ctx.executor,
            device=ctx.cfg.device,
            network_gpus=ctx.network_gpus(),
        )
        ctx.table(search.table, "autoencoder_grid")
        res = search.best
    else:
        res = train_autoencoder(
            X_ae,
            config,
            n_splits=a.folds,
            seed=ctx.seed("autoencoder"),
            X_eval=X_eval,
            device=ctx.cfg.device,
        )
    res.model.save(ctx.models_dir / AE_DIR)
    ctx.table(res.fold_metrics, "autoencoder_folds")
    summary = {**res.summary(), "n_patients": len(X_ae), "n_genes": int(X.shape[1])}
    ctx.table(
        pd.DataFrame(
            [
                {
                    "patients": len(X_ae),
                    "cv_r2 (mean over folds)": summary["cv_r2"],
                    "retrained_r2 (training patients)": summary["retrained_r2"],
                    "r2 on labelled patients": summary["eval_r2"],
                    "median_best_epoch": summary["median_best_epoch"],
                }
            ]
        ),
        "autoencoder_r2",
    )
    for text in _training_warnings(
        "the autoencoder", summary["cv_r2"], "CV R^2", 0.0, summary["median_best_epoch"],
        config.max_epochs,
    ):  # fmt: skip
        ctx.note(text)
    if res.histories:
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5, 3.2))
        for k, h in enumerate(res.histories):
            key = next((k2 for k2 in ("val_r2", "val_metric", "val") if k2 in h), None)
            if key:
                ax.plot(np.arange(1, len(h[key]) + 1), h[key], lw=0.8, label=f"fold {k + 1}")
        ax.set_xlabel("epoch")
        ax.set_ylabel("validation mean per-gene R\u00b2")
        ax.set_title("Autoencoder training")
        if ax.lines:
            ctx.figure(fig, "autoencoder_r2_by_epoch")
        else:
            plt.close(fig)
    return summary


def _training_warnings(what, score, metric, floor, best_epoch, max_epochs) -> list[str]:
    """What a user must know before trusting a trained network: a score no better than
    chance (R^2 <= 0: worse than each gene's mean; AUC <= 0.5), and training that stopped at
    max_epochs (the best epoch was the last, so more epochs would likely help)."""
    out = []
    if score is not None and np.isfinite(score) and score <= floor:
        out.append(
            f"{what}: {metric} {score:.3g}, no better than chance ({metric} {floor:g}); what"
            " it learnt, and what reads it, carries little"
        )
    if best_epoch is not None and best_epoch >= max_epochs:
        out.append(
            f"{what}: the median best epoch is the last ({max_epochs} = max_epochs):"
            " training was cut short; raise max_epochs"
        )
    return out


def _classes(sd: StudyData, task: str) -> list[str]:
    y = sd.labels(task).astype(str)
    pos = sd.positive(task)
    if pos is not None:
        neg = next(c for c in sorted(y.unique()) if c != pos)
        return [neg, pos]
    return sorted(y.unique())


def network_configs(ctx, autoencoder) -> list:
    """The grid of the config as network configurations (invalid combinations left out)."""
    from radiogenomics.models.config import NetworkConfig

    c = ctx.cfg.classifiers
    g = c.grid
    ae_sizes = tuple(autoencoder.encoder_sizes) if autoencoder is not None else ()
    out, seen, dropped = [], set(), []
    for opt, act, drop, hidden, ael, frozen in itertools.product(
        g.optimizer, g.activation, g.dropout, g.hidden, g.ae_layers, g.frozen
    ):
        hidden = tuple(hidden)
        if ael > 0 and autoencoder is None:
            dropped.append("ae_layers > 0 without an autoencoder")
            continue
        if ael > len(hidden) or (ael and tuple(hidden[:ael]) != ae_sizes[:ael]):
            dropped.append(f"hidden {hidden} cannot take {ael} autoencoder layers {ae_sizes}")
            continue
        cfg = NetworkConfig(
            hidden=hidden,
            activation=act,
            optimizer=opt,
            dropout=drop,
            batch_size=c.batch_size,
            max_epochs=c.max_epochs,
            patience=c.patience,
            ae_layers=ael,
            frozen=bool(frozen) if ael else False,
            numerics=c.numerics,
        )
        key = cfg.model_dump_json()
        if key not in seen:
            seen.add(key)
            out.append(cfg)
    for reason in sorted(set(dropped)):
        ctx.note(f"grid combinations left out: {reason}")
    if not out:
        from radiogenomics.errors import InputError

        raise InputError(
            "no valid network configuration in the grid",
            file=ctx.cfg.source,
            field="classifiers.grid",
            expected="hidden sizes whose first ae_layers match the autoencoder's encoder, "
            "or ae_layers = [0]",
        )
    return out


def task_dir(ctx_or_dir, task: str) -> Path:
    base = ctx_or_dir if isinstance(ctx_or_dir, Path) else ctx_or_dir.stage_dir("classifiers")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in task)
    return base / "models" / safe


def load_fold_models(d: Path, folds: pd.DataFrame):
    """(fold models, each fold's validation patients) saved under ``d`` (``fold_<k>``) for the
    fold table ``folds`` (fold, patient) of one CV run; (None, None) when they were not kept."""
    from radiogenomics.models.trained import TrainedModel

    fold_models, fold_patients = [], []
    for k in sorted(folds["fold"].unique()):
        p = d / f"fold_{k}"
        if not p.is_dir():
            return None, None
        fold_models.append(TrainedModel.load(p))
        fold_patients.append(list(folds.loc[folds["fold"] == k, "patient"].astype(str)))
    return fold_models, fold_patients


def save_fold_models(cv, d: Path) -> None:
    """A CV run's fold models under ``d`` (``fold_<k>``), as :func:`load_fold_models` reads."""
    for k, fm in enumerate(cv.fold_models or []):
        fm.save(d / f"fold_{k}")


def load_models(ctx, task: str):
    """(retrained model, fold models, fold validation patients) of one task."""
    from radiogenomics.models.trained import TrainedModel

    d = task_dir(ctx, task)
    folds = ctx.read("classifiers", "folds")
    fold_models, fold_patients = load_fold_models(d, folds[folds["task"] == task])
    return TrainedModel.load(d / "retrained"), fold_models, fold_patients


def cv_tables(cv, **keys) -> dict[str, pd.DataFrame]:
    """The tables kept of one CV run, each led by the columns ``keys`` (task, ...): ``cv_folds``
    (each fold's metrics), ``folds`` (each fold's validation patients) and ``oof`` (out-of-fold
    probabilities, long, with each patient's label); :func:`rebuild_cv` reads them back."""
    folds = pd.DataFrame(
        [(f.index, p) for f in cv.folds for p in f.val_ids], columns=["fold", "patient"]
    )
    oof = cv.oof_proba.copy()
    oof.index.name = "patient"
    oof = oof.reset_index().melt(id_vars="patient", var_name="class", value_name="proba")
    oof["label"] = oof["patient"].map(cv.labels.astype(str))
    tables = {"cv_folds": cv.fold_metrics.copy(), "folds": folds, "oof": oof}
    for t in tables.values():
        for i, (key, value) in enumerate(keys.items()):
            t.insert(i, key, value)
    return tables


def rebuild_cv(config, task: str, fold_models, fold_patients, oof, metrics):
    """A ``CVResult`` with its fold models from the tables of :func:`cv_tables` (one run's
    rows, the key columns dropped or not); the patients keep the CV's order, so new fold
    splits drawn from it (driver ranking's repeats) are those of an in-process run."""
    from radiogenomics.evaluation.nn_cv import CVResult, Fold

    labels = oof.drop_duplicates("patient").set_index("patient")["label"].astype(str)
    labels.index = labels.index.astype(str)
    labels.index.name = None
    ids = list(labels.index)
    classes = [str(c) for c in fold_models[0].classes]
    proba = oof.pivot(index="patient", columns="class", values="proba").reindex(
        index=ids, columns=classes
    )
    proba.index.name, proba.columns.name = None, None
    position = {p: i for i, p in enumerate(ids)}
    folds = []
    for k, val_ids in enumerate(fold_patients):
        held = set(val_ids)
        val = np.array([position[p] for p in val_ids], dtype=np.int64)
        train = np.array([i for i, p in enumerate(ids) if p not in held], dtype=np.int64)
        folds.append(Fold(k, train, val, [ids[i] for i in train], list(val_ids)))
    metrics = metrics.drop(columns=[c for c in ("task", "repeat") if c in metrics])
    metrics = metrics.reset_index(drop=True)
    return CVResult(
        config=config,
        task=task,
        classes=classes,
        labels=labels,
        folds=folds,
        fold_metrics=metrics,
        oof_proba=proba,
        best_epochs=[int(e) for e in metrics["best_epoch"]],
        fold_models=fold_models,
    )


def load_cv_result(ctx, task: str):
    """The chosen configuration's cross-validation of one task as the classifiers stage ran it
    (a ``CVResult`` with its fold models), or None when the fold models were not kept."""
    from radiogenomics.models.config import NetworkConfig

    _, fold_models, fold_patients = load_models(ctx, task)
    if not fold_models:
        return None
    chosen = ctx.read("classifiers", "chosen")
    chosen = chosen[chosen["task"] == task].iloc[0]
    oof = ctx.read("classifiers", "oof")
    metrics = ctx.read("classifiers", "cv_folds")
    return rebuild_cv(
        NetworkConfig.model_validate_json(chosen["network"]),
        task,
        fold_models,
        fold_patients,
        oof[oof["task"] == task],
        metrics[metrics["task"] == task],
    )


def run_classifiers(ctx) -> dict:
    from radiogenomics.evaluation.nn_cv import cross_validate, grid_search, retrain

    c = ctx.cfg.classifiers
    sd = study_data(ctx)
    X = sd.expression
    ae = load_autoencoder(ctx)
    configs = network_configs(ctx, ae)
    keep = ctx.cfg.keep_fold_models  # for out-of-fold masking and the driver ranking
    for task in sd.task_names:
        if ctx.unit_done(task):
            continue
        y = sd.labels(task).astype(str).rename(task)
        classes = _classes(sd, task)
        seed = ctx.seed(task)
        ctx.log.info("classifiers: %s, %d patients, %d configurations", task, len(y), len(configs))
        common = dict(task=task, classes=classes, adjust_folds=True, device=ctx.cfg.device)
        if len(configs) > 1:
            gs = grid_search(
                X,
                y,
                configs,
                n_splits=c.folds,
                seed=seed,
                autoencoder=ae,
                executor=ctx.executor,
                network_gpus=ctx.network_gpus(),
                **common,
            )
            grid, best = gs.table, gs.best
            if keep:
                best = cross_validate(
                    X,
                    y,
                    best.config,
                    n_splits=c.folds,
                    seed=seed,
                    autoencoder=ae,
                    keep_models=True,
                    **common,
                )
        else:
            best = cross_validate(
                X,
                y,
                configs[0],
                n_splits=c.folds,
                seed=seed,
                autoencoder=ae,
                keep_models=keep,
                **common,
            )
            s = best.summary()
            grid = pd.DataFrame(
                [
                    {
                        "rank": 1,
                        "config_id": 0,
                        "label": configs[0].label(),
                        **{k: v for k, v in s.items() if k != "task"},
                    }
                ]
            )
        model = retrain(
            X,
            y,
            best.config,
            cv_result=best,
            seed=seed,
            autoencoder=ae,
            task=task,
            classes=classes,
            device=ctx.cfg.device,
        )
        d = task_dir(ctx, task)
        model.save(d / "retrained")
        save_fold_models(best, d)
        grid = grid.copy()
        grid.insert(0, "task", task)
        ctx.table(grid, f"units/grid_{d.name}")
        for stem, table in cv_tables(best, task=task).items():
            ctx.table(table, f"units/{stem}_{d.name}")
        s = best.summary()
        chosen = {
            "task": task,
            "config": best.config.label(),
            "classes": " / ".join(classes),
            "n_patients": s["n_patients"],
            "folds": s["n_splits"],
            "auc_mean": s["mean_auc"],
            "auc_sd": s["std_auc"],
            "ap_mean": s["mean_ap"],
            "pooled_auc": s["pooled_auc"],
            "pooled_ap": s["pooled_ap"],
            # the paper's Table 1 also gave the retrained model's AUC on its training patients
            "retrained_auc": model.info.get("train_auc"),
            "retrained_ap": model.info.get("train_ap"),
            "median_best_epoch": s["median_best_epoch"],
            "network": best.config.model_dump_json(),
        }
        ctx.table(pd.DataFrame([chosen]), f"units/chosen_{d.name}")
        ctx.mark_unit(task, {"auc_mean": s["mean_auc"]})

    names = [task_dir(ctx, t).name for t in sd.task_names]
    out = {}
    for stem in ("grid", "cv_folds", "folds", "oof", "chosen"):
        df = pd.concat(
            [ctx.read("classifiers", f"units/{stem}_{n}") for n in names], ignore_index=True
        )
        ctx.table(df, stem)
        out[stem] = df
    _roc_figure(ctx, out["oof"], sd)
    for r in out["chosen"].to_dict("records"):  # from the table: resumed units included
        for text in _training_warnings(
            f"classifier {r['task']}", r["auc_mean"], "CV AUC", 0.5, r["median_best_epoch"],
            c.max_epochs,
        ):  # fmt: skip
            ctx.note(text)
    return {r["task"]: round(float(r["auc_mean"]), 4) for r in out["chosen"].to_dict("records")}


def _roc_figure(ctx, oof: pd.DataFrame, sd: StudyData) -> None:
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    for task, g in oof.groupby("task", sort=False):
        pos = sd.positive(task)
        classes = [pos] if pos is not None else sorted(g["class"].unique())
        for cls in classes:
            gg = g[g["class"] == cls]
            if gg["label"].nunique() < 2:
                continue
            fpr, tpr, _ = roc_curve((gg["label"] == cls).astype(int), gg["proba"])
            name = task if pos is not None else f"{task}: {cls}"
            ax.plot(fpr, tpr, lw=1.2, label=name)
    ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=0.8)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Out-of-fold ROC curves (chosen configuration)")
    ax.legend(fontsize=7, loc="lower right")
    ctx.figure(fig, "oof_roc")
