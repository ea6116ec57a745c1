"""Full practice conversations through the trained model, in each language."""
from __future__ import annotations

import uuid

import pytest

from bot import media
from bot.roleplay.engine import load_scenario

pytestmark = [pytest.mark.model, pytest.mark.slow]


def sender() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def test_practice_a_scenario_in_english_and_get_a_score_card(servers):
    me = sender()
    offer = servers.say(me, "let's practise a sales call")
    assert any(b["payload"] == '/start_roleplay{"scenario": "peak_capacity"}' for b in offer[0]["buttons"])
    start = servers.say_text(me, '/start_roleplay{"scenario": "peak_capacity"}')
    sc = load_scenario("peak_capacity")
    assert sc["persona"]["opening"]["en"].strip() in start and "100 points" in start
    lines = [
        "How many assembly lines do you run in peak season?",
        "Where is the biggest bottleneck when peak season hits?",
        "How does that bottleneck affect your delivery times and orders?",
        "What does that cost you in overtime each month?",
        "How would it help you if that step could keep pace during the peak?",
    ]
    replies = [servers.say_text(me, line) for line in lines]
    name = sc["persona"]["name"]["en"]
    assert all(r.startswith(f"{name}:") for r in replies)
    assert servers.tracker(me)["slots"]["roleplay_active"] is True
    card_messages = servers.say(me, "end the practice and score me")
    card = card_messages[0]["text"]
    assert card.startswith("Score card")
    assert "Tips:" in card and "Next drill:" in card
    assert_png(servers, card_messages)  # the score chart comes after the text
    history_messages = servers.say(me, "how have my practice scores developed?")
    assert history_messages[0]["text"].startswith("Your practice history (1 sessions")
    assert_png(servers, history_messages)


def assert_png(servers, messages):  # noqa: ANN001, ANN201
    """The messages include one image of ours: a real PNG file in the servers' chart folder."""
    images = [m["image"] for m in messages if m.get("image")]
    assert len(images) == 1, messages
    name = media.safe_name(images[0].rsplit("/charts/", 1)[-1])
    assert name and (servers.chart_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_practice_against_my_own_stakeholder_in_chinese(servers):
    me = sender()
    servers.say_text(me, "新建客户华东精密")
    servers.say_text(me, "华东精密的刘建国是技术总监，技术把关的人，反对我们")
    servers.say_text(me, "华东精密的需求是降低IT运维成本")
    start = servers.say_text(me, "练习一下跟刘建国的会谈")
    assert "刘建国" in start and "100" in start
    r1 = servers.say_text(me, "您好，刘总，最近忙吗？")
    assert r1.startswith("刘建国：")
    servers.say_text(me, "您目前的IT运维是怎么安排的？")
    servers.say_text(me, "IT运维成本方面有什么困难吗？")
    servers.say_text(me, "运维成本高，对你们的业务有什么影响？")
    card = servers.say_text(me, "结束练习，给我打分")
    assert card.startswith("评分卡")
    assert "建议：" in card and "下一个练习：" in card
    assert servers.tracker(me)["slots"]["roleplay_active"] is False


def test_coaching_question_mid_practice_is_answered_and_the_practice_continues(servers):
    me = sender()
    servers.say_text(me, '/start_roleplay{"scenario": "bearing_steel"}')
    hint = servers.say_text(me, "hint please")
    assert hint.startswith("Hint:")
    servers.say_text(me, "what is an implication question?")
    assert servers.tracker(me)["slots"]["roleplay_active"] is True
    reply = servers.say_text(me, "Which steel suppliers do you buy from today?")
    assert reply.startswith(load_scenario("bearing_steel")["persona"]["name"]["en"] + ":")
    servers.say_text(me, "cancel")
    assert servers.tracker(me)["slots"]["roleplay_active"] is False
