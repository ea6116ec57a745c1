"""A typed button: the rep types a button's label or its number instead of clicking it.

Slack and the web widget show buttons, WeCom and the terminal show numbered options, and
reps often type what they see ("Later", "以后再说", "2") rather than click. `pick` maps such a
message to the button's payload, in any script, so every channel behaves as if the button had
been clicked. Only the buttons of the bot's last answer count.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any, Iterable, Mapping, Optional

from bot.language import to_simplified

_ZH_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}
_CHOICE = re.compile(r"^(?:第|选|選)?\s*"
                     r"([0-9]{1,3}|[零〇一二两兩三四五六七八九十]{1,3})"
                     r"\s*(?:个|個|项|項|号|號)?\s*[.。、)）]?$")
_FOLD = re.compile(r"[\W_]+")
_PARENTHESIS = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
#: bare yes/no words (folded), for questions whose buttons say more ("确认删除", "Yes, save them")
_YES = frozenset({"yes", "y", "yeah", "yep", "sure", "ok", "okay", "是", "是的", "对", "好", "好的", "嗯", "可以", "行", "确认"})
_NO = frozenset({"no", "n", "nope", "不", "不是", "否", "不要", "不用", "算了"})


def choice_number(text: str) -> Optional[int]:
    """1 for "1", "１", "一", "1.", "第一个", "选2" …; None for anything else."""
    text = unicodedata.normalize("NFKC", text or "").strip()
    match = _CHOICE.match(text)
    if not match:
        return None
    token = match.group(1)
    if token.isdigit():
        return int(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        if (tens and tens not in _ZH_DIGITS) or (ones and ones not in _ZH_DIGITS) or len(ones) > 1 or len(tens) > 1:
            return None
        return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)
    if len(token) != 1:
        return None
    return _ZH_DIGITS[token]


def _folded(text: str) -> str:
    """A label as compared: NFKC, simplified script, case-folded, without spaces or punctuation."""
    return _FOLD.sub("", to_simplified(unicodedata.normalize("NFKC", text or "")).casefold())


def pick(text: str, buttons: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """The payload of the button the rep typed (its label or its number), else None."""
    options = [b for b in buttons if isinstance(b, Mapping) and isinstance(b.get("payload"), str) and b["payload"]]
    if not options or not text or text.lstrip().startswith("/"):
        return None
    number = choice_number(text)
    if number is not None:
        return options[number - 1]["payload"] if 1 <= number <= len(options) else None
    typed = _folded(text)
    if not typed:
        return None
    matches = [b["payload"] for b in options if _folded(str(b.get("title") or "")) == typed]
    if not matches:  # "Tom Becker" for the button "Tom Becker (Initech)"
        matches = [b["payload"] for b in options
                   if _folded(_PARENTHESIS.sub("", str(b.get("title") or ""))) == typed]
    if not matches and typed in _YES | _NO:  # a bare "是" / "no" answers a yes/no question
        wanted = "/affirm" if typed in _YES else "/deny"
        matches = [b["payload"] for b in options if b["payload"] == wanted]
    return matches[0] if len(set(matches)) == 1 else None
