"""Faults mid-conversation: the action server down or slow, the database down, Rasa restarted.

The first tests run `bot.resilience` in this process against tiny stand-in action
servers (fast). The rest talk to the real servers through the REST channel: one
Rasa server and one action server (on a PostgreSQL database of its own) for the
whole module, stopped, frozen, slowed down and restarted by the tests. The
10-second limit is the behaviour required of the product (the rep must get an
answer within 10 s), not a benchmark.
"""
from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from bot import i18n
from tests.faults.conftest import database_unavailable

REPLY_WITHIN = 10.0


def sender() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def failed(lang: str) -> str:
    return i18n.render("fault_try_again", lang)


def too_slow(lang: str) -> str:
    return i18n.render("fault_timeout", lang)


# --- bot.resilience in this process --------------------------------------------------

@pytest.fixture(scope="module")
def rasa_domain():  # noqa: ANN201
    from rasa.shared.core.domain import Domain

    from tests.servers import REPO

    return Domain.load(str(REPO / "domain.yml"))


@pytest.fixture
def resilience(monkeypatch):  # noqa: ANN001, ANN201
    import rasa.core.agent  # noqa: F401 - what the Rasa server has loaded when bot.nlu is imported

    from bot import resilience

    resilience.install()
    resilience.forget_late_results()
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "0.5")
    yield resilience
    resilience.forget_late_results()


def _tracker(domain, text: str, *events: Any, slots: dict | None = None, sender: str = "unit"):  # noqa: ANN001, ANN202
    from rasa.shared.core.events import SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    history = list(events) + [SlotSet(k, v) for k, v in (slots or {}).items()]
    return DialogueStateTracker.from_events(sender, history + [UserUttered(text)], slots=domain.slots)


def _remote(name: str, url: str):  # noqa: ANN202
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    return RemoteAction(name, EndpointConfig(url))


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _stand_in_action_server(delay: float, calls: list[str]) -> Iterator[str]:
    """An action server that answers every call after `delay` seconds with one message."""
    import threading

    from aiohttp import web

    async def webhook(request: web.Request) -> web.Response:
        body = await request.json()
        calls.append(body["next_action"])
        await asyncio.sleep(delay)
        return web.json_response({"events": [], "responses": [{"text": f"done {len(calls)}"}]})

    ready = threading.Event()
    state: dict[str, Any] = {"port": _unused_port()}

    def serve() -> None:
        loop = asyncio.new_event_loop()
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", state["port"])
        loop.run_until_complete(site.start())
        state["loop"] = loop
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield f"http://127.0.0.1:{state['port']}/webhook"
    finally:
        state["loop"].call_soon_threadsafe(state["loop"].stop)
        thread.join(10)


def _texts(events: list[Any]) -> list[str]:
    from rasa.shared.core.events import BotUttered

    return [e.text for e in events if isinstance(e, BotUttered)]


async def test_unreachable_action_server_gives_a_reply_in_the_reps_language(resilience, rasa_domain):
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.events import FollowupAction

    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    url = f"http://127.0.0.1:{_unused_port()}/webhook"
    for text, slots, lang in [("list my accounts", {}, "en"), ("我的客户有哪些", {}, "zh-Hans"),
                              ("我的客戶有哪些", {}, "zh-Hant"), ("42", {"language": "zh-Hans"}, "zh-Hans"),
                              ("list my accounts", {"language_override": "zh-Hant"}, "zh-Hant")]:
        events = await _remote("action_list_accounts", url).run(CollectingOutputChannel(), nlg,
                                                                 _tracker(rasa_domain, text, slots=slots),
                                                                 rasa_domain)
        assert _texts(events) == [failed(lang)], text
        assert events[-1] == FollowupAction("action_listen")


async def test_slow_action_gets_a_timely_reply_and_its_late_result_serves_the_repeat(resilience, rasa_domain,
                                                                                     monkeypatch):
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    calls: list[str] = []
    with _stand_in_action_server(1.5, calls) as url:
        first = _tracker(rasa_domain, "Met Maria Lopez at Acme Corp today")
        started = time.monotonic()
        events = await _remote("action_save_meeting", url).run(CollectingOutputChannel(), nlg, first, rasa_domain)
        assert time.monotonic() - started < 1.2
        assert _texts(events) == [too_slow("en")]
        await asyncio.sleep(2)  # the call finishes late: the action server did the work

        # the rep sends the same message again: the late result answers it, the action is not run twice
        repeat = _tracker(rasa_domain, "Met Maria Lopez at Acme Corp today.", *first.events, *events)
        events = await _remote("action_save_meeting", url).run(CollectingOutputChannel(), nlg, repeat, rasa_domain)
        assert _texts(events) == ["done 1"]
        assert calls == ["action_save_meeting"]

        # a different message is run normally
        other = _tracker(rasa_domain, "Met Tom Reed at Acme Corp today", *repeat.events, *events)
        monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "5")
        events = await _remote("action_save_meeting", url).run(CollectingOutputChannel(), nlg, other, rasa_domain)
        assert _texts(events) == ["done 2"]
        assert calls == ["action_save_meeting", "action_save_meeting"]


async def test_time_rasas_own_loop_is_busy_does_not_count_against_the_action_timeout(resilience, rasa_domain):
    """Overload is not a slow action server: the answer (after 0.2 s) waits for a loop blocked by other turns."""
    from rasa.core.channels import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator

    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    calls: list[str] = []

    async def other_turns() -> None:
        for _ in range(10):
            time.sleep(0.2)  # NLU and policies of other conversations, run in Rasa's event loop
            await asyncio.sleep(0)

    with _stand_in_action_server(0.2, calls) as url:
        busy = asyncio.ensure_future(other_turns())
        started = time.monotonic()
        events = await _remote("action_list_accounts", url).run(CollectingOutputChannel(), nlg,
                                                                 _tracker(rasa_domain, "list my accounts"), rasa_domain)
        took = time.monotonic() - started
        await busy
    assert took > 0.5  # longer than ACTION_TIMEOUT_SECONDS (0.5 here) ...
    assert _texts(events) == ["done 1"]  # ... and still the action's answer, not "that took too long"


async def test_an_answer_that_lands_with_the_deadline_is_the_answer(resilience, monkeypatch):
    """The deadline passes while the answer arrives (under load, in the same loop iteration).

    `wait_for` then raises TimeoutError although the call has finished; that call's answer is used.
    The ordering is simulated: it depends on callback order in a busy loop, which no real server
    reproduces on demand.
    """
    async def call() -> list[str]:
        return ["the action's answer"]

    task = asyncio.ensure_future(call())
    real_wait_for = asyncio.wait_for

    async def deadline_passes_as_the_answer_lands(awaitable, timeout):  # noqa: ANN001, ANN202
        await real_wait_for(asyncio.shield(task), 5)  # the answer lands ...
        awaitable.cancel()
        raise asyncio.TimeoutError  # ... and the deadline is reported all the same

    monkeypatch.setattr(resilience.asyncio, "wait_for", deadline_passes_as_the_answer_lands)
    assert await resilience._wait_with_allowance(task, 0.5) == ["the action's answer"]


def test_a_failed_form_validation_keeps_a_waiting_form_and_ends_a_starting_one(resilience, rasa_domain):
    from rasa.shared.core.events import ActiveLoop, FollowupAction, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    action = _remote("validate_stakeholder_form", "http://127.0.0.1:9/webhook")
    waiting = _tracker(rasa_domain, "Nina Park", ActiveLoop("stakeholder_form"),
                       slots={"requested_slot": "form_person", "form_account": "Globex"})
    events = resilience._fallback_events(action, waiting, rasa_domain, resilience.MESSAGE_FAILED)
    assert _texts(events) == [failed("en")]
    assert events[1:] == [SlotSet("requested_slot", "form_person"), SlotSet("form_person", None),
                          FollowupAction("action_listen")]

    starting = DialogueStateTracker.from_events("unit", [UserUttered("At Globex the new head of IT is a supporter"),
                                                         ActiveLoop("stakeholder_form")], slots=rasa_domain.slots)
    events = resilience._fallback_events(action, starting, rasa_domain, resilience.MESSAGE_FAILED)
    assert events[1:] == [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("form_account", None),
                          SlotSet("form_person", None), FollowupAction("action_listen")]


def test_the_patch_refuses_a_rasa_it_was_not_checked_against(resilience, monkeypatch):
    import rasa
    import rasa.core.actions.action as action_module

    resilience._check_rasa()  # the installed Rasa passes
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(RuntimeError, match="checked against 3.6"):
        resilience._check_rasa()
    monkeypatch.setattr(rasa, "__version__", "3.6.21")
    monkeypatch.delattr(action_module, "DEFAULT_REQUEST_TIMEOUT")
    with pytest.raises(RuntimeError, match="DEFAULT_REQUEST_TIMEOUT is missing"):
        resilience._check_rasa()


async def test_a_tracker_store_data_error_is_an_error_not_an_exit(resilience, rasa_domain, tmp_path):
    """Rasa's SQLTrackerStore called sys.exit(1) on any ValueError: a surrogate sender id stopped the server."""
    from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore

    store = FailSafeTrackerStore(SQLTrackerStore(rasa_domain, dialect="sqlite", db=str(tmp_path / "t.db")))
    with pytest.raises(resilience.TrackerStoreUnavailable) as caught:
        await store.retrieve("rep\udfff")  # UnicodeEncodeError is a ValueError
    assert caught.value.stage == "load"
    assert await store.retrieve("rep-ok") is None  # the store (and the process) carry on


def test_timeouts_come_from_the_environment(resilience, monkeypatch):
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "3")
    monkeypatch.setenv("ACTION_LATE_RESULT_SECONDS", "30")
    assert (resilience.action_timeout(), resilience.late_result_timeout()) == (3, 30)
    monkeypatch.setenv("ACTION_TIMEOUT_SECONDS", "soon")
    monkeypatch.delenv("ACTION_LATE_RESULT_SECONDS")
    assert (resilience.action_timeout(), resilience.late_result_timeout()) == (8, 120)


# --- the real servers ------------------------------------------------------------------

def real_servers(test):  # noqa: ANN001, ANN201
    """Marks a test that runs the trained model on real servers with PostgreSQL."""
    return pytest.mark.model(pytest.mark.slow(pytest.mark.postgres(test)))


def timed(servers, me: str, text: str) -> tuple[str, float]:  # noqa: ANN001
    started = time.monotonic()
    reply = servers.say_text(me, text)
    return reply, time.monotonic() - started


def account(store, me: str, name: str) -> dict[str, Any] | None:  # noqa: ANN001
    """Everything the store holds on one of the rep's accounts (None: no such account)."""
    with store.team(f"solo:{me}") as scope:
        found = scope.find_account(name)
        return scope.export_account(found) if found else None


def people(store, me: str, name: str) -> list[str]:  # noqa: ANN001
    facts = account(store, me, name)
    return sorted(p["name"] for p in facts["stakeholders"]) if facts else []


def wait_for(predicate, timeout: float = 40) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@contextmanager
def table_locked(database: str, table: str) -> Iterator[None]:
    """Another transaction holds `table`: the action server's writes to it fail after its lock_timeout."""
    import psycopg2

    from tests.faults.conftest import POSTGRES_ADMIN_URL

    conn = psycopg2.connect(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{database}")
    try:
        with conn.cursor() as cur:
            cur.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        conn.rollback()
        conn.close()


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_action_server_stopped_mid_conversation_then_back(servers, account_store):
    me = sender()
    assert "Saved: new account Acme Corp" in servers.say_text(me, "Add a new account: Acme Corp, manufacturing")
    assert "Maria Lopez" in servers.say_text(
        me, "Maria Lopez is the CFO at Acme Corp, she is a supporter with 40% influence")

    servers.stop("actions")
    reply, took = timed(servers, me, "show me the power map")
    assert reply == failed("en") and took < REPLY_WITHIN
    reply, took = timed(servers, me, "Tom Reed is the CTO at Acme Corp, he is against us")
    assert reply == failed("en") and took < REPLY_WITHIN
    assert not servers.tracker(me)["active_loop"], "the form did not start"

    servers.start_actions()
    power_map = servers.say_text(me, "show me the power map")
    assert power_map.startswith("Power map of Acme Corp:")
    assert "Maria Lopez (CFO) — supporter, influence 40%" in power_map and "Tom Reed" not in power_map
    assert people(account_store, me, "Acme Corp") == ["Maria Lopez"]
    assert "Tom Reed" in servers.say_text(me, "Tom Reed is the CTO at Acme Corp, he is against us")
    assert people(account_store, me, "Acme Corp") == ["Maria Lopez", "Tom Reed"]
    facts = account(account_store, me, "Acme Corp")
    assert facts["account"]["industry"] == "manufacturing"
    maria = next(p for p in facts["stakeholders"] if p["name"] == "Maria Lopez")
    assert (maria["title"], maria["attitude"], maria["influence"]) == ("CFO", "supporter", 40)


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_the_try_again_reply_is_in_the_reps_language_and_script(servers):
    zh, hant, override = sender(), sender(), sender()
    servers.say_text(zh, "我的客户有哪些")             # language slot: zh-Hans
    servers.say_text(override, "用繁體回覆")          # language_override: zh-Hant

    servers.stop("actions")
    for me, text, lang in [(zh, "我的客户有哪些", "zh-Hans"), (hant, "我的客戶有哪些", "zh-Hant"),
                           (zh, "42", "zh-Hans"), (override, "list my accounts", "zh-Hant"),
                           (sender(), "list my accounts", "en")]:
        reply, took = timed(servers, me, text)
        assert reply == failed(lang), (text, lang)
        assert took < REPLY_WITHIN
    assert "简" not in failed("zh-Hant") and "请" in failed("zh-Hans") and "請" in failed("zh-Hant")

    servers.start_actions()
    assert servers.say_text(zh, "我的客户有哪些").startswith("你还没有客户记录")


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_a_form_answer_that_fails_is_simply_sent_again(servers, account_store):
    me = sender()
    servers.say_text(me, "Add account Globex, logistics")
    assert servers.say_text(me, "At Globex the new head of IT is a supporter") == (
        "Who is this about? Give me the person's name.")

    servers.stop("actions")
    reply, took = timed(servers, me, "Nina Park")
    assert reply == failed("en") and took < REPLY_WITHIN
    tracker = servers.tracker(me)
    assert tracker["active_loop"]["name"] == "stakeholder_form"  # still waiting for the same answer
    assert tracker["slots"]["requested_slot"] == "form_person"
    assert people(account_store, me, "Globex") == []

    servers.start_actions()
    reply = servers.say_text(me, "Nina Park")
    assert reply.startswith("Saved: Nina Park at Globex") and "head of IT" in reply and "supporter" in reply
    assert people(account_store, me, "Globex") == ["Nina Park"]
    assert not servers.tracker(me)["active_loop"]


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_a_frozen_action_server_gets_a_timely_reply_and_works_again_when_it_resumes(servers, account_store):
    me = sender()
    servers.say_text(me, "Add account Hooli, software")

    servers.pause_actions()  # SIGSTOP: connections are accepted, nothing is answered
    reply, took = timed(servers, me, "list my accounts")
    assert reply == too_slow("en") and took < REPLY_WITHIN
    reply, took = timed(servers, me, "Peter Gibbons is the CIO at Hooli, he is a supporter")
    assert reply == failed("en") and took < REPLY_WITHIN  # the form's validation timed out: no form left open
    assert not servers.tracker(me)["active_loop"]

    servers.resume_actions()
    assert servers.say_text(me, "list my accounts").startswith("Your accounts (1):")
    assert "Peter Gibbons" in servers.say_text(me, "Peter Gibbons is the CIO at Hooli, he is a supporter")
    assert people(account_store, me, "Hooli") == ["Peter Gibbons"]


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_a_save_that_finishes_late_is_not_applied_twice_when_the_rep_repeats_it(servers, account_store):
    me = sender()
    servers.say_text(me, "Add a new account: Acme Corp, manufacturing")
    servers.say_text(me, "Maria Lopez is the CFO at Acme Corp, she is a supporter")
    meeting = "Met Maria Lopez at Acme Corp today, she said the budget is approved"

    with servers.slow_actions({"action_save_meeting": 15}) as proxy:
        reply, took = timed(servers, me, meeting)
        assert reply == too_slow("en") and took < REPLY_WITHIN
        assert wait_for(lambda: "action_save_meeting" in proxy.answered), "the late call never finished"
        assert len(account(account_store, me, "Acme Corp")["interactions"]) == 1  # it did write, late

        reply = servers.say_text(me, meeting)  # "try again": the same message
        assert reply.startswith("Logged: meeting at Acme Corp")
        assert proxy.forwarded.count("action_save_meeting") == 1  # answered from the late result
    assert len(account(account_store, me, "Acme Corp")["interactions"]) == 1


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_facts_repeated_after_a_late_write_are_not_duplicated(servers, account_store):
    me = sender()
    servers.say_text(me, "Add a new account: Acme Corp, manufacturing")
    person = "Tom Reed is the CTO at Acme Corp, he is against us"
    need = "Acme Corp's implicit need is cutting IT ops cost"

    with servers.slow_actions({"action_save_stakeholder": 15, "action_save_need": 15}) as proxy:
        for text in (person, need):
            reply, took = timed(servers, me, text)
            assert reply == too_slow("en") and took < REPLY_WITHIN
        assert wait_for(lambda: {"action_save_stakeholder", "action_save_need"} <= set(proxy.answered))
        proxy.delays.clear()
        servers.say_text(me, "list my accounts")  # another message first: the repeats run the actions again
        assert "Tom Reed" in servers.say_text(me, person)
        servers.say_text(me, need)
        assert proxy.forwarded.count("action_save_stakeholder") == 2
        assert proxy.forwarded.count("action_save_need") == 2

    facts = account(account_store, me, "Acme Corp")
    assert [p["name"] for p in facts["stakeholders"]] == ["Tom Reed"]  # people are upserts
    assert len(facts["needs"]) == 1  # the same need text is stored once


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_database_unavailable_gives_a_clear_reply_and_no_partial_record(servers, account_store, db_admin,
                                                                       pg_database):
    me = sender()
    servers.say_text(me, "Add a new account: Zeta Corp, retail")
    unavailable = i18n.render("error_unavailable", "en")

    with database_unavailable(db_admin, pg_database):
        reply, took = timed(servers, me, "list my accounts")
        assert reply == unavailable and took < REPLY_WITHIN  # actions/base.py: the action's own reply
        reply, took = timed(servers, me, "Jane Doe is the CIO at Zeta Corp, she is a supporter")
        assert reply in (unavailable, failed("en")) and took < REPLY_WITHIN
        assert not servers.tracker(me)["active_loop"]
    assert people(account_store, me, "Zeta Corp") == []

    # the database fails in the middle of a write: the account created before it is rolled back
    meeting = "Had a meeting with Jane Doe at Orion Labs today, she said they want a pilot"
    new_orion = '/inform{"account": "Orion Labs"}'  # the "New account: Orion Labs" button
    assert "New account: Orion Labs" in str(servers.say(me, meeting))  # asked, never logged at Zeta Corp
    with table_locked(pg_database, "interactions"):
        reply, took = timed(servers, me, new_orion)
        assert reply == unavailable and took < REPLY_WITHIN
    assert account(account_store, me, "Orion Labs") is None

    # back: the conversation continues, each fact once
    assert "Jane Doe" in servers.say_text(me, "Jane Doe is the CIO at Zeta Corp, she is a supporter")
    servers.say(me, meeting)
    assert servers.say_text(me, new_orion).startswith("Logged: meeting at Orion Labs")
    orion = account(account_store, me, "Orion Labs")
    assert len(orion["interactions"]) == 1 and orion["stakeholders"] == []  # people wait for the rep's yes
    assert people(account_store, me, "Zeta Corp") == ["Jane Doe"]


@real_servers
def test_a_rasa_restart_in_the_middle_of_a_form_continues_the_form(servers, account_store):
    me = sender()
    servers.say_text(me, "Add account Umbrella, pharma")
    assert servers.say_text(me, "At Umbrella the new head of procurement is against us") == (
        "Who is this about? Give me the person's name.")

    servers.stop("rasa")
    servers.start_rasa()
    tracker = servers.tracker(me)
    assert tracker["active_loop"]["name"] == "stakeholder_form"
    assert tracker["slots"]["requested_slot"] == "form_person"

    reply = servers.say_text(me, "Alice Wong")
    assert reply.startswith("Saved: Alice Wong at Umbrella") and "opponent" in reply
    assert people(account_store, me, "Umbrella") == ["Alice Wong"]
    assert servers.say_text(me, "show me the power map").startswith("Power map of Umbrella:")


@pytest.mark.usefixtures("action_server_back")
@real_servers
def test_a_meeting_repeated_where_the_late_result_is_unknown_is_logged_once(servers, account_store):
    """The repeat runs the save again (as on another replica, whose memory has no late result).

    The store finds the first attempt's record and does not log the meeting a second time.
    """
    me = sender()
    servers.say_text(me, "Add a new account: Acme Corp, manufacturing")
    meeting = "Met Maria Lopez at Acme Corp today, she wants a pilot in May"

    with servers.slow_actions({"action_save_meeting": 15}) as proxy:
        reply, took = timed(servers, me, meeting)
        assert reply == too_slow("en") and took < REPLY_WITHIN
        assert wait_for(lambda: "action_save_meeting" in proxy.answered), "the late call never finished"
        proxy.delays.clear()
        servers.say_text(me, "list my accounts")  # another message first: the late result no longer applies
        assert servers.say_text(me, meeting).startswith("Logged: meeting at Acme Corp")
        assert proxy.forwarded.count("action_save_meeting") == 2  # the action really ran twice
    assert [i["summary"] for i in account(account_store, me, "Acme Corp")["interactions"]] == [meeting]
