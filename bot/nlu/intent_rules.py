"""Rules that change the intent the classifier chose, from the shape of the message.

A bare value is an answer ("Maria Lopez", "下半年"); a message that opens with a clear yes is a yes
("yes all good. put Pete down as a supporter"); a correction or an undo needs a word that says so.
Applied by `SalesEntityExtractor` (bot/nlu/components.py).
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

_FILLER_WORDS = {"it", "is", "its", "it's", "that's", "thats", "the", "a", "an", "just", "maybe", "about", "around",
                 "roughly", "approximately", "approx", "ok", "okay", "probably", "i", "think", "guess", "um", "uh"}
_FILLER_ZH = re.compile(r"大概|大约|差不多|应该是|可能是|就是|是|嗯|吧|呢|啊|约")


def is_bare_answer(text: str, entities: List[Dict[str, Any]]) -> bool:
    """A short message that is nothing but one entity value ("Maria Lopez", "下半年", "200万")."""
    spans = {(e.get("start"), e.get("end")) for e in entities}
    if len(spans) != 1 or len(text) > 40:
        return False
    covered = [False] * len(text)
    for e in entities:
        if isinstance(e.get("start"), int) and isinstance(e.get("end"), int):
            for i in range(max(0, e["start"]), min(len(text), e["end"])):
                covered[i] = True
    rest = "".join(ch if not c else " " for ch, c in zip(text, covered, strict=False))
    rest = _FILLER_ZH.sub(" ", rest)
    words = re.findall(r"[A-Za-z']+|[^\sA-Za-z\W_]", rest)
    return all(w.lower() in _FILLER_WORDS for w in words)


_YES_LEAD = re.compile(
    r"^\s*(?:yes|yep|yeah|yup|yes please|correct|that's (?:right|correct)|thats (?:right|correct)|that is (?:right|correct)|"
    r"all good|looks good|all correct|spot on|exactly|对的|对|是的|没错|没问题|都对|全对)(?=$|[\s,.!;:，。！；：、—-])",
    re.IGNORECASE)
#: facts about the deal after a "yes" are a statement of their own ("对，他们预算200万"), not a confirmation
_PERSON_ENTITIES = {"person", "title", "attitude", "buying_role", "influence", "relationship_stage"}
_DEAL_ENTITIES = {"amount", "competitor", "timeline", "purchase_stage", "need", "account"}


def leads_with_yes(text: str, entities: List[Dict[str, Any]]) -> bool:
    """A message that opens with a clear yes ("yes all good. put Pete down as a supporter", "对 删掉").

    A question ("yes, but what about SAP?") or a yes before facts about the deal is not one.
    """
    m = _YES_LEAD.match(text)
    if not m or "?" in text or "？" in text or any(e.get("entity") in _DEAL_ENTITIES for e in entities):
        return False
    # what follows is short ("对 删掉", "yes all good") or about a person ("put Pete down as a supporter"); a
    # longer line is a sentence of its own (in a practice, "Yes, we have done this for three banks")
    rest = text[m.end():]
    if re.match(r"\W*(?:but|though|except|不过|不過|但是|但|除了)", rest, re.IGNORECASE):
        return False  # "对，不过陈静那条别存": a yes with a change, handled as such
    return len(re.findall(r"[A-Za-z']+|[\u4e00-\u9fff]", rest)) <= 4 or any(
        e.get("entity") in _PERSON_ENTITIES for e in entities)


#: a meeting that took place: "met", "call with", "拜访", "开完会", "吃饭", "通了电话", "went to …"
_MEETING_CUE = re.compile(
    r"\b(?:met|meet(?:ing)?s?|visit(?:ed|ing)?|call(?:ed)? with|had (?:a |an )?(?:call|chat|meeting|lunch|dinner|coffee|breakfast|"
    r"session|workshop|demo|presentation|review)|(?:lunch|dinner|coffee|breakfast|drinks) with|sat down|catch-?up|caught up|"
    r"spoke (?:with|to)|talked (?:with|to)|call (?:today|yesterday|this)|session|workshop|demo(?:ed)?|presented|"
    r"presentation|site visit|on-?site|went (?:to|over)|dropped by|stopped by|zoom|teams|video call|con ?call|"
    r"log (?:a|the|my|this) (?:meeting|call|visit)|debrief|notes? from|off the phone|hung up|phoned|"
    r"review with|spent the (?:morning|afternoon|day|evening) (?:at|with)|saw \w+(?: \w+)? at|got back from|site tour|"
    r"walked the|(?:i|we) (?:was|were) at)\b|"
    r"拜访|拜会|开.{0,4}会|开完|开了|周会|评审会|会议|(?<!展)会上|的会|见了|见.{0,2}面|聊过(?!的)|碰.{0,2}面|碰了|碰头|视频|参观|电话|通话|"
    r"约了|吃.{0,2}饭|午饭|晚饭|午餐|晚餐|早餐|下午茶|喝酒|喝茶|饮茶|聊了|聊完|谈了|谈完|交流|现场|回来|走了|带我|call|"
    r"研讨|来我们公司|遇到|看了|演示|汇报|登门|上门|走访|约见|面谈|沟通了|沟通：|记录一下|记一下|记一笔|纪要|visit了|"
    r"咖啡|\blunch w/|workshop|去了|碰到|加了.{0,8}微信|(?:今天|昨天|刚才?|上午|下午)在?展会上|"
    r"(?:昨天|今天|上午|下午|早上|今早|刚|刚刚|前天|上周.?)去|到\S{2,8}(?:走|看|开|现场)",
    re.IGNORECASE)
#: none took place: "haven't met her", "还没见过"
_NOT_MET = re.compile(r"\b(?:haven't|have not|havent|never|not yet|didn't|did not|didnt)\s+(?:met|meet|seen|visited)\b|"
                      r"没见过|还没见|没有见过|还没拜访|没拜访过", re.IGNORECASE)


class _MeetingCue:
    """Like a compiled pattern: `search` finds a meeting that took place, unless the text says none did."""

    @staticmethod
    def search(text: str) -> Optional[re.Match]:
        return None if _NOT_MET.search(text) else _MEETING_CUE.search(text)


_DELETE_CUE = re.compile(r"\b(?:delete|deleting|remove|removing|erase|wipe|purge|drop|get rid of|"
                         r"take (?:\w+ )?(?:off|out)|forget|forgotten|scrap|scrub|trash|clear)\b|"
                         r"删|移除|去掉|拿掉|清除|清掉|抹掉|抹去|不要了|去除|剔除|作废|註銷|注销|干掉|清空|清干净|不要留",
                         re.IGNORECASE)


_PLAIN_YES = re.compile(
    r"^\W*(?:yes|yep|yeah|yup|y|ok|okay|sure|correct|confirm(?:ed)?|do it|go ahead|please do|对|對|是|是的|好|好的|嗯|可以|确认|確認|"
    r"没错|沒錯|删吧|刪吧)(?:[\s,.!，。！]*(?:please|pls|delete (?:it|him|her|them)|delete|remove (?:it|him|her|them)|"
    r"删|刪|删掉|刪掉|删了|刪了|删除|刪除|吧|了|确认|確認|删吧|刪吧))*\W*$", re.IGNORECASE)


def plain_yes(text: str) -> bool:
    """A yes and nothing else but the deletion it confirms ("yes", "对 删掉", "好，刪吧"): what a deletion needs."""
    return bool(_PLAIN_YES.match(text or ""))


#: intents that need a word that says so: a plain "Lisa Ray is the CIO at Contoso" is a fact, not a
#: correction, however much it looks like "no, actually Maria is the CFO" to the classifier
CUED_INTENTS = {
    "correct_fact": re.compile(
        r"\bno\b|\bnot\b|n't|actually|correct|sorry|\bmeant\b|mistake|wrong|oops|typo|scratch that|\bfix|mixed|"
        r"\bupdate\b|instead|不对|更正|纠正|其实|说错|搞错|打错|写错|改一下|修改|修正|说反|弄错|搞混|错了|不是|应该是|讲错|讲反",
        re.IGNORECASE),
    "undo_last": re.compile(r"undo|revert|take (?:that|it) back|roll (?:that|it) back|reverse|go back|remove what|"
                            r"delete what|forget|scrap|back out|cancel the last|unsave|撤|回退|恢复|复原|不算|不要了|删掉|删了",
                            re.IGNORECASE),
    # "their GM is Patricia Huang, havent met her" and "Kevin confirmed it on the phone" report no meeting
    "log_meeting": _MeetingCue(),
    # "yes mostly, emily told us all about the crashes" asks nothing to be deleted
    "delete_data": _DELETE_CUE,
}
NEXT = "<next>"  # take the classifier's runner-up
#: what makes a message a statement about someone (with a name or a leading he/she)
STATED_PERSON_FACTS = frozenset({"title", "buying_role", "attitude", "influence"})
#: a buyer's words reported by the rep ("王总说要请示老板") stay an objection
_REPORTED = re.compile(r"\b(?:said|says|told|asked|mentioned)\b|说|讲|话|表示|提到|问(?!题)", re.IGNORECASE)
#: a request for advice asks something: "how do I…", "怎么办", "?"
_ASKS = re.compile(r"[?？]|\b(?:how|what|should|can|could|help|advice|tips?|ideas?)\b|怎么|怎样|如何|该|吗|呢|建议|帮我|要不要",
                   re.IGNORECASE)
#: anything that could be given to sway a buyer: such a message always gets the compliance answer
_GIFT = re.compile(r"gift|present|give|offer|pay|send|treat|reward|money|cash|kick|commission|bribe|red packet|hongbao|"
                   r"礼|禮|红包|紅包|回扣|好处|好處|送|给|請|请|钱|錢|费|費|招待|分成|安排|买|買", re.IGNORECASE)
_PRONOUN_FIRST = re.compile(r"^\s*(?:he|she|他|她)(?:'s|\b|(?=[\u4e00-\u9fff]))(?![们們])", re.IGNORECASE)


def revised_intent(intent: Optional[str], text: str, entities: List[Dict[str, Any]]) -> Optional[str]:
    """The intent the shape of the message calls for instead of `intent`: a name, `NEXT`, or None to keep it."""
    from bot.notes import looks_like_a_meeting_note

    kinds = {e.get("entity") for e in entities}
    states_person = bool(kinds & STATED_PERSON_FACTS) and ("person" in kinds or bool(_PRONOUN_FIRST.match(text)))
    if looks_like_a_meeting_note(text):  # a long note about a meeting, whatever else it mentions
        return "log_meeting" if intent != "log_meeting" else None
    if is_bare_answer(text, entities):
        return "inform"
    if intent not in ("affirm", "deny") and leads_with_yes(text, entities):
        return "affirm"  # "yes all good. put Pete down as a supporter"
    if intent in CUED_INTENTS and not CUED_INTENTS[intent].search(text):
        return "record_stakeholder" if states_person else NEXT  # "their GM is Patricia Huang, havent met her"
    if (intent or "").startswith("objection_") and states_person and not _REPORTED.search(text):
        return "record_stakeholder"  # "老板叫吴国栋 董事长 最后他拍板" tells who decides; nobody objected
    if intent == "ask_gift_advice" and states_person and not _ASKS.search(text) and not _GIFT.search(text):
        return "record_stakeholder"  # "他不支持我们": an attitude, nothing offered to anyone
    if intent == "ask_relationship_advice" and (states_person or "relationship_stage" in kinds and (
            "person" in kinds or _PRONOUN_FIRST.match(text))) and not _ASKS.search(text):
        return "record_stakeholder"  # "他对我们挺支持 关系到约会阶段了" tells, asks nothing
    return None
