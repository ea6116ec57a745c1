"""Shared fixtures: fresh databases, the account store, trackers for actions."""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from sqlalchemy import create_engine, text

from bot.store import AccountStore
from bot.store.db import make_session_factory
from bot.store.migrate import upgrade

REPO = Path(__file__).resolve().parents[1]
MODEL_PATH = REPO / "models" / "sales-coach.tar.gz"
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://localhost/test")


@pytest.fixture(autouse=True)
def _charts_in_tmp(tmp_path, monkeypatch):  # noqa: ANN001, ANN202
    """Pictures made by actions in a test go to the test's own folder, not var/; so does the history erased."""
    monkeypatch.setenv("CHART_DIR", str(tmp_path / "charts"))
    monkeypatch.setenv("TRACKER_DATABASE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'accounts.db'}"
    upgrade(url)
    return url


@pytest.fixture
def store(sqlite_url: str) -> AccountStore:
    return AccountStore(make_session_factory(sqlite_url))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the local PostgreSQL `test` database, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, future=True)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is required for this test and is not reachable at {POSTGRES_URL}: {exc}")
    sep = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def use_store(store: AccountStore) -> Iterator[AccountStore]:
    """Makes the actions use a store on a fresh SQLite database."""
    import actions.base

    actions.base.use_store(store)
    yield store
    actions.base.use_store(None)


def user_event(text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None,
               channel: str = "rest", metadata: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    return {
        "event": "user", "text": text, "input_channel": channel, "metadata": metadata or {},
        "parse_data": {"text": text, "intent": {"name": intent, "confidence": 1.0}, "entities": entities or []},
    }


def entity(name: str, value: Any, text: Optional[str] = None, message: Optional[str] = None) -> Dict[str, Any]:
    """An entity dict; with `message`, its start/end are found from `text` in it."""
    e: Dict[str, Any] = {"entity": name, "value": value}
    if message is not None:
        surface = text if text is not None else str(value)
        start = message.index(surface)
        e.update(start=start, end=start + len(surface))
    return e


def make_tracker(text: str, intent: str, entities: Optional[List[Dict[str, Any]]] = None,
                 slots: Optional[Dict[str, Any]] = None, events: Optional[List[Dict[str, Any]]] = None,
                 sender: str = "rep-1", channel: str = "rest", metadata: Optional[Dict[str, Any]] = None,
                 active_loop: Optional[str] = None, language: Optional[str] = None):
    """A rasa_sdk Tracker whose latest message is `text` (as the action server receives it)."""
    from rasa_sdk import Tracker

    latest = user_event(text, intent, entities, channel, metadata)
    parse = dict(latest["parse_data"])
    parse["metadata"] = latest["metadata"]
    if language:
        parse["language"] = language
    all_events = list(events or []) + [latest]
    return Tracker(
        sender_id=sender,
        slots=dict(slots or {}),
        latest_message=parse,
        events=all_events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def texts(dispatcher) -> List[str]:  # noqa: ANN001
    return [m.get("text") or "" for m in dispatcher.messages]


def slot_events(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
