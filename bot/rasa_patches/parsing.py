"""The NLU runs beside Rasa's event loop, not on it: a patch of `MessageProcessor.parse_message`.

Rasa runs the NLU graph (tokenizer, featurizers, classifier, CRF) synchronously inside its
one event loop. A long message (5,000 Chinese characters take about 1.2 s here) therefore
froze every other conversation of that Rasa process for as long — another rep's one-line
turn waited seconds. Here the graph runs on one worker thread: other turns go on while a long
message is read. One thread, because the CRF tagger and the spaCy pipeline are shared objects
that are not documented as safe to use from several threads at once; messages are read one
at a time, as before, just not on the event loop.
"""
from __future__ import annotations

import asyncio
import copy
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Dict, Optional

CHECKED_RASA = "3.6.21"
_installed = False
_reader: Optional[ThreadPoolExecutor] = None


def _executor() -> ThreadPoolExecutor:
    global _reader
    if _reader is None:
        _reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="nlu")
    return _reader


async def _parse_message(self: Any, message: Any, tracker: Any = None,
                         only_output_properties: bool = True) -> Dict[str, Any]:
    """`MessageProcessor.parse_message` with the graph run on the NLU thread (same result)."""
    from rasa.core.processor import structlogger
    from rasa.shared.core.trackers import DialogueStateTracker

    if _unreadable_payload(message.text or ""):
        return _not_understood(message.text)
    if self.http_interpreter:
        parse_data = await self.http_interpreter.parse(message)
    else:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        loop = asyncio.get_running_loop()
        parse_data = await loop.run_in_executor(_executor(), self._parse_message_with_graph, message, tracker,
                                                only_output_properties)
    self._update_full_retrieval_intent(parse_data)
    structlogger.debug("processor.message.parse", parse_data_text=copy.deepcopy(parse_data["text"]),
                       parse_data_intent=parse_data["intent"], parse_data_entities=copy.deepcopy(parse_data["entities"]))
    self._check_for_unseen_features(parse_data)
    return parse_data


def _unreadable_payload(text: str) -> bool:
    """A typed `/intent{…}` whose JSON nests deeper than the channels allow or spells a lone surrogate.

    Rasa's payload reader recurses into the JSON (about 490 levels overflow Python's stack) and
    hands escaped surrogates on as entity values no database or channel can encode; such a
    message is read as not understood instead.
    """
    import json

    from bot.channels.limits import invalid_unicode, too_deep

    brace = text.find("{") if text.startswith("/") else -1
    if brace < 0:
        return False
    try:
        value = json.loads(text[brace:])
    except (ValueError, RecursionError):
        return False  # not JSON: Rasa reads the intent alone
    return too_deep(value) or invalid_unicode(value)


def _not_understood(text: Optional[str]) -> Dict[str, Any]:
    from rasa.shared.nlu.constants import INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY

    intent = {INTENT_NAME_KEY: "nlu_fallback", PREDICTED_CONFIDENCE_KEY: 1.0}
    return {"text": text or "", "intent": intent, "intent_ranking": [intent], "entities": []}


def _check_rasa() -> None:
    import inspect

    import rasa
    from rasa.core import processor

    problems = []
    if rasa.__version__ != CHECKED_RASA:
        problems.append(f"Rasa {rasa.__version__} (checked against {CHECKED_RASA})")
    cls = processor.MessageProcessor
    for name in ("_parse_message_with_graph", "_update_full_retrieval_intent", "_check_for_unseen_features"):
        if not callable(getattr(cls, name, None)):
            problems.append(f"MessageProcessor.{name} is missing")
    original = getattr(cls.parse_message, "__wrapped__", cls.parse_message)
    if list(inspect.signature(original).parameters) != ["self", "message", "tracker", "only_output_properties"]:
        problems.append("MessageProcessor.parse_message has another signature")
    if not hasattr(processor, "structlogger"):
        problems.append("rasa.core.processor.structlogger is missing")
    if problems:
        raise RuntimeError("bot.rasa_patches.parsing cannot patch this Rasa: " + "; ".join(problems))


def install() -> None:
    """Applies the patch (idempotent). Raises if Rasa's internals changed."""
    global _installed
    if _installed:
        return
    _check_rasa()
    from rasa.core.processor import MessageProcessor

    _parse_message.__wrapped__ = MessageProcessor.parse_message  # type: ignore[attr-defined]
    MessageProcessor.parse_message = _parse_message
    _installed = True
