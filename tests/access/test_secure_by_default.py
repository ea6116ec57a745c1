"""Secure by default: each finding of the attacker's pass, tried against the real servers as `make run` starts them.

The servers get what `make run` gives them: an action-server token, an HTTP API token
(RASA_API_TOKEN), no REST token, Rasa on 127.0.0.1. Every test here failed before the fix it
names (one request stopped Rasa; a cross-site POST wrote and deleted accounts; a second
X-Forwarded-For line or a bare Forwarded header passed as local; REST ids opened other
channels' conversations and teams; deleted people stayed in charts and conversation history;
one locked database stalled every rep; the action server served calls without a token;
meeting prep failed for a new rep).
"""
from __future__ import annotations

import json
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from typing import Any, Optional

import pytest

from bot import i18n
from tests.conftest import MODEL_PATH
from tests.servers import REPO, VENV_BIN, Servers, base_env, free_port, running_servers

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def servers(tmp_path_factory):  # noqa: ANN001, ANN201
    with running_servers(tmp_path_factory.mktemp("secure"), MODEL_PATH) as s:
        yield s


def raw_post(url: str, body: bytes, headers: Optional[dict[str, str]] = None,
             content_type: Optional[str] = "application/json") -> tuple[int, str]:
    """POSTs bytes as they are (a JSON body may spell lone surrogates), returning status and text."""
    head = dict(headers or {})
    if content_type:
        head["Content-Type"] = content_type
    req = urllib.request.Request(url, data=body, method="POST", headers=head)
    try:
        with urllib.request.urlopen(req, timeout=120) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def get(url: str, headers: Optional[dict[str, str]] = None) -> tuple[int, str]:
    """Status and text of a GET (0 when nothing listens there)."""
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")
    except OSError:
        return 0, ""


def rest(servers: Servers, sender: str, message: str, headers: Optional[dict[str, str]] = None,
         content_type: Optional[str] = "application/json") -> tuple[int, str]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    status, text = raw_post(f"{servers.rasa_url}/webhooks/rest/webhook", body, headers, content_type)
    try:
        text = " ".join(m.get("text") or "" for m in json.loads(text)) if status == 200 else text
    except ValueError:
        pass
    return status, text


def new_sender(kind: str = "rep") -> str:
    return f"{kind}-{uuid.uuid4().hex[:10]}"


def accounts_of(servers: Servers, team_key: str) -> list[str]:
    with sqlite3.connect(servers.database_url.removeprefix("sqlite:///")) as db:
        return [r[0] for r in db.execute(
            "SELECT a.name FROM accounts a JOIN teams t ON t.id = a.team_id WHERE t.key = ?", (team_key,))]


def alive(servers: Servers) -> bool:
    return servers.procs["rasa"].poll() is None and get(f"{servers.rasa_url}/status")[0] == 200


# --- 1. one request must not stop the server ------------------------------------------------


def test_a_lone_surrogate_in_the_sender_id_is_a_400_and_rasa_keeps_running(servers):
    url = f"{servers.rasa_url}/webhooks/rest/webhook"
    for body in (b'{"sender":"\\udfff","message":"hi"}', b'{"sender":"rep\\ud800x","message":"hi"}'):
        status, text = raw_post(url, body)
        assert status == 400 and "Unicode" in text
    time.sleep(1)
    assert alive(servers)
    assert rest(servers, new_sender(), "hi")[0] == 200


@pytest.mark.parametrize("message, lang", [("hi \\udfff there", "en"), ("你好\\ud83d", "zh-Hans"),
                                            ("預算\\udc00多少", "zh-Hant")])
def test_a_lone_surrogate_in_a_message_gets_a_polite_reply_in_the_reps_language(servers, message, lang):
    sender = new_sender()
    status, text = raw_post(f"{servers.rasa_url}/webhooks/rest/webhook",
                            f'{{"sender": "{sender}", "message": "{message}"}}'.encode())
    assert status == 200
    assert [m["text"] for m in json.loads(text)] == [i18n.render("message_unreadable", lang)]
    assert alive(servers)


def test_lone_surrogates_in_metadata_are_a_400(servers):
    status, text = raw_post(f"{servers.rasa_url}/webhooks/rest/webhook",
                            b'{"sender":"rep-meta","message":"hi","metadata":{"page":"\\udfff"}}')
    assert status == 400 and alive(servers)


# --- 2. cross-site requests and DNS rebinding -------------------------------------------------


def test_a_cross_site_text_plain_post_cannot_write_an_account(servers):
    sender = new_sender("victim")
    for headers, content_type in (({"Origin": "http://evil.example"}, "text/plain"),
                                  ({"Origin": "http://evil.example"}, "application/json"),
                                  ({"Sec-Fetch-Site": "cross-site"}, "application/json"),
                                  ({"Origin": "null"}, "application/json"),
                                  ({}, "text/plain"), ({}, "application/x-www-form-urlencoded")):
        status, _ = rest(servers, sender, "Add account Evilcorp Holdings", headers, content_type)
        assert status in (403, 415), (headers, content_type)
    assert accounts_of(servers, f"solo:{sender}") == []


def test_a_cross_site_page_cannot_delete_an_account(servers):
    sender = new_sender("victim")
    assert rest(servers, sender, "Add account Keepsafe Industries")[0] == 200
    evil = {"Origin": "http://evil.example"}
    assert rest(servers, sender, "delete the Keepsafe Industries account", evil, "text/plain")[0] in (403, 415)
    assert rest(servers, sender, "yes", evil, "text/plain")[0] in (403, 415)
    assert accounts_of(servers, f"solo:{sender}") == ["Keepsafe Industries"]


@pytest.mark.parametrize("path, body", [("/webhooks/rest/webhook", {"sender": "rebind", "message": "hi"}),
                                        ("/model/parse", {"text": "hi"})])
def test_a_foreign_host_name_is_refused(servers, path, body):
    """DNS rebinding: evil.example resolves to 127.0.0.1, so the browser sends Host: evil.example."""
    status, text = raw_post(servers.rasa_url + path, json.dumps(body).encode(), {"Host": f"evil.example:{servers.rasa_port}"})
    assert status == 403 and "Host" in text
    assert raw_post(servers.rasa_url + path, json.dumps(body).encode())[0] == 200  # from this machine, same origin


def test_no_cors_preflight_is_granted(servers):
    req = urllib.request.Request(f"{servers.rasa_url}/webhooks/rest/webhook", method="OPTIONS",
                                 headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
                                          "Access-Control-Request-Headers": "content-type"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            allowed = resp.headers.get("Access-Control-Allow-Origin")
    except urllib.error.HTTPError as exc:
        allowed = exc.headers.get("Access-Control-Allow-Origin")
    assert allowed in (None, "")


def test_the_http_api_is_admin_only_for_conversations_and_actions(servers):
    victim = new_sender("victim")
    assert rest(servers, victim, "Add account Hushhush Ltd")[0] == 200
    forged = {"event": "user", "text": "list my accounts", "input_channel": "slack",
              "metadata": {"identity": {"team": "T1", "user": "U1"}},
              "parse_data": {"intent": {"name": "list_accounts", "confidence": 1}, "entities": []}}
    for method, path, body in (("GET", f"/conversations/{victim}/tracker", None),
                               ("POST", f"/conversations/{victim}/tracker/events", forged),
                               ("POST", f"/conversations/{victim}/execute", {"name": "action_list_accounts"}),
                               ("POST", f"/conversations/{victim}/messages", {"text": "hi", "sender": "user"})):
        url = servers.rasa_url + path
        if method == "GET":
            status, text = get(url)
        else:
            status, text = raw_post(url, json.dumps(body).encode())
        assert status in (401, 403) and "Hushhush" not in text, path
        assert raw_post(url + "?token=wrong", json.dumps(body or {}).encode())[0] in (401, 403) or method == "GET"
    status, text = get(f"{servers.rasa_url}/conversations/{victim}/tracker",
                       {"Authorization": f"Bearer {servers.api_token}"})
    assert status == 200 and "Hushhush" in text  # the administrator, with the token
    assert raw_post(f"{servers.rasa_url}/model/parse", b'{"text": "hi"}')[0] == 200  # stateless NLU stays open locally


# --- 3. forwarding headers ----------------------------------------------------------------------


@pytest.mark.parametrize("headers", [
    [("X-Forwarded-For", "127.0.0.1"), ("X-Forwarded-For", "203.0.113.9")],   # two header lines
    [("Forwarded", "for=127.0.0.1")],                                           # a proxy that only says Forwarded
    [("Forwarded", 'for="[::1]"'), ("X-Forwarded-For", "127.0.0.1")],
    [("X-Real-IP", "203.0.113.9")],
])
def test_every_forwarding_header_line_counts(servers, headers):
    assert _raw_http(servers, headers) == 403


def _raw_http(servers: Servers, headers: list[tuple[str, str]]) -> int:
    """Sends a request with repeated header lines exactly as given (urllib would merge them)."""
    import socket

    body = json.dumps({"sender": "proxied", "message": "list my accounts"}).encode()
    lines = ["POST /webhooks/rest/webhook HTTP/1.1", f"Host: 127.0.0.1:{servers.rasa_port}",
             "Content-Type: application/json", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    with socket.create_connection(("127.0.0.1", servers.rasa_port), timeout=60) as conn:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


# --- 4. conversation ids and teams of other channels -------------------------------------------


@pytest.mark.parametrize("sender", ["slack:T123:U456", "wecom:wwcorp:zhangsan", "web:acme:alice",
                                    "web-anon:Q2hhbmdlIG1lIHBsZWFzZSE", "Slack:T123:U456"])
def test_a_rest_sender_cannot_name_another_channels_conversation(servers, sender):
    status, text = rest(servers, sender, "list my accounts")
    assert status == 400 and "another channel" in text


def test_a_sender_that_spells_out_a_hash_cannot_reach_the_hashed_team(servers):
    from bot.identity import caller_from

    long_sender = "long-" + "x" * 193  # 198 characters: "solo:" + it is over the 200 a key column holds
    assert "Hashvault" in rest(servers, long_sender, "Add account Hashvault Partners")[1]
    hashed = caller_from(long_sender, "rest", {}).team_key
    spelled = hashed.split("#", 1)[1]  # "sha256:<hex>"
    status, text = rest(servers, spelled, "list my accounts")
    assert status == 200 and "Hashvault" not in text
    assert accounts_of(servers, hashed) == ["Hashvault Partners"]


# --- 5. deletion leaves nothing behind --------------------------------------------------------


def _tracker_text(servers: Servers, sender: str) -> str:
    status, text = get(f"{servers.rasa_url}/conversations/{sender}/tracker?include_events=ALL",
                       {"Authorization": f"Bearer {servers.api_token}"})
    assert status == 200
    return json.dumps(json.loads(text), ensure_ascii=False)


def _charts(servers: Servers) -> set[str]:
    return {p.name for p in servers.chart_dir.glob("*.png")}


def test_deleting_a_person_removes_their_charts_and_their_name_from_the_history(servers):
    sender = new_sender()
    assert rest(servers, sender, "新建客户永昌纺织，纺织行业")[0] == 200
    rest(servers, sender, "永昌纺织的欧阳静怡是财务总监，是反对者，影响力三成")
    rest(servers, sender, "永昌纺织的马国强是总经理，是决策者")
    before = _charts(servers)
    assert "欧阳静怡" in rest(servers, sender, "看看永昌纺织的权力地图")[1]
    power_maps = _charts(servers) - before
    assert power_maps and "欧阳静怡" in _tracker_text(servers, sender)
    assert "欧阳静怡" in rest(servers, sender, "删除欧阳静怡的所有个人信息")[1]
    status, done = rest(servers, sender, "是的")
    assert status == 200 and "欧阳静怡" not in done
    assert not power_maps & _charts(servers), "the power map naming her is still published"
    history = _tracker_text(servers, sender)
    assert "欧阳静怡" not in history and "马国强" in history  # only the deleted person is erased
    summary = rest(servers, sender, "永昌纺织的概况")[1]
    assert "马国强" in summary and "欧阳静怡" not in summary


def test_deleting_an_account_removes_its_charts_and_its_names_from_the_history(servers):
    sender = new_sender()
    rest(servers, sender, "Add account Brightwater Pharma, healthcare")
    rest(servers, sender, "Imogen Hartley is the CFO at Brightwater Pharma, a supporter with 40% influence")
    before = _charts(servers)
    rest(servers, sender, "show the power map of Brightwater Pharma")
    power_maps = _charts(servers) - before
    assert power_maps
    assert "Brightwater" in rest(servers, sender, "delete the Brightwater Pharma account")[1]
    assert rest(servers, sender, "yes")[0] == 200
    assert accounts_of(servers, f"solo:{sender}") == []
    assert not power_maps & _charts(servers)
    history = _tracker_text(servers, sender)
    assert "Imogen" not in history and "Hartley" not in history and "Brightwater" not in history


def test_charts_expire(tmp_path):
    """An old chart is neither served by the web page nor uploaded by a channel, and is purged."""
    import os

    from bot import media

    charts = tmp_path / "charts"
    env = base_env(CHART_DIR=str(charts), CHART_RETENTION_HOURS="1", PUBLIC_BASE_URL="http://127.0.0.1:1")
    old_env = {k: os.environ.get(k) for k in ("CHART_DIR", "CHART_RETENTION_HOURS", "PUBLIC_BASE_URL")}
    os.environ.update({k: env[k] for k in old_env})
    try:
        fresh = media.publish(b"\x89PNG fresh")
        stale = media.publish(b"\x89PNG stale")
        stale_path = charts / media.file_name(stale)
        two_hours_ago = time.time() - 7200
        os.utime(stale_path, (two_hours_ago, two_hours_ago))
        assert media.local_path(fresh) and media.local_path(stale) is None
        port = free_port()
        web = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot.webpage", "--port", str(port)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            for _ in range(100):
                if get(f"http://127.0.0.1:{port}/config.js")[0] == 200:
                    break
                time.sleep(0.1)
            assert get(f"http://127.0.0.1:{port}/charts/{media.file_name(fresh)}")[0] == 200
            assert get(f"http://127.0.0.1:{port}/charts/{media.file_name(stale)}")[0] == 404
        finally:
            web.terminate()
            web.wait(10)
        assert media.purge_expired(force=True) == 1 and not stale_path.exists()
    finally:
        for k, v in old_env.items():
            os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


# --- 6. one locked database must not stall every rep --------------------------------------------


def test_a_locked_database_delays_only_the_rep_who_writes(servers):
    writer, reader = new_sender("writer"), new_sender("reader")
    assert rest(servers, writer, "hi")[0] == 200 and rest(servers, reader, "hi")[0] == 200  # both reps exist
    db = sqlite3.connect(servers.database_url.removeprefix("sqlite:///"), timeout=1, isolation_level=None)
    db.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    results: dict[str, Any] = {}

    def write() -> None:
        started = time.monotonic()
        results["write"] = rest(servers, writer, "Add account Lockstep Logistics")
        results["write_s"] = time.monotonic() - started

    try:
        thread = threading.Thread(target=write)
        thread.start()
        time.sleep(1.0)
        started = time.monotonic()
        status, text = rest(servers, reader, "what can you do")
        results["read_s"] = time.monotonic() - started
        thread.join(60)
    finally:
        db.execute("ROLLBACK")
        db.close()
    assert status == 200 and text.strip() == i18n.render("capabilities", "en").strip(), text
    assert results["read_s"] < results["write_s"]
    assert results["write"][0] == 200 and "took too long" not in results["write"][1]
    assert "Lockstep" in rest(servers, writer, "Add account Lockstep Logistics")[1]  # and it works once free


# --- 7. the action server needs its token --------------------------------------------------------


def test_the_action_server_refuses_to_start_without_a_token(tmp_path):
    port = free_port()
    env = base_env(ACTION_SERVER_TOKEN="", ACTION_SERVER_PORT=str(port),
                   DATABASE_URL=f"sqlite:///{tmp_path / 'a.db'}")
    env.pop("ACTION_SERVER_INSECURE", None)
    done = subprocess.run([str(VENV_BIN / "python"), "-m", "bot.action_server"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ACTION_SERVER_TOKEN is not set" in done.stdout + done.stderr
    env["ACTION_SERVER_INSECURE"] = "true"
    proc = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot.action_server"], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(300):
            if get(f"http://127.0.0.1:{port}/health")[0] == 200:
                break
            time.sleep(0.2)
        assert get(f"http://127.0.0.1:{port}/health")[0] == 200  # said on purpose: it starts, and warns
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert "accepts calls without a token" in output


# --- 8. smaller findings ---------------------------------------------------------------------


def test_a_malformed_slash_command_never_puts_the_message_in_rasas_log(servers):
    marker = f"secretpricing{uuid.uuid4().hex[:8]}"
    for text in (f"/inform{{not json {marker}", f"/no_such_intent_{marker}", f"/affirm@x{marker}"):
        assert rest(servers, new_sender(), text)[0] == 200
    time.sleep(1)
    assert marker not in (servers.workdir / "rasa.log").read_text(encoding="utf-8", errors="replace")


def test_needs_lose_bidi_overrides(servers):
    sender = new_sender()
    rest(servers, sender, "Add account Mirrorline Retail")
    rest(servers, sender, "Mirrorline Retail's need is faster \u202estock counts\u202c at night")
    with sqlite3.connect(servers.database_url.removeprefix("sqlite:///")) as db:
        needs = [r[0] for r in db.execute("SELECT description FROM needs")]
    assert any("stock counts" in n for n in needs)
    assert not any(c in n for n in needs for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def test_slack_health_says_when_slack_is_not_configured(servers):
    status, text = get(f"{servers.rasa_url}/webhooks/slack/")
    assert status == 503 and "not configured" in text


# --- 9. the first thing a new rep may try -------------------------------------------------------


@pytest.mark.parametrize("text, expect", [("help me prepare for my meeting", "Situation questions"),
                                          ("帮我准备明天的拜访", "背景问题"), ("幫我準備明天的拜訪", "背景問題")])
def test_meeting_prep_works_for_a_rep_with_no_accounts(servers, text, expect):
    status, reply = rest(servers, new_sender(), text)
    assert status == 200 and expect in reply, reply
    assert i18n.render("error_generic", "en") not in reply
