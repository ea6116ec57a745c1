"""When a meeting happened, from the words a rep uses: today, yesterday, last Friday, 昨天, 上周五, 前天.

`meeting_date(text, today)` finds the first date expression of a meeting note and returns the
day it names, or None (the note is then dated today, the day it was written). Weeks run Monday
to Sunday: "上周五" / "last week Friday" is the Friday of the previous calendar week; a bare
"Friday" / "on Friday" / "周五" / "last Friday" is the most recent Friday before today (a meeting
note is about the past). A date in the future ("tomorrow", "明天", "next Monday") is a plan,
not a meeting that happened: `planned(text)` says so.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Optional

from bot.language import to_simplified

_WEEKDAYS_EN = {"monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2, "thursday": 3,
                "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5, "sat": 5, "sunday": 6, "sun": 6}
_WEEKDAYS_ZH = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "末": 5}
_ZH_NUM = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}
_EN_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "a couple of": 2, "a few": 3}

_EN = re.compile(
    r"\b(?:(?P<today>today|this (?:morning|afternoon|evening)|tonight|earlier today)"
    r"|(?P<yesterday>yesterday|last night)"
    r"|(?P<before>the day before yesterday)"
    r"|(?P<ago>\d+|one|two|three|four|five|six|seven|a couple of|a few) days? ago"
    r"|(?:(?P<lastweek>last week(?:'s)?|the week before)\s+(?:on\s+)?(?P<lwday>[a-z]+)day)"
    r"|(?P<weekago>(?:a|one) week ago|last week)"
    r"|(?:(?P<recent>last|on|this past|past)\s+)?(?P<wday>mon|tues|tue|wednes|wed|thurs|thur|thu|fri|satur|sat|sun)day)\b",
    re.IGNORECASE)
_ZH = re.compile(
    r"(?P<today>今天|今早|今晚|今日|上午|下午|刚才|刚刚)"
    r"|(?P<yesterday>昨天|昨日|昨晚)"
    r"|(?P<before2>大前天)"
    r"|(?P<before>前天)"
    r"|(?P<ago>\d+|[一两二三四五六七八九十])天前"
    r"|(?:(?P<lastweek>上周|上个?星期|上个?礼拜|上週|上個?禮拜|上個?星期)(?P<lwday>[一二三四五六日天末]))"
    r"|(?P<weekago>上周|上个?星期|上个?礼拜|一周前|一个星期前)"
    r"|(?:(?P<thisweek>这周|本周|这个?星期|这个?礼拜)(?P<twday>[一二三四五六日天]))"
    r"|(?:(?:周|星期|礼拜|週|禮拜)(?P<wday>[一二三四五六日天]))")
_PLANNED = re.compile(r"\b(?:tomorrow|next (?:week|mon|tue|wed|thu|fri|sat|sun)\w*|later today|going to meet|will meet|"
                      r"meeting (?:them|him|her) (?:on|next)|planning to|plan to)\b|明天|后天|下周|下个?星期|下个?礼拜|"
                      r"准备去|打算去|约了.{0,6}(?:明天|下周|后天)|要去拜访|将要", re.IGNORECASE)


def _last_weekday(today: date, weekday: int) -> date:
    """The most recent `weekday` strictly before today."""
    delta = (today.weekday() - weekday) % 7 or 7
    return today - timedelta(days=delta)


def _weekday_last_week(today: date, weekday: int) -> date:
    """`weekday` of the previous calendar week (Monday–Sunday)."""
    monday_this_week = today - timedelta(days=today.weekday())
    return monday_this_week - timedelta(days=7) + timedelta(days=weekday)


def _en_weekday(word: str) -> Optional[int]:
    word = word.casefold()
    for name, number in _WEEKDAYS_EN.items():
        if word.startswith(name[:3]) and name.startswith(word[:3]):
            return number
    return None


def meeting_date(text: str, today: date) -> Optional[date]:
    """The day a meeting note says the meeting was, or None when it names no day."""
    simple = to_simplified(text or "")
    m = _ZH.search(simple)
    if m:
        if m.group("today"):
            return today
        if m.group("yesterday"):
            return today - timedelta(days=1)
        if m.group("before2"):
            return today - timedelta(days=3)
        if m.group("before"):
            return today - timedelta(days=2)
        if m.group("ago"):
            token = m.group("ago")
            return today - timedelta(days=int(token) if token.isdigit() else _ZH_NUM.get(token, 0))
        if m.group("lastweek"):
            return _weekday_last_week(today, _WEEKDAYS_ZH[m.group("lwday")])
        if m.group("weekago"):
            return today - timedelta(days=7)
        if m.group("thisweek"):
            day = today - timedelta(days=today.weekday()) + timedelta(days=_WEEKDAYS_ZH[m.group("twday")])
            return day if day <= today else _last_weekday(today, _WEEKDAYS_ZH[m.group("twday")])
        if m.group("wday"):
            return _last_weekday(today, _WEEKDAYS_ZH[m.group("wday")])
    m = _EN.search(text or "")
    if m:
        if m.group("today"):
            return today
        if m.group("yesterday"):
            return today - timedelta(days=1)
        if m.group("before"):
            return today - timedelta(days=2)
        if m.group("ago"):
            token = m.group("ago").casefold()
            return today - timedelta(days=int(token) if token.isdigit() else _EN_NUM.get(token, 0))
        if m.group("lastweek"):
            weekday = _en_weekday(m.group("lwday") + "day")
            return _weekday_last_week(today, weekday) if weekday is not None else today - timedelta(days=7)
        if m.group("weekago"):
            return today - timedelta(days=7)
        if m.group("wday"):
            weekday = _en_weekday(m.group("wday") + "day")
            return _last_weekday(today, weekday) if weekday is not None else None
    return None


def planned(text: str) -> bool:
    """Whether the text speaks of a meeting still to come ("tomorrow", "明天", "next week")."""
    return bool(_PLANNED.search(to_simplified(text or "")))
