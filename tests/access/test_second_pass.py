"""The second attacker's pass (after the first round of fixes), finding by finding.

Each test failed before its fix: erasing a contact named "event" broke every event of the team's
history; an anonymous web visitor joined the `DEFAULT_TEAM`; 90 MB of metadata was stored four
times; `/model/parse` had no length limit and answered 500 to bad input; the databases were
world-readable; SQL errors logged account values; a delete command naming a field deleted the
whole account.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import stat
import subprocess
import time

import pytest

from bot.store import history
from tests.access.test_secure_by_default import accounts_of, alive, new_sender, raw_post, rest
from tests.conftest import MODEL_PATH
from tests.servers import REPO, VENV_BIN, base_env, free_port, running_servers

# --- history erasure rewrites what was said, never the event's structure -------------------------

def _tracker_db(path, sender: str, events: list[dict]) -> str:
    url = f"sqlite:///{path}"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, data TEXT)")
        db.executemany("INSERT INTO events (sender_id, type_name, data) VALUES (?, ?, ?)",
                       [(sender, e["event"], json.dumps(e)) for e in events])
    return url


def test_erasing_a_name_that_is_also_a_schema_word_keeps_every_event_readable(tmp_path):
    events = [
        {"event": "user", "timestamp": 1.0, "text": "User is the CFO at Gotham",
         "parse_data": {"intent": {"name": "add_stakeholder"}, "text": "User is the CFO at Gotham",
                        "entities": [{"entity": "person", "value": "User"}]}, "metadata": {}},
        {"event": "action", "timestamp": 2.0, "name": "action_save_stakeholder", "policy": "RulePolicy"},
        {"event": "slot", "timestamp": 3.0, "name": "form_person", "value": "User"},
        {"event": "bot", "timestamp": 4.0, "text": "Saved: User at Gotham", "data": {"buttons": []}},
    ]
    url = _tracker_db(tmp_path / "tracker.db", "rep-1", events)
    for name in ("User", "event", "text", "name", "value", "slot", "action"):
        history.erase_from_conversations(["rep-1"], [name], url=url)
    with sqlite3.connect(tmp_path / "tracker.db") as db:
        after = [json.loads(d) for (d,) in db.execute("SELECT data FROM events ORDER BY id")]
    assert [e["event"] for e in after] == ["user", "action", "slot", "bot"]
    assert [sorted(e) for e in after] == [sorted(e) for e in events]          # no key renamed
    assert after[1]["name"] == "action_save_stakeholder" and after[2]["name"] == "form_person"
    assert after[0]["text"] == "[…] is the CFO at Gotham" and after[2]["value"] == "[…]"
    assert after[0]["parse_data"]["intent"]["name"] == "add_stakeholder"
    assert after[0]["parse_data"]["entities"][0] == {"entity": "person", "value": "[…]"}


# --- files and logs ----------------------------------------------------------------------------

def test_the_sqlite_databases_are_readable_by_their_owner_only(tmp_path):
    from bot.store.db import make_engine

    path = tmp_path / "accounts.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x)")
        conn.commit()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)  # a file an older version left world-readable
    make_engine(f"sqlite:///{path}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_scripts_create_files_for_their_owner_only(tmp_path):
    out = subprocess.run(["bash", "-c", "source scripts/env.sh && umask && mkdir -p \"$1\" && stat -c %a \"$1\"",
                          "-", str(tmp_path / "var-new")], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["0077", "700"]


def test_a_failed_statement_does_not_log_the_values_it_carried(tmp_path, caplog):
    from sqlalchemy.exc import OperationalError

    from bot.store import AccountStore
    from bot.store.db import make_session_factory
    from bot.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    upgrade(url)
    os.environ["DB_LOCK_TIMEOUT_SECONDS"] = "0.2"
    try:
        store = AccountStore(make_session_factory(url))
        locker = sqlite3.connect(tmp_path / "accounts.db", timeout=0)
        locker.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError) as raised:
            with store.team("solo:secret-team") as scope:
                scope.get_or_create_account("Project Nightingale Merger")
        locker.rollback()
    finally:
        os.environ.pop("DB_LOCK_TIMEOUT_SECONDS", None)
    assert "Nightingale" not in str(raised.value) and "secret-team" not in str(raised.value)


def test_logs_name_conversations_by_a_hash():
    from bot.identity import log_name

    assert log_name("wecom:corp:zhangsan").startswith("conv-") and "zhangsan" not in log_name("wecom:corp:zhangsan")
    assert log_name("a") == log_name("a") != log_name("b")
    assert log_name("bad \ud800")  # even an id that is not valid Unicode


def test_the_web_page_closes_a_connection_that_never_finishes_its_request(tmp_path):
    port = free_port()
    env = base_env(CHART_DIR=str(tmp_path / "charts"), WEB_CONNECTION_TIMEOUT="1")
    web = subprocess.Popen([str(VENV_BIN / "python"), "-m", "bot.webpage", "--port", str(port)], cwd=REPO, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        slow = socket.create_connection(("127.0.0.1", port), timeout=10)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        assert slow.recv(1024) == b""  # closed by the server, not held open
        slow.close()
    finally:
        web.terminate()
        web.wait(10)


# --- against the servers as `make run` starts them ----------------------------------------------

@pytest.fixture(scope="module")
def servers(tmp_path_factory):  # noqa: ANN001, ANN201
    with running_servers(tmp_path_factory.mktemp("second-pass"), MODEL_PATH) as s:
        yield s


def _webhook(servers, payload: dict) -> tuple[int, str]:
    return raw_post(f"{servers.rasa_url}/webhooks/rest/webhook", json.dumps(payload).encode())


@pytest.mark.model
@pytest.mark.slow
def test_oversized_metadata_is_refused_and_nothing_is_stored(servers):
    sender = new_sender()
    status, text = _webhook(servers, {"sender": sender, "message": "hi", "metadata": {"b": "x" * 200_000}})
    assert status == 400 and "metadata" in text
    assert _webhook(servers, {"sender": sender, "message": "hi", "metadata": {"page": "accounts"}})[0] == 200
    user_events = [e for e in servers.tracker(sender)["events"] if e.get("event") == "user"]
    assert len(user_events) == 1 and len(json.dumps(user_events)) < 20_000


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("body, status", [
    ({"text": "a " * 100_000}, 413),
    ({"text": 5}, 400),
    ({"message": "x"}, 400),
])
def test_model_parse_refuses_bad_or_oversized_input_with_a_4xx(servers, body, status):
    assert raw_post(f"{servers.rasa_url}/model/parse", json.dumps(body).encode())[0] == status
    assert raw_post(f"{servers.rasa_url}/model/parse", b'{"text": "hi \\ud800"}')[0] == 400
    assert alive(servers)


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("extra_headers", [
    [("Content-Type", "application/json"), ("Content-Type", "text/plain")],
])
def test_two_content_type_lines_are_refused(servers, extra_headers):
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(servers.rasa_url.rsplit(":", 1)[1]), timeout=30)
    conn.putrequest("POST", "/webhooks/rest/webhook")
    for name, value in extra_headers:
        conn.putheader(name, value)
    body = json.dumps({"sender": new_sender(), "message": "hi"}).encode()
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    assert conn.getresponse().status == 415


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.parametrize("text", ["delete Peter's phone number", "delete the budget", "remove that", "删除"])
def test_a_delete_that_does_not_name_the_account_never_offers_to_delete_it(servers, text):
    """Attacker's pass: each of these offered "Delete Initech and everything recorded about it?"."""
    sender = new_sender()
    rest(servers, sender, "Add account Initech, software")
    rest(servers, sender, "Peter Gibbons is the CTO at Initech, a supporter")
    status, reply = rest(servers, sender, text)
    assert status == 200 and "Initech and everything" not in reply and "Initech 及其" not in reply
    rest(servers, sender, "yes")
    assert "Initech" in rest(servers, sender, "list my accounts")[1]


# --- third pass: typed button payloads ------------------------------------------------------------

def test_a_payload_nested_too_deep_is_not_understood_never_a_500(servers):
    deep = '/inform{"account": ' + "[" * 600 + "]" * 600 + "}"
    status, text = raw_post(f"{servers.rasa_url}/model/parse", json.dumps({"text": deep}).encode())
    assert status == 200 and json.loads(text)["intent"]["name"] == "nlu_fallback"
    status, reply = rest(servers, new_sender(), deep)
    assert status == 200 and reply.strip()  # a polite "didn't get that", not an empty answer
    assert alive(servers)


def test_an_escaped_lone_surrogate_in_a_payload_stores_nothing_and_echoes_nothing(servers):
    sender = new_sender()
    status, reply = rest(servers, sender, '/add_account{"account": "Zeta\\ud800Corp"}')  # the escape as text
    assert status == 200 and reply.strip() and "went wrong" not in reply
    reply.encode("utf-8")  # the reply is valid Unicode: every channel can send it
    assert accounts_of(servers, f"solo:{sender}") == []


def test_the_which_account_question_takes_only_what_it_offered(servers):
    sender = new_sender()
    rest(servers, sender, "Add account Acme Corp, manufacturing")
    rest(servers, sender, "Add account Initech, software")
    status, reply = rest(servers, sender, "Jane Roe is the CFO at Umbrella Labs")
    assert "Umbrella Labs" in reply  # asked: which account, or a new one called Umbrella Labs?
    rest(servers, sender, '/inform{"account": "Umbrel"}')  # typed, never offered: the question again
    assert sorted(accounts_of(servers, f"solo:{sender}")) == ["Acme Corp", "Initech"]
    rest(servers, sender, '/inform{"account": "Umbrella Labs"}')  # the "New account: Umbrella Labs" button
    assert sorted(accounts_of(servers, f"solo:{sender}")) == ["Acme Corp", "Initech", "Umbrella Labs"]


def test_a_meeting_at_a_new_company_takes_only_that_company_as_new(servers):
    sender = new_sender()
    rest(servers, sender, "Add account Zeta Corp, retail")
    rest(servers, sender, "Add account Initech, software")
    status, text = _webhook(servers, {"sender": sender, "message": "Had a meeting with Jane Doe at Orion Labs today, "
                                                                 "she said they want a pilot"})
    buttons = [b["title"] for m in json.loads(text) for b in m.get("buttons") or []]
    assert "New account: Orion Labs" in buttons and "Zeta Corp" in buttons  # asked, never logged at Zeta Corp
    rest(servers, sender, '/inform{"account": "Orion"}')  # a part of the name: never an account
    assert "Orion" not in accounts_of(servers, f"solo:{sender}")
    status, reply = rest(servers, sender, '/inform{"account": "Orion Labs"}')
    assert reply.startswith("Logged: meeting at Orion Labs")
    assert sorted(accounts_of(servers, f"solo:{sender}")) == ["Initech", "Orion Labs", "Zeta Corp"]
