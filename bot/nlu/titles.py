"""English job titles and the names they are said with, found by their shape.

The CRF tags titles it has seen ("CIO", "IT manager") and misses the rest: "procurement director",
"Director of IT Services" (tagging "Services" as a competitor), "reliability engineer Pete Sowerby",
"main contact is megan doyle, COO" (a name in lower case). A title has a regular shape: a head word
(director, manager, engineer, VP, CFO…) with a few words of field before it or an "of …" after it.
A title is only taken together with the person it is said of ("X is the …", "…, X", "X (…)",
"… X"), so a title said in passing ("the plant manager said…") never lands on anyone.
Used by `SalesEntityExtractor` to add titles and names the CRF missed and to drop its spans
that lie inside a title.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from bot.nlu.names import NameSpan as Span

_HEAD = (r"director|manager|head|lead|vp|svp|evp|vice[ -]president|president|officer|engineer|supervisor|controller|"
         r"founder|planner|analyst|architect|administrator|coordinator|specialist|superintendent|dean|"
         r"vice[ -]chancellor|chancellor|registrar|treasurer|chair(?:man|woman|person)?|principal|foreman|"
         r"accountant|counsel|auditor|scientist|pharmacist|professor|gm|md|ceo|cfo|cio|cto|coo|cmo|ciso|cpo|cdo|cro")
_HEAD_WORD = re.compile(rf"(?:{_HEAD})$", re.IGNORECASE)
_ACRONYM = re.compile(r"^(?:gm|md|ceo|cfo|cio|cto|coo|cmo|ciso|cpo|cdo|cro|vp|svp|evp)$", re.IGNORECASE)
#: words that never belong to a title or a name around it
_STOP = frozenset("""
a an the our their his her my your its this that these those there here is was are were be been being 's and or
but so with at from of to in on for by as about into over after before since until while who whom which what when
where why how he she they we i you it him them us me also just now still really very pretty quite not no yes
new main current acting former old contact guy lady person someone one who's he's she's it's they're there's that's
said says told asked wants wanted thinks think met meet meeting call called email emailed influence supporter
opponent neutral technical financial economic user users coach champion buyer decision maker decides signs
hostile friendly skeptical sceptical positive negative keen warm cold budget stage competitor need needs
today yesterday tomorrow week month year quarter team company account customer client them both all some
pls please thx thanks ok okay btw fyi re also too prof dr mr ms mrs miss sir boss colleague
actually wait sorry oops hmm hm well oh correction update fix meant mean
""".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'’&/-]*")


def _words(text: str, start: int, end: int) -> List[Tuple[int, int, str]]:
    return [(m.start() + start, m.end() + start, m.group()) for m in _WORD.finditer(text[start:end])]


def _title_word(word: str) -> bool:
    """A word that can be part of a title; an acronym always can ("IT", "OT", "EMEA")."""
    if re.search(r"['’]s$", word):
        return False  # "quarrington's head of supply chain": the company, not the title
    return (word.isupper() and len(word) <= 5) or word.lower() not in _STOP


def find_titles(text: str) -> List[Span]:
    """Title-shaped spans: "procurement director", "Director of IT Services", "VP Operations", "CFO"."""
    out: List[Span] = []
    words = _words(text, 0, len(text))
    for i, (start, end, word) in enumerate(words):
        if not _HEAD_WORD.match(word):
            continue
        if word.lower() == "lead" and not (i > 0 and words[i - 1][2].isupper() and text[words[i - 1][1]:start] == " "):
            continue  # "IT lead", "QA lead"; "lead" after anything else is the verb or "technical lead" (a role)
        if out and start < out[-1].end:
            continue
        first = i
        # up to three words of field before the head, joined by spaces only ("IT lead", "Engineering Director")
        while first > 0 and i - first < 3:
            prev = words[first - 1]
            gap = text[prev[1]:words[first][0]]
            if gap.strip() or not _title_word(prev[2]) or _HEAD_WORD.match(prev[2]) and not _ACRONYM.match(prev[2]):
                break
            first -= 1
        # "… of IT Services", "… for EMEA"; a VP or head names the field directly ("VP Operations")
        rest = text[end:end + 60]
        m = re.match(r"\s+(?:of|for)\s+((?:[A-Za-z&/-]+\s?){1,3})", rest)
        if m is None and re.match(r"(?:vp|svp|evp|head)$", word, re.IGNORECASE):
            m = re.match(r"\s+()((?:[A-Za-z&/-]+\s?){1,2})", rest)
        stop_at = end
        if m:
            tail = _words(text, end, end + m.end())
            kept = []
            for w in tail:
                if w[2].lower() in ("of", "for") and not kept:
                    continue
                if not _title_word(w[2]) or (w[2][0].isupper() and kept and kept[-1][2][0].islower()):
                    break
                kept.append(w)
            if kept:
                stop_at = kept[-1][1]
        span_start = words[first][0]
        if first == i and stop_at == end and not _ACRONYM.match(word):
            continue  # a bare "manager", "director": said in passing, not a title
        out.append(Span("title", span_start, stop_at, text[span_start:stop_at]))
    return out


_NAME_WORD = re.compile(r"[A-Za-z][a-z'’-]+|[A-Z][a-z]*\.?")


def _name_before(text: str, end: int) -> Optional[Span]:
    """One to three name words that end at `end` (after trailing spaces are skipped)."""
    words = _words(text, max(0, end - 60), end)
    picked: List[Tuple[int, int, str]] = []
    for w in reversed(words):
        if picked and text[w[1]:picked[-1][0]].strip():
            break
        if not _is_name_word(w[2]) or len(picked) == 3:
            break
        picked.append(w)
    if not picked or text[picked[0][1]:end].strip():
        return None
    picked.reverse()
    # "steve is their procurement manager": one lower-case word opening the sentence is its subject
    lead = re.split(r"[.;:!?]", text[:picked[0][0]])[-1]
    opens = all(w.lower() in _STOP for w in re.findall(r"[A-Za-z']+", lead))
    return _name_span(text, picked, subject=opens)


def _name_after(text: str, start: int, capital: bool) -> Optional[Span]:
    words = _words(text, start, min(len(text), start + 60))
    picked: List[Tuple[int, int, str]] = []
    for w in words:
        if (picked and text[picked[-1][1]:w[0]].strip()) or (not picked and text[start:w[0]].strip()):
            break
        if not _is_name_word(w[2]) or len(picked) == 3 or (capital and not w[2][0].isupper()):
            break
        picked.append(w)
    return _name_span(text, picked) if picked else None


def _is_name_word(word: str) -> bool:
    return (word.lower() not in _STOP and not re.search(r"['’]s$", word) and not _HEAD_WORD.match(word)
            and bool(_NAME_WORD.fullmatch(word))
            and len(word) >= 2)


def _name_span(text: str, words: List[Tuple[int, int, str]], subject: bool = False) -> Optional[Span]:
    if len(words) == 1 and words[0][2][0].islower() and not subject:
        return None  # one lower-case word is too weak a name ("boss", "lead") unless it opens the sentence
    return Span("person", words[0][0], words[-1][1], text[words[0][0]:words[-1][1]])


_IS = re.compile(r"\s*(?:there\s+|here\s+)?(?:is|was|=|:)\s+(?:now\s+)?", re.IGNORECASE)
_IS_BEFORE = re.compile(r"\s+(?:is|was|'s|’s)\s+(?:now\s+)?(?:(?:the|our|their|a|an)\s+)?(?:(?:new|current|acting)\s+)?$",
                        re.IGNORECASE)
_APPOSITION = re.compile(r"\s*(?:,|\(|-|–|—)\s*(?:(?:the|their|our)\s+)?$")


def titles_with_people(text: str) -> List[Tuple[Span, Span]]:
    """(title, person) pairs said together: "X is (the) T", "T is X", "X, T", "X (T", "X - T", "T X"."""
    if re.search(r"[\u4e00-\u9fff]", text):
        return []
    pairs: List[Tuple[Span, Span]] = []
    for title in find_titles(text):
        before = text[max(0, title.start - 80):title.start]
        person = None
        m = _IS_BEFORE.search(before) or _APPOSITION.search(before)
        if m:
            person = _name_before(text, title.start - len(before) + m.start())
        if person is None:
            m = _IS.match(text, title.end)
            if m:
                person = _name_after(text, m.end(), capital=False)
        if re.match(r",\s*[A-Z]", text[title.end:title.end + 4]):
            m = re.match(r",\s*", text[title.end:])
            full = _name_after(text, title.end + m.end(), capital=True)  # "… is the MD, Rebecca Hale"
            if full is not None and (person is None or " " not in person.text and " " in full.text
                                     and full.text.split()[-1] == person.text):
                person = full  # "Ms. Chaudhry is the CEO, Farah Chaudhry": the full name
        if person is None and re.match(r" [A-Z]", text[title.end:title.end + 2]):
            person = _name_after(text, title.end + 1, capital=True)  # "MD Caroline Ashworth"
        if person is not None:
            pairs.append((title, person))
    return pairs


def _overlaps(entity: Dict[str, Any], span: Span) -> bool:
    """Whether an entity's characters overlap the span's."""
    return isinstance(entity.get("start"), int) and entity["start"] < span.end and span.start < entity["end"]


def with_titles(text: str, kept: List[Dict[str, Any]], extractor: str) -> List[Dict[str, Any]]:
    """English titles and the names said with them (above) that the CRF missed.

    A learned span inside such a title ("Services" of "Director of IT Services" as a competitor,
    "Deputy Vice" as a person) is dropped; each title is marked with the person it was said of.
    """
    for title, person in titles_with_people(text):
        kept = [e for e in kept if not (_overlaps(e, title) and e.get("entity") != "title")]
        named = next((e for e in kept if e.get("entity") == "person" and _overlaps(e, person)), None)
        if named is None:
            named = {"entity": "person", "value": person.text, "start": person.start, "end": person.end,
                     "confidence_entity": 0.75, "extractor": extractor}
            kept.append(named)
        kept = [e for e in kept if not (e.get("entity") == "title" and _overlaps(e, title))]
        kept.append({"entity": "title", "value": title.text, "start": title.start, "end": title.end,
                     "confidence_entity": 0.75, "extractor": extractor, "person_hint": named["value"]})
    kept.sort(key=lambda e: e.get("start") if isinstance(e.get("start"), int) else -1)
    return kept


# --------------------------------------------------------------------------- Chinese titles

#: a message names a handful of people; a text of hundreds of titles is read only this far
MAX_TITLES = 30

_ZH_SUFFIX = ("副总经理|总经理|副总裁|总裁|董事长|副董事长|总监|副主任|主任|副处长|处长|副科长|科长|副课长|课长|副部长|部长|"
              "副院长|院长|副行长|行长|副校长|校长|副厂长|厂长|副局长|局长|所长|站长|店长|总工程师|总工|工程师|主管|组长|"
              "协理|特助|教授|资讯长|信息长|财务长|执行长|营运长|技术长|秘书长|副总|经理|VP|CEO|CFO|CIO|CTO|COO")
_ZH_TITLE = re.compile(rf"(?:^|(?<=[\s,，、。；;:：的是叫和跟与及有]))"
                       rf"(?P<t>(?:(?![的是叫和跟与及有还在说对])[\u4e00-\u9fffA-Za-z]){{0,8}}?(?:{_ZH_SUFFIX}))")


def chinese_titles_with_people(text: str, people: List[Tuple[int, int, str]]) -> List[Tuple[Span, str]]:
    """(title, person name) pairs in simplified text: "总经理张建平", "資訊長 鄭文豪", "赵志刚 是 副行长", "吴国栋 董事长".

    `people`: the name spans already found (start, end, name). A title that runs into a name is cut
    where the name ends ("刘冠宇刘课长" → 课长).
    """
    pairs: List[Tuple[Span, str]] = []
    for count, m in enumerate(_ZH_TITLE.finditer(text)):
        if count == MAX_TITLES:
            break
        start, end = m.start("t"), m.end("t")
        for p_start, p_end, _name in people:
            if start <= p_start < end:
                start = max(start, p_end)
        if end - start < 2:
            continue
        title = Span("title", start, end, text[start:end])
        after = next((p for p in people if p[0] >= end and re.fullmatch(r"\s*(?:叫|是|为|：|:)?\s*", text[end:p[0]])), None)
        before = next((p for p in sorted(people, key=lambda p: -p[1]) if p[1] <= start
                       and re.fullmatch(r"\s*(?:是|为|，|,|（|\()?\s*", text[p[1]:start])), None)
        owner = after or before
        if owner is not None:
            pairs.append((title, owner[2]))
    return pairs


def with_chinese_titles(text: str, kept: List[Dict[str, Any]], extractor: str) -> List[Dict[str, Any]]:
    """Chinese titles the CRF missed, each marked with the person it was said of."""
    from bot.nlu.names import find_person_names

    if not re.search(r"[\u4e00-\u9fff]", text):
        return kept
    people = [(e["start"], e["end"], str(e["value"])) for e in kept
              if e.get("entity") == "person" and isinstance(e.get("start"), int)]
    people += [(s.start, s.end, s.text) for s in find_person_names(text)
               if not any(p[0] < s.end and s.start < p[1] for p in people)]
    for title, owner in chinese_titles_with_people(text, people):
        if any(e.get("entity") == "title" and _overlaps(e, title) for e in kept):
            continue
        if not any(e.get("entity") == "person" and e.get("value") == owner for e in kept):
            continue  # a name only the shape finder saw: the CRF's and the name rules' call, not this one's
        kept.append({"entity": "title", "value": title.text, "start": title.start, "end": title.end,
                     "confidence_entity": 0.7, "extractor": extractor, "person_hint": owner})
    kept.sort(key=lambda e: e.get("start") if isinstance(e.get("start"), int) else -1)
    return kept
