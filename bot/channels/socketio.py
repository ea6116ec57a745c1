"""The web widget's socket.io channel, where the server decides who is talking.

Configured in ``credentials.yml`` as ``bot.channels.socketio.WebInput`` (channel
name ``web``). Two kinds of sockets:

* **Signed**: the host page's server mints a short-lived JWT for its logged-in
  user (``sub`` = user, ``team`` = team; HS256 with ``WEB_JWT_SECRET`` or RS256
  checked with ``WEB_JWT_PUBLIC_KEY``; ``exp`` required and at most ``WEB_JWT_MAX_LIFETIME`` seconds (24 h) ahead,
  ``aud``/``iss`` checked
  when ``WEB_JWT_AUDIENCE``/``WEB_JWT_ISSUER`` are set) and the widget passes it
  as ``auth={"token": ...}`` on connect. A bad or expired token is refused. The
  conversation id is ``web:<team>:<user>`` and every message carries
  ``metadata["identity"] = {"team": ..., "user": ...}`` (trusted by
  `bot.identity` for this channel only); the client's ``session_id`` is ignored.
* **Anonymous** (the demo page; refused when ``WEB_REQUIRE_TOKEN=true``): the
  server issues a session id ``<random>.<HMAC>`` (key ``WEB_SESSION_SECRET``, or
  a random key kept in ``var/web_session.key``). Presenting it again (on
  connect as ``auth={"session_id": ...}``, in ``session_request`` or with a
  message) resumes that conversation; anything the server did not sign starts a
  fresh one. Anonymous messages carry no identity, so each is its own solo team.

Client-sent ``metadata["identity"]`` is always dropped. NUL characters are removed
from a message, and one over ``MAX_MESSAGE_CHARS`` (`bot.channels.limits`) is not
processed: the socket gets the polite ``message_too_long`` reply in the rep's
language instead. Browser origins are
limited to ``WEB_ALLOWED_ORIGINS`` (comma list; default the local web page,
``http://127.0.0.1:8000`` and ``http://localhost:8000``). The events stay those of
Rasa's socket.io channel (``session_request``/``session_confirm``, ``user_uttered``,
``bot_uttered``), so socket.io-client 4.x and Rasa-compatible widgets work.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional
from urllib.parse import quote

import jwt
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as Refused
from socketio.packet import Packet

from bot import REPO_DIR
from bot.channels.limits import (
    MAX_METADATA_BYTES,
    PacketJson,
    clean,
    invalid_unicode,
    metadata_refused,
    too_long_reply,
    unreadable_reply,
)

logger = logging.getLogger(__name__)

MAX_TOKEN_CHARS = 8192
DEFAULT_MAX_LIFETIME_SECONDS = 24 * 3600
MAX_CLAIM_CHARS = 128
DEFAULT_LEEWAY_SECONDS = 10
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SESSION = re.compile(r"^([A-Za-z0-9_-]{24})\.([A-Za-z0-9_-]{32})$")
ANON_PREFIX = "web-anon:"


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# --------------------------------------------------------------------------- identity from tokens


class TokenError(Exception):
    """The token cannot be trusted (bad signature, expired, wrong audience, ...)."""


@dataclass(frozen=True)
class WebIdentity:
    """The verified user and team of a signed socket."""

    team: str
    user: str

    @property
    def sender_id(self) -> str:
        # Percent-encode so that "a:b" + "c" and "a" + "b:c" never share a conversation.
        return f"web:{quote(self.team, safe='')}:{quote(self.user, safe='')}"

    def metadata(self) -> dict[str, str]:
        return {"team": self.team, "user": self.user}


def _load_public_key(value: Optional[str]) -> Optional[str]:
    """A PEM public key given inline or as a path to a PEM file."""
    if not value:
        return None
    value = value.strip()
    if value.startswith("-----BEGIN"):
        return value.replace("\\n", "\n")
    return Path(value).read_text()


class TokenVerifier:
    """Checks the widget's JWTs: HS256 with a shared secret and/or RS256 with a public key."""

    def __init__(self, secret: Optional[str] = None, public_key: Optional[str] = None,
                 audience: Optional[str] = None, issuer: Optional[str] = None,
                 leeway: float = DEFAULT_LEEWAY_SECONDS, max_lifetime: float = DEFAULT_MAX_LIFETIME_SECONDS) -> None:
        self.max_lifetime = max_lifetime
        self.secret = secret or None
        self.public_key = public_key or None
        self.audience = audience or None
        self.issuer = issuer or None
        self.leeway = leeway

    @classmethod
    def from_env(cls) -> TokenVerifier:
        return cls(secret=os.environ.get("WEB_JWT_SECRET"),
                   public_key=_load_public_key(os.environ.get("WEB_JWT_PUBLIC_KEY")),
                   audience=os.environ.get("WEB_JWT_AUDIENCE"), issuer=os.environ.get("WEB_JWT_ISSUER"),
                   leeway=float(os.environ.get("WEB_JWT_LEEWAY", DEFAULT_LEEWAY_SECONDS)),
                   max_lifetime=float(os.environ.get("WEB_JWT_MAX_LIFETIME", DEFAULT_MAX_LIFETIME_SECONDS)))

    @property
    def configured(self) -> bool:
        return bool(self.secret or self.public_key)

    def verify(self, token: Any) -> WebIdentity:
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_CHARS or invalid_unicode(token):
            raise TokenError("malformed token")
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.PyJWTError as exc:
            raise TokenError("malformed token") from exc
        # The key is chosen by the algorithm we configured, never the other way round,
        # so an RS256 public key can never be used as an HS256 secret.
        if algorithm == "HS256" and self.secret:
            key: Any = self.secret
        elif algorithm == "RS256" and self.public_key:
            key = self.public_key
        else:
            raise TokenError(f"token algorithm {algorithm!r} is not accepted")
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm], audience=self.audience, issuer=self.issuer,
                                leeway=self.leeway, options={"require": ["exp", "sub"]})
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires - time.time() > self.max_lifetime + self.leeway:
            raise TokenError("token lives longer than WEB_JWT_MAX_LIFETIME")  # a leaked token must not last years
        user, team = claims.get("sub"), claims.get("team")
        for label, value in (("sub", user), ("team", team)):
            if not isinstance(value, str) or not value.strip() or len(value) > MAX_CLAIM_CHARS \
                    or _CONTROL.search(value):
                raise TokenError(f"claim {label!r} missing or invalid")
        return WebIdentity(team=team.strip(), user=user.strip())


# --------------------------------------------------------------------------- anonymous sessions


def session_secret(path: Optional[Path] = None) -> bytes:
    """``WEB_SESSION_SECRET``, or a random key created once and kept in ``var/web_session.key``."""
    configured = os.environ.get("WEB_SESSION_SECRET")
    if configured:
        return configured.encode()
    path = path or REPO_DIR / "var" / "web_session.key"
    try:
        existing: Optional[str] = path.read_text().strip()
    except FileNotFoundError:
        existing = None
    except OSError as exc:
        logger.warning("cannot read %s (%s); anonymous web sessions won't survive a restart", path, exc)
        return secrets.token_hex(32).encode()
    if existing is not None:
        if len(existing) >= 32:
            return existing.encode()
        logger.warning("%s holds no usable key; anonymous web sessions won't survive a restart", path)
        return secrets.token_hex(32).encode()
    key = secrets.token_hex(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key)
        try:
            os.link(tmp, path)  # atomic create-if-absent: with two processes starting, one key wins
        except FileExistsError:
            return path.read_text().strip().encode()
    except OSError as exc:
        logger.warning("cannot keep the web session key in %s (%s); sessions won't survive a restart", path, exc)
    finally:
        tmp.unlink(missing_ok=True)
    return key.encode()


class SessionSigner:
    """Issues and checks anonymous session ids ``<random>.<HMAC-SHA256>``."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the web session secret must be at least 16 bytes")
        self._secret = secret

    def _mac(self, nonce: str) -> str:
        digest = hmac.new(self._secret, f"web-session:{nonce}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:24]).decode()

    def issue(self) -> str:
        nonce = secrets.token_urlsafe(18)
        return f"{nonce}.{self._mac(nonce)}"

    def verify(self, session_id: Any) -> Optional[str]:
        """The session's nonce if the server signed this id, else None."""
        if not isinstance(session_id, str):
            return None
        match = _SESSION.match(session_id)
        if not match or not hmac.compare_digest(match.group(2), self._mac(match.group(1))):
            return None
        return match.group(1)

    @staticmethod
    def sender_id(nonce: str) -> str:
        return f"{ANON_PREFIX}{nonce}"


# --------------------------------------------------------------------------- origins


def allowed_origins(value: Optional[str] = None) -> list[str]:
    """``WEB_ALLOWED_ORIGINS`` as a list; ``*`` allows any origin (development only)."""
    value = os.environ.get("WEB_ALLOWED_ORIGINS") if value is None else value
    if not value or not value.strip():
        port = os.environ.get("WEB_PORT", "8000")
        return [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]
    origins = [o.strip().rstrip("/") for o in value.split(",") if o.strip()]
    return ["*"] if "*" in origins else origins


# --------------------------------------------------------------------------- socket.io


class WebOutput(SocketIOOutput):
    """Rasa's socket.io output, addressed to the conversation's room in the right namespace."""

    @classmethod
    def name(cls) -> str:
        return WebInput.name()

    def __init__(self, sio: AsyncServer, bot_message_evt: str, namespace: Optional[str] = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace

    async def _send_message(self, socket_id: str, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        # Rasa's version passes the JSON's keys as emit() arguments; send it as the event's data.
        await self._send_message(recipient_id, json_message)


class _SafePacket(Packet):
    """socket.io packets decoded with `PacketJson` (an unreadable packet becomes a polite reply)."""

    json = PacketJson


def _utf8(body: Optional[bytes]) -> bool:
    try:
        (body or b"").decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class _WebBlueprint(SocketBlueprint):
    """Attaches socket.io and lets engine.io alone answer CORS for the socket.io path.

    `rasa run --cors ...` adds its own CORS headers to every route; two
    Access-Control-Allow-Origin headers would make browsers reject polling.
    """

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        path = "/" + self.ctx.socketio_path.strip("/")

        async def socketio_cors_by_engineio(request: Request) -> Optional[HTTPResponse]:
            if request.path == path or request.path.startswith(path + "/"):
                if request.method == "POST" and not _utf8(request.body):  # engine.io would log a traceback
                    return response.text("the body is not UTF-8", status=400)
                try:
                    from sanic_cors.core import SANIC_CORS_EVALUATED
                except ImportError:  # pragma: no cover - sanic-cors always comes with rasa
                    return None
                setattr(request.ctx, SANIC_CORS_EVALUATED, True)
            return None

        app.register_middleware(socketio_cors_by_engineio, "request")
        super().register(app, options)


class WebInput(SocketIOInput):
    """socket.io channel ``web`` with server-side identity (see the module docstring)."""

    @classmethod
    def name(cls) -> str:
        return "web"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            credentials.get("session_persistence", True),
            credentials.get("socketio_path", "/socket.io"),
            metadata_key=credentials.get("metadata_key", "metadata"),
        )

    def __init__(self, user_message_evt: str = "user_uttered", bot_message_evt: str = "bot_uttered",
                 namespace: Optional[str] = None, session_persistence: bool = True,
                 socketio_path: Optional[str] = "/socket.io", jwt_key: Optional[str] = None,
                 jwt_method: Optional[str] = "HS256", metadata_key: Optional[str] = "metadata", *,
                 verifier: Optional[TokenVerifier] = None, signer: Optional[SessionSigner] = None,
                 require_token: Optional[bool] = None, origins: Optional[Iterable[str]] = None) -> None:
        super().__init__(user_message_evt, bot_message_evt, namespace, session_persistence, socketio_path,
                         None, jwt_method, metadata_key)
        if jwt_key:
            logger.warning("web channel: `jwt_key` in credentials.yml is ignored; set WEB_JWT_SECRET instead")
        self.verifier = verifier or TokenVerifier.from_env()
        self.signer = signer or SessionSigner(session_secret())
        self.require_token = _env_flag("WEB_REQUIRE_TOKEN") if require_token is None else require_token
        self.origins = list(origins) if origins is not None else allowed_origins()
        if self.require_token and not self.verifier.configured:
            logger.warning("WEB_REQUIRE_TOKEN is set but neither WEB_JWT_SECRET nor WEB_JWT_PUBLIC_KEY: "
                           "every web connection will be refused")

    def get_output_channel(self) -> Optional[OutputChannel]:
        if self.sio is None:
            return super().get_output_channel()
        return WebOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        cors: Any = "*" if self.origins == ["*"] else self.origins
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=cors, cors_credentials=False,
                          serializer=_SafePacket)  # not json=: engine.io relies on the stock codec's errors
        bp = _WebBlueprint(sio, self.socketio_path, "web_webhook", __name__)
        self.sio = sio
        namespace = self.namespace

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def join(sid: str, session: dict[str, Any], sender_id: str) -> None:
            old = session.get("sender_id")
            if old == sender_id:
                return
            if old:
                await sio.leave_room(sid, old, namespace=namespace)
            session["sender_id"] = sender_id
            await sio.enter_room(sid, sender_id, namespace=namespace)

        async def resume_anonymous(sid: str, session: dict[str, Any], presented: Any) -> bool:
            """Switches an anonymous socket to a session the server signed; False if it is not one."""
            if not self.session_persistence:
                return False
            nonce = self.signer.verify(presented)
            if nonce is None:
                if presented:
                    logger.info("web socket %s presented a session id the server did not sign", sid)
                return False
            session["session_id"] = presented
            await join(sid, session, self.signer.sender_id(nonce))
            return True

        async def new_anonymous(sid: str, session: dict[str, Any]) -> None:
            session_id = self.signer.issue()
            session["session_id"] = session_id
            await join(sid, session, self.signer.sender_id(session_id.split(".", 1)[0]))

        @sio.on("connect", namespace=namespace)
        async def connect(sid: str, environ: dict, auth: Optional[dict] = None) -> bool:
            auth = auth if isinstance(auth, dict) else {}
            session: dict[str, Any] = {}
            token = auth.get("token")
            if token:
                try:
                    identity = self.verifier.verify(token)
                except TokenError as exc:
                    logger.info("web socket %s refused: %s", sid, exc)
                    raise Refused("invalid token") from None
                session.update(signed=True, identity=identity.metadata(), session_id=identity.sender_id)
                await join(sid, session, identity.sender_id)
            elif self.require_token:
                logger.info("web socket %s refused: no token", sid)
                raise Refused("token required")
            else:
                session["signed"] = False
                await resume_anonymous(sid, session, auth.get("session_id"))
            await sio.save_session(sid, session, namespace=namespace)
            logger.debug("web socket %s connected (%s)", sid, "signed" if session["signed"] else "anonymous")
            return True

        @sio.on("session_request", namespace=namespace)
        async def session_request(sid: str, data: Any = None) -> None:
            session = await sio.get_session(sid, namespace=namespace)
            if not session.get("signed"):
                presented = data.get("session_id") if isinstance(data, dict) else None
                if not await resume_anonymous(sid, session, presented) and not session.get("sender_id"):
                    await new_anonymous(sid, session)
                await sio.save_session(sid, session, namespace=namespace)
            await sio.emit("session_confirm", session["session_id"], room=sid, namespace=namespace)

        @sio.on(PacketJson.UNREADABLE_EVENT, namespace=namespace)
        async def unreadable(sid: str, *_: Any) -> None:
            logger.info("web socket %s: a packet that is not readable JSON was answered politely", sid)
            await sio.emit(self.bot_message_evt, {"text": unreadable_reply()}, room=sid, namespace=namespace)

        @sio.on(self.user_message_evt, namespace=namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            text = data.get("message", "")
            if not isinstance(text, str):
                return
            text = clean(text)
            if not text.strip():
                return
            session = await sio.get_session(sid, namespace=namespace)
            if not session.get("signed"):
                presented = data.get("session_id")
                if presented != session.get("session_id"):
                    await resume_anonymous(sid, session, presented)
                if not session.get("sender_id"):
                    await new_anonymous(sid, session)
                    await sio.emit("session_confirm", session["session_id"], room=sid, namespace=namespace)
                await sio.save_session(sid, session, namespace=namespace)

            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata) if len(metadata) <= MAX_METADATA_BYTES else {}
                except (ValueError, RecursionError):
                    metadata = {}
            metadata = {k: v for k, v in metadata.items() if k != "identity"} if isinstance(metadata, dict) else {}
            if metadata_refused(metadata) and not invalid_unicode(metadata):
                metadata = {}  # too big or too deep: dropped (it is optional); the message itself goes on
            if session.get("signed"):
                metadata["identity"] = dict(session["identity"])

            output = WebOutput(sio, self.bot_message_evt, namespace)
            instead = unreadable_reply(text) if invalid_unicode([text, metadata]) else too_long_reply(text)
            if instead:  # never cut and handed on: the rep is told, in their language, and Rasa sees nothing
                logger.info("web socket %s: refused a message (%s characters; unreadable or over the limit)", sid,
                            len(text))
                await output.send_text_message(session["sender_id"], instead)
                return
            message = UserMessage(text, output, session["sender_id"], input_channel=self.name(), metadata=metadata)
            await on_new_message(message)

        return bp
