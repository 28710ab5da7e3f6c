"""``radiogenomics survival``: Kaplan-Meier, log-rank, univariate and stepwise Cox for any table
of binary variables with a duration and an event column."""

from __future__ import annotations

from pathlib import Path

import typer

from radiogenomics.cli import app

ID_NAMES = {"patient", "patient_id", "patientid", "id", "case", "case_id", "subject", "sample"}


def read_any_table(path: Path):
    """A CSV, TSV (or .txt) or Parquet table; bad paths and formats fail with the file named.

    Text tables may be comma-, tab- or semicolon-separated (found from the header line). Rows
    are indexed by their line in the file (``index.name`` "line", the header is line 1) and a
    Parquet table's by its row (1 = the first); a Parquet table's own index is kept."""
    import pandas as pd

    from radiogenomics.data._common import sniff_delimiter
    from radiogenomics.errors import InputError

    if not path.is_file():
        raise InputError("file not found", file=path, expected="a CSV, TSV or Parquet table")
    suffixes = [s.lower() for s in path.suffixes]
    try:
        if suffixes and suffixes[-1] == ".parquet":
            df = pd.read_parquet(path)
            if isinstance(df.index, pd.RangeIndex) and df.index.name is None:
                df.index = pd.RangeIndex(1, len(df) + 1, name="row")
            return df
        if ".tsv" in suffixes or ".txt" in suffixes or ".csv" in suffixes:
            df = pd.read_csv(
                path, sep=sniff_delimiter(path), skip_blank_lines=False, encoding="utf-8-sig"
            )
            df.index = pd.RangeIndex(2, len(df) + 2, name="line")
            return df[df.notna().any(axis=1)]  # blank lines, kept above to number the lines
    except (ValueError, OSError, UnicodeDecodeError) as err:
        raise InputError(
            f"cannot read the table: {err}",
            file=path,
            expected="a comma-, tab- or semicolon-separated table with a header line",
        ) from None
    raise InputError(
        f"unknown table format {path.suffix!r}", file=path, expected=".csv, .tsv or .parquet"
    )


def index_by_patient(df, path: Path, named: set[str]):
    """The table indexed by patient: by its column named ``patient`` (or ``id``, ``case``...),
    else by its first column when that holds text; not one of the ``named`` outcome/variable
    columns. Each patient must have one row. Otherwise the table as it is (rows by line)."""
    import pandas as pd

    from radiogenomics.errors import InputError
    from radiogenomics.survival._frame import show

    if df.shape[1] == 0 or df.index.name not in ("line", "row"):
        return df  # empty, or a Parquet table with its own index (checked like any other)
    by_name = [c for c in df.columns if str(c).strip().lower() in ID_NAMES]
    first = by_name[0] if by_name else df.columns[0]
    if str(first) in named or not (by_name or not pd.api.types.is_numeric_dtype(df[first])):
        return df
    ids = df[first]
    how = "" if by_name else f" (the first column, {str(first)!r}, holds text: read as IDs)"
    if ids.isna().any():
        raise InputError(
            f"no patient ID in {_rows(df.index[ids.isna()])}",
            file=path,
            field=str(first),
            expected=f"a patient ID on every row{how}",
        )
    dup = ids[ids.duplicated(keep=False)]
    if not dup.empty:
        patient = dup.iloc[0]
        raise InputError(
            f"patient {show(patient)} appears {int((dup == patient).sum())} times, "
            f"in {_rows(dup.index[dup == patient])}",
            file=path,
            field=str(first),
            expected=f"one row per patient{how}",
        )
    out = df.drop(columns=[first])
    out.index = pd.Index(ids, name=str(first))
    return out


def _rows(index) -> str:
    """``lines 2, 142`` (or ``row 3``) for an error message, from a line/row index."""
    labels = [str(v) for v in index[:10]]
    more = f" and {len(index) - 10} more" if len(index) > 10 else ""
    plural = "s" if len(index) > 1 else ""
    return f"{index.name}{plural} {', '.join(labels)}{more}"


def _in_file(err, path: Path):
    """The same InputError, naming the table file."""
    from radiogenomics.errors import InputError

    text = str(err)
    if err.field is not None:
        text = text.removeprefix(f"[{err.field}]: ")
    if err.expected:
        text = text.removesuffix(f" (expected {err.expected})")
    return InputError(text, file=path, field=err.field, expected=err.expected)


def looks_like_outcome(name: str) -> bool:
    """An outcome column, never a default candidate: os/pfs days and events, and any column
    named ``*_days``/``*_event`` (another duration or event, e.g. ``dfs_event``)."""
    from radiogenomics.survival.variables import OUTCOME_COLUMNS

    low = name.strip().lower()
    return low in OUTCOME_COLUMNS or low.endswith(("_days", "_event"))


def _binary_columns(df, taken: set[str]) -> tuple[list[str], list[str], list[str]]:
    """The table's other columns that hold only 0/1 (blanks allowed); those that do not; and
    the outcome-like columns left out (:func:`looks_like_outcome`)."""
    binary, other, outcomes = [], [], []
    for c in df.columns:
        if str(c) in taken:
            continue
        if looks_like_outcome(str(c)):
            outcomes.append(str(c))
            continue
        values = set(df[c].dropna().unique().tolist())
        (binary if values and values <= {0, 1} else other).append(str(c))
    return binary, other, outcomes


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


def _fill_table(table, names, rows) -> None:
    """The variable column folds a long name onto more lines (radiogenomic traits such as
    'subtype:Classical + HALLMARK_TNFA_SIGNALING_VIA_NFKB' were cut to 'subtype:Classic…');
    the other columns are as wide as their longest value, so a number keeps one line (their
    headers wrap)."""
    table.add_column(names[0], overflow="fold")
    for j, name in enumerate(names[1:], start=1):
        table.add_column(name, min_width=max((len(r[j]) for r in rows), default=1))
    for r in rows:
        table.add_row(*r)


@app.command("survival")
def survival_command(
    table: Path = typer.Option(
        ...,
        "--table",
        help="CSV, TSV or Parquet: one row per patient (IDs in a 'patient' or first text column)",
    ),
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
    from radiogenomics.survival.stepwise import CRITERIA, DIRECTIONS, format_hr
    from radiogenomics.utils.io import writable_folder

    # option errors name the option, not the table: they are found before it is read
    if direction not in DIRECTIONS:
        raise InputError(
            f"unknown direction {direction!r}",
            field="--direction",
            expected=" or ".join(DIRECTIONS),
        )
    if criterion not in CRITERIA:
        raise InputError(
            f"unknown criterion {criterion!r}", field="--criterion", expected=" or ".join(CRITERIA)
        )
    forced_cols, candidate_cols = _split(forced), _split(candidates)
    both = sorted(set(forced_cols) & set(candidate_cols))
    if both:
        raise InputError(
            f"{both} given as --forced and as --candidates",
            field="--forced/--candidates",
            expected="each variable in one of them",
        )
    for option, cols in (("--forced", forced_cols), ("--candidates", candidate_cols)):
        outcome = [c for c in cols if c in (duration, event)]
        if outcome:
            raise InputError(
                f"{outcome} is the --duration/--event column",
                field=option,
                expected="variables other than the outcome",
            )
    df = read_any_table(table)
    df = index_by_patient(df, table, {duration, event, *forced_cols, *candidate_cols})
    if df.empty:
        raise InputError(
            "no patient rows", file=table, expected="a header line, then one row per patient"
        )
    skipped: list[str] = []
    left_out: list[str] = []
    if not candidate_cols:
        candidate_cols, skipped, left_out = _binary_columns(df, {duration, event, *forced_cols})
    if not forced_cols and not candidate_cols:
        raise InputError(
            "no 0/1 column to analyse besides the duration and the event",
            file=table,
            field="--forced/--candidates",
            expected="one or more 0/1 variables",
        )
    writable_folder(out, field="--out")  # before the models are fitted, not after
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SurvivalWarning)  # they are in the notes, printed below
        try:
            analysis = run_survival(
                df, duration, event, forced_cols, candidate_cols, direction, criterion
            )
        except InputError as err:
            if err.file is None:
                raise _in_file(err, table) from None
            raise
        written = write_survival(analysis, out, prefix=prefix, time_label=time_label)
    if quiet:
        return
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    sw = analysis.stepwise
    if sw.summary.empty:
        # an empty table says nothing; each variable alone still has its hazard ratio
        console.print(sw.empty_text)
        t = Table(title="univariate Cox models (each variable alone)")
        rows = [
            (
                r["variable"],
                str(int(r["n"])),
                str(int(r["events"])),
                format_hr(r["hr"], r["ci_low"], r["ci_high"]) or "not estimated",
                f"{r['p']:.3g}",
            )
            for _, r in analysis.univariate.iterrows()
        ]
        _fill_table(t, ("variable", "n", "events", "HR (95% CI)", "p"), rows)
    else:
        t = Table(title=f"final Cox model ({sw.direction}, {sw.criterion.upper()} {sw.aic:.2f})")
        rows = [
            (
                r["variable"],
                r["role"],
                r["univariate HR (95% CI)"],
                r["adjusted HR (95% CI)"],
                f"{r['p_adjusted']:.3g}",
            )
            for _, r in sw.summary.iterrows()
        ]
        _fill_table(
            t, ("variable", "role", "univariate HR (95% CI)", "adjusted HR (95% CI)", "p"), rows
        )
    console.print(t)
    lr = sw.lr_test
    console.print(
        f"n={sw.n} ({sw.events} events, {sw.n_removed} removed for missing values)"
        + (
            ""
            if sw.summary.empty
            else f"; likelihood-ratio test {lr.statistic:.2f} on {lr.df} df, p={lr.p:.3g}"
        )
    )
    if not _split(candidates):
        console.print(
            f"note: candidates (every other 0/1 column, {len(candidate_cols)}): "
            + (", ".join(candidate_cols) or "none")
        )
    if left_out:
        console.print(
            f"note: outcome columns, not candidates: {', '.join(left_out)} "
            "(name them in --candidates to analyse them)"
        )
    if skipped:
        console.print(f"note: not 0/1, so not analysed: {', '.join(skipped)}")
    for text in analysis.notes:
        console.print(f"note: {text}")
    console.print(f"{len(written)} files written to {out}")
