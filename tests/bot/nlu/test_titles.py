"""English titles and the names said with them (bot.nlu.titles)."""
from __future__ import annotations

import pytest

from bot.nlu.titles import titles_with_people, with_titles


@pytest.mark.parametrize("text, pairs", [
    ("main contact is megan doyle, COO", [("COO", "megan doyle")]),
    ("IT lead there is raj mehta, technical evaluator, neutral so far", [("IT lead", "raj mehta")]),
    ("Director of IT Services is Samuel Achebe, technical, neutral", [("Director of IT Services", "Samuel Achebe")]),
    ("not quite - Jamal is procurement director, not finance director.", [("procurement director", "Jamal")]),
    ("Ian was there with his boss, MD Caroline Ashworth, and their reliability engineer Pete Sowerby.",
     [("MD", "Caroline Ashworth"), ("reliability engineer", "Pete Sowerby")]),
    ("Met Graham with Fiona Marsh (plant manager) and Ade Okafor from finance.", [("plant manager", "Fiona Marsh")]),
    ("Dan Whitmore is VP Operations, economic buyer, 55%.", [("VP Operations", "Dan Whitmore")]),
    ("Samuel, Prof. Laura Bennett (Deputy Vice-Chancellor) and Jamal", [("Deputy Vice-Chancellor", "Laura Bennett")]),
    ("Jonathan's boss is the MD, Rebecca Hale. she's the economic buyer", [("MD", "Rebecca Hale")]),
    ("quarrington's head of supply chain is Jonathan Pike", [("head of supply chain", "Jonathan Pike")]),
    # a title said of nobody, or no title at all
    ("the plant manager said downtime is the problem", []),
    ("she will manage the rollout", []),
    ("I need to talk to the director about budget", []),
    ("Ian Fairbairn, technical lead on the project", []),
    ("刘建国是技术总监", []),
])
def test_titles_are_taken_with_the_person_they_are_said_of(text, pairs):
    assert [(t.text, p.text) for t, p in titles_with_people(text)] == pairs


def test_a_learned_span_inside_a_title_is_dropped_and_the_title_names_its_person():
    text = "Director of IT Services is Samuel Achebe, technical, neutral"
    crf = [{"entity": "competitor", "value": "Services", "start": 16, "end": 24},
           {"entity": "person", "value": "Samuel Achebe", "start": 28, "end": 41}]
    out = with_titles(text, crf, "test")
    assert [(e["entity"], e["value"]) for e in out] == [("title", "Director of IT Services"),
                                                        ("person", "Samuel Achebe")]
    assert out[0]["person_hint"] == "Samuel Achebe"


@pytest.mark.parametrize("text, pairs", [
    ("工程处处长 周承恩 技术把关 影响力四成", [("工程处处长", "周承恩")]),
    ("网络维运处副处长 邱秀琴 是使用单位的主管", [("网络维运处副处长", "邱秀琴")]),
    ("科长俞佳 负责这个项目", [("科长", "俞佳")]),
    ("远航的总经理张建平 拍板的", [("总经理", "张建平")]),
    ("设备部部长高志远 跟我们", [("设备部部长", "高志远")]),
    ("北辰的研发VP叫董浩 技术把关的", [("研发VP", "董浩")]),
    ("赵志刚 是 副行长, 管科技", [("副行长", "赵志刚")]),
    ("新的 科技部经理 是 吴婷, 还不太熟", [("科技部经理", "吴婷")]),
    ("老板叫吴国栋 董事长 最后他拍板", [("董事长", "吴国栋")]),
    ("参加的有质量部经理邱红霞 IT主管卓伟 还有采购总监彭卫东",
     [("质量部经理", "邱红霞"), ("IT主管", "卓伟"), ("采购总监", "彭卫东")]),
    ("经理说的对", []),
])
def test_chinese_titles_are_taken_with_the_person_they_are_said_of(text, pairs):
    from bot.nlu.names import find_person_names
    from bot.nlu.titles import chinese_titles_with_people

    people = [(n.start, n.end, n.text) for n in find_person_names(text)]
    assert [(t.text, p) for t, p in chinese_titles_with_people(text, people)] == pairs
