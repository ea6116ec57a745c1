"""Real servers for the web widget: action server, Rasa with the ``web`` channel, the web page server.

One set of servers serves every test of the run that asks for it (the browser tests
here and tests/channels/test_socketio.py): `acquire_web_servers` starts them the
first time and `release_web_servers` stops them after the last user.
"""
from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, List, Optional

import pytest

from tests.conftest import MODEL_PATH
from tests.servers import REPO, VENV_BIN, Servers, base_env, free_port, wait_until

AUDIENCE = "sales-coach-web"
ISSUER = "https://crm.example.test"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def rsa_keypair() -> tuple[str, str]:
    """A fresh RSA key pair (private PEM, public PEM) for the RS256 tests."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@dataclass
class WebServers(Servers):
    """`Servers` plus the web page server, with the web channel configured as in production.

    Rasa gets `--cors` for the page origin like scripts/run.sh does, the JWT settings
    (HS256 secret, RS256 public key, audience, issuer) and the allowed origins; the web
    page server mints demo tokens (WEB_DEMO_TOKENS=true) and serves charts.
    """

    web_port: int = field(default_factory=free_port)
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    rsa_private: str = ""
    rsa_public: str = ""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.rsa_private:
            self.rsa_private, self.rsa_public = rsa_keypair()
        (self.workdir / "charts").mkdir(exist_ok=True)
        self.extra_env.update(
            WEB_JWT_SECRET=self.jwt_secret, WEB_JWT_PUBLIC_KEY=self.rsa_public, WEB_JWT_AUDIENCE=AUDIENCE,
            WEB_JWT_ISSUER=ISSUER, WEB_SESSION_SECRET=secrets.token_urlsafe(32),
            WEB_ALLOWED_ORIGINS=f"{self.web_url},http://localhost:{self.web_port}",
            CHART_DIR=str(self.workdir / "charts"), PUBLIC_BASE_URL=self.web_url, WEB_PORT=str(self.web_port),
        )

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def rasa_args(self) -> List[str]:
        return ["--cors", self.web_url, f"http://localhost:{self.web_port}"]

    def start_web(self) -> None:
        log = self.workdir / "web.log"
        cmd = [str(VENV_BIN / "python"), "-m", "bot.webpage", "--port", str(self.web_port), "--rasa", self.rasa_url]
        self.procs["web"] = subprocess.Popen(cmd, cwd=REPO, env=base_env(WEB_DEMO_TOKENS="true", **self.extra_env),
                                             stdout=log.open("w"), stderr=subprocess.STDOUT)
        wait_until(f"{self.web_url}/config.js", self.procs["web"], log)

    def token(self, user: str, team: str, *, seconds: int = 600, algorithm: str = "HS256",
              key: Optional[str] = None, **claims: Any) -> str:
        """A widget token as the host page's server would mint it (claims may override/remove with None)."""
        import jwt

        now = int(time.time())
        body: dict[str, Any] = {"sub": user, "team": team, "iat": now, "exp": now + seconds, "aud": AUDIENCE,
                                "iss": ISSUER}
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        if key is None:
            key = self.rsa_private if algorithm == "RS256" else self.jwt_secret
        return jwt.encode(body, key, algorithm=algorithm)


_shared: dict[str, Any] = {"servers": None, "users": 0}


def acquire_web_servers(tmp_path_factory: pytest.TempPathFactory) -> WebServers:
    """The shared running servers (started on first use)."""
    if _shared["servers"] is None:
        if not MODEL_PATH.exists():
            pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
        from bot.store.migrate import upgrade

        workdir: Path = tmp_path_factory.mktemp("web-servers")
        url = f"sqlite:///{workdir / 'accounts.db'}"
        upgrade(url)
        servers = WebServers(workdir=workdir, model=MODEL_PATH, database_url=url, tracker_db=workdir / "tracker.db")
        try:
            servers.start_actions()
            servers.start_rasa()
            servers.start_web()
        except BaseException:
            servers.stop_all()
            raise
        _shared["servers"] = servers
    _shared["users"] += 1
    return _shared["servers"]


def release_web_servers() -> None:
    _shared["users"] -= 1
    if _shared["users"] <= 0 and _shared["servers"] is not None:
        _shared["servers"].stop_all()
        _shared["servers"] = None


@pytest.fixture(scope="session")
def web_servers(tmp_path_factory):  # noqa: ANN001, ANN201
    servers = acquire_web_servers(tmp_path_factory)
    yield servers
    release_web_servers()


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    """Debian's headless Chromium driven by Playwright (no downloaded browser builds).

    Module-scoped: Playwright's sync API keeps an event loop running in this thread
    while it is open, which would break async tests that run after this module.
    """
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
