"""WeCom channel: published crypto vectors, webhook security, dedupe, token refresh and output rules.

Everything talks real HTTP on 127.0.0.1: a fake WeCom API (aiohttp, in a thread) plays
``qyapi.weixin.qq.com``; the channel's blueprint runs in a real Sanic server, first with
a stand-in for Rasa's agent (it answers through the channel's own output channel), and at
the end inside ``rasa run`` with the trained model and the action server.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Optional

import aiohttp
import pytest
import xmltodict
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from sanic import Sanic
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.channels.dedupe import MemoryDedupe, RedisDedupe, dedupe_from_env
from bot.channels.limits import max_message_chars
from bot.channels.wecom import (
    TEXT_ONLY_REPLY,
    CallbackCrypto,
    CallbackRejected,
    WeComConfig,
    WeComInput,
    split_utf8,
)
from bot.dialogue.buttons import choice_number
from tests.channels.limits import OVERLONG_UNITS, overlong, refusal, stored_text
from tests.conftest import MODEL_PATH
from tests.servers import Servers

# WeCom's published sample (WXBizMsgCrypt sample code, "验证回调URL" and "对用户回复的消息解密").
VECTOR_CORP = "wx5823bf96d3bd56c7"
VECTOR_TOKEN = "QDG6eK"
VECTOR_KEY = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
VECTOR_URL = {"msg_signature": "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3", "timestamp": "1409659589",
              "nonce": "263014780",
              "echostr": "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="}
VECTOR_ECHO = "1616140317555161061"
VECTOR_MSG = {"msg_signature": "477715d11cdb4164915debcba66cb864d751f3e6", "timestamp": "1409659813",
              "nonce": "1372623149"}
VECTOR_ENCRYPT = (
    "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvu"
    "JTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+Lt"
    "wGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8"
    "V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1p"
    "tDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
)

# Our own test app.
CORP = "wwtestcorp0000001"
AGENT = "1000002"
SECRET = "test-app-secret-do-not-use"
TOKEN = "TestCallbackToken"
AES_KEY = base64.b64encode(bytes(range(7, 39))).decode().rstrip("=")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


def config(api_base: str, **overrides: Any) -> WeComConfig:
    values = dict(corp_id=CORP, agent_id=AGENT, secret=SECRET, token=TOKEN, encoding_aes_key=AES_KEY,
                  api_base=api_base)
    values.update(overrides)
    return WeComConfig(**values)


# ---------------------------------------------------------------- what WeCom sends


def text_xml(user: str, content: str, msg_id: Optional[str] = None, agent: str = AGENT) -> str:
    msg_id = msg_id or str(secrets.randbits(62))
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId><AgentID>{agent}</AgentID></xml>")


def image_xml(user: str) -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[image]]></MsgType>"
            f"<PicUrl><![CDATA[https://example.invalid/p.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>"
            f"<MsgId>{secrets.randbits(62)}</MsgId><AgentID>{AGENT}</AgentID></xml>")


def event_xml(user: str, event: str = "enter_agent") -> str:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event><EventKey><![CDATA[]]></EventKey><AgentID>{AGENT}</AgentID></xml>")


def callback(plain_xml: str, *, corp: str = CORP, token: str = TOKEN, key: str = AES_KEY,
             timestamp: Optional[int] = None) -> tuple[dict[str, str], bytes]:
    """The query and body of a WeCom message callback, encrypted and signed like WeCom does."""
    ts = str(timestamp if timestamp is not None else int(time.time()))
    nonce = str(secrets.randbelow(10**10))
    envelope = xmltodict.parse(WeChatCrypto(token, key, corp).encrypt_message(plain_xml, nonce, ts))["xml"]
    body = (f"<xml><ToUserName><![CDATA[{corp}]]></ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT}]]></AgentID></xml>").encode()
    return {"msg_signature": envelope["MsgSignature"], "timestamp": ts, "nonce": nonce}, body


def url_check(echo: str, *, timestamp: Optional[int] = None) -> dict[str, str]:
    """The query of WeCom's URL verification GET for the plain `echo`."""
    params, body = callback(echo, timestamp=timestamp)
    encrypted = xmltodict.parse(body)["xml"]["Encrypt"]
    return {**params, "echostr": encrypted}


# ---------------------------------------------------------------- a fake WeCom API


class FakeWeCom:
    """gettoken, message/send and media/upload of the WeCom API, on a free 127.0.0.1 port."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.gettoken_calls = 0
        self.valid: set[str] = set()
        self.expired: set[str] = set()
        self.sends: list[dict[str, Any]] = []       # accepted message/send calls
        self.rejected: list[int] = []               # errcodes of refused calls
        self.uploads: list[dict[str, Any]] = []
        self.port = 0
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeWeCom:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            app = web.Application()
            app.add_routes([web.get("/cgi-bin/gettoken", self._gettoken),
                            web.post("/cgi-bin/message/send", self._send),
                            web.post("/cgi-bin/media/upload", self._upload)])
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-wecom", daemon=True)
        self._thread.start()
        assert ready.wait(10), "fake WeCom API did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def expire_tokens(self) -> None:
        """Every issued token now answers 42001 (expired)."""
        with self.lock:
            self.expired |= self.valid
            self.valid.clear()

    def revoke_tokens(self) -> None:
        """Every issued token now answers 40014 (invalid)."""
        with self.lock:
            self.valid.clear()

    def _token_error(self, token: Optional[str]) -> Optional[int]:
        with self.lock:
            if token in self.valid:
                return None
            code = 42001 if token in self.expired else 40014
            self.rejected.append(code)
            return code

    async def _gettoken(self, request: web.Request) -> web.Response:
        with self.lock:
            self.gettoken_calls += 1
            if request.query.get("corpid") != CORP:
                return web.json_response({"errcode": 40013, "errmsg": "invalid corpid"})
            if request.query.get("corpsecret") != SECRET:
                return web.json_response({"errcode": 40001, "errmsg": "invalid credential"})
            token = f"fake-token-{self.gettoken_calls}-{secrets.token_hex(8)}"
            self.valid.add(token)
        return web.json_response({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    async def _send(self, request: web.Request) -> web.Response:
        token = request.query.get("access_token")
        code = self._token_error(token)
        if code:
            return web.json_response({"errcode": code, "errmsg": "access_token problem"})
        body = await request.json()
        assert body["agentid"] == int(AGENT) and body["touser"] and body["msgtype"] in body
        with self.lock:
            self.sends.append({"token": token, "body": body})
        return web.json_response({"errcode": 0, "errmsg": "ok", "invaliduser": ""})

    async def _upload(self, request: web.Request) -> web.Response:
        code = self._token_error(request.query.get("access_token"))
        if code:
            return web.json_response({"errcode": code, "errmsg": "access_token problem"})
        form = await request.post()
        media = form.get("media")
        if request.query.get("type") != "image" or not isinstance(media, web.FileField):
            return web.json_response({"errcode": 40004, "errmsg": "invalid media"})
        media_id = f"media-{secrets.token_hex(6)}"
        with self.lock:
            self.uploads.append({"media_id": media_id, "filename": media.filename, "content": media.file.read()})
        return web.json_response({"errcode": 0, "errmsg": "ok", "type": "image", "media_id": media_id})

    def messages(self, touser: Optional[str] = None) -> list[dict[str, Any]]:
        with self.lock:
            return [s["body"] for s in self.sends if touser is None or s["body"]["touser"] == touser]

    def texts(self, touser: Optional[str] = None) -> list[str]:
        return [m["text"]["content"] for m in self.messages(touser) if m["msgtype"] == "text"]


async def until(predicate: Callable[[], Any], timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout}s")


def wait_for(predicate: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


# ---------------------------------------------------------------- the channel in a real Sanic server


class StandInAgent:
    """Plays Rasa's agent: records each message and answers through the message's output channel."""

    LONG = "\n".join(f"第{i}段：客户关系要长期经营，先了解决策链，再谈价格。Relationship first." for i in range(60))
    BUTTONS = [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"},
               {"title": "Not sure", "payload": '/inform{"answer": "unknown"}'}]
    BUTTONS_ZH = [{"title": "是", "payload": "/affirm"}, {"title": "否", "payload": "/deny"}]

    def __init__(self, image_url: str = "") -> None:
        self.messages: list[Any] = []
        self.image_url = image_url

    async def __call__(self, message: Any) -> None:
        self.messages.append(message)
        out, me, text = message.output_channel, message.sender_id, message.text
        if text == "slow":
            await asyncio.sleep(2)
            await out.send_response(me, {"text": "done thinking"})
        elif text == "offer options":
            await out.send_response(me, {"text": "Shall we book the meeting?", "buttons": list(self.BUTTONS)})
        elif text == "给我选项":
            await out.send_response(me, {"text": "要约客户见面吗？", "buttons": list(self.BUTTONS_ZH)})
        elif text == "long please":
            await out.send_response(me, {"text": self.LONG})
        elif text == "chart please":
            await out.send_response(me, {"text": "Here is the power map", "image": self.image_url})
        elif text == "link please":
            await out.send_response(me, {"image": "https://example.invalid/chart.png"})
        else:
            await out.send_response(me, {"text": f"echo: {text}"})


class ChannelServer:
    """The channel's blueprint in a real Sanic server on a free port, mounted like `rasa run` does."""

    def __init__(self, channel: WeComInput, agent: StandInAgent) -> None:
        self.channel, self.agent = channel, agent
        self.port = 0

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks/wecom/webhook"

    async def start(self) -> ChannelServer:
        # Several apps in one process: Sanic's start-up "touch-up" rewrites its HTTP class in
        # place and only keeps the original (so a second app can start) in test mode.
        Sanic.test_mode = True
        self.app = Sanic(f"wecom_test_{uuid.uuid4().hex}", configure_logging=False)
        self.app.blueprint(self.channel.blueprint(self.agent), url_prefix="/webhooks/wecom")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))         # (port=0 would mean Sanic's default, 8000)
        self.port = sock.getsockname()[1]
        self.server = await self.app.create_server(sock=sock, return_asyncio_server=True, access_log=False)
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        return self

    async def stop(self) -> None:
        await self.server.before_stop()
        await self.server.close()
        await self.server.after_stop()

    async def post(self, params: dict[str, str], body: bytes) -> tuple[int, str]:
        async with aiohttp.ClientSession() as session:
            async with session.post(self.webhook, params=params, data=body,
                                    headers={"Content-Type": "text/xml"}) as resp:
                return resp.status, await resp.text()

    async def get(self, params: dict[str, str], path: str = "/webhooks/wecom/webhook") -> tuple[int, str]:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{self.port}{path}", params=params) as resp:
                return resp.status, await resp.text()

    async def say(self, user: str, text: str, msg_id: Optional[str] = None) -> tuple[int, str]:
        return await self.post(*callback(text_xml(user, text, msg_id)))


@pytest.fixture
def fake() -> Any:
    api = FakeWeCom().start()
    yield api
    api.stop()


@pytest.fixture
async def start_channel(fake: FakeWeCom) -> Any:
    started: list[ChannelServer] = []

    async def start(cfg: Optional[WeComConfig] = None, agent: Optional[StandInAgent] = None,
                    channel: Optional[WeComInput] = None) -> ChannelServer:
        channel = channel or WeComInput(cfg or config(fake.url), dedupe=MemoryDedupe())
        server = await ChannelServer(channel, agent or StandInAgent()).start()
        started.append(server)
        return server

    yield start
    for server in started:
        await server.stop()


# ---------------------------------------------------------------- crypto


def test_published_url_vector_decrypts_to_the_published_echostr():
    crypto = CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_CORP)
    echo = crypto.verify_url(VECTOR_URL["msg_signature"], VECTOR_URL["timestamp"], VECTOR_URL["nonce"],
                             VECTOR_URL["echostr"], check_time=False)
    assert echo == VECTOR_ECHO


def test_published_message_vector_decrypts_to_the_published_text_message():
    crypto = CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_CORP)
    plain = crypto.decrypt(VECTOR_MSG["msg_signature"], VECTOR_MSG["timestamp"], VECTOR_MSG["nonce"],
                           VECTOR_ENCRYPT, check_time=False)
    msg = xmltodict.parse(plain)["xml"]
    assert (msg["FromUserName"], msg["MsgType"], msg["Content"], msg["MsgId"], msg["AgentID"]) == (
        "mycreate", "text", "hello", "4561255354251345929", "218")


def test_published_vectors_are_refused_with_another_corp_id_token_or_signature():
    with pytest.raises(CallbackRejected):   # receive id inside the payload is not ours
        CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, "wwsomeoneelse").verify_url(
            VECTOR_URL["msg_signature"], VECTOR_URL["timestamp"], VECTOR_URL["nonce"], VECTOR_URL["echostr"],
            check_time=False)
    with pytest.raises(CallbackRejected):
        CallbackCrypto("another-token", VECTOR_KEY, VECTOR_CORP).verify_url(
            VECTOR_URL["msg_signature"], VECTOR_URL["timestamp"], VECTOR_URL["nonce"], VECTOR_URL["echostr"],
            check_time=False)
    with pytest.raises(CallbackRejected):
        CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_CORP).decrypt(
            "0" * 40, VECTOR_MSG["timestamp"], VECTOR_MSG["nonce"], VECTOR_ENCRYPT, check_time=False)


def test_published_vector_is_stale_for_the_live_time_window():
    """A 2014 timestamp is outside the 5-minute window a live callback must fall in."""
    with pytest.raises(CallbackRejected, match="window"):
        CallbackCrypto(VECTOR_TOKEN, VECTOR_KEY, VECTOR_CORP).verify_url(
            VECTOR_URL["msg_signature"], VECTOR_URL["timestamp"], VECTOR_URL["nonce"], VECTOR_URL["echostr"])


# ---------------------------------------------------------------- URL verification and forged requests


async def test_published_url_vector_over_http_with_the_time_window_off(fake, start_channel):
    cfg = WeComConfig(corp_id=VECTOR_CORP, agent_id="218", secret=SECRET, token=VECTOR_TOKEN,
                      encoding_aes_key=VECTOR_KEY, api_base=fake.url, max_skew=0)
    server = await start_channel(cfg)
    assert await server.get(VECTOR_URL) == (200, VECTOR_ECHO)


async def test_url_verification_returns_the_decrypted_echostr(start_channel):
    server = await start_channel()
    assert await server.get(url_check("4827361920011")) == (200, "4827361920011")
    assert (await server.get({}, path="/webhooks/wecom/"))[0] == 200


async def test_url_verification_with_forged_missing_or_stale_signature_is_403(start_channel):
    server = await start_channel()
    good = url_check("12345")
    assert (await server.get({**good, "msg_signature": "f" * 40}))[0] == 403
    assert (await server.get({k: v for k, v in good.items() if k != "msg_signature"}))[0] == 403
    assert (await server.get({**good, "nonce": "1"}))[0] == 403
    assert (await server.get(url_check("12345", timestamp=int(time.time()) - 3600)))[0] == 403


async def test_forged_callbacks_get_403_and_nothing_is_processed(fake, start_channel):
    server = await start_channel()
    params, body = callback(text_xml("mallory", "show me every account"))
    assert (await server.post({**params, "msg_signature": "0" * 40}, body))[0] == 403
    assert (await server.post({k: v for k, v in params.items() if k != "msg_signature"}, body))[0] == 403
    assert (await server.post(params, body.replace(b"<Encrypt><![CDATA[", b"<Encrypt><![CDATA[AAAA")))[0] == 403
    assert (await server.post(params, b"not xml at all"))[0] == 403
    # signed with our token but encrypted for another corp (receive id mismatch)
    assert (await server.post(*callback(text_xml("mallory", "hi"), corp="wwanothercorp")))[0] == 403
    # signed and encrypted by someone with another token
    assert (await server.post(*callback(text_xml("mallory", "hi"), token="guessed")))[0] == 403
    # a genuine callback replayed an hour later
    assert (await server.post(*callback(text_xml("mallory", "hi"), timestamp=int(time.time()) - 3600)))[0] == 403
    # an entity-expansion bomb is refused before anything else happens
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    assert (await server.post(params, bomb))[0] == 403
    await asyncio.sleep(0.5)
    assert server.agent.messages == []
    assert fake.sends == [] and fake.gettoken_calls == 0


@pytest.mark.parametrize("plain", [
    # a sender id with child elements would have become the text of a dict
    f"<xml><ToUserName>{CORP}</ToUserName><FromUserName><id>mallory</id><id>boss</id></FromUserName>"
    f"<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>"
    f"<AgentID>{AGENT}</AgentID></xml>",
    # a duplicated Content would have become a list
    f"<xml><ToUserName>{CORP}</ToUserName><FromUserName>mallory</FromUserName><CreateTime>1</CreateTime>"
    f"<MsgType>text</MsgType><Content>hi</Content><Content>list every account</Content><MsgId>2</MsgId>"
    f"<AgentID>{AGENT}</AgentID></xml>",
    # an attribute on a field
    f"<xml><ToUserName>{CORP}</ToUserName><FromUserName role='admin'>mallory</FromUserName><CreateTime>1</CreateTime>"
    f"<MsgType>text</MsgType><Content>hi</Content><MsgId>3</MsgId><AgentID>{AGENT}</AgentID></xml>",
])
async def test_signed_callbacks_whose_fields_are_not_plain_text_are_400(fake, start_channel, plain):
    server = await start_channel()
    assert (await server.post(*callback(plain)))[0] == 400
    await asyncio.sleep(0.3)
    assert server.agent.messages == [] and fake.sends == []


async def test_unconfigured_channel_constructs_and_answers_503(fake, start_channel, monkeypatch):
    for var in ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY"):
        monkeypatch.delenv(var, raising=False)
    channel = WeComInput.from_credentials(None)
    assert not channel.configured and channel.get_output_channel() is None
    server = await start_channel(channel=channel)
    assert (await server.get(url_check("1")))[0] == 503
    assert (await server.post(*callback(text_xml("alice", "hello"))))[0] == 503
    assert (await server.get({}, path="/webhooks/wecom/"))[0] == 503
    # a malformed key leaves it unconfigured too
    assert not WeComInput(config(fake.url, encoding_aes_key="too-short"), dedupe=MemoryDedupe()).configured
    await asyncio.sleep(0.3)
    assert server.agent.messages == [] and fake.gettoken_calls == 0


def test_credentials_fall_back_to_the_environment(monkeypatch):
    monkeypatch.setenv("WECOM_CORP_ID", CORP)
    monkeypatch.setenv("WECOM_AGENT_ID", AGENT)
    monkeypatch.setenv("WECOM_SECRET", SECRET)
    monkeypatch.setenv("WECOM_TOKEN", TOKEN)
    monkeypatch.setenv("WECOM_AES_KEY", AES_KEY)
    monkeypatch.delenv("WECOM_API_BASE", raising=False)
    channel = WeComInput.from_credentials({"corp_id": "", "token": "from-credentials"})
    assert channel.configured and channel.name() == "wecom"
    assert channel.config.corp_id == CORP and channel.config.token == "from-credentials"
    assert channel.config.api_base == "https://qyapi.weixin.qq.com"
    monkeypatch.setenv("WECOM_API_BASE", "http://127.0.0.1:9/")
    assert WeComInput.from_credentials({}).config.api_base == "http://127.0.0.1:9"


# ---------------------------------------------------------------- messages in, replies out


async def test_text_message_goes_to_rasa_with_corp_scoped_identity_and_reply_is_sent(fake, start_channel):
    server = await start_channel()
    assert await server.say("zhangsan", "hello coach") == (200, "")
    await until(lambda: fake.texts())
    [message] = server.agent.messages
    assert message.text == "hello coach" and message.input_channel == "wecom"
    assert message.sender_id == f"wecom:{CORP}:zhangsan"
    assert message.metadata["identity"] == {"team": CORP, "user": "zhangsan"}
    [sent] = fake.sends
    assert sent["token"] in fake.valid
    assert sent["body"]["touser"] == "zhangsan" and sent["body"]["agentid"] == int(AGENT)
    assert sent["body"]["msgtype"] == "text" and sent["body"]["text"] == {"content": "echo: hello coach"}


async def test_callback_is_answered_before_the_message_is_processed(fake, start_channel):
    server = await start_channel()
    started = time.monotonic()
    assert await server.say("lisi", "slow") == (200, "")
    assert time.monotonic() - started < 1.5
    assert fake.texts() == []
    await until(lambda: fake.texts("lisi") == ["done thinking"], timeout=10)


async def test_same_msgid_posted_twice_is_processed_once(fake, start_channel):
    server = await start_channel()
    xml = text_xml("wangwu", "only once please", msg_id="7300000000000000001")
    assert (await server.post(*callback(xml)))[0] == 200
    assert (await server.post(*callback(xml)))[0] == 200      # WeCom's retry: re-signed, same MsgId
    await until(lambda: fake.texts())
    await asyncio.sleep(0.5)
    assert [m.text for m in server.agent.messages] == ["only once please"]
    assert fake.texts() == ["echo: only once please"]


async def test_access_token_is_shared_then_refreshed_once_on_expiry(fake, start_channel):
    server = await start_channel()
    await server.say("u1", "one")
    await until(lambda: len(fake.sends) == 1)
    await server.say("u2", "two")
    await until(lambda: len(fake.sends) == 2)
    assert fake.gettoken_calls == 1 and fake.sends[0]["token"] == fake.sends[1]["token"]

    fake.expire_tokens()
    await server.say("u1", "after expiry")
    await until(lambda: len(fake.sends) == 3)
    await asyncio.sleep(0.3)
    assert fake.rejected == [42001] and fake.gettoken_calls == 2
    assert fake.texts("u1") == ["echo: one", "echo: after expiry"]      # exactly one successful send

    fake.revoke_tokens()                                                 # invalid token: 40014
    await asyncio.gather(server.say("u3", "three"), server.say("u4", "four"))
    await until(lambda: len(fake.sends) == 5)
    await asyncio.sleep(0.3)
    assert sorted(fake.rejected[1:]) == [40014, 40014] and fake.gettoken_calls == 3   # one refresh for both
    assert fake.texts("u3") == ["echo: three"] and fake.texts("u4") == ["echo: four"]


async def test_long_reply_is_split_by_utf8_bytes_at_line_breaks(fake, start_channel):
    server = await start_channel()
    await server.say("zhaoliu", "long please")
    await until(lambda: fake.texts())
    await asyncio.sleep(0.5)
    parts = fake.texts("zhaoliu")
    assert len(StandInAgent.LONG.encode()) > 2048 and len(parts) >= 3
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert "\n".join(parts) == StandInAgent.LONG          # cut only at line breaks, nothing lost


def test_split_utf8_never_cuts_a_character():
    text = "价" * 700 + "😀" * 10                      # 2100 + 40 bytes, no line break
    parts = split_utf8(text)
    assert [len(p.encode()) for p in parts] == [2046, 94]
    assert "".join(parts) == text
    assert split_utf8("short") == ["short"] and split_utf8("") == []


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab \n价格決策😀é")), max_size=600), st.integers(4, 64))
def test_split_utf8_pieces_fit_and_lose_nothing_but_break_whitespace(text, limit):
    parts = split_utf8(text, limit)
    assert all(0 < len(p.encode("utf-8")) <= limit for p in parts)
    assert "".join("".join(parts).split()) == "".join(text.split())


async def test_numbered_button_answer_is_sent_to_rasa_as_the_payload(fake, start_channel):
    server = await start_channel()
    await server.say("qianqi", "offer options")
    await until(lambda: fake.texts("qianqi"))
    [shown] = fake.texts("qianqi")
    assert shown == ("Shall we book the meeting?\n1. Yes\n2. No\n3. Not sure\nReply with a number to choose.")
    await server.say("qianqi", "３")                       # a full-width digit from a Chinese keyboard
    await until(lambda: len(server.agent.messages) == 2)
    assert server.agent.messages[1].text == '/inform{"answer": "unknown"}'
    assert server.agent.messages[1].metadata["wecom"]["chose_option"] == 3
    await server.say("qianqi", "1")                       # options answer one message only
    await until(lambda: len(server.agent.messages) == 3)
    assert server.agent.messages[2].text == "1"


async def test_chinese_buttons_get_a_chinese_hint_and_chinese_numerals_work(fake, start_channel):
    server = await start_channel()
    await server.say("sunba", "给我选项")
    await until(lambda: fake.texts("sunba"))
    assert fake.texts("sunba") == ["要约客户见面吗？\n1. 是\n2. 否\n回复数字即可选择。"]
    await server.say("sunba", "二")
    await until(lambda: len(server.agent.messages) == 2)
    assert server.agent.messages[1].text == "/deny"
    # another user of the corp cannot answer sunba's options
    await server.say("sunba", "给我选项")
    await until(lambda: len(fake.texts("sunba")) == 3)
    await server.say("zhoujiu", "1")
    await until(lambda: len(server.agent.messages) == 4)
    assert server.agent.messages[3].text == "1"


@pytest.mark.parametrize("lang", list(OVERLONG_UNITS))
async def test_an_over_long_message_is_refused_in_the_users_language_and_never_reaches_rasa(fake, start_channel,
                                                                                         lang):
    server = await start_channel()
    text = overlong(lang, "华东精密")
    assert (await server.say("heyi", text))[0] == 200
    await until(lambda: fake.texts("heyi"))
    await asyncio.sleep(0.3)
    assert fake.texts("heyi") == [refusal(lang, text)]
    assert server.agent.messages == []


async def test_a_message_at_the_limit_reaches_rasa_whole(fake, start_channel):
    server = await start_channel()
    text = overlong("zh-Hans", "华东精密")[:max_message_chars() - 1] + "。"
    assert len(text) == max_message_chars()
    await server.say("heyi", text)
    await until(lambda: server.agent.messages)
    assert [m.text for m in server.agent.messages] == [text]


async def test_options_offered_before_a_refused_message_stay_answerable(fake, start_channel):
    server = await start_channel()
    await server.say("qinshi", "给我选项")
    await until(lambda: fake.texts("qinshi"))
    text = overlong("zh-Hant", "華東精密")
    await server.say("qinshi", text)
    await until(lambda: len(fake.texts("qinshi")) == 2)
    assert fake.texts("qinshi")[1] == refusal("zh-Hant", text)
    await server.say("qinshi", "2")
    await until(lambda: len(server.agent.messages) == 2)
    assert [m.text for m in server.agent.messages] == ["给我选项", "/deny"]


def test_choice_numbers():
    answers = ["1", "２", " 3. ", "一", "十", "十二", "第二个", "选3"]
    assert [choice_number(t) for t in answers] == [1, 2, 3, 1, 10, 12, 2, 3]
    assert [choice_number(t) for t in ["", "yes", "1 2", "一百", "12a", "two"]] == [None] * 6


async def test_non_text_messages_get_the_text_only_note_and_events_nothing(fake, start_channel):
    server = await start_channel()
    assert (await server.post(*callback(event_xml("wujiu"))))[0] == 200
    assert (await server.post(*callback(image_xml("wujiu"))))[0] == 200
    await until(lambda: fake.texts("wujiu"))
    await asyncio.sleep(0.3)
    assert fake.texts("wujiu") == [TEXT_ONLY_REPLY]
    assert "文字" in TEXT_ONLY_REPLY and "text" in TEXT_ONLY_REPLY
    assert server.agent.messages == []


async def test_message_for_another_agent_is_ignored(fake, start_channel):
    server = await start_channel()
    assert (await server.post(*callback(text_xml("zheng", "hi", agent="1000099"))))[0] == 200
    await asyncio.sleep(0.4)
    assert server.agent.messages == [] and fake.sends == []


async def test_own_chart_is_uploaded_and_sent_as_image_other_urls_as_links(fake, start_channel, tmp_path,
                                                                           monkeypatch):
    from bot import media

    monkeypatch.setenv("CHART_DIR", str(tmp_path / "charts"))
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://coach.example.invalid")
    chart_url = media.publish(PNG)
    server = await start_channel(agent=StandInAgent(image_url=chart_url))
    await server.say("feng", "chart please")
    await until(lambda: len(fake.messages("feng")) == 2)
    text, image = fake.messages("feng")
    assert text["text"]["content"] == "Here is the power map"
    [upload] = fake.uploads
    assert upload["content"] == PNG and upload["filename"] == chart_url.rsplit("/", 1)[1]
    assert image["msgtype"] == "image" and image["image"] == {"media_id": upload["media_id"]}

    await server.say("feng", "link please")
    await until(lambda: len(fake.messages("feng")) == 3)
    assert fake.texts("feng")[-1] == "https://example.invalid/chart.png" and len(fake.uploads) == 1


async def test_info_logs_carry_no_message_text_tokens_or_keys(fake, start_channel, caplog):
    caplog.set_level(logging.INFO)
    server = await start_channel()
    await server.say("chen_xq7", "secret pricing for Acme is 1.2M")
    await until(lambda: fake.sends)
    fake.expire_tokens()
    await server.say("chen_xq7", "another confidential note")
    await until(lambda: len(fake.sends) == 2)
    await server.post({**callback(text_xml("chen_xq7", "forged"))[0], "msg_signature": "1" * 40}, b"<xml/>")
    issued = {s["token"] for s in fake.sends}
    logged = caplog.text
    for secret in ["secret pricing", "confidential", "chen_xq7", SECRET, AES_KEY, TOKEN, *issued]:
        assert secret not in logged


# ---------------------------------------------------------------- Redis dedupe


@pytest.fixture
def redis_url() -> str:
    import redis

    url = "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"Redis is required for this test and is not reachable at {url}: {exc}")
    return url


async def test_two_rasa_processes_sharing_redis_process_a_retry_once(fake, start_channel, redis_url, monkeypatch):
    """REDIS_URL makes the channel dedupe in Redis, so a retry landing on another replica is dropped."""
    import redis.asyncio as aioredis

    monkeypatch.setenv("REDIS_URL", redis_url)
    assert isinstance(dedupe_from_env("wecom:"), RedisDedupe)
    creds = {"corp_id": CORP, "agent_id": AGENT, "secret": SECRET, "token": TOKEN, "encoding_aes_key": AES_KEY,
             "api_base": fake.url}
    first = await start_channel(channel=WeComInput.from_credentials(creds))
    second = await start_channel(channel=WeComInput.from_credentials(creds))
    msg_id = str(secrets.randbits(62))
    xml = text_xml("jiang", "just once across replicas", msg_id=msg_id)
    try:
        assert (await first.post(*callback(xml)))[0] == 200
        assert (await second.post(*callback(xml)))[0] == 200
        await until(lambda: fake.sends)
        await asyncio.sleep(0.5)
        assert len(first.agent.messages) + len(second.agent.messages) == 1
        assert fake.texts("jiang") == ["echo: just once across replicas"]
    finally:
        client = aioredis.from_url(redis_url)
        await client.delete(f"wecom:msg:{CORP}:{AGENT}:{msg_id}")
        await client.close()


# ---------------------------------------------------------------- end to end with rasa run and the trained model


@dataclass
class Deployment:
    servers: Servers
    fake: FakeWeCom

    @property
    def webhook(self) -> str:
        return f"{self.servers.rasa_url}/webhooks/wecom/webhook"

    def post(self, params: dict[str, str], body: bytes) -> int:
        req = urllib.request.Request(f"{self.webhook}?{urllib.parse.urlencode(params)}", data=body, method="POST",
                                     headers={"Content-Type": "text/xml"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status
        except urllib.error.HTTPError as err:
            return err.code

    def say(self, user: str, text: str, msg_id: Optional[str] = None) -> int:
        return self.post(*callback(text_xml(user, text, msg_id)))

    def reply_to(self, user: str, after: int) -> str:
        """Waits for the bot's answer (all its messages) after `after` earlier messages to `user`."""
        wait_for(lambda: len(self.fake.texts(user)) > after)
        time.sleep(1.5)      # the rest of the same answer
        return "\n".join(self.fake.texts(user)[after:])


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Any:
    """Action server + `rasa run` with the trained model and this channel, talking to a fake WeCom API."""
    if not MODEL_PATH.exists():
        pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
    from bot.store.migrate import upgrade

    workdir = tmp_path_factory.mktemp("wecom")
    url = f"sqlite:///{workdir / 'accounts.db'}"
    upgrade(url)
    fake = FakeWeCom().start()
    credentials = workdir / "credentials.yml"
    credentials.write_text(
        "rest:\n"
        "bot.channels.wecom.WeComInput:\n"
        f'  corp_id: "{CORP}"\n  agent_id: "{AGENT}"\n  secret: "{SECRET}"\n  token: "{TOKEN}"\n'
        f'  encoding_aes_key: "{AES_KEY}"\n  api_base: "{fake.url}"\n')
    servers = Servers(workdir=workdir, model=MODEL_PATH, database_url=url, tracker_db=workdir / "tracker.db",
                           credentials=credentials, extra_env={"REDIS_URL": ""})
    try:
        servers.start_actions()
        servers.start_rasa()
        yield Deployment(servers, fake)
    finally:
        servers.stop_all()
        fake.stop()


@pytest.mark.model
@pytest.mark.slow
def test_rasa_answers_a_wecom_text_message_through_the_message_api(deployment):
    user = f"rep{uuid.uuid4().hex[:6]}"
    assert deployment.say(user, "Add a new account: Acme Corp, manufacturing") == 200
    reply = deployment.reply_to(user, 0)
    assert "Saved: new account Acme Corp" in reply
    assert all(s["token"] in deployment.fake.valid for s in deployment.fake.sends)
    tracker = deployment.servers.tracker(f"wecom:{CORP}:{user}")
    user_events = [e for e in tracker["events"] if e["event"] == "user"]
    assert user_events[-1]["input_channel"] == "wecom"
    assert user_events[-1]["metadata"]["identity"] == {"team": CORP, "user": user}


@pytest.mark.model
@pytest.mark.slow
def test_accounts_are_shared_in_the_corp_and_numbered_buttons_map_to_payloads(deployment):
    alice, bob = f"alice{uuid.uuid4().hex[:6]}", f"bob{uuid.uuid4().hex[:6]}"
    deployment.say(alice, "Add a new account: Globex Logistics")
    assert "Globex Logistics" in deployment.reply_to(alice, 0)

    deployment.say(bob, "list my accounts")
    listing = deployment.reply_to(bob, 0)
    assert "Globex Logistics" in listing
    assert "1. " in listing and listing.rstrip().endswith("Reply with a number to choose.")
    option = next(line for line in listing.splitlines() if "Globex Logistics" in line and line[0].isdigit())
    number = option.split(".", 1)[0]

    deployment.say(bob, number)
    summary = deployment.reply_to(bob, len(deployment.fake.texts(bob)))
    assert "Globex Logistics" in summary
    events = deployment.servers.tracker(f"wecom:{CORP}:{bob}")["events"]
    last_user = [e for e in events if e["event"] == "user"][-1]
    assert last_user["text"] == '/ask_account_summary{"account": "Globex Logistics"}'

    # a REST sender (another team) does not see the corp's accounts
    rest = deployment.servers.say_text(f"rest-{uuid.uuid4().hex[:6]}", "list my accounts")
    assert "Globex Logistics" not in rest


@pytest.mark.model
@pytest.mark.slow
def test_rasa_refuses_forged_callbacks_and_handles_a_retry_once(deployment):
    user = f"rep{uuid.uuid4().hex[:6]}"
    params, body = callback(text_xml(user, "list my accounts"))
    assert deployment.post({**params, "msg_signature": "0" * 40}, body) == 403
    time.sleep(2)
    assert deployment.fake.texts(user) == []
    events = deployment.servers.tracker(f"wecom:{CORP}:{user}")["events"]
    assert not [e for e in events if e["event"] == "user"]

    xml = text_xml(user, "Add a new account: Initrode", msg_id=str(secrets.randbits(62)))
    assert deployment.post(*callback(xml)) == 200
    assert deployment.post(*callback(xml)) == 200
    reply = deployment.reply_to(user, 0)
    time.sleep(2)
    assert reply.count("Initrode") >= 1
    events = deployment.servers.tracker(f"wecom:{CORP}:{user}")["events"]
    assert len([e for e in events if e["event"] == "user"]) == 1


@pytest.mark.model
@pytest.mark.slow
def test_a_callback_replayed_after_a_restart_is_still_handled_once(deployment):
    """Replay protection lives in the database without Redis, so a restart does not forget it."""
    user = f"rep{uuid.uuid4().hex[:6]}"
    params, body = callback(text_xml(user, "Add a new account: Replaywell Freight", msg_id=str(secrets.randbits(62))))
    assert deployment.post(params, body) == 200
    assert "Replaywell" in deployment.reply_to(user, 0)
    deployment.servers.stop("rasa")
    deployment.servers.start_rasa()
    assert deployment.post(params, body) == 200  # the same signed callback, inside its 5-minute window
    time.sleep(3)
    events = deployment.servers.tracker(f"wecom:{CORP}:{user}")["events"]
    assert len([e for e in events if e["event"] == "user"]) == 1


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("lang", list(OVERLONG_UNITS))
def test_rasa_never_sees_an_over_long_message_and_the_user_is_told_in_their_language(deployment, lang):
    user = f"rep{uuid.uuid4().hex[:6]}"
    name = {"en": "Overlong", "zh-Hans": "超长", "zh-Hant": "超長"}[lang] + uuid.uuid4().hex[:6]
    text = overlong(lang, name)
    assert deployment.say(user, text) == 200
    assert deployment.reply_to(user, 0) == refusal(lang, text)
    events = deployment.servers.tracker(f"wecom:{CORP}:{user}")["events"]
    assert not [e for e in events if e["event"] == "user"]
    assert name not in stored_text(deployment.servers.database_url)
