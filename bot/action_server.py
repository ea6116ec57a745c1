"""The action server: rasa_sdk's app with safer defaults.

- binds to 127.0.0.1 unless `ACTION_SERVER_HOST` says otherwise;
- every call must carry `ACTION_SERVER_TOKEN` (Rasa sends it from `endpoints.yml`:
  ``token:`` as a query parameter or an ``Authorization: Bearer`` header). Without a token
  the server does not start, unless ``ACTION_SERVER_INSECURE=true`` says on purpose that
  anyone who can reach it may run any action as any rep (a throwaway local experiment);
- errors are answered without echoing the request (rasa_sdk echoes the whole
  tracker by default).

Run with ``python -m bot.action_server``.
"""
from __future__ import annotations

import logging
import os

from sanic import Sanic, response
from sanic.request import Request

from bot.http_auth import token_matches

logger = logging.getLogger(__name__)


class InsecureConfiguration(RuntimeError):
    """No `ACTION_SERVER_TOKEN` and no explicit `ACTION_SERVER_INSECURE=true`."""


def insecure_allowed() -> bool:
    return os.environ.get("ACTION_SERVER_INSECURE", "").strip().lower() in {"1", "true", "yes", "on"}


def create_app(token: str | None = None) -> Sanic:
    """Builds the action server app; `token` defaults to `ACTION_SERVER_TOKEN`.

    Raises:
        InsecureConfiguration: no token, and ``ACTION_SERVER_INSECURE`` is not set.
    """
    from rasa_sdk.endpoint import create_app as sdk_create_app

    token = token if token is not None else os.environ.get("ACTION_SERVER_TOKEN", "").strip() or None
    if not token and not insecure_allowed():
        raise InsecureConfiguration(
            "ACTION_SERVER_TOKEN is not set: the action server would run any action as any rep for anyone "
            "who can reach it. Set ACTION_SERVER_TOKEN (and give Rasa the same token in endpoints.yml), or "
            "ACTION_SERVER_INSECURE=true for a throwaway local experiment.")
    app = sdk_create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def authenticate(request: Request):  # noqa: ANN202 - sanic middleware
        if token and request.path != "/health" and not token_matches(request, token, allow_query=True):
            return response.json({"error": "unauthorized"}, status=401)
        return None

    async def safe_errors(request: Request, exception: Exception):  # noqa: ANN202
        status = getattr(exception, "status_code", 500) or 500
        if status >= 500:
            logger.error("action server error on %s: %s", request.path, type(exception).__name__)
        return response.json({"error": "action server error" if status >= 500 else str(exception)},
                             status=status)

    app.error_handler.add(Exception, safe_errors)
    return app


def main() -> None:
    from bot.store.migrate import upgrade

    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"))
    upgrade()
    host = os.environ.get("ACTION_SERVER_HOST", "127.0.0.1")
    port = int(os.environ.get("ACTION_SERVER_PORT", "5055"))
    workers = int(os.environ.get("ACTION_SERVER_WORKERS", "1"))
    try:
        app = create_app()
    except InsecureConfiguration as exc:
        logger.error("%s", exc)
        raise SystemExit(2) from None
    if not os.environ.get("ACTION_SERVER_TOKEN", "").strip():
        logger.warning("ACTION_SERVER_INSECURE=true: the action server accepts calls without a token")
    logger.info("action server on http://%s:%s", host, port)
    app.run(host=host, port=port, workers=workers, access_log=False, motd=False)


if __name__ == "__main__":
    main()
