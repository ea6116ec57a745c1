"""The web channel (`bot.channels.socketio`): tokens, anonymous sessions, identity metadata, origins.

The unit tests need nothing running; the others talk to the real Rasa server (trained
model, credentials.yml) with python-socketio's AsyncClient, sharing the servers of the
browser tests (tests/browser/conftest.py). The client uses the polling transport: this
python-engineio's websocket client needs a newer aiohttp than Rasa 3.6 allows (the
browser tests cover websockets).
"""
from __future__ import annotations

import asyncio
import os
import stat
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Optional

import jwt
import pytest
import yaml

from bot import i18n
from bot.channels.socketio import (
    SessionSigner,
    TokenError,
    TokenVerifier,
    WebIdentity,
    WebInput,
    allowed_origins,
    session_secret,
)
from tests.browser.conftest import AUDIENCE, ISSUER, WebServers, acquire_web_servers, release_web_servers, rsa_keypair
from tests.channels.limits import OVERLONG_UNITS, overlong, refusal, stored_text
from tests.servers import REPO, http_json

SECRET = "unit-test-secret-0123456789abcdef0123"

# --------------------------------------------------------------------------- unit: tokens


def hs_token(secret: str = SECRET, **claims: Any) -> str:
    body = {"sub": "alice", "team": "acme", "exp": int(time.time()) + 300}
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, secret, algorithm="HS256")


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    return rsa_keypair()


def test_hs256_token_gives_the_identity() -> None:
    identity = TokenVerifier(secret=SECRET).verify(hs_token())
    assert identity == WebIdentity(team="acme", user="alice")
    assert identity.sender_id == "web:acme:alice"
    assert identity.metadata() == {"team": "acme", "user": "alice"}


def test_sender_ids_cannot_collide() -> None:
    assert WebIdentity("a:b", "c").sender_id != WebIdentity("a", "b:c").sender_id
    assert WebIdentity("acme", "alice@acme.com").sender_id == "web:acme:alice%40acme.com"


@pytest.mark.parametrize("token", [
    hs_token(exp=int(time.time()) - 120),           # expired
    hs_token(exp=None),                              # no expiry
    hs_token(exp=int(time.time()) + 30 * 365 * 86400),  # 30 years ahead: over WEB_JWT_MAX_LIFETIME
    hs_token(sub=None),                              # no user
    hs_token(team=None),                             # no team
    hs_token(team=""),
    hs_token(team=7),
    hs_token(sub="alice\nadmin"),
    hs_token(sub="x" * 200),
    hs_token(secret="another-secret-0123456789abcdef0123"),
    jwt.encode({"sub": "alice", "team": "acme", "exp": int(time.time()) + 300}, None, algorithm="none"),
    "not.a.jwt",
    "",
    None,
    "a" * 9000,
])
def test_bad_tokens_are_rejected(token: Any) -> None:
    with pytest.raises(TokenError):
        TokenVerifier(secret=SECRET).verify(token)


def test_a_token_may_live_as_long_as_the_configured_maximum() -> None:
    verifier = TokenVerifier(secret=SECRET, max_lifetime=3600)
    assert verifier.verify(hs_token(exp=int(time.time()) + 3500)).user == "alice"
    with pytest.raises(TokenError):
        verifier.verify(hs_token(exp=int(time.time()) + 7200))


def test_audience_and_issuer_are_checked_when_configured() -> None:
    verifier = TokenVerifier(secret=SECRET, audience="coach", issuer="https://crm")
    assert verifier.verify(hs_token(aud="coach", iss="https://crm")).user == "alice"
    for claims in [{}, {"aud": "other", "iss": "https://crm"}, {"aud": "coach", "iss": "https://evil"},
                   {"aud": "coach"}]:
        with pytest.raises(TokenError):
            verifier.verify(hs_token(**claims))


def test_rs256_with_the_public_key(keys: tuple[str, str]) -> None:
    private, public = keys
    token = jwt.encode({"sub": "bob", "team": "other", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    assert TokenVerifier(public_key=public).verify(token).sender_id == "web:other:bob"
    with pytest.raises(TokenError):  # RS256 is not accepted when only a secret is configured
        TokenVerifier(secret=SECRET).verify(token)
    other_private, _ = rsa_keypair()
    forged = jwt.encode({"sub": "bob", "team": "other", "exp": int(time.time()) + 60}, other_private,
                        algorithm="RS256")
    with pytest.raises(TokenError):
        TokenVerifier(public_key=public).verify(forged)


def test_public_key_is_never_used_as_an_hmac_secret(keys: tuple[str, str]) -> None:
    """Algorithm confusion: an HS256 token 'signed' with the (public) RSA key must fail."""
    import hashlib
    import hmac
    import json
    from base64 import urlsafe_b64encode

    _, public = keys

    def b64(data: bytes) -> str:
        return urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps({"sub": "alice", "team": "acme", "exp": int(time.time()) + 60}).encode())
    signature = b64(hmac.new(public.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest())
    with pytest.raises(TokenError):
        TokenVerifier(public_key=public).verify(f"{header}.{body}.{signature}")


def test_public_key_from_a_file(tmp_path: Path, keys: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    private, public = keys
    (tmp_path / "web.pub").write_text(public)
    monkeypatch.delenv("WEB_JWT_SECRET", raising=False)
    monkeypatch.setenv("WEB_JWT_PUBLIC_KEY", str(tmp_path / "web.pub"))
    token = jwt.encode({"sub": "bob", "team": "other", "exp": int(time.time()) + 60}, private, algorithm="RS256")
    assert TokenVerifier.from_env().verify(token).user == "bob"


# --------------------------------------------------------------------------- unit: sessions, origins, config


def test_signed_session_ids() -> None:
    signer = SessionSigner(b"k" * 32)
    session_id = signer.issue()
    nonce = signer.verify(session_id)
    assert nonce and session_id.startswith(nonce + ".")
    assert signer.sender_id(nonce) == f"web-anon:{nonce}"
    assert signer.issue() != session_id
    tampered_sig = session_id[:-1] + ("A" if session_id[-1] != "A" else "B")
    other_nonce = signer.issue().split(".")[0] + "." + session_id.split(".")[1]
    for forged in [tampered_sig, other_nonce, SessionSigner(b"x" * 32).issue(), "web:acme:alice", nonce, "", None, 42,
                   session_id + "x", " " + session_id]:
        assert signer.verify(forged) is None, forged


def test_session_secret_from_env_or_kept_in_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_SESSION_SECRET", "from-the-environment")
    assert session_secret(tmp_path / "key") == b"from-the-environment"
    assert not (tmp_path / "key").exists()
    monkeypatch.delenv("WEB_SESSION_SECRET")
    first = session_secret(tmp_path / "var" / "key")
    assert len(first) >= 32 and session_secret(tmp_path / "var" / "key") == first  # survives a restart
    assert stat.S_IMODE(os.stat(tmp_path / "var" / "key").st_mode) == 0o600
    assert [p.name for p in (tmp_path / "var").iterdir()] == ["key"]  # no temporary files left
    (tmp_path / "short").write_text("short")
    assert session_secret(tmp_path / "short") != b"short"


def test_allowed_origins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_ALLOWED_ORIGINS", raising=False)
    monkeypatch.delenv("WEB_PORT", raising=False)
    assert allowed_origins() == ["http://127.0.0.1:8000", "http://localhost:8000"]
    assert allowed_origins("https://crm.example.com/, https://app.example.com") == [
        "https://crm.example.com", "https://app.example.com"]
    assert allowed_origins("*") == ["*"]


def test_credentials_configure_the_web_channel() -> None:
    credentials = yaml.safe_load((REPO / "credentials.yml").read_text())
    # the hardened REST channel instead of Rasa's (bot/channels/rest.py); no stock socketio
    assert "bot.channels.rest.RestChannel" in credentials
    assert "rest" not in credentials and "socketio" not in credentials
    config = credentials["bot.channels.socketio.WebInput"]
    assert config == {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered",
                      "session_persistence": True}
    channel = WebInput.from_credentials(config)
    assert channel.name() == "web"
    from bot.identity import TRUSTED_IDENTITY_CHANNELS

    assert channel.name() in TRUSTED_IDENTITY_CHANNELS


async def test_token_required_refuses_anonymous_sockets() -> None:
    from socketio.exceptions import ConnectionRefusedError as Refused

    channel = WebInput(verifier=TokenVerifier(secret=SECRET), signer=SessionSigner(b"k" * 32), require_token=True,
                       origins=["http://127.0.0.1:8000"])

    async def on_new_message(message: Any) -> None:
        raise AssertionError("no message expected")

    channel.blueprint(on_new_message)
    connect = channel.sio.handlers["/"]["connect"]
    with pytest.raises(Refused):
        await connect("sid-1", {}, None)
    with pytest.raises(Refused):
        await connect("sid-2", {}, {"session_id": SessionSigner(b"k" * 32).issue()})
    with pytest.raises(Refused):
        await connect("sid-3", {}, {"token": hs_token(secret="wrong-secret-0123456789abcdef0123")})


# --------------------------------------------------------------------------- against the real Rasa server


@pytest.fixture(scope="module")
def rasa_web(tmp_path_factory):  # noqa: ANN001, ANN201
    servers = acquire_web_servers(tmp_path_factory)
    yield servers
    release_web_servers()


class Probe:
    """A socket.io client speaking the widget's protocol."""

    def __init__(self, servers: WebServers) -> None:
        import socketio

        self.servers = servers
        self.client = socketio.AsyncClient(reconnection=False)
        self.messages: list[dict[str, Any]] = []
        self.confirms: asyncio.Queue = asyncio.Queue()
        self.client.on("bot_uttered", self.messages.append)
        self.client.on("session_confirm", self.confirms.put_nowait)
        self.session_id: Optional[str] = None

    async def connect(self, auth: Optional[dict[str, Any]] = None, headers: Optional[dict[str, str]] = None) -> None:
        """Connects; raises ConnectionError when the server refuses (without the client's slow wait)."""
        import socketio

        outcome = asyncio.get_running_loop().create_future()

        def settle(error: Any = None) -> None:
            if not outcome.done():
                outcome.set_result(error)

        self.client.on("connect", settle)
        self.client.on("connect_error", lambda data=None: settle(data or "refused"))
        try:
            await self.client.connect(self.servers.rasa_url, auth=auth, headers=headers or {},
                                      transports=["polling"], wait=False)
            error = await asyncio.wait_for(outcome, 30)
        except Exception:
            await self.close()
            raise
        if error is not None:
            await self.close()
            raise socketio.exceptions.ConnectionError(f"refused: {error}")

    async def session(self, session_id: Optional[str] = None) -> str:
        await self.client.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(self.confirms.get(), 30)
        return self.session_id

    async def say(self, text: str, settle: float = 1.5, **extra: Any) -> list[dict[str, Any]]:
        before = len(self.messages)
        await self.client.emit("user_uttered", {"message": text, "session_id": self.session_id, **extra})
        deadline = time.time() + 90
        while len(self.messages) == before and time.time() < deadline:
            await asyncio.sleep(0.1)
        count = -1
        while count != len(self.messages):  # until no more arrive for `settle` seconds
            count = len(self.messages)
            await asyncio.sleep(settle)
        assert len(self.messages) > before, f"no reply to {text!r}"
        return self.messages[before:]

    async def say_text(self, text: str, **extra: Any) -> str:
        return "\n".join(m.get("text", "") for m in await self.say(text, **extra))

    async def close(self) -> None:
        # With polling, a clean disconnect waits for the pending long-poll; don't wait long for it.
        eio = self.client.eio
        tasks = [t for t in (getattr(eio, "read_loop_task", None), getattr(eio, "write_loop_task", None)) if t]
        try:
            await asyncio.wait_for(eio.disconnect(abort=True), 2)
        except (asyncio.TimeoutError, Exception):  # noqa: BLE001 - closing anyway
            pass
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        http = getattr(self.client.eio, "http", None)
        if http is not None and not http.closed:
            await http.close()


async def tracker(servers: WebServers, sender: str) -> dict[str, Any]:
    return await asyncio.to_thread(servers.tracker, sender)


def user_events(tracker_state: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in tracker_state["events"] if e["event"] == "user"]


async def test_signed_socket_gets_server_side_identity(rasa_web: WebServers) -> None:
    probe = Probe(rasa_web)
    await probe.connect(auth={"token": rasa_web.token("erin", "umbrella")})
    try:
        assert await probe.session("someone-elses-session") == "web:umbrella:erin"  # client's choice ignored
        reply = await probe.say_text("Add account Soylent Foods",
                                     metadata={"identity": {"team": "acme", "user": "mallory"}, "page": "crm"},
                                     session_id="web:acme:alice")
        assert "Soylent Foods" in reply
    finally:
        await probe.close()
    last = user_events(await tracker(rasa_web, "web:umbrella:erin"))[-1]
    assert last["input_channel"] == "web"
    assert last["metadata"]["identity"] == {"team": "umbrella", "user": "erin"}  # not the client's
    assert last["metadata"]["page"] == "crm"  # other client metadata is passed on
    assert not any(e.get("text") == "Add account Soylent Foods"
                   for e in user_events(await tracker(rasa_web, "web:acme:alice")))


async def test_anonymous_socket_gets_no_identity_and_its_own_team(rasa_web: WebServers) -> None:
    owner = Probe(rasa_web)
    await owner.connect(auth={"token": rasa_web.token("frank", "wayne")})
    await owner.session()
    assert "Wayne Enterprises" in await owner.say_text("Add account Wayne Enterprises")
    await owner.close()

    probe = Probe(rasa_web)
    await probe.connect()
    try:
        session_id = await probe.session()
        assert SessionSigner(b"?" * 32).verify(session_id) is None and "." in session_id
        reply = await probe.say_text("list my accounts", metadata={"identity": {"team": "wayne", "user": "frank"}})
        assert "Wayne Enterprises" not in reply and "no accounts" in reply
    finally:
        await probe.close()
    sender = "web-anon:" + session_id.split(".")[0]
    last = user_events(await tracker(rasa_web, sender))[-1]
    assert last["input_channel"] == "web" and "identity" not in last["metadata"]


async def test_anonymous_session_resumes_only_with_the_signed_id(rasa_web: WebServers) -> None:
    first = Probe(rasa_web)
    await first.connect()
    session_id = await first.session()
    assert "Vandelay Industries" in await first.say_text("Add account Vandelay Industries")
    await first.close()

    again = Probe(rasa_web)  # a page reload: the signed id on connect
    await again.connect(auth={"session_id": session_id})
    try:
        assert await again.session() == session_id
        assert "Vandelay Industries" in await again.say_text("list my accounts")
    finally:
        await again.close()

    via_request = Probe(rasa_web)  # Rasa-webchat style: the id in session_request
    await via_request.connect()
    try:
        assert await via_request.session(session_id) == session_id
    finally:
        await via_request.close()

    nonce, signature = session_id.split(".")
    for forged in [f"{nonce}.{signature[::-1]}", "web:" + nonce, nonce, "web-anon:" + nonce]:
        probe = Probe(rasa_web)
        await probe.connect(auth={"session_id": forged})
        try:
            fresh = await probe.session(forged)
            assert fresh != session_id and fresh != forged
            # ... and sending the forged id along with a message does not switch either
            reply = await probe.say_text("list my accounts", session_id=forged)
            assert "Vandelay Industries" not in reply
        finally:
            await probe.close()


async def test_message_with_another_valid_anonymous_id_switches_to_it(rasa_web: WebServers) -> None:
    """A signed id is a bearer secret: whoever holds it (the same browser's other tab) continues it."""
    first = Probe(rasa_web)
    await first.connect()
    session_id = await first.session()
    await first.close()
    second = Probe(rasa_web)
    await second.connect()
    try:
        await second.session()
        await second.say("hi", session_id=session_id)
    finally:
        await second.close()
    assert user_events(await tracker(rasa_web, "web-anon:" + session_id.split(".")[0]))[-1]["text"] == "hi"


@pytest.mark.parametrize("kind", ["garbage", "expired", "no_exp", "wrong_secret", "wrong_audience", "wrong_issuer",
                                  "alg_none", "other_rsa_key", "no_team"])
async def test_invalid_tokens_are_refused(rasa_web: WebServers, kind: str) -> None:
    import socketio

    token = {
        "garbage": lambda: "garbage",
        "expired": lambda: rasa_web.token("alice", "acme", seconds=-60),
        "no_exp": lambda: rasa_web.token("alice", "acme", exp=None),
        "wrong_secret": lambda: rasa_web.token("alice", "acme", key="x" * 40),
        "wrong_audience": lambda: rasa_web.token("alice", "acme", aud="other-app"),
        "wrong_issuer": lambda: rasa_web.token("alice", "acme", iss="https://evil.example"),
        "alg_none": lambda: jwt.encode({"sub": "alice", "team": "acme", "exp": int(time.time()) + 60, "aud": AUDIENCE,
                                        "iss": ISSUER}, None, algorithm="none"),
        "other_rsa_key": lambda: rasa_web.token("alice", "acme", algorithm="RS256", key=rsa_keypair()[0]),
        "no_team": lambda: rasa_web.token("alice", None),
    }[kind]()
    probe = Probe(rasa_web)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await probe.connect(auth={"token": token})


async def test_rs256_token_is_accepted(rasa_web: WebServers) -> None:
    probe = Probe(rasa_web)
    await probe.connect(auth={"token": rasa_web.token("grace", "acme", algorithm="RS256")})
    try:
        assert await probe.session() == "web:acme:grace"
    finally:
        await probe.close()


def polling_handshake(servers: WebServers, origin: str) -> tuple[int, list[str]]:
    request = urllib.request.Request(f"{servers.rasa_url}/socket.io/?EIO=4&transport=polling",
                                     headers={"Origin": origin})
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.headers.get_all("Access-Control-Allow-Origin") or []
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get_all("Access-Control-Allow-Origin") or []


def test_only_allowed_origins_may_connect(rasa_web: WebServers) -> None:
    # exactly one CORS header although `rasa run --cors` (as in scripts/run.sh) adds its own elsewhere
    assert polling_handshake(rasa_web, rasa_web.web_url) == (200, [rasa_web.web_url])
    status, headers = polling_handshake(rasa_web, "http://evil.example")
    assert status == 400 and headers == []


async def test_disallowed_origin_is_refused_for_sockets(rasa_web: WebServers) -> None:
    import socketio

    probe = Probe(rasa_web)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await probe.connect(auth={"token": rasa_web.token("alice", "acme")}, headers={"Origin": "http://evil.example"})


async def test_custom_json_and_images_reach_the_socket(rasa_web: WebServers) -> None:
    """Messages Rasa sends on its own (reminders, `output_channel=latest`) go to the conversation's sockets."""
    probe = Probe(rasa_web)
    await probe.connect(auth={"token": rasa_web.token("heidi", "acme")})
    try:
        await probe.session()
        await probe.say("hi")
        before = len(probe.messages)
        url = (f"{rasa_web.rasa_url}/conversations/web:acme:heidi/tracker/events"
               "?execute_side_effects=true&output_channel=latest")
        event = {"event": "bot", "text": None, "timestamp": time.time(),
                 "data": {"custom": {"kind": "chart", "title": "Power map"}, "image": "https://example.test/c.png"}}
        await asyncio.to_thread(http_json, "POST", url, [event],
                                headers={"Authorization": f"Bearer {rasa_web.api_token}"})
        deadline = time.time() + 30
        while len(probe.messages) < before + 2 and time.time() < deadline:
            await asyncio.sleep(0.1)
        assert probe.messages[before:] == [
            {"kind": "chart", "title": "Power map"},
            {"attachment": {"type": "image", "payload": {"src": "https://example.test/c.png"}}},
        ]
    finally:
        await probe.close()


@pytest.mark.parametrize("lang", list(OVERLONG_UNITS))
async def test_an_over_long_message_is_refused_in_the_reps_language_and_nothing_is_stored(
        rasa_web: WebServers, lang: str) -> None:
    user = f"olga{uuid.uuid4().hex[:6]}"
    name = {"en": "Overlong", "zh-Hans": "超长", "zh-Hant": "超長"}[lang] + uuid.uuid4().hex[:6]
    text = overlong(lang, name)
    probe = Probe(rasa_web)
    await probe.connect(auth={"token": rasa_web.token(user, "initech")})
    try:
        sender = await probe.session()
        replies = await probe.say(text)
    finally:
        await probe.close()
    assert replies == [{"text": refusal(lang, text)}]
    assert user_events(await tracker(rasa_web, sender)) == []     # Rasa never saw it, cut or whole
    assert name not in stored_text(rasa_web.database_url)


@pytest.mark.parametrize("text, metadata, lang", [("预算多少\udfff", None, "zh-Hans"),
                                                  ("hi there", {"page": "crm\ud800"}, "en")])
async def test_text_that_is_not_valid_unicode_gets_a_polite_reply_and_the_server_goes_on(
        rasa_web: WebServers, text: str, metadata: Optional[dict[str, Any]], lang: str) -> None:
    probe = Probe(rasa_web)
    await probe.connect(auth={"token": rasa_web.token("sam", f"team{uuid.uuid4().hex[:6]}")})
    try:
        sender = await probe.session()
        extra = {"metadata": metadata} if metadata else {}
        replies = await probe.say(text, **extra)
        assert replies == [{"text": i18n.render("message_unreadable", lang)}]
        name = "Surrogate Safe Ltd"
        assert "Saved" in await probe.say_text(f"Add account {name}")  # the server goes on
    finally:
        await probe.close()
    assert [e["text"] for e in user_events(await tracker(rasa_web, sender))] == [f"Add account {name}"]


class RawPolling:
    """engine.io polling by hand, to send packets no socket.io client would build."""

    def __init__(self, servers: WebServers) -> None:
        import json

        self.base = f"{servers.rasa_url}/socket.io/?EIO=4&transport=polling"
        status, body = self.request("GET", self.base)
        assert status == 200, body[:200]
        self.sid = json.loads(body[1:].split(b"\x1e")[0])["sid"]
        self.url = f"{self.base}&sid={self.sid}"
        assert self.request("POST", self.url, b"40")[0] == 200
        self.request("GET", self.url)  # the connect acknowledgement

    @staticmethod
    def request(method: str, url: str, body: Optional[bytes] = None) -> tuple[int, bytes]:
        req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "text/plain;charset=UTF-8"})
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def bot_texts(self) -> list[str]:
        import json

        texts: list[str] = []
        deadline = time.time() + 60
        while not texts and time.time() < deadline:
            status, body = self.request("GET", self.url)
            assert status == 200
            for packet in body.split(b"\x1e"):
                if packet == b"2":
                    self.request("POST", self.url, b"3")
                elif packet.startswith(b"42"):
                    event = json.loads(packet[2:])
                    if event[0] == "bot_uttered":
                        texts.append(event[1].get("text", ""))
        return texts


@pytest.mark.parametrize("packet", [
    b'42["user_uttered",' + b"[" * 100_000 + b"]" * 100_000 + b"]",             # nested past Python's recursion limit
    b'42["user_uttered",{"message":"hi","metadata":{"x":' + b"9" * 5000 + b"}}]",  # an integer over the digit limit
    b'42["user_uttered",{"message":"hi"',                                          # cut off
], ids=["nested", "huge-integer", "cut-off"])
def test_an_unreadable_packet_gets_the_polite_reply_not_a_traceback(rasa_web: WebServers, packet: bytes) -> None:
    """Attacker's pass: such packets ended in an unhandled exception with its traceback, and no reply."""
    raw = RawPolling(rasa_web)
    assert raw.request("POST", raw.url, packet)[0] == 200
    assert raw.bot_texts() == [i18n.render("message_unreadable", "en")]
    assert raw.request("POST", raw.url, b'42["user_uttered",{"message":"hi"}]')[0] == 200
    assert raw.bot_texts()  # the socket still works


def test_a_body_that_is_not_utf8_is_a_400(rasa_web: WebServers) -> None:
    raw = RawPolling(rasa_web)
    assert raw.request("POST", raw.url, b'42["user_uttered",{"message":"hi \xff\xfe"}]')[0] == 400
    assert raw.request("POST", raw.url, b'42["user_uttered",{"message":"hi"}]')[0] == 200
    assert raw.bot_texts()
