"""WeCom (企业微信) input and output channel for a self-built WeCom app.

WeCom calls ``/webhooks/wecom/webhook``:

* ``GET`` once, when the callback URL is saved in the admin console: we check
  ``msg_signature`` over (token, timestamp, nonce, echostr), decrypt ``echostr``
  and answer it in plain text.
* ``POST`` for every message: the body is ``<xml><Encrypt>…</Encrypt></xml>``, the
  signature is over (token, timestamp, nonce, Encrypt). We verify, decrypt
  (AES-256-CBC; the receive id inside must be our corp id), answer an empty 200
  at once and process the message in a background task, deduplicated on
  ``MsgId`` (in Redis or the database, `bot.channels.dedupe`) so WeCom's retries and replays
  are handled once, also after a restart.

NUL characters are removed from a text message; one over ``MAX_MESSAGE_CHARS``
(`bot.channels.limits`) never reaches Rasa, the user gets ``message_too_long`` in their
language through the message API instead.

Replies do not go back in the HTTP answer: `WeComOutput` sends them through the
message API (``/cgi-bin/message/send``) with a cached access token. The crypto is
wechatpy's (``wechatpy.enterprise.crypto.WeChatCrypto``).

Nothing a user wrote and no token is logged at INFO or above.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import aiohttp
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.dedupe import Dedupe, dedupe_from_env
from bot.channels.limits import clean, refusal
from bot.dialogue.buttons import choice_number

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"
SENDER_PREFIX = "wecom:"
TEXT_LIMIT_BYTES = 2048          # WeCom truncates text content beyond 2048 bytes
MAX_BODY_BYTES = 256 * 1024      # a callback is a few KB; refuse anything absurd
MAX_IMAGE_BYTES = 10 * 1024 * 1024   # media/upload limit for images
DEFAULT_MAX_SKEW = 300           # seconds a callback timestamp may differ from our clock
DEFAULT_DEDUPE_TTL = 900         # seconds a MsgId is remembered (kept >= 2 x skew)
DEFAULT_BUTTON_TTL = 1800        # seconds numbered options stay answerable
TOKEN_ERRORS = frozenset({40014, 42001, 40001})   # invalid / expired access token

TEXT_ONLY_REPLY = ("我目前只能读文字消息，请直接打字告诉我。\n"
                   "I can read text messages only - please type your message.")
_HINTS = {"en": "Reply with a number to choose.", "zh-Hans": "回复数字即可选择。", "zh-Hant": "回覆數字即可選擇。"}
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")

# ---------------------------------------------------------------- configuration


@dataclass(frozen=True)
class WeComConfig:
    corp_id: str = ""
    agent_id: str = ""
    secret: str = ""
    token: str = ""
    encoding_aes_key: str = ""
    api_base: str = DEFAULT_API_BASE
    max_skew: int = DEFAULT_MAX_SKEW
    dedupe_ttl: int = DEFAULT_DEDUPE_TTL
    button_ttl: int = DEFAULT_BUTTON_TTL

    @classmethod
    def load(cls, credentials: Optional[dict[str, Any]] = None) -> WeComConfig:
        """Values from the credentials dict, each falling back to its environment variable."""
        creds = credentials or {}

        def pick(key: str, env: str, default: str = "") -> str:
            value = creds.get(key)
            if value is None or str(value).strip() == "":
                value = os.environ.get(env, default)
            return str(value or default).strip()

        def number(key: str, env: str, default: int) -> int:
            try:
                return int(pick(key, env, str(default)))
            except ValueError:
                logger.warning("WeCom: %s is not a number; using %s", key, default)
                return default

        return cls(
            corp_id=pick("corp_id", "WECOM_CORP_ID"),
            agent_id=pick("agent_id", "WECOM_AGENT_ID"),
            secret=pick("secret", "WECOM_SECRET"),
            token=pick("token", "WECOM_TOKEN"),
            encoding_aes_key=pick("encoding_aes_key", "WECOM_AES_KEY"),
            api_base=(pick("api_base", "WECOM_API_BASE") or DEFAULT_API_BASE).rstrip("/"),
            max_skew=number("max_timestamp_skew", "WECOM_MAX_TIMESTAMP_SKEW", DEFAULT_MAX_SKEW),
            dedupe_ttl=number("dedupe_ttl", "WECOM_DEDUPE_TTL", DEFAULT_DEDUPE_TTL),
            button_ttl=number("button_ttl", "WECOM_BUTTON_TTL", DEFAULT_BUTTON_TTL),
        )

    def problems(self) -> list[str]:
        """What keeps the channel from working; empty when it is fully configured."""
        missing = [name for name, value in (("corp_id", self.corp_id), ("agent_id", self.agent_id),
                                            ("secret", self.secret), ("token", self.token),
                                            ("encoding_aes_key", self.encoding_aes_key)) if not value]
        problems = [f"{name} is not set" for name in missing]
        if self.encoding_aes_key and not valid_aes_key(self.encoding_aes_key):
            problems.append("encoding_aes_key must be the 43-character EncodingAESKey from the admin console")
        return problems


def valid_aes_key(encoding_aes_key: str) -> bool:
    if len(encoding_aes_key) != 43:
        return False
    try:
        return len(base64.b64decode(encoding_aes_key + "=", validate=True)) == 32
    except (binascii.Error, ValueError):
        return False


# ---------------------------------------------------------------- crypto


class CallbackRejected(Exception):
    """A callback that is not from WeCom for our app (bad signature, stale, undecryptable)."""


def signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    """WeCom's msg_signature: SHA-1 over the four strings, sorted and joined."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode("utf-8")).hexdigest()


class CallbackCrypto:
    """Verifies and decrypts WeCom callbacks with wechatpy's enterprise crypto."""

    def __init__(self, token: str, encoding_aes_key: str, corp_id: str, max_skew: int = DEFAULT_MAX_SKEW) -> None:
        from wechatpy.enterprise.crypto import WeChatCrypto

        self.token = token
        self.corp_id = corp_id
        self.max_skew = max_skew
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)

    def _verify(self, msg_signature: Optional[str], timestamp: Optional[str], nonce: Optional[str],
                encrypted: Optional[str], check_time: bool) -> None:
        if not (msg_signature and timestamp and nonce and encrypted):
            raise CallbackRejected("missing signature parameters")
        expected = signature(self.token, timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, msg_signature.strip().lower()):
            raise CallbackRejected("bad signature")
        if check_time and self.max_skew > 0:
            try:
                sent = int(timestamp)
            except ValueError:
                raise CallbackRejected("timestamp is not a number") from None
            if abs(time.time() - sent) > self.max_skew:
                raise CallbackRejected("timestamp outside the accepted window")

    def verify_url(self, msg_signature: Optional[str], timestamp: Optional[str], nonce: Optional[str],
                   echostr: Optional[str], check_time: bool = True) -> str:
        """The decrypted echostr of a URL verification request."""
        self._verify(msg_signature, timestamp, nonce, echostr, check_time)
        try:
            return self._crypto.check_signature(msg_signature, timestamp, nonce, echostr)
        except Exception as exc:  # noqa: BLE001 - any failure means "not for us"
            raise CallbackRejected(f"echostr does not decrypt ({type(exc).__name__})") from None

    def decrypt(self, msg_signature: Optional[str], timestamp: Optional[str], nonce: Optional[str],
                encrypted: Optional[str], check_time: bool = True) -> str:
        """The plain XML of a message callback whose Encrypt field is `encrypted`."""
        self._verify(msg_signature, timestamp, nonce, encrypted, check_time)
        try:
            return self._crypto.decrypt_message({"Encrypt": encrypted}, msg_signature, timestamp, nonce)
        except Exception as exc:  # noqa: BLE001 - wrong corp id, bad padding, garbage
            raise CallbackRejected(f"message does not decrypt ({type(exc).__name__})") from None


#: the fields of a decrypted callback this channel reads: each must be one plain text element
MESSAGE_FIELDS = ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "AgentID", "Event",
                  "EventKey")


def parse_xml(text: str) -> dict[str, Any]:
    """The children of the root ``<xml>`` element (entities are refused)."""
    import xmltodict

    doc = xmltodict.parse(text, disable_entities=True)
    root = doc.get("xml") if isinstance(doc, dict) else None
    if not isinstance(root, dict):
        raise ValueError("no <xml> root")
    return root


def malformed_fields(message: dict[str, Any]) -> list[str]:
    """The message fields that are not one element of plain text (repeated, nested, attributes)."""
    return [name for name in MESSAGE_FIELDS if name in message and message[name] is not None
            and not isinstance(message[name], str)]


# ---------------------------------------------------------------- numbered buttons


class ButtonMemory:
    """The options last offered to each sender, answerable by number for `ttl` seconds."""

    def __init__(self, ttl: int = DEFAULT_BUTTON_TTL, max_senders: int = 50_000) -> None:
        self.ttl = ttl
        self._options: OrderedDict[str, tuple[float, list[str]]] = OrderedDict()
        self._max = max_senders

    def remember(self, sender_id: str, payloads: list[str]) -> None:
        self._options[sender_id] = (time.monotonic() + self.ttl, list(payloads))
        self._options.move_to_end(sender_id)
        while len(self._options) > self._max:
            self._options.popitem(last=False)

    def take(self, sender_id: str) -> Optional[list[str]]:
        """The sender's live options, forgotten once read (they answer the next message only)."""
        entry = self._options.pop(sender_id, None)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]


def hint_language(text: str) -> str:
    """zh-Hant / zh-Hans when the text has CJK characters (script by majority), else en."""
    if not _CJK.search(text or ""):
        return "en"
    try:
        from bot.language import script_counts

        trad, simp = script_counts(text)
    except Exception:  # noqa: BLE001 - OpenCC missing: simplified is the safe default
        return "zh-Hans"
    return "zh-Hant" if trad > simp else "zh-Hans"


def render_options(text: str, buttons: list[dict[str, Any]], start: int = 1) -> tuple[str, list[str]]:
    """The message with numbered options and a hint, and the payload of each number."""
    lines: list[str] = []
    payloads: list[str] = []
    for offset, button in enumerate(buttons):
        title = str(button.get("title") or button.get("payload") or "").strip()
        payload = str(button.get("payload") or title)
        url = button.get("url")
        lines.append(f"{start + offset}. {title}" + (f" {url}" if url else ""))
        payloads.append(payload)
    sample = text or " ".join(str(b.get("title") or "") for b in buttons)
    body = "\n".join(part for part in [(text or "").rstrip(), "\n".join(lines), _HINTS[hint_language(sample)]] if part)
    return body, payloads


# ---------------------------------------------------------------- text splitting


def split_utf8(text: str, limit: int = TEXT_LIMIT_BYTES) -> list[str]:
    """Splits text into pieces of at most `limit` UTF-8 bytes, never inside a character.

    A piece ends at the last line break that fits when that keeps it at least half
    full (the break itself is dropped), otherwise at the last whole character that fits.
    """
    if limit < 4:
        raise ValueError("limit must allow one UTF-8 character")
    data = (text or "").encode("utf-8")
    pieces: list[str] = []
    while len(data) > limit:
        window = data[:limit + 1]            # a break right after the limit still counts
        cut = window.rfind(b"\n")
        if cut >= limit // 2:
            head, data = data[:cut], data[cut + 1:]
        else:
            cut = limit
            while cut > 0 and (data[cut] & 0xC0) == 0x80:   # continuation byte: back off
                cut -= 1
            head, data = data[:cut], data[cut:]
        if head.strip():
            pieces.append(head.decode("utf-8"))
    if data.strip():
        pieces.append(data.decode("utf-8"))
    return pieces


# ---------------------------------------------------------------- WeCom API client


class WeComError(Exception):
    def __init__(self, errcode: Any, where: str) -> None:
        super().__init__(f"WeCom {where} failed with errcode {errcode}")
        self.errcode = errcode


class WeComClient:
    """Calls the WeCom server API with one access token shared by all messages.

    The token is fetched on first use, kept until shortly before ``expires_in``
    and fetched again (once) when a call reports it invalid or expired.
    """

    def __init__(self, config: WeComConfig, timeout: float = 15) -> None:
        self.config = config
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._lock: Optional[asyncio.Lock] = None
        self._token: Optional[str] = None
        self._token_expires = 0.0

    def _ensure_loop_state(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._session is None or self._session.closed:
            self._loop = loop
            self._lock = asyncio.Lock()
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _get_json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        session = self._ensure_loop_state()
        async with session.request(method, f"{self.config.api_base}{path}", **kwargs) as resp:
            raw = await resp.text()
        try:
            data = json.loads(raw)
        except ValueError:
            raise WeComError(f"http-{resp.status}", path) from None
        return data if isinstance(data, dict) else {}

    async def access_token(self, stale: Optional[str] = None) -> str:
        """The cached token; a fresh one when none is cached, it is near expiry or it is `stale`."""
        self._ensure_loop_state()
        assert self._lock is not None
        async with self._lock:
            if self._token and time.monotonic() < self._token_expires and self._token != stale:
                return self._token
            data = await self._get_json("GET", "/cgi-bin/gettoken",
                                        params={"corpid": self.config.corp_id, "corpsecret": self.config.secret})
            token = data.get("access_token")
            if data.get("errcode", 0) != 0 or not token:
                raise WeComError(data.get("errcode"), "gettoken")
            expires_in = int(data.get("expires_in") or 7200)
            margin = min(300.0, expires_in * 0.1)
            self._token, self._token_expires = str(token), time.monotonic() + expires_in - margin
            logger.debug("WeCom: fetched an access token valid for %ss", expires_in)
            return self._token

    async def call(self, method: str, path: str, params: Optional[dict[str, str]] = None,
                   json_body: Optional[dict[str, Any]] = None,
                   form: Optional[Callable[[], aiohttp.FormData]] = None) -> dict[str, Any]:
        """An API call with the access token; on a token error, one refresh and one retry."""
        stale: Optional[str] = None
        data: dict[str, Any] = {}
        for _attempt in range(2):
            token = await self.access_token(stale=stale)
            query = {**(params or {}), "access_token": token}
            data = await self._get_json(method, path, params=query, json=json_body,
                                        data=form() if form is not None else None)
            if data.get("errcode") in TOKEN_ERRORS:
                logger.debug("WeCom: access token rejected (errcode %s), refreshing", data.get("errcode"))
                stale = token
                continue
            break
        return data

    async def send(self, touser: str, msgtype: str, content: dict[str, Any]) -> bool:
        body = {"touser": touser, "msgtype": msgtype, "agentid": _agent_id(self.config.agent_id),
                msgtype: content, "safe": 0}
        try:
            data = await self.call("POST", "/cgi-bin/message/send", json_body=body)
        except (aiohttp.ClientError, asyncio.TimeoutError, WeComError) as exc:
            logger.warning("WeCom: sending a %s message failed (%s)", msgtype, _describe(exc))
            return False
        if data.get("errcode", 0) != 0:
            logger.warning("WeCom: sending a %s message failed with errcode %s", msgtype, data.get("errcode"))
            return False
        return True

    async def upload_image(self, path: Path) -> Optional[str]:
        """Uploads a picture as temporary media; its media_id, or None."""
        try:
            content = path.read_bytes()
        except OSError as exc:
            logger.warning("WeCom: cannot read picture for upload (%s)", type(exc).__name__)
            return None
        if not 5 <= len(content) <= MAX_IMAGE_BYTES:
            logger.warning("WeCom: picture of %s bytes is outside the upload limits", len(content))
            return None

        def form() -> aiohttp.FormData:
            data = aiohttp.FormData()
            data.add_field("media", content, filename=path.name, content_type="image/png")
            return data

        try:
            data = await self.call("POST", "/cgi-bin/media/upload", params={"type": "image"}, form=form)
        except (aiohttp.ClientError, asyncio.TimeoutError, WeComError) as exc:
            logger.warning("WeCom: picture upload failed (%s)", _describe(exc))
            return None
        if data.get("errcode", 0) != 0 or not data.get("media_id"):
            logger.warning("WeCom: picture upload failed with errcode %s", data.get("errcode"))
            return None
        return str(data["media_id"])


def _agent_id(agent_id: str) -> Any:
    return int(agent_id) if str(agent_id).isdigit() else agent_id


def _describe(exc: BaseException) -> str:
    """An exception for the log without its message (aiohttp's carry URLs with the token)."""
    if isinstance(exc, WeComError):
        return f"errcode {exc.errcode}"
    return type(exc).__name__


# ---------------------------------------------------------------- output channel


class WeComOutput(OutputChannel):
    """Sends the bot's messages to one WeCom user through the message API."""

    @classmethod
    def name(cls) -> str:
        return "wecom"

    def __init__(self, client: WeComClient, buttons: ButtonMemory) -> None:
        self.client = client
        self.buttons = buttons
        self._offered: dict[str, list[str]] = {}   # options offered by this reply, per recipient

    def _touser(self, recipient_id: str) -> Optional[str]:
        prefix = f"{SENDER_PREFIX}{self.client.config.corp_id}:"
        user = recipient_id[len(prefix):] if recipient_id.startswith(prefix) else ""
        if not user or "|" in user or user.lower() == "@all":
            logger.warning("WeCom: not sending to a recipient outside this corp")
            return None
        return user

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        touser = self._touser(recipient_id)
        if touser is None:
            return
        for piece in split_utf8(text):
            await self.client.send(touser, "text", {"content": piece})

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        offered = self._offered.setdefault(recipient_id, [])
        body, payloads = render_options(text, buttons, start=len(offered) + 1)
        offered.extend(payloads)
        self.buttons.remember(recipient_id, offered)
        await self.send_text_message(recipient_id, body)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        from bot.media import local_path

        touser = self._touser(recipient_id)
        if touser is None:
            return
        path = local_path(image)
        if path is not None:
            media_id = await self.client.upload_image(path)
            if media_id and await self.client.send(touser, "image", {"media_id": media_id}):
                return
        await self.send_text_message(recipient_id, image)

    async def send_attachment(self, recipient_id: str, attachment: Any, **kwargs: Any) -> None:
        await self.send_text_message(recipient_id, str(attachment))

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A custom payload ``{"msgtype": …, <msgtype>: {…}}`` is sent as that WeCom message."""
        touser = self._touser(recipient_id)
        msgtype = json_message.get("msgtype") if isinstance(json_message, dict) else None
        if touser is None or not isinstance(msgtype, str) or not isinstance(json_message.get(msgtype), dict):
            logger.debug("WeCom: custom payload without a WeCom msgtype ignored")
            return
        await self.client.send(touser, msgtype, json_message[msgtype])


# ---------------------------------------------------------------- input channel


OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class WeComInput(InputChannel):
    """Receives a self-built WeCom app's callbacks (see docs/channels-wecom.md)."""

    @classmethod
    def name(cls) -> str:
        return "wecom"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> WeComInput:
        return cls(WeComConfig.load(credentials))

    def __init__(self, config: WeComConfig, dedupe: Optional[Dedupe] = None) -> None:
        self.config = config
        self.problems = config.problems()
        self.crypto: Optional[CallbackCrypto] = None
        if self.problems:
            logger.warning("WeCom channel is not configured (%s); /webhooks/wecom answers 503",
                           "; ".join(self.problems))
        else:
            self.crypto = CallbackCrypto(config.token, config.encoding_aes_key, config.corp_id, config.max_skew)
        self.client = WeComClient(config)
        self.dedupe: Dedupe = dedupe if dedupe is not None else dedupe_from_env("wecom:")
        self.buttons = ButtonMemory(ttl=config.button_ttl)
        self.dedupe_ttl = max(config.dedupe_ttl, 2 * config.max_skew)
        self._tasks: set[asyncio.Task] = set()
        self._sender_locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @property
    def configured(self) -> bool:
        return self.crypto is not None

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WeComOutput(self.client, self.buttons) if self.configured else None

    def sender_id(self, user: str) -> str:
        """The conversation id of a WeCom user: ``wecom:<corp>:<user>`` (a namespace no REST sender may use)."""
        return f"{SENDER_PREFIX}{self.config.corp_id}:{user}"

    # ------------------------------------------------------------ HTTP

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        bp = Blueprint("wecom_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.configured:
                return response.json({"status": "not configured"}, status=503)
            return response.json({"status": "ok"})

        @bp.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.crypto is None:
                return response.text("WeCom channel not configured", status=503)
            args = request.args
            try:
                echo = self.crypto.verify_url(args.get("msg_signature"), args.get("timestamp"), args.get("nonce"),
                                              args.get("echostr"))
            except CallbackRejected as exc:
                logger.warning("WeCom: URL verification rejected: %s", exc)
                return response.text("forbidden", status=403)
            return response.text(echo)

        @bp.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.crypto is None:
                return response.text("WeCom channel not configured", status=503)
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return response.text("too large", status=413)
            try:
                encrypted = parse_xml(body.decode("utf-8")).get("Encrypt")
            except Exception:  # noqa: BLE001 - not XML, not UTF-8, entities, …
                encrypted = None
            args = request.args
            try:
                plain = self.crypto.decrypt(args.get("msg_signature"), args.get("timestamp"), args.get("nonce"),
                                            encrypted if isinstance(encrypted, str) else None)
                message = parse_xml(plain)
            except CallbackRejected as exc:
                logger.warning("WeCom: callback rejected: %s", exc)
                return response.text("forbidden", status=403)
            except Exception as exc:  # noqa: BLE001 - signed but unreadable inner XML
                logger.warning("WeCom: callback rejected: inner XML unreadable (%s)", type(exc).__name__)
                return response.text("forbidden", status=403)
            bad = malformed_fields(message)
            if bad:
                logger.warning("WeCom: signed callback refused: %s not plain text", ", ".join(bad))
                return response.text("malformed", status=400)
            await self._accept(message, on_new_message)
            return response.text("")

        @bp.listener("after_server_stop")
        async def close(*_: Any) -> None:
            await self.close()

        return bp

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.client.close()
        await self.dedupe.close()

    # ------------------------------------------------------------ processing

    def _dedupe_key(self, msg: dict[str, Any]) -> str:
        msg_id = msg.get("MsgId")
        if msg_id:
            return f"{self.config.corp_id}:{self.config.agent_id}:{msg_id}"
        parts = (msg.get("FromUserName"), msg.get("CreateTime"), msg.get("MsgType"), msg.get("Event"),
                 msg.get("EventKey"))
        return f"{self.config.corp_id}:{self.config.agent_id}:ev:" + hashlib.sha1(repr(parts).encode()).hexdigest()

    async def _accept(self, msg: dict[str, Any], on_new_message: OnNewMessage) -> None:
        """Dedupes and schedules a decrypted callback; returns at once."""
        agent = str(msg.get("AgentID") or "").strip()
        if agent and self.config.agent_id and agent != self.config.agent_id:
            logger.warning("WeCom: callback for another agent ignored")
            return
        if not msg.get("FromUserName"):
            logger.debug("WeCom: callback without a sender ignored")
            return
        if not await self.dedupe.first_seen(self._dedupe_key(msg), self.dedupe_ttl):
            logger.debug("WeCom: duplicate callback ignored (MsgId %s)", msg.get("MsgId"))
            return
        task = asyncio.create_task(self._process(msg, on_new_message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, msg: dict[str, Any], on_new_message: OnNewMessage) -> None:
        user = str(msg.get("FromUserName"))
        sender = self.sender_id(user)
        msg_type = str(msg.get("MsgType") or "").lower()
        try:
            async with self._sender_lock(sender):
                if msg_type == "text":
                    await self._handle_text(sender, user, msg, on_new_message)
                elif msg_type == "event":
                    logger.debug("WeCom: event %s ignored", msg.get("Event"))
                else:
                    logger.debug("WeCom: %s message answered with the text-only note", msg_type)
                    await WeComOutput(self.client, self.buttons).send_text_message(sender, TEXT_ONLY_REPLY)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a background task must not die silently
            logger.error("WeCom: processing a %s message failed (%s)", msg_type, type(exc).__name__)
            logger.debug("WeCom: processing failure details", exc_info=True)

    async def _handle_text(self, sender: str, user: str, msg: dict[str, Any], on_new_message: OnNewMessage) -> None:
        text = clean(str(msg.get("Content") or "")).strip()
        instead = refusal(text)
        if instead:
            # Never handed to Rasa; the options offered before stay answerable.
            logger.info("WeCom: refused a message of %s characters (over the limit)", len(text))
            await WeComOutput(self.client, self.buttons).send_text_message(sender, instead)
            return
        options = self.buttons.take(sender)
        number = choice_number(text) if options else None
        chose = None
        if options and number is not None and 1 <= number <= len(options):
            text, chose = options[number - 1], number
        if not text:
            return
        metadata = {
            "identity": {"team": self.config.corp_id, "user": user},
            "wecom": {"agent_id": self.config.agent_id, "msg_id": msg.get("MsgId"), "msg_type": "text",
                      "create_time": msg.get("CreateTime"), "chose_option": chose},
        }
        await on_new_message(UserMessage(text, WeComOutput(self.client, self.buttons), sender,
                                         input_channel=self.name(), message_id=_message_id(msg),
                                         metadata=metadata))

    @contextlib.asynccontextmanager
    async def _sender_lock(self, sender: str) -> AsyncIterator[None]:
        """Messages of one sender are handled one after another, in arrival order."""
        lock, users = self._sender_locks.get(sender) or (asyncio.Lock(), 0)
        self._sender_locks[sender] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._sender_locks[sender]
            if users <= 1:
                self._sender_locks.pop(sender, None)
            else:
                self._sender_locks[sender] = (lock, users - 1)


def _message_id(msg: dict[str, Any]) -> Optional[str]:
    msg_id = msg.get("MsgId")
    return f"wecom-{msg_id}" if msg_id else None


__all__ = ["WeComInput", "WeComOutput", "WeComClient", "WeComConfig", "CallbackCrypto", "ButtonMemory",
           "split_utf8", "choice_number", "render_options", "signature"]
