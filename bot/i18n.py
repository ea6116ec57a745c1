"""Bilingual text: every reply the bot sends is rendered here.

Texts live in `bot/content/messages/*.yml` as ``key: {en: …, zh: …}`` (simplified
Chinese); labels of canonical values in `bot/content/labels.yml`. `render`
formats a text for a language tag and converts it to traditional script for
``zh-Hant`` users, so there is one source per text and no fragments in code.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Iterable, Optional

import yaml

from bot import CONTENT_DIR
from bot.language import base_language, to_script

MESSAGES_DIR = CONTENT_DIR / "messages"
LABELS_FILE = CONTENT_DIR / "labels.yml"


class _Params(dict):
    """Leaves unknown placeholders visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@lru_cache(maxsize=1)
def messages() -> Dict[str, Dict[str, str]]:
    """All message texts by key, merged from every file in the messages folder."""
    merged: Dict[str, Dict[str, str]] = {}
    for path in sorted(MESSAGES_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"message key {key!r} defined twice ({path.name})")
            merged[key] = texts
    return merged


@lru_cache(maxsize=1)
def labels() -> Dict[str, Dict[str, Dict[str, str]]]:
    return yaml.safe_load(LABELS_FILE.read_text(encoding="utf-8"))


def text(key: str, lang: Optional[str], **params: Any) -> str:
    """The simplified/English text of `key`, formatted, before script conversion."""
    entry = messages()[key]
    template = entry.get(base_language(lang)) or entry["en"]
    return template.format_map(_Params(params)).rstrip()


#: parameters that carry a name the rep typed: shown exactly as typed, never script-converted (台灣精密 stays 台灣)
NAME_PARAMS = ("account", "person", "name", "new_name", "old_name")


def render(key: str, lang: Optional[str], **params: Any) -> str:
    """Renders message `key` for a language tag (en, zh-Hans, zh-Hant)."""
    kept: Dict[str, str] = {}
    if any("\ue000" in str(v) for v in params.values()):  # the token's own character in a text: no tokens
        return to_script(text(key, lang, **params), lang)
    for name in NAME_PARAMS:
        if isinstance(params.get(name), str) and params[name]:
            token = f"\ue000{len(kept)}\ue001"
            kept[token], params[name] = params[name], token
    out = to_script(text(key, lang, **params), lang)
    for token, value in kept.items():
        out = out.replace(token, value)
    return out


def label(kind: str, value: Optional[str], lang: Optional[str]) -> str:
    """Display label of a canonical value, e.g. ('attitude', 'supporter') → 支持者."""
    if value is None:
        return ""
    entry = labels().get(kind, {}).get(value)
    if not entry:
        return str(value)
    return entry.get(base_language(lang)) or entry["en"]


def has_label(kind: str, value: Optional[str]) -> bool:
    """Whether labels.yml has a label for `value` of `kind`."""
    return bool(value) and value in labels().get(kind, {})


def join(items: Iterable[str], lang: Optional[str]) -> str:
    """Joins list items the way each language does."""
    items = [i for i in items if i]
    return ("、" if base_language(lang) == "zh" else ", ").join(items)


def money(amount: Optional[float], lang: Optional[str]) -> str:
    """Formats an amount: 2000000 → '200万' (zh) or '2,000,000' (en)."""
    if amount is None:
        return ""
    amount = float(amount)
    if base_language(lang) == "zh":
        if amount >= 100_000_000:
            return f"{amount / 100_000_000:g}亿"
        if amount >= 10_000:
            return f"{amount / 10_000:g}万"
        return f"{amount:g}"
    if amount >= 1_000_000 and amount % 10_000 == 0:
        return f"{amount / 1_000_000:g}M"
    return f"{amount:,.0f}"
