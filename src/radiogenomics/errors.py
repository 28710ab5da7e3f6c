"""One error type for bad input, with a message that names where the problem is."""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Bad input from the user: a file, a column, a row or a value that is not what was expected.

    The message always says where (file, field) and what was expected, so a user can fix the
    input without reading a traceback.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike | None = None,
        field: str | None = None,
        expected: str | None = None,
    ):
        self.message = message
        self.file = None if file is None else str(file)
        self.field = field
        self.expected = expected
        parts = []
        if self.file is not None:
            parts.append(f"{self.file}")
        if field is not None:
            parts.append(f"[{field}]")
        where = " ".join(parts)
        text = f"{where}: {message}" if where else message
        if expected:
            text += f" (expected {expected})"
        super().__init__(text)
