"""Local execution: in-process for one worker, else a pool of spawned processes."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from radiogenomics.errors import ExecutionError
from radiogenomics.execution.base import ResourceFn, ResultCallback, WorkFn, short_repr
from radiogenomics.utils.progress import progress_bar

_SHARED: Any = None  # per worker process: the read-only inputs, set once by the initializer


def _exit_with_parent(parent: int, every: float = 1.0) -> None:
    """Poll the parent's pid; exit this worker at once when the parent has died.

    A pool's workers block waiting for work, so when the main process is killed (SIGTERM,
    out of memory) they would otherwise live on as orphans holding memory and cores.
    """
    while True:
        time.sleep(every)
        if os.getppid() != parent:
            os._exit(1)


def _init_worker(shared_file: str, threads: int, parent: int | None = None) -> None:
    global _SHARED
    with open(shared_file, "rb") as fh:
        _SHARED = pickle.load(fh)
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    import torch

    torch.set_num_threads(threads)


def _call(fn: WorkFn, item: Any) -> Any:
    return fn(item, _SHARED)


class LocalExecutor:
    """``workers=None`` uses every core; ``workers=1`` runs in this process (no pickling)."""

    name = "local"

    def __init__(self, workers: int | None = None, quiet: bool = False):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self.quiet = quiet

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
        """Results in item order; the declared resources are ignored (every unit gets one
        process of the pool, and the units see this machine's devices)."""
        items = list(items)
        results: list[Any] = [None] * len(items)
        with progress_bar(desc or "working", total=len(items), quiet=self.quiet) as advance:
            if self.workers == 1 or len(items) <= 1:
                for i, item in enumerate(items):
                    try:
                        results[i] = fn(item, shared)
                    except Exception as err:
                        _name_the_unit(err, i, items, desc)
                        raise
                    if on_result is not None:
                        on_result(i, results[i])
                    advance()
                return results
            cores = os.cpu_count() or 1
            threads = max(1, cores // self.workers)
            # spawn, not fork: forking a process that has started torch threads can deadlock.
            ctx = mp.get_context("spawn")
            # The shared inputs reach the workers through a file, not the start-up pipe: a
            # worker that dies while starting (see _broken) then breaks the pool at once,
            # where a large pipe write would block the parent for ever.
            with tempfile.TemporaryDirectory(prefix="radiogenomics-") as tmp:
                shared_file = os.path.join(tmp, "shared.pickle")
                with open(shared_file, "wb") as fh:
                    pickle.dump(shared, fh, protocol=pickle.HIGHEST_PROTOCOL)
                with ProcessPoolExecutor(
                    max_workers=min(self.workers, len(items)),
                    mp_context=ctx,
                    initializer=_init_worker,
                    initargs=(shared_file, threads, os.getpid()),
                ) as pool:
                    pending = {pool.submit(_call, fn, item): i for i, item in enumerate(items)}
                    done_units = 0
                    try:
                        while pending:
                            done, _ = wait(pending, return_when=FIRST_COMPLETED)
                            for fut in done:
                                i = pending.pop(fut)
                                try:
                                    results[i] = fut.result()
                                except BrokenProcessPool as err:
                                    raise _broken(desc, started=bool(done_units)) from err
                                except Exception as err:
                                    _name_the_unit(err, i, items, desc)
                                    raise
                                done_units += 1
                                if on_result is not None:
                                    on_result(i, results[i])
                                advance()
                    except BaseException:
                        # a failed map stops here: the units not yet started are dropped, not
                        # run to the end while the error waits (the pool's exit waits for them)
                        pool.shutdown(wait=False, cancel_futures=True)
                        raise
        return results


def _name_the_unit(err: Exception, i: int, items: Sequence[Any], desc: str | None) -> None:
    """Add which unit raised to its error, as the Ray executor does."""
    if hasattr(err, "add_note"):
        err.add_note(
            f"(work unit {i} of {len(items)} in {desc or 'working'!r}, item {short_repr(items[i])}: "
            "the unit raised)"
        )


def _broken(desc: str | None = None, *, started: bool = False) -> ExecutionError:
    """A worker process died. The usual cause in a Python script: spawned workers import the
    script again, and unguarded top-level code then runs in each of them. That hint is left
    out when units had already finished (the workers had started) or when the main module is
    not a Python script (the command line, a notebook)."""
    main = getattr(__import__("__main__"), "__file__", None)
    hint = (
        f" If {os.path.basename(main)} is a script, put its top-level code under"
        ' `if __name__ == "__main__":` (worker processes import it again), or pass an'
        " executor with workers=1."
        if main and main.endswith(".py") and not started
        else ""
    )
    where = f" in {desc!r}" if desc else ""
    return ExecutionError(
        f"a worker process died{where} (killed, out of memory, or failed to start)." + hint
    )
