"""The domain, data and content files agree with each other and with the NLU contract."""
from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
import yaml

from bot import i18n

REPO = Path(__file__).resolve().parents[1]
DOMAIN = yaml.safe_load((REPO / "domain.yml").read_text(encoding="utf-8"))

CONTRACT_INTENTS = """greet goodbye affirm deny thank ask_capabilities cancel out_of_scope set_language add_account
record_stakeholder record_deal record_need log_meeting ask_account_summary ask_power_map ask_next_step ask_deal_risks
list_accounts prepare_meeting ask_methodology qualify_lead calculate_roi proposal_request ask_relationship_advice
ask_negotiation objection_price objection_competitor objection_timing objection_authority objection_no_need
objection_risk conflict_scope_change conflict_delivery_delay conflict_budget_cut conflict_complaint start_roleplay
end_roleplay ask_practice_history spin_situation spin_problem spin_implication spin_need_payoff pitch_product
offer_discount ask_commitment""".split()
CONTRACT_ENTITIES = """account person title industry competitor buying_role attitude relationship_stage purchase_stage
influence amount method language""".split()


def test_contract_intents_and_entities_are_in_the_domain():
    assert set(CONTRACT_INTENTS) <= set(DOMAIN["intents"])
    assert set(CONTRACT_ENTITIES) <= set(DOMAIN["entities"])


def test_every_form_slot_can_be_asked_for():
    actions = set(DOMAIN["actions"])
    responses = set(DOMAIN.get("responses") or {})
    for form, spec in DOMAIN["forms"].items():
        assert f"validate_{form}" in actions, form
        for slot in spec["required_slots"]:
            assert slot in DOMAIN["slots"], slot
            asks = {f"action_ask_{slot}", f"action_ask_{form}_{slot}", f"utter_ask_{slot}", f"utter_ask_{form}_{slot}"}
            assert asks & (actions | responses), f"nothing asks for {slot} in {form}"


def _rule_intents() -> set:
    found = set()
    for path in (REPO / "data" / "rules").glob("*.yml"):
        found |= set(re.findall(r"-\s*intent:\s*(\w+)", path.read_text(encoding="utf-8")))
    return found


def test_every_intent_is_handled_by_a_rule():
    """RulePolicy is the only dialogue policy (config.yml): an intent without a rule gets the fallback."""
    unhandled = set(DOMAIN["intents"]) - _rule_intents()
    assert unhandled == set()


def test_every_domain_action_is_registered_on_the_action_server():
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("actions")
    custom = {a for a in DOMAIN["actions"] if not a.startswith("utter_")}
    assert custom - set(executor.actions) == set()


def _fields(template: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_message_exists_in_english_and_chinese_with_the_same_placeholders():
    for key, texts in i18n.messages().items():
        assert set(texts) == {"en", "zh"}, key
        assert texts["en"].strip() and texts["zh"].strip(), key
        assert _fields(texts["en"]) == _fields(texts["zh"]), key


def test_every_label_exists_in_both_languages():
    for kind, values in i18n.labels().items():
        for value, texts in values.items():
            assert texts.get("en") and texts.get("zh"), (kind, value)


@pytest.mark.parametrize("kind", ["buying_role", "attitude", "relationship_stage", "purchase_stage", "method",
                                  "language"])
def test_labels_cover_every_canonical_value(kind):
    from bot.lexicon import canonical_values

    assert set(canonical_values(kind)) <= set(i18n.labels()[kind])
