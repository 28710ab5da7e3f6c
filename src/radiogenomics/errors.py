"""The errors a user is shown as one line: bad input, with a message that names where the
problem is, and work that could not be completed, with a message that says which and why."""

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


class ExecutionError(RuntimeError):
    """Work that could not be completed for a reason outside the study's input: a worker
    process or node died (killed, out of memory, a lost machine) more often than allowed.

    The message names the work (the stage's map, the unit) and what to do; the command line
    prints it as one line, the traceback of the executor's own error goes to ``run.log``.
    """
