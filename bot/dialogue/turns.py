"""What a rep's message is while the bot waits for an answer: an answer, another request, or a question to the buyer.

A form (the facts of a budget cut, a BANT check, a debrief) asks one question at a time. The
rep's next message may answer it — or be something else entirely: a new request ("they also
want a reporting module"), a question about the method, a line meant for a buyer in a
practice. A free-text answer (a reason, what they complained about) would take any sentence,
so it must not take those: a letter to the customer once said "keeps what matters most to
you: Bill's a supporter now". `role_of` decides, from the NLU result, in one place:

* ``answer`` — an answer-like intent (inform, yes/no, low confidence), or any intent the
  classifier is not sure about;
* ``same_kind`` — a request of the form's own family (another objection while the objection
  form asks, another conflict while the conflict form asks);
* ``request`` — another request the classifier is sure about (it is answered, and the form
  is offered again: "Back to the budget cut? yes / no");
* ``buyer`` — a line spoken to a buyer (SPIN questions, pitches), which is never an answer to
  the bot.
"""
from __future__ import annotations

from typing import Iterable, Optional

#: intents a bare answer to the bot's question may come with
ANSWER_INTENTS = frozenset({"inform", "affirm", "deny", "nlu_fallback", "out_of_scope", "thank"})
#: lines a rep says to a (simulated) buyer
BUYER_INTENTS = frozenset({"spin_situation", "spin_problem", "spin_implication", "spin_need_payoff",
                           "pitch_product", "offer_discount", "ask_commitment", "handle_objection", "small_talk"})
#: below this confidence another request's intent does not overrule an answer
SURE = 0.6
#: forms whose questions ask what the customer said: a line that reads like an objection, a need, a
#: conflict or a meeting report is the answer ("1/4 What problems did they mention?" → "checkout is too slow")
REPORTING_FORMS = {"debrief_form": ("objection_", "conflict_", "record_", "log_meeting", "spin_", "pitch_",
                                    "ask_commitment", "small_talk")}
#: what each form's family of triggering intents starts with
FORM_FAMILIES = {"objection_form": "objection_", "conflict_form": "conflict_"}


def family(form: Optional[str], intent: Optional[str]) -> bool:
    """Whether `intent` is one of the intents that start `form` (another objection for the objection form)."""
    prefix = FORM_FAMILIES.get(form or "")
    return bool(prefix and intent and intent.startswith(prefix))


def role_of(intent: Optional[str], confidence: Optional[float], form: Optional[str],
            current_kind: Optional[str] = None, free_text: bool = True,
            interrupting: Iterable[str] = ()) -> str:
    """``answer``, ``same_kind``, ``request`` or ``buyer`` for a message while `form` waits for an answer.

    Args:
        intent: the message's intent.
        confidence: its confidence (0–1).
        form: the form waiting for an answer.
        current_kind: the form's current kind (its objection or conflict intent), if it has one.
        free_text: whether the question takes any sentence as its answer.
        interrupting: intents that always interrupt, however unsure the classifier is ("cancel").
    """
    confidence = confidence or 0.0
    if not intent or intent in ANSWER_INTENTS:
        return "answer"
    if intent in interrupting:
        return "request"
    if free_text and intent.startswith(REPORTING_FORMS.get(form or "", ())):
        return "answer"
    if family(form, intent):
        # the same kind again is the rep elaborating; another kind is a new problem
        return "answer" if intent == current_kind or confidence < SURE else "same_kind"
    if free_text and (confidence < SURE or intent == "record_need"):
        # a free-text answer (a reason, what they want kept) reads like a need: it is one
        return "answer"
    if intent in BUYER_INTENTS:
        return "buyer"
    return "request"
