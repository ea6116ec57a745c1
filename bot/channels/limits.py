"""Limits every channel applies to a rep's message before Rasa sees it."""
from __future__ import annotations

import os
from typing import Optional

from bot import i18n
from bot.language import detect, without_nul


def max_message_chars() -> int:
    return int(os.environ.get("MAX_MESSAGE_CHARS", "5000"))


def clean(text: str) -> str:
    """The message as stored: NUL characters removed (PostgreSQL refuses them), nothing else changed."""
    return without_nul(text)


def too_long_reply(text: str) -> Optional[str]:
    """A polite refusal in the rep's language and script when `text` is over the limit, else None."""
    limit = max_message_chars()
    if len(text) <= limit:
        return None
    lang = detect(text[:2000])
    return i18n.render("message_too_long", lang, length=f"{len(text):,}", limit=f"{limit:,}")
