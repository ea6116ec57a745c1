"""Erasing names from what was said: practice transcripts and Rasa's conversation history.

A data-rights deletion ("delete Maria Lopez", "删除赵敏的所有个人信息", "delete the Acme account")
removes the records from the account store, and here the names from every event Rasa keeps
for the team's conversations (its SQL tracker store: the rep's messages, the bot's replies,
entities, slot values). A name is replaced by ``[…]``, wherever it appears in an event's data.

What counts as the name: the stored name and its simplified/traditional spellings; for a
Latin-script name also each of its parts of three letters or more written with a capital
("Maria", "Lopez"); for a Chinese name also the forms reps use in conversation, surname plus
an honorific (王总, 李工, 陈经理, 刘姐) and 老/小 plus surname. Latin names match as whole words.

The tracker store is Rasa's `events` table at ``TRACKER_DATABASE_URL`` (default: the embedded
``var/tracker.db`` of endpoints.yml). Events already published to an event broker (RabbitMQ)
cannot be called back; docs/deployment.md says so.
"""
from __future__ import annotations

import json
import logging
import os
import re
from functools import lru_cache
from typing import Any, Iterable, Sequence

from bot import REPO_DIR

logger = logging.getLogger(__name__)

MARK = "[…]"
DEFAULT_TRACKER_DB = REPO_DIR / "var" / "tracker.db"
#: honorifics that follow a surname when reps speak of a contact (王总, 李工, 陈经理 …)
HONORIFICS = ("总", "總", "工", "经理", "經理", "总监", "總監", "部长", "部長", "主任", "老师", "老師", "姐", "哥",
              "董", "处长", "處長", "科长", "科長", "厂长", "廠長", "博士", "先生", "女士", "小姐")
_HAN = re.compile(r"^[\u3400-\u9fff]{2,4}$")
_BATCH = 200


def tracker_database_url() -> str:
    """Where Rasa keeps conversations: ``TRACKER_DATABASE_URL`` or the embedded SQLite file."""
    return os.environ.get("TRACKER_DATABASE_URL") or f"sqlite:///{DEFAULT_TRACKER_DB}"


def name_forms(names: Iterable[str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """Every spelling of `names` that counts as naming them (longest first), and the case-sensitive ones.

    The single parts of a longer Latin name match only with their capital ("Will", not "will").
    """
    from bot.language import to_script, to_simplified

    forms: set[str] = set()
    parts: set[str] = set()
    for name in names:
        name = (name or "").strip()
        if not name:
            continue
        for spelling in {name, to_simplified(name), to_script(name, "zh-Hant")}:
            forms.add(spelling)
            if _HAN.match(spelling) and len(spelling) in (2, 3):
                surname = spelling[0]
                forms.update(surname + h for h in HONORIFICS)
                forms.update({"老" + surname, "小" + surname})
            words = re.findall(r"[A-Za-z][A-Za-z'\-]+", spelling)
            if len(words) > 1:
                parts.update(w for w in words if len(w) >= 3 and w[0].isupper())
    ordered = tuple(sorted(forms | parts, key=len, reverse=True))
    return ordered, frozenset(parts - forms)


@lru_cache(maxsize=64)
def _pattern(forms: tuple[str, ...], case_sensitive: frozenset[str]) -> re.Pattern[str]:
    alternatives = []
    for form in forms:
        body = re.escape(form)
        if form.isascii():
            body = body if form in case_sensitive else f"(?i:{body})"
            body = rf"(?<![A-Za-z0-9]){body}(?![A-Za-z0-9])"
        alternatives.append(body)
    return re.compile("|".join(alternatives))


def _replace(pattern: re.Pattern[str], item: Any) -> Any:
    """`item` with the pattern replaced in every string value (never in a key: keys are structure)."""
    if isinstance(item, str):
        return pattern.sub(MARK, item)
    if isinstance(item, dict):
        return {k: _replace(pattern, v) for k, v in item.items()}
    if isinstance(item, list):
        return [_replace(pattern, v) for v in item]
    return item


#: where a Rasa event holds what was said, by event type: only these parts are rewritten, so an
#: event's type, an action's or a slot's name, timestamps and the rest of its structure never change
#: (a contact named "event" or "user" must not break the conversation history)
_SAID = {"user": ("text", "metadata"), "bot": ("text", "data"), "slot": ("value",)}


def _erase_event(pattern: re.Pattern[str], event: Any) -> Any:
    if not isinstance(event, dict) or event.get("event") not in _SAID:
        return event
    out = dict(event)
    for key in _SAID[event["event"]]:
        if key in out:
            out[key] = _replace(pattern, out[key])
    parse = out.get("parse_data")
    if event["event"] == "user" and isinstance(parse, dict):
        parse = dict(parse)
        if isinstance(parse.get("text"), str):
            parse["text"] = pattern.sub(MARK, parse["text"])
        if isinstance(parse.get("entities"), list):
            parse["entities"] = [{k: _replace(pattern, v) if k in ("value", "person_hint") else v for k, v in e.items()}
                                 if isinstance(e, dict) else e for e in parse["entities"]]
        out["parse_data"] = parse
    return out


def name_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern for every form of `names` (None when there is no name)."""
    forms, case_sensitive = name_forms(names)
    return _pattern(forms, case_sensitive) if forms else None


def erase(value: Any, names: Sequence[str]) -> Any:
    """`value` (text, or JSON-like data) with every form of `names` replaced by ``[…]``."""
    pattern = name_pattern(names)
    return value if pattern is None else _replace(pattern, value)


@lru_cache(maxsize=4)
def _engine(url: str) -> Any:
    from sqlalchemy import create_engine

    return create_engine(url, future=True, hide_parameters=True)


def erase_from_conversations(conversation_ids: Sequence[str], names: Sequence[str],
                             url: str | None = None) -> int:
    """Erases `names` from every stored event of the given conversations; returns the events changed.

    Raises SQLAlchemy's errors when the tracker store cannot be reached (the caller says so).
    """
    from sqlalchemy import MetaData, Table, inspect, select, update

    pattern = name_pattern(names)
    ids = sorted({c for c in conversation_ids if c})
    if pattern is None or not ids:
        return 0
    engine = _engine(url or tracker_database_url())
    if not inspect(engine).has_table("events"):  # Rasa has stored no conversation yet
        return 0
    events = Table("events", MetaData(), autoload_with=engine)
    changed = 0
    with engine.begin() as conn:
        for start in range(0, len(ids), _BATCH):
            batch = select(events.c.id, events.c.data).where(events.c.sender_id.in_(ids[start:start + _BATCH]))
            for row_id, data in conn.execute(batch).all():
                try:
                    value = json.loads(data or "null")
                except ValueError:
                    continue
                new = _erase_event(pattern, value)
                if new != value:
                    conn.execute(update(events).where(events.c.id == row_id).values(data=json.dumps(new)))
                    changed += 1
    logger.info("erased names from %d stored conversation events", changed)
    return changed
