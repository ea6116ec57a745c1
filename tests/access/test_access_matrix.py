"""The access matrix in docs/access.md: every door tried by every kind of caller, against the real servers.

The servers run as `make run` starts them (action-server token, HTTP API token, no REST token),
with Slack and WeCom configured, Rasa listening on every interface (as behind an ingress) so
that "another machine" can be tried too; then once more with REST_CHANNEL_TOKEN set. Each
cell is what the door actually answered. The table in docs/access.md must be exactly the
one this test observes; after a deliberate change, regenerate it with
``UPDATE_ACCESS_MATRIX=1 pytest tests/access/test_access_matrix.py`` and review the diff.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Optional

import pytest

from tests.access.test_access_paths import outside_address
from tests.conftest import MODEL_PATH
from tests.servers import REPO, Servers, running_servers

pytestmark = [pytest.mark.model, pytest.mark.slow]

DOC = REPO / "docs" / "access.md"
BEGIN, END = "<!-- access-matrix:begin -->", "<!-- access-matrix:end -->"
SLACK_SECRET = "matrix-signing-secret-" + secrets.token_hex(4)
CORP, AGENT, WECOM_TOKEN = "wwmatrixcorp0001", "1000002", "MatrixToken"
AES_KEY = base64.b64encode(bytes(range(100, 132))).decode().rstrip("=")
REST_TOKEN = "rest-" + secrets.token_hex(8)

CALLERS = {
    "local": "this machine, no credential",
    "wrong": "this machine, wrong credential",
    "right": "this machine, the door's credential",
    "page": "a web page of another origin",
    "rebind": "DNS rebinding (foreign Host)",
    "proxy": "a proxy for an outside client",
    "remote": "another machine, no credential",
    "remote_right": "another machine, the door's credential",
}


class OpenServers(Servers):
    """Rasa on every interface; Slack and WeCom configured (their APIs unreachable: only the webhooks are tried)."""

    def rasa_args(self) -> list[str]:
        return ["--interface", "0.0.0.0"]


def _call(method: str, url: str, body: Optional[bytes] = None, headers: Optional[dict[str, str]] = None) -> int:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # nothing answers there


def _label(status: int) -> str:
    if status == 0:
        return "not reachable"
    if 200 <= status < 300:
        return "**answered**"
    return f"refused {status}"


def _slack_headers(body: bytes, secret: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def _wecom_request(token: str) -> tuple[str, bytes]:
    import xmltodict
    from wechatpy.enterprise.crypto import WeChatCrypto

    user, ts, nonce = f"u{secrets.token_hex(3)}", str(int(time.time())), str(secrets.randbelow(10**9))
    plain = (f"<xml><ToUserName>{CORP}</ToUserName><FromUserName>{user}</FromUserName><CreateTime>{ts}</CreateTime>"
             f"<MsgType>text</MsgType><Content>hi</Content><MsgId>{secrets.randbits(60)}</MsgId>"
             f"<AgentID>{AGENT}</AgentID></xml>")
    encrypt = xmltodict.parse(WeChatCrypto(WECOM_TOKEN, AES_KEY, CORP).encrypt_message(plain, nonce, ts))["xml"]["Encrypt"]
    signature = hashlib.sha1("".join(sorted([token, ts, nonce, encrypt])).encode()).hexdigest()
    query = urllib.parse.urlencode({"msg_signature": signature, "timestamp": ts, "nonce": nonce})
    return query, f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>".encode()


def _jwt_for(servers: Servers) -> str:
    import jwt

    now = int(time.time())
    return jwt.encode({"sub": "matrix", "team": "matrix", "iat": now, "exp": now + 300},
                      servers.extra_env["WEB_JWT_SECRET"], algorithm="HS256")


class Doors:
    """Each door, tried by each kind of caller."""

    def __init__(self, servers: Servers, rest_token: str = "") -> None:
        self.s = servers
        self.rest_token = rest_token
        self.outside = outside_address()

    def base(self, remote: bool) -> str:
        return f"http://{self.outside}:{self.s.rasa_port}" if remote else self.s.rasa_url

    def headers(self, caller: str, credential: dict[str, str]) -> dict[str, str]:
        extra = {"page": {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
                 "rebind": {"Host": f"evil.example:{self.s.rasa_port}"},
                 "proxy": {"X-Forwarded-For": "203.0.113.9"}}.get(caller, {})
        return {**(credential if caller in ("right", "remote_right") else {}), **extra}

    def rest(self, caller: str) -> int:
        cred = {"Authorization": f"Bearer {self.rest_token}"} if self.rest_token else {}
        if caller == "wrong":
            return self._json("POST", "/webhooks/rest/webhook", {"sender": "m", "message": "hi"},
                              {"Authorization": "Bearer wrong"}, caller)
        if caller in ("right", "remote_right") and not self.rest_token:
            return -1  # no such credential in this set-up
        content = "text/plain" if caller == "page" else "application/json"
        return self._json("POST", "/webhooks/rest/webhook", {"sender": "m", "message": "hi"},
                          self.headers(caller, cred), caller, content)

    def api_parse(self, caller: str) -> int:
        cred = {"Authorization": f"Bearer {self.s.api_token}"}
        if caller == "wrong":
            return self._json("POST", "/model/parse", {"text": "hi"}, {"Authorization": "Bearer wrong"}, caller)
        content = "text/plain" if caller == "page" else "application/json"
        return self._json("POST", "/model/parse", {"text": "hi"}, self.headers(caller, cred), caller, content)

    def api_tracker(self, caller: str) -> int:
        cred = {"Authorization": f"Bearer {self.s.api_token}"}
        headers = {"Authorization": "Bearer wrong"} if caller == "wrong" else self.headers(caller, cred)
        return _call("GET", self.base(caller.startswith("remote")) + "/conversations/m/tracker", None, headers)

    def api_execute(self, caller: str) -> int:
        cred = {"Authorization": f"Bearer {self.s.api_token}"}
        headers = {"Authorization": "Bearer wrong"} if caller == "wrong" else self.headers(caller, cred)
        return self._json("POST", "/conversations/m/execute", {"name": "action_list_accounts"}, headers, caller)

    def actions(self, caller: str) -> int:
        token = self.s.extra_env["ACTION_SERVER_TOKEN"]
        call = {"next_action": "action_list_accounts", "sender_id": "m", "version": "3.6.21", "domain": {},
                "tracker": {"sender_id": "m", "slots": {}, "latest_message": {"text": "hi", "intent": {},
                            "entities": []}, "events": [], "paused": False, "followup_action": None,
                            "active_loop": {}, "latest_action_name": None}}
        host = self.outside if caller.startswith("remote") else "127.0.0.1"
        if host is None:
            return -2
        headers = {"Content-Type": "text/plain" if caller == "page" else "application/json",
                   **self.headers(caller, {"Authorization": f"Bearer {token}"})}
        if caller == "wrong":
            headers["Authorization"] = "Bearer wrong"
        return _call("POST", f"http://{host}:{self.s.action_port}/webhook", json.dumps(call).encode(), headers)

    def slack(self, caller: str) -> int:
        body = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
        secret = SLACK_SECRET if caller in ("right", "remote_right") else "wrong-secret"
        headers = _slack_headers(body, secret) if caller != "local" and caller != "remote" else \
            {"Content-Type": "application/json"}
        headers.update(self.headers(caller, {}))
        return self._raw("POST", "/webhooks/slack/webhook", body, headers, caller)

    def wecom(self, caller: str) -> int:
        token = WECOM_TOKEN if caller in ("right", "remote_right") else "WrongToken"
        query, body = _wecom_request(token)
        if caller in ("local", "remote"):
            query = ""
        return self._raw("POST", f"/webhooks/wecom/webhook?{query}", body,
                         {"Content-Type": "text/xml", **self.headers(caller, {})}, caller)

    def socketio(self, caller: str) -> int:
        origin = {"page": "http://evil.example", "rebind": f"http://evil.example:{self.s.rasa_port}"}.get(caller)
        headers = {"Origin": origin} if origin else {}
        if caller == "proxy":
            headers["X-Forwarded-For"] = "203.0.113.9"
        if caller == "wrong":
            return -1
        path = "/socket.io/?EIO=4&transport=polling"
        if caller in ("right", "remote_right"):
            path += "&" + urllib.parse.urlencode({"token": _jwt_for(self.s)})  # checked on connect, not here
        return self._raw("GET", path, None, headers, caller)

    def _json(self, method: str, path: str, body: dict, headers: dict[str, str], caller: str,
              content: str = "application/json") -> int:
        return self._raw(method, path, json.dumps(body).encode(), {"Content-Type": content, **headers}, caller)

    def _raw(self, method: str, path: str, body: Optional[bytes], headers: dict[str, str], caller: str) -> int:
        if caller.startswith("remote") and self.outside is None:
            return -2
        return _call(method, self.base(caller.startswith("remote")) + path, body, headers)


ROWS: list[tuple[str, str, Callable[[Doors, str], int]]] = [
    ("REST webhook `POST /webhooks/rest/webhook`", "the sender id is the identity", Doors.rest),
    ("HTTP API `POST /model/parse`", "stateless NLU", Doors.api_parse),
    ("HTTP API `GET /conversations/<id>/tracker`", "reads any conversation", Doors.api_tracker),
    ("HTTP API `POST /conversations/<id>/execute`", "acts as any rep", Doors.api_execute),
    ("action server `POST /webhook`", "runs any action for any tracker", Doors.actions),
    ("Slack `POST /webhooks/slack/webhook`", "credential: the signing secret's signature", Doors.slack),
    ("WeCom `POST /webhooks/wecom/webhook`", "credential: msg_signature + AES", Doors.wecom),
    ("web chat socket.io handshake", "anonymous demo or a signed JWT; origins allowed", Doors.socketio),
]


def observe(doors: Doors) -> str:
    lines = ["| door | what it gives | " + " | ".join(CALLERS.values()) + " |",
             "|---|---|" + "---|" * len(CALLERS)]
    for title, gives, probe in ROWS:
        cells = []
        for caller in CALLERS:
            status = probe(doors, caller)
            cells.append({-1: "n/a", -2: "(no network address)"}.get(status) or _label(status))
        lines.append(f"| {title} | {gives} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def matrices(tmp_path_factory):  # noqa: ANN001, ANN201
    workdir = tmp_path_factory.mktemp("matrix")
    env = {"SLACK_BOT_TOKEN": "xoxb-matrix", "SLACK_SIGNING_SECRET": SLACK_SECRET,
           "SLACK_API_URL": "http://127.0.0.1:9/api/", "WECOM_CORP_ID": CORP, "WECOM_AGENT_ID": AGENT,
           "WECOM_SECRET": "matrix-secret", "WECOM_TOKEN": WECOM_TOKEN, "WECOM_AES_KEY": AES_KEY,
           "WECOM_API_BASE": "http://127.0.0.1:9", "WEB_JWT_SECRET": secrets.token_urlsafe(32), "REDIS_URL": ""}
    with running_servers(workdir, MODEL_PATH, OpenServers, **env) as s:
        default = observe(Doors(s))
        token_dir = workdir / "rest-token"
        token_dir.mkdir()
        t = OpenServers(workdir=token_dir, model=MODEL_PATH, database_url=s.database_url,
                        tracker_db=token_dir / "tracker.db", action_port=s.action_port,
                        extra_env={**s.extra_env, "REST_CHANNEL_TOKEN": REST_TOKEN})
        t.start_rasa()
        try:
            with_token = observe(Doors(t, REST_TOKEN)).splitlines()
        finally:
            t.stop_all()
    return default, "\n".join(with_token[:2] + [with_token[2]])


def test_the_access_matrix_in_the_docs_is_what_the_servers_do(matrices):
    default, with_rest_token = matrices
    body = ("As `make run` starts it (tokens for the action server and the HTTP API, none for REST):\n\n"
            f"{default}\n\nWith `REST_CHANNEL_TOKEN` set (a trusted back end speaks for its users):\n\n"
            f"{with_rest_token}\n")
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    if os.environ.get("UPDATE_ACCESS_MATRIX") == "1":
        DOC.write_text(text[:start] + "\n" + body + text[end:], encoding="utf-8")
    documented = text[start:end].strip()
    assert documented == body.strip(), (
        "docs/access.md differs from what the servers do; if the change is intended, rerun with "
        f"UPDATE_ACCESS_MATRIX=1 and review the diff.\nObserved:\n{body}")


def test_no_door_answers_a_web_page_of_another_origin_or_a_foreign_host(matrices):
    for table in matrices:
        for row in table.splitlines()[2:]:
            cells = [c.strip() for c in row.strip("|").split("|")]
            page, rebind = cells[2 + list(CALLERS).index("page")], cells[2 + list(CALLERS).index("rebind")]
            if "socket.io" not in row and "Slack" not in row and "WeCom" not in row:
                assert "answered" not in page and "answered" not in rebind, row


def test_admin_doors_answer_only_their_credential(matrices):
    default, _ = matrices
    for row in default.splitlines()[2:]:
        if "tracker" in row or "execute" in row or "action server" in row:
            cells = [c.strip() for c in row.strip("|").split("|")][2:]
            answered = [caller for caller, cell in zip(CALLERS, cells, strict=False) if "answered" in cell]
            assert set(answered) <= {"right", "remote_right"}, row

