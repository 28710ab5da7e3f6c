"""Where independent work units run: in this process, a local process pool, or (later) Ray.

A work unit is a pure function ``fn(item, shared)`` of its item and of the large, read-only
``shared`` inputs (sent to each worker once, not once per task). Results come back in the order
of the items, whatever the scheduling, and ``on_result`` is called as each one finishes so the
caller can persist it at once (an interrupted run keeps its finished units).
"""

from radiogenomics.execution.base import Executor, make_executor
from radiogenomics.execution.local import LocalExecutor

__all__ = ["Executor", "LocalExecutor", "make_executor"]
