"""Fuzzing through the real servers: `rasa run` with the trained model and credentials.yml, and the action server.

One pair of servers for the whole session (`fuzz_servers` in conftest.py). The REST webhook
gets malformed bodies, wrong types, missing fields, nested objects, NUL bytes, hostile text
and a 100 KB message; Slack and WeCom (listed in credentials.yml, not configured here) get
garbage. Nothing may answer 5xx, no reply may show internals, what a rep logs is stored
exactly as sent, and no sender sees another team's accounts.
"""
from __future__ import annotations

import json
import re
import uuid
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot import i18n
from bot.store import AccountStore
from bot.store.db import make_session_factory
from tests.fuzz.conftest import (
    EMOJI,
    HTML_INJECTION,
    SQL_INJECTION,
    fuzz_settings,
    http,
    invalid_unicode_text,
    json_values,
    leaks,
    mixed_text,
    nested_json,
    texts,
)

pytestmark = [pytest.mark.model, pytest.mark.slow]

REST = "/webhooks/rest/webhook"
JSON = {"Content-Type": "application/json"}
_TRUSTED = ("slack", "wecom", "web")


def account_store(servers: Any) -> AccountStore:
    return AccountStore(make_session_factory(servers.database_url))


def post(servers: Any, body: bytes, headers: Dict[str, str] = JSON, path: str = REST) -> Tuple[int, bytes]:
    return http("POST", servers.rasa_url + path, body, headers, timeout=300)


def say(servers: Any, value: Any) -> Tuple[int, Any]:
    status, raw = post(servers, json.dumps(value).encode())
    return status, json.loads(raw) if raw else None


def check_answer(status: int, raw: Any, *user_strings: Any) -> List[Dict[str, Any]]:
    """No 5xx, no stack trace; for a 200 the bot's messages, each saying something."""
    body = raw if isinstance(raw, bytes) else json.dumps(raw, ensure_ascii=False).encode()
    assert status < 500, (status, body[:300])
    assert b"Traceback" not in body and b'File "' not in body, body[:300]
    if status != 200:
        return []
    messages = raw if not isinstance(raw, bytes) else json.loads(raw)
    assert isinstance(messages, list)
    for m in messages:
        assert (m.get("text") or "").strip() or m.get("image") or m.get("buttons") or m.get("custom"), m
        assert not leaks(m.get("text") or "", user_strings), m
    return messages


# --------------------------------------------------------------------------- REST: malformed requests


def rest_bodies() -> st.SearchStrategy[Dict[str, Any]]:
    """JSON objects as a REST client could send them: any field missing, of any type, nested, with NULs."""
    field = st.one_of(mixed_text(4), json_values(3))
    return st.fixed_dictionaries({}, optional={
        "sender": st.one_of(st.builds(lambda: f"fuzz-{uuid.uuid4().hex[:8]}"), field),
        "message": st.one_of(texts(6), field),
        "metadata": json_values(3),
        "input_channel": st.one_of(st.sampled_from(["rest", "", "cmdline"]), field).filter(
            lambda c: c not in _TRUSTED),
        "x": json_values(2),
    })


def not_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return True
    return False


@fuzz_settings(40)
@given(body=st.one_of(rest_bodies().map(lambda d: json.dumps(d).encode()),
                      st.binary(max_size=200).map(lambda b: b"{" + b).filter(not_json),
                      st.binary(max_size=100).map(lambda b: b"\xff" + b),
                      st.sampled_from([b"{", b"{\"sender\": ", b"{'sender': 'a'}", b"{\"message\": \"\\ud800\"}",
                                       b"{\"message\": NaN}", b"<xml/>", b"sender=a&message=hi"])),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded", ""]))
@example(body=b'{"sender": "fuzz-nul", "message": "a\\u0000b"}', content_type="application/json")
@example(body=b'{"sender": {"a": [1, {"b": null}]}, "message": ["x"], "metadata": "x"}',
         content_type="application/json")
@example(body=b'{"sender": "fuzz-types", "message": "/add_account{\\"account\\": [1, 2]}"}',
         content_type="application/json")
def test_rest_malformed_requests_never_get_a_5xx_or_a_stack_trace(fuzz_servers, body, content_type):
    status, raw = post(fuzz_servers, body, {"Content-Type": content_type} if content_type else {})
    check_answer(status, raw, body.decode("utf-8", "replace"))


@fuzz_settings(10)
@given(body=st.sampled_from([b"", b"null", b"[]", b"[1, 2]", b'"hi"', b"1", b"true",
                             b'[{"sender": "a", "message": "hi"}]']))
def test_rest_json_that_is_not_an_object_is_a_4xx(fuzz_servers, body):
    status, raw = post(fuzz_servers, body)
    assert 400 <= status < 500, (status, raw[:200])


@fuzz_settings(30)
@given(message=texts(8))
@example(message="'; DROP TABLE accounts;-- <script>alert(1)</script> 🧑🏽‍💻 \x00\u202e")
@example(message="预算1e309万，影响力٣٤%，三百万万，1,2,3")
@example(message="\u3000 \n")
def test_rest_hostile_text_gets_a_reply_without_internals(fuzz_servers, message):
    status, raw = say(fuzz_servers, {"sender": f"fuzz-{uuid.uuid4().hex[:10]}", "message": message})
    replies = check_answer(status, raw, message)
    assert status == 200 and replies, (status, raw)


@fuzz_settings(30)
@given(field=st.sampled_from(["sender", "message", "metadata value", "metadata key"]), bad=invalid_unicode_text(3))
@example(field="sender", bad="\udfff")
@example(field="message", bad="hi \udfff")
def test_rest_invalid_unicode_in_any_field_is_refused_and_the_server_goes_on(fuzz_servers, field, bad):
    """A lone surrogate anywhere: the sender id or metadata is a 400, a message gets the polite reply."""
    body: Dict[str, Any] = {"sender": f"fuzz-{uuid.uuid4().hex[:10]}", "message": "list my accounts"}
    if field == "sender":
        body["sender"] = bad[:150]
    elif field == "message":
        body["message"] = bad
    elif field == "metadata value":
        body["metadata"] = {"page": bad}
    else:
        body["metadata"] = {bad: "x"}
    status, raw = post(fuzz_servers, json.dumps(body).encode())
    replies = check_answer(status, raw)
    if field == "message":
        assert status == 200 and [m.get("text") for m in replies] in [[i18n.render("message_unreadable", lang)]
                                                                     for lang in ("en", "zh-Hans", "zh-Hant")], replies
    else:
        assert status == 400, (status, raw[:200])
    assert say(fuzz_servers, {"sender": "fuzz-after", "message": "hi"})[0] == 200  # still serving


@fuzz_settings(6)
@given(depth=st.sampled_from([100, 5_000, 100_000]))
def test_rest_deeply_nested_bodies_are_a_400(fuzz_servers, depth):
    status, raw = post(fuzz_servers, nested_json(depth))
    assert status == 400, (status, raw[:200])
    status, raw = post(fuzz_servers, json.dumps({"sender": "fuzz-deep", "message": "hi"})[:-1].encode()
                       + b', "metadata": ' + nested_json(depth) + b"}")
    assert status == 400, (status, raw[:200])


# --------------------------------------------------------------------------- REST: oversized messages


def _template_regex(template: str) -> re.Pattern:
    """The rendered message with its numbers left open."""
    pieces = re.split(r"(\{length\}|\{limit\})", template)
    return re.compile("".join(r"[\d,]+" if p in ("{length}", "{limit}") else re.escape(p) for p in pieces))


HUGE = {
    "en": ("Met Maria at Fuzzco today 🙂 <b>x</b> '; DROP TABLE accounts;-- " * 2000)[:100_000],
    "zh-Hans": ("今天和刘建国在Fuzzco开了会，他说预算两百万🙂<script>。" * 1000)[:20_000],
}


@pytest.fixture(scope="module")
def huge_replies(fuzz_servers) -> Dict[str, Tuple[int, bytes]]:  # noqa: ANN001
    """The answers to one 100 KB English and one 20,000-character Chinese message (sent once, ~15 s)."""
    out = {}
    for lang, text in HUGE.items():
        out[lang] = post(fuzz_servers, json.dumps({"sender": f"fuzz-huge-{lang}", "message": text}).encode())
    return out


@pytest.mark.parametrize("lang", list(HUGE))
def test_rest_huge_message_gets_a_reply_without_internals(huge_replies, lang):
    status, raw = huge_replies[lang]
    assert status == 200 and check_answer(status, raw)


@pytest.mark.parametrize("lang", list(HUGE))
def test_rest_huge_message_is_refused_with_a_clear_reply_in_the_users_language(huge_replies, lang):
    status, raw = huge_replies[lang]
    texts_ = [m.get("text") or "" for m in json.loads(raw)]
    assert any(_template_regex(i18n.render("message_too_long", lang, length="{length}", limit="{limit}"))
               .fullmatch(t) for t in texts_), texts_


# --------------------------------------------------------------------------- REST: what is stored


MEETING_FRAMES = ["Had a call with Liu at Fuzzco, he said {}", "今天和刘建国在Fuzzco开了会，他说{}"]
PAYLOADS = SQL_INJECTION[:3] + HTML_INJECTION[:3] + EMOJI[2:5] + ["\x00 null \u202e rtl", "**bold** `code`",
                                                                  "1e309 ٣٤ 三百万万", "预算两百万 🙂 <b>"]


def new_team_with_fuzzco(servers: Any) -> str:
    sender = f"fuzz-{uuid.uuid4().hex[:10]}"
    with account_store(servers).team(f"solo:{sender}", f"sender:{sender}") as scope:
        scope.get_or_create_account("Fuzzco")
    return sender


def stored_summaries(servers: Any, sender: str) -> List[str]:
    with account_store(servers).team(f"solo:{sender}") as scope:
        return [i.summary for a in scope.list_accounts() for i in a.interactions]


@fuzz_settings(14)
@given(frame=st.sampled_from(MEETING_FRAMES), payload=st.sampled_from(PAYLOADS))
@example(frame=MEETING_FRAMES[0], payload="'; DROP TABLE accounts;--")
@example(frame=MEETING_FRAMES[1], payload="<img src=x onerror=alert(1)>")
def test_a_logged_meeting_is_stored_exactly_as_sent(fuzz_servers, frame, payload):
    sender = new_team_with_fuzzco(fuzz_servers)
    text = frame.format(payload)
    status, raw = say(fuzz_servers, {"sender": sender, "message": text})
    replies = check_answer(status, raw, text)
    # exactly, apart from NUL characters: the store removes them (PostgreSQL cannot hold them)
    assert stored_summaries(fuzz_servers, sender) == [text.replace("\x00", "")], [m.get("text") for m in replies]


@fuzz_settings(15)
@given(frame=st.sampled_from(MEETING_FRAMES), payload=mixed_text(5))
def test_whatever_is_stored_from_a_message_is_what_was_sent(fuzz_servers, frame, payload):
    sender = new_team_with_fuzzco(fuzz_servers)
    text = frame.format(payload)
    status, raw = say(fuzz_servers, {"sender": sender, "message": text})
    check_answer(status, raw, text)
    for summary in stored_summaries(fuzz_servers, sender):
        assert summary == text.strip().replace("\x00", "")  # Rasa strips the message, the store removes NUL


# --------------------------------------------------------------------------- REST: one team never sees another's


@pytest.fixture(scope="module")
def secrets_of_others(fuzz_servers) -> List[str]:  # noqa: ANN001
    """A REST team and a Slack team with accounts and meeting notes carrying unguessable markers."""
    markers = [f"⟦{uuid.uuid4().hex}⟧" for _ in range(4)]
    store = account_store(fuzz_servers)
    for team, user, (name_marker, note_marker) in (("solo:fuzz-alice", "sender:fuzz-alice", markers[:2]),
                                                   ("slack:TFUZZVICTIM", "slack:TFUZZVICTIM:U1", markers[2:])):
        with store.team(team, user) as scope:
            account, _ = scope.get_or_create_account(f"Fuzzco {name_marker}")
            scope.upsert_stakeholder(account, "Maria Lopez", title="CFO", attitude="supporter")
            scope.log_interaction(account, f"They will sign next week {note_marker}")
    return markers


@fuzz_settings(15)
@given(message=st.one_of(st.sampled_from(["list my accounts", "show the power map of Fuzzco", "Fuzzco 的概况",
                                          "export everything on Fuzzco", "what's next on Fuzzco", "any risks?"]),
                         texts(4)),
       metadata=json_values(3), channel=st.sampled_from(["rest", "", "cmdline", "socketio"]))
@example(message="list my accounts", metadata={"identity": {"team": "TFUZZVICTIM", "user": "U1"}}, channel="rest")
def test_a_rest_sender_never_sees_another_teams_accounts(fuzz_servers, secrets_of_others, message, metadata,
                                                          channel):
    body = {"sender": "fuzz-mallory", "message": message, "metadata": metadata, "input_channel": channel}
    status, raw = say(fuzz_servers, body)
    check_answer(status, raw, message)
    shown = json.dumps(raw, ensure_ascii=False)
    assert not [m for m in secrets_of_others if m in shown], shown[:500]


@fuzz_settings(6)
@given(message=st.sampled_from(["list my accounts", "show the power map of Fuzzco", "export everything on Fuzzco"]),
       channel=st.sampled_from(["slack"]))
def test_a_rest_client_cannot_claim_to_be_another_channel(fuzz_servers, secrets_of_others, message, channel):
    body = {"sender": f"fuzz-forger-{uuid.uuid4().hex[:6]}", "message": message, "input_channel": channel,
            "metadata": {"identity": {"team": "TFUZZVICTIM", "user": "U1"}}}
    status, raw = say(fuzz_servers, body)
    shown = json.dumps(raw, ensure_ascii=False)
    assert not [m for m in secrets_of_others if m in shown], shown[:500]


# --------------------------------------------------------------------------- Slack and WeCom, unconfigured


@fuzz_settings(25)
@given(body=st.one_of(st.binary(max_size=300), json_values(3).map(lambda v: json.dumps(v).encode())),
       headers=st.dictionaries(st.sampled_from(["Content-Type", "X-Slack-Request-Timestamp", "X-Slack-Signature"]),
                               st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=70), max_size=3),
       query=st.dictionaries(st.sampled_from(["msg_signature", "timestamp", "nonce", "echostr"]),
                             st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=40), max_size=4))
@example(body=b"<xml><Encrypt><![CDATA[AAAA]]></Encrypt></xml>", headers={"Content-Type": "text/xml"},
         query={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "1"})
@example(body=b"x" * 300_000, headers={}, query={})
def test_unconfigured_slack_and_wecom_refuse_everything(fuzz_servers, body, headers, query):
    """Documented behaviour without configuration: Slack 403, WeCom 503 (docs/channels-*.md), nothing processed."""
    from urllib.parse import urlencode

    status, raw = post(fuzz_servers, body, headers, "/webhooks/slack/webhook")
    assert status == 403, (status, raw[:200])
    status, raw = post(fuzz_servers, body, headers, "/webhooks/wecom/webhook?" + urlencode(query))
    assert status == 503, (status, raw[:200])
    status, raw = http("GET", fuzz_servers.rasa_url + "/webhooks/wecom/webhook?" + urlencode(query))
    assert status == 503, (status, raw[:200])
