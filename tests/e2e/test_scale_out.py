"""Scale-out: two Rasa servers on one PostgreSQL (desk + tracker store) and a Redis
lock store. Meta may deliver the same webhook to either instance, even to both at
once: each message still gets exactly one bot turn and one reply."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from launcher.env import build_env, scale_out_env
from launcher.stack import Stack, migrate
from tests.conftest import PG_ADMIN_DSN, REQUIRE_SERVICES
from tests.e2e.conftest import MODEL, Http, free_port, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET = "scale-secret"
REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    import socket
    try:
        socket.create_connection(REDIS, timeout=2).close()
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import psycopg2

    if not _redis_up():
        if REQUIRE_SERVICES:
            pytest.fail("Redis is not running at 127.0.0.1:6379")
        pytest.skip("Redis not running")
    try:
        admin = psycopg2.connect(PG_ADMIN_DSN, connect_timeout=3)
    except psycopg2.OperationalError as exc:
        if REQUIRE_SERVICES:
            raise
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    admin.autocommit = True
    suffix = uuid.uuid4().hex[:10]
    desk_db, tracker_db = f"tsunagi_desk_{suffix}", f"tsunagi_tracker_{suffix}"
    with admin.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{desk_db}"')
        cur.execute(f'CREATE DATABASE "{tracker_db}"')
    var = tmp_path_factory.mktemp("scale")
    common = {
        "ACTIONS_PORT": str(free_port()), "DESK_PORT": str(free_port()), "SIM_PORT": str(free_port()),
        "WHATSAPP_VERIFY_TOKEN": "v", "WHATSAPP_APP_SECRET": SECRET, "WHATSAPP_ACCESS_TOKEN": "scale-token",
        **scale_out_env(f"postgresql+asyncpg://postgres@127.0.0.1:5432/{desk_db}", tracker_db,
                        redis=REDIS, redis_db=3),
    }
    env_a = build_env({**common, "RASA_PORT": str(free_port())}, var_dir=var)
    env_b = {**env_a, "RASA_PORT": str(free_port())}
    migrate(env_a)
    first = Stack(env_a, MODEL, var / "logs-a")
    second = Stack(env_b, MODEL, var / "logs-b", only={"rasa"})
    try:
        first.start()
        second.start()
        yield {"sim": Http(first.services[0].base_url), "env": env_a,
               "rasa": [Http(s.base_url) for s in (first.services[-1], second.services[0])]}
    finally:
        second.stop()
        first.stop()
        with admin.cursor() as cur:
            for db in (desk_db, tracker_db):
                cur.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        admin.close()


def signed_text(env, wa_id: str, wamid: str, text: str) -> tuple[bytes, dict]:
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": env["WHATSAPP_WABA_ID"], "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550000001", "phone_number_id": env["WHATSAPP_PHONE_NUMBER_ID"]},
            "contacts": [{"profile": {"name": "Scale Test"}, "wa_id": wa_id}],
            "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                          "text": {"body": text}}]}}]}]}).encode()
    return body, {"X-Hub-Signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()}


def bot_replies(cluster, wa_id: str) -> list[str]:
    _, thread = cluster["sim"].get(f"/_sim/users/{wa_id}/messages")
    return [_text_of(m["request"]) for m in thread["messages"] if m["direction"] == "outbound"]


def _text_of(request: dict) -> str:
    """The words of a sent message: a text's body, or the body of one with buttons (FAQ
    answers carry a *Not helpful* button)."""
    if request.get("type") == "interactive":
        return (request.get("interactive") or {}).get("body", {}).get("text", "")
    return request.get("text", {}).get("body", "")


def test_the_same_messages_delivered_to_both_instances_are_answered_once_each(cluster):
    users = [f"4477009{i:05d}" for i in range(4)]
    for user in users:  # open each user's 24-hour window at the simulator
        status, _ = cluster["sim"].post(f"/_sim/users/{user}/messages",
                                        {"type": "text", "text": "hi", "profile_name": "Scale Test"})
        assert status == 200
    assert wait_for(lambda: all(len(bot_replies(cluster, u)) == 1 for u in users), timeout=90)

    questions = ["what are your opening hours?", "do you accept paypal", "how long does shipping take?"]
    deliveries = []
    for user in users:
        for n, text in enumerate(questions):
            body, headers = signed_text(cluster["env"], user, f"wamid.scale.{user}.{n}", text)
            deliveries += [(cluster["rasa"][0], body, headers), (cluster["rasa"][1], body, headers)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda d: d[0].post("/webhooks/whatsapp/webhook", raw=d[1], headers=d[2])[0],
                                 deliveries))
    assert statuses == [200] * len(deliveries)
    expected = 1 + len(questions)
    assert wait_for(lambda: all(len(bot_replies(cluster, u)) >= expected for u in users), timeout=120)
    time.sleep(3)  # a duplicate reply would show up by now
    # The test posts one user's three questions concurrently, so nothing fixes
    # their order (nor does Meta's webhook delivery): each must be answered once.
    markers = ["around the clock", "PayPal", "working days"]
    for user in users:
        replies = bot_replies(cluster, user)
        assert len(replies) == expected, replies
        for marker in markers:
            assert sum(marker in reply for reply in replies[1:]) == 1, (marker, replies)
