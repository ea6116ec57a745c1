"""Real servers for the fault tests.

The action server writes to a PostgreSQL database of its own; helpers stop, pause,
slow down and restart the servers mid-conversation.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import pytest

from tests.conftest import MODEL_PATH
from tests.servers import REPO, VENV_BIN, Servers, base_env, free_port, wait_until

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_ADMIN_URL", "postgresql://localhost/postgres")
#: a locked table makes the action server's write fail after this long (well inside the action timeout)
LOCK_TIMEOUT_MS = 2000


class DelayProxy:
    """An HTTP proxy in front of the action server that holds chosen actions' calls."""

    def __init__(self, port: int, upstream: str, delays: dict[str, float]) -> None:
        self.upstream = upstream
        self.delays = delays
        self.forwarded: list[str] = []   # actions whose call reached the action server
        self.answered: list[str] = []    # actions whose answer went back to Rasa
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                self._forward(None)

            def do_POST(self) -> None:  # noqa: N802
                self._forward(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _forward(self, body: Optional[bytes]) -> None:
                action = json.loads(body).get("next_action") if body else None
                stop = threading.Event()
                stop.wait(proxy.delays.get(action, 0))
                req = urllib.request.Request(proxy.upstream + self.path, data=body, method=self.command,
                                             headers={"Content-Type": "application/json"})
                proxy.forwarded.append(action)
                try:
                    with urllib.request.urlopen(req, timeout=120) as resp:
                        status, payload = resp.status, resp.read()
                except urllib.error.HTTPError as exc:
                    status, payload = exc.code, exc.read()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    proxy.answered.append(action)
                except OSError:
                    pass  # Rasa stopped waiting

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FaultServers(Servers):
    """Servers that can be stopped, paused, slowed down and restarted by a test."""

    def start_actions(self, port: Optional[int] = None) -> None:
        port = port or self.action_port
        log = self.workdir / "actions.log"
        env = base_env(DATABASE_URL=self.database_url, ACTION_SERVER_PORT=str(port), **self.extra_env)
        with log.open("a") as out:
            self.procs["actions"] = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot.action_server"],
                                                     cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        wait_until(f"http://127.0.0.1:{port}/health", self.procs["actions"], log)

    def start_rasa(self) -> None:
        log = self.workdir / "rasa.log"
        if log.exists():  # keep the log of the previous run
            log.rename(self.workdir / f"rasa.{uuid.uuid4().hex[:6]}.log")
        super().start_rasa()

    def pause_actions(self) -> None:
        """Freezes the action server (SIGSTOP): connections are accepted, nothing is answered."""
        os.kill(self.procs["actions"].pid, signal.SIGSTOP)

    def resume_actions(self) -> None:
        os.kill(self.procs["actions"].pid, signal.SIGCONT)

    @contextmanager
    def slow_actions(self, delays: dict[str, float]) -> Iterator[DelayProxy]:
        """Puts a proxy that delays the named actions where Rasa expects the action server."""
        self.stop("actions")
        backend = free_port()
        self.start_actions(backend)
        proxy = DelayProxy(self.action_port, f"http://127.0.0.1:{backend}", delays)
        try:
            yield proxy
        finally:
            proxy.close()
            self.stop("actions")
            self.start_actions()

    def stop_all(self) -> None:
        if "actions" in self.procs and self.procs["actions"].poll() is None:
            self.resume_actions()
        super().stop_all()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A PostgreSQL database of its own for the account store, dropped afterwards."""
    psycopg2 = pytest.importorskip("psycopg2")
    name = f"faults_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg2.connect(POSTGRES_ADMIN_URL)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is required for the fault tests and is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def db_admin(pg_database: str):  # noqa: ANN201
    """An autocommit connection to the `postgres` database, to take the account database down and up."""
    import psycopg2

    conn = psycopg2.connect(POSTGRES_ADMIN_URL)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def account_db_url(pg_database: str) -> str:
    from urllib.parse import quote

    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{pg_database}?options={quote(f'-c lock_timeout={LOCK_TIMEOUT_MS}')}"


@pytest.fixture(scope="session")
def servers(tmp_path_factory, account_db_url: str) -> Iterator[FaultServers]:  # noqa: ANN001
    """One action server (PostgreSQL account store) and one Rasa server for all fault tests."""
    if not MODEL_PATH.exists():
        pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
    from bot.store.migrate import upgrade

    upgrade(account_db_url)
    workdir = tmp_path_factory.mktemp("fault-servers")
    s = FaultServers(workdir=workdir, model=MODEL_PATH, database_url=account_db_url,
                     tracker_db=workdir / "tracker.db",
                     extra_env={"CHART_DIR": str(workdir / "charts"), "ACTION_TIMEOUT_SECONDS": "8",
                                "ACTION_LATE_RESULT_SECONDS": "60"})
    s.start_actions()
    s.start_rasa()
    try:
        yield s
    finally:
        s.stop_all()


@pytest.fixture
def action_server_back(servers: FaultServers) -> Iterator[FaultServers]:
    """Whatever a test does to the action server, the next test finds it running."""
    yield servers
    proc = servers.procs.get("actions")
    if proc is not None and proc.poll() is None:
        servers.resume_actions()
    else:
        servers.stop("actions")
        servers.start_actions()


@pytest.fixture(scope="session")
def account_store(account_db_url: str):  # noqa: ANN201
    """The account store the action server writes to, for checking what was saved."""
    from bot.store import AccountStore
    from bot.store.db import make_session_factory

    factory = make_session_factory(account_db_url)
    yield AccountStore(factory)
    factory.kw["bind"].dispose()


@contextmanager
def database_unavailable(db_admin, name: str) -> Iterator[None]:  # noqa: ANN001
    """No new connections to database `name`, and its open ones cut (the account or tracker database)."""
    with db_admin.cursor() as cur:
        cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    try:
        yield
    finally:
        with db_admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
