"""What a meeting note says the customer needs, read clause by clause.

The NLU tags a need when a message is *about* a need ("their need is …"); a meeting note tells
needs in passing: "Paula wants to cut changeover time on line 3", "良率一直卡在92%上不去，希望明年Q2前
导入新的MES", "Fiona's main worry is downtime during cutover". A clause that carries a need cue (a
wish, a worry, a pain) becomes a candidate need; the bot shows them with the other facts it read
and stores them only after the rep's yes (actions/meetings.py).

`looks_like_a_meeting_note` tells the NLU (bot/nlu/components.py) that a long message reporting a
meeting — a meeting word, a past day, someone saying something — is a note to log, whatever
objection or buyer-style sentence it quotes.
"""
from __future__ import annotations

import re
from typing import List

MAX_NEEDS = 4
#: cue → what follows it is the need ("wants to cut changeover time" → "cut changeover time")
_EN_WISH = re.compile(r"\b(?:wants? to|want(?:s|ed)?|needs? to|needs?|looking to|would like to|hopes? to|plans? to|"
                      r"aims? to|asked for|asking for|keen to|goal is to|priority is(?: to)?)\s+(?P<need>.+)",
                      re.IGNORECASE)
#: cue → the whole clause is the need ("sick of running 3 systems", "worry is downtime during cutover")
_EN_PAIN = re.compile(r"\b(?:worr(?:y|ies|ied)|concern(?:s|ed)?|struggl\w*|pain|problem|issue|frustrat\w*|sick of|"
                      r"drowning in|complain\w*|too slow|too long|too high|too much|keeps? failing|falls? over|"
                      r"doesn't (?:work|talk|support)|don't (?:talk|support)|can't|cannot)\b", re.IGNORECASE)
_ZH_WISH = re.compile(r"(?:希望|想要|想做|想上|想把|想在|想|需要|要求|打算|计划|準備|准备|要做|要上|要把)(?P<need>.{3,})")
_ZH_PAIN = re.compile(r"担心|擔心|抱怨|头疼|頭疼|痛点|痛點|问题|問題|太慢|太长|太長|太高|太多|对不上|對不上|不支持|很乱|很亂|"
                      r"压力很大|壓力很大|卡在|吃紧|吃緊|宕机|宕機|出错|出錯|不够用|不夠用|跟不上|靠人工|全靠")
_NOT_A_NEED = re.compile(r"budget|预算|預算|competitor|对手|對手|报价|報價|price|价格|價格|discount|打折|demo|meeting|"
                         r"拜访|拜訪|开会|開會|吃饭|吃飯|约|約|practice|练习|練習", re.IGNORECASE)
#: a go-live date is a timeline, not a need: "明年一季度上线", "希望年底前上线", "live by Q3"
_GO_LIVE = re.compile(r"(?:上线|上線|实施|實施|导入|導入|go[ -]?live|live by|rolled out by)", re.IGNORECASE)
_WHEN = re.compile(r"明年|今年|年底|年中|季度|月|Q[1-4]|\d{4}|next year|this year|by (?:the )?end", re.IGNORECASE)
_CLAUSES = re.compile(r"[.;!?。；！？\n]+|,\s+(?:but|and|so|while)\s+|[，,](?=\s*[\u4e00-\u9fff])|"
                      r"(?<=[\u4e00-\u9fff%％\d])\s+(?=[\u4e00-\u9fff])")


def states_a_need(text: str) -> bool:
    """Whether a message says anything is needed, wished for or hurting.

    "Add account Brightwater Regional Bank, banking, mid-size regional bank ~40 branches" describes
    the company; nothing in it is a need.
    """
    return bool(re.search(r"\bneeds?\b|需求|痛点|痛點", text or "", re.IGNORECASE) or _EN_WISH.search(text or "")
                or _EN_PAIN.search(text or "") or _ZH_WISH.search(text or "") or _ZH_PAIN.search(text or ""))


def _trim(text: str) -> str:
    return text.strip(" ,，、:：-—\"'“”「」").strip()


def need_clauses(note: str) -> List[str]:
    """The needs a meeting note states, in the rep's words, at most `MAX_NEEDS`."""
    found: List[str] = []
    for clause in _CLAUSES.split(note or ""):
        clause = _trim(clause)
        if len(clause) < 4 or _NOT_A_NEED.search(clause):
            continue
        chinese = bool(re.search(r"[\u4e00-\u9fff]", clause))
        wish = (_ZH_WISH if chinese else _EN_WISH).search(clause)
        if wish and len(_trim(wish.group("need"))) >= (3 if chinese else 8):
            need = _trim(wish.group("need"))
        elif (_ZH_PAIN if chinese else _EN_PAIN).search(clause):
            need = re.sub(r"^.{0,12}?(?:说|說|表示|提到|透露|said|says|told me|mentioned)(?:\s*that)?\s*", "", clause)
        else:
            continue
        need = _trim(need)[:200]
        if re.match(r"(?i)(?:this|that|it|them|these|those|something|more|one)\b", need) and len(need.split()) <= 3:
            continue  # "she wants this fixed": the need is in the sentence before
        if _GO_LIVE.search(need) and _WHEN.search(need) and len(re.sub(r"[\s\W]", "", _WHEN.sub("", _GO_LIVE.sub(
                "", need)))) <= 3:
            continue
        if len(need) >= 3 and need not in found:
            found.append(need)
        if len(found) >= MAX_NEEDS:
            break
    return found


_MET = re.compile(r"\b(?:met|meeting|visited|visit|session|call with|sat down|had (?:a )?(?:call|meeting|lunch|dinner|"
                  r"coffee)|catch-?up|lunch with|dinner with)\b|拜访|拜訪|开会|開會|见了|見了|开了个会|開了個會|碰了面|吃饭|"
                  r"吃飯|吃了个饭|吃了個飯|通电话|通電話|visit了|见面|見面", re.IGNORECASE)
_PAST = re.compile(r"\b(?:yesterday|today|this morning|this afternoon|last (?:week|monday|tuesday|wednesday|thursday|"
                   r"friday)|on (?:monday|tuesday|wednesday|thursday|friday)|\d+ days ago|earlier)\b|昨天|前天|今天|上周|"
                   r"上週|上礼拜|上禮拜|刚才|剛才|剛剛|刚刚|今早|早上|下午", re.IGNORECASE)
_TOLD = re.compile(r"\b(?:said|says|told|mentioned|asked|wants|complained|explained|shared)\b|说|說|提到|表示|透露|抱怨|问|問",
                   re.IGNORECASE)


def looks_like_a_meeting_note(text: str) -> bool:
    """A report of a meeting: long, with a meeting word, a past day and someone saying something."""
    long_enough = len(text) >= (15 if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 10 else 40)
    return long_enough and bool(_MET.search(text) and _PAST.search(text) and _TOLD.search(text))


def names_a_place(text: str, name: str) -> bool:
    """Whether a meeting note names `name` as where the meeting was ("met Jane at Orion Labs", "在华东精密开会").

    Such a company may be new to the team: the bot asks rather than log the note at another account.
    A name with no such cue ("Met Dave Wilson today") is a tagger's guess and never a new account.
    """
    if not name or not text:
        return False
    return re.search(rf"(?:\b(?:at|visited|visiting|visit|went to|in the office of)\s+|在|去|到|拜访|拜訪)\s*{re.escape(name)}",
                     text, re.IGNORECASE) is not None
