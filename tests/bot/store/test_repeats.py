"""A write sent twice is stored once: meeting logs and finished practices (REPEAT_WINDOW).

A rep who got "that took too long" sends the same message again; the first attempt may
still finish, on this or another replica. Needs were already stored once per text; facts
are upserts. PostgreSQL's row lock makes the check hold across processes.
"""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from bot.store import REPEAT_WINDOW, AccountStore, Interaction, PracticeSession
from bot.store.db import make_session_factory
from bot.store.migrate import upgrade


@pytest.fixture(params=["sqlite", "postgres"])
def any_store(request) -> AccountStore:  # noqa: ANN001
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    if request.param == "postgres":
        upgrade(url)
    return AccountStore(make_session_factory(url))


def interactions(store: AccountStore) -> list[tuple[str, str]]:
    with store.team("t", "u") as scope:
        return [(i.summary, i.kind) for i in scope.session.query(Interaction).order_by(Interaction.id)]


def test_the_same_meeting_logged_twice_is_stored_once(any_store):
    with any_store.team("t", "u") as scope:
        account, _ = scope.get_or_create_account("Acme")
        first = scope.log_interaction(account, "Met Maria, she wants a pilot in May")
    with any_store.team("t", "u") as scope:
        again = scope.log_interaction(scope.find_account("Acme"), "Met Maria, she wants a pilot in May")
        assert again.id == first.id
    assert interactions(any_store) == [("Met Maria, she wants a pilot in May", "meeting")]


def test_different_or_old_logs_are_separate_records(any_store):
    with any_store.team("t", "u") as scope:
        account, _ = scope.get_or_create_account("Acme")
        maria, _, _ = scope.upsert_stakeholder(account, "Maria")
        scope.log_interaction(account, "Weekly call")
        scope.log_interaction(account, "Weekly call", stakeholder=maria)   # with someone else
        scope.log_interaction(account, "Weekly call", kind="call")        # another kind
        old = scope.log_interaction(account, "Demo went well")
        old.created_at = old.created_at - REPEAT_WINDOW - timedelta(minutes=1)
    with any_store.team("t", "u") as scope:
        scope.log_interaction(scope.find_account("Acme"), "Demo went well")  # a new demo, an hour later
    with any_store.team("t", "other-rep") as scope:
        scope.log_interaction(scope.find_account("Acme"), "Weekly call")  # a colleague's own log
    assert sorted(interactions(any_store)) == sorted([("Weekly call", "meeting"), ("Weekly call", "meeting"),
                                                       ("Weekly call", "call"), ("Demo went well", "meeting"),
                                                       ("Demo went well", "meeting"), ("Weekly call", "meeting")])


def test_a_practice_ended_twice_is_stored_once(any_store):
    transcript = [{"move": "situation", "text": "How many lines?", "reply": "Twelve."}]
    with any_store.team("t", "u") as scope:
        first = scope.record_practice("peak_capacity", "Peak capacity", 72, {"spin": 70}, transcript)
        again = scope.record_practice("peak_capacity", "Peak capacity", 72, {"spin": 70}, transcript)
        other = scope.record_practice("peak_capacity", "Peak capacity", 72, {"spin": 70}, transcript * 2)
        assert again.id == first.id and other.id != first.id
    with any_store.team("t", "u") as scope:
        assert scope.session.query(PracticeSession).count() == 2
        assert len(scope.practice_history()) == 2


def test_two_processes_logging_the_same_meeting_at_once_store_it_once(postgres_url):
    """Replica B's repeat checks while replica A's late call has written but not committed.

    The account row lock makes B wait, and then find A's record.
    """
    upgrade(postgres_url)
    a, b = AccountStore(make_session_factory(postgres_url)), AccountStore(make_session_factory(postgres_url))
    with a.team("t", "u") as scope:
        scope.get_or_create_account("Acme")
    written, results = threading.Event(), {}

    def first() -> None:
        with a.team("t", "u") as scope:
            results["a"] = scope.log_interaction(scope.find_account("Acme"), "Met Maria").id
            written.set()
            threading.Event().wait(1.0)  # still inside the transaction: not committed yet

    def second() -> None:
        written.wait(10)
        with b.team("t", "u") as scope:
            results["b"] = scope.log_interaction(scope.find_account("Acme"), "Met Maria").id

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results["a"] == results["b"]
    assert interactions(a) == [("Met Maria", "meeting")]
