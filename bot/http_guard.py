"""Who may call the Rasa server's own doors: the REST webhook and the HTTP API.

The REST webhook (``/webhooks/rest/webhook``) takes the sender id as the rep's identity,
and Rasa's HTTP API reads and writes any conversation, so both must refuse:

* **other machines** — unless the request carries the door's token: the webhook's
  ``REST_CHANNEL_TOKEN`` (a trusted back end), the API's ``RASA_API_TOKEN``;
* **web pages** open in a browser on this machine (a cross-site ``text/plain`` POST needs
  no CORS preflight) and **DNS rebinding** (a foreign name resolving to 127.0.0.1).

So, without the door's token, a request is answered only when it comes from this machine
and is not a browser's cross-site request:

1. the connection comes from a loopback address, and every ``X-Forwarded-For`` and
   ``X-Real-IP`` value, on every header line, is loopback too; any ``Forwarded`` header
   (RFC 7239) means a proxy relayed it, so it is not local;
2. the ``Host`` header names this machine (``localhost``, ``127.0.0.1``, ``[::1]``) or one
   of ``ALLOWED_HOSTS`` (comma list);
3. an ``Origin`` header, if any, is that same host, and ``Sec-Fetch-Site`` is ``same-origin``
   or ``none`` (a typed URL) when present;
4. a request with a body declares ``Content-Type: application/json``.

The API's endpoints that read or change conversations, the model or the server
(everything except ``GET /``, ``/version``, ``/status`` and ``POST /model/parse``, which is
stateless) are admin-only: they always need ``RASA_API_TOKEN`` (``Authorization: Bearer``
or ``?token=``), and without one configured they are closed. Whoever holds that token can
act as any rep of any team (``/conversations/<id>/…`` with forged events), so give it to
administrators only.

The Slack and WeCom webhooks check their own signatures and socket.io its allowed origins;
they are not guarded here. `install` adds the guard to the Rasa app for the API;
the REST channel calls `refuse` for its webhook itself.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
from typing import Any, Optional
from urllib.parse import urlsplit

from sanic import response
from sanic.response import HTTPResponse

from bot.http_auth import token_matches

logger = logging.getLogger(__name__)

REST_DOOR = "rest"
API_DOOR = "api"

#: Rasa HTTP API endpoints that read nothing stored: open to local, same-origin callers
PUBLIC_API = frozenset({("GET", "/"), ("GET", "/version"), ("GET", "/status"), ("POST", "/model/parse")})
#: paths whose requests are checked elsewhere (channel signatures, socket.io origins)
NOT_GUARDED = re.compile(r"^/(webhooks|socket\.io)(/|$)")
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
JSON_TYPES = frozenset({"application/json"})
_FORWARDING = ("x-forwarded-for", "x-real-ip")


def token_for(door: str) -> str:
    """The token that opens `door` from anywhere ('' when none is configured)."""
    name = "REST_CHANNEL_TOKEN" if door == REST_DOOR else "RASA_API_TOKEN"
    return os.environ.get(name, "").strip()


def allowed_hosts() -> tuple[str, ...]:
    extra = [h.strip().lower() for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h.strip()]
    return LOCAL_HOSTS + tuple(extra)


def _loopback(address: str) -> bool:
    address = address.strip().strip('"')
    if address.startswith("[") and "]" in address:  # [::1]:1234
        address = address[1:address.index("]")]
    elif address.count(":") == 1:  # 127.0.0.1:1234
        address = address.split(":", 1)[0]
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def _all_values(request: Any, name: str) -> list[str]:
    """Every comma-separated value of header `name`, over all of its lines."""
    values: list[str] = []
    for line in request.headers.getall(name, []):
        values += [v for v in str(line).split(",") if v.strip()]
    return values


def from_this_machine(request: Any) -> bool:
    """The connection and every forwarding hop it names are loopback; never when a proxy says `Forwarded`."""
    if request.headers.getall("forwarded", []):
        return False
    hops = [request.conn_info.client_ip if request.conn_info else ""]
    for name in _FORWARDING:
        hops += _all_values(request, name)
    return all(_loopback(h) for h in hops)


def _host_name(value: str) -> str:
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.index("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def host_allowed(request: Any) -> bool:
    hosts = request.headers.getall("host", [])
    return len(hosts) == 1 and _host_name(str(hosts[0])) in allowed_hosts()


def same_origin(request: Any) -> bool:
    """No cross-site browser request: `Origin` (if any) is the request's own host, `Sec-Fetch-Site` agrees."""
    origins = request.headers.getall("origin", [])
    if len(origins) > 1:
        return False
    if origins:
        parts = urlsplit(str(origins[0]).strip())
        host = str(request.headers.get("host", "")).strip().lower()
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != host:
            return False
    sites = [str(s).strip().lower() for s in request.headers.getall("sec-fetch-site", [])]
    return all(s in ("same-origin", "none") for s in sites)


def declares_json(request: Any) -> bool:
    kinds = request.headers.getall("content-type", [])
    return len(kinds) == 1 and str(kinds[0]).split(";", 1)[0].strip().lower() in JSON_TYPES


def origin_form(request: Any) -> bool:
    """The request target is a path ("/webhooks/…"), not an absolute URL that names another host."""
    raw = getattr(request, "raw_url", b"") or b""
    return raw.startswith(b"/")


def _has_body(request: Any) -> bool:
    return request.method in ("POST", "PUT", "PATCH") or bool(request.body)


def refuse(request: Any, door: str) -> Optional[HTTPResponse]:
    """None when `request` may use `door` (REST_DOOR or API_DOOR), else the 4xx answer.

    The answer says what is missing, never anything about the data behind the door.
    """
    token = token_for(door)
    admin_only = door == API_DOOR and (request.method, request.path.rstrip("/") or "/") not in PUBLIC_API
    if token and token_matches(request, token, allow_query=door == API_DOOR):
        if door == REST_DOOR and not declares_json(request):
            return response.json({"error": "send the body as Content-Type: application/json"}, status=415)
        return None
    if admin_only:
        if not token:
            return response.json({"error": "this endpoint is admin-only: set RASA_API_TOKEN on the server and "
                                           "send 'Authorization: Bearer <token>'"}, status=403)
        return response.json({"error": "unauthorized"}, status=401)
    if door == REST_DOOR and token:
        return response.json({"error": "unauthorized"}, status=401)
    if not from_this_machine(request):
        logger.warning("%s request from outside this machine refused", door)
        name = "REST_CHANNEL_TOKEN" if door == REST_DOOR else "RASA_API_TOKEN"
        return response.json({"error": f"this endpoint serves this machine only; set {name} and send "
                                       "'Authorization: Bearer <token>' to use it from elsewhere"}, status=403)
    if not host_allowed(request) or not origin_form(request):
        logger.warning("%s request for a host name that is not this machine refused", door)
        return response.json({"error": "unknown Host; add it to ALLOWED_HOSTS"}, status=403)
    if not same_origin(request):
        logger.warning("%s request from a web page of another origin refused", door)
        return response.json({"error": "cross-origin requests are not accepted"}, status=403)
    if _has_body(request) and not declares_json(request):
        return response.json({"error": "send the body as Content-Type: application/json"}, status=415)
    return None


def refuse_parse(request: Any) -> Optional[HTTPResponse]:
    """A 400/413 for a `/model/parse` body that is not ``{"text": <a message>}`` (Rasa answered those with 500)."""
    from bot.channels.limits import invalid_unicode, max_message_chars, too_deep

    try:
        body = request.json
    except Exception:  # noqa: BLE001 - sanic's InvalidUsage for bad JSON, RecursionError for absurd nesting
        body = None
    if not isinstance(body, dict) or too_deep(body) or not isinstance(body.get("text"), str) \
            or invalid_unicode(body):
        return response.json({"error": "send {\"text\": \"<the message>\"} as valid Unicode JSON"}, status=400)
    if len(body["text"]) > max_message_chars():
        return response.json({"error": f"the text is longer than {max_message_chars()} characters"}, status=413)
    return None


#: no request body the bot takes is anywhere near this (a message is at most 5,000 characters)
MAX_REQUEST_BYTES = 2 * 1024 * 1024


def install(app: Any) -> None:
    """Guards the Rasa app's HTTP API (every path outside /webhooks/ and /socket.io/) and caps request bodies."""
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    async def guard_api(request: Any) -> Optional[HTTPResponse]:
        if NOT_GUARDED.match(request.path):
            return None
        if request.method == "OPTIONS":  # no CORS preflight is ever granted
            return response.empty(status=403)
        return refuse(request, API_DOOR) or (refuse_parse(request) if request.path.rstrip("/") == "/model/parse"
                                              else None)

    app.register_middleware(guard_api, "request")
