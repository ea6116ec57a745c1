"""Whole conversations through the REST channel, the trained model and the action server."""
from __future__ import annotations

import uuid

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]


def sender() -> str:
    return f"rep-{uuid.uuid4().hex[:8]}"


def test_english_create_account_add_two_people_and_read_the_power_map(servers):
    me = sender()
    assert "Saved: new account Acme Corp" in servers.say_text(me, "Add a new account: Acme Corp, manufacturing")
    reply = servers.say_text(me, "Maria Lopez is the CFO at Acme Corp, she is a supporter with 40% influence")
    assert "Maria Lopez" in reply and "CFO" in reply and "supporter" in reply and "40%" in reply
    reply = servers.say_text(me, "Tom Reed is the CTO at Acme Corp, he is against us, influence 30%")
    assert "Tom Reed" in reply and "opponent" in reply and "30%" in reply
    pm = servers.say_text(me, "show me the power map")
    assert pm.startswith("Power map of Acme Corp:")
    assert "• Maria Lopez (CFO) — supporter, influence 40%" in pm
    assert "• Tom Reed (CTO) — opponent, influence 30%" in pm
    assert "Influence for us 40% vs against 30%." in pm


def test_chinese_create_account_add_two_people_and_read_the_power_map(servers):
    me = sender()
    assert "已保存：新客户 华东精密" in servers.say_text(me, "新建客户华东精密，汽车零部件行业")
    reply = servers.say_text(me, "华东精密的刘建国是技术总监，影响力六成，是支持者")
    assert reply == "已保存：华东精密 · 刘建国——技术总监、支持者、影响力60%（新人员）。"
    reply = servers.say_text(me, "华东精密的王芳是采购经理，反对我们，影响力三成")
    assert "王芳" in reply and "采购经理" in reply and "反对者" in reply and "30%" in reply
    pm = servers.say_text(me, "看看华东精密的权力地图")
    assert pm.startswith("华东精密 的权力地图：")
    assert "• 刘建国（技术总监）——支持者、影响力60%" in pm
    assert "• 王芳（采购经理）——反对者、影响力30%" in pm


def test_traditional_chinese_rep_gets_traditional_replies(servers):
    me = sender()
    assert "已保存：新客戶 宏達精密" in servers.say_text(me, "新增客戶宏達精密")
    reply = servers.say_text(me, "宏達精密的陳志明是財務長，是決策者，影響力七成")
    assert "陳志明" in reply and "決策者" in reply and "70%" in reply
    assert "简" not in reply and "决" not in reply


def test_missing_person_is_asked_for_and_pronouns_use_context(servers):
    me = sender()
    servers.say_text(me, "Add account Globex, logistics")
    ask = servers.say_text(me, "At Globex the new head of IT is a supporter")
    assert ask == "Who is this about? Give me the person's name."
    reply = servers.say_text(me, "Nina Park")
    assert "Nina Park" in reply and "Globex" in reply
    reply = servers.say_text(me, "she is also our coach")
    assert reply.startswith("Updated Nina Park at Globex")
    assert "coach" in reply


def test_another_sender_cannot_see_my_accounts(servers):
    me, other = sender(), sender()
    servers.say_text(me, "新建客户绝密科技")
    assert "绝密科技" in servers.say_text(me, "我的客户有哪些")
    reply = servers.say_text(other, "我的客户有哪些")
    assert "绝密科技" not in reply
    assert "还没有客户记录" in reply


def test_parse_handles_all_three_scripts(servers):
    for text in ["华东精密的刘建国是技术总监，影响力六成，是支持者",
                 "華東精密的劉建國是技術總監，影響力六成，是支持者"]:
        parsed = servers.parse(text)
        assert parsed["text"] == text
        assert parsed["intent"]["name"] == "record_stakeholder"
        ents = {(e["entity"], e["value"]) for e in parsed["entities"]}
        assert ("influence", 60) in ents and ("attitude", "supporter") in ents
        assert any(e == "person" and v in ("刘建国", "劉建國") for e, v in ents)
    parsed = servers.parse("the budget at Acme is $1.5M, they are in technical screening")
    assert parsed["intent"]["name"] == "record_deal"
    ents = {(e["entity"], e["value"]) for e in parsed["entities"]}
    assert ("amount", 1_500_000) in ents and ("purchase_stage", "technical_screening") in ents


def test_export_then_delete_an_account_after_confirmation(servers):
    me = sender()
    servers.say_text(me, "Add account Initech")
    servers.say_text(me, "Bill Lumbergh is the VP at Initech, he is against us")
    export = servers.say(me, "export everything on Initech")
    assert export[0]["text"].startswith("Everything I hold about Initech:")
    assert "Bill Lumbergh" in export[0]["text"]
    assert any(m.get("custom", {}).get("type") == "account_export" for m in export)
    ask = servers.say(me, "delete the Initech account")
    assert ask[0]["text"].startswith("Delete Initech and everything recorded about it (1 people")
    assert servers.say_text(me, "/deny") == "OK — nothing was deleted."
    assert "Initech" in servers.say_text(me, "list my accounts")
    servers.say_text(me, "delete the Initech account")
    assert servers.say_text(me, "yes").startswith("Done — the account is deleted with everything recorded about it")
    assert "Initech" not in servers.say_text(me, "list my accounts")


def test_delete_a_person_in_chinese(servers):
    me = sender()
    servers.say_text(me, "新建客户远东物流")
    servers.say_text(me, "远东物流的赵敏是采购经理，支持我们")
    ask = servers.say_text(me, "删除赵敏的所有个人信息")
    assert ask.startswith("要删除赵敏（远东物流）")
    assert servers.say_text(me, "/affirm").startswith("已删除：这位人员")  # the "确认删除" button
    assert "赵敏" not in servers.say_text(me, "远东物流的权力地图")
