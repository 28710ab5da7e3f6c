"""The Ray executor on a real Ray cluster started here: a head and a worker node on this machine.

The cluster is started with `ray start` in subprocesses (small: one CPU per node, 100 MB of
object store each, private ports and temp dir) and torn down by killing exactly the processes
it started. Results are compared with the local executor's, and units survive a crashing
worker process and a lost node.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

# The nodes and this driver share a token of their own: no dependence on ~/.ray/auth_token,
# which an earlier Ray run on the machine may have written (and the cluster stays closed).
TOKEN = secrets.token_hex(32)
_ENV_BEFORE = {k: os.environ.get(k) for k in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN")}
os.environ.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=TOKEN)
ray = pytest.importorskip("ray")

from radiogenomics.errors import ExecutionError, InputError  # noqa: E402
from radiogenomics.execution import LocalExecutor  # noqa: E402
from radiogenomics.execution.ray_executor import RayExecutor  # noqa: E402
from radiogenomics.runfolder import RunFolder  # noqa: E402
from radiogenomics.utils.seeding import derive_seed, rng, seed_torch  # noqa: E402
from study_configs import synthetic_study  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]  # one worker runs them: make test's loadscope

if not sys.platform.startswith("linux"):  # the teardown walks /proc to stop what it started
    pytest.skip("the local Ray cluster fixture needs Linux", allow_module_level=True)

# Work functions travel to the workers by value: the nodes need not import this test module.
ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

OBJECT_STORE = 100 * 1024 * 1024
# Notice a dead node within ~2 s rather than the default ~30 s.
NODE_ENV = {
    "RAY_AUTH_MODE": "token",
    "RAY_AUTH_TOKEN": TOKEN,
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_DEDUP_LOGS": "0",
    # Ray starts its workers at niceness 15; at 0 they compete fairly with the other test worker
    "RAY_worker_niceness": "0",
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


# ---------------------------------------------------------------- the cluster, started here


_GIVEN_PORTS: set[int] = set()


def _free_port() -> int:
    """A free port not handed out before in this process: the kernel can give a port just
    released to the next bind, and Ray refuses two components on one port (seen: the client
    server and the dashboard agent both on one, failing every test of the module)."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time) of a live process, from /proc."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), int(fields[19])


def _tree(root: int) -> dict[int, int]:
    """The process ``root`` and all its descendants: pid -> start time (guards pid reuse)."""
    parent: dict[int, tuple[int, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (st := _proc_stat(int(name))) is not None:
            parent[int(name)] = st
    found = {root: parent[root][1]} if root in parent else {}
    grew = True
    while grew:
        grew = False
        for pid, (ppid, start) in parent.items():
            if ppid in found and pid not in found:
                found[pid] = start
                grew = True
    return found


def _kill(procs: dict[int, int], sig: int = signal.SIGKILL) -> None:
    for pid, start in procs.items():
        st = _proc_stat(pid)
        if st is not None and st[1] == start:  # still the very process we started
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


class LocalRayCluster:
    """A head and worker nodes on this machine, each a `ray start --block` subprocess."""

    def __init__(self) -> None:
        self.temp_dir = tempfile.mkdtemp(prefix="rg-ray-")  # short: Ray's socket paths
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[subprocess.Popen] = []
        self.seen: dict[int, int] = {}  # every process the nodes ever had, for the teardown

    def _start(self, args: list[str], log_name: str) -> subprocess.Popen:
        cmd = [sys.executable, "-c", "from ray.scripts.scripts import main; main()", "start"]
        cmd += args + [
            "--num-cpus=1",
            f"--object-store-memory={OBJECT_STORE}",
            f"--temp-dir={self.temp_dir}",
            "--disable-usage-stats",
            "--block",
            f"--dashboard-agent-listen-port={_free_port()}",
            f"--metrics-export-port={_free_port()}",
            f"--runtime-env-agent-port={_free_port()}",
        ]
        log = open(Path(self.temp_dir) / f"{log_name}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            cmd, env={**os.environ, **NODE_ENV}, stdout=log, stderr=subprocess.STDOUT
        )
        self.nodes.append(proc)
        return proc

    def start_head(self) -> None:
        self._start(
            [
                "--head",
                f"--port={self.port}",
                "--include-dashboard=false",
                f"--ray-client-server-port={_free_port()}",
            ],
            "head",
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.nodes[0].poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(self.logs()) from None
                time.sleep(0.2)

    def add_node(self, resources: str | None = None, num_gpus: int = 0) -> subprocess.Popen:
        """A worker node; ``num_gpus`` declares GPUs it does not have (Ray only counts them)."""
        args = [f"--address={self.address}"]
        if resources:
            args.append(f"--resources={resources}")
        if num_gpus:
            args.append(f"--num-gpus={num_gpus}")
        return self._start(args, f"node{len(self.nodes)}")

    def alive(self) -> int:
        return sum(n["Alive"] for n in ray.nodes())

    def wait_for_nodes(self, count: int, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while self.alive() < count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{count} Ray nodes did not come up:\n{self.logs()}")
            self.remember()
            time.sleep(0.3)
        self.remember()

    def remember(self) -> None:
        for proc in self.nodes:
            self.seen.update(_tree(proc.pid))

    def kill_node(self, proc: subprocess.Popen) -> None:
        """A machine lost: every process of that node dies at once."""
        tree = _tree(proc.pid)
        self.seen.update(tree)
        _kill(tree)
        proc.wait(30)

    def stop(self) -> None:
        """Stop the nodes started here, and only those (by process id)."""
        self.remember()
        for proc in self.nodes:
            if proc.poll() is None:
                proc.terminate()  # `ray start --block` stops its node's processes on SIGTERM
        for proc in self.nodes:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                pass
        time.sleep(0.5)
        _kill(self.seen)
        for proc in self.nodes:
            if proc.poll() is None:
                proc.wait(10)

    def leftovers(self) -> list[int]:
        return [pid for pid, start in self.seen.items() if (_proc_stat(pid) or (0, -1))[1] == start]

    def logs(self) -> str:
        return "\n".join(p.read_text()[-2000:] for p in Path(self.temp_dir).glob("*.log"))


@pytest.fixture(scope="module")
def cluster():
    c = LocalRayCluster()
    try:
        c.start_head()
        c.add_node()
        ex = RayExecutor(address=c.address, quiet=True)
        c.wait_for_nodes(2)
        c.executor = ex
        yield c
    finally:
        if ray.is_initialized():
            ray.shutdown()
        c.stop()
        for key, value in _ENV_BEFORE.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        left = c.leftovers()
        if not left:
            shutil.rmtree(c.temp_dir, ignore_errors=True)
        assert not left, f"Ray processes left behind: {left}"


# ---------------------------------------------------------------- work units (module level)


def _fit_unit(item: tuple[int, str], shared: dict) -> dict:
    """A small training whose seed comes from the unit's own keys: ridge + a tiny torch net."""
    import torch

    rep, trait = item
    x, y = shared["x"], shared["y"][trait]
    g = rng(shared["seed"], "unit", rep, trait)
    rows = g.choice(len(x), size=len(x), replace=True)
    xb, yb = x[rows], y[rows]
    beta = np.linalg.solve(xb.T @ xb + np.eye(x.shape[1]), xb.T @ yb)
    gen = seed_torch(derive_seed(shared["seed"], "net", rep, trait))
    net = torch.nn.Sequential(
        torch.nn.Linear(x.shape[1], 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)
    )
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    xt = torch.tensor(xb, dtype=torch.float32)
    yt = torch.tensor(yb, dtype=torch.float32)[:, None]
    for _ in range(20):
        idx = torch.randperm(len(xt), generator=gen)[:16]
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    if shared.get("order_dir"):  # on Ray: the first unit finishes after the last one
        flag = Path(shared["order_dir"]) / "last-done"
        if item == shared["last"]:
            flag.touch()
        deadline = time.monotonic() + 30
        if item == (0, "a"):
            while not flag.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(1.0)
    return {"beta": beta, "loss": float(loss.detach()), "pid": os.getpid()}


def _probe_shared(item: int, shared: dict) -> tuple[int, float, bool]:
    x = shared["x"]
    return item, float(x[item].sum()), bool(x.flags.writeable)


def _value(item: int) -> float:
    return float(rng(7, "crash", item).normal())


def _mark(directory: str, kind: str, item: int) -> None:
    node = ray.get_runtime_context().get_node_id()
    (Path(directory) / f"{kind}-{item}-{node}-{os.getpid()}").touch()


def _crash_once(item: int, shared: dict) -> tuple[int, float]:
    """The first attempt at a chosen unit kills its own worker process (a hard crash)."""
    marker = Path(shared["dir"]) / f"crashed-{item}"
    if item in shared["crash"] and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return item, _value(item)


def _slow_unit(item: int, shared: dict) -> tuple[float, str]:
    _mark(shared["dir"], "start", item)
    time.sleep(shared["sleep"])
    return _value(item), ray.get_runtime_context().get_node_id()


# A map that raises abandons the units still running (RayExecutor.map), and they may still
# write their marks: tests whose map raises keep the marks in tmp_path, removed later, not in a
# TemporaryDirectory removed at once (its rmtree raced a unit's mark: "Directory not empty").
def _fail_on_three(item: int, shared: dict) -> float:
    _mark(shared["dir"], "start", item)
    if item == 3:
        raise InputError("value out of range", field=f"unit {item}", expected="0..2")
    return _value(item)


# ---------------------------------------------------------------- tests


def _fit_inputs() -> tuple[list[tuple[int, str]], dict]:
    g = np.random.default_rng(0)
    x = g.normal(size=(60, 5))
    y = {"a": x @ np.arange(5.0) + g.normal(size=60), "b": x[:, 0] - x[:, 1]}
    items = [(rep, trait) for rep in range(4) for trait in ("a", "b")]
    return items, {"x": x, "y": y, "seed": 11}


def test_two_nodes_and_results_identical_to_local(cluster):
    shape = cluster.executor.cluster()
    assert shape.nodes == 2 and shape.total_cpus == 2
    items, shared = _fit_inputs()
    finished: list[int] = []
    with tempfile.TemporaryDirectory() as d:
        got = cluster.executor.map(
            _fit_unit,
            items,
            shared={**shared, "order_dir": d, "last": items[-1]},
            on_result=lambda i, r: finished.append(i),
        )
    want = LocalExecutor(workers=1, quiet=True).map(_fit_unit, items, shared=shared)
    assert sorted(finished) == list(range(len(items)))  # each unit reported once, as it finished
    assert finished.index(len(items) - 1) < finished.index(0)  # as they finished, not in order
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g["beta"], w["beta"])
        assert g["loss"] == w["loss"]  # bit-identical: seeds come from the unit's keys
    assert {r["pid"] for r in got}.isdisjoint({os.getpid()})  # really ran elsewhere


def test_shared_goes_to_the_object_store_once(cluster, monkeypatch):
    x = np.arange(40_000.0).reshape(20, 2000)  # 640 kB: sent once, read by all 20 tasks
    puts = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))
    got = cluster.executor.map(_probe_shared, range(20), shared={"x": x})
    assert len(puts) == 1 and puts[0]["x"] is x
    assert [r[0] for r in got] == list(range(20))
    np.testing.assert_array_equal([r[1] for r in got], x.sum(axis=1))
    assert not any(r[2] for r in got)  # tasks read the stored array in place (read-only view)


def test_crashed_worker_is_retried(cluster):
    with tempfile.TemporaryDirectory() as d:
        shared = {"dir": d, "crash": {1, 4}}
        got = cluster.executor.map(_crash_once, range(6), shared=shared)
        assert (Path(d) / "crashed-1").exists() and (Path(d) / "crashed-4").exists()
    assert got == [(i, _value(i)) for i in range(6)]


def test_crash_without_retries_fails_clearly(cluster, tmp_path):
    # Ray's WorkerCrashedError came out as it was ("The worker died unexpectedly ... Check
    # python-core-worker-*.log files"), the unit in a note: a traceback at the command line
    no_retry = RayExecutor(address=cluster.address, max_retries=0, quiet=True)
    reported: list[int] = []
    with pytest.raises(ExecutionError) as info:
        no_retry.map(
            _crash_once,
            [0, 1],
            shared={"dir": str(tmp_path), "crash": {1}},
            on_result=lambda i, r: reported.append(i),
            desc="crashy",
        )
    text = str(info.value)
    assert text.startswith("work unit 1 of 2 in 'crashy', item 1: its worker process died")
    assert "on its last allowed attempt (max_retries = 0)" in text
    assert "executor.max_retries" in text
    assert isinstance(info.value.__cause__, ray.exceptions.WorkerCrashedError)
    assert 1 not in reported


def _crashing_stage(ctx):
    marks = Path.cwd().resolve() / "marks"  # under the test's tmp_path: see _fail_on_three
    marks.mkdir(exist_ok=True)
    ctx.executor.map(_crash_once, [0, 1], shared={"dir": str(marks), "crash": {1}}, desc="crashy")


def test_crash_beyond_max_retries_is_one_line_at_the_command_line(
    cluster, tmp_path, monkeypatch, capsys
):
    import radiogenomics.pipeline.runner as runner
    from radiogenomics.cli import main
    from radiogenomics.pipeline import Stage

    (tmp_path / "e.tsv").write_text("gene\tP1\nG1\t1.0\n")
    study = tmp_path / "study.toml"
    study.write_text(
        'name = "crash"\nout = "runs"\nquiet = true\n[data]\nexpression = "e.tsv"\n'
        f'[executor]\nkind = "ray"\naddress = "{cluster.address}"\nmax_retries = 0\n'
    )
    stages = {"load": Stage("load", _crashing_stage, inputs=lambda c: c.data_files())}
    monkeypatch.setattr(runner, "STAGE_TABLE", stages)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["radiogenomics", "run", str(study)])
    with pytest.raises(SystemExit) as code:
        main()
    err = capsys.readouterr().err
    assert code.value.code == 1
    assert "Traceback" not in err
    assert "error: work unit 1 of 2 in 'crashy', item 1: its worker process died" in err
    attempt = RunFolder(tmp_path / "runs/crash").manifest("load", staging=True)
    assert attempt["status"] == "failed" and "max_retries = 0" in attempt["error"]


def test_unit_error_is_raised_not_retried(cluster, tmp_path):
    with pytest.raises(InputError, match=r"\[unit 3\]: value out of range") as info:
        cluster.executor.map(
            _fail_on_three, range(5), shared={"dir": str(tmp_path)}, desc="bootstrap"
        )
    # a deterministic error would only repeat: it ran once (retry_exceptions is off)
    assert len(list(tmp_path.glob("start-3-*"))) == 1
    # the note said "failed on Ray after at most 2 retries", as if it had been re-run
    notes = "\n".join(info.value.__notes__)
    assert "work unit 3 of 5 in 'bootstrap', item 3: the unit raised; not re-run" in notes


def test_a_second_connection_elsewhere_is_refused(cluster):
    # it used to reuse the first connection silently: a study asking for another cluster (or
    # a private instance of another size) ran where the first executor had connected
    with pytest.raises(InputError, match=r"already connected to Ray \(the cluster at '127"):
        RayExecutor(address="127.0.0.1:9", quiet=True)
    with pytest.raises(InputError, match=r"asks for a private Ray instance \(num_cpus=2\)"):
        RayExecutor(num_cpus=2, quiet=True)
    same = RayExecutor(address=cluster.address, max_retries=1, quiet=True)
    assert same.map(_probe_shared, [0], shared={"x": np.ones((1, 2))}) == [(0, 2.0, False)]


def test_resources_gpu_request_on_cpu_cluster_and_infeasible_cpus(cluster):
    # no GPU here: a unit that asks for a GPU fraction runs on CPU instead of waiting forever
    got = cluster.executor.map(_probe_shared, [0, 1], shared={"x": np.ones((2, 3))}, num_gpus=0.5)
    assert [r[1] for r in got] == [3.0, 3.0]
    with pytest.raises(ValueError, match="asks for 4 CPUs but the largest of the cluster's 2"):
        cluster.executor.map(_probe_shared, [0], shared={"x": np.ones((1, 1))}, num_cpus=4)


def _study_cohort(n: int = 48, p: int = 12) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two binary traits planted on gene programmes, one with missing labels."""
    g = np.random.default_rng(3)
    a, b = g.standard_normal((2, n))
    x = g.standard_normal((n, p)) + 5.0
    x[:, :3] += a[:, None]
    x[:, 3:6] += b[:, None]
    patients = [f"P{i:03d}" for i in range(n)]
    traits = pd.DataFrame(
        {
            "edema": np.where(a + 0.5 * g.standard_normal(n) > 0.3, "large", "small"),
            "focal": (b > 0.2).astype(float),
        },
        index=patients,
    )
    traits.iloc[:2, 1] = np.nan
    return pd.DataFrame(x, index=patients, columns=[f"G{j}" for j in range(p)]), traits


NN_SMALL = {
    "hidden": [8, 4],
    "activation": "tanh",
    "optimizer": "adam",
    "dropout": 0.1,
    "batch_size": 10,
    "max_epochs": 10,
    "patience": 4,
}


def test_grid_search_and_bootstrap_tables_identical_to_local(cluster, tmp_path):
    """The baselines' grid search, then the bootstrap of them and a network: same tables."""
    from radiogenomics.evaluation.baselines_cv import run_baselines
    from radiogenomics.evaluation.bootstrap import run_bootstrap

    X, traits = _study_cohort()
    models = ["logreg_l2", "random_forest"]
    grids = {"logreg_l2": {"C": [0.01, 1.0]}, "random_forest": {"n_estimators": [10, 20]}}
    local = LocalExecutor(workers=1, quiet=True)
    tables = {}
    for name, ex in (("local", local), ("ray", cluster.executor)):
        grid = run_baselines(X, traits, models, n_splits=3, seed=5, executor=ex, grids=grids)
        chosen = {t: {**m, "nn": NN_SMALL} for t, m in grid.chosen.items()}
        boot = run_bootstrap(
            X,
            traits,
            chosen,
            n_reps=3,
            n_splits=3,
            seed=5,
            executor=ex,
            out_dir=tmp_path / name,
            reference="logreg_l2",
        )
        tables[name] = (grid, boot)
    (grid_l, boot_l), (grid_r, boot_r) = tables["local"], tables["ray"]
    assert len(grid_r.grid) == 2 * 2 * 2 * 3  # traits x models x grid points x folds
    pd.testing.assert_frame_equal(grid_r.grid, grid_l.grid)
    pd.testing.assert_frame_equal(grid_r.summary, grid_l.summary)
    assert grid_r.chosen == grid_l.chosen
    assert grid_r.summary.auc_mean.min() > 0.65  # the planted traits are found at all
    assert boot_r.n_computed == boot_l.n_computed == 3 * 2 * 3  # reps x traits x models
    for attr in ("folds", "auc", "differences", "summary"):
        pd.testing.assert_frame_equal(getattr(boot_r, attr), getattr(boot_l, attr))
    # the driver wrote every finished unit as it came back, as the local run did
    units = {p.name for p in (tmp_path / "local" / "units").iterdir()}
    assert len(units) == 18 and units == {p.name for p in (tmp_path / "ray" / "units").iterdir()}


def test_network_grid_search_identical_to_local(cluster):
    """The networks' grid search (one unit per configuration, its folds batched)."""
    from radiogenomics.evaluation.nn_cv import grid_search
    from radiogenomics.models import NetworkConfig

    X, traits = _study_cohort()
    y = traits["edema"].rename("edema")
    base = NetworkConfig(
        hidden=(8, 4), optimizer="adam", learning_rate=0.01, max_epochs=15, patience=5
    )
    grid = {"dropout": [0.0, 0.3], "learning_rate": [0.003, 0.03]}
    runs = [
        grid_search(X, y, grid, base=base, n_splits=3, seed=2, executor=ex)
        for ex in (LocalExecutor(workers=1, quiet=True), cluster.executor)
    ]
    local, remote = runs
    assert len(remote.table) == 4
    pd.testing.assert_frame_equal(remote.table, local.table)
    for r, lo in zip(remote.results, local.results, strict=True):
        pd.testing.assert_frame_equal(r.oof_proba, lo.oof_proba)
        pd.testing.assert_frame_equal(r.fold_metrics, lo.fold_metrics)
    assert remote.best.mean_auc > 0.6  # a planted trait: the networks learn something


def test_lost_node_does_not_lose_the_run(cluster):
    """A third node dies (all its processes killed) while running a unit: the map completes."""
    doomed = cluster.add_node(resources='{"doomed": 1}')
    cluster.wait_for_nodes(3)
    doomed_id = next(n["NodeID"] for n in ray.nodes() if n["Alive"] and "doomed" in n["Resources"])
    with tempfile.TemporaryDirectory() as d:
        killed = threading.Event()

        def watch() -> None:  # kill the node as soon as it has started a unit
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not killed.is_set():
                if list(Path(d).glob(f"start-*-{doomed_id}-*")):
                    cluster.kill_node(doomed)
                    killed.set()
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        items = list(range(6))
        got = cluster.executor.map(_slow_unit, items, shared={"dir": d, "sleep": 1.5})
        watcher.join(5)
        assert killed.is_set(), "no unit ever started on the third node"
        lost = {int(p.name.split("-")[1]) for p in Path(d).glob(f"start-*-{doomed_id}-*")}
    assert [v for v, _ in got] == [_value(i) for i in items]
    assert lost and all(got[i][1] != doomed_id for i in lost)  # re-run on a surviving node


# ---------------------------------------------------------------- a whole study on the cluster

REPO = Path(__file__).resolve().parents[2]


def _small_study(out: Path, executor: dict) -> dict:
    """A small study (120 patients x 400 genes, two traits) whose executor stages all have
    several units: two network configurations, two baselines, B=2, masking in both modes with
    gene sets, per-patient GSEA."""
    return synthetic_study(
        out,
        name="small",
        seed=3,
        n_patients=120,
        n_genes=400,
        executor=executor,
        autoencoder={"max_epochs": 5, "patience": 3},
        classifiers={
            "max_epochs": 6,
            "patience": 3,
            "grid": {"hidden": [[16, 8]], "optimizer": ["adam"], "ae_layers": [0, 1]},
        },
        baselines={"models": ["logreg_l2", "svm_linear"]},
        masking={"null_draws": 3},
        enrichment={"nperm": 50},
        radiogenomic_traits={"nperm": 50},
    )


def _compare_runs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("compare_runs", REPO / "scripts/compare_runs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["compare_runs"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module.compare_runs


class _Declared:
    """Wraps a stage's executor: records what each unit of each map declares (and, on Ray,
    what the cluster was asked for after dropping GPUs it does not have)."""

    def __init__(self, inner, log: list) -> None:
        self.inner, self.log, self.name = inner, log, inner.name

    def map(self, fn, items, **kw):
        items = list(items)
        res = kw.get("resources")
        asked = [
            res(i) if res else (kw.get("num_cpus", 1.0), kw.get("num_gpus", 0.0)) for i in items
        ]
        out = self.inner.map(fn, items, **kw)
        planned = [(r.num_cpus, r.num_gpus) for r in getattr(self.inner, "last_plan", [])]
        self.log.append((fn.__module__.rsplit(".", 1)[-1], fn.__name__, items, asked, planned))
        return out


def test_small_study_on_the_cluster_writes_the_local_tables(cluster, tmp_path, monkeypatch):
    """The pipeline up to the per-patient GSEA, once with the local executor and once on the
    cluster: every table of every stage identical (the stages' units went to the cluster), and
    the network-training units asked for a GPU fraction, the others for none."""
    import radiogenomics.execution as execution
    from radiogenomics.config import load_config
    from radiogenomics.pipeline.runner import Pipeline

    real = execution.make_executor
    until = "radiogenomic_traits"
    local = load_config(data=_small_study(tmp_path / "local", {"kind": "local", "workers": 1}))
    on_ray = load_config(
        data=_small_study(tmp_path / "ray", {"kind": "ray", "address": cluster.address})
    )
    maps: dict[str, list] = {"local": [], "ray": []}
    for name, cfg in (("local", local), ("ray", on_ray)):
        monkeypatch.setattr(
            execution,
            "make_executor",
            lambda kind, _n=name, **o: _Declared(real(kind, **o), maps[_n]),
        )
        outcomes = Pipeline(cfg).run(until=until)
        assert {o.status for o in outcomes} == {"done"}, [(o.stage, o.status) for o in outcomes]
    assert on_ray.executor.gpus_per_network == 0.25 and on_ray.device == "auto"
    network = {("nn_cv", "_grid_unit"), ("drivers", "_repeat_unit")}  # CV runs of networks
    for name in ("local", "ray"):
        kinds = {(m, f) for m, f, *_ in maps[name]}
        assert {("nn_cv", "_grid_unit"), ("bootstrap", "run_unit")} <= kinds
        assert {"_masking_unit", "_trait_chunk", "_grid_unit", "_repeat_unit"} <= {
            f for _, f in kinds
        }
        for module, fn, items, asked, planned in maps[name]:
            for item, (cpus, gpus) in zip(items, asked, strict=True):
                is_net = (module, fn) in network or getattr(item, "model", None) == "nn"
                assert (cpus, gpus) == (1.0, 0.25 if is_net else 0.0), (module, fn, item)
            if name == "ray":  # a cluster without GPUs: every unit ran on CPU
                assert planned == [(1.0, 0.0)] * len(items)
    res = _compare_runs()(local.run_dir, on_ray.run_dir)
    assert res.ok, (res.different, res.only_a, res.only_b)
    stages = {rel.split("/")[0] for rel in res.identical}
    assert {
        "classifiers",
        "baselines",
        "bootstrap",
        "masking",
        "drivers",
        "radiogenomic_traits",
    } <= stages
    masking = pd.read_parquet(on_ray.run_dir / "masking/tables/masking.parquet")
    assert {"retrained", "out_of_fold"} <= set(masking["mode"])
    assert (masking["collection"] != "single_genes").any()
    gsea = pd.read_parquet(on_ray.run_dir / "radiogenomic_traits/tables/patient_gsea.parquet")
    assert len(gsea) > 0
    # the network grid search had two configurations per trait: it went through the executor
    grid = pd.read_parquet(on_ray.run_dir / "classifiers/tables/grid.parquet")
    assert grid.groupby("task").size().to_dict() == {"edema": 2, "ncet": 2}


# ---------------------------------------------------------------- GPU fractions per unit


def _assigned(item: int, shared: object) -> dict:
    """What Ray gave this unit: its GPU share, the GPUs it sees, and where it ran."""
    from radiogenomics.utils.device import default_device

    ctx = ray.get_runtime_context()
    return {
        "item": item,
        "gpu": ctx.get_assigned_resources().get("GPU", 0.0),
        "visible": os.environ.get("CUDA_VISIBLE_DEVICES"),
        "node": ctx.get_node_id(),
        "device": str(default_device("auto")),
    }


def _gpu_node_id(timeout: float = 90.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for n in ray.nodes():
            if n["Alive"] and n["Resources"].get("GPU", 0) > 0:
                return n["NodeID"]
        time.sleep(0.3)
    raise RuntimeError("the node with a GPU did not come up")


def test_network_units_ask_for_a_gpu_fraction_and_baselines_for_none(cluster, tmp_path):
    """A node that declares one GPU (Ray counts it; there is no device): units that ask for a
    fraction are given one and see it as their only CUDA device, the others get none; the
    bootstrap's network units ask for the fraction and its tables stay the local ones."""
    from radiogenomics.evaluation.bootstrap import run_bootstrap

    gpu_node = cluster.add_node(num_gpus=1)
    try:
        gpu_id = _gpu_node_id()
        cluster.remember()
        assert cluster.executor.cluster().total_gpus == 1
        got = cluster.executor.map(
            _assigned, range(6), resources=lambda i: (1.0, 0.5 if i % 2 else 0.0)
        )
        assert [r["item"] for r in got] == list(range(6))
        for r in got:
            if r["item"] % 2:
                assert (r["gpu"], r["visible"], r["node"]) == (0.5, "0", gpu_id), r
            else:
                assert r["gpu"] == 0.0, r
        # on a real GPU a unit given one trains on it ("auto" resolves on the worker)
        assert all(r["device"] == "cpu" for r in got)  # nothing real behind this one

        X, traits = _study_cohort()
        chosen = {t: {"nn": NN_SMALL, "logreg_l2": {"C": 0.1}} for t in traits.columns}
        kw = dict(n_reps=2, n_splits=3, seed=5, models=["nn", "logreg_l2"], reference="nn")
        remote = run_bootstrap(X, traits, chosen, executor=cluster.executor, network_gpus=0.5, **kw)
        plan = cluster.executor.last_plan
        local = run_bootstrap(X, traits, chosen, executor=LocalExecutor(1, quiet=True), **kw)
    finally:
        cluster.kill_node(gpu_node)
    # the network's units (submitted first) asked for half a GPU, the baseline's for none
    assert [r.num_gpus for r in plan] == [0.5] * 4 + [0.0] * 4
    for attr in ("folds", "auc", "differences", "summary"):
        pd.testing.assert_frame_equal(getattr(remote, attr), getattr(local, attr))
