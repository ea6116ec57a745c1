"""Role-play practice: thin actions around bot.roleplay (engine, persona, scorer)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.types import DomainDict

from actions.base import Reply, SalesAction, caller, store
from actions.context import entities_of, first, payload
from actions.slots import SLOT_CURRENT_ACCOUNT, SLOT_RESUME_OFFER
from bot import charts
from bot.coach.answers import normalise
from bot.roleplay import engine
from bot.roleplay.card import history_lines, render_card, render_hint
from bot.roleplay.engine import Practice, load_scenario, move_of, say, scenario_ids
from bot.roleplay.persona import build_persona
from bot.roleplay.scoring import rubric, score

SLOT_ACTIVE = "roleplay_active"
SLOT_STATE = "roleplay"


def _practice(tracker: Tracker) -> Optional[Practice]:
    state = tracker.get_slot(SLOT_STATE)
    if not tracker.get_slot(SLOT_ACTIVE) or not isinstance(state, dict):
        return None
    return Practice.from_dict(state)


def _stop() -> List[EventType]:
    return [SlotSet(SLOT_ACTIVE, False), SlotSet(SLOT_STATE, None)]


def pick_scenario(text: str) -> Optional[str]:
    """A scenario chosen by number ("2") or by a word of its title."""
    ids = scenario_ids()
    norm = normalise(text).strip("。.!！ ")
    if norm.isdigit() and 1 <= int(norm) <= len(ids):
        return ids[int(norm) - 1]
    for sid in ids:
        title = load_scenario(sid)["title"]
        if sid in norm or any(w and w in norm for w in (normalise(title["en"]), normalise(title["zh"]))):
            return sid
    return None


class ActionStartRoleplay(SalesAction):
    """Starts a practice: a scenario, or a buyer built from one of the rep's stakeholders."""

    keeps_offers = True

    def name(self) -> str:
        return "action_start_roleplay"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        ents = entities_of(tracker.latest_message)
        scenario: Optional[Dict[str, Any]] = None
        sid = first(ents, "scenario")
        person_name = first(ents, "person")
        if sid in scenario_ids():
            scenario = load_scenario(sid)
        elif person_name:
            who = caller(tracker)
            with store().team(who.team_key, who.user_key) as scope:
                people = scope.find_stakeholders(person_name)
                if people:
                    person = max(people, key=lambda p: p.updated_at)
                    scenario = build_persona(scope, person)
            if scenario is None:
                reply.say("roleplay_person_unknown", person=person_name)
                self.offer(reply)
                return [SlotSet("pending_offer", "scenario")]
        elif tracker.get_slot("pending_offer") == "scenario":
            sid = pick_scenario(tracker.latest_message.get("text") or "")
            scenario = load_scenario(sid) if sid else None
        if scenario is None:
            self.offer(reply)
            return [SlotSet("pending_offer", "scenario")]
        return self.begin(reply, scenario)

    @staticmethod
    def offer(reply: Reply) -> None:
        ids = scenario_ids()
        lines = [reply.text("roleplay_offer")]
        buttons = []
        for n, sid in enumerate(ids, 1):
            sc = load_scenario(sid)
            title = say(sc["title"], reply.lang)
            lines.append(reply.text("roleplay_offer_line", n=n, title=title, difficulty=sc.get("difficulty", 2)))
            buttons.append({"title": title, "payload": payload("start_roleplay", scenario=sid)})
        reply.send("\n".join(lines), buttons=buttons)

    @staticmethod
    def begin(reply: Reply, scenario: Dict[str, Any]) -> List[EventType]:
        practice = engine.start(scenario, reply.lang)
        persona = scenario["persona"]
        name = say(persona["name"], reply.lang)
        parts = [reply.text("roleplay_started", title=say(scenario["title"], reply.lang)),
                 say(scenario["setting"], reply.lang),
                 reply.text("roleplay_buyer_intro", name=name, title=say(persona["title"], reply.lang),
                            personality=say(persona["personality"], reply.lang)),
                 say(rubric()["overview"], reply.lang),
                 reply.text("roleplay_in_character_hint"),
                 reply.text("roleplay_buyer_says", name=name, text=practice.opening())]
        reply.send("\n\n".join(p for p in parts if p))
        # a practice takes over the conversation: a form left open before it is closed, so it can
        # never pop up between buyer lines
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet(SLOT_RESUME_OFFER, None),
                SlotSet(SLOT_ACTIVE, True), SlotSet(SLOT_STATE, practice.to_dict()), SlotSet("pending_offer", None)]


class ActionRoleplayTurn(SalesAction):
    """One rep move: the buyer answers in character."""

    def name(self) -> str:
        return "action_roleplay_turn"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        practice = _practice(tracker)
        if practice is None:
            reply.say("roleplay_outside")
            return []
        text = tracker.latest_message.get("text") or ""
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        turn = practice.respond(move_of(intent), text)
        name = say(practice.scenario["persona"]["name"], practice.lang)
        reply.send(reply.text("roleplay_buyer_says", name=name, text=turn.reply))
        return [SlotSet(SLOT_STATE, practice.to_dict())]


class ActionRoleplayHint(SalesAction):
    """A hint out of character; the practice goes on."""

    def name(self) -> str:
        return "action_roleplay_hint"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        practice = _practice(tracker)
        if practice is None and tracker.get_slot(SLOT_CURRENT_ACCOUNT):
            # "what should I ask Fiona next time?", "what now?" with no practice running: the account's
            # next step and the question to ask there, not a reminder that no practice runs
            from actions.coaching import ActionNextStep

            return await ActionNextStep().act(reply, tracker, domain)
        if practice is None:
            reply.say("roleplay_not_running")
            return []
        practice.lang = reply.lang
        reply.send(render_hint(practice, reply.lang))
        return []


class ActionEndRoleplay(SalesAction):
    """Ends the practice: score card, saved to the rep's history, next drill."""

    def name(self) -> str:
        return "action_end_roleplay"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        practice = _practice(tracker)
        if practice is None:
            reply.say("roleplay_not_running")
            return _stop()
        if not practice.turns:
            reply.say("roleplay_ended_empty")
            return _stop()
        card = score(practice)
        reply.send(render_card(practice, card, reply.lang))
        reply.picture(charts.score_card_png, card, reply.lang, say(practice.scenario["title"], reply.lang),
                      account_id=practice.scenario.get("account_id"))
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            scope.record_practice(str(practice.scenario.get("id")), say(practice.scenario["title"], reply.lang),
                                  card.total, card.skill_percent(),
                                  [{"move": t.move, "text": t.text, "reply": t.reply} for t in practice.turns])
        reply.say("roleplay_saved")
        return _stop()

    def on_failure(self, tracker: Tracker) -> List[EventType]:
        return _stop()


class ActionPracticeHistory(SalesAction):
    """The rep's per-skill trend over their practices."""

    def name(self) -> str:
        return "action_practice_history"

    async def act(self, reply: Reply, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        who = caller(tracker)
        with store().team(who.team_key, who.user_key) as scope:
            rows = [{"score": p.score, "skills": p.skills, "title": p.title} for p in scope.practice_history()]
        if not rows:
            reply.say("history_none")
            return []
        lines = [reply.text("history_header", count=len(rows), latest=rows[-1]["score"]),
                 reply.text("history_scores", scores=" → ".join(str(r["score"]) for r in rows[-8:]))]
        reply.send("\n".join(lines + history_lines(rows, reply.lang)))
        reply.picture(charts.practice_history_png, rows, reply.lang)
        return []
