"""Ray execution: the same work units on a Ray cluster (a lab's machines, or this one).

One remote task per item, each declaring the CPUs (and GPU fraction) it needs. The large,
read-only ``shared`` inputs go to the cluster's object store once per ``map`` call and every
task receives a reference to them, so they are not re-sent per task (on one node, NumPy arrays
are read from shared memory without a copy). A task whose worker process or node dies is
re-run up to ``max_retries`` times. Results come back to the driver as tasks finish:
``on_result`` is called at once for each, so the caller persists finished units and a lost run
keeps them. The returned list is in item order whatever the scheduling, and since work units
derive their seeds from their own keys (``radiogenomics.utils.seeding.derive_seed``), the
numbers are those of the local executor.

Needs the optional dependency: ``pip install radiogenomics[distributed]``.
"""

from __future__ import annotations

import logging
import socket
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from radiogenomics.errors import ExecutionError, InputError
from radiogenomics.execution.base import ResourceFn, ResultCallback, WorkFn, short_repr
from radiogenomics.utils.progress import progress_bar

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install radiogenomics[distributed]"

# What the Ray connection this module made asked for (address, num_cpus, object_store_memory);
# None when there is none. A later executor reuses that connection only if it asks the same.
_CONNECTED: tuple[str | None, int | None, int | None] | None = None


def _import_ray() -> Any:
    """Import ray or fail with the install command (Ray is an optional dependency)."""
    try:
        import ray
    except ImportError as err:
        raise ImportError(
            f"the 'ray' executor needs Ray, which is not installed: {INSTALL_HINT}"
        ) from err
    return ray


def _run_unit(fn: WorkFn, item: Any, shared: Any, threads: int) -> Any:
    """Body of one remote task: ``fn(item, shared)`` with torch limited to the declared CPUs.

    ``shared`` arrives already resolved from the object store (Ray resolves top-level object
    references before the task runs). The thread count matches the local executor's one thread
    per unit on a fully used machine, so floating-point results do not depend on the executor.
    """
    torch = sys.modules.get("torch")  # imported with fn's module when fn uses it
    if torch is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return fn(item, shared)


@dataclass(frozen=True)
class TaskResources:
    """What one remote task asks the cluster for."""

    num_cpus: float
    num_gpus: float


@dataclass(frozen=True)
class ClusterShape:
    """The alive nodes' resources, enough to tell whether a task can ever be scheduled."""

    nodes: int
    total_cpus: float
    total_gpus: float
    max_node_cpus: float
    max_node_gpus: float

    @classmethod
    def from_nodes(cls, nodes: Sequence[dict[str, Any]]) -> ClusterShape:
        """From ``ray.nodes()`` (dead nodes ignored)."""
        alive = [n.get("Resources", {}) for n in nodes if n.get("Alive", False)]
        cpus = [float(r.get("CPU", 0.0)) for r in alive]
        gpus = [float(r.get("GPU", 0.0)) for r in alive]
        return cls(
            nodes=len(alive),
            total_cpus=sum(cpus),
            total_gpus=sum(gpus),
            max_node_cpus=max(cpus, default=0.0),
            max_node_gpus=max(gpus, default=0.0),
        )


def plan_resources(
    num_cpus: float,
    num_gpus: float,
    cluster: ClusterShape,
    *,
    check: bool = True,
    cpu_field: str | None = None,
    gpu_field: str | None = None,
) -> TaskResources:
    """The resources one task declares on this cluster.

    A GPU request is dropped when the cluster has no GPU (the unit then trains on CPU rather
    than waiting forever). With ``check``, a request no alive node can satisfy is refused with
    a clear message (an :class:`InputError` naming ``cpu_field``/``gpu_field``, the setting the
    request came from, when given) instead of leaving the tasks pending; pass ``check=False``
    on an autoscaling cluster that will add such nodes.
    """
    if num_cpus < 0 or num_gpus < 0:
        raise ValueError(
            f"task resources must be non-negative (got num_cpus={num_cpus}, num_gpus={num_gpus})"
        )
    gpus = float(num_gpus) if cluster.total_gpus > 0 else 0.0
    cpus = float(num_cpus)
    if check:
        if cpus > cluster.max_node_cpus:
            raise InputError(
                f"each task asks for {cpus:g} CPUs but the largest of the cluster's "
                f"{cluster.nodes} node(s) has {cluster.max_node_cpus:g}; lower the CPUs per "
                "task, add a larger node, or (Python API) pass wait_for_resources=True on an "
                "autoscaling cluster",
                field=cpu_field,
            )
        if gpus > cluster.max_node_gpus:
            raise InputError(
                f"each task asks for {gpus:g} GPUs but the largest node has "
                f"{cluster.max_node_gpus:g}; ask for a fraction of one GPU (e.g. 0.25)",
                field=gpu_field,
            )
    return TaskResources(num_cpus=cpus, num_gpus=gpus)


def plan_tasks(
    items: Sequence[Any],
    cluster: ClusterShape,
    *,
    num_cpus: float = 1.0,
    num_gpus: float = 0.0,
    resources: ResourceFn | None = None,
    cpus_per_task: float | None = None,
    gpus_per_task: float | None = None,
    check: bool = True,
) -> list[TaskResources]:
    """What each item's task declares: ``resources(item)`` when given, else the map's
    ``num_cpus``/``num_gpus``; ``cpus_per_task``/``gpus_per_task`` (the executor's settings)
    override both for every task. Each distinct request goes through :func:`plan_resources`
    (GPUs dropped on a cluster without any, impossible requests refused), so every task is
    checked before any is submitted.
    """
    planned: dict[tuple[float, float], TaskResources] = {}
    out = []
    for item in items:
        cpus, gpus = (num_cpus, num_gpus) if resources is None else resources(item)
        if cpus_per_task is not None:
            cpus = cpus_per_task
        if gpus_per_task is not None:
            gpus = gpus_per_task
        key = (float(cpus), float(gpus))
        if key not in planned:
            planned[key] = plan_resources(
                *key,
                cluster,
                check=check,
                cpu_field="executor.cpus_per_task" if cpus_per_task is not None else None,
                gpu_field="executor.gpus_per_task" if gpus_per_task is not None else None,
            )
        out.append(planned[key])
    return out


class RayExecutor:
    """Run work units as Ray tasks on an existing cluster, or on a local one it starts.

    ``address``: ``None`` starts a private local cluster (``num_cpus`` and
    ``object_store_memory`` size it); ``"auto"`` joins the cluster already running on this
    machine; ``"host:port"`` joins a cluster's head (the GCS port, 6379 by default);
    ``"ray://host:10001"`` connects through Ray Client from outside the cluster.
    ``max_retries``: how many times a task is re-run when its worker process or node dies.
    ``retry_exceptions``: also re-run a task when the unit raises (``True``, or a list of
    exception types); off by default because work units are deterministic, so an exception
    would only repeat. ``cpus_per_task``/``gpus_per_task`` override what the stage declares.
    ``runtime_env`` is passed to Ray (e.g. ``{"pip": ["radiogenomics[distributed]"]}`` for
    clusters that do not have the package installed).
    """

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        *,
        max_retries: int = 2,
        retry_exceptions: bool | list[type[BaseException]] = False,
        quiet: bool = False,
        runtime_env: dict[str, Any] | None = None,
        num_cpus: int | None = None,
        object_store_memory: int | None = None,
        cpus_per_task: float | None = None,
        gpus_per_task: float | None = None,
        wait_for_resources: bool = False,
        namespace: str | None = None,
    ):
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0 (got {max_retries})")
        if address is not None and (num_cpus is not None or object_store_memory is not None):
            raise ValueError(
                "num_cpus/object_store_memory size a local cluster (address=None); an existing "
                "cluster's nodes are sized by `ray start`"
            )
        self.address = address
        self.max_retries = int(max_retries)
        self.retry_exceptions = retry_exceptions
        self.quiet = quiet
        self.cpus_per_task = cpus_per_task
        self.gpus_per_task = gpus_per_task
        self.wait_for_resources = wait_for_resources
        self._ray = _import_ray()
        self._owns_connection = False
        self._remote: Any = None
        self.last_plan: list[TaskResources] = []  # what each task of the last map declared
        if self._ray.is_initialized():
            asked = (address, num_cpus, object_store_memory)
            if _CONNECTED is not None and _CONNECTED != asked:
                raise InputError(
                    f"this process is already connected to Ray ({_describe(_CONNECTED)}, made "
                    f"by an earlier executor), and a process has one Ray connection: this "
                    f"executor asks for {_describe(asked)}. Close the earlier executor (or "
                    "call ray.shutdown()) first, or ask for the same",
                    field="executor",
                )
            log.info("using this process's existing Ray connection")
        else:
            self._connect(address, runtime_env, num_cpus, object_store_memory, namespace)
            self._owns_connection = True
        shape = self.cluster()
        log.info(
            "Ray cluster: %d node(s), %g CPUs, %g GPUs",
            shape.nodes,
            shape.total_cpus,
            shape.total_gpus,
        )

    def _connect(
        self,
        address: str | None,
        runtime_env: dict[str, Any] | None,
        num_cpus: int | None,
        object_store_memory: int | None,
        namespace: str | None,
    ) -> None:
        ray = self._ray
        kwargs: dict[str, Any] = {
            "address": address,
            "runtime_env": runtime_env,
            "namespace": namespace,
            "log_to_driver": not self.quiet,
            # quiet: not even Ray's start-up warnings (e.g. on token authentication)
            "logging_level": logging.ERROR if self.quiet else logging.WARNING,
        }
        if address is None:  # a private local cluster: size it, no dashboard
            # "local": a new instance, never one found through RAY_ADDRESS or `ray start`
            kwargs.update(
                address="local",
                num_cpus=num_cpus,
                object_store_memory=object_store_memory,
                include_dashboard=False,
            )
        if address is not None:
            _probe(address)
        global _CONNECTED
        try:
            ray.init(**kwargs)
            _CONNECTED = (address, num_cpus, object_store_memory)
        except (ConnectionError, ray.exceptions.AuthenticationError) as err:
            raise ConnectionError(
                f"could not connect to the Ray cluster at {address!r}: {err}. Is it running "
                "(`ray start --head` on the head node, then `ray status`) and is the address "
                "its GCS address (host:port, default port 6379) or ray://host:10001? If the "
                "cluster uses token authentication, give this process its token: "
                "RAY_AUTH_MODE=token and RAY_AUTH_TOKEN (or the file ~/.ray/auth_token)"
            ) from err
        except OSError as err:  # Ray's own files, not the run folder (which the caller blamed)
            raise InputError(
                f"Ray could not start on this machine: {err}",
                field="executor",
                expected="a writable temporary folder for Ray's session files (RAY_TMPDIR, "
                "default /tmp/ray) and room in /dev/shm for its object store, or --executor local",
            ) from err

    def cluster(self) -> ClusterShape:
        """The alive nodes and their resources, as the cluster reports them now."""
        return ClusterShape.from_nodes(self._ray.nodes())

    def close(self) -> None:
        """Disconnect (and stop the local cluster) if this executor made the connection."""
        global _CONNECTED
        if self._owns_connection and self._ray.is_initialized():
            self._ray.shutdown()
            _CONNECTED = None
        self._owns_connection = False
        self._remote = None

    def __enter__(self) -> RayExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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
        """Run ``fn(item, shared)`` for every item as a Ray task; results in item order.

        Each task declares ``num_cpus``/``num_gpus``, or ``resources(item)`` when given (a GPU
        fraction for network units, none for the others), unless the executor's
        ``cpus_per_task``/``gpus_per_task`` override them; see :func:`plan_tasks`.
        ``shared`` is put in the object store once and is read-only in the tasks. When a unit
        fails for good (an exception, or its worker died more than ``max_retries`` times),
        the error is raised here and the tasks not yet finished are abandoned (on an external
        cluster they run to their end, their results dropped); the units already finished
        have been handed to ``on_result``. A worker death is raised as an
        :class:`~radiogenomics.errors.ExecutionError` naming the unit (Ray's error is its
        cause); an exception of the unit is raised as it is, the unit named in a note.
        """
        ray = self._ray
        items = list(items)
        if not items:
            return []
        if not ray.is_initialized():
            raise RuntimeError("this RayExecutor was closed; create a new one")
        plans = plan_tasks(
            items,
            self.cluster(),
            num_cpus=num_cpus,
            num_gpus=num_gpus,
            resources=resources,
            cpus_per_task=self.cpus_per_task,
            gpus_per_task=self.gpus_per_task,
            check=not self.wait_for_resources,
        )
        self.last_plan = plans
        if self._remote is None:
            self._remote = ray.remote(_run_unit)
        tasks = {
            res: self._remote.options(
                num_cpus=res.num_cpus,
                num_gpus=res.num_gpus,
                max_retries=self.max_retries,
                retry_exceptions=self.retry_exceptions,
            )
            for res in dict.fromkeys(plans)
        }
        # Once per map call: every task gets this reference, never its own copy of the data.
        shared_ref = shared if isinstance(shared, ray.ObjectRef) else ray.put(shared)
        results: list[Any] = [None] * len(items)
        index = {
            tasks[res].remote(fn, item, shared_ref, max(1, int(res.num_cpus))): i
            for i, (item, res) in enumerate(zip(items, plans, strict=True))
        }
        pending = list(index)
        label = desc or "working"
        try:
            with progress_bar(f"{label} (ray)", total=len(items), quiet=self.quiet) as advance:
                while pending:
                    # block for the next finished unit, then take every other one ready now
                    done, pending = ray.wait(pending, num_returns=1)
                    if pending:
                        more, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
                        done += more
                    for ref in done:
                        i = index[ref]
                        try:
                            results[i] = ray.get(ref)
                        except Exception as err:
                            unit = (
                                f"work unit {i} of {len(items)} in {label!r}, item "
                                f"{short_repr(items[i])}"
                            )
                            died = self._death(err)
                            if died is not None:  # Ray's error text is no help to a user
                                raise ExecutionError(f"{unit}: {died}") from err
                            if hasattr(err, "add_note"):
                                err.add_note(f"({unit}: {self._why_failed(err)})")
                            raise
                        if on_result is not None:
                            on_result(i, results[i])
                        advance()
        finally:
            # the tasks still pending are abandoned, not cancelled: ray.cancel racing a task's
            # completion can abort the driver process inside Ray (seen in this project's
            # tests with Ray 2.60), losing the error; a private instance ends with the process
            del shared_ref
        return results

    def _death(self, err: Exception) -> str | None:
        """What killed a unit whose worker process or node died on its last allowed attempt,
        and what to do; None for any other failure."""
        exc = self._ray.exceptions
        if isinstance(err, exc.OutOfMemoryError):
            what = "Ray killed its worker process: the node ran out of memory"
        elif isinstance(err, exc.NodeDiedError):
            what = "its node died or left the cluster"
        elif isinstance(err, exc.WorkerCrashedError):
            what = "its worker process died (killed, out of memory, or crashed)"
        else:
            return None
        return (
            f"{what}, on its last allowed attempt (max_retries = {self.max_retries}). Run the"
            " study again to resume; raise executor.max_retries where nodes come and go, or"
            " give each task more of a node (executor.cpus_per_task) where memory runs out"
        )

    def _why_failed(self, err: Exception) -> str:
        """How a unit failed for good, for the note on its error."""
        exc = self._ray.exceptions
        if isinstance(err, exc.RayTaskError):
            if self.retry_exceptions:
                return f"the unit raised, after up to {self.max_retries} re-runs"
            return "the unit raised; not re-run, since it would raise again"
        return "failed on Ray"


def _probe(address: str, timeout_s: float = 5.0) -> None:
    """Fail in seconds, not minutes, when nothing listens at a ``host:port`` address.

    Ray itself keeps retrying an unreachable GCS for a long time; a plain TCP connection tells
    a mistyped address or a stopped cluster apart at once. ``auto`` is left to Ray.
    """
    target = address.removeprefix("ray://")
    if address in ("auto", "local") or (address.startswith("ray://") and ":" not in target):
        return  # Ray's own forms (ray://host: Ray Client's default port)
    host, _, port = target.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        raise InputError(
            f"Ray address {address!r} is not 'auto', 'host:port' or 'ray://host:port'",
            field="executor.address",
        )
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as err:
        raise ConnectionError(
            f"no Ray cluster answers at {address!r} ({err.strerror or err}). Start one with "
            "`ray start --head --port=6379` on the head node and check it with `ray status`; "
            "join it with its GCS address host:6379, or ray://host:10001 through Ray Client"
        ) from None


def _describe(request: tuple[str | None, int | None, int | None]) -> str:
    address, num_cpus, store = request
    if address is not None:
        return f"the cluster at {address!r}"
    sizes = [f"num_cpus={num_cpus}"] if num_cpus is not None else []
    sizes += [f"object_store_memory={store}"] if store is not None else []
    return "a private Ray instance" + (f" ({', '.join(sizes)})" if sizes else "")
