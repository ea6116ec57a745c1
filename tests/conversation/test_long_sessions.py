"""Rolling sessions (bot/performance.py) through the real servers: a long conversation keeps its state.

The servers here start a new session every 12 events (``SESSION_MAX_EVENTS=12``, about one
turn), so every message below is a chance to roll over; the default is 300.
"""
from __future__ import annotations

import uuid

import pytest

from tests.conftest import MODEL_PATH
from tests.servers import Servers, running_servers

pytestmark = [pytest.mark.model, pytest.mark.slow]


@pytest.fixture(scope="module")
def rolling(tmp_path_factory):  # noqa: ANN001, ANN201
    with running_servers(tmp_path_factory.mktemp("rolling"), MODEL_PATH, SESSION_MAX_EVENTS="12") as s:
        yield s


def sender() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def history(servers: Servers, me: str) -> list[dict]:
    """Every event of every session (the HTTP API returns the full tracker)."""
    return servers.tracker(me)["events"]


def user_texts(events: list[dict]) -> list[str]:
    return [e["text"] for e in events if e["event"] == "user"]


def sessions_between(events: list[dict], first: str, second: str) -> int:
    """Session starts between the user messages `first` and `second` (each sent once)."""
    texts = [(i, e["text"]) for i, e in enumerate(events) if e["event"] == "user"]
    a = next(i for i, t in texts if t == first)
    b = next(i for i, t in texts if t == second and i > a)
    return sum(1 for e in events[a:b] if e["event"] == "session_started")


def test_a_long_conversation_rolls_over_and_keeps_facts_slots_and_order(rolling):
    me = sender()
    sent = ["新建客户华东精密，汽车零部件行业",
            "华东精密的刘建国是技术总监，影响力六成，是支持者",
            "华东精密的王芳是采购经理，反对我们，影响力三成",
            "华东精密预算两百万，现在在技术筛选阶段",
            "华东精密有什么风险？",
            "华东精密的陈静是财务总监，是决策者，影响力七成"]
    replies = [rolling.say_text(me, text) for text in sent]
    assert all(r and "出错" not in r for r in replies), replies

    events = history(rolling, me)
    assert user_texts(events) == sent  # every message kept, in order, across sessions
    starts = [i for i, e in enumerate(events) if e["event"] == "session_started"]
    assert len(starts) >= 4
    # each new session starts with one slot event per carried slot, not a copy of every earlier one
    slot_names = len(rolling.tracker(me)["slots"])
    for start in starts:
        carried = 0
        for e in events[start + 1:]:
            if e["event"] != "slot":
                break
            carried += 1
        assert carried <= slot_names
    assert sum(1 for e in events if e["event"] == "slot") < 12 * len(sent)  # 57 here; 127 with Rasa's copies

    power_map = rolling.say_text(me, "看看华东精密的权力地图")
    for name in ("刘建国", "王芳", "陈静"):  # facts written in different sessions
        assert name in power_map

    # A question asked in one session is answered in the next: the pending offer and the
    # language are slots, carried over.
    ask = rolling.say_text(me, "删除王芳的所有个人信息")
    assert "王芳" in ask
    done = rolling.say_text(me, "/affirm")
    assert done.startswith("已删除：这位人员")
    # her name is erased from the history too, the request included
    assert sessions_between(history(rolling, me), "删除[…]的所有个人信息", "/affirm") == 1
    assert "王芳" not in rolling.say_text(me, "看看华东精密的权力地图")


def test_a_form_waiting_for_an_answer_is_not_cut_by_a_new_session(rolling):
    me = sender()
    rolling.say_text(me, "新建客户宏达电子")
    rolling.say_text(me, "宏达电子的张伟是IT总监，支持我们")
    question = rolling.say_text(me, "客户说太贵了")
    answer = rolling.say_text(me, "价值没讲透")
    assert answer and answer != question and "出错" not in answer
    assert sessions_between(history(rolling, me), "客户说太贵了", "价值没讲透") == 0
    assert rolling.tracker(me)["active_loop"] in ({}, None) or not rolling.tracker(me)["active_loop"].get("name")


def test_a_practice_goes_on_across_sessions(rolling):
    me = sender()
    start = rolling.say_text(me, '/start_roleplay{"scenario": "peak_capacity"}')
    assert "100 points" in start
    lines = ["How many assembly lines do you run in peak season?",
             "Where is the biggest bottleneck when peak season hits?",
             "How does that bottleneck affect your delivery times and orders?",
             "What does that cost you in overtime each month?"]
    replies = [rolling.say_text(me, line) for line in lines]
    assert all(":" in r for r in replies)  # the buyer answers each one
    events = history(rolling, me)
    assert sessions_between(events, lines[0], lines[-1]) >= 2
    state = rolling.tracker(me)["slots"]["roleplay"]
    assert [t["text"] for t in state["turns"]] == lines  # the practice saw every question
    card = rolling.say_text(me, "end the practice and score me")
    assert card.startswith("Score card")
