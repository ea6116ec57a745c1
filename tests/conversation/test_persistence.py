"""Conversations survive a restart of the Rasa server (SQL tracker store)."""
import uuid

import pytest

pytestmark = [pytest.mark.model, pytest.mark.slow]


def test_conversation_context_survives_a_rasa_restart(servers):
    me = f"rep-{uuid.uuid4().hex[:8]}"
    servers.say_text(me, "新建客户长城电子")
    servers.say_text(me, "长城电子的赵磊是总经理，拍板的人")
    before = servers.tracker(me)
    assert before["slots"]["current_account"] == "长城电子"
    servers.stop("rasa")
    servers.start_rasa()
    after = servers.tracker(me)
    assert after["slots"]["current_account"] == "长城电子"
    assert len(after["events"]) >= len(before["events"])
    pm = servers.say_text(me, "看看权力地图")  # no account named: the context survived
    assert pm.startswith("长城电子 的权力地图：")
    assert "赵磊（总经理）" in pm
