"""Understanding short answers: picking an option, reading a clause, yes/no."""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional

from bot.language import to_simplified

_CLAUSE_END = re.compile(r"[，,。.;；!！?？\n]")
_NUMBER_WORDS = {"1": 0, "2": 1, "3": 2, "4": 3, "5": 4, "一": 0, "二": 1, "三": 2, "四": 3, "五": 4,
                 "first": 0, "second": 1, "third": 2, "fourth": 3, "第一": 0, "第二": 1, "第三": 2, "第四": 3}


def normalise(text: str) -> str:
    return to_simplified(text or "").lower().strip()


def _loosely_in(form: str, text: str, max_extra: int = 4) -> bool:
    """A Chinese form found with a few characters inserted: 超出预算 in 超出他们的预算了."""
    if len(form) < 3:
        return False
    pattern = "".join(re.escape(c) + (".{0,3}" if i < len(form) - 1 else "") for i, c in enumerate(form))
    m = re.search(pattern, text)
    return bool(m) and len(m.group(0)) - len(form) <= max_extra


def match_option(text: str, options: Dict[str, Dict[str, Any]]) -> Optional[str]:
    """The option a short answer picks: by number ("2", "第二个") or by one of its forms.

    Args:
        text: the rep's answer.
        options: option key → entry with ``forms: {en: [...], zh: [...]}`` (order matters for numbers).

    Returns:
        The option key, or None.
    """
    norm = normalise(text)
    if not norm:
        return None
    keys = list(options)
    bare = re.sub(r"[\s。.!！个項项号號)）(（]+", "", norm)
    if bare in _NUMBER_WORDS and _NUMBER_WORDS[bare] < len(keys):
        return keys[_NUMBER_WORDS[bare]]
    words = set(re.findall(r"[a-z0-9']+", norm))
    best: Optional[str] = None
    best_len = 0
    for key, entry in options.items():
        forms = entry.get("forms") or {}
        for form in list(forms.get("en") or []) + list(forms.get("zh") or []):
            form_norm = normalise(str(form))
            if not form_norm:
                continue
            form_words = re.findall(r"[a-z0-9']+", form_norm)
            # Chinese forms by substring; English ones when all their words occur ("over their budget")
            hit = form_norm in norm or (form_norm.isascii() and form_words and set(form_words) <= words)
            score = len(form_norm) if hit else 0
            if not hit and not form_norm.isascii() and _loosely_in(form_norm, norm):
                score = len(form_norm) - 0.5  # exact hits win ties
            if score > best_len:
                best, best_len = key, score
    return best


_PARTICLES = "了啦的呀吧哦喔 "


def clause_after(text: str, markers: Iterable[str]) -> Optional[str]:
    """The clause after the first marker found ("延迟3天，因为芯片缺货" + 因为 → "芯片缺货").

    A leftover particle or a lone character ("客户投诉了，很不满意" → "了") is no answer:
    the form should ask instead.
    """
    for marker in markers:
        m = re.search(re.escape(marker), text, re.IGNORECASE)
        if m:
            rest = text[m.end():].strip(" :：")
            clause = _CLAUSE_END.split(rest, 1)[0].strip().strip(_PARTICLES)
            if len(clause) >= 2:
                return clause
    return None


def short_answer(text: str, limit: int = 300) -> Optional[str]:
    """A free-text answer, trimmed; None when empty or a button payload."""
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return None
    return text[:limit]


def first_value(entities: List[Dict[str, Any]], entity: str) -> Any:
    for e in entities or []:
        if e.get("entity") == entity and e.get("value") not in (None, ""):
            return e["value"]
    return None
