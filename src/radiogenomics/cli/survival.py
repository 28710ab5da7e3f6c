"""``radiogenomics survival``: Kaplan-Meier, log-rank, univariate and stepwise Cox for any table
of binary variables with a duration and an event column."""

from __future__ import annotations

from pathlib import Path

import typer

from radiogenomics.cli import app


def read_any_table(path: Path):
    """A CSV, TSV (or .txt) or Parquet table; bad paths and formats fail with the file named."""
    import pandas as pd

    from radiogenomics.errors import InputError

    if not path.is_file():
        raise InputError("file not found", file=path, expected="a CSV, TSV or Parquet table")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes and suffixes[-1] == ".parquet":
            return pd.read_parquet(path)
        if ".tsv" in suffixes or ".txt" in suffixes:
            return pd.read_csv(path, sep="\t")
        if ".csv" in suffixes:
            return pd.read_csv(path)
    except (ValueError, OSError) as err:
        raise InputError(f"cannot read the table: {err}", file=path) from None
    raise InputError(
        f"unknown table format {path.suffix!r}", file=path, expected=".csv, .tsv or .parquet"
    )


def _binary_columns(df, taken: set[str]) -> tuple[list[str], list[str]]:
    """The table's other columns that hold only 0/1 (blanks allowed), and those that do not."""
    binary, other = [], []
    for c in df.columns:
        if str(c) in taken:
            continue
        values = set(df[c].dropna().unique().tolist())
        (binary if values and values <= {0, 1} else other).append(str(c))
    return binary, other


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@app.command("survival")
def survival_command(
    table: Path = typer.Option(..., "--table", help="CSV, TSV or Parquet: one row per patient"),
    duration: str = typer.Option(..., "--duration", help="column of follow-up times (e.g. days)"),
    event: str = typer.Option(..., "--event", help="column of events: 1 observed, 0 censored"),
    forced: list[str] = typer.Option(
        [], "--forced", help="covariate always kept in the Cox model (repeat, or comma-separated)"
    ),
    candidates: list[str] = typer.Option(
        [],
        "--candidates",
        help="variable stepwise selection may add or drop (repeat or commas; default: every "
        "other 0/1 column of the table)",
    ),
    direction: str = typer.Option("both", "--direction", help="both, forward or backward"),
    criterion: str = typer.Option("aic", "--criterion", help="aic or bic"),
    out: Path = typer.Option(..., "--out", help="folder for the tables and figures"),
    prefix: str = typer.Option("", "--prefix", help="prefix of every file written"),
    time_label: str = typer.Option("days", "--time-label", help="x-axis label of KM plots"),
    quiet: bool = typer.Option(False, "--quiet", help="print nothing but errors"),
) -> None:
    """Kaplan-Meier, log-rank and Cox models for 0/1 variables, with stepwise selection.

    KM curves, log-rank and univariate Cox per variable, then stepwise Cox (R's step semantics).

    The forced covariates are always kept; every variable must be 0/1."""
    import warnings

    from radiogenomics.errors import InputError
    from radiogenomics.survival import SurvivalWarning, run_survival, write_survival

    forced_cols, candidate_cols = _split(forced), _split(candidates)
    df = read_any_table(table)
    skipped: list[str] = []
    if not candidate_cols:
        candidate_cols, skipped = _binary_columns(df, {duration, event, *forced_cols})
    if not forced_cols and not candidate_cols:
        raise InputError(
            "no 0/1 column to analyse besides the duration and the event",
            file=table,
            field="--forced/--candidates",
            expected="one or more 0/1 variables",
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurvivalWarning)  # they are in the notes, printed below
        try:
            analysis = run_survival(
                df, duration, event, forced_cols, candidate_cols, direction, criterion
            )
        except InputError as err:
            if err.file is None:
                raise InputError(str(err), file=table) from None
            raise
        written = write_survival(analysis, out, prefix=prefix, time_label=time_label)
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    sw = analysis.stepwise
    t = Table(title=f"final Cox model ({sw.direction}, {sw.criterion.upper()} {sw.aic:.2f})")
    for col in ("variable", "role", "univariate HR (95% CI)", "adjusted HR (95% CI)", "p"):
        t.add_column(col)
    for _, r in sw.summary.iterrows():
        t.add_row(
            r["variable"],
            r["role"],
            r["univariate HR (95% CI)"],
            r["adjusted HR (95% CI)"],
            f"{r['p_adjusted']:.3g}",
        )
    console.print(t)
    lr = sw.lr_test
    console.print(
        f"n={sw.n} ({sw.events} events, {sw.n_removed} removed for missing values); "
        f"likelihood-ratio test {lr.statistic:.2f} on {lr.df} df, p={lr.p:.3g}"
    )
    if not _split(candidates):
        console.print(f"note: candidates: every other 0/1 column ({len(candidate_cols)})")
    if skipped:
        console.print(f"note: not 0/1, so not analysed: {', '.join(skipped)}")
    for text in analysis.notes:
        console.print(f"note: {text}")
    console.print(f"{len(written)} files written to {out}")
