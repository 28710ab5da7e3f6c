"""Wording shared by messages, the console and the report."""

from __future__ import annotations


def count(n: int, word: str, plural: str | None = None) -> str:
    """``1 patient``, ``2 patients`` (``plural`` where adding an s is wrong)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
