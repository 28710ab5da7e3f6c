"""``radiogenomics run`` (a study from its TOML) and ``radiogenomics demo`` (the synthetic study)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from radiogenomics.cli import app
from radiogenomics.config import STAGES

_STAGE_HELP = "one of: " + ", ".join(STAGES)
_ORIENTATION_HELP = "axes of the expression file: auto, genes_x_samples or samples_x_genes"


@contextmanager
def _exit_143_on_sigterm() -> Iterator[None]:
    """SIGTERM ends a run as Ctrl-C does (recorded, resumable), with the exit status a batch
    scheduler expects of it (128 + 15), not Ctrl-C's 130."""
    from radiogenomics.pipeline.runner import Terminated

    try:
        yield
    except Terminated:
        typer.secho("interrupted (SIGTERM): the next run resumes where this one stopped", err=True)
        raise typer.Exit(143) from None


def _print_outcomes(outcomes, quiet: bool) -> None:
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="stages")
    table.add_column("stage")
    table.add_column("status")
    table.add_column("seconds", justify="right")
    table.add_column("note")
    for o in outcomes:
        table.add_row(o.stage, o.status, f"{o.seconds:.1f}" if o.seconds else "", o.reason)
    Console(stderr=True).print(table)


def _report_line(run_dir: Path, outcomes) -> str | None:
    """Where the report is, and whether it shows this run's results: one that this run did
    not rebuild (disabled, or not among the selected stages) may be older than them."""
    report = run_dir / "report" / "index.html"
    if not report.is_file():
        return None
    outcome = next((o for o in outcomes if o.stage == "report"), None)
    if outcome is None:
        why = "not among the stages run"
    elif outcome.status in ("done", "skipped"):
        return f"report: {report}"
    else:
        why = outcome.reason or outcome.status
    return f"report (not rebuilt by this run: {why}; it may predate these results): {report}"


@app.command("run")
def run_command(
    config: Path = typer.Argument(..., metavar="CONFIG", help="the study's TOML file"),
    stage: str | None = typer.Option(None, "--stage", help=f"run only this stage ({_STAGE_HELP})"),
    until: str | None = typer.Option(
        None, "--until", help="run every stage up to and including this one (same names as --stage)"
    ),
    force: bool = typer.Option(False, "--force", help="recompute the selected stages"),
    out: Path | None = typer.Option(None, "--out", help="parent of the run folder \\[config: out]"),
    name: str | None = typer.Option(None, "--name", help="run folder name \\[config: name]"),
    seed: int | None = typer.Option(
        None, "--seed", help="seed of every random step; a new one reruns all \\[config: seed]"
    ),
    device: str | None = typer.Option(None, "--device", help="auto, cpu, cuda \\[config: device]"),
    executor: str | None = typer.Option(
        None, "--executor", help="local or ray \\[config: executor.kind]"
    ),
    address: str | None = typer.Option(
        None, "--address", help="Ray address, e.g. auto \\[config: executor.address]"
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="local worker processes \\[config: executor.workers]"
    ),
    threads: int | None = typer.Option(None, "--threads", help="torch threads \\[config: threads]"),
    quiet: bool | None = typer.Option(
        None, "--quiet/--no-quiet", help="no progress or log on the terminal \\[config: quiet]"
    ),
    orientation: str | None = typer.Option(
        None, "--orientation", help=_ORIENTATION_HELP + " \\[config: data.orientation]"
    ),
) -> None:
    """Run (or resume) the study described by CONFIG; finished, unchanged stages are skipped.

    One run at a time per run folder: a second run on a folder in use refuses at once."""
    from radiogenomics.config import load_config
    from radiogenomics.pipeline import run_study

    cfg = load_config(
        config,
        {
            "out": None if out is None else str(out),
            "name": name,
            "seed": seed,
            "device": device,
            "executor.kind": executor,
            "executor.address": address,
            "executor.workers": workers,
            "threads": threads,
            "quiet": quiet,
            "data.orientation": orientation,
        },
    )
    with _exit_143_on_sigterm():
        outcomes = run_study(cfg, stage=stage, until=until, force=force)
    _print_outcomes(outcomes, cfg.quiet)
    line = _report_line(cfg.run_dir, outcomes)
    if line and not cfg.quiet:
        typer.echo(line)


@app.command("check")
def check_command(
    config: Path = typer.Argument(..., metavar="CONFIG", help="the study's TOML file"),
    out: Path | None = typer.Option(None, "--out", help="parent of the run folder \\[config: out]"),
    name: str | None = typer.Option(None, "--name", help="run folder name \\[config: name]"),
    seed: int | None = typer.Option(
        None, "--seed", help="seed of every random step; a new one reruns all \\[config: seed]"
    ),
    orientation: str | None = typer.Option(
        None, "--orientation", help=_ORIENTATION_HELP + " \\[config: data.orientation]"
    ),
) -> None:
    """Validate CONFIG, read every input and say what `run` would do; trains nothing.

    Shows shapes, overlaps, class balance, folds, and whether each stage would run, and why."""
    from rich.console import Console
    from rich.table import Table

    from radiogenomics.config import load_config
    from radiogenomics.pipeline.check import check_study

    cfg = load_config(
        config,
        {
            "out": None if out is None else str(out),
            "name": name,
            "seed": seed,
            "data.orientation": orientation,
        },
    )
    res = check_study(cfg)
    console = Console()

    def show(df, title: str) -> None:
        table = Table(title=title)
        # wrap between words while the longest word of every column fits the terminal; on a
        # narrower one, fold words rather than cut them short with an ellipsis
        widest = [max(len(w) for v in (c, *df[c]) for w in str(v).split() or [""]) for c in df]
        fits = sum(widest) + 3 * len(widest) + 1 <= console.width
        for c, w in zip(df.columns, widest, strict=True):
            table.add_column(str(c), min_width=w if fits else None, overflow="fold")
        for row in df.itertuples(index=False):
            table.add_row(*(str(v) for v in row))
        console.print(table)

    show(res.summary, f"inputs of {cfg.name}")
    rep = res.loaded.report
    console.print(
        f"expression: {rep.format} ({rep.orientation}), scale {rep.scale}"
        + (" (detected)" if rep.scale_detected else "")
    )
    for change in rep.changes():
        console.print(f"expression: {change}")
    show(_folds_shown(res.folds), "tasks, class balance and the folds each stage will use")
    if len(res.collections):
        show(res.collections, "gene-set collections")
    for note in res.loaded.notes:
        console.print(f"note: {note}")
    from radiogenomics.runfolder import RunFolder

    holder = RunFolder(cfg.run_dir).in_use()
    if holder:
        console.print(
            f"note: the run folder is in use by process {holder.get('pid', '?')} on host"
            f" {holder.get('host', '?')} ({holder.get('command', '?')}); `run` refuses until it"
            " ends, and the plan below is what it would find now"
        )
    plan = Table(title=f"what `radiogenomics run` would do now ({cfg.run_dir})")
    for c in ("stage", "action", "why"):
        plan.add_column(c)
    for p in res.plan:
        plan.add_row(p.stage, p.action, p.reason)
    console.print(plan)
    console.print("[green]the study is valid[/green]")


def _folds_shown(folds):
    """``check``'s folds table narrow enough for an 80-column terminal: a class per line, and
    the stages' fold counts in one column."""
    stages = [c for c in folds.columns if c.endswith(" folds")]
    if not stages:
        return folds
    title = "folds: " + " / ".join(c.removesuffix(" folds") for c in stages)
    shown = folds.drop(columns=stages).assign(
        classes=folds["classes"].str.replace(" | ", "\n", regex=False)
    )
    shown[title] = folds[stages].astype(str).agg(" / ".join, axis=1)
    return shown


@app.command("demo")
def demo_command(
    out: Path = typer.Option(Path("runs/demo"), "--out", help="the demo's run folder"),
    seed: int = typer.Option(0, "--seed", help="seed of the cohort and of the study"),
    config: Path | None = typer.Option(
        None, "--config", help="a study TOML to use instead of the packaged demo.toml"
    ),
    stage: str | None = typer.Option(None, "--stage", help=f"run only this stage ({_STAGE_HELP})"),
    until: str | None = typer.Option(
        None, "--until", help="run every stage up to and including this one (same names as --stage)"
    ),
    force: bool = typer.Option(False, "--force", help="recompute the selected stages"),
    executor: str | None = typer.Option(None, "--executor", help="local or ray"),
    address: str | None = typer.Option(None, "--address", help="Ray address"),
    workers: int | None = typer.Option(None, "--workers", help="local worker processes"),
    threads: int | None = typer.Option(None, "--threads", help="torch threads"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress or log on the terminal"),
) -> None:
    """Generate the synthetic cohort, run the demo study on it, and check what it recovered."""
    import time

    from radiogenomics.pipeline.demo import run_demo
    from radiogenomics.pipeline.recovery import recovery_table

    t0 = time.perf_counter()
    with _exit_143_on_sigterm():
        cfg, outcomes = run_demo(
            out=out,
            seed=seed,
            config=config,
            stage=stage,
            until=until,
            force=force,
            overrides={
                "executor.kind": executor,
                "executor.address": address,
                "executor.workers": workers,
                "threads": threads,
                "quiet": quiet,
            },
        )
    seconds = time.perf_counter() - t0
    _print_outcomes(outcomes, quiet)
    rec = recovery_table(cfg.run_dir)
    from rich.console import Console
    from rich.table import Table

    console = Console()
    table = Table(title="planted links recovered? (checks: see the report)")
    table.add_column("link", max_width=40)
    table.add_column("observed")
    table.add_column("recovered")
    for row in rec.itertuples(index=False):
        table.add_row(
            row.link, row.observed, "[green]yes[/green]" if row.recovered else "[red]no[/red]"
        )
    console.print(table)
    console.print(f"wall time: {seconds / 60:.1f} min")
    line = _report_line(cfg.run_dir, outcomes)
    if line:
        console.print(line)
    n_ok = int(rec["recovered"].sum()) if len(rec) else 0
    console.print(f"recovered {n_ok} of {len(rec)} planted links")
