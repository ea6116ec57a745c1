"""The tracker store (conversation history) down: the rep is told, nothing is done out of context.

Rasa on a PostgreSQL tracker store of its own, the account store on SQLite, so that only
the conversation history fails. bot/resilience.py replaces Rasa's `FailSafeTrackerStore`
behaviour (an empty conversation on a failed load, a silent in-memory copy on a failed save).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot import i18n
from tests.conftest import MODEL_PATH
from tests.faults.conftest import POSTGRES_ADMIN_URL, database_unavailable
from tests.servers import Servers

pytestmark = [pytest.mark.model, pytest.mark.slow, pytest.mark.postgres]

REPLY_WITHIN = 10.0


class PostgresTrackerServers(Servers):
    tracker_database: str = ""

    def endpoints_file(self) -> Path:
        path = self.workdir / "endpoints.yml"
        path.write_text("\n".join([
            "action_endpoint:", f'  url: "{self.action_url}/webhook"',
            f'  token: "{self.extra_env["ACTION_SERVER_TOKEN"]}"',
            "tracker_store:", "  type: SQL", "  dialect: postgresql", "  url: localhost",
            f"  db: {self.tracker_database}", "  username: postgres", ""]))
        return path


@pytest.fixture(scope="module")
def admin():  # noqa: ANN201
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        conn = psycopg2.connect(POSTGRES_ADMIN_URL)
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"PostgreSQL is required and is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def history_down_servers(tmp_path_factory, admin) -> Iterator[PostgresTrackerServers]:  # noqa: ANN001
    if not MODEL_PATH.exists():
        pytest.fail(f"trained model missing at {MODEL_PATH}: run scripts/train.sh (make test does)")
    name = f"tracker_{uuid.uuid4().hex[:10]}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    from bot.store.migrate import upgrade

    workdir = tmp_path_factory.mktemp("tracker-faults")
    url = f"sqlite:///{workdir / 'accounts.db'}"
    upgrade(url)
    s = PostgresTrackerServers(workdir=workdir, model=MODEL_PATH, database_url=url, tracker_db=workdir / "unused.db",
                               extra_env={"CHART_DIR": str(workdir / "charts")})
    s.tracker_database = name
    try:
        s.start_actions()
        s.start_rasa()
        yield s
    finally:
        s.stop_all()
        with admin.cursor() as cur:
            cur.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def history_refuses_writes(name: str) -> Iterator[None]:
    """Loading works, saving fails: a trigger refuses new rows in Rasa's `events` table."""
    import psycopg2

    conn = psycopg2.connect(f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'disk full (test)'; END $$ LANGUAGE plpgsql")
        cur.execute("CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()")
    try:
        yield
    finally:
        with conn.cursor() as cur:
            cur.execute("DROP TRIGGER refuse_events ON events")
        conn.close()


def people(servers: Servers, me: str) -> list[str]:
    from bot.store import AccountStore
    from bot.store.db import make_session_factory

    with AccountStore(make_session_factory(servers.database_url)).team(f"solo:{me}") as scope:
        account = scope.find_account("华东精密")
        return sorted(p.name for p in account.stakeholders) if account else []


def test_history_unreachable_stops_the_turn_with_a_clear_reply_and_then_resumes(history_down_servers, admin):
    s, me = history_down_servers, f"rep-{uuid.uuid4().hex[:8]}"
    s.say_text(me, "新建客户华东精密")
    ask = s.say_text(me, "华东精密有一位新的IT总监，是支持者")  # the form asks for the name
    assert "叫什么" in ask or "名字" in ask or "姓名" in ask, ask

    with database_unavailable(admin, s.tracker_database):
        import time

        started = time.monotonic()
        reply = s.say_text(me, "李强")  # the answer to the question
        assert time.monotonic() - started < REPLY_WITHIN
        assert reply == i18n.render("fault_history_load", "zh-Hans")
        assert people(s, me) == []  # nothing was done out of context
        english = s.say_text(me, "Tom Reed is the CTO at Acme, a supporter")
        assert english == i18n.render("fault_history_load", "en")

    assert people(s, me) == []
    reply = s.say_text(me, "李强")  # sent again once the history is back: the form was still waiting
    assert "李强" in reply and people(s, me) == ["李强"]
    rasa_log = (s.workdir / "rasa.log").read_text()
    assert "李强" not in rasa_log and "Falling back" not in rasa_log


def test_history_that_cannot_be_saved_is_said_after_the_turns_replies(history_down_servers):
    s, me = history_down_servers, f"rep-{uuid.uuid4().hex[:8]}"
    s.say_text(me, "新建客户华东精密")
    with history_refuses_writes(s.tracker_database):
        messages = s.say(me, "华东精密的王芳是采购经理，反对我们")
    texts = [m.get("text", "") for m in messages]
    assert "王芳" in texts[0]  # the fact was saved and confirmed
    assert texts[-1] == i18n.render("fault_history_save", "zh-Hans")
    assert people(s, me) == ["王芳"]
    assert "王芳" in s.say_text(me, "看看华东精密的权力地图")  # and it carries on
