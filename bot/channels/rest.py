"""The REST channel, hardened.

Rasa's `RestInput` takes ``input_channel`` from the request body, so a client could
claim to be "slack" and have `bot.identity` trust the workspace identity it put in
the metadata (found by the fuzz tests: any team's accounts were readable). Here the
channel is always "rest", an ``identity`` in the metadata is dropped, malformed
bodies get a 400 instead of a 500, over-long messages a polite refusal in the rep's
language, and message text is never logged.

On REST the sender id *is* the rep's identity (each sender is their own team, or
``DEFAULT_TEAM``), so who may call the webhook is decided by `bot.http_guard` (this machine
only and never a web page of another origin, unless ``REST_CHANNEL_TOKEN`` is set: then a
Bearer token from anywhere). A sender id may not begin with another channel's conversation
prefix (``slack:``, ``wecom:``, ``web:``, ``web-anon:``; `bot.identity.sender_reserved`), and
text that is not valid Unicode is refused: a 400 for the sender id or metadata, the polite
``message_unreadable`` reply for the message.
"""
from __future__ import annotations

import logging
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import http_guard
from bot.channels.limits import MAX_METADATA_BYTES, clean, invalid_unicode, metadata_refused, refusal, too_deep
from bot.identity import sender_reserved

logger = logging.getLogger(__name__)


class RestChannel(RestInput):
    """`POST /webhooks/rest/webhook` with ``{"sender": str, "message": str, "metadata": {...}}``."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        hook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = http_guard.refuse(request, http_guard.REST_DOOR)
            if refused is not None:
                return refused
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own InvalidUsage for bad JSON (RecursionError too)
                body = None
            if not isinstance(body, dict) or too_deep(body):
                return response.json({"error": "expected a JSON object"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or not isinstance(text, str):
                return response.json({"error": "'sender' and 'message' must be strings"}, status=400)
            if invalid_unicode(sender) or invalid_unicode(body.get("metadata")):
                return response.json({"error": "'sender' and 'metadata' must be valid Unicode text"}, status=400)
            if metadata_refused(body.get("metadata")):
                return response.json({"error": f"'metadata' must be at most {MAX_METADATA_BYTES} bytes of JSON, "
                                               "nested at most 16 deep"}, status=400)
            if len(sender) > 200:
                return response.json({"error": "'sender' is longer than 200 characters"}, status=400)
            if sender_reserved(sender):
                return response.json({"error": "this sender id names another channel's conversation "
                                               "(slack:, wecom:, web:, web-anon:); choose another"}, status=400)
            text = clean(text)  # NUL characters: PostgreSQL cannot store them
            instead = refusal(text)
            if instead:
                return response.json([{"recipient_id": sender, "text": instead}])
            metadata: Dict[str, Any] = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
            metadata = {k: v for k, v in metadata.items() if k != "identity"}  # only trusted channels set it
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(),
                                                 metadata=metadata))
            except CancelledError:
                logger.error("REST message timed out")
            except Exception as exc:  # noqa: BLE001 - the client gets what was collected, never a trace
                logger.error("REST message failed: %s", type(exc).__name__)
            return response.json(collector.messages)

        return hook
