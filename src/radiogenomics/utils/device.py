"""Where tensors live: CUDA when present, else CPU (every test passes on CPU)."""

from __future__ import annotations

import re

import torch

from radiogenomics.errors import InputError

#: The device names the library accepts (as the study config's ``device``).
DEVICES = "auto, cpu, cuda or cuda:N"
_DEVICE_RE = re.compile(r"auto|cpu|cuda(:[0-9]+)?")


class DeviceUnavailableError(InputError, RuntimeError):
    """A CUDA device was asked for that this machine does not have.

    An :class:`InputError` (the user's option), and a ``RuntimeError`` as it always was, so
    callers that caught the latter keep working."""


def check_device(prefer: str | None, field: str = "device") -> str | None:
    """``prefer`` if this machine can use it: None, "auto", "cpu", "cuda" or "cuda:N".

    Anything else is an :class:`InputError` naming ``field`` (e.g. ``"--device"``); CUDA on a
    machine without it (or a CUDA index it does not have) a :class:`DeviceUnavailableError`."""
    if prefer is None:
        return None
    if not isinstance(prefer, str) or not _DEVICE_RE.fullmatch(prefer):
        raise InputError(f"unknown device {prefer!r}", field=field, expected=DEVICES)
    if prefer.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceUnavailableError(
                f"device {prefer!r} was asked for but CUDA is not available on this machine",
                field=field,
                expected="'auto' or 'cpu' on this machine",
            )
        index = int(prefer.split(":")[1]) if ":" in prefer else 0
        count = torch.cuda.device_count()
        if index >= count:
            raise DeviceUnavailableError(
                f"device {prefer!r}: this machine has {count} CUDA device(s)",
                field=field,
                expected=f"cuda:0..cuda:{count - 1}, 'auto' or 'cpu'",
            )
    return prefer


def default_device(prefer: str | None = None) -> torch.device:
    """``prefer`` is "cpu", "cuda", "cuda:N" or None/"auto" (CUDA when available); see
    :func:`check_device` for the errors."""
    if prefer in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(check_device(prefer))
