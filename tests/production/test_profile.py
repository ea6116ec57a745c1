"""The production endpoints files as Rasa reads them, and the round-robin balancer."""
from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from aiohttp import ClientSession, web

from tests.production.conftest import PROFILE, PROFILE_RABBITMQ
from tests.servers import free_port

ENV = {
    "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
    "ACTION_SERVER_TOKEN": "s3cret-token",
    "TRACKER_DATABASE_URL": "postgresql://rasa:pw@db:5432/rasa",
    "REDIS_URL": "redis://:pw@redis:6379/2",
    "RABBITMQ_HOST": "rabbit",
    "RABBITMQ_PORT": "5672",
    "RABBITMQ_USERNAME": "user",
    "RABBITMQ_PASSWORD": "pw",
    "RABBITMQ_QUEUE": "rasa_events",
}


@pytest.fixture
def prod_env(monkeypatch):  # noqa: ANN001, ANN201
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


@pytest.mark.parametrize("profile", [PROFILE, PROFILE_RABBITMQ], ids=["plain", "rabbitmq"])
def test_profile_reads_every_setting_from_the_environment(profile, prod_env):
    from rasa.core.lock_store import LockStore
    from rasa.core.utils import read_endpoints_from_path

    from bot.http_auth import token_matches
    from bot.lock_store import AtomicRedisLockStore

    endpoints = read_endpoints_from_path(profile)
    assert endpoints.action.url == ENV["ACTION_ENDPOINT_URL"]
    assert endpoints.action.headers == {"Authorization": f"Bearer {ENV['ACTION_SERVER_TOKEN']}"}
    request = SimpleNamespace(args={}, headers={k.lower(): v for k, v in endpoints.action.headers.items()})
    assert token_matches(request, ENV["ACTION_SERVER_TOKEN"], allow_query=True)  # bot/action_server.py's check

    assert (endpoints.tracker_store.type, endpoints.tracker_store.url) == ("SQL", ENV["TRACKER_DATABASE_URL"])
    lock_store = LockStore.create(endpoints.lock_store)  # connects lazily: no Redis needed here
    assert isinstance(lock_store, AtomicRedisLockStore)
    kwargs = lock_store.red.connection_pool.connection_kwargs
    assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == ("redis", 6379, 2, "pw")

    if profile == PROFILE_RABBITMQ:
        broker = endpoints.event_broker
        assert (broker.type, broker.url) == ("pika", "rabbit")
        assert broker.kwargs == {"port": "5672", "username": "user", "password": "pw", "queues": ["rasa_events"]}
    else:
        assert endpoints.event_broker is None


def test_an_unset_variable_stops_rasa_with_a_clear_error(prod_env, monkeypatch):
    from rasa.core.utils import read_endpoints_from_path
    from rasa.shared.exceptions import RasaException

    monkeypatch.delenv("REDIS_URL")
    with pytest.raises(RasaException, match="REDIS_URL"):
        read_endpoints_from_path(PROFILE)


def test_the_rabbitmq_profile_is_the_plain_one_plus_the_broker():
    def sections(text: str) -> dict[str, str]:
        text = "".join(line + "\n" for line in text.splitlines() if not line.startswith("#"))
        return {m.group(1): m.group(0).strip() for m in re.finditer(r"^(\w+):\n(?:(?: .*)?\n)*", text, re.M)}

    plain, rabbit = sections(PROFILE.read_text()), sections(PROFILE_RABBITMQ.read_text())
    assert set(rabbit) == set(plain) | {"event_broker"}
    assert all(rabbit[name] == plain[name] for name in plain)


async def test_balancer_spreads_requests_round_robin_and_skips_a_dead_upstream():
    from deploy.balancer import create_app

    async def start(app: web.Application, port: int) -> web.AppRunner:
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        return runner

    def upstream(name: str) -> web.Application:
        async def echo(request: web.Request) -> web.Response:
            body = await request.json()
            return web.json_response({"by": name, "path": request.path_qs, "sender": body["sender"],
                                      "auth": request.headers.get("Authorization")}, status=201)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", echo)
        return app

    ports = [free_port() for _ in range(4)]
    dead = f"http://127.0.0.1:{ports[2]}"  # nothing listens there
    runners = [await start(upstream("a"), ports[0]), await start(upstream("b"), ports[1])]
    runners.append(await start(create_app([f"http://127.0.0.1:{ports[0]}", dead, f"http://127.0.0.1:{ports[1]}"]),
                               ports[3]))
    try:
        async with ClientSession() as session:
            seen = []
            for i in range(6):
                async with session.post(f"http://127.0.0.1:{ports[3]}/webhooks/rest/webhook?x={i}",
                                        json={"sender": f"s{i}"}, headers={"Authorization": "Bearer t"}) as r:
                    assert r.status == 201
                    body = await r.json()
                    assert body["path"] == f"/webhooks/rest/webhook?x={i}" and body["sender"] == f"s{i}"
                    assert body["auth"] == "Bearer t"
                    seen.append(body["by"])
            assert seen.count("a") >= 2 and seen.count("b") >= 2
            async with session.get(f"http://127.0.0.1:{ports[3]}/balancer/health") as r:
                health = await r.json()
            assert [u["up"] for u in health["upstreams"]] == [True, False, True]
    finally:
        for runner in runners:
            await runner.cleanup()
