"""The custom NLU components on their own (no trained model needed)."""
from __future__ import annotations

import collections
from pathlib import Path

import pytest
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot import lexicon
from bot.language import to_simplified
from bot.nlu.components import (
    QUANTITY_ENTITIES,
    SalesEntityExtractor,
    SalesTokenizer,
    ScriptNormalizer,
    ScriptRestorer,
    extract_rule_entities,
)

REPO = Path(__file__).resolve().parents[3]


def run_pipeline(text: str, intent: str, diet_entities=None):  # noqa: ANN001, ANN201
    """Runs the custom components around a stand-in for DIET's output."""
    message = Message(data={TEXT: text})
    ScriptNormalizer({}).process([message])
    SalesTokenizer(SalesTokenizer.get_default_config()).process([message])
    message.set(INTENT, {"name": intent, "confidence": 1.0})
    message.set(ENTITIES, list(diet_entities or []))
    SalesEntityExtractor({}).process([message])
    ScriptRestorer({}).process([message])
    return message


@pytest.mark.parametrize(
    "text, language",
    [("华东精密的刘建国是技术总监", "zh-Hans"), ("華東精密的劉建國是技術總監", "zh-Hant"),
     ("Maria is the CFO", "en"), ("客户说 budget 不够", "zh-Hans")],
)
def test_normalizer_detects_language_and_normalises_to_simplified(text, language):
    message = Message(data={TEXT: text})
    ScriptNormalizer({}).process([message])
    assert message.get("language") == language
    assert message.get(TEXT) == to_simplified(text)
    assert "language" in message.output_properties


def test_tokenizer_segments_chinese_with_the_sales_dictionary_and_skips_spaces():
    message = Message(data={TEXT: "华东精密的刘建国是技术总监，影响力六成"})
    SalesTokenizer(SalesTokenizer.get_default_config()).process([message])
    tokens = [t.text for t in message.get("text_tokens")]
    assert "技术总监" in tokens and "影响力" in tokens and "六成" in tokens
    message = Message(data={TEXT: "客户说 budget  不够"})
    SalesTokenizer(SalesTokenizer.get_default_config()).process([message])
    tokens = [t.text for t in message.get("text_tokens")]
    assert tokens == ["客户", "说", "budget", "不够"]
    assert all(t.text.strip() for t in message.get("text_tokens"))


def test_tokens_fall_on_name_boundaries():
    """Jieba's HMM glues names to the next word (刘总说); dictionary-only segmentation does not."""
    message = Message(data={TEXT: "刘总说再降5个点才能批"})
    SalesTokenizer(SalesTokenizer.get_default_config()).process([message])
    ends = {t.end for t in message.get("text_tokens")}
    assert 2 in ends  # "刘总" ends at offset 2


@pytest.mark.parametrize(
    "text, intent, expected",
    [
        ("华东精密的刘建国是技术总监，影响力六成，是支持者", "record_stakeholder",
         {("influence", 60), ("attitude", "supporter")}),
        ("華東精密的劉建國是技術總監，影響力六成，是支持者", "record_stakeholder",
         {("influence", 60), ("attitude", "supporter")}),
        ("Maria Lopez is the economic buyer, 40% influence, on our side", "record_stakeholder",
         {("buying_role", "economic_buyer"), ("influence", 40), ("attitude", "supporter")}),
        ("他们预算三百万，现在在技术筛选阶段", "record_deal",
         {("amount", 3_000_000), ("purchase_stage", "technical_screening")}),
        ("預算兩百萬，已經立項", "record_deal", {("amount", 2_000_000), ("purchase_stage", "project_set_up")}),
        ("budget is $1.5M and they're evaluating vendors", "record_deal",
         {("amount", 1_500_000), ("purchase_stage", "evaluation")}),
        ("around 500k", "inform", {("amount", 500_000)}),
        ("大概六成", "inform", {("influence", 60)}),
        ("交付要晚3天", "conflict_delivery_delay", {("duration", 3)}),
        ("预算被砍了30%", "conflict_budget_cut", {("percentage", 30)}),
        ("what is the iceberg model", "ask_methodology", {("method", "iceberg")}),
        ("請用繁體回覆", "set_language", {("language", "zh-Hant")}),
        ("answer in English please", "set_language", {("language", "en")}),
        ("I can't read simplified, use traditional", "set_language", {("language", "zh-Hant")}),
    ],
)
def test_rule_entities_have_canonical_values(text, intent, expected):
    message = run_pipeline(text, intent)
    rule_types = set(lexicon.entity_types()) | set(QUANTITY_ENTITIES)
    got = {(e["entity"], e["value"]) for e in message.get(ENTITIES) if e["entity"] in rule_types}
    assert got == expected


def test_restorer_returns_original_text_and_original_script_spans():
    trad = "華東精密的劉建國是技術總監"
    diet = [{"entity": "account", "value": "华东精密", "start": 0, "end": 4, "extractor": "DIETClassifier"},
            {"entity": "person", "value": "刘建国", "start": 5, "end": 8, "extractor": "DIETClassifier"},
            {"entity": "attitude", "value": "bogus", "start": 9, "end": 11, "extractor": "DIETClassifier"}]
    message = run_pipeline(trad, "record_stakeholder", diet)
    assert message.get(TEXT) == trad
    ents = {(e["entity"], e["value"]) for e in message.get(ENTITIES)}
    assert ("account", "華東精密") in ents and ("person", "劉建國") in ents
    assert ("attitude", "bogus") not in ents  # canonical types come from the rules, not DIET


def test_stage_words_are_not_stages_outside_deal_talk():
    message = run_pipeline("they are worried about the implementation", "objection_risk")
    assert [e for e in message.get(ENTITIES) if e["entity"] == "purchase_stage"] == []


def _annotated(folder: Path):  # noqa: ANN202
    rule_types = set(lexicon.entity_types()) | set(QUANTITY_ENTITIES)
    for m in load_data(str(folder)).training_examples:
        gold = {(e["entity"], str(e["value"])) for e in m.get("entities") or [] if e["entity"] in rule_types}
        message = Message(data={TEXT: to_simplified(m.get(TEXT))})
        pred = {(e["entity"], str(e["value"])) for e in extract_rule_entities(message, m.get(INTENT))}
        yield gold, pred


def test_rule_entities_agree_with_the_annotated_training_data():
    """Every canonical value annotated in data/nlu is found by the rules (≥ 96 %), with few extras."""
    found = missed = extra = 0
    by_type: collections.Counter = collections.Counter()
    for gold, pred in _annotated(REPO / "data" / "nlu"):
        found += len(gold & pred)
        missed += len(gold - pred)
        extra += len(pred - gold)
        for entity, _value in gold - pred:
            by_type[entity] += 1
    recall = found / (found + missed)
    precision = found / (found + extra)
    assert recall >= 0.96, f"recall {recall:.3f}, misses by type {dict(by_type)}"
    assert precision >= 0.86, f"precision {precision:.3f}"  # some annotators left role words in questions unannotated


@pytest.mark.parametrize("text, crf_value, expected", [
    ("Add account Replica Co 7", "Replica Co", "Replica Co 7"),
    ("Maria Lopez is the CFO at Replica Co 8", "Replica Co", "Replica Co 8"),
    ("Replica Co 7, logistics", "Replica Co", "Replica Co 7"),
    ("Acme 500k budget", "Acme", "Acme"),  # a quantity, not part of the name
    ("Acme 40% influence", "Acme", "Acme"),
    ("met Acme 3 times", "Acme", "Acme"),
])
def test_a_number_ending_an_account_name_is_kept(text, crf_value, expected):
    from bot.nlu.components import extend_numbered_accounts

    start = text.index(crf_value)
    entity = {"entity": "account", "value": crf_value, "start": start, "end": start + len(crf_value)}
    [out] = extend_numbered_accounts(text, [entity])
    assert (out["value"], text[out["start"]:out["end"]]) == (expected, expected)


@pytest.mark.parametrize("text, entities, yes", [
    ("yes all good. put Pete down as a supporter", [{"entity": "person"}, {"entity": "attitude"}], True),
    ("对 删掉", [], True),
    ("yes thats right", [], True),
    ("对了，王总说下周见", [], False),  # "by the way"
    ("对手是西门子", [{"entity": "competitor"}], False),
    ("对，他们预算200万", [{"entity": "amount"}], False),  # a statement about the deal
    ("yes, but what about SAP?", [], False),
    ("Yes, we have done this for three other banks in the region", [], False),  # a practice line
])
def test_a_message_that_opens_with_a_clear_yes(text, entities, yes):
    from bot.nlu.intent_rules import leads_with_yes

    assert leads_with_yes(text, entities) is yes


@pytest.mark.parametrize("text, met", [
    ("their gm is patricia huang, havent met her, frank says she has the final say", False),
    ("budget is 500k, kevin confirmed it on the phone", False),
    ("马总您好 我是上次展会上跟您聊过的小李 今天想跟您聊聊产线数据采集的事", False),
    ("通衢的ceo叫谭志鹏 我跟他只是认识 见过一次", False),
    ("met graham yesterday at their leicester plant", True),
    ("昨天跟刘处长吃饭 她说这案子其实最后是总经理拍板", True),
    ("今日同梁嘉欣开咗会，佢话预算有500万", True),
    ("just hung up with rafael quintero, we made the shortlist", True),
])
def test_a_meeting_is_logged_only_when_one_took_place(text, met):
    from bot.nlu.intent_rules import CUED_INTENTS

    assert bool(CUED_INTENTS["log_meeting"].search(text)) is met


def test_a_company_description_is_not_a_need():
    from bot.notes import states_a_need

    assert not states_a_need("Add account Brightwater Regional Bank, banking, mid-size regional bank ~40 branches")
    assert states_a_need("their current WMS is 15 yrs old and falls over every peak, thats the big need")
    assert states_a_need("新建客户 海川水务 他们想做漏损监测")


def test_a_meeting_note_stays_a_note_whatever_relationship_it_mentions():
    from bot.nlu.intent_rules import revised_intent

    note = "昨天去恒瑞开会 见了张总和赵敏 陈静也在 张总说明年预算会砍20% 赵敏说他们的追溯系统太慢 陈静跟我们只是认识"
    assert revised_intent("log_meeting", note, []) is None
    assert revised_intent("conflict_budget_cut", note, []) == "log_meeting"
    # a statement of who decides is no objection, and a "yes" before a change is no plain yes
    assert revised_intent("objection_authority", "老板叫吴国栋 董事长 最后他拍板", [
        {"entity": "person", "value": "吴国栋"}, {"entity": "title", "value": "董事长"}]) == "record_stakeholder"
    assert revised_intent("objection_authority", "王总说要请示老板", [{"entity": "person", "value": "王总"}]) is None
    assert revised_intent("delete_data", "yes mostly, emily told us all about the crashes", []) is not None
    assert revised_intent("delete_data", "delete emily", []) is None


@pytest.mark.parametrize("text, name", [
    ("Cobalt Ridge Mining - new account pls. mining, copper", "Cobalt Ridge Mining"),
    ("济康医院 新建一个客户 三甲医院", "济康医院"),
    ("昱成车电 新客户 汽车电子 做ECU的", "昱成车电"),
    ("add 一个新客户 星辰半导体 做芯片封测的", "星辰半导体"),
    ("新建客户 蓝海港务集团 港口物流", "蓝海港务集团"),
    ("add account Initech, software", "Initech"),
])
def test_the_new_accounts_name_is_the_one_next_to_the_cue(text, name):
    from bot.nlu.components import new_account_name

    assert [e["value"] for e in new_account_name(text)] == [name]


@pytest.mark.parametrize("text, plain", [
    ("yes", True), ("对 删掉", True), ("好，刪吧", True), ("yes delete it", True), ("确认删除", True),
    ("yes mostly, emily told us", False), ("yes, and budget is 2M", False), ("对了 王总说", False),
])
def test_a_plain_yes_is_what_confirms_a_deletion(text, plain):
    from bot.nlu.intent_rules import plain_yes

    assert plain_yes(text) is plain


def test_an_attitude_is_no_gift_question_but_an_offer_still_is():
    from bot.nlu.intent_rules import revised_intent

    assert revised_intent("ask_gift_advice", "他不支持我们", [{"entity": "attitude", "value": "opponent"}]) \
        == "record_stakeholder"
    assert revised_intent("ask_gift_advice", "给技术负责人一笔咨询费，让他支持我们",
                          [{"entity": "attitude", "value": "supporter"}]) is None
    assert revised_intent("ask_gift_advice", "can I send Dan a case of wine so he backs us",
                          [{"entity": "person"}, {"entity": "attitude"}]) is None
