"""The ``radiogenomics`` command. Each sub-command lives in its own module of this package and
registers itself on ``app`` when imported below."""

from __future__ import annotations

import typer

from radiogenomics import __version__

app = typer.Typer(
    name="radiogenomics",
    help="Find the transcriptomic programmes that drive imaging traits of tumours.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"radiogenomics {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Find the transcriptomic programmes that drive imaging traits of tumours."""


# Sub-commands: one module each (imported for their side effect of registering on `app`).
# One line per module, e.g. `from radiogenomics.cli import gsea as _gsea` (noqa E402, F401).
from radiogenomics.cli import data as _data  # noqa: E402,F401
from radiogenomics.cli import gsea as _gsea  # noqa: E402,F401
from radiogenomics.cli import run as _run  # noqa: E402,F401
from radiogenomics.cli import survival as _survival  # noqa: E402,F401


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    """A warning as the user needs it: its message, not the source line that raised it."""
    return f"warning: {message}\n"


def main() -> None:
    """Entry point: bad input ends with its message and exit code 2, not a traceback."""
    import warnings

    from radiogenomics.errors import ExecutionError, InputError

    warnings.formatwarning = _one_line_warning
    try:
        app()
    except InputError as err:
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        raise SystemExit(2) from None
    except ExecutionError as err:  # not the input's fault: exit 1, as a failed command
        typer.secho(f"error: {err}", err=True, fg=typer.colors.RED)
        raise SystemExit(1) from None
