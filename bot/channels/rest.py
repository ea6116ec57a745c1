"""The REST channel, hardened.

Rasa's `RestInput` takes ``input_channel`` from the request body, so a client could
claim to be "slack" and have `bot.identity` trust the workspace identity it put in
the metadata (found by the fuzz tests: any team's accounts were readable). Here the
channel is always "rest", an ``identity`` in the metadata is dropped, malformed
bodies get a 400 instead of a 500, over-long messages a polite refusal in the rep's
language, and message text is never logged.
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

from bot.channels.limits import too_long_reply

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
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - sanic raises its own InvalidUsage for bad JSON
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "expected a JSON object"}, status=400)
            sender, text = body.get("sender"), body.get("message")
            if not isinstance(sender, str) or not sender.strip() or not isinstance(text, str):
                return response.json({"error": "'sender' and 'message' must be strings"}, status=400)
            if len(sender) > 200:
                return response.json({"error": "'sender' is longer than 200 characters"}, status=400)
            refusal = too_long_reply(text)
            if refusal:
                return response.json([{"recipient_id": sender, "text": refusal}])
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
