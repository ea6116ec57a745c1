"""Turns that cannot get stuck, and buttons that can be typed: two patches of Rasa's `MessageProcessor`.

**The circuit breaker counted across messages.** Rasa stops predicting after
``max_number_of_predictions`` (10) actions without listening ("Circuit breaker tripped"), and
counts them back to the last ``action_listen`` event. A breaker that tripped leaves no
``action_listen`` behind, so every later message of that conversation, ``/restart`` and "help"
included, found ten actions already counted and got no answer at all: the rep was locked out
for good. `is_action_limit_reached` here counts the actions predicted for the current message
only (back to the last listen, session start *or user message*), so a conversation stuck that
way recovers on the next message. (What made it trip — a form rejecting a message no rule
handled, then the fallback predicted again and again — is fixed where it happens:
`actions.general.ActionFallback` ends the turn.)

A conversation the breaker left that way also gets the missing ``action_listen`` before the
next message, so that message is understood as any other (not met by a fallback).

**A typed button is a click.** Reps type what they see — a button's label ("Later", "以后再说",
"以後再說") or its number ("2", "二") — instead of clicking, and in WeCom and the terminal there
is nothing to click. `_handle_message_with_tracker` reads such a message as the payload of that
button of the bot's last answer (`bot.dialogue.buttons.pick`), in every channel; the history
keeps what the rep typed.
"""
from __future__ import annotations

import copy
import logging
from typing import Any, List

logger = logging.getLogger(__name__)

CHECKED_RASA = "3.6.21"
_installed = False
_original_handle_with_tracker: Any = None


def last_answer_buttons(tracker: Any) -> List[Any]:
    """The buttons of the bot's messages since the rep's last message."""
    from rasa.shared.core.events import BotUttered, UserUttered

    buttons: List[Any] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            buttons = list((event.data or {}).get("buttons") or []) + buttons
    return buttons


def _is_action_limit_reached(self: Any, tracker: Any, should_predict_another_action: bool) -> bool:
    """`MessageProcessor.is_action_limit_reached`, counting only the current message's actions."""
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.core.events import ActionExecuted, UserUttered

    predicted = 0
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        if isinstance(event, ActionExecuted):
            if event.action_name in (ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME):
                break
            predicted += 1
    return predicted >= self.max_number_of_predictions and should_predict_another_action


async def _handle_message_with_tracker(self: Any, message: Any, tracker: Any) -> None:
    """`MessageProcessor._handle_message_with_tracker`, with a typed button label or number made a click.

    A turn that ended without listening (the circuit breaker stopped it) gets its missing
    ``action_listen`` first, so the new message is handled as any message after a turn.
    """
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.core.events import ActionExecuted

    from bot.dialogue.buttons import pick

    if not message.parse_data and isinstance(message.text, str):
        payload = pick(message.text, last_answer_buttons(tracker))
        if payload:  # read as the click, kept in the history as what the rep typed
            clicked = copy.copy(message)
            clicked.text = payload
            parse_data = await self.parse_message(clicked, tracker)
            parse_data["text"] = message.text
            message.parse_data = parse_data
    if tracker.latest_action_name not in (None, ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME):
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    await _original_handle_with_tracker(self, message, tracker)


def _check_rasa() -> None:
    import asyncio

    import rasa
    from rasa.core.processor import MessageProcessor

    problems = []
    if rasa.__version__ != CHECKED_RASA:
        problems.append(f"Rasa {rasa.__version__} (checked against {CHECKED_RASA})")
    limit = getattr(MessageProcessor, "is_action_limit_reached", None)
    if limit is None or "max_number_of_predictions" not in limit.__code__.co_names:
        problems.append("MessageProcessor.is_action_limit_reached no longer reads max_number_of_predictions")
    if not asyncio.iscoroutinefunction(getattr(MessageProcessor, "_handle_message_with_tracker", None)):
        problems.append("MessageProcessor._handle_message_with_tracker (async) is missing")
    if problems:
        raise RuntimeError("bot.rasa_patches.turns cannot patch this Rasa: " + "; ".join(problems))


def install() -> None:
    """Applies both patches (idempotent). Raises if Rasa's internals changed."""
    global _installed, _original_handle_with_tracker
    if _installed:
        return
    _check_rasa()
    from rasa.core.processor import MessageProcessor

    MessageProcessor.is_action_limit_reached = _is_action_limit_reached
    _original_handle_with_tracker = MessageProcessor._handle_message_with_tracker
    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker
    _installed = True
