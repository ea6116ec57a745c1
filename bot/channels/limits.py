"""Limits every channel applies to what a rep sends before Rasa sees it."""
from __future__ import annotations

import json
import os
from typing import Any, Optional

from bot import i18n
from bot.language import detect, without_nul

#: how deep a JSON body may nest before it is refused (Slack sends 5 or 6 levels)
MAX_JSON_DEPTH = 64
#: client-sent message metadata (a page name, a locale) larger than this is refused: Rasa keeps it
#: with every event of the turn, several times over
MAX_METADATA_BYTES = 8192


def max_message_chars() -> int:
    return int(os.environ.get("MAX_MESSAGE_CHARS", "5000"))


def clean(text: str) -> str:
    """The message as stored: NUL characters removed (PostgreSQL refuses them), nothing else changed."""
    return without_nul(text)


def invalid_unicode(value: Any) -> bool:
    """True when a string anywhere in `value` (dict keys included) is not valid Unicode text.

    JSON may spell lone UTF-16 surrogates (a backslash-u escape such as ``udfff``); Python decodes them into strings that
    cannot be encoded as UTF-8, so no database, log or channel API can take them.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return False


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when parsed JSON nests deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def metadata_refused(metadata: Any) -> bool:
    """Client-sent metadata that is not valid Unicode, nests too deep or is over `MAX_METADATA_BYTES`."""
    if metadata is None:
        return False
    if invalid_unicode(metadata) or too_deep(metadata, 16):
        return True
    try:
        return len(json.dumps(metadata, ensure_ascii=False).encode("utf-8")) > MAX_METADATA_BYTES
    except (TypeError, ValueError):
        return True


class PacketJson:
    """The JSON codec socket.io decodes packets with.

    A packet nested too deep, holding an integer over Python's digit limit or not JSON at all
    becomes the event `UNREADABLE_EVENT` (answered politely) instead of an exception with a
    traceback in the log.
    """

    UNREADABLE_EVENT = "unreadable_packet"

    @staticmethod
    def dumps(*args: Any, **kwargs: Any) -> str:
        return json.dumps(*args, **kwargs)

    @staticmethod
    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            data = json.loads(text, *args, **kwargs)
        except (RecursionError, ValueError, TypeError):
            return [PacketJson.UNREADABLE_EVENT]
        return [PacketJson.UNREADABLE_EVENT] if too_deep(data, 64) else data


def unreadable_reply(text: str = "") -> str:
    """The polite answer to a message that is not valid Unicode, in the language of what is readable."""
    readable = text.encode("utf-8", "replace").decode("utf-8") if text else ""
    return i18n.render("message_unreadable", detect(readable[:2000]))


def too_long_reply(text: str) -> Optional[str]:
    """A polite refusal in the rep's language and script when `text` is over the limit, else None."""
    limit = max_message_chars()
    if len(text) <= limit:
        return None
    lang = detect(text[:2000])
    return i18n.render("message_too_long", lang, length=f"{len(text):,}", limit=f"{limit:,}")


def refusal(text: str) -> Optional[str]:
    """The reply that stands instead of handing `text` to Rasa (unreadable or too long), else None."""
    if invalid_unicode(text):
        return unreadable_reply(text)
    return too_long_reply(text)
