"""Coaching through the trained model: objection, conflict form, meeting prep, interrupted form."""
from __future__ import annotations

import uuid

import pytest

from bot.coach import engine

pytestmark = [pytest.mark.model, pytest.mark.slow]


def sender() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def test_price_objection_is_diagnosed_then_played_with_account_facts_en(servers):
    me = sender()
    servers.say_text(me, "Add account Initech, software")
    servers.say_text(me, "Bill Lumbergh is the VP at Initech and makes the final call, influence 70%")
    ask = servers.say(me, "Bill at Initech says our price is too expensive")
    causes = engine.playbook("objections")["objection_price"]["causes"]
    assert [b["payload"] for b in ask[-1]["buttons"]] == [f'/inform{{"objection_cause": "{c}"}}' for c in causes]
    play = servers.say_text(me, "it's over their budget")
    assert "Bill Lumbergh" in play
    assert "Next action" in play


def test_delivery_delay_form_collects_days_and_drafts_a_message_zh(servers):
    me = sender()
    servers.say_text(me, "新建客户远大机械")
    servers.say_text(me, "远大机械的周涛是采购总监，拍板的人")
    ask = servers.say_text(me, "远大机械那边的交付要延期了")
    assert ask == engine.playbook("conflicts")["conflict_delivery_delay"]["ask"]["days"]["zh"]
    ask = servers.say_text(me, "4天")
    assert ask == engine.playbook("conflicts")["conflict_delivery_delay"]["ask"]["reason"]["zh"]
    draft = servers.say_text(me, "芯片供应商停产")
    assert "4" in draft and "芯片供应商停产" in draft and "周涛" in draft


def test_meeting_prep_step_by_step_zh(servers):
    me = sender()
    servers.say_text(me, "新建客户华信银行")
    servers.say_text(me, "华信银行的李明是CTO，技术把关的人，中立")
    first = servers.say(me, "明天要见李明，帮我准备一下要问的问题")
    book = engine.playbook("meeting_prep")
    assert book["roles"]["technical"]["situation"][0]["zh"] in first[0]["text"]
    assert book["roles"]["technical"]["problem"][0]["zh"] not in first[0]["text"]
    nxt = servers.say_text(me, "继续")
    assert book["roles"]["technical"]["problem"][0]["zh"] in nxt


def test_meeting_prep_en(servers):
    me = sender()
    servers.say_text(me, "Add account Vandelay Industries")
    servers.say_text(me, "Art Vandelay is the CEO at Vandelay Industries, the economic buyer")
    reply = servers.say_text(me, "help me prepare questions for my meeting with Art Vandelay")
    book = engine.playbook("meeting_prep")
    assert book["roles"]["economic_buyer"]["situation"][0]["en"] in reply


def test_a_form_can_be_interrupted_by_a_question_and_resumed_en(servers):
    me = sender()
    ask = servers.say_text(me, "the customer is unhappy, they filed a complaint")
    complaint = engine.playbook("conflicts")["conflict_complaint"]
    assert ask == complaint["ask"][complaint["facts"][0]]["en"]
    explain = servers.say_text(me, "what is the SPIN method?")
    assert engine.playbook("methods")["spin"]["title"]["en"] in explain
    assert explain.endswith("Back to the complaint?")  # the form is offered again ("yes" asks its question)
    assert servers.say_text(me, "yes") == complaint["ask"][complaint["facts"][0]]["en"]
    servers.say_text(me, "the invoices were wrong three months in a row")
    draft = servers.say_text(me, "they had to redo their month-end close")
    assert "invoices were wrong" in draft


def test_a_form_can_be_cancelled_zh(servers):
    me = sender()
    servers.say_text(me, "客户投诉了")
    assert servers.say_text(me, "算了，取消") == "好的，已取消，刚才的内容没有保存。"
    assert servers.tracker(me)["active_loop"] in ({}, None) or not servers.tracker(me)["active_loop"].get("name")


def test_price_objection_is_diagnosed_then_played_with_account_facts_zh(servers):
    me = sender()
    servers.say_text(me, "新建客户东方制药")
    servers.say_text(me, "东方制药的孙丽是财务总监，拍板的人，影响力七成")
    ask = servers.say(me, "东方制药的孙丽说我们太贵了")
    causes = engine.playbook("objections")["objection_price"]["causes"]
    assert [b["payload"] for b in ask[-1]["buttons"]] == [f'/inform{{"objection_cause": "{c}"}}' for c in causes]
    play = servers.say_text(me, "超出他们的预算了")
    assert "孙丽" in play
    assert "下一步" in play


def test_budget_cut_form_collects_the_cut_and_drafts_a_message_en(servers):
    me = sender()
    servers.say_text(me, "Add account Hooli")
    servers.say_text(me, "Gavin Belson is the CEO at Hooli, the economic buyer")
    book = engine.playbook("conflicts")["conflict_budget_cut"]
    ask = servers.say_text(me, "Hooli just cut the project budget")
    assert ask == book["ask"]["cut"]["en"]
    ask = servers.say_text(me, "they cut it by 30%")
    assert ask == book["ask"]["keep"]["en"]
    draft = servers.say_text(me, "the reporting module")
    assert "30" in draft and "reporting module" in draft


def test_a_form_can_be_interrupted_by_a_question_and_resumed_zh(servers):
    me = sender()
    complaint = engine.playbook("conflicts")["conflict_complaint"]
    first_question = complaint["ask"][complaint["facts"][0]]["zh"]
    assert servers.say_text(me, "客户投诉了，很不满意") == first_question
    explain = servers.say_text(me, "什么是SPIN？")
    assert engine.playbook("methods")["spin"]["title"]["zh"] in explain
    assert explain.endswith("回到客户投诉吗？")  # offered again; answering its question directly goes on
    servers.say_text(me, "连续三个月发票开错了")
    draft = servers.say_text(me, "他们月底结账只能返工")
    assert "发票开错" in draft
