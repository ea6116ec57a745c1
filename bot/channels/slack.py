"""Slack channel: Rasa's `SlackInput`, hardened for a multi-workspace sales team.

Use it in ``credentials.yml`` as::

    bot.channels.slack.SlackChannel:
      # every key is optional; the environment fills in what is missing
      # slack_token / slack_signing_secret / slack_channel / use_threads / ...

What it adds to the built-in channel (see docs/channels-slack.md):

* **Configuration from the environment** (``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``,
  ``SLACK_API_URL``, ``SLACK_USE_THREADS``, ``REDIS_URL``). Without a token and a signing
  secret the channel still loads, but answers every webhook request with 403.
* **Every request is verified**: v0 HMAC-SHA256 of ``v0:{timestamp}:{raw body}``, compared
  in constant time; a timestamp more than 5 minutes away is a replay. That includes the
  ``url_verification`` challenge and interactivity (button) payloads.
* **No double replies**: events are deduplicated on ``event_id`` and on channel + message
  ``ts`` (Slack sends both ``message`` and ``app_mention`` for one mention) in Redis when
  ``REDIS_URL`` is set, else in the account store's database (`bot.channels.dedupe`), so a
  replay is refused after a restart too; a retry of a seen event gets 200 and is dropped.
* **Malformed bodies get 400**: a correctly signed body whose fields do not have the JSON
  types Slack sends (a non-string ``text``, a non-object ``user``, …), that nests deeper than
  64 levels or that holds text which is not valid Unicode (a lone surrogate) is refused, never
  a 500. Without a token and a signing secret, ``GET /webhooks/slack/`` answers 503.
* **One message limit**: NUL characters are removed, and a message over ``MAX_MESSAGE_CHARS``
  (`bot.channels.limits`) never reaches Rasa; the rep gets ``message_too_long`` in their language.
* **Quick acknowledgement**: the message is handed to Rasa in a background task and the
  webhook answers at once (Slack wants a 200 within 3 seconds).
* **Verified identity**: ``metadata["identity"] = {"team": team_id, "user": user_id}`` (see
  `bot.identity`), and the Rasa sender id is channel- and team-scoped, ``"slack:{team_id}:{user_id}"``.
* **Output**: text escaped for Slack, buttons as Block Kit (4 buttons + a "More…" menu when
  there are more than 5), our own charts uploaded with ``files_upload_v2``, replies in the
  message's thread when ``use_threads`` is on (or when the message was in a thread).

Nothing at INFO level or above logs message text, tokens or secrets.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Optional
from urllib.parse import parse_qs

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot import media
from bot.channels.dedupe import Dedupe, dedupe_from_env
from bot.channels.limits import clean, invalid_unicode, refusal, too_deep

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
MAX_SIGNATURE_AGE = 60 * 5  # seconds; older (or further in the future) is a replay
DEFAULT_DEDUPE_TTL = 60 * 60  # Slack retries 3 times within ~5 minutes; keep an hour
MAX_BUTTONS = 5
BUTTON_TEXT_LIMIT = 75  # Block Kit: button / option text
BUTTON_VALUE_LIMIT = 2000  # Block Kit: button value
OPTION_VALUE_LIMIT = 150  # Block Kit: select option value
SECTION_TEXT_LIMIT = 3000  # Block Kit: section text
MESSAGE_TEXT_LIMIT = 3900  # chat.postMessage: keep each message under 4,000 characters

# Message subtypes that are still a person writing; every other subtype (message_changed,
# message_deleted, bot_message, channel_join, ...) is ignored, so edits and the bot's own
# posts never loop back into Rasa.
USER_SUBTYPES = frozenset({"thread_broadcast", "file_share"})
INTERACTIVE_TYPES = frozenset({"button", "static_select", "overflow"})

Handler = Callable[[UserMessage], Awaitable[Any]]


class Malformed(ValueError):
    """A signed body whose fields do not have the JSON types Slack sends (answered with 400)."""


def _json_body(raw: Any) -> Any:
    """A signed body's JSON: `Malformed` when it nests absurdly deep or holds text that is not valid Unicode."""
    data = json.loads(raw)
    if too_deep(data):
        raise Malformed("nested too deep")
    if invalid_unicode(data):
        raise Malformed("not valid Unicode text")
    return data


def _text_field(container: dict[str, Any], key: str) -> Optional[str]:
    """A field Slack sends as a string: the string, None when absent, `Malformed` otherwise."""
    value = container.get(key)
    if value is None or isinstance(value, str):
        return value
    raise Malformed(f"{key!r} is not a string")


def _object_field(container: dict[str, Any], key: str) -> dict[str, Any]:
    """A field Slack sends as an object: the object, {} when absent, `Malformed` otherwise."""
    value = container.get(key)
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise Malformed(f"{key!r} is not an object")


def _list_field(container: dict[str, Any], key: str, item: type) -> list[Any]:
    """A field Slack sends as a list of `item`: the list, [] when absent, `Malformed` otherwise."""
    value = container.get(key)
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(v, item) for v in value):
        return value
    raise Malformed(f"{key!r} is not a list of {item.__name__}")


# --------------------------------------------------------------------------- settings

def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in {"1", "true", "yes", "on"}


def _setting(credentials: dict[str, Any], key: str, env: Optional[str] = None, default: Any = None) -> Any:
    """A credentials.yml value, else the environment variable, else the default."""
    value = credentials.get(key)
    if value is None or value == "":
        value = os.environ.get(env) if env else None
    if value is None or value == "":
        return default
    return value


# --------------------------------------------------------------------------- signatures

def compute_signature(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's v0 request signature: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}``."""
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), base, hashlib.sha256).hexdigest()


def verify_signature(secret: str, timestamp: Optional[str], body: bytes, signature: Optional[str],
                     now: Optional[float] = None, max_age: int = MAX_SIGNATURE_AGE) -> bool:
    """True when `signature` is the v0 signature of `body` at a fresh `timestamp`.

    An empty secret never verifies (anyone could compute an HMAC with an empty key).
    """
    if not secret or not timestamp or not signature or not signature.startswith("v0="):
        return False
    if not timestamp.isdigit() or len(timestamp) > 12:
        return False
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > max_age:
        return False
    expected = compute_signature(secret, timestamp, body)
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("ascii", "replace"))


# --------------------------------------------------------------------------- text and blocks

def escape(text: str) -> str:
    """Slack's three control characters as entities.

    User-supplied text echoed by the bot (an account named ``<!channel>``) can then never
    become a mention or a link.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")


def clean_user_text(text: str, bot_user_ids: list[str]) -> str:
    """What the user typed: self-mentions removed, links and channel names as plain text."""
    text = SlackInput._sanitize_user_message(text, [u for u in bot_user_ids if u])
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}", text)
    return unescape(text).strip()


def chunks(text: str, limit: int) -> list[str]:
    """`text` in pieces of at most `limit` characters, cut at paragraph or line breaks."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = max(text.rfind("\n\n", 0, limit), text.rfind("\n", 0, limit))
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts


def _clip(text: str, limit: int) -> str:
    text = str(text or "").strip() or "…"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def button_blocks(text: Optional[str], buttons: list[dict[str, Any]],
                  more_label: str = "More…") -> tuple[list[dict[str, Any]], str]:
    """Block Kit for a message with buttons, and its notification (fallback) text.

    Up to 5 buttons are shown as buttons. With more, the first 4 are buttons and the rest
    go into a "More…" select menu (one actions block never holds more than 5 elements).
    Options whose payload is too long for a menu (150 chars) or with no payload are listed
    as text instead.
    """
    text = (text or "").strip()
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": escape(part), "verbatim": True}}
        for part in chunks(text, SECTION_TEXT_LIMIT)
    ]
    usable = [b for b in buttons if b.get("payload") and len(str(b["payload"])) <= BUTTON_VALUE_LIMIT]
    leftovers = [b for b in buttons if b not in usable]
    if len(usable) <= MAX_BUTTONS:
        as_buttons, in_menu = usable, []
    else:
        as_buttons, rest = usable[: MAX_BUTTONS - 1], usable[MAX_BUTTONS - 1:]
        in_menu = [b for b in rest if len(str(b["payload"])) <= OPTION_VALUE_LIMIT][:100]
        leftovers += [b for b in rest if b not in in_menu]
    elements: list[dict[str, Any]] = [
        {"type": "button", "action_id": f"rasa_button_{i}",
         "text": {"type": "plain_text", "text": _clip(b.get("title"), BUTTON_TEXT_LIMIT), "emoji": True},
         "value": str(b["payload"])}
        for i, b in enumerate(as_buttons)
    ]
    if in_menu:
        elements.append({
            "type": "static_select", "action_id": "rasa_more",
            "placeholder": {"type": "plain_text", "text": more_label, "emoji": True},
            "options": [{"text": {"type": "plain_text", "text": _clip(b.get("title"), BUTTON_TEXT_LIMIT),
                                  "emoji": True},
                         "value": str(b["payload"])} for b in in_menu],
        })
    if elements:
        blocks.append({"type": "actions", "block_id": "rasa_buttons", "elements": elements})
    if leftovers:
        listed = "\n".join(f"• {escape(str(b.get('title') or b.get('payload') or ''))}" for b in leftovers)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(listed, 3000)}]})
    fallback = escape(_clip(text or " ".join(str(b.get("title", "")) for b in buttons), MESSAGE_TEXT_LIMIT))
    return blocks, fallback


SENDER_PREFIX = "slack:"


def sender_for(team: str, user: str) -> str:
    """The conversation id of a Slack user: ``slack:<team>:<user>`` (a namespace no REST sender may use)."""
    return f"{SENDER_PREFIX}{team}:{user}"


def user_from_sender(sender_id: str) -> str:
    """The Slack user id inside a conversation id (``slack:T1:U1`` or ``slack:T1:U1_C1_ts``)."""
    return sender_id.rsplit(":", 1)[-1].split("_", 1)[0]


# --------------------------------------------------------------------------- output

class SlackOutput(SlackBot):
    """Sends Rasa's replies to one Slack conversation (and thread)."""

    def __init__(self, token: str, slack_channel: Optional[str] = None, thread_id: Optional[str] = None,
                 proxy: Optional[str] = None, api_url: str = DEFAULT_API_URL) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        self.client = AsyncWebClient(token, base_url=api_url, proxy=proxy, timeout=20,
                                     retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)])

    def _recipient(self, recipient_id: str) -> str:
        # Without a conversation (e.g. Rasa's HTTP API with ?output_channel=slack) post to the
        # user: chat.postMessage with a user id lands in the app's DM with them.
        return self.slack_channel or user_from_sender(recipient_id)

    async def _post_message(self, channel: str, **kwargs: Any) -> None:
        if self.thread_id:
            kwargs["thread_ts"] = self.thread_id
        try:
            await self.client.chat_postMessage(channel=channel, **kwargs)
        except SlackApiError as exc:
            logger.error("Slack chat.postMessage failed: %s", exc.response.get("error"))
        except Exception as exc:  # noqa: BLE001 - Slack unreachable: the turn is still saved
            logger.error("Slack chat.postMessage failed (%s)", type(exc).__name__)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        for part in chunks(text or "", MESSAGE_TEXT_LIMIT):
            await self._post_message(self._recipient(recipient_id), text=escape(part))

    async def send_text_with_buttons(self, recipient_id: str, text: str, buttons: list[dict[str, Any]],
                                     **kwargs: Any) -> None:
        blocks, fallback = button_blocks(text, buttons)
        await self._post_message(self._recipient(recipient_id), text=fallback, blocks=blocks)

    async def send_quick_replies(self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]],
                                 **kwargs: Any) -> None:
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        path = media.local_path(image)
        if path is not None:
            await self.upload_file(recipient_id, path)
            return
        block = {"type": "image", "image_url": image, "alt_text": "image"}
        await self._post_message(self._recipient(recipient_id), text=escape(image), blocks=[block])

    async def upload_file(self, recipient_id: str, path: Path) -> None:
        """Uploads one of our charts (files.getUploadURLExternal → upload → completeUploadExternal)."""
        try:
            await self.client.files_upload_v2(channel=self._recipient(recipient_id), file=str(path),
                                              filename=path.name, title="chart", alt_txt="chart",
                                              thread_ts=self.thread_id)
        except SlackApiError as exc:
            logger.error("Slack file upload failed: %s", exc.response.get("error"))
        except Exception as exc:  # noqa: BLE001 - Slack unreachable: the turn is still saved
            logger.error("Slack file upload failed (%s)", type(exc).__name__)

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        allowed = {k: v for k, v in json_message.items() if k in {"text", "blocks", "attachments", "unfurl_links"}}
        if allowed:
            await self._post_message(self._recipient(recipient_id), **allowed)


# --------------------------------------------------------------------------- input

class SlackChannel(SlackInput):
    """Slack Events API + interactivity webhook at ``/webhooks/slack/webhook``."""

    @classmethod
    def name(cls) -> str:
        return "slack"  # bot.identity trusts metadata["identity"] from this name only

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> SlackChannel:
        creds = dict(credentials or {})
        return cls(
            slack_token=_setting(creds, "slack_token", "SLACK_BOT_TOKEN", ""),
            slack_channel=_setting(creds, "slack_channel", "SLACK_CHANNEL"),
            proxy=_setting(creds, "proxy", "SLACK_PROXY"),
            slack_retry_reason_header=creds.get("slack_retry_reason_header", "x-slack-retry-reason"),
            slack_retry_number_header=creds.get("slack_retry_number_header", "x-slack-retry-num"),
            errors_ignore_retry=creds.get("errors_ignore_retry"),
            use_threads=_truthy(_setting(creds, "use_threads", "SLACK_USE_THREADS", False)),
            slack_signing_secret=_setting(creds, "slack_signing_secret", "SLACK_SIGNING_SECRET", ""),
            conversation_granularity=_setting(creds, "conversation_granularity", "SLACK_CONVERSATION_GRANULARITY",
                                              "sender"),
            api_url=_setting(creds, "slack_api_url", "SLACK_API_URL", DEFAULT_API_URL),
            redis_url=_setting(creds, "redis_url", "REDIS_URL", ""),
            dedupe_ttl=int(_setting(creds, "dedupe_ttl", "SLACK_DEDUPE_TTL", DEFAULT_DEDUPE_TTL)),
        )

    def __init__(self, slack_token: str = "", slack_channel: Optional[str] = None, proxy: Optional[str] = None,
                 slack_retry_reason_header: Optional[str] = "x-slack-retry-reason",
                 slack_retry_number_header: Optional[str] = "x-slack-retry-num",
                 errors_ignore_retry: Optional[list[str]] = None, use_threads: Optional[bool] = False,
                 slack_signing_secret: str = "", conversation_granularity: Optional[str] = "sender",
                 api_url: str = DEFAULT_API_URL, redis_url: Optional[str] = None,
                 dedupe_ttl: int = DEFAULT_DEDUPE_TTL, dedupe: Optional[Dedupe] = None) -> None:
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        super().__init__(slack_token or "", slack_channel, proxy, slack_retry_reason_header,
                         slack_retry_number_header, errors_ignore_retry, bool(use_threads),
                         slack_signing_secret or "", conversation_granularity)
        self.dedupe: Dedupe = dedupe or dedupe_from_env("slack:", redis_url)
        self.dedupe_ttl = dedupe_ttl
        self._bot_user_id: Optional[str] = None
        self._tasks: set[asyncio.Task] = set()

    @property
    def configured(self) -> bool:
        return bool(self.slack_token and self.slack_signing_secret)

    def _validate_credentials(self) -> None:
        # SlackInput raises here; we must load even when Slack is not set up (credentials.yml
        # always lists the channel), and refuse every request instead.
        if not (self.slack_token and self.slack_signing_secret):
            logger.warning("Slack channel not configured (SLACK_BOT_TOKEN / SLACK_SIGNING_SECRET unset): "
                           "/webhooks/slack/webhook rejects every request")

    # ---------------------------------------------------------------- verification

    def is_request_from_slack_authentic(self, request: Request) -> bool:
        return verify_signature(self.slack_signing_secret, request.headers.get("X-Slack-Request-Timestamp"),
                                request.body or b"", request.headers.get("X-Slack-Signature"))

    # ---------------------------------------------------------------- output

    def get_output_channel(self, channel: Optional[str] = None, thread_id: Optional[str] = None) -> OutputChannel:
        return SlackOutput(self.slack_token, channel or self.slack_channel, thread_id, self.proxy, self.api_url)

    # ---------------------------------------------------------------- webhook

    def blueprint(self, on_new_message: Handler) -> Blueprint:
        slack_webhook = Blueprint("slack_webhook", __name__)

        @slack_webhook.listener("after_server_start")
        async def check_token(*_: Any) -> None:
            if self.configured:
                self._spawn(self._auth_test())

        @slack_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            if not self.configured:
                return response.json({"status": "not configured"}, status=503)
            return response.json({"status": "ok"})

        @slack_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.configured:
                return response.text("Slack channel is not configured.", status=403)
            if not self.is_request_from_slack_authentic(request):
                logger.warning("Rejected a Slack request without a valid signature")
                return response.text("Invalid or missing X-Slack-Signature.", status=401)
            content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
            try:
                if content_type == "application/json":
                    return await self._on_event(request, _json_body(request.body or b"{}"), on_new_message)
                if content_type == "application/x-www-form-urlencoded":
                    form = parse_qs((request.body or b"").decode("utf-8"))
                    if "payload" not in form:
                        return response.text("")  # ssl_check and the like
                    return await self._on_interaction(_json_body(form["payload"][0]), on_new_message)
            except (ValueError, UnicodeDecodeError, RecursionError):  # Malformed included
                return response.text("Malformed body.", status=400)
            except (TypeError, AttributeError, KeyError) as exc:
                # A field of a type the checks above missed: still the sender's fault, never a 500.
                logger.warning("Refused a signed Slack body with unexpected field types (%s)", type(exc).__name__)
                return response.text("Malformed body.", status=400)
            return response.text("Unsupported content type.", status=415)

        return slack_webhook

    async def _auth_test(self) -> None:
        """Checks the bot token once at start-up and learns the bot's own user id."""
        client = AsyncWebClient(self.slack_token, base_url=self.api_url, proxy=self.proxy, timeout=10)
        try:
            reply = await client.auth_test()
        except SlackApiError as exc:
            logger.error("Slack rejected the bot token: %s", exc.response.get("error"))
            return
        except Exception as exc:  # noqa: BLE001 - network trouble must not stop the server
            logger.warning("Slack Web API not reachable at start-up (%s)", type(exc).__name__)
            return
        self._bot_user_id = reply.get("user_id")
        logger.info("Slack channel ready: bot user %s in team %s", reply.get("user_id"), reply.get("team_id"))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_event(self, request: Request, body: Any, on_new_message: Handler) -> HTTPResponse:
        if not isinstance(body, dict):
            return response.text("Malformed body.", status=400)
        if body.get("type") == "url_verification":
            return response.json({"challenge": body.get("challenge", "")})
        if body.get("type") != "event_callback" or not isinstance(body.get("event"), dict):
            return response.text("")
        event: dict[str, Any] = body["event"]
        if event.get("type") not in ("message", "app_mention"):
            return response.text("")  # other events have shapes of their own; none is for Rasa
        # A message event: every field read below must have the type Slack sends, or it is a 400.
        team = _text_field(body, "team_id") or _text_field(event, "team")
        user = _text_field(event, "user")
        channel = _text_field(event, "channel")
        ts, thread_ts = _text_field(event, "ts"), _text_field(event, "thread_ts")
        user_team, event_id = _text_field(event, "user_team"), _text_field(body, "event_id")
        channel_type = _text_field(event, "channel_type")
        raw_text = _text_field(event, "text")
        _text_field(event, "subtype")  # read by _is_person_message
        bot_users = self._bot_user_ids(body)
        if not self._is_person_message(event) or not team or not user:
            logger.debug("Ignored a Slack event that is not a user message")
            return response.text("")
        if body.get("is_ext_shared_channel") and user_team and user_team != team:
            logger.info("Ignored a message from another organisation's user in a shared channel")
            return response.text("")

        metadata = {
            "out_channel": channel,
            "thread_id": thread_ts or ts,
            "in_thread": bool(thread_ts),
            "ts": ts,
            "event_type": event.get("type"),
            "channel_type": channel_type,
            "users": bot_users,
            "identity": {"team": team, "user": user},
        }
        if not self._is_supported_channel(body, metadata):
            logger.info("Ignored a Slack message in a channel the bot does not serve")
            return response.text("")
        text = clean_user_text(clean(raw_text or ""), bot_users)
        if not text:
            return response.text("")

        keys = [f"event:{event_id}"] if event_id else []
        keys.append(f"msg:{team}:{channel}:{ts}")
        if not await self._first_time(keys):
            retry = request.headers.get(self.retry_num_header or "x-slack-retry-num")
            logger.info("Dropped a duplicate Slack event%s", f" (retry {retry})" if retry else "")
            return response.text("", headers={"X-Slack-No-Retry": "1"})
        self._dispatch(on_new_message, text, sender_for(team, user), metadata)
        return response.text("")

    async def _on_interaction(self, payload: Any, on_new_message: Handler) -> HTTPResponse:
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            return response.text("")
        actions = _list_field(payload, "actions", dict)
        kind = _text_field(actions[0], "type") if actions else None
        if kind not in INTERACTIVE_TYPES:
            return response.text("")
        action = actions[0]
        text = clean(self._interactive_text(action) or "")
        person, workspace = _object_field(payload, "user"), _object_field(payload, "team")
        message, container = _object_field(payload, "message"), _object_field(payload, "container")
        user, person_team = _text_field(person, "id"), _text_field(person, "team_id")
        team = _text_field(workspace, "id") or person_team
        channel = _text_field(_object_field(payload, "channel"), "id") or _text_field(container, "channel_id")
        thread = _text_field(message, "thread_ts") or _text_field(container, "thread_ts")
        ts = _text_field(message, "ts") or _text_field(container, "message_ts")
        click = _text_field(action, "action_ts") or _text_field(payload, "trigger_id")
        if not text or not user or not team:
            return response.text("")  # e.g. a link button: nothing to send to Rasa
        if person_team and person_team != team and not payload.get("enterprise"):
            logger.info("Ignored a button click by a user of another workspace")
            return response.text("")

        metadata = {
            "out_channel": channel,
            "thread_id": thread or ts,
            "in_thread": bool(thread),
            "ts": ts,
            "event_type": "block_actions",
            "users": [],
            "identity": {"team": team, "user": user},
        }
        if not await self._first_time([f"action:{team}:{user}:{click}"]):
            return response.text("")
        self._dispatch(on_new_message, text, sender_for(team, user), metadata)
        return response.text("")

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _is_person_message(event: dict[str, Any]) -> bool:
        subtype, text = event.get("subtype"), event.get("text")
        return (event.get("type") in ("message", "app_mention")
                and not event.get("bot_id") and not event.get("bot_profile")
                and (subtype is None or (isinstance(subtype, str) and subtype in USER_SUBTYPES))
                and not event.get("hidden")
                and isinstance(text, str) and bool(text))

    @staticmethod
    def _interactive_text(action: dict[str, Any]) -> Optional[str]:
        """The payload a button or menu choice sends to Rasa (None for a link button)."""
        if action.get("type") == "button":
            return _text_field(action, "value")
        return _text_field(_object_field(action, "selected_option"), "value")  # static_select, overflow

    def _bot_user_ids(self, body: dict[str, Any]) -> list[str]:
        users: list[Any] = [_text_field(a, "user_id") for a in _list_field(body, "authorizations", dict)
                            if a.get("is_bot", True)]
        users += _list_field(body, "authed_users", str)
        if self._bot_user_id:
            users.append(self._bot_user_id)
        return [u for u in dict.fromkeys(users) if u]

    async def _first_time(self, keys: list[str]) -> bool:
        """Marks every key as seen; True when none of them had been seen before."""
        # Concurrently: with Redis this costs one round trip, not one per key.
        seen = await asyncio.gather(*(self.dedupe.first_seen(key, self.dedupe_ttl) for key in keys))
        return all(seen)

    def _conversation_id(self, sender: str, metadata: dict[str, Any]) -> str:
        return self._get_conversation_id(sender, metadata.get("out_channel"), metadata.get("thread_id")) or sender

    def _reply_thread(self, metadata: dict[str, Any]) -> Optional[str]:
        if self.use_threads or metadata.get("in_thread"):
            return metadata.get("thread_id")
        return None

    def _dispatch(self, on_new_message: Handler, text: str, sender: str, metadata: dict[str, Any]) -> None:
        """Hands the message to Rasa in the background; the webhook answers right away.

        A message over the limit (`bot.channels.limits`) never reaches Rasa: the rep gets the
        polite refusal in their language, in the same conversation and thread.
        """
        output = self.get_output_channel(metadata.get("out_channel"), self._reply_thread(metadata))
        conversation = self._conversation_id(sender, metadata)
        instead = refusal(text)
        if instead:
            logger.info("Refused a Slack message of %s characters (unreadable or over the limit)", len(text))
            self._spawn(self._refuse(output, conversation, instead))
            return
        message = UserMessage(text, output, conversation, input_channel=self.name(), metadata=metadata)
        self._spawn(self._handle(on_new_message, message))

    @staticmethod
    async def _refuse(output: OutputChannel, recipient: str, refusal: str) -> None:
        try:
            await output.send_text_message(recipient, refusal)
        except Exception as exc:  # noqa: BLE001 - a background task must not die silently
            logger.error("Could not deliver the too-long reply to Slack (%s)", type(exc).__name__)

    @staticmethod
    async def _handle(on_new_message: Handler, message: UserMessage) -> None:
        try:
            await on_new_message(message)
        except (SlackApiError, SlackClientError) as exc:
            logger.error("Could not deliver the reply to Slack (%s)", type(exc).__name__)
            logger.debug("Slack delivery failure", exc_info=True)
        except Exception as exc:  # noqa: BLE001 - a background task must not die silently
            # The traceback may quote the user's message: only at DEBUG.
            logger.error("Failed to handle a Slack message (%s)", type(exc).__name__)
            logger.debug("Slack message handling failure", exc_info=True)
