"""Compares what the bot stored after a corpus conversation with what its writer expected.

Kept apart from the bot on purpose: names are matched by plain normalisation (case, spaces,
punctuation, simplified/traditional script) against the writer's name and aliases, never with
the bot's own resolver, so a resolver mistake shows up here instead of being repeated.

A *fact* is one stored value: a person in an account, each of their title, buying roles,
attitude, influence and relationship stage; an account's industry; the deal's stage, budget,
timeline and each competitor; each need; each meeting. Precision counts the stored facts of the
expected accounts that match the expected value; recall the expected facts found. A stored
value where the writer expected none is a wrong fact (the writer was told to list every fact the
rep stated).
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Dict, Iterable, List, Optional, Sequence

PERSON_FIELDS = ("title", "roles", "attitude", "influence", "relationship")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def norm(text: Any) -> str:
    """Lower case, simplified script, no spaces or punctuation."""
    from bot.language import to_simplified

    value = to_simplified(unicodedata.normalize("NFKC", str(text or ""))).lower()
    return "".join(ch for ch in value if ch.isalnum())


def _names(entry: Dict[str, Any]) -> List[str]:
    return [n for n in [norm(entry.get("name"))] + [norm(a) for a in entry.get("aliases") or []] if n]


def expected_date(spec: Dict[str, Any], today: date) -> Optional[date]:
    """{days_ago: n} | {today: true} | {weekday: friday, week: last|recent}."""
    if not isinstance(spec, dict):
        return None
    if spec.get("today"):
        return today
    if "days_ago" in spec:
        return today - timedelta(days=int(spec["days_ago"]))
    day = str(spec.get("weekday", "")).lower()
    if day in WEEKDAYS:
        target = WEEKDAYS.index(day)
        if spec.get("week") == "last":  # that weekday of the previous calendar week
            monday = today - timedelta(days=today.weekday() + 7)
            return monday + timedelta(days=target)
        back = (today.weekday() - target) % 7 or 7  # the most recent one before today
        return today - timedelta(days=back)
    return None


@dataclass
class Tally:
    stored: int = 0
    correct_stored: int = 0
    expected: int = 0
    found: int = 0
    duplicates: int = 0
    wrong_place: int = 0
    unintended_deletions: int = 0
    stuck_turns: int = 0
    turns: int = 0
    problems: List[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        for name in ("stored", "correct_stored", "expected", "found", "duplicates", "wrong_place",
                     "unintended_deletions", "stuck_turns", "turns"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.problems += other.problems

    @property
    def precision(self) -> float:
        return self.correct_stored / self.stored if self.stored else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    def fact(self, where: str, expected: Any, stored: Any, same: bool) -> None:
        """One field: counts it as expected and/or stored, and whether they agree."""
        has_expected, has_stored = expected not in (None, "", []), stored not in (None, "", [])
        self.expected += has_expected
        self.stored += has_stored
        if has_expected and has_stored and same:
            self.found += 1
            self.correct_stored += 1
        elif has_stored:
            self.problems.append(f"{where}: stored {stored!r}, expected {expected!r}")
        elif has_expected:
            self.problems.append(f"{where}: missing (expected {expected!r})")


def _title_same(expected: Any, stored: Any) -> bool:
    a, b = norm(expected), norm(stored)
    return bool(a and b) and (a in b or b in a)


def _compare_person(tally: Tally, where: str, want: Dict[str, Any], got: Dict[str, Any]) -> None:
    tally.fact(f"{where}.title", want.get("title"), got.get("title"), _title_same(want.get("title"), got.get("title")))
    want_roles, got_roles = set(want.get("roles") or []), set(got.get("roles") or [])
    for role in sorted(want_roles | got_roles):
        tally.fact(f"{where}.role", role if role in want_roles else None, role if role in got_roles else None, True)
    for key in ("attitude", "relationship"):
        tally.fact(f"{where}.{key}", want.get(key), got.get(key), want.get(key) == got.get(key))
    w, g = want.get("influence"), got.get("influence")
    tally.fact(f"{where}.influence", w, g, w is not None and g is not None and abs(int(w) - int(g)) <= 5)


def _match(entries: Sequence[Dict[str, Any]], name: str) -> Optional[int]:
    key = norm(name)
    for i, entry in enumerate(entries):
        if key in _names(entry):
            return i
    return None


def _near(entries: Sequence[Dict[str, Any]], name: str) -> Optional[int]:
    """An expected entry whose name contains or is contained in `name` (a short or long form of it)."""
    key = norm(name)
    for i, entry in enumerate(entries):
        if key and any(len(n) >= 2 and (n in key or key in n) for n in _names(entry)):
            return i
    return None


def compare(expect: Dict[str, Any], state: Dict[str, Any], today: date) -> Tally:
    """`state`: {account name: {industry, people: {name: facts}, deal: {...}, needs: [...], meetings: [date]}}."""
    tally = Tally()
    want_accounts = list(expect.get("accounts") or [])
    seen_accounts: Dict[int, str] = {}
    all_people = [(ai, p) for ai, a in enumerate(want_accounts) for p in a.get("people") or []]
    for name, got in state.items():
        ai = _match(want_accounts, name)
        if ai is None:
            near = _near(want_accounts, name)
            if near is not None and near in seen_accounts:
                tally.duplicates += 1
                tally.problems.append(f"duplicate account {name!r} of {want_accounts[near]['name']!r}")
            elif near is None:
                tally.wrong_place += 1
                tally.problems.append(f"unexpected account {name!r}")
                tally.stored += 1 + len(got.get("people") or {})
            ai = near
            if ai is None or ai in seen_accounts:
                continue
        elif ai in seen_accounts:
            tally.duplicates += 1
            tally.problems.append(f"duplicate account {name!r} of {want_accounts[ai]['name']!r}")
            continue
        seen_accounts[ai] = name
        _compare_account(tally, want_accounts[ai], got, all_people, ai, today)
    for ai, want in enumerate(want_accounts):
        if ai not in seen_accounts:
            tally.expected += 1 + _count_expected(want)
            tally.problems.append(f"account {want['name']!r} missing")
    _check_never(tally, expect, state)
    return tally


def _count_expected(want: Dict[str, Any]) -> int:
    people = want.get("people") or []
    count = len(people) + sum(1 for p in people for k in PERSON_FIELDS if k != "roles" and p.get(k) is not None)
    count += sum(len(p.get("roles") or []) for p in people)
    deal = want.get("deal") or {}
    count += sum(1 for k in ("stage", "budget", "timeline") if deal.get(k) is not None) + len(deal.get("competitors") or [])
    return count + len(want.get("needs") or []) + len(want.get("meetings") or []) + bool(want.get("industry"))


def _compare_account(tally: Tally, want: Dict[str, Any], got: Dict[str, Any], all_people: List[Any], ai: int,
                     today: date) -> None:
    where = want["name"]
    tally.expected += 1  # the account itself
    tally.found += 1
    if want.get("industry") or got.get("industry"):
        tally.fact(f"{where}.industry", want.get("industry"), got.get("industry"),
                   _title_same(want.get("industry"), got.get("industry")))
    people = list(want.get("people") or [])
    matched: Dict[int, str] = {}
    for name, facts in (got.get("people") or {}).items():
        pi = _match(people, name)
        if pi is None:
            other = next((a for a, p in all_people if a != ai and norm(name) in _names(p)), None)
            near = _near(people, name)
            if other is not None:
                tally.wrong_place += 1
                tally.problems.append(f"{where}: person {name!r} belongs to another account")
            elif near is not None and near in matched:
                tally.duplicates += 1
                tally.problems.append(f"{where}: duplicate person {name!r} of {people[near]['name']!r}")
            elif near is not None:
                pi = near
            else:
                tally.stored += 1
                tally.problems.append(f"{where}: unexpected person {name!r}")
            if pi is None:
                continue
        elif pi in matched:
            tally.duplicates += 1
            tally.problems.append(f"{where}: duplicate person {name!r} of {people[pi]['name']!r}")
            continue
        matched[pi] = name
        tally.expected += 1
        tally.stored += 1
        tally.found += 1
        tally.correct_stored += 1
        _compare_person(tally, f"{where}/{people[pi]['name']}", people[pi], facts)
    for pi, person in enumerate(people):
        if pi not in matched:
            tally.expected += 1 + sum(1 for k in PERSON_FIELDS if k != "roles" and person.get(k) is not None)
            tally.expected += len(person.get("roles") or [])
            tally.problems.append(f"{where}: person {person['name']!r} missing")
    _compare_deal(tally, where, want.get("deal") or {}, got.get("deal") or {})
    _compare_needs(tally, where, want.get("needs") or [], got.get("needs") or [])
    _compare_meetings(tally, where, want.get("meetings") or [], got.get("meetings") or [], today)


def _compare_deal(tally: Tally, where: str, want: Dict[str, Any], got: Dict[str, Any]) -> None:
    tally.fact(f"{where}.stage", want.get("stage"), got.get("stage"), want.get("stage") == got.get("stage"))
    w, g = want.get("budget"), got.get("budget")
    tally.fact(f"{where}.budget", w, g, w is not None and g is not None and abs(float(w) - float(g)) <= 0.01 * float(w))
    w, g = want.get("timeline"), got.get("timeline")
    tally.fact(f"{where}.timeline", w, g, bool(w and g and norm(w) in norm(g)))
    wanted = [norm(c) for c in want.get("competitors") or []]
    stored = [norm(c) for c in got.get("competitors") or []]
    for c in wanted:
        hit = next((s for s in stored if c and (c in s or s in c)), None)
        tally.fact(f"{where}.competitor", c, hit, hit is not None)
        if hit is not None:
            stored.remove(hit)
    for s in stored:
        tally.fact(f"{where}.competitor", None, s, False)


def _compare_needs(tally: Tally, where: str, want: List[Dict[str, Any]], got: List[str]) -> None:
    stored = [norm(n) for n in got]
    for need in want:
        keys = [norm(k) for k in need.get("keys") or []]
        hit = next((s for s in stored if all(k in s for k in keys)), None)
        tally.fact(f"{where}.need", "+".join(need.get("keys") or []), hit, hit is not None)
        if hit is not None:
            stored.remove(hit)
    for s in stored:
        tally.fact(f"{where}.need", None, s, False)


def _compare_meetings(tally: Tally, where: str, want: List[Dict[str, Any]], got: List[date], today: date) -> None:
    stored = list(got)
    for meeting in want:
        day = expected_date(meeting.get("date") or {}, today)
        hit = day if day in stored else None
        tally.fact(f"{where}.meeting", str(day), str(hit) if hit else None, hit is not None)
        if hit is not None:
            stored.remove(hit)
    for extra in stored:
        tally.fact(f"{where}.meeting", None, str(extra), False)


def _check_never(tally: Tally, expect: Dict[str, Any], state: Dict[str, Any]) -> None:
    names = {norm(a) for a in state} | {norm(p) for a in state.values() for p in a.get("people") or {}}
    for bad in expect.get("never") or []:
        if norm(bad) in names:
            tally.problems.append(f"{bad!r} exists but must not")
            tally.stored += 1
    for bad in expect.get("never_competitor") or []:
        for account, got in state.items():
            if any(norm(bad) == norm(c) for c in (got.get("deal") or {}).get("competitors") or []):
                tally.problems.append(f"{account}: {bad!r} stored as a competitor")
    for gone in expect.get("deleted") or []:
        person, account = gone.get("person"), gone.get("account")
        for name, got in state.items():
            if person and norm(person) in {norm(p) for p in got.get("people") or {}}:
                tally.problems.append(f"{person!r} should have been deleted")
                tally.expected += 1
            elif not person and account and norm(account) == norm(name):
                tally.problems.append(f"account {account!r} should have been deleted")
                tally.expected += 1


def present_entities(expect: Dict[str, Any], state: Dict[str, Any]) -> set:
    """The expected accounts and people (by expected name) that the state holds now."""
    out = set()
    want_accounts = list(expect.get("accounts") or [])
    for name, got in state.items():
        ai = _match(want_accounts, name)
        if ai is None:
            continue
        out.add(("account", want_accounts[ai]["name"]))
        people = want_accounts[ai].get("people") or []
        for person in got.get("people") or {}:
            pi = _match(people, person)
            if pi is not None:
                out.add(("person", people[pi]["name"]))
    return out


def unintended_deletions(history: Iterable[set], final: set) -> List[Any]:
    """Expected entities that were present at some turn and are gone at the end."""
    ever = set().union(*history) if history else set()
    return sorted(ever - final)
