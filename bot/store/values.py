"""What the store accepts: canonical values, names as saved, free text as saved."""
from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime, timedelta, timezone
from typing import Any, Optional, Tuple

from bot.language import name_key, without_nul
from bot.resilience import LATE_RESULT_RETENTION

MAX_NAME = 200

BUYING_ROLES = ("economic_buyer", "user", "financial", "technical", "coach")
ATTITUDES = ("supporter", "neutral", "opponent")
RELATIONSHIP_STAGES = ("acquainted", "engaged", "trusted", "ally")
PURCHASE_STAGES = ("need_emerges", "project_set_up", "info_gathering", "technical_screening",
                   "evaluation", "decision", "implementation")
NEED_KINDS = ("explicit", "implicit", "strategic")
SPIN_TYPES = ("problem", "implication", "need_payoff")
PATH_ROLES = ("acceptor", "dissatisfied", "power")


class InvalidFact(ValueError):
    """A fact that cannot be stored (empty or too long name, value out of range)."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


#: quotes and end punctuation trimmed from both ends of a name
NAME_PUNCT = "，,。.：:;；!！?？\"'“”"
#: bidi embeddings, overrides and isolates: removed anywhere in a name (they reorder what follows)
_BIDI_CONTROLS = frozenset(chr(c) for c in [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
#: zero-width characters trimmed from the ends of a name (inside one they may join emoji or scripts)
_ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
#: categories of characters that show nothing on their own
_INVISIBLE = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})


def _trimmed(name: Optional[str]) -> str:
    """A name without control characters and bidi controls, trimmed of spaces, quotes and end punctuation.

    Control characters other than whitespace (NUL, ESC, DEL, …) and the bidi controls
    U+202A–202E and U+2066–2069 are removed wherever they are; then spaces, quotes, end
    punctuation and zero-width characters are trimmed from both ends until none is left
    there (“ Acme ” → Acme).
    """
    text = "".join(c for c in (name or "") if c not in _BIDI_CONTROLS
                   and (c.isspace() or unicodedata.category(c) != "Cc"))
    while True:
        trimmed = text.strip().strip(NAME_PUNCT).strip(_ZERO_WIDTH)
        if trimmed == text:
            return text
        text = trimmed


def clean_name(name: Optional[str]) -> str:
    """The name as the store saves it (see `_trimmed`), or `InvalidFact`.

    Refused as ``empty_name``: nothing left, no visible character (only format, space or
    combining characters), or nothing left of its lookup key ("--", "()", "·"), which could
    never be found again. Refused as ``name_too_long``: more than `MAX_NAME` characters.
    """
    text = _trimmed(name)
    if not text or all(unicodedata.category(c) in _INVISIBLE for c in text) or not name_key(text):
        raise InvalidFact("empty_name")
    if len(text) > MAX_NAME:
        raise InvalidFact("name_too_long", limit=MAX_NAME)
    return text


def store_key(name: str) -> str:
    """The stored lookup key of a (clean) name: `name_key`, at most `MAX_NAME` characters.

    NFKC can make a key much longer than its name (U+FDFA is 18 characters); a key over
    the column's length keeps its beginning and ends in a hash of the whole key, so it
    still fits, stays unique and is found again by the same name.
    """
    key = name_key(name)
    if len(key) <= MAX_NAME:
        return key
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return f"{key[:MAX_NAME - len(digest) - 1]}#{digest}"


def lookup_key(name: Optional[str]) -> str:
    """The key a name is looked up with: the stored key of the name as `clean_name` trims it."""
    return store_key(_trimmed(name))


def _text(value: Any) -> Any:
    """A free text as stored: NUL characters (PostgreSQL cannot store them) and bidi controls removed.

    A right-to-left override (U+202E) in a need or a note would make it read differently from
    what is stored, in every reply and chart that shows it.
    """
    if not isinstance(value, str):
        return value
    return "".join(c for c in without_nul(value) if c not in _BIDI_CONTROLS)


def _short_text(value: Any, limit: int = MAX_NAME) -> Optional[str]:
    """A short free text (title, industry): NUL removed, at most `limit` characters, or `InvalidFact`."""
    if value is None:
        return None
    value = _text(str(value)).strip()
    if len(value) > limit:
        raise InvalidFact("name_too_long", limit=limit)
    return value or None


#: A write repeated within this window is the same write: a rep re-sending a message after a
#: "that took too long" reply, possibly to another replica while the first attempt finished late
#: (bot/resilience.py reuses late results only within one process, for the same time).
REPEAT_WINDOW = timedelta(seconds=LATE_RESULT_RETENTION)


def _recent(created_at: Optional[datetime]) -> bool:
    if created_at is None:
        return False
    if created_at.tzinfo is None:  # SQLite gives naive UTC datetimes back
        created_at = created_at.replace(tzinfo=timezone.utc)
    return datetime.now(timezone.utc) - created_at <= REPEAT_WINDOW


def _check(value: Optional[str], allowed: Tuple[str, ...], field: str) -> Optional[str]:
    if value is None:
        return None
    if value not in allowed:
        raise InvalidFact("bad_value", field=field, value=value)
    return value


