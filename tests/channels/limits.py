"""Shared by the channel tests of the one message limit (`bot.channels.limits`)."""
from __future__ import annotations

import sqlite3

from bot import i18n
from bot.channels.limits import max_message_chars

#: one unit of an over-long message per language; `{name}` is a marker that must never be stored
OVERLONG_UNITS = {
    "en": "Add a new account: {name}, manufacturing, budget 2 million, met Maria Lopez today. ",
    "zh-Hans": "新建客户：{name}，制造业，预算两百万，今天见了刘建国。",
    "zh-Hant": "新建客戶：{name}，製造業，預算兩百萬，今天見了劉建國。",
}


def overlong(lang: str, name: str, extra: int = 100) -> str:
    """A message `extra` characters over the limit, in `lang`, naming `name` again and again."""
    unit = OVERLONG_UNITS[lang].format(name=name)
    limit = max_message_chars()
    text = (unit * (limit // len(unit) + 2))[:limit + extra].strip()
    assert len(text) > limit
    return text


def refusal(lang: str, text: str) -> str:
    """The reply every channel must give to `text`: `message_too_long` in the rep's language and script."""
    return i18n.render("message_too_long", lang, length=f"{len(text):,}", limit=f"{max_message_chars():,}")


def stored_text(database_url: str) -> str:
    """Every row of every table of a SQLite account store, as one string (to search for a marker)."""
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return "\n".join(repr(row) for table in tables for row in db.execute(f'SELECT * FROM "{table}"'))
