"""The buyer engine and the scorer, without Rasa."""
from __future__ import annotations

import pytest

from bot.roleplay.engine import load_scenario, replay, scenario_ids, start
from bot.roleplay.persona import build_persona
from bot.roleplay.scoring import score

S = {"move": "spin_situation"}


def T(move: str, text: str) -> dict:  # noqa: N802
    return {"move": move, "text": text}


MINI = {
    "id": "mini", "title": {"en": "Mini", "zh": "迷你"}, "difficulty": 1,
    "setting": {"en": "s", "zh": "s"},
    "persona": {"name": {"en": "Ms. Li", "zh": "李经理"}, "title": {"en": "Plant manager", "zh": "厂长"},
                "buying_role": "user", "personality": {"en": "p", "zh": "p"}, "cares_about": {"en": "c", "zh": "c"},
                "opening": {"en": "Hello.", "zh": "你好。"}},
    "facts": {
        "situation": [{"id": "s1", "keys": {"en": ["lines"], "zh": ["产线"]}, "say": {"en": "We run 3 lines.", "zh": "3条产线。"}},
                      {"id": "s2", "keys": {"en": ["supplier"], "zh": ["供应商"]}, "say": {"en": "We import.", "zh": "进口。"}}],
        "problem": [{"id": "p1", "keys": {"en": ["peak", "bottleneck"], "zh": ["旺季", "瓶颈"]},
                     "say": {"en": "Painting is the bottleneck in peak season.", "zh": "旺季喷涂是瓶颈。"}},
                    {"id": "p2", "keys": {"en": ["quality"], "zh": ["质量"]}, "say": {"en": "Rework is high.", "zh": "返工多。"}}],
        "implication": [{"id": "i1", "requires": "p1", "keys": {"en": ["orders", "delivery"], "zh": ["订单", "交付"]},
                         "say": {"en": "We lost two orders last year.", "zh": "去年丢了两个订单。"}},
                        {"id": "i2", "requires": "p2", "keys": {"en": ["cost"], "zh": ["成本"]},
                         "say": {"en": "Rework costs us 2M a year.", "zh": "返工一年花200万。"}}],
        "need_payoff": [{"id": "n1", "requires": "p1", "keys": {"en": ["help"], "zh": ["帮助"]},
                         "say": {"en": "We could take 20% more orders.", "zh": "能多接两成订单。"}}],
    },
    "objections": [
        {"id": "o_pitch", "when": "early_pitch", "say": {"en": "Everyone says that.", "zh": "每家都这么说。"},
         "handled": {"en": "Fair.", "zh": "有道理。"}},
        {"id": "o_disc", "when": "early_discount", "say": {"en": "Why so cheap?", "zh": "怎么这么便宜？"},
         "handled": {"en": "OK.", "zh": "好。"}},
        {"id": "o_turn", "when": "turn", "turn": 4, "say": {"en": "Switching is risky.", "zh": "换供应商有风险。"},
         "handled": {"en": "That helps.", "zh": "这样可以。"}},
    ],
    "lines": {k: {"en": k, "zh": k} for k in ("vague", "repeat", "too_early_need_payoff", "small_talk", "pitch_ok",
                                              "discount", "commitment_yes", "commitment_not_yet", "nothing_more",
                                              "other")},
}

GOOD = [T("spin_situation", "How many production lines do you run?"),
        T("spin_problem", "Where is the bottleneck in peak season?"),
        T("spin_implication", "How does that affect your orders and delivery?"),
        T("handle_objection", "I understand switching feels risky; we'd run a pilot on one line first."),
        T("spin_problem", "Are you satisfied with quality today?"),
        T("spin_implication", "What does that rework cost you each year?"),
        T("spin_need_payoff", "How would it help if painting kept up in peak season?"),
        T("ask_commitment", "Could we schedule a one-line pilot next month?")]
PUSHY = [T("pitch_product", "Our painting robots are the fastest on the market."),
         T("offer_discount", "I can give you 15% off if you sign this month."),
         T("spin_situation", "How many production lines do you run?"),
         T("spin_situation", "Who is your current supplier?"),
         T("pitch_product", "Our robots also cut rework."),
         T("ask_commitment", "Shall we sign the order today?")]


def test_hidden_facts_appear_only_after_the_matching_question_type():
    p = start(MINI, "en")
    turn = p.respond("spin_situation", "How many production lines do you run?")
    assert turn.reply == "We run 3 lines." and p.revealed == ["s1"]
    turn = p.respond("spin_implication", "How does that affect your orders?")
    assert turn.revealed is None and turn.reply == "vague"  # no problem uncovered yet
    turn = p.respond("spin_need_payoff", "How would it help if that were solved?")
    assert turn.reply == "too_early_need_payoff"  # need-payoff before any problem falls flat
    turn = p.respond("spin_problem", "Is there a bottleneck in peak season?")
    assert turn.revealed == "p1" and "bottleneck" in turn.reply
    turn = p.respond("spin_implication", "How does that affect your orders and delivery?")
    assert turn.revealed == "i1"


def test_the_question_words_pick_the_fact():
    p = start(MINI, "en")
    assert p.respond("spin_situation", "Who is your steel supplier?").revealed == "s2"
    assert p.respond("spin_problem", "Any quality trouble?").revealed == "p2"


def test_repeated_and_vague_questions_get_short_answers():
    p = start(MINI, "en")
    p.respond("spin_situation", "How many production lines do you run?")
    assert p.respond("spin_situation", "How many production lines do you run?").reply == "repeat"
    assert p.respond("spin_problem", "and?").reply == "vague"


def test_early_pitch_fires_an_objection_and_handling_it_counts():
    p = start(MINI, "en")
    turn = p.respond("pitch_product", "Our robots are the best.")
    assert turn.premature and turn.reply == "Everyone says that." and p.pending == "o_pitch"
    turn = p.respond("handle_objection", "Fair point — may I first understand your process?")
    assert turn.handled == "o_pitch" and p.pending is None


def test_a_scheduled_objection_fires_anyway():
    p = replay(MINI, [T("small_talk", "Nice office!"), T("spin_situation", "How many production lines?"),
                      T("spin_situation", "Who is your supplier?"), T("spin_problem", "Where is the bottleneck in peak season?")])
    assert "o_turn" in p.fired
    assert p.turns[-1].reply.endswith("Switching is risky.")


def test_commitment_is_accepted_only_after_a_need_payoff():
    early = replay(MINI, [T("ask_commitment", "Can we set up a pilot?")])
    assert early.advance == "too_early" and early.turns[0].premature
    good = replay(MINI, GOOD)
    assert good.advance == "right_time"


def test_good_spin_questioning_outscores_early_pitching():
    good = score(replay(MINI, GOOD))
    pushy = score(replay(MINI, PUSHY))
    assert good.total >= 80
    assert pushy.total <= 30
    assert good.total > pushy.total
    assert len(pushy.premature) == 3  # two pitches and a discount before any need was established
    assert pushy.advance == "too_early"


def test_score_card_counts_shares_and_tips_quote_the_reps_words():
    card = score(replay(MINI, PUSHY))
    assert card.counts["pitch_product"] == 2 and card.counts["spin_situation"] == 2
    assert card.shares["situation"] == 100
    keys = [k for k, _ in card.tips]
    assert keys[0] == "early_pitch"
    assert card.tips[0][1] == "Our painting robots are the fastest on the market."
    assert 2 <= len(card.tips) <= 3
    assert card.weakest in ("discovery", "restraint", "question_mix", "advance")


def test_practice_state_survives_serialisation():
    p = replay(MINI, GOOD[:3])
    from bot.roleplay.engine import Practice

    again = Practice.from_dict(p.to_dict())
    assert again.revealed == p.revealed and len(again.turns) == 3
    assert again.respond("spin_problem", "Are you satisfied with quality today?").revealed == "p2"


# --- real scenarios -------------------------------------------------------------------------

def test_there_are_at_least_six_complete_bilingual_scenarios():
    ids = scenario_ids()
    assert len(ids) >= 6
    for sid in ids:
        sc = load_scenario(sid)
        assert sc["id"] == sid
        facts = sc["facts"]
        assert len(facts["situation"]) >= 3 and len(facts["problem"]) >= 3
        assert len(facts["implication"]) >= 3 and len(facts["need_payoff"]) >= 2
        assert any(o["when"] == "turn" for o in sc["objections"])
        assert {o["when"] for o in sc["objections"]} >= {"early_pitch", "turn"}
        for key in ("vague", "repeat", "too_early_need_payoff", "small_talk", "pitch_ok", "discount",
                    "commitment_yes", "commitment_not_yet", "nothing_more", "other"):
            assert sc["lines"][key]["en"] and sc["lines"][key]["zh"], (sid, key)


@pytest.mark.parametrize("sid", ["peak_capacity", "bearing_steel"])
def test_scenarios_reveal_problems_to_problem_questions_in_both_languages(sid):
    sc = load_scenario(sid)
    for lang in ("en", "zh-Hans"):
        p = start(sc, lang)
        question = "你们目前最大的困难和问题是什么？" if lang != "en" else "What are your biggest problems and difficulties today?"
        turn = p.respond("spin_problem", question)
        assert turn.revealed in {f["id"] for f in sc["facts"]["problem"]}


# --- personas from the rep's own stakeholders ---------------------------------------------------

def test_persona_from_an_opposed_technical_evaluator_differs_from_a_supportive_economic_buyer(store):
    with store.team("t", "u") as scope:
        acme, _ = scope.get_or_create_account("Acme")
        scope.update_deal(acme, purchase_stage="evaluation", competitors=["SAP"])
        scope.add_need(acme, "cut IT operations cost")
        tom, _, _ = scope.upsert_stakeholder(acme, "Tom Reed", title="CTO", buying_roles=["technical"],
                                             attitude="opponent", relationship_stage="acquainted")
        maria, _, _ = scope.upsert_stakeholder(acme, "Maria Lopez", title="CEO", buying_roles=["economic_buyer"],
                                               attitude="supporter", relationship_stage="trusted")
        opposed = build_persona(scope, tom)
        supportive = build_persona(scope, maria)
    assert opposed["persona"]["buying_role"] == "technical" and supportive["persona"]["buying_role"] == "economic_buyer"
    assert opposed["guarded"] and not supportive["guarded"]
    assert "SAP" in opposed["persona"]["opening"]["en"] and "SAP" not in supportive["persona"]["opening"]["en"]
    assert opposed["persona"]["cares_about"] != supportive["persona"]["cares_about"]
    turn_obj = {o["id"]: o for o in opposed["objections"]}["o_turn"]
    assert turn_obj["turn"] == 3 and "SAP" in turn_obj["say"]["en"]  # switching-risk objection comes early
    assert {o["id"]: o for o in supportive["objections"]}["o_turn"]["turn"] == 5
    # the recorded need is the buyer's hidden problem
    assert any("cut IT operations cost" in f["say"]["en"] for f in opposed["facts"]["problem"])
    # behaviour: the guarded buyer deflects the first problem question, the supportive one answers it
    q = "What's the biggest problem with IT operations cost today?"
    assert start(opposed, "en").respond("spin_problem", q).revealed is None
    assert start(supportive, "en").respond("spin_problem", q).revealed == "p1"
