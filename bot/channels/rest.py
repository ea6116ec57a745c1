"""The REST channel, hardened.

Rasa's `RestInput` takes ``input_channel`` from the request body, so a client could
claim to be "slack" and have `bot.identity` trust the workspace identity it put in
the metadata (found by the fuzz tests: any team's accounts were readable). Here the
channel is always "rest", an ``identity`` in the metadata is dropped, malformed
bodies get a 400 instead of a 500, over-long messages a polite refusal in the rep's
language, and message text is never logged.

On REST the sender id *is* the rep's identity (each sender is their own team, or
``DEFAULT_TEAM``), so whoever can reach the webhook and guess a sender id reads that
rep's accounts. The webhook therefore only serves clients on this machine, unless
``REST_CHANNEL_TOKEN`` is set: then every request must carry
``Authorization: Bearer <token>`` (a trusted back end that authenticates its own users),
from anywhere. "On this machine" means the connection comes from a loopback address and
every ``X-Forwarded-For`` hop is loopback too (deploy/balancer.py adds the client's
address there), so a proxy in front does not make outside callers look local.
"""
from __future__ import annotations

import ipaddress
import logging
import os
from asyncio import CancelledError
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.limits import clean, too_long_reply
from bot.http_auth import token_matches

logger = logging.getLogger(__name__)


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip().split("%")[0]).is_loopback
    except ValueError:
        return False


def refuse_client(request: Request) -> Optional[HTTPResponse]:
    """None when the caller may use the REST webhook, else the 401/403 answer."""
    token = os.environ.get("REST_CHANNEL_TOKEN", "").strip()
    if token:
        if token_matches(request, token):
            return None
        return response.json({"error": "unauthorized"}, status=401)
    hops = [request.conn_info.client_ip if request.conn_info else ""]
    hops += [h for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    if all(_loopback(h) for h in hops):
        return None
    logger.warning("REST request from outside this machine refused (set REST_CHANNEL_TOKEN to allow)")
    return response.json({"error": "the REST channel serves this machine only; set REST_CHANNEL_TOKEN and send "
                                   "'Authorization: Bearer <token>' to use it from elsewhere"}, status=403)


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
            refused = refuse_client(request)
            if refused is not None:
                return refused
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
            text = clean(text)  # NUL characters: PostgreSQL cannot store them
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
