"""Stage ``load``: read every input through the data layer, check overlaps, keep one copy.

Downstream stages read the copy this stage writes (``expression.parquet`` and its tables), so
their fingerprints depend on what was loaded, not on where the files were.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from radiogenomics.errors import InputError
from radiogenomics.utils.io import atomic_write, read_json
from radiogenomics.utils.text import count


@dataclass
class StudyData:
    """What the load stage produced, as downstream stages use it."""

    expression: pd.DataFrame  # patients x genes, float32, log2
    targets: pd.DataFrame  # patients x tasks, text labels, NaN = missing (kept tasks only)
    tasks: pd.DataFrame  # one row per task: classes, positive, counts, kept, reason
    clinical: pd.DataFrame | None  # os/pfs, gender, race_white, age, age_group
    collections: dict  # collection name -> GeneSets (genes unrestricted; sizes checked)
    kind: str  # "imaging" or "subtype"

    @property
    def task_names(self) -> list[str]:
        return list(self.targets.columns)

    def labels(self, task: str) -> pd.Series:
        """The labelled patients of one task that have expression."""
        y = self.targets[task].dropna()
        return y[y.index.isin(self.expression.index)]

    def positive(self, task: str) -> str | None:
        row = self.tasks.set_index("task").loc[task]
        return None if pd.isna(row["positive"]) else str(row["positive"])

    def binary(self, task: str) -> pd.Series:
        """0/1 labels (1 = the positive, least frequent class) of a binary task."""
        y = self.labels(task)
        return (y.astype(str) == self.positive(task)).astype(np.int64)

    def all_sets(self):
        from radiogenomics.data import GeneSets

        return GeneSets.concat(list(self.collections.values()), "all")

    def pick(self, names: list[str]) -> dict:
        """The collections named (all when ``names`` is empty); unknown names are errors."""
        if not names:
            return dict(self.collections)
        missing = [n for n in names if n not in self.collections]
        if missing:
            raise InputError(
                f"unknown gene-set collections {missing}",
                field="collections",
                expected=f"names from data.gene_sets: {sorted(self.collections)}",
            )
        return {n: self.collections[n] for n in names}


def _overlap_error(table: pd.Index, expr: pd.Index, file: Path, what: str) -> InputError:
    return InputError(
        f"none of the {len(table)} patients of the {what} table has expression "
        f"({len(expr)} patients; e.g. {list(table[:2])} vs {list(expr[:2])})",
        file=file,
        field="patient",
        expected="patient barcodes shared with the expression matrix",
    )


@dataclass
class LoadedStudy:
    """Every input read and checked: what the load stage writes and ``check`` prints."""

    expression: pd.DataFrame
    report: Any  # the expression reader's LoadReport
    targets: pd.DataFrame
    tasks: pd.DataFrame
    clinical: pd.DataFrame | None
    collections: dict
    notes: list[str]
    vasari_report: Any = None  # the VASARI reader's VasariReport (imaging studies)

    def summary(self, kind: str) -> pd.DataFrame:
        return _summary(self.expression, self.targets, self.clinical, self.collections, kind)


def read_study(d, files: dict[str, Path], source: str | Path | None) -> LoadedStudy:
    """Read and check every input named in the ``[data]`` section ``d``.

    ``files`` are the resolved paths (``StudyConfig.data_files()``); ``source`` the study file
    named in errors. Raises :class:`InputError` on anything unusable; what was left out and why
    is in ``notes``.
    """
    from radiogenomics.data import (
        TRAITS,
        GeneSets,
        age_group,
        encode_binary,
        read_clinical,
        read_expression,
        read_gene_sets,
        read_subtype_signatures,
        read_subtypes,
        read_vasari,
    )

    notes: list[str] = []
    vasari_report = None
    expr, rep = read_expression(
        files["data.expression"],
        scale=d.expression_scale,
        orientation=d.orientation,
        sample_types=d.sample_types,
        min_mean_expression=d.min_mean_expression,
        report=True,
    )
    expr.index = expr.index.astype(str)
    expr.index.name = "patient"
    _check_variable_genes(expr, files["data.expression"])
    # targets ------------------------------------------------------------------------------
    if d.task == "imaging":
        if d.vasari is None:
            raise InputError(
                "an imaging study needs a VASARI table",
                file=source,
                field="data.vasari",
                expected="a path, or data.task = 'subtype'",
            )
        src = files["data.vasari"]
        table, vasari_report = read_vasari(src, pre_op_only=d.pre_op_only, report=True)
        notes.extend(f"VASARI: {line}" for line in vasari_report.changes())
        wanted = list(d.traits) or list(TRAITS)
        unknown = [t for t in wanted if t not in table.columns]
        if unknown:
            raise InputError(
                f"unknown traits {unknown}",
                file=source,
                field="data.traits",
                expected=f"some of {list(table.columns)}",
            )
        targets = table[wanted]
    else:
        if d.subtypes is None:
            raise InputError(
                "a subtype study needs a subtype table",
                file=source,
                field="data.subtypes",
                expected="a path",
            )
        src = files["data.subtypes"]
        with warnings.catch_warnings():  # it counts the file's G-CIMP patients; noted below
            warnings.simplefilter("ignore")
            labels = read_subtypes(src)
        targets = labels.rename("subtype").to_frame()
    targets.index = targets.index.astype(str)
    targets.index.name = "patient"
    shared = targets.index.intersection(expr.index)
    if len(shared) == 0:
        raise _overlap_error(targets.index, expr.index, src, d.task)
    if d.task == "subtype":
        gcimp = shared.intersection(labels.attrs.get("gcimp", []))
        if len(gcimp):
            notes.append(
                f"{count(len(gcimp), 'G-CIMP patient')} of the {len(shared)} with a subtype and "
                f"expression counted as Proneural (the 4-class subtype task; {src.name} holds "
                f"{len(labels.attrs['gcimp'])})"
            )
    unmatched = targets.index[targets.notna().any(axis=1)].difference(expr.index)
    if len(unmatched):
        notes.append(
            f"{count(len(unmatched), 'patient')} with {d.task} labels but no expression left out"
            f" ({', '.join(map(str, unmatched[:5]))}{' ...' if len(unmatched) > 5 else ''})"
        )

    rows = []
    kept = []
    for task in targets.columns:
        y = targets.loc[shared, task].dropna().astype(str)
        counts = y.value_counts().sort_index()
        row = {
            "task": task,
            "n_labelled": len(y),
            "classes": " | ".join(f"{k}: {v}" for k, v in counts.items()),
            "positive": None,
            "kept": True,
            "reason": "",
        }
        if len(counts) < 2:
            row.update(kept=False, reason=f"only one class among {len(y)} labelled patients")
        elif counts.min() < d.min_patients_per_class:
            row.update(
                kept=False,
                reason=f"class {counts.idxmin()!r} has {counts.min()} patients "
                f"(< data.min_patients_per_class = {d.min_patients_per_class})",
            )
        elif len(counts) == 2:
            _, (_, pos) = encode_binary(y)
            row["positive"] = pos
        if row["kept"]:
            kept.append(task)
        else:
            notes.append(f"task {task!r} left out: {row['reason']}")
        rows.append(row)
    tasks = pd.DataFrame(rows)
    if not kept:
        per_task = "; ".join(f"{r['task']}: {r['classes'] or 'no patient'}" for r in rows)
        raise InputError(
            "no task has two classes with enough labelled patients with expression "
            f"({count(len(shared), 'patient')} with labels and expression; {per_task})",
            file=src,
            field="data.min_patients_per_class",
            expected=f"at least {d.min_patients_per_class} patients per class",
        )
    targets = targets[kept]

    # clinical -----------------------------------------------------------------------------
    clinical = None
    if d.clinical is not None:
        clinical = read_clinical(files["data.clinical"], files.get("data.follow_up"))
        clinical.index = clinical.index.astype(str)
        clinical = clinical.loc[clinical.index.intersection(expr.index)].copy()
        if clinical.empty:
            raise _overlap_error(
                read_clinical(files["data.clinical"]).index,
                expr.index,
                files["data.clinical"],
                "clinical",
            )
        clinical["age_group"] = age_group(clinical["age"])
        clinical.index.name = "patient"

    # gene sets ----------------------------------------------------------------------------
    universe = list(map(str, expr.columns))
    collections: dict[str, GeneSets] = {}
    sources = [(gs.name, files[k], gs.min_size, gs.max_size) for k, gs in _gene_set_keys(d)]
    for name, path, lo, hi in sources:
        gs = read_gene_sets(path, name=name)
        ok = gs.filter(universe, min_size=lo, max_size=hi)
        collections[name] = gs.select(list(ok.keys()))
        if len(ok) == 0:
            raise _no_sets_error(name, path, gs, universe, lo, hi)
        if len(ok) < len(gs):
            notes.append(
                f"{name}: {len(ok)} of {len(gs)} sets kept "
                f"(size {lo}..{hi} in the expression's genes)"
            )
    if d.subtype_signatures is not None:
        sig = read_subtype_signatures(files["data.subtype_signatures"])
        collections[sig.collection] = sig
    return LoadedStudy(expr, rep, targets, tasks, clinical, collections, notes, vasari_report)


def run_load(ctx) -> dict:
    d = ctx.cfg.data
    ld = read_study(d, ctx.files, ctx.cfg.source)
    expr, targets, clinical, collections = ld.expression, ld.targets, ld.clinical, ld.collections
    ctx.log.info("load: expression %d patients x %d genes", *expr.shape)
    for n in ld.notes:
        ctx.note(n)
    universe = list(map(str, expr.columns))
    set_rows = []
    cov_rows = []
    for cname, gs in collections.items():
        for sname, genes in gs.items():
            set_rows += [(cname, sname, g) for g in genes]
        cov = gs.coverage(universe).reset_index()
        cov.insert(0, "collection", cname)
        cov_rows.append(cov)

    # write --------------------------------------------------------------------------------
    atomic_write(ctx.dir / "expression.parquet", lambda p: expr.to_parquet(p))
    ctx.table(targets.astype(object).where(targets.notna(), None), "targets", index=True)
    ctx.table(ld.tasks, "tasks")
    if clinical is not None:
        ctx.table(clinical, "clinical", index=True)
    ctx.table(pd.DataFrame(set_rows, columns=["collection", "set", "gene"]), "gene_sets")
    if cov_rows:
        ctx.table(pd.concat(cov_rows, ignore_index=True), "gene_set_coverage")
    ctx.json(
        {
            "expression": ld.report.to_dict(),
            "vasari": None if ld.vasari_report is None else ld.vasari_report.to_dict(),
        },
        "load_report",
    )
    ctx.json({"kind": d.task}, "study")
    summary = ld.summary(d.task)
    ctx.table(summary, "cohort_summary")
    return {r["item"]: r["value"] for r in summary.to_dict("records")}


def _check_variable_genes(expr: pd.DataFrame, path: Path) -> None:
    """Refuse a matrix with no gene that varies across patients: nothing could be learned."""
    if expr.shape[0] < 2:
        raise InputError(
            f"only {expr.shape[0]} patient with expression",
            file=path,
            expected="a matrix of several patients",
        )
    varying = int((expr.std(axis=0) > 0).sum())
    if varying == 0:
        raise InputError(
            f"all {expr.shape[1]} genes have the same value in every patient",
            file=path,
            expected="expression that varies across patients (check the file's orientation "
            "and scale: data.orientation, data.expression_scale)",
        )


def _no_sets_error(name, path, gs, universe, lo, hi) -> InputError:
    """No set of a collection is usable: say how many there were and how the genes overlap."""
    genes = {g for _, members in gs.items() for g in members}
    shared = genes & set(universe)
    sizes = [sum(g in set(universe) for g in members) for _, members in gs.items()]
    largest = max(sizes, default=0)
    return InputError(
        f"collection {name!r}: none of its {len(gs)} gene sets has {lo}..{hi} genes in the "
        f"expression matrix ({len(shared)} of its {len(genes)} genes are among the matrix's "
        f"{len(universe)}; the largest set keeps {largest})",
        file=path,
        field=f"data.gene_sets ({name})",
        expected="gene identifiers of the expression matrix (e.g. HGNC symbols) and size "
        "bounds (min_size, max_size) that some sets meet",
    )


def _gene_set_keys(d):
    for i, gs in enumerate(d.gene_sets):
        yield f"data.gene_sets[{i}].path ({gs.name})", gs


def _summary(expr, targets, clinical, collections, kind) -> pd.DataFrame:
    labelled_any = targets.index[targets.notna().any(axis=1)].intersection(expr.index)
    rows = [
        ("patients with expression", len(expr)),
        ("genes", expr.shape[1]),
        (f"patients with {kind} labels and expression", len(labelled_any)),
        ("patients with expression and no labels", len(expr.index.difference(labelled_any))),
        (
            f"patients with {kind} labels and no expression",
            len(targets.index[targets.notna().any(axis=1)].difference(expr.index)),
        ),
        ("tasks", len(targets.columns)),
    ]
    if clinical is not None:
        rows.append(("patients with overall survival", int(clinical["os_days"].notna().sum())))
        rows.append(("deaths", int(clinical["os_event"].fillna(0).sum())))
        rows.append(
            ("patients with progression-free survival", int(clinical["pfs_days"].notna().sum()))
        )
    for name, gs in collections.items():
        rows.append((f"gene sets: {name}", len(gs)))
    return pd.DataFrame([(k, str(v)) for k, v in rows], columns=["item", "value"])


def study_data(ctx) -> StudyData:
    """Read the load stage's outputs (for any later stage)."""
    from radiogenomics.data import GeneSets

    # only the parts the stage declared (Stage.load_parts): the others are not in its
    # fingerprint, so it must not see them (clinical None, no collection)
    expr = pd.read_parquet(ctx.load_file("expression.parquet"))
    targets = ctx.read("load", "targets", index="patient")
    tasks = ctx.read("load", "tasks")
    tasks = tasks[tasks["kept"]].reset_index(drop=True)
    clinical = None
    if ctx.reads_load("clinical") and ctx.has_table("load", "clinical"):
        clinical = ctx.read("load", "clinical", index="patient")
    collections = {}
    if ctx.reads_load("gene_sets"):
        sets = ctx.read("load", "gene_sets")
        for cname, g in sets.groupby("collection", sort=False):
            members = {s: tuple(gg["gene"]) for s, gg in g.groupby("set", sort=False)}
            collections[str(cname)] = GeneSets(members, collection=str(cname))
    kind = read_json(ctx.load_file("study.json"))["kind"]
    return StudyData(expr, targets, tasks, clinical, collections, kind)
