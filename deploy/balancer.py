"""A small round-robin HTTP load balancer for Rasa replicas (or action servers).

    python deploy/balancer.py --port 5005 http://127.0.0.1:5006 http://127.0.0.1:5007

Each request goes to the next upstream in turn, whatever the conversation, so
consecutive messages of one conversation land on different replicas — which is
exactly what the atomic lock store makes safe. An upstream that refuses the
connection is skipped (the request has not reached it yet, so retrying is safe)
and rested for a few seconds; answers and other errors are passed through as they
are. ``GET /balancer/health`` reports the upstreams.

It is meant for this repository's process-level recipe (scripts/run_replicas.sh)
and tests. It proxies plain HTTP (REST webhook, the HTTP API, action calls); the
socket.io web chat needs sticky sessions and WebSockets — use nginx, HAProxy or a
Kubernetes Service/Ingress for that (docs/deployment.md).
"""
from __future__ import annotations

import argparse
import itertools
import logging
import time

from aiohttp import ClientConnectorError, ClientSession, ClientTimeout, web

logger = logging.getLogger("balancer")

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "host", "content-length"}
REST_SECONDS = 5.0


class RoundRobin:
    """Upstreams in turn; ones that refused a connection sit out `REST_SECONDS`."""

    def __init__(self, upstreams: list[str]) -> None:
        if not upstreams:
            raise ValueError("at least one upstream is needed")
        self.upstreams = [u.rstrip("/") for u in upstreams]
        self._cycle = itertools.cycle(range(len(self.upstreams)))
        self.down_until = [0.0] * len(self.upstreams)
        self.sent = [0] * len(self.upstreams)

    def order(self) -> list[int]:
        """Upstream indexes to try for one request: the next in turn first, rested ones last."""
        start = next(self._cycle)
        ring = [(start + i) % len(self.upstreams) for i in range(len(self.upstreams))]
        now = time.monotonic()
        return [i for i in ring if self.down_until[i] <= now] + [i for i in ring if self.down_until[i] > now]


def create_app(upstreams: list[str], timeout: float = 300.0) -> web.Application:
    """The balancer as an aiohttp application."""
    pool = RoundRobin(upstreams)
    app = web.Application(client_max_size=16 * 1024 * 1024)

    async def start_session(app: web.Application) -> None:
        app["session"] = ClientSession(timeout=ClientTimeout(total=timeout), auto_decompress=False)

    async def close_session(app: web.Application) -> None:
        await app["session"].close()

    async def health(_request: web.Request) -> web.Response:
        now = time.monotonic()
        return web.json_response({"upstreams": [{"url": u, "up": pool.down_until[i] <= now, "sent": pool.sent[i]}
                                                for i, u in enumerate(pool.upstreams)]})

    async def proxy(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        headers["X-Forwarded-For"] = request.remote or ""
        session: ClientSession = request.app["session"]
        for index in pool.order():
            url = pool.upstreams[index] + request.rel_url.raw_path_qs
            try:
                async with session.request(request.method, url, headers=headers, data=body,
                                           allow_redirects=False) as upstream:
                    pool.sent[index] += 1
                    payload = await upstream.read()
                    out = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
                    return web.Response(status=upstream.status, body=payload, headers=out)
            except ClientConnectorError as e:  # never reached the upstream: try the next one
                logger.warning("upstream %s refused the connection (%s); resting it", pool.upstreams[index], e)
                pool.down_until[index] = time.monotonic() + REST_SECONDS
        return web.json_response({"error": "no upstream available"}, status=502)

    app.on_startup.append(start_session)
    app.on_cleanup.append(close_session)
    app.router.add_get("/balancer/health", health)
    app.router.add_route("*", "/{tail:.*}", proxy)
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("upstreams", nargs="+", help="base URLs, e.g. http://127.0.0.1:5006")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per upstream request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s balancer %(levelname)s %(message)s")
    logger.info("balancing http://%s:%s over %s", args.host, args.port, ", ".join(args.upstreams))
    web.run_app(create_app(args.upstreams, args.timeout), host=args.host, port=args.port, access_log=None,
                print=None, handle_signals=True)


if __name__ == "__main__":
    main()
