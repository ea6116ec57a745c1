"""Account-fact actions with real rasa_sdk trackers and a real SQLite store."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.account_facts import (
    ActionAccountSummary,
    ActionListAccounts,
    ActionPowerMap,
    ActionSaveAccount,
    ActionSaveDeal,
    ActionSaveNeed,
    ActionSaveStakeholder,
)
from actions.account_forms import ValidateStakeholderForm
from actions.general import ActionAffirmIdle
from actions.meetings import ActionSaveMeeting
from bot import media
from tests.conftest import entity, make_tracker, slot_events, texts, user_event

MSG = "华东精密的刘建国是技术总监，影响力六成，是支持者"
MSG_ENTITIES = [
    entity("account", "华东精密", message=MSG),
    entity("person", "刘建国", message=MSG),
    entity("title", "技术总监", message=MSG),
    entity("influence", 60, "六成", message=MSG),
    entity("attitude", "supporter", "支持者", message=MSG),
]


async def run(action, tracker, domain=None):  # noqa: ANN001, ANN201
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher, events


def form_events(form: str, account=None, person=None):  # noqa: ANN001, ANN201
    """Events after a form completed: the form's slots as the tracker holds them."""
    return {"form_account": account, "form_person": person}


async def test_all_facts_of_one_message_are_saved_and_confirmed_in_one_line(use_store):
    tracker = make_tracker(MSG, "record_stakeholder", MSG_ENTITIES,
                           slots=form_events("stakeholder_form", "华东精密", "刘建国"))
    dispatcher, events = await run(ActionSaveStakeholder(), tracker)
    reply = texts(dispatcher)
    assert len(reply) == 1 and "\n" not in reply[0]
    assert reply[0] == "已保存：华东精密 · 刘建国——技术总监、支持者、影响力60%（新人员，新客户）。"
    slots = slot_events(events)
    assert slots["current_account"] == "华东精密" and slots["current_person"] == "刘建国"
    assert slots["form_account"] is None and slots["form_person"] is None
    with use_store.team("solo:rep-1") as scope:
        person = scope.find_stakeholders("刘建国")[0]
        assert (person.title, person.influence, person.attitude) == ("技术总监", 60, "supporter")


async def test_traditional_script_rep_gets_a_traditional_reply(use_store):
    trad = "華東精密的劉建國是技術總監，影響力六成，是支持者"
    ents = [dict(e, value=trad[e["start"]:e["end"]]) if e["entity"] in ("account", "person", "title") else e
            for e in MSG_ENTITIES]
    tracker = make_tracker(trad, "record_stakeholder", ents, slots=form_events("s", "華東精密", "劉建國"),
                           language="zh-Hant")
    dispatcher, _ = await run(ActionSaveStakeholder(), tracker)
    assert texts(dispatcher) == ["已保存：華東精密 · 劉建國——技術總監、支持者、影響力60%（新人員，新客戶）。"]


async def test_two_people_in_one_message_each_get_their_facts(use_store):
    text = "Maria Lopez is the CFO at Acme and a supporter, Tom Reed is the CTO and against us"
    ents = [entity("person", "Maria Lopez", message=text), entity("title", "CFO", message=text),
            entity("account", "Acme", message=text), entity("attitude", "supporter", message=text),
            entity("person", "Tom Reed", message=text), entity("title", "CTO", message=text),
            entity("attitude", "opponent", "against us", message=text)]
    tracker = make_tracker(text, "record_stakeholder", ents, slots=form_events("s", "Acme", "Maria Lopez"))
    dispatcher, _ = await run(ActionSaveStakeholder(), tracker)
    assert texts(dispatcher)[0].startswith("Saved: Maria Lopez at Acme — CFO, supporter, Tom Reed (CTO, opponent)")
    with use_store.team("solo:rep-1") as scope:
        people = {p.name: p for p in scope.find_account("Acme").stakeholders}
        assert (people["Maria Lopez"].title, people["Maria Lopez"].attitude) == ("CFO", "supporter")
        assert (people["Tom Reed"].title, people["Tom Reed"].attitude) == ("CTO", "opponent")


async def test_pronoun_refers_to_the_person_last_discussed(use_store):
    with use_store.team("solo:rep-1") as scope:
        account, _ = scope.get_or_create_account("Acme")
        scope.upsert_stakeholder(account, "Maria Lopez", title="CFO")
    validate = ValidateStakeholderForm()
    text = "she is now the economic buyer with 40% influence"
    ents = [entity("buying_role", "economic_buyer", "economic buyer", message=text),
            entity("influence", 40, "40%", message=text)]
    tracker = make_tracker(text, "record_stakeholder", ents,
                           slots={"current_account": "Acme", "current_person": "Maria Lopez"})
    dispatcher, events = await run(validate, tracker, {"forms": {"stakeholder_form": {
        "required_slots": ["form_account", "form_person"]}}})
    slots = slot_events(events)
    assert slots == {"form_account": "Acme", "form_person": "Maria Lopez"}
    tracker = make_tracker(text, "record_stakeholder", ents, slots=dict(slots, current_account="Acme"))
    dispatcher, _ = await run(ActionSaveStakeholder(), tracker)
    assert texts(dispatcher) == ["Updated Maria Lopez at Acme — economic buyer (decides), influence 40%."]


async def test_form_asks_for_the_person_when_no_one_is_named(use_store):
    text = "华东精密新来了一个采购总监"
    tracker = make_tracker(text, "record_stakeholder", [entity("account", "华东精密", message=text),
                                                         entity("title", "采购总监", message=text)])
    _dispatcher, events = await run(ValidateStakeholderForm(), tracker, {"forms": {"stakeholder_form": {
        "required_slots": ["form_account", "form_person"]}}})
    assert slot_events(events) == {"form_account": "华东精密"}  # person still missing → the form asks


async def test_answer_to_the_form_question_fills_the_slot_but_a_question_does_not(use_store):
    domain = {"forms": {"stakeholder_form": {"required_slots": ["form_account", "form_person"]}}}
    answer = make_tracker("王芳", "inform", [], slots={"requested_slot": "form_person", "form_account": "华东精密"},
                          active_loop="stakeholder_form")
    _d, events = await run(ValidateStakeholderForm(), answer, domain)
    assert slot_events(events)["form_person"] == "王芳"
    question = make_tracker("what is SPIN?", "ask_methodology", [],
                            slots={"requested_slot": "form_person", "form_account": "华东精密"},
                            active_loop="stakeholder_form")
    _d, events = await run(ValidateStakeholderForm(), question, domain)
    assert "form_person" not in slot_events(events)


async def test_person_known_at_one_account_gives_the_account(use_store):
    with use_store.team("solo:rep-1") as scope:
        a, _ = scope.get_or_create_account("华东精密")
        scope.upsert_stakeholder(a, "刘建国")
        scope.get_or_create_account("Acme")
    text = "刘建国现在转中立了"
    tracker = make_tracker(text, "record_stakeholder", [entity("person", "刘建国", message=text),
                                                         entity("attitude", "neutral", "中立", message=text)])
    _d, events = await run(ValidateStakeholderForm(), tracker, {"forms": {"stakeholder_form": {
        "required_slots": ["form_account", "form_person"]}}})
    assert slot_events(events) == {"form_account": "华东精密", "form_person": "刘建国"}


async def test_add_account_then_deal_need_and_meeting(use_store):
    text = "新建客户华东精密，汽车零部件行业"
    t = make_tracker(text, "add_account", [entity("account", "华东精密", message=text),
                                           entity("industry", "汽车零部件", message=text)],
                     slots={"form_account": "华东精密"})
    d, _ = await run(ActionSaveAccount(), t)
    assert texts(d) == ["已保存：新客户 华东精密（行业：汽车零部件）。"]

    text = "华东精密现在在技术筛选阶段，预算200万，对手是西门子，明年三月决定"
    ents = [entity("account", "华东精密", message=text),
            entity("purchase_stage", "technical_screening", "技术筛选", message=text),
            entity("amount", 2_000_000, "200万", message=text), entity("competitor", "西门子", message=text),
            entity("timeline", "明年三月", message=text)]
    d, _ = await run(ActionSaveDeal(), make_tracker(text, "record_deal", ents, slots={"form_account": "华东精密"}))
    assert texts(d) == ["已保存 华东精密：采购阶段：技术部门筛选、预算200万、时间：明年三月、竞争对手：西门子。"]

    text = "他们的隐性需求是降低IT运维成本"
    ents = [entity("need_type", "implicit", "隐性", message=text), entity("need", "降低IT运维成本", message=text)]
    d, _ = await run(ActionSaveNeed(), make_tracker(text, "record_need", ents, slots={"form_account": "华东精密"}))
    assert texts(d) == ["已保存 华东精密 的隐性需求：“降低IT运维成本”。"]

    text = "Had a call with Liu at 华东精密, he said peak-season capacity is the bottleneck"
    d, ev = await run(ActionSaveMeeting(), make_tracker(text, "log_meeting", [entity("person", "Liu", message=text)],
                                                        slots={"form_account": "华东精密"}))
    # the note is logged at once; what it says about the account waits for a yes
    assert texts(d) == ["Logged: meeting at 华东精密, today.", "I also found: new person Liu. Save these too?"]
    offer = slot_events(ev)["pending_offer"]
    assert offer.startswith("meeting_facts:")
    with use_store.team("solo:rep-1") as scope:
        assert scope.find_account("华东精密").stakeholders == []
    d, ev = await run(ActionAffirmIdle(), make_tracker("yes", "affirm", slots={"pending_offer": offer}))
    assert texts(d) == ["Saved: new person Liu.",
                        "Want a 2-minute debrief of this meeting? I'll record problems, implications and people as we go."]
    assert [b["payload"] for b in d.messages[1]["buttons"]] == ["/start_debrief", "/deny"]
    assert slot_events(ev)["pending_offer"] == "debrief"
    with use_store.team("solo:rep-1") as scope:
        acc = scope.find_account("华东精密")
        opp = scope.opportunity(acc, create=False)
        assert (opp.purchase_stage, opp.budget, opp.competitor_list, opp.timeline) == (
            "technical_screening", 2_000_000, ["西门子"], "明年三月")
        assert [(n.kind, n.description) for n in acc.needs] == [("implicit", "降低IT运维成本")]
        assert acc.interactions[0].summary == text  # the rep's words, unchanged
        assert [p.name for p in acc.stakeholders] == ["Liu"]


async def test_power_map_lists_decider_supporters_opponents_and_influence(use_store):
    with use_store.team("solo:rep-1") as scope:
        a, _ = scope.get_or_create_account("Acme")
        scope.upsert_stakeholder(a, "Maria Lopez", title="CEO", buying_roles=["economic_buyer"], attitude="neutral",
                                 influence=50)
        scope.upsert_stakeholder(a, "Tom Reed", title="CTO", buying_roles=["technical"], attitude="opponent",
                                 influence=30)
        scope.upsert_stakeholder(a, "Ann Wu", title="IT manager", buying_roles=["coach"], attitude="supporter",
                                 influence=20, relationship_stage="trusted")
    d, events = await run(ActionPowerMap(), make_tracker("show the power map of Acme", "ask_power_map",
                                                         [entity("account", "Acme")]))
    text = texts(d)[0]
    assert text.splitlines() == [
        "Power map of Acme:",
        "• Maria Lopez (CEO) — economic buyer (decides), neutral, influence 50%",
        "• Tom Reed (CTO) — technical evaluator, opponent, influence 30%",
        "• Ann Wu (IT manager) — coach (insider), supporter, influence 20%, relationship: trusted",
        "Decides: Maria Lopez",
        "Supporters: Ann Wu",
        "Opponents: Tom Reed",
        "Neutral/unknown: Maria Lopez",
        "Influence for us 20% vs against 30%.",
    ]
    assert slot_events(events)["current_account"] == "Acme"
    # ... followed by the picture: a PNG in the chart folder, behind an unguessable URL
    images = [m["image"] for m in d.messages if m.get("image")]
    assert len(images) == 1
    path = media.local_path(images[0])
    assert path is not None and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_reads_use_the_account_in_context_and_never_another_teams(use_store):
    with use_store.team("solo:alice") as scope:
        a, _ = scope.get_or_create_account("Secret Co")
        scope.upsert_stakeholder(a, "Maria Lopez", attitude="supporter")
    # bob names alice's account: he is told it does not exist
    d, _ = await run(ActionPowerMap(), make_tracker("power map of Secret Co", "ask_power_map",
                                                    [entity("account", "Secret Co")], sender="bob"))
    assert "Maria" not in texts(d)[0]
    assert texts(d)[0].startswith("I don't have an account called “Secret Co”")
    d, _ = await run(ActionListAccounts(), make_tracker("list my accounts", "list_accounts", sender="bob"))
    assert "Secret Co" not in texts(d)[0]
    # alice asks without naming it: the only account is used
    d, _ = await run(ActionAccountSummary(), make_tracker("summary please", "ask_account_summary", sender="alice"))
    assert texts(d)[0].startswith("Secret Co")


async def test_forged_metadata_on_rest_does_not_change_the_team(use_store):
    with use_store.team("solo:alice") as scope:
        scope.get_or_create_account("Secret Co")
    tracker = make_tracker("list accounts", "list_accounts", sender="mallory", channel="rest",
                           metadata={"identity": {"team": "alice-team", "user": "x"}})
    d, _ = await run(ActionListAccounts(), tracker)
    assert "Secret Co" not in texts(d)[0]


async def test_which_account_is_asked_with_buttons_when_ambiguous(use_store):
    with use_store.team("solo:rep-1") as scope:
        scope.get_or_create_account("Acme")
        scope.get_or_create_account("华东精密")
    d, _ = await run(ActionPowerMap(), make_tracker("谁说了算？", "ask_power_map"))
    assert d.messages[0]["text"] == "你指的是哪个客户？"
    payloads = {b["payload"] for b in d.messages[0]["buttons"]}
    assert payloads == {'/ask_power_map{"account": "Acme"}', '/ask_power_map{"account": "华东精密"}'}


async def test_invalid_influence_is_refused_politely_and_nothing_saved(use_store):
    text = "Bob at NewCo has 150% influence"
    tracker = make_tracker(text, "record_stakeholder", [entity("influence", 150, "150%", message=text)],
                           slots={"form_account": "NewCo", "form_person": "Bob"})
    d, events = await run(ActionSaveStakeholder(), tracker)
    assert texts(d) == ["Influence must be between 0 and 100 % (got 150). Nothing was changed."]
    assert slot_events(events)["form_account"] is None
    with use_store.team("solo:rep-1") as scope:
        assert scope.list_accounts() == []


async def test_database_outage_gets_a_clear_reply_in_the_reps_language(tmp_path):
    import actions.base
    from bot.store import AccountStore
    from bot.store.db import make_session_factory

    broken = AccountStore(make_session_factory(f"sqlite:///{tmp_path}/missing/dir/x.db"))
    actions.base.use_store(broken)
    try:
        d, _ = await run(ActionListAccounts(), make_tracker("我的客户有哪些", "list_accounts"))
    finally:
        actions.base.use_store(None)
    assert texts(d) == ["抱歉，暂时连不上客户数据库，这次没有保存任何内容。请一分钟后再试。"]


@pytest.mark.parametrize("text, lang_reply", [("list accounts", "You have no accounts yet."),
                                              ("我的客户", "你还没有客户记录。"),
                                              ("我的客戶", "你還沒有客戶記錄。")])
async def test_reply_language_follows_the_message(use_store, text, lang_reply):
    d, _ = await run(ActionListAccounts(), make_tracker(text, "list_accounts"))
    assert texts(d)[0].startswith(lang_reply)


async def test_language_override_wins(use_store):
    tracker = make_tracker("我的客户", "list_accounts", slots={"language_override": "en"})
    d, events = await run(ActionListAccounts(), tracker)
    assert texts(d)[0].startswith("You have no accounts yet.")
    assert slot_events(events)["language"] == "en"


def test_user_event_helper_shape():
    assert user_event("hi", "greet")["parse_data"]["intent"]["name"] == "greet"


def test_form_activation_is_recognised_by_the_trigger_message():
    from rasa_sdk import Tracker

    from actions.context import form_activating

    latest = {"text": "hi", "message_id": "m2", "intent": {"name": "record_deal"}}
    def tracker(loop):  # noqa: ANN001, ANN202
        return Tracker("s", {}, latest, [], False, None, loop, "action_listen")
    assert form_activating(tracker({}), "deal_form")
    assert form_activating(tracker({"name": "deal_form", "trigger_message": {"message_id": "m2"}}), "deal_form")
    assert not form_activating(tracker({"name": "deal_form", "trigger_message": {"message_id": "m1"}}), "deal_form")
    assert form_activating(tracker({"name": "need_form", "trigger_message": {"message_id": "m1"}}), "deal_form")


def test_known_accounts_and_people_are_found_in_the_text_when_the_model_missed_them(use_store):
    from actions.context import known_names

    with use_store.team("solo:rep-1") as scope:
        a, _ = scope.get_or_create_account("Vandelay Industries")
        scope.upsert_stakeholder(a, "Art Vandelay")
        scope.upsert_stakeholder(a, "Art")
        found = known_names(scope, "prepare my meeting with art vandelay at Vandelay Industries", [])
        assert {(e["entity"], e["value"]) for e in found} == {("person", "Art Vandelay"),
                                                              ("account", "Vandelay Industries")}
        assert known_names(scope, "the artwork is nice", []) == []  # whole words only
