"""Starts the real servers (action server + Rasa) for conversation tests."""
from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_json(method: str, url: str, body: Optional[Dict[str, Any]] = None, timeout: float = 60,
              headers: Optional[Dict[str, str]] = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        raw = resp.read()
        return json.loads(raw) if raw else None


def wait_until(url: str, proc: subprocess.Popen, log: Path, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited ({proc.returncode}); log:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout}s; log:\n{log.read_text()[-3000:]}")


def base_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2", RASA_TELEMETRY_ENABLED="false",
               SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env.update(extra)
    return env


@dataclass
class Servers:
    """A running action server and Rasa server on a private database."""

    workdir: Path
    model: Path
    database_url: str
    tracker_db: Path
    extra_env: Dict[str, str] = field(default_factory=dict)
    credentials: Optional[Path] = None  # default: the repository's credentials.yml
    action_port: int = field(default_factory=free_port)
    rasa_port: int = field(default_factory=free_port)
    procs: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def chart_dir(self) -> Path:
        return Path(self.extra_env.get("CHART_DIR") or REPO / "var" / "charts")

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://127.0.0.1:{self.action_port}"

    def endpoints_file(self) -> Path:
        path = self.workdir / "endpoints.yml"
        token = self.extra_env.get("ACTION_SERVER_TOKEN")
        lines = ["action_endpoint:", f'  url: "{self.action_url}/webhook"']
        if token:
            lines.append(f'  token: "{token}"')
        lines += ["tracker_store:", "  type: SQL", '  dialect: "sqlite"', f'  db: "{self.tracker_db}"']
        path.write_text("\n".join(lines) + "\n")
        return path

    def __post_init__(self) -> None:
        # The action server refuses to start without a token (bot/action_server.py), and the HTTP
        # API's conversation endpoints are admin-only (bot/http_guard.py): both get one per run.
        self.extra_env.setdefault("ACTION_SERVER_TOKEN", "actions-" + secrets.token_urlsafe(16))
        self.extra_env.setdefault("RASA_API_TOKEN", "api-" + secrets.token_urlsafe(16))
        self.extra_env.setdefault("TRACKER_DATABASE_URL", f"sqlite:///{self.tracker_db}")

    @property
    def api_token(self) -> str:
        return self.extra_env["RASA_API_TOKEN"]

    def start_actions(self) -> None:
        log = self.workdir / "actions.log"
        env = base_env(DATABASE_URL=self.database_url, ACTION_SERVER_PORT=str(self.action_port), **self.extra_env)
        self.procs["actions"] = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot.action_server"], cwd=REPO,
                                                 env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_until(f"{self.action_url}/health", self.procs["actions"], log)

    def start_rasa(self) -> None:
        log = self.workdir / "rasa.log"
        cmd = [str(VENV_BIN / "python"), "-m", "bot.rasa_server", "run", "--model", str(self.model), "--enable-api",
               "--interface", "127.0.0.1", "--port", str(self.rasa_port), "--endpoints", str(self.endpoints_file()), "--credentials",
               str(self.credentials or REPO / "credentials.yml"), *self.rasa_args()]
        # DATABASE_URL: the channels' replay protection lives in the account store
        env = base_env(DATABASE_URL=self.database_url, **self.extra_env)
        self.procs["rasa"] = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log.open("w"),
                                              stderr=subprocess.STDOUT)
        wait_until(self.status_url(), self.procs["rasa"], log)

    def status_url(self) -> str:
        """The URL that answers once Rasa has loaded the model (subclasses with an API token add it)."""
        return f"{self.rasa_url}/status"

    def rasa_args(self) -> List[str]:
        """Further `rasa run` arguments (subclasses add e.g. `--cors`)."""
        return []

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def say(self, sender: str, text: str) -> List[Dict[str, Any]]:
        """Sends a message through the REST channel and returns the bot's messages."""
        return http_json("POST", f"{self.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text},
                         timeout=120) or []

    def say_text(self, sender: str, text: str) -> str:
        return "\n".join(m.get("text", "") for m in self.say(sender, text))

    def parse(self, text: str) -> Dict[str, Any]:
        return http_json("POST", f"{self.rasa_url}/model/parse", {"text": text})

    def tracker(self, sender: str) -> Dict[str, Any]:
        """The conversation through the HTTP API (admin-only: with the API token)."""
        return http_json("GET", f"{self.rasa_url}/conversations/{urllib.parse.quote(sender, safe=':@')}/tracker",
                         headers={"Authorization": f"Bearer {self.api_token}"})


@contextmanager
def running_servers(workdir: Path, model: Path, kind: type = Servers, **extra_env: str) -> Iterator[Servers]:
    """An action server and a Rasa server (`kind`) on fresh SQLite databases in `workdir`.

    Charts go to `workdir/charts`; `extra_env` is added to both servers' environment. Both are
    stopped on exit, also when one of them failed to start.
    """
    if not model.exists():
        raise FileNotFoundError(f"trained model missing at {model}: run scripts/train.sh (make test does)")
    from bot.store.migrate import upgrade

    url = f"sqlite:///{workdir / 'accounts.db'}"
    upgrade(url)
    servers = kind(workdir=workdir, model=model, database_url=url, tracker_db=workdir / "tracker.db",
                   extra_env={"CHART_DIR": str(workdir / "charts"), **extra_env})
    try:
        servers.start_actions()
        servers.start_rasa()
        yield servers
    finally:
        servers.stop_all()
