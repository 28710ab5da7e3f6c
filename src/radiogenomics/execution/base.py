"""The executor interface every stage uses for independent work units."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

WorkFn = Callable[[Any, Any], Any]
ResultCallback = Callable[[int, Any], None]
#: ``item -> (num_cpus, num_gpus)``: what one unit declares, when units of a map differ.
ResourceFn = Callable[[Any], tuple[float, float]]


class Executor(Protocol):
    name: str

    def map(
        self,
        fn: WorkFn,
        items: Sequence[Any],
        *,
        shared: Any = None,
        on_result: ResultCallback | None = None,
        desc: str | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
        resources: ResourceFn | None = None,
    ) -> list[Any]:
        """Run ``fn(item, shared)`` for every item; results in item order.

        ``fn`` must be a module-level function (it is pickled to other processes).
        ``num_cpus``/``num_gpus`` declare what one unit needs (used by cluster executors);
        ``resources(item) -> (num_cpus, num_gpus)``, when given, declares it per unit instead
        (e.g. a GPU fraction for the network units of a map that also holds CPU-only units).
        What a unit declares never changes what it computes.
        """
        ...


def short_repr(item: Any, limit: int = 80) -> str:
    """An item on one line, shortened: how an error names the unit that failed."""
    text = " ".join(repr(item).split())  # one line, even for a model's multi-line repr
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make_executor(kind: str = "local", **options: Any) -> Executor:
    """``local`` (default) or ``ray`` (needs ``pip install radiogenomics[distributed]``)."""
    if kind == "local":
        from radiogenomics.execution.local import LocalExecutor

        return LocalExecutor(**options)
    if kind == "ray":
        from radiogenomics.execution.ray_executor import RayExecutor

        return RayExecutor(**options)
    raise ValueError(f"unknown executor {kind!r} (expected 'local' or 'ray')")
