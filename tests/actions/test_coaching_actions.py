"""Coaching actions with real trackers and a real store: content and use of account facts."""
from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.coaching import (
    ActionDealRisks,
    ActionExplainMethod,
    ActionNegotiationAdvice,
    ActionNextStep,
    ActionRelationshipAdvice,
)
from actions.coaching_forms import (
    ActionBantVerdict,
    ActionConflictDraft,
    ActionObjectionPlay,
    ActionProposalAdvice,
    ActionRoiResult,
    ValidateBantForm,
    ValidateConflictForm,
    ValidateObjectionForm,
    ValidateRoiForm,
    split_amounts,
)
from actions.debrief import ValidateDebriefForm
from actions.general import ActionAffirmIdle, ActionDeclineGift
from actions.meeting_prep import ActionPrepareMeeting
from bot.coach.roi import compute_roi
from tests.conftest import entity, make_tracker, slot_events, texts

REP = "solo:rep-1"


async def run(action, tracker, domain=None):  # noqa: ANN001, ANN201
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, domain or {})
    return dispatcher, events


def seed_accounts(store) -> None:  # noqa: ANN001
    """Two accounts with different facts."""
    with store.team(REP) as scope:
        a, _ = scope.get_or_create_account("华东精密")
        scope.upsert_stakeholder(a, "刘建国", title="技术总监", buying_roles=["economic_buyer"], attitude="supporter",
                                 influence=60)
        b, _ = scope.get_or_create_account("Acme")
        scope.upsert_stakeholder(b, "Maria Lopez", title="CFO", buying_roles=["economic_buyer", "financial"],
                                 attitude="neutral", influence=50, relationship_stage="engaged")
        scope.upsert_stakeholder(b, "Tom Reed", title="CTO", buying_roles=["technical"], attitude="opponent",
                                 influence=30)
        scope.upsert_stakeholder(b, "Ann Wu", title="IT manager", buying_roles=["coach"], attitude="supporter",
                                 influence=10, relationship_stage="trusted")
        scope.update_deal(b, purchase_stage="technical_screening", budget=2_000_000, competitors=["SAP"],
                          timeline="Q3")
        scope.add_need(b, "cut IT ops cost", kind="implicit")


# --- risks ---------------------------------------------------------------------------

async def test_only_decider_is_a_technical_director_reports_minefield_1(use_store):
    seed_accounts(use_store)
    d, _ = await run(ActionDealRisks(), make_tracker("华东精密有什么风险", "ask_deal_risks",
                                                      [entity("account", "华东精密")]))
    text = texts(d)[0]
    lines = text.splitlines()
    assert "刘建国" in lines[1] and "雷区一" in text.replace("雷区1", "雷区一") or "雷区" in lines[1]
    from bot.coach import engine

    title = engine.playbook("risks")["risks"]["technical_as_decider"]["title"]["zh"]
    assert lines[1].startswith("• " + title)


async def test_risks_differ_between_accounts(use_store):
    seed_accounts(use_store)
    d1, _ = await run(ActionDealRisks(), make_tracker("risks at Acme?", "ask_deal_risks", [entity("account", "Acme")]))
    d2, _ = await run(ActionDealRisks(), make_tracker("risks at 华东精密?", "ask_deal_risks",
                                                       [entity("account", "华东精密")]))
    from bot.coach import engine

    risks = engine.playbook("risks")["risks"]
    acme, hd = texts(d1)[0], texts(d2)[0]
    assert risks["technical_as_decider"]["title"]["en"] in hd
    assert risks["technical_as_decider"]["title"]["en"] not in acme
    assert risks["no_coach"]["title"]["en"] in hd and risks["no_coach"]["title"]["en"] not in acme
    assert risks["decider_neutral"]["title"]["en"] in acme
    assert risks["competitor_unknown"]["title"]["en"] in hd and risks["competitor_unknown"]["title"]["en"] not in acme


# --- ROI ------------------------------------------------------------------------------

def test_roi_of_2m_invested_and_800k_saved_is_30_months():
    result = compute_roi(2_000_000, 800_000)
    assert result.payback_months == 30
    assert result.roi_3y_percent == 20
    assert result.net_3y == 400_000


def test_amounts_are_split_into_investment_and_yearly_saving():
    text = "投入200万，每年节省80万"
    ents = [entity("amount", 2_000_000, "200万", message=text), entity("amount", 800_000, "80万", message=text)]
    assert split_amounts(text, ents) == {"investment": 2_000_000, "saving": 800_000}
    text = "spend $80k, save $5k a month"
    ents = [entity("amount", 80_000, "$80k", message=text), entity("amount", 5_000, "$5k", message=text)]
    assert split_amounts(text, ents) == {"investment": 80_000, "saving": 60_000}


async def test_roi_form_takes_both_figures_from_the_request_and_the_result_says_30_months(use_store):
    text = "帮我算ROI：投入200万，每年节省80万"
    ents = [entity("amount", 2_000_000, "200万", message=text), entity("amount", 800_000, "80万", message=text)]
    tracker = make_tracker(text, "calculate_roi", ents)
    _d, events = await run(ValidateRoiForm(), tracker, {"forms": {"roi_form": {"required_slots": [
        "roi_investment", "roi_saving"]}}})
    assert slot_events(events) == {"roi_investment": 2_000_000, "roi_saving": 800_000}
    d, _ = await run(ActionRoiResult(), make_tracker(text, "calculate_roi", ents, slots=slot_events(events)))
    reply = texts(d)[0]
    assert "30" in reply and "200万" in reply and "80万" in reply
    d, _ = await run(ActionRoiResult(), make_tracker("roi: invest 2,000,000, save 800,000 a year", "calculate_roi",
                                                     slots={"roi_investment": 2e6, "roi_saving": 8e5}))
    assert "30 months" in texts(d)[0]


# --- conflicts ---------------------------------------------------------------------------

async def test_delay_form_reads_days_and_reason_and_the_draft_contains_them(use_store):
    seed_accounts(use_store)
    text = "Acme的交付要延迟5天，因为芯片缺货"
    ents = [entity("account", "Acme", message=text), entity("duration", 5, "5天", message=text)]
    tracker = make_tracker(text, "conflict_delivery_delay", ents)
    _d, events = await run(ValidateConflictForm(), tracker, {"forms": {"conflict_form": {"required_slots": []}}})
    slots = slot_events(events)
    assert slots["conflict_type"] == "conflict_delivery_delay"
    assert slots["conflict_days"] == "5" and slots["conflict_reason"] == "芯片缺货"
    assert slots.get("requested_slot") is None  # nothing left to ask
    d, _ = await run(ActionConflictDraft(), make_tracker(text, "conflict_delivery_delay", ents, slots=slots))
    reply = texts(d)[0]
    assert "5" in reply and "芯片缺货" in reply and "Maria Lopez" in reply


async def test_delay_form_asks_for_missing_days(use_store):
    text = "the delivery to Acme will be late"
    tracker = make_tracker(text, "conflict_delivery_delay", [])
    _d, events = await run(ValidateConflictForm(), tracker, {"forms": {"conflict_form": {"required_slots": []}}})
    assert slot_events(events)["requested_slot"] == "conflict_days"
    answer = make_tracker("3", "inform", [], slots={"conflict_type": "conflict_delivery_delay",
                                                    "requested_slot": "conflict_days"},
                          active_loop="conflict_form")
    _d, events = await run(ValidateConflictForm(), answer, {"forms": {"conflict_form": {"required_slots": []}}})
    assert slot_events(events)["conflict_days"] == "3"


async def test_budget_cut_draft_uses_the_cut_and_what_to_keep(use_store):
    slots = {"conflict_type": "conflict_budget_cut", "conflict_cut": "30%", "conflict_keep": "the MES core module"}
    d, _ = await run(ActionConflictDraft(), make_tracker("they cut the budget by 30%", "conflict_budget_cut",
                                                         slots=slots))
    reply = texts(d)[0]
    assert "30%" in reply and "MES core module" in reply


# --- objections -----------------------------------------------------------------------------

async def test_price_objection_is_diagnosed_first(use_store):
    tracker = make_tracker("客户说太贵了", "objection_price", [])
    _d, events = await run(ValidateObjectionForm(), tracker, {"forms": {"objection_form": {"required_slots": [
        "objection_type", "objection_cause"]}}})
    assert slot_events(events) == {"objection_type": "objection_price"}  # cause still to be asked
    tracker = make_tracker("客户说超出预算了", "objection_price", [])
    _d, events = await run(ValidateObjectionForm(), tracker, {"forms": {"objection_form": {"required_slots": [
        "objection_type", "objection_cause"]}}})
    assert slot_events(events) == {"objection_type": "objection_price", "objection_cause": "over_budget"}


async def test_same_objection_on_two_accounts_gets_different_specific_plays(use_store):
    seed_accounts(use_store)
    slots = {"objection_type": "objection_price", "objection_cause": "over_budget"}
    d1, _ = await run(ActionObjectionPlay(), make_tracker("Acme says we're over budget", "objection_price",
                                                          [entity("account", "Acme")], slots=slots))
    with use_store.team(REP) as scope:
        scope.get_or_create_account("Globex")
    d2, _ = await run(ActionObjectionPlay(), make_tracker("Globex says we're over budget", "objection_price",
                                                          [entity("account", "Globex")], slots=slots))
    acme, globex = texts(d1)[0], texts(d2)[0]
    assert acme != globex
    assert "Maria Lopez" in acme and "Maria Lopez" not in globex
    assert "Next action" in acme and "Next action" in globex


# --- next step / methodology / relationship / negotiation -------------------------------------------

async def test_next_step_follows_the_stage_table(use_store):
    seed_accounts(use_store)
    from bot.coach import engine

    d, _ = await run(ActionNextStep(), make_tracker("what next on Acme", "ask_next_step", [entity("account", "Acme")]))
    reply = texts(d)[0]
    action = engine.playbook("stages")["technical_screening"]["action"]["en"]
    assert reply.startswith("Next step on Acme — stage: technical screening")
    assert action in reply


@pytest.mark.parametrize("method", ["spin", "star", "bant", "iceberg", "power_map", "sales_path",
                                   "relationship_stages", "purchase_process", "negotiation"])
async def test_every_method_is_explained_with_an_example(use_store, method):
    from bot.coach import engine

    d, _ = await run(ActionExplainMethod(), make_tracker(f"explain {method}", "ask_methodology",
                                                         [entity("method", method)]))
    entry = engine.playbook("methods")[method]
    reply = texts(d)[0]
    assert entry["title"]["en"] in reply and entry["example"]["en"].splitlines()[0] in reply


async def test_relationship_advice_uses_the_persons_stage(use_store):
    seed_accounts(use_store)
    from bot.coach import engine

    d, _ = await run(ActionRelationshipAdvice(), make_tracker("how do I get closer to Maria Lopez",
                                                              "ask_relationship_advice",
                                                              [entity("person", "Maria Lopez")]))
    reply = texts(d)[0]
    assert reply.startswith("Maria Lopez (CFO) — relationship: engaged (met outside work); attitude: neutral")
    from bot.coach.facts import account_facts

    with use_store.team(REP) as scope:
        acme = scope.find_account("Acme")
        facts = account_facts(scope, acme, scope.find_stakeholders("Maria Lopez")[0])
        meaning = engine.text(engine.playbook("relationship")["stages"]["engaged"]["meaning"], "en", facts)
    assert meaning in reply


async def test_negotiation_advice_warns_when_value_is_not_yet_recognised(use_store):
    with use_store.team(REP) as scope:
        a, _ = scope.get_or_create_account("Early Co")
        scope.update_deal(a, purchase_stage="need_emerges")
    d, _ = await run(ActionNegotiationAdvice(), make_tracker("they want a 10% discount, how do I negotiate",
                                                             "ask_negotiation", [entity("account", "Early Co")]))
    from bot.coach import engine
    from bot.coach.facts import account_facts

    with use_store.team(REP) as scope:
        facts = account_facts(scope, scope.find_account("Early Co"))
        too_early = engine.text(engine.playbook("negotiation")["too_early"], "en", facts)
    assert too_early in texts(d)[0]


# --- meeting prep ---------------------------------------------------------------------------------

async def test_meeting_prep_is_step_by_step_and_tailored_to_the_role(use_store):
    seed_accounts(use_store)
    from bot.coach import engine

    book = engine.playbook("meeting_prep")
    d, events = await run(ActionPrepareMeeting(), make_tracker("prepare my meeting with Maria Lopez",
                                                               "prepare_meeting", [entity("person", "Maria Lopez")]))
    first = texts(d)[0]
    assert book["roles"]["economic_buyer"]["situation"][0]["en"] in first
    assert book["roles"]["economic_buyer"]["problem"][0]["en"] not in first  # one step at a time
    assert d.messages[0]["buttons"][0]["payload"] == '/prepare_meeting{"prep_step": "problem"}'
    assert slot_events(events)["prep_next"] == "problem"
    # "next" continues with the problem questions, personalised with the recorded need
    nxt = make_tracker("next", "affirm", slots={"prep_next": "problem", "prep_person": "Maria Lopez",
                                                "current_account": "Acme"})
    d, events = await run(ActionAffirmIdle(), nxt)
    assert book["roles"]["economic_buyer"]["problem"][0]["en"] in texts(d)[0]
    assert "cut IT ops cost" in texts(d)[0]
    assert slot_events(events)["prep_next"] == "implication"
    # a technical evaluator gets different questions
    d, _ = await run(ActionPrepareMeeting(), make_tracker("prepare my meeting with Tom Reed", "prepare_meeting",
                                                          [entity("person", "Tom Reed")]))
    assert book["roles"]["technical"]["situation"][0]["en"] in texts(d)[0]


# --- BANT and proposal timing -------------------------------------------------------------------------

async def test_bant_prefills_what_the_store_knows_and_gives_a_verdict(use_store):
    seed_accounts(use_store)
    tracker = make_tracker("qualify Acme", "qualify_lead", [entity("account", "Acme")])
    _d, events = await run(ValidateBantForm(), tracker, {"forms": {"bant_form": {"required_slots": [
        "bant_budget", "bant_authority", "bant_need", "bant_timeline"]}}})
    assert slot_events(events) == {"bant_budget": "yes", "bant_authority": "yes", "bant_need": "yes",
                                   "bant_timeline": "yes"}
    d, _ = await run(ActionBantVerdict(), make_tracker("qualify Acme", "qualify_lead", [entity("account", "Acme")],
                                                       slots=slot_events(events)))
    from bot.coach import engine

    verdict = engine.playbook("bant")["verdicts"]["qualified"]
    verdict = verdict[-1] if isinstance(verdict, list) else verdict
    assert verdict["en"].splitlines()[0].split("{")[0] in texts(d)[0]


async def test_proposal_advice_matches_the_two_answers(use_store):
    from bot.coach import engine

    advice = engine.playbook("proposal")["advice"]
    for needs, criteria, key in [("yes", "yes", "both_yes"), ("no", "no", "both_no"),
                                 ("yes", "no", "needs_yes_criteria_no"), ("yes", "with_competitor",
                                                                          "criteria_with_competitor")]:
        d, _ = await run(ActionProposalAdvice(), make_tracker("they want a proposal", "proposal_request",
                                                              slots={"proposal_needs": needs,
                                                                     "proposal_criteria": criteria}))
        expected = advice[key][-1] if isinstance(advice[key], list) else advice[key]
        assert expected["en"].splitlines()[0] in texts(d)[0], key


# --- debrief ---------------------------------------------------------------------------------------------

async def test_debrief_answers_are_saved_as_spin_needs_and_people(use_store):
    seed_accounts(use_store)
    domain = {"forms": {"debrief_form": {"required_slots": ["debrief_problems", "debrief_implications",
                                                            "debrief_payoffs", "debrief_people"]}}}
    base = {"current_account": "Acme", "current_person": "Maria Lopez"}
    t = make_tracker("peak season capacity is the bottleneck", "inform",
                     slots={**base, "requested_slot": "debrief_problems"}, active_loop="debrief_form")
    _d, ev = await run(ValidateDebriefForm(), t, domain)
    assert slot_events(ev)["debrief_problems"] == "peak season capacity is the bottleneck"
    t = make_tracker("skip", "deny", slots={**base, "requested_slot": "debrief_implications"},
                     active_loop="debrief_form")
    _d, ev = await run(ValidateDebriefForm(), t, domain)
    assert slot_events(ev)["debrief_implications"] == "-"
    text = "Lisa Chen from procurement joined, she is against us"
    t = make_tracker(text, "inform", [entity("person", "Lisa Chen", message=text),
                                      entity("attitude", "opponent", "against us", message=text)],
                     slots={**base, "requested_slot": "debrief_people"}, active_loop="debrief_form")
    await run(ValidateDebriefForm(), t, domain)
    with use_store.team(REP) as scope:
        acme = scope.find_account("Acme")
        assert [(n.description, n.spin, n.source) for n in acme.needs if n.spin] == [
            ("peak season capacity is the bottleneck", "problem", "meeting")]
        assert {p.name: p.attitude for p in acme.stakeholders}["Lisa Chen"] == "opponent"


async def test_yes_after_a_logged_meeting_starts_the_debrief(use_store):
    d, events = await run(ActionAffirmIdle(), make_tracker("yes", "affirm", slots={"pending_offer": "debrief"}))
    assert [e["name"] for e in events if e["event"] == "followup"] == ["debrief_form"]
    assert texts(d) == []


async def test_gifts_to_sway_a_decision_are_declined(use_store):
    d, _ = await run(ActionDeclineGift(), make_tracker("送块名表能不能搞定拍板的人", "ask_gift_advice"))
    assert "不能帮忙" in texts(d)[0] and "合规" in texts(d)[0]
