"""Fuzzing configured Slack, WeCom and web (socket.io) channels in-process.

Each input channel is mounted the way `rasa run` mounts it (``register`` with a stand-in
for Rasa's message handler that records what would reach Rasa), in a real Sanic server on
its own thread and event loop. Requests are unsigned, wrongly signed, or correctly signed
with malformed bodies. The answer must be 4xx for anything malformed (an acknowledged,
ignored 200 for well-formed events the bot does not handle), never 5xx, and nothing
malformed may reach Rasa.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import threading
import time
import uuid
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import urlencode

import pytest
import xmltodict
from hypothesis import example, given
from hypothesis import strategies as st
from rasa.core.channels.channel import UserMessage, register
from sanic import Sanic
from wechatpy.enterprise.crypto import WeChatCrypto

from bot import i18n
from bot.channels.dedupe import MemoryDedupe
from bot.channels.limits import max_message_chars
from bot.channels.slack import SlackChannel
from bot.channels.socketio import SessionSigner, TokenVerifier, WebInput
from bot.channels.wecom import MAX_BODY_BYTES, WeComConfig, WeComInput, signature
from tests.fuzz.conftest import (
    fuzz_settings,
    http,
    invalid_unicode_text,
    json_values,
    mixed_text,
    nested_json,
    string_count,
    with_invalid_unicode,
)

SLACK_SECRET = "fuzz-signing-secret-5d1c"
CORP, AGENT, TOKEN = "wwfuzzcorp000001", "1000002", "FuzzCallbackToken"
AES_KEY = base64.b64encode(bytes(range(40, 72))).decode().rstrip("=")
DEAD_API = "http://127.0.0.1:9"  # nothing listens: the channels' outgoing calls fail fast and are logged


class ChannelServer:
    """Input channels in a real Sanic server on a thread of its own; records what reaches "Rasa"."""

    def __init__(self, *channels: Any) -> None:
        self.channels = channels
        self.received: List[UserMessage] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fuzz-channels", daemon=True)

    async def _handle(self, message: UserMessage) -> None:
        self.received.append(message)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        Sanic.test_mode = True  # several Sanic apps in one process
        app = Sanic(f"fuzz_channels_{uuid.uuid4().hex}", configure_logging=False)
        app.ctx.agent = SimpleNamespace(handle_message=self._handle)
        register(list(self.channels), app, route="/webhooks/")
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.server = self.loop.run_until_complete(
            app.create_server(sock=sock, return_asyncio_server=True, access_log=False))
        self.loop.run_until_complete(self.server.startup())
        self.loop.run_until_complete(self.server.before_start())
        self.loop.run_until_complete(self.server.after_start())
        self._ready.set()
        self.loop.run_forever()

    def start(self) -> ChannelServer:
        self._thread.start()
        assert self._ready.wait(30), "channel server did not start"
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            await self.server.before_stop()
            self.server.close()
            await self.server.wait_closed()
            await self.server.after_stop()

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def settle(self) -> None:
        """Lets background tasks spawned by the last request run."""
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0.01), self.loop).result(10)


@pytest.fixture(scope="module")
def channels() -> Any:
    slack = SlackChannel(slack_token="xoxb-fuzz", slack_signing_secret=SLACK_SECRET, api_url=DEAD_API + "/api/",
                         dedupe=MemoryDedupe())
    wecom = WeComInput(WeComConfig(corp_id=CORP, agent_id=AGENT, secret="fuzz-secret", token=TOKEN,
                                   encoding_aes_key=AES_KEY, api_base=DEAD_API), dedupe=MemoryDedupe())
    assert slack.configured and wecom.configured
    server = ChannelServer(slack, wecom).start()
    yield server
    server.stop()


def no_server_error(status: int, body: bytes) -> None:
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body and b'File "' not in body, body[:300]


# --------------------------------------------------------------------------- Slack


def slack_headers(body: bytes, secret: str = SLACK_SECRET, timestamp: Optional[str] = None,
                  content_type: str = "application/json") -> Dict[str, str]:
    ts = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def slack_events() -> st.SearchStrategy[Dict[str, Any]]:
    """Event callbacks shaped like Slack's (strings where Slack sends strings), with hostile content."""
    word = mixed_text(2)
    event = st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(["message", "app_mention", "reaction_added"]), word),
         "user": st.one_of(st.just("U0FUZZ"), word), "text": mixed_text(6), "channel": st.one_of(st.just("D0FUZZ"), word),
         "ts": st.one_of(st.just("1700000000.000100"), word), "channel_type": st.sampled_from(["im", "channel", ""])},
        optional={"subtype": st.one_of(st.none(), st.sampled_from(["thread_broadcast", "message_changed",
                                                                    "bot_message"]), word),
                  "thread_ts": word, "bot_id": word, "team": word})
    return st.fixed_dictionaries(
        {"type": st.one_of(st.sampled_from(["event_callback", "url_verification"]), word),
         "team_id": st.one_of(st.just("T0FUZZ"), word), "event": event},
        optional={"event_id": word, "challenge": word, "authed_users": st.lists(word, max_size=2),
                  "authorizations": st.lists(st.fixed_dictionaries({"user_id": word, "is_bot": st.booleans()}),
                                             max_size=2)})


def slack_interactions() -> st.SearchStrategy[Dict[str, Any]]:
    """Block-action payloads shaped like Slack's, with hostile content."""
    word = mixed_text(2)
    action = st.fixed_dictionaries({"type": st.one_of(st.sampled_from(["button", "static_select", "overflow"]), word)},
                                   optional={"value": mixed_text(4), "action_ts": word,
                                             "selected_option": st.fixed_dictionaries({"value": mixed_text(3)})})
    return st.fixed_dictionaries(
        {"type": st.one_of(st.just("block_actions"), word), "actions": st.lists(action, max_size=2),
         "user": st.fixed_dictionaries({"id": st.one_of(st.just("U0FUZZ"), word)},
                                       optional={"team_id": st.one_of(st.just("T0FUZZ"), word)}),
         "team": st.fixed_dictionaries({"id": st.one_of(st.just("T0FUZZ"), word)})},
        optional={"channel": st.fixed_dictionaries({"id": word}), "message": st.fixed_dictionaries({"ts": word}),
                  "container": st.fixed_dictionaries({"channel_id": word})})


#: correctly signed bodies whose fields have the wrong JSON type (what `json_values` would make of them)
SLACK_WRONG_TYPES = [
    {"type": "event_callback", "team_id": "T1", "event": {"type": "message", "user": "U1", "text": 123}},
    {"type": "event_callback", "team_id": "T1", "event": {"type": "message", "user": "U1", "text": ["hi"]}},
    {"type": "event_callback", "team_id": "T1", "authorizations": "abc",
     "event": {"type": "message", "user": "U1", "text": "hi", "channel": "D1", "channel_type": "im"}},
    {"type": "event_callback", "team_id": "T1", "authed_users": 5,
     "event": {"type": "message", "user": "U1", "text": "hi", "channel": "D1", "channel_type": "im"}},
    {"type": "event_callback", "team_id": "T1",
     "event": {"type": "message", "user": "U1", "text": "hi", "subtype": ["x"]}},
]
SLACK_WRONG_TYPED_ACTIONS = [
    {"type": "block_actions", "actions": [{"type": "button", "value": {"a": 1}}], "user": {"id": "U1"},
     "team": {"id": "T1"}},
    {"type": "block_actions", "actions": ["x"], "user": {"id": "U1"}, "team": {"id": "T1"}},
    {"type": "block_actions", "actions": {"0": "x"}, "user": {"id": "U1"}, "team": {"id": "T1"}},
    {"type": "block_actions", "actions": [{"type": "button", "value": "/x"}], "user": "U1", "team": {"id": "T1"}},
    {"type": "block_actions", "actions": [{"type": "button", "value": "/x"}], "user": {"id": "U1"}, "team": "T1"},
    {"type": "block_actions", "actions": [{"type": "static_select", "selected_option": "x"}], "user": {"id": "U1"},
     "team": {"id": "T1"}},
    {"type": "block_actions", "actions": [{"type": "button", "value": "/x"}], "user": {"id": "U1"},
     "team": {"id": "T1"}, "message": "m"},
]


def processed_messages_are_sane(server: ChannelServer, before: int) -> None:
    for message in server.received[before:]:
        assert isinstance(message.text, str) and message.text.strip(), message.text
        assert isinstance(message.sender_id, str) and message.sender_id
        identity = (message.metadata or {}).get("identity") or {}
        assert identity.get("team") and identity.get("user"), message.metadata


@fuzz_settings(40)
@given(body=st.binary(max_size=300), headers=st.dictionaries(
    st.sampled_from(["Content-Type", "X-Slack-Request-Timestamp", "X-Slack-Signature", "X-Slack-Retry-Num"]),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=80), max_size=4))
@example(body=b'{"type": "url_verification", "challenge": "x"}', headers={"Content-Type": "application/json"})
@example(body=b"{}", headers={"Content-Type": "application/json", "X-Slack-Request-Timestamp": "9" * 40,
                              "X-Slack-Signature": "v0=" + "0" * 64})
def test_slack_refuses_unsigned_and_badly_signed_requests(channels, body, headers):
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body, headers)
    no_server_error(status, answer)
    assert status == 401, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(80)
@given(data=st.one_of(slack_events(), slack_events(), json_values(4)))
@example(data=[{"type": "event_callback"}])
@example(data={"type": "url_verification", "challenge": "<script>alert(1)</script>"})
def test_slack_signed_garbage_json_never_crashes_the_webhook(channels, data):
    body = json.dumps(data).encode()
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body, slack_headers(body))
    no_server_error(status, answer)
    if not isinstance(data, dict):
        assert status == 400
    elif data.get("type") == "url_verification":
        assert status == 200 and json.loads(answer) == {"challenge": data.get("challenge", "")}
    channels.settle()
    if status >= 400:
        assert len(channels.received) == before
    processed_messages_are_sane(channels, before)


@fuzz_settings(10)
@given(data=st.sampled_from(SLACK_WRONG_TYPES))
def test_slack_signed_event_with_wrong_json_types_is_400(channels, data):
    body = json.dumps(data).encode()
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body, slack_headers(body))
    no_server_error(status, answer)
    assert status == 400, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(40)
@given(raw=st.one_of(st.binary(max_size=200).map(lambda b: b"{" + b), st.binary(max_size=200).map(lambda b: b"\xff" + b),
                     st.sampled_from([b"", b"{", b"[1,", b"{\"type\": }", b"\x00", b"nul", b"{'a': 1}"])),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8", "APPLICATION/JSON"]))
def test_slack_signed_malformed_json_is_400(channels, raw, content_type):
    try:
        json.loads(raw or b"{}")
        return  # hypothesis made valid JSON: covered by the test above
    except ValueError:
        pass
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), raw,
                          slack_headers(raw, content_type=content_type))
    no_server_error(status, answer)
    assert status == 400, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(60)
@given(payload=st.one_of(slack_interactions().map(json.dumps), mixed_text(3), json_values(3).map(json.dumps)),
       extra=st.dictionaries(st.sampled_from(["ssl_check", "token", "x"]), mixed_text(2), max_size=2))
@example(payload="", extra={"ssl_check": "1"})
def test_slack_signed_garbage_interactions_never_crash_the_webhook(channels, payload, extra):
    body = urlencode({**extra, "payload": payload}).encode()
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body,
                          slack_headers(body, content_type="application/x-www-form-urlencoded"))
    no_server_error(status, answer)
    channels.settle()
    if status >= 400:
        assert len(channels.received) == before
    processed_messages_are_sane(channels, before)


@fuzz_settings(60)
@given(data=slack_events(), where=st.integers(0, 40))
@example(data={"type": "event_callback", "team_id": "T0FUZZ", "event": {"type": "message", "user": "U0FUZZ",
                                                                       "text": "hi", "channel": "D0FUZZ"}}, where=6)
def test_slack_signed_event_with_invalid_unicode_in_any_field_is_400(channels, data, where):
    """A lone surrogate in any string (key or value) of a signed body: 400, and nothing reaches Rasa."""
    spoiled = with_invalid_unicode(data, where % string_count(data))
    body = json.dumps(spoiled).encode()  # ASCII JSON: the surrogate travels as a \u escape
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body, slack_headers(body))
    no_server_error(status, answer)
    assert status == 400, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(30)
@given(data=slack_interactions(), where=st.integers(0, 30))
def test_slack_signed_interaction_with_invalid_unicode_is_400(channels, data, where):
    spoiled = with_invalid_unicode(data, where % string_count(data))
    body = urlencode({"payload": json.dumps(spoiled)}).encode()
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body,
                          slack_headers(body, content_type="application/x-www-form-urlencoded"))
    no_server_error(status, answer)
    assert status == 400, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(12)
@given(depth=st.one_of(st.integers(65, 2000), st.sampled_from([5_000, 100_000])),
       as_interaction=st.booleans())
@example(depth=100_000, as_interaction=False)
def test_slack_signed_deeply_nested_bodies_are_400(channels, depth, as_interaction):
    """RecursionError in the JSON parser (or 64+ levels that did parse) is the sender's fault: 400, never 500."""
    raw = nested_json(depth)
    if as_interaction:
        body = urlencode({"payload": raw.decode()}).encode()
        headers = slack_headers(body, content_type="application/x-www-form-urlencoded")
    else:
        body, headers = raw, slack_headers(raw)
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body, headers)
    no_server_error(status, answer)
    assert status == 400, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(10)
@given(data=st.sampled_from(SLACK_WRONG_TYPED_ACTIONS))
def test_slack_signed_interaction_with_wrong_json_types_is_400(channels, data):
    body = urlencode({"payload": json.dumps(data)}).encode()
    before = len(channels.received)
    status, answer = http("POST", channels.url("/webhooks/slack/webhook"), body,
                          slack_headers(body, content_type="application/x-www-form-urlencoded"))
    no_server_error(status, answer)
    assert status == 400, (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before


# --------------------------------------------------------------------------- WeCom


def wecom_query(encrypted: str, timestamp: Optional[str] = None, nonce: str = "12345") -> Dict[str, str]:
    """A query string signed correctly over whatever `encrypted` is (WeCom's SHA-1 over sorted parts)."""
    ts = timestamp if timestamp is not None else str(int(time.time()))
    return {"msg_signature": signature(TOKEN, ts, nonce, encrypted), "timestamp": ts, "nonce": nonce}


def wecom_post(server: ChannelServer, query: Dict[str, str], body: bytes) -> Tuple[int, bytes]:
    return http("POST", server.url("/webhooks/wecom/webhook?" + urlencode(query)), body, {"Content-Type": "text/xml"})


def envelope(encrypted: str) -> bytes:
    return (f"<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt>"
            f"<AgentID><![CDATA[{AGENT}]]></AgentID></xml>").encode()


BASE64ISH = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=%-_ \n"),
                    max_size=200)


@fuzz_settings(40)
@given(body=st.one_of(st.binary(max_size=300), mixed_text(4).map(str.encode)),
       query=st.dictionaries(st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr"]),
                             st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60), max_size=4))
@example(body=b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]><xml><Encrypt>&a;</Encrypt></xml>', query={})
def test_wecom_refuses_unsigned_garbage(channels, body, query):
    before = len(channels.received)
    status, answer = wecom_post(channels, query, body)
    no_server_error(status, answer)
    assert status == 403
    status, answer = http("GET", channels.url("/webhooks/wecom/webhook?" + urlencode(query)))
    no_server_error(status, answer)
    assert status == 403
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(60)
@given(encrypted=st.one_of(BASE64ISH, mixed_text(3), st.binary(min_size=1, max_size=96).map(
    lambda b: base64.b64encode(b).decode())),
       wrap=st.sampled_from(["envelope", "raw-xml", "nested", "no-xml-root"]))
@example(encrypted="AAAA", wrap="envelope")
@example(encrypted="not base64 at all!!", wrap="envelope")
@example(encrypted=base64.b64encode(b"\x00" * 48).decode(), wrap="envelope")
def test_wecom_correctly_signed_garbage_encrypt_is_403(channels, encrypted, wrap):
    """The signature is right (anyone who knew the token could make it), the Encrypt payload is garbage."""
    body = {"envelope": envelope(encrypted),
            "raw-xml": f"<xml><Encrypt>{xmltodict.unparse({'x': encrypted}, full_document=False)}</Encrypt></xml>"
            .encode(),
            "nested": f"<xml><Encrypt><a>{encrypted}</a><b/></Encrypt></xml>".encode("utf-8", "replace"),
            "no-xml-root": f"<root><Encrypt>{encrypted}</Encrypt></root>".encode("utf-8", "replace")}[wrap]
    before = len(channels.received)
    status, answer = wecom_post(channels, wecom_query(encrypted), body)
    no_server_error(status, answer)
    assert status == 403, (status, answer[:200])
    status, answer = http("GET", channels.url("/webhooks/wecom/webhook?" + urlencode(
        {**wecom_query(encrypted), "echostr": encrypted})))
    no_server_error(status, answer)
    assert status == 403
    channels.settle()
    assert len(channels.received) == before


def encrypt(plain: str, corp: str = CORP) -> str:
    """Encrypts like WeCom (our key, `corp` as receive id)."""
    ts, nonce = str(int(time.time())), "424242"
    return xmltodict.parse(WeChatCrypto(TOKEN, AES_KEY, corp).encrypt_message(plain, nonce, ts))["xml"]["Encrypt"]


@fuzz_settings(40)
@given(plain=st.one_of(mixed_text(4), st.sampled_from([
    "", "<xml/>", "<xml>", "not xml", "<xml><FromUserName>u</FromUserName></xml>extra", "<a><b/></a>",
    '<!DOCTYPE x [<!ENTITY e "e">]><xml><Content>&e;</Content></xml>', "<xml><![CDATA[", "\x00<xml/>"])))
def test_wecom_signed_and_encrypted_garbage_xml_is_refused(channels, plain):
    """Even a payload that decrypts (only WeCom, or whoever holds the AES key, can make one) must be XML we read."""
    encrypted = encrypt(plain)
    before = len(channels.received)
    status, answer = wecom_post(channels, wecom_query(encrypted), envelope(encrypted))
    no_server_error(status, answer)
    assert status in (200, 403), (status, answer[:200])
    channels.settle()
    assert len(channels.received) == before  # no FromUserName + MsgType text: nothing for Rasa


@fuzz_settings(40)
@given(fields=st.fixed_dictionaries({}, optional={
    "FromUserName": st.one_of(mixed_text(2), st.lists(mixed_text(2), min_size=2, max_size=3)),
    "MsgType": st.one_of(st.sampled_from(["text", "image", "event", "TEXT"]), mixed_text(1),
                         st.lists(st.just("text"), min_size=2, max_size=2)),
    "Content": st.one_of(mixed_text(6), st.dictionaries(st.sampled_from(["a", "b"]), mixed_text(2), max_size=2)),
    "MsgId": st.one_of(st.integers(0, 2 ** 63).map(str), mixed_text(1)),
    "AgentID": st.one_of(st.just(AGENT), mixed_text(1)), "CreateTime": mixed_text(1), "Event": mixed_text(1)}))
@example(fields={"FromUserName": ["alice", "bob"], "MsgType": "text", "Content": "hi"})
@example(fields={"FromUserName": "alice", "MsgType": "text", "Content": {"a": "nested"}})
@example(fields={"FromUserName": "alice", "MsgType": "text", "Content": "'; DROP TABLE accounts;-- 🧑🏽‍💻"})
def test_wecom_decrypted_fields_of_any_shape_never_crash(channels, fields):
    plain = xmltodict.unparse({"xml": fields}, full_document=False)
    encrypted = encrypt(plain)
    before = len(channels.received)
    status, answer = wecom_post(channels, wecom_query(encrypted), envelope(encrypted))
    no_server_error(status, answer)
    shapeless = [k for k, v in fields.items() if isinstance(v, list) or (isinstance(v, dict) and v)]  # {}: empty
    if shapeless:  # a repeated or nested field is refused (403 when the XML itself is unreadable)
        assert status in (400, 403), (status, fields)
    else:
        assert status in (200, 403), (status, fields)
    channels.settle()
    for message in channels.received[before:]:
        assert isinstance(message.text, str) and message.text.strip()
        assert message.sender_id.startswith(f"wecom:{CORP}:")


@fuzz_settings(20)
@given(field=st.sampled_from(["FromUserName", "Content", "MsgType", "MsgId"]),
       ref=st.sampled_from(["&#xD800;", "&#xDFFF;", "&#55296;", "&#0;", "&#xFFFE;"]),
       head=mixed_text(2).map(lambda t: t.replace("<", "").replace("&", "").replace("]]>", "")))
def test_wecom_signed_xml_with_invalid_characters_is_refused(channels, field, ref, head):
    """XML cannot carry a lone surrogate: a character reference to one makes the callback unreadable (403)."""
    fields = {"FromUserName": "alice", "MsgType": "text", "Content": "hi", "MsgId": "1"}
    plain = "<xml>" + "".join(f"<{k}>{head + ref if k == field else v}</{k}>" for k, v in fields.items()) + "</xml>"
    encrypted = encrypt(plain)
    before = len(channels.received)
    status, answer = wecom_post(channels, wecom_query(encrypted), envelope(encrypted))
    no_server_error(status, answer)
    assert status in (400, 403), (status, answer)
    channels.settle()
    assert len(channels.received) == before


@fuzz_settings(8)
@given(depth=st.sampled_from([100, 2_000, 20_000]), field=st.sampled_from(["FromUserName", "Content", "Extra"]))
def test_wecom_signed_deeply_nested_xml_is_refused(channels, depth, field):
    nested = "<a>" * depth + "x" + "</a>" * depth
    plain = ("<xml><FromUserName>alice</FromUserName><MsgType>text</MsgType><Content>hi</Content>"
             f"<{field}>{nested}</{field}></xml>").replace("<FromUserName>alice</FromUserName>", "", field == "FromUserName")
    encrypted = encrypt(plain)
    before = len(channels.received)
    status, answer = wecom_post(channels, wecom_query(encrypted), envelope(encrypted))
    no_server_error(status, answer)
    assert status in ((400, 403) if field != "Extra" else (200, 400, 403)), (status, answer)
    channels.settle()
    for message in channels.received[before:]:
        assert "<a>" not in message.text and message.sender_id == f"wecom:{CORP}:alice"


def test_wecom_oversized_body_is_413_before_anything_else(channels):
    body = envelope("A" * (MAX_BODY_BYTES + 10))
    status, answer = wecom_post(channels, wecom_query("A" * (MAX_BODY_BYTES + 10)), body)
    assert status == 413, (status, answer[:200])


# --------------------------------------------------------------------------- web (socket.io)


class FakeSio:
    """Just enough of python-socketio's AsyncServer for calling the channel's handlers directly."""

    def __init__(self, sio: Any) -> None:
        self.handlers = sio.handlers["/"]
        self.sessions: Dict[str, Dict[str, Any]] = {}
        self.emitted: List[Tuple[str, Any]] = []
        sio.get_session = self.get_session
        sio.save_session = self.save_session
        sio.enter_room = self.noop
        sio.leave_room = self.noop
        sio.emit = self.emit

    async def get_session(self, sid: str, namespace: Optional[str] = None) -> Dict[str, Any]:
        return self.sessions.setdefault(sid, {})

    async def save_session(self, sid: str, session: Dict[str, Any], namespace: Optional[str] = None) -> None:
        self.sessions[sid] = session

    async def noop(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.emitted.append((event, data))


def web_channel() -> Tuple[WebInput, FakeSio, List[UserMessage]]:
    received: List[UserMessage] = []

    async def on_new_message(message: UserMessage) -> None:
        received.append(message)

    channel = WebInput(verifier=TokenVerifier(secret="fuzz-web-secret-0123456789abcdef"),
                       signer=SessionSigner(b"fuzz-session-key-0123456789abcdef"), require_token=False,
                       origins=["http://127.0.0.1:8000"])
    channel.blueprint(on_new_message)
    return channel, FakeSio(channel.sio), received


@fuzz_settings(80)
@given(auth=st.one_of(json_values(3), st.fixed_dictionaries({"token": invalid_unicode_text(2)}),
                      st.fixed_dictionaries({"session_id": invalid_unicode_text(2)})),
       data=st.one_of(json_values(4), st.fixed_dictionaries(
           {"message": st.one_of(mixed_text(6), json_values(2), invalid_unicode_text(4))},
           optional={"session_id": st.one_of(json_values(2), invalid_unicode_text(2)),
                     "metadata": st.one_of(json_values(3), mixed_text(2),
                                           st.dictionaries(invalid_unicode_text(1), mixed_text(1), min_size=1,
                                                           max_size=2)),
                     "customData": json_values(2)})))
@example(auth=None, data={"message": "预算\udfff多少"})
@example(auth={"token": "a.b\udfff.c"}, data={"message": "hi"})
@example(auth={"token": "x.y.z"}, data={"message": "hi", "metadata": '{"identity": {"team": "t", "user": "u"}}'})
@example(auth=None, data={"message": "hi", "metadata": "[1, 2]"})
def test_web_socket_handlers_survive_any_payload(auth, data):
    from socketio.exceptions import ConnectionRefusedError as Refused

    async def scenario() -> List[UserMessage]:
        channel, fake, received = web_channel()
        try:
            await fake.handlers["connect"]("sid-1", {}, auth)
        except Refused:
            return received  # a refused socket sends nothing
        await fake.handlers["session_request"]("sid-1", data)
        await fake.handlers["user_uttered"]("sid-1", data)
        return received

    from bot.channels.limits import invalid_unicode

    for message in asyncio.run(scenario()):
        assert isinstance(message.text, str) and message.text.strip()
        assert "identity" not in (message.metadata or {})  # anonymous: client-sent identity is dropped
        assert not invalid_unicode([message.text, message.sender_id, message.metadata])  # answered politely instead


@fuzz_settings(5)
@given(unit=st.sampled_from(["Met Maria at Acme today 🙂 <b>x</b> ", "今天和刘建国开了会，他说预算两百万。",
                             "今天和劉建國開了會，他說預算兩百萬。"]),
       extra=st.integers(1, 3000))
@example(unit="Met Maria at Acme today 🙂 <b>x</b> ", extra=1)
def test_web_oversized_message_is_refused_with_a_clear_reply_not_cut(unit, extra):
    limit = max_message_chars()
    text = (unit * (limit // len(unit) + 2))[:limit + extra]

    async def scenario() -> Tuple[List[UserMessage], List[Tuple[str, Any]]]:
        channel, fake, received = web_channel()
        await fake.handlers["connect"]("sid-1", {}, None)
        await fake.handlers["session_request"]("sid-1", {})
        await fake.handlers["user_uttered"]("sid-1", {"message": text})
        return received, fake.emitted

    received, emitted = asyncio.run(scenario())
    assert received == [], "an over-long message reached Rasa"
    lang = "zh-Hant" if "劉" in unit else "zh-Hans" if "刘" in unit else "en"
    expected = i18n.render("message_too_long", lang, length=f"{len(text):,}", limit=f"{limit:,}")
    assert ("bot_uttered", {"text": expected}) in emitted, emitted


@fuzz_settings(20)
@given(head=mixed_text(2), nuls=st.integers(1, 3))
def test_web_message_reaches_rasa_without_nul_characters(head, nuls):
    text = "\x00" * nuls + "Met Maria at Acme" + "\x00" + head

    async def scenario() -> List[UserMessage]:
        channel, fake, received = web_channel()
        await fake.handlers["connect"]("sid-1", {}, None)
        await fake.handlers["session_request"]("sid-1", {})
        await fake.handlers["user_uttered"]("sid-1", {"message": text})
        await fake.handlers["user_uttered"]("sid-1", {"message": "\x00" * nuls})  # nothing but NULs: nothing
        return received

    [message] = asyncio.run(scenario())
    assert message.text == text.replace("\x00", "").strip()  # (Rasa's UserMessage strips every text)
