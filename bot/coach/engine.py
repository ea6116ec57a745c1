"""Renders playbook text blocks for a language with the facts of an account.

A text block is ``{en: …, zh: …}`` or a list of variants with ``when``
conditions; the first variant whose conditions all hold is used (see
docs/playbooks.md). One engine for every playbook.
"""
from __future__ import annotations

from functools import cache
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

import yaml

from bot import CONTENT_DIR
from bot.language import base_language, to_script

PLAYBOOK_DIR = CONTENT_DIR / "playbooks"

Block = Union[Dict[str, Any], List[Dict[str, Any]]]


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@cache
def playbook(name: str) -> Dict[str, Any]:
    """Loads `bot/content/playbooks/<name>.yml`."""
    return yaml.safe_load((PLAYBOOK_DIR / f"{name}.yml").read_text(encoding="utf-8")) or {}


def holds(conditions: Union[str, Iterable[str], None], flags: Mapping[str, bool]) -> bool:
    """Whether all `when` conditions hold; 'not x' negates a flag; unknown flags are false."""
    if not conditions:
        return True
    if isinstance(conditions, str):
        conditions = [conditions]
    for cond in conditions:
        cond = cond.strip()
        negate = cond.startswith("not ")
        name = cond[4:].strip() if negate else cond
        value = bool(flags.get(name, False))
        if value == negate:
            return False
    return True


def choose(block: Block, flags: Mapping[str, bool]) -> Optional[Dict[str, Any]]:
    """The variant of a block that applies to these facts."""
    if isinstance(block, dict):
        return block if holds(block.get("when"), flags) else None
    for variant in block or []:
        if holds(variant.get("when"), flags):
            return variant
    return None


def text(block: Block, lang: str, facts: "Facts") -> str:
    """Renders a block in simplified Chinese or English (no script conversion)."""
    variant = choose(block, facts.flags)
    if variant is None:
        return ""
    template = variant.get(base_language(lang)) or variant.get("en") or ""
    return template.format_map(_Params(facts.values(lang))).rstrip()


def render(block: Block, lang: str, facts: "Facts") -> str:
    """Renders a block for the user's language and script."""
    return to_script(text(block, lang, facts), lang)


class Facts:
    """Placeholder values (per language) and condition flags for rendering."""

    def __init__(self, values: Optional[Dict[str, Dict[str, Any]]] = None,
                 flags: Optional[Dict[str, bool]] = None) -> None:
        # values: name -> {"en": ..., "zh": ...} or a plain value for both
        self._values: Dict[str, Any] = dict(values or {})
        self.flags: Dict[str, bool] = dict(flags or {})

    def set(self, name: str, value: Any, zh: Any = None) -> "Facts":
        self._values[name] = {"en": value, "zh": value if zh is None else zh}
        return self

    def put(self, name: str, value: Any) -> "Facts":
        """Sets a placeholder from a ``{en: …, zh: …}`` dict (or one value for both)."""
        self._values[name] = value if isinstance(value, dict) else {"en": value, "zh": value}
        return self

    def flag(self, name: str, value: bool = True) -> "Facts":
        self.flags[name] = bool(value)
        return self

    def values(self, lang: str) -> Dict[str, Any]:
        key = base_language(lang)
        out = {}
        for name, value in self._values.items():
            out[name] = value.get(key, value.get("en")) if isinstance(value, dict) else value
        return out

    def get(self, name: str, lang: str = "en") -> Any:
        return self.values(lang).get(name)

    def with_extra(self, **values: Any) -> "Facts":
        """A copy with extra plain placeholder values (same in both languages)."""
        copy = Facts(dict(self._values), dict(self.flags))
        for name, value in values.items():
            if isinstance(value, dict) and set(value) <= {"en", "zh"}:
                copy._values[name] = value
            else:
                copy.set(name, value)
        return copy
