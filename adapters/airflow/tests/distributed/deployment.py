"""A distributed Airflow 3.3 deployment on loopback, as users run it
(issue 26): PostgreSQL as the metadata database, Redis as the Celery broker,
the CeleryExecutor, and the api-server, scheduler, dag-processor, two Celery
workers and two triggerers, each a process of its own with its own
environment and AIRFLOW_HOME, as if on separate machines. Nothing is shared
between them but what Airflow shares through the database, the broker and
the api-server (and the provider, installed in the venv like on every node).

Every process is started here and stopped by pid in `stop()`: its
descendants are read from /proc before any signal (a killed Airflow
component leaves its children behind), SIGTERM goes to all of them, and
SIGKILL to whatever is left after a grace period.

Needs: the Debian packages postgresql (initdb, postgres) and redis-server,
and a venv with Airflow, the celery and postgres providers and the libamc
provider (adapters/airflow/test.sh builds it). Facts it is built on
(settings that matter, costs on a 2-core machine) are in
docs/airflow-deployment.md.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import pathlib
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
BIN = pathlib.Path(sys.executable).parent


def _pg_bin() -> pathlib.Path:
    """Debian's server programs: /usr/lib/postgresql/<major>/bin (the newest)."""
    if os.environ.get("AMC_PG_BIN"):
        return pathlib.Path(os.environ["AMC_PG_BIN"])
    found = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else pathlib.Path("/usr/lib/postgresql/15/bin")


PG_BIN = _pg_bin()
REDIS_SERVER = os.environ.get("AMC_REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"

# The node module each Airflow process imports for [core] hostname_callable:
# on one host both triggerers would report the same hostname in the job table.
NODE_MODULE = '''"""This node's name, for Airflow's [core] hostname_callable."""
import os


def hostname() -> str:
    return os.environ["AMC_NODE"]
'''


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def children_of() -> dict[int, list[int]]:
    """pid -> child pids, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree = children_of()
    found: list[int] = []
    pending = [pid]
    while pending:
        for child in tree.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def signal_all(pids: Iterable[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def cpu_seconds(pids: Iterable[int]) -> float:
    """User + system CPU of these processes and of their reaped children
    (fields 14-17 of /proc/PID/stat), in seconds; gone ones count 0."""
    ticks = 0
    for pid in pids:
        try:
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_bytes(pids: Iterable[int]) -> int:
    """Resident memory of these processes together (VmRSS), in bytes."""
    total = 0
    for pid in pids:
        try:
            for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Polls `check` until it returns something true; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:.0f} s")
        time.sleep(interval)


class Process:
    """One started process: its name, Popen, log file and the descendants
    seen so far."""

    def __init__(self, name: str, popen: subprocess.Popen[bytes], log: pathlib.Path) -> None:
        self.name = name
        self.popen = popen
        self.log = log
        self.seen: set[int] = set()
        self.killed = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def tree(self) -> list[int]:
        """The root and every descendant, remembered across calls."""
        if alive(self.pid):
            self.seen.update(descendants(self.pid))
        return [self.pid, *sorted(self.seen)]

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


class Deployment:
    """The whole deployment under `root` (a fresh temporary directory)."""

    def __init__(
        self,
        root: pathlib.Path,
        dags: pathlib.Path,
        *,
        provider_settings: dict[str, str],
        modules: Iterable[pathlib.Path] = (),
    ) -> None:
        self.root = root
        self.dags = dags
        # Python files every node has on its PYTHONPATH (as installed packages
        # would be): the benchmark's triggers, which a triggerer cannot import
        # from the DAGs folder.
        self.modules = list(modules)
        self.processes: list[Process] = []
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.api_port = free_port()
        self.api_url = f"http://127.0.0.1:{self.api_port}"
        self.database = f"postgresql+psycopg2://airflow@127.0.0.1:{self.pg_port}/postgres"
        # The secrets every node must share (one value per deployment, never
        # generated by a node): Airflow's Fernet key, the JWT secret of the
        # Execution API, the api-server's secret key. Made now, never logged.
        self.fernet_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
        self.common = {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://airflow@127.0.0.1:{self.pg_port}/postgres",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
            "AIRFLOW__CORE__FERNET_KEY": self.fernet_key,
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.api_url}/execution/",
            "AIRFLOW__API__BASE_URL": self.api_url,
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "amc_node.hostname",
            # Failover within seconds instead of half a minute (whole seconds only).
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "10",
            "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            **provider_settings,
        }

    # -- processes ------------------------------------------------------------------------
    def node_env(self, node: str) -> dict[str, str]:
        """A node's own environment: its AIRFLOW_HOME, DAGs folder (a copy of
        the DAG files, as every machine has) and name."""
        home = self.root / node
        if not home.exists():
            home.mkdir(parents=True, mode=0o700)
            shutil.copytree(self.dags, home / "dags")
            (home / "amc_node.py").write_text(NODE_MODULE)
            for module in self.modules:
                shutil.copy(module, home / module.name)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW", "AMC_", "PYTEST", "_AIRFLOW"))
        }
        env.update(self.common)
        env.update(
            {
                "AIRFLOW_HOME": str(home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
                "AMC_NODE": node,
                "PYTHONPATH": str(home),
                "PATH": f"{BIN}:{env.get('PATH', '')}",
            }
        )
        return env

    def start(
        self, name: str, argv: list[str], env: dict[str, str] | None = None, user: str | None = None
    ) -> Process:
        log_path = self.root / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(log_path, "ab") as log:
            popen = subprocess.Popen(
                argv,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=user,
            )
        process = Process(name, popen, log_path)
        self.processes.append(process)
        return process

    def airflow(self, node: str, *arguments: str, name: str | None = None) -> Process:
        """An Airflow component on `node` (a restart: the same node, another name)."""
        return self.start(name or node, [str(BIN / "airflow"), *arguments], self.node_env(node))

    def run_airflow(self, node: str, *arguments: str, timeout: float = 300) -> str:
        """A one-off airflow command (db migrate, connections add)."""
        completed = subprocess.run(
            [str(BIN / "airflow"), *arguments],
            env=self.node_env(node),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"airflow {arguments[0]} failed:\n{completed.stdout[-3000:]}{completed.stderr[-3000:]}"
            )
        return completed.stdout

    def kill_tree(self, process: Process, signum: int = signal.SIGKILL) -> None:
        """What a machine's death does to one component: every process of
        its tree gets `signum` at once."""
        process.killed = True
        signal_all(process.tree(), signum)

    def pause_tree(self, process: Process, pause: bool) -> None:
        """SIGSTOP (or SIGCONT) to a component's whole tree: a machine that
        stalls (swapping, a long GC pause, a frozen VM) and comes back."""
        signal_all(process.tree(), signal.SIGSTOP if pause else signal.SIGCONT)

    def stop(self, grace: float = 20.0) -> list[str]:
        """Stops every process started here, by pid: SIGTERM to every root and
        descendant (Airflow's components first, then PostgreSQL and Redis,
        which they need to shut down cleanly), then SIGKILL after `grace`
        seconds. Returns what needed SIGKILL."""
        services = ("postgres", "redis")
        killed: list[str] = []
        for phase in (False, True):
            trees = {
                process.name: process.tree()
                for process in reversed(self.processes)
                if (process.name in services) == phase
            }
            for pids in trees.values():
                signal_all(pids, signal.SIGTERM)
            deadline = time.monotonic() + grace
            while time.monotonic() < deadline and any(alive(pid) for pids in trees.values() for pid in pids):
                time.sleep(0.2)
            for name, pids in trees.items():
                left = [pid for pid in pids if alive(pid)]
                if left:
                    killed.append(f"{name}: {left}")
                    signal_all(left, signal.SIGKILL)
        for process in self.processes:
            try:
                process.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                killed.append(f"{process.name}: {process.pid} did not exit")
        return killed

    # -- the services --------------------------------------------------------------------
    def start_postgres(self) -> None:
        """initdb in a temporary directory and postgres on a free port. As
        root, both run as the postgres user (initdb refuses root)."""
        data = self.root / "pgdata"
        data.mkdir()
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            owner = pwd.getpwnam(user)
            # The postgres user passes through the root (not list it); each
            # node's home stays 0700.
            self.root.chmod(0o711)
            os.chown(data, owner.pw_uid, owner.pw_gid)
        completed = subprocess.run(
            [str(PG_BIN / "initdb"), "-D", str(data), "-U", "airflow", "-A", "trust", "-E", "UTF8"],
            capture_output=True,
            text=True,
            check=False,
            user=user,
            cwd="/",
        )
        if completed.returncode != 0:
            raise RuntimeError(f"initdb failed: {completed.stdout}{completed.stderr}")
        process = self.start(
            "postgres",
            [
                str(PG_BIN / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.pg_port),
                "-k",
                str(data),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=300",
            ],
            user=user,
        )
        wait_for("PostgreSQL accepting connections", lambda: self._port_open(self.pg_port, process), 60, 0.2)

    def start_redis(self) -> None:
        directory = self.root / "redis"
        directory.mkdir()
        process = self.start(
            "redis",
            [
                REDIS_SERVER,
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(directory),
            ],
        )
        wait_for("Redis accepting connections", lambda: self._port_open(self.redis_port, process), 60, 0.2)

    @staticmethod
    def _port_open(port: int, process: Process) -> bool:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.output()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            return False

    def start_airflow(self, workers: int = 2, triggerers: int = 2) -> None:
        """db migrate, then every component in its own process."""
        self.run_airflow("migrate", "db", "migrate")
        self.airflow(
            "api-server", "api-server", "--host", "127.0.0.1", "--port", str(self.api_port), "-w", "1"
        )
        self.airflow("scheduler", "scheduler", "--skip-serve-logs")
        self.airflow("dag-processor", "dag-processor")
        for index in range(1, workers + 1):
            # Own hostname, no log server (two on one host would clash on its port).
            self.airflow(f"worker{index}", "celery", "worker", "-H", f"worker{index}@%h", "--skip-serve-logs")
        for index in range(1, triggerers + 1):
            self.airflow(f"triggerer{index}", "triggerer", "--skip-serve-logs")

    def process(self, name: str) -> Process:
        return next(process for process in self.processes if process.name == name)

    def check_running(self) -> None:
        for process in self.processes:
            if process.popen.poll() is not None and not process.killed:
                raise RuntimeError(
                    f"{process.name} exited ({process.popen.returncode}):\n{process.output()[-4000:]}"
                )

    def wait_healthy(self, timeout: float = 300) -> None:
        """The api-server answers, scheduler, dag-processor and triggerer are
        healthy, both triggerers have a live job, every worker is ready."""

        def healthy() -> bool:
            self.check_running()
            try:
                health = self.rest("GET", "monitor/health")
            except (OSError, urllib.error.URLError):
                return False
            parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
            if not all((health.get(part) or {}).get("status") == "healthy" for part in parts):
                return False
            if len(self.triggerer_jobs()) < sum(1 for p in self.processes if p.name.startswith("triggerer")):
                return False
            workers = [p for p in self.processes if p.name.startswith("worker")]
            return all(" ready." in worker.output() for worker in workers)

        wait_for("the deployment healthy", healthy, timeout, 1.0)

    # -- talking to it ------------------------------------------------------------------
    def rest(self, method: str, path: str, body: Any = None) -> Any:
        """Airflow's REST API (v2) on the api-server."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.api_url}/api/v2/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read().decode()
        return json.loads(text) if text else None

    def sql(self, query: str, *arguments: Any) -> list[tuple[Any, ...]]:
        """A read of the metadata database (job and trigger tables)."""
        import psycopg2

        db = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="airflow", dbname="postgres")
        try:
            with db.cursor() as cursor:
                cursor.execute(query, arguments)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
        finally:
            db.close()
        return rows

    def triggerer_jobs(self) -> dict[str, int]:
        """Node name -> id of its running TriggererJob."""
        rows = self.sql(
            "SELECT hostname, max(id) FROM job WHERE job_type = 'TriggererJob' AND state = 'running' "
            "GROUP BY hostname"
        )
        return {str(name): int(job) for name, job in rows}

    def triggers_by_job(self) -> dict[int, set[int]]:
        """TriggererJob id -> ids of the triggers it runs now."""
        by_job: dict[int, set[int]] = {}
        for trigger, job in self.sql("SELECT id, triggerer_id FROM trigger WHERE triggerer_id IS NOT NULL"):
            by_job.setdefault(int(job), set()).add(int(trigger))
        return by_job
