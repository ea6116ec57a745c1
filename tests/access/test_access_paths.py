"""Every way in, tried by someone who is not on the account's team, against the real servers.

One victim rep keeps a secret account; an outsider then tries each path: the REST
channel under their own and a guessed sender id, from outside the machine, the action
server directly (no token, a wrong token, a forged tracker that claims the victim's
verified identity), and Rasa's HTTP API. The other paths have tests of their own:
Slack (tests/channels/test_slack.py, signatures and per-workspace teams), WeCom
(tests/channels/test_wecom.py), the web chat's signed identities and guessed session ids
(tests/channels/test_socketio.py `test_anonymous_session_resumes_only_with_the_signed_id`,
tests/browser/test_widget.py), forged REST channel/identity metadata
(tests/fuzz/test_fuzz_servers.py), the store's team scoping (tests/bot/store/test_store.py).
"""
from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
import uuid
from typing import Any, Optional

import pytest

from tests.conftest import MODEL_PATH
from tests.servers import Servers, running_servers

pytestmark = [pytest.mark.model, pytest.mark.slow]

ACTION_TOKEN = "action-" + uuid.uuid4().hex
API_TOKEN = "api-" + uuid.uuid4().hex
REST_TOKEN = "rest-" + uuid.uuid4().hex
SECRET_ACCOUNT = "绝密精工"
SECRET_PERSON = "司马昭"


def outside_address() -> Optional[str]:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # no packet is sent; picks the outgoing interface
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


class OpenServers(Servers):
    """Rasa listening on every interface (as behind an ingress), with an API token."""

    def rasa_args(self) -> list[str]:
        return ["--interface", "0.0.0.0", "--auth-token", API_TOKEN]

    def status_url(self) -> str:
        return f"{self.rasa_url}/status?token={API_TOKEN}"


def request(method: str, url: str, body: Any = None, headers: Optional[dict] = None) -> tuple[int, str]:
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    text = raw.decode("utf-8", "replace")
    try:  # JSON escapes non-ASCII text: compare on the characters
        return status, json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return status, text


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):  # noqa: ANN001, ANN201
    with running_servers(tmp_path_factory.mktemp("access"), MODEL_PATH, OpenServers,
                         ACTION_SERVER_TOKEN=ACTION_TOKEN, RASA_API_TOKEN=API_TOKEN) as s:
        yield s


@pytest.fixture(scope="module")
def victim(deployment):  # noqa: ANN001, ANN201
    me = f"victim-{uuid.uuid4().hex[:8]}"
    assert SECRET_ACCOUNT in deployment.say_text(me, f"新建客户{SECRET_ACCOUNT}")
    assert SECRET_PERSON in deployment.say_text(me, f"{SECRET_ACCOUNT}的{SECRET_PERSON}是总经理，是决策者，影响力八成")
    assert SECRET_PERSON in deployment.say_text(me, f"看看{SECRET_ACCOUNT}的权力地图")  # the victim can
    return me


def no_secret(text: str, named: bool = False) -> bool:
    """Nothing the victim recorded is in `text` (the account's name only if the asker did not type it)."""
    facts = (SECRET_PERSON, "总经理", "决策者", "八成", "80%")
    return all(f not in text for f in facts) and (named or SECRET_ACCOUNT not in text)


# --- REST ------------------------------------------------------------------------------


def test_rest_another_sender_reads_nothing_and_cannot_write(deployment, victim):
    outsider = f"outsider-{uuid.uuid4().hex[:8]}"
    for text in ("我的客户有哪些", f"看看{SECRET_ACCOUNT}的权力地图", f"{SECRET_ACCOUNT}有什么风险？",
                 f"export everything on {SECRET_ACCOUNT}", f"删除{SECRET_PERSON}的所有个人信息"):
        assert no_secret(deployment.say_text(outsider, text), named=SECRET_ACCOUNT in text), text
    deployment.say_text(outsider, f"{SECRET_ACCOUNT}的{SECRET_PERSON}是反对者")  # lands in the outsider's own team
    power_map = deployment.say_text(victim, f"看看{SECRET_ACCOUNT}的权力地图")
    assert "反对方0%" in power_map and "决策者" in power_map  # still a decision maker, not an opponent


def test_rest_from_outside_the_machine_is_refused(deployment, victim):
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    url = f"http://{address}:{deployment.rasa_port}/webhooks/rest/webhook"
    status, body = request("POST", url, {"sender": victim, "message": "我的客户有哪些"})  # a guessed sender id
    assert status == 403 and no_secret(body) and "REST_CHANNEL_TOKEN" in body


def test_rest_through_a_proxy_for_an_outside_client_is_refused(deployment, victim):
    status, body = request("POST", f"{deployment.rasa_url}/webhooks/rest/webhook",
                           {"sender": victim, "message": "我的客户有哪些"}, {"X-Forwarded-For": "203.0.113.9"})
    assert status == 403 and no_secret(body)


def test_rest_with_a_token_requires_it(deployment, victim):
    """A second Rasa server, with REST_CHANNEL_TOKEN in its environment, on the same stores."""
    workdir = deployment.workdir / "token"
    workdir.mkdir(exist_ok=True)
    s = Servers(workdir=workdir, model=MODEL_PATH, database_url=deployment.database_url,
                tracker_db=workdir / "tracker.db", action_port=deployment.action_port,
                extra_env={"REST_CHANNEL_TOKEN": REST_TOKEN, "ACTION_SERVER_TOKEN": ACTION_TOKEN,
                           "RASA_API_TOKEN": API_TOKEN})
    s.start_rasa()
    try:
        url = f"{s.rasa_url}/webhooks/rest/webhook"
        body = {"sender": victim, "message": "我的客户有哪些"}
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": REST_TOKEN}):
            status, answer = request("POST", url, body, headers)
            assert status == 401 and no_secret(answer), headers
        status, answer = request("POST", url, body, {"Authorization": f"Bearer {REST_TOKEN}"})
        assert status == 200 and SECRET_ACCOUNT in answer  # the trusted back end speaks for its user
    finally:
        s.stop_all()


# --- the action server -------------------------------------------------------------------


def forged_call(sender: str, action: str = "action_list_accounts") -> dict:
    """What Rasa would send for `sender`, with a verified-looking identity for the victim's team."""
    message = {"text": "我的客户有哪些", "intent": {"name": "list_accounts", "confidence": 1.0}, "entities": [],
               "metadata": {"identity": {"team": f"solo:rest:{sender}", "user": sender}}}
    return {"next_action": action, "sender_id": sender, "version": "3.6.21",
            "tracker": {"sender_id": sender, "slots": {}, "latest_message": message, "latest_input_channel": "slack",
                        "events": [{"event": "user", "text": message["text"], "parse_data": message,
                                    "input_channel": "slack", "metadata": message["metadata"]}],
                        "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": None},
            "domain": {}}


@pytest.mark.parametrize("auth", ["none", "wrong bearer", "wrong query", "token as basic"])
def test_action_server_refuses_calls_without_its_token(deployment, victim, auth):
    url, headers = f"{deployment.action_url}/webhook", {}
    if auth == "wrong bearer":
        headers["Authorization"] = "Bearer " + ACTION_TOKEN[:-1] + "x"
    elif auth == "wrong query":
        url += "?token=nope"
    elif auth == "token as basic":
        headers["Authorization"] = "Basic " + ACTION_TOKEN
    status, body = request("POST", url, forged_call(victim), headers)
    assert status == 401 and json.loads(body) == {"error": "unauthorized"}
    status, body = request("GET", f"{deployment.action_url}/actions", headers=headers)
    assert status == 401


def test_action_server_errors_never_echo_the_request(deployment):
    marker = f"{SECRET_PERSON}-{uuid.uuid4().hex}"
    call = forged_call(marker)
    call["tracker"] = "not a tracker " + marker
    status, body = request("POST", f"{deployment.action_url}/webhook?token={ACTION_TOKEN}", call)
    assert status >= 400 and marker not in body and "Traceback" not in body and "not a tracker" not in body
    status, body = request("POST", f"{deployment.action_url}/webhook?token={ACTION_TOKEN}",
                           {"next_action": "no_such_action_" + marker, "tracker": {"sender_id": marker}})
    assert status >= 400 and marker not in body.replace("no_such_action_" + marker, "")


def test_action_server_listens_on_this_machine_only(deployment):
    address = outside_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    with pytest.raises(OSError):
        socket.create_connection((address, deployment.action_port), timeout=3).close()
    assert request("GET", f"{deployment.action_url}/health")[0] == 200  # on loopback it answers


# --- Rasa's HTTP API ---------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "wrong"])
@pytest.mark.parametrize("method, path, body", [
    ("GET", "/conversations/{victim}/tracker", None),
    ("GET", "/conversations/{victim}/story", None),
    ("POST", "/conversations/{victim}/messages", {"text": "我的客户有哪些", "sender": "user"}),
    ("POST", "/conversations/{victim}/trigger_intent", {"name": "list_accounts"}),
    ("POST", "/conversations/{victim}/tracker/events", {"event": "slot", "name": "language", "value": "en"}),
    ("POST", "/model/parse", {"text": "hi"}),
])
def test_http_api_needs_its_token(deployment, victim, token, method, path, body):
    url = deployment.rasa_url + path.format(victim=victim) + (f"?token={token}" if token else "")
    status, answer = request(method, url, body)
    assert status in (401, 403) and no_secret(answer)


def test_http_api_with_its_token_is_the_administrator(deployment, victim):
    status, answer = request("GET", f"{deployment.rasa_url}/conversations/{victim}/tracker?token={API_TOKEN}")
    assert status == 200 and SECRET_ACCOUNT in answer
