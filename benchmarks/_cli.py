"""Command-line pieces every benchmark script shares: its --help layout and option types.

The scripts run as ``python benchmarks/bench_*.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import argparse


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """--help: the module docstring as written, then every option with its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False:  # no default worth printing
            return action.help
        return super()._get_help_string(action)


def at_least(minimum: int):
    """An argparse type: an integer >= ``minimum`` (a usage error naming the option, not a
    traceback later)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}")
        return value

    return parse


def positive(text: str) -> float:
    """An argparse type: a number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value > 0:
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def fill_sizes(args: argparse.Namespace, sizes: dict) -> argparse.Namespace:
    """The sizes not given on the command line from ``sizes`` (the --quick or the full set):
    a size given beside --quick stays as given."""
    for key, value in sizes.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args
