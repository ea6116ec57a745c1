"""The action server: rasa_sdk's app with safer defaults.

- binds to 127.0.0.1 unless `ACTION_SERVER_HOST` says otherwise;
- when `ACTION_SERVER_TOKEN` is set, every call must carry it (Rasa sends it
  from `endpoints.yml`: ``token:`` as a query parameter or an
  ``Authorization: Bearer`` header);
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


def create_app(token: str | None = None) -> Sanic:
    """Builds the action server app; `token` defaults to `ACTION_SERVER_TOKEN`."""
    from rasa_sdk.endpoint import create_app as sdk_create_app

    token = token if token is not None else os.environ.get("ACTION_SERVER_TOKEN") or None
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
    app = create_app()
    logger.info("action server on http://%s:%s (auth %s)", host, port,
                "on" if os.environ.get("ACTION_SERVER_TOKEN") else "off")
    app.run(host=host, port=port, workers=workers, access_log=False, motd=False)


if __name__ == "__main__":
    main()
