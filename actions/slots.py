"""Slot, entity and intent names used by the actions (see domain.yml)."""

SLOT_LANGUAGE = "language"
SLOT_LANGUAGE_OVERRIDE = "language_override"
SLOT_CURRENT_ACCOUNT = "current_account"
SLOT_CURRENT_PERSON = "current_person"
SLOT_FORM_ACCOUNT = "form_account"
SLOT_FORM_PERSON = "form_person"
SLOT_REQUESTED = "requested_slot"

FORM_SLOTS = (SLOT_FORM_ACCOUNT, SLOT_FORM_PERSON)

# Slots of the coaching forms, cleared when a flow is cancelled.
COACHING_FORM_SLOTS = (
    "objection_type", "objection_cause", "conflict_type", "conflict_days", "conflict_reason", "conflict_request",
    "conflict_priority", "conflict_cut", "conflict_keep", "conflict_issue", "conflict_impact", "bant_budget",
    "bant_authority", "bant_need", "bant_timeline", "proposal_needs", "proposal_criteria", "roi_investment",
    "roi_saving", "debrief_problems", "debrief_implications", "debrief_payoffs", "debrief_people",
)

# Offers that only stand for the next message: "yes" right after them accepts.
SLOT_PENDING_OFFER = "pending_offer"   # "debrief" after a logged meeting
SLOT_PREP_NEXT = "prep_next"           # the next step of a meeting plan
SLOT_RESUME_OFFER = "resume_offer"     # a form offered again after an interruption ("Back to …? yes / no")
TRANSIENT_SLOTS = (SLOT_PENDING_OFFER, SLOT_PREP_NEXT)

# Slots that can hold the name of an account or a person (cleared when one is deleted).
NAME_SLOTS = (SLOT_CURRENT_ACCOUNT, SLOT_CURRENT_PERSON, SLOT_FORM_ACCOUNT, SLOT_FORM_PERSON, "prep_person")

ENTITY_ACCOUNT = "account"
ENTITY_PERSON = "person"

# Intents whose message may be a bare answer to a question the bot asked.
ANSWER_INTENTS = frozenset({"inform", "nlu_fallback", "out_of_scope"})

# Requests and questions: while a form waits for an answer, these interrupt it
# (they are handled, then the form asks again) instead of being taken as the answer.
INTERRUPT_INTENTS = frozenset({
    "cancel", "ask_methodology", "ask_capabilities", "set_language", "goodbye", "greet", "list_accounts",
    "ask_account_summary", "ask_power_map", "ask_next_step", "ask_deal_risks", "start_roleplay", "end_roleplay",
    "ask_practice_history", "ask_hint", "prepare_meeting", "calculate_roi", "qualify_lead", "proposal_request",
    "ask_relationship_advice", "ask_negotiation", "ask_gift_advice", "export_account", "delete_data",
    "start_debrief", "add_account", "correct_fact", "undo_last",
})
