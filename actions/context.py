"""Reading what the rep said: entities of a turn, of a form, and references.

"他/她/he/she" refer to the person last discussed and "this account/这个客户"
to the account last discussed; those live in the `current_person` and
`current_account` slots, which the actions update after each save or read.
"""
from __future__ import annotations

import json
import re
from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker

from actions.slots import SLOT_CURRENT_ACCOUNT, SLOT_CURRENT_PERSON
from bot.capture import usable_value
from bot.language import to_script
from bot.store import Account, Stakeholder, TeamScope, lookup_key

_PERSON_PRONOUN = re.compile(r"(他|她|此人|这个人|这位|对方|\bhe\b|\bshe\b|\bhim\b|\bher\b|\bhis\b|\bthis person\b)",
                             re.IGNORECASE)


def entities_of(message: Optional[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return list((message or {}).get("entities") or [])


def values(entities: Iterable[Dict[str, Any]], entity: str) -> List[Any]:
    """Values of one entity type, in order, without duplicates.

    Only values of a usable type (`bot.capture.usable_value`): a ``/intent{json}`` message
    can carry a list or an object as an account name.
    """
    out: List[Any] = []
    for e in entities:
        value = e.get("value")
        if e.get("entity") == entity and usable_value(entity, value) and value not in out:
            out.append(value)
    return out


def first(entities: Iterable[Dict[str, Any]], entity: str) -> Any:
    found = values(entities, entity)
    return found[0] if found else None


def mentions_person_pronoun(text: str) -> bool:
    return bool(_PERSON_PRONOUN.search(text or ""))


def form_activating(tracker: Tracker, form_name: str) -> bool:
    """Whether the form is being started by the latest message (not asking/answering mid-form).

    Rasa marks the loop active before it calls the validation action, with the
    message that triggered it; a later answer has a different message id.
    """
    loop = tracker.active_loop or {}
    if loop.get("name") != form_name:
        return True
    trigger = (loop.get("trigger_message") or {}).get("message_id")
    latest = (tracker.latest_message or {}).get("message_id")
    return bool(trigger) and trigger == latest


def user_messages_since_form(tracker: Tracker, form_name: str) -> List[Dict[str, Any]]:
    """The message that started `form_name` and every answer given since.

    Falls back to the latest message when the form never ran.
    """
    events = tracker.events
    start = None
    for i in range(len(events) - 1, -1, -1):
        event = events[i]
        if event.get("event") == "active_loop" and event.get("name") == form_name:
            start = i
            break
    if start is None:
        return [tracker.latest_message] if tracker.latest_message else []
    trigger = None
    for i in range(start - 1, -1, -1):
        if events[i].get("event") == "user":
            trigger = i
            break
    begin = trigger if trigger is not None else start
    messages = []
    for event in events[begin:]:
        if event.get("event") == "user":
            messages.append({"text": event.get("text"), "entities": (event.get("parse_data") or {}).get("entities")
                             or [], "intent": ((event.get("parse_data") or {}).get("intent") or {}).get("name")})
    return messages


def _fold(text: str) -> str:
    """Case-folded one character at a time, keeping characters that fold to several (ß, ﬁ, İ).

    The result has the text's length, so an offset found in it is an offset in the text.
    """
    return "".join(f if len(f := c.casefold()) == 1 else c for c in text)


def known_names(scope: TeamScope, text: str, entities: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Entities for the team's own accounts and people named in the text but missed by the NLU.

    The rep's accounts and contacts are known: "prepare my meeting with Art Vandelay"
    finds Art even when the model did not tag the name.
    """
    from bot.language import name_key, to_simplified

    norm = _fold(to_simplified(text or ""))
    taken = [(e["start"], e["end"]) for e in entities if isinstance(e.get("start"), int)]
    have = {(e.get("entity"), name_key(str(e.get("value") or ""))) for e in entities}
    found: List[Dict[str, Any]] = []
    from bot.resolve import short_forms

    accounts = scope.list_accounts()
    candidates = [("account", a.name, a.name) for a in accounts]
    candidates += [("account", form, a.name) for a in accounts for form in _brand_forms(accounts, a.name, text)]
    people = [p.name for a in accounts for p in a.stakeholders]
    owners: Dict[str, set] = {}
    for name in people:
        for form in short_forms(name):
            owners.setdefault(_fold(to_simplified(form)), set()).add(name)
    candidates += [("person", form, name) for name in people for form in short_forms(name)]
    for entity, form, name in sorted(candidates, key=lambda c: -len(c[1])):
        needle = _fold(to_simplified(form))
        if len(needle) < 2 or (entity, name_key(name)) in have:
            continue
        common = form != name and needle.isascii() and needle in COMMON_WORDS  # "will", "mark": only as "Will"
        start = _find_word(norm, needle, exact_case=text if common else None)
        if start < 0 or any(s < start + len(needle) and start < e for s, e in taken):
            continue
        fits = owners.get(needle, {name}) if entity == "person" else {name}
        taken.append((start, start + len(needle)))
        have.add((entity, name_key(name)))
        value = name if len(fits) == 1 else text[start:start + len(needle)]  # several fit: resolved (or asked) later
        found.append({"entity": entity, "value": value, "start": start, "end": start + len(needle),
                      "extractor": "known_names"})
    return found


def _brand_forms(accounts: List[Account], name: str, text: str) -> List[str]:
    """An account's short name as reps write it, when it names only that one of the team's `accounts`.

    "恒瑞的陈芳" (恒瑞制药), "Pellham's ops director" (Pellham Foods). A two-character Chinese brand counts
    only where a name ends (恒瑞的 / 恒瑞那边 / 恒瑞预算…), so 华东 in "华东两百多家门店" is not 华东精密.
    """
    from bot.language import to_simplified

    forms = []
    han = "".join(re.findall(r"[\u4e00-\u9fff]", name))
    words = re.findall(r"[A-Za-z][A-Za-z'&-]*", name)
    if len(han) >= 4 and len(han) == len(name.replace(" ", "")):
        brand = to_simplified(han[:2])
        if re.search(rf"{re.escape(brand)}(?=[的那这现目预对项客说\s，,。：:]|$)", to_simplified(text or "")):
            forms.append(han[:2])
    elif len(words) > 1 and len(words[0]) >= 4 and words[0].lower() not in COMMON_WORDS:
        forms.append(words[0])
    return [f for f in forms if _names_only(accounts, f, name)]


def _names_only(accounts: List[Account], form: str, name: str) -> bool:
    """Whether `form` means the account `name` and no other (`TeamScope.match_accounts` on a list in hand)."""
    from bot.resolve import resolve_account

    found = resolve_account(accounts, form)
    return [a.name for a in ([found.found] if found.found is not None else found.candidates)] == [name]


#: English words that are also short names: matched only when written with a capital
COMMON_WORDS = frozenset("will mark grace rich bill pat sue ray may june april hope faith joy art guy chase don "
                         "rose lily frank dean gene hunter page reed cook baker long young white brown green "
                         "king hill wood stone".split())


def _find_word(norm: str, needle: str, exact_case: Optional[str] = None) -> int:
    """Where `needle` starts in `norm` (whole words for Latin ones).

    With `exact_case`, only where the original text has it capitalised.
    """
    start = norm.find(needle)
    while start >= 0:
        whole = not needle.isascii() or re.fullmatch(r"(?:^|\W)" + re.escape(needle) + r"(?:\W|$)",
                                                      norm[max(0, start - 1):start + len(needle) + 1])
        if whole and (exact_case is None or exact_case[start:start + 1].isupper()):
            return start
        start = norm.find(needle, start + 1)
    return -1


def mentioned_person(scope: TeamScope, text: str) -> Optional[str]:
    """How the text names one of the team's people the NLU did not tag ("delete Tom", "把老王删了")."""
    from bot.resolve import find_mentions

    names = [p.name for a in scope.list_accounts() for p in a.stakeholders]
    found = find_mentions(text, names)
    return found[0] if found else None


def reconcile_entities(scope: TeamScope, entities: List[Dict[str, Any]],
                       text: Optional[str] = None) -> List[Dict[str, Any]]:
    """Fixes a learned span typed as a person that is really one of the team's accounts.

    "At Globex the new head of IT…" can come back with person="Globex"; if Globex
    is a known account (and no account was named), it becomes the account.
    """
    from bot.language import name_key

    out = [dict(e) for e in entities]
    if text:
        out += known_names(scope, text, out)
    tagged = [e for e in out if e.get("entity") == "account"]
    if len(tagged) > 1:
        # "Gary Pruitt is VP maintenance at Cobalt Ridge Mining" read as two accounts: beside a known
        # one, the unknown, name-shaped one is the person
        from bot.resolve import plausible_person_name

        known = [bool(scope.match_accounts(str(e.get("value") or ""))) for e in tagged]
        for e, is_account in zip(tagged, known, strict=True):
            if any(known) and not is_account and plausible_person_name(str(e.get("value") or "")):
                e["entity"] = "person"
    for e in out:
        if e.get("entity") == "title" and _a_person_by_address(scope, str(e.get("value") or "")):
            e["entity"] = "person"  # "洪经理刚打电话来" tagged title=洪经理: 洪志伟, never his new title
    named_accounts = {name_key(str(e.get("value"))) for e in out if e.get("entity") == "account"}
    for e in out:
        if e.get("entity") != "person":
            continue
        key = name_key(str(e.get("value") or ""))
        if key in named_accounts:
            e["entity"] = "_dropped"
        elif not named_accounts and scope.match_accounts(str(e.get("value") or "")) and not scope.find_stakeholders(
                str(e.get("value") or "")):
            # the account's name or its start ("蓝海的信息中心主任欧阳明": 蓝海 of 蓝海港务集团, not a person 蓝海)
            exact = [a for a in scope.match_accounts(str(e["value"])) if a.name_key == lookup_key(str(e["value"]))
                     or a.name_key.startswith(lookup_key(str(e["value"])))]
            if exact:
                e["entity"] = "account"
                named_accounts.add(key)
    return [e for e in out if e.get("entity") != "_dropped"]


def _a_person_by_address(scope: TeamScope, value: str) -> bool:
    """A surname and a form of address (洪经理, 王总) that names one of the team's people."""
    from bot.language import to_simplified
    from bot.nlu.names import find_person_names

    spans = find_person_names(to_simplified(value.strip()))
    return (len(spans) == 1 and spans[0].start == 0 and spans[0].end == len(value.strip())
            and bool(scope.find_stakeholders(value.strip())))


def place_in_note(scope: TeamScope, note: Dict[str, Any]) -> Optional[str]:
    """The company a meeting note names as where the meeting was ("met Jane at Orion Labs").

    Only when the team has no account of that name: the one name the rep may pick as a new account
    for the note.
    """
    from bot.notes import names_a_place

    text = note.get("text") or ""
    named = first(reconcile_entities(scope, entities_of(note), text), "account")
    if named and not scope.match_accounts(named) and names_a_place(text, named):
        return named
    return None


def account_from_context(scope: TeamScope, tracker: Tracker) -> Optional[Account]:
    """The account last discussed, if it still exists."""
    return scope.find_account(tracker.get_slot(SLOT_CURRENT_ACCOUNT))


def person_from_context(scope: TeamScope, tracker: Tracker, account: Optional[Account]) -> Optional[Stakeholder]:
    """The person last discussed, if they belong to `account` (or any, when None)."""
    name = tracker.get_slot(SLOT_CURRENT_PERSON)
    if not name:
        return None
    people = scope.find_stakeholders(name, account)
    return people[0] if len(people) == 1 else None


def payload(intent: str, **entities: Any) -> str:
    """A button payload that sends an intent with entities: /intent{"account": "…"}."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}"


def account_buttons(accounts: List[Account], intent: str, lang: str, limit: int = 5) -> List[Dict[str, str]]:
    """Quick-reply buttons, one per account (at most `limit`)."""
    return [{"title": to_script(a.name, lang), "payload": payload(intent, account=a.name)} for a in accounts[:limit]]
