"""Issue 13, the bot's models through the console API and the model server Rasa pulls
from: trainers train and publish; operators cannot; /bot/model speaks Rasa's model
server protocol (token, ETag, 304) and tells which model is live."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from desk.models import Role
from desk.services import bot_models
from tests.console.conftest import signed_in
from tests.desk.test_bot_models import writes_a_model

pytestmark = pytest.mark.usefixtures("mid_month_clock")


async def _trainer(make_console, desk):
    await desk.add_operator("tess", Role.trainer, "Tess Trainer")
    return await signed_in(make_console, "tess")


async def test_a_trainer_trains_and_publishes_and_rasa_pulls_it(make_console, desk, model_dir):
    tess = await _trainer(make_console, desk)
    queued = await tess.post("/api/trainer/models", {"note": "refund variants"})
    assert queued.status == 202 and (await queued.json())["state"] == "queued"
    again = await tess.post("/api/trainer/models", {})
    assert again.status == 409 and "already queued" in (await again.json())["error"]
    await bot_models.run_next_training(desk.sessions, writes_a_model("one"))
    [run] = (await (await tess.get("/api/trainer/models")).json())["models"]
    assert (run["state"], run["figures"]["ja"]["intent_f1"], run["live"]) == ("trained", 0.93, False)
    assert (await tess.post(f"/api/trainer/models/{run['id']}/publish")).status == 200

    client = tess.client
    assert (await client.get("/bot/model")).status == 401
    assert (await client.get("/bot/model?token=wrong")).status == 401
    pulled = await client.get("/bot/model?token=pull-token")
    assert pulled.status == 200
    etag = pulled.headers["ETag"]
    body = await pulled.read()
    assert body == Path(model_dir / f"model-{run['id']}.tar.gz").read_bytes()
    same = await client.get("/bot/model?token=pull-token", headers={"If-None-Match": etag})
    assert same.status == 304
    [run] = (await (await tess.get("/api/trainer/models")).json())["models"]
    assert (run["state"], run["live"]) == ("published", True)


async def test_operators_cannot_train_and_a_failure_shows_its_log(make_console, desk, model_dir):
    alice = await signed_in(make_console, "alice")
    assert (await alice.post("/api/trainer/models", {})).status == 403
    assert (await alice.get("/api/trainer/models")).status == 403
    tess = await _trainer(make_console, desk)
    await tess.post("/api/trainer/models", {})

    def failing(directory, name):
        return [[sys.executable, "-c", "import sys; print('rasa train: no training data'); sys.exit(1)"]]
    await bot_models.run_next_training(desk.sessions, failing)
    [run] = (await (await tess.get("/api/trainer/models")).json())["models"]
    assert run["state"] == "failed" and "no training data" in run["log_tail"]
    refused = await tess.post(f"/api/trainer/models/{run['id']}/publish")
    assert refused.status == 409 and "only a trained model" in (await refused.json())["error"]


async def test_without_a_token_the_model_server_is_off(make_console, desk, monkeypatch):
    monkeypatch.delenv("BOT_MODEL_TOKEN", raising=False)
    tess = await make_console()
    assert (await tess.client.get("/bot/model?token=")).status == 404


async def test_a_worse_model_needs_the_trainers_reason_in_the_console(make_console, desk, model_dir):
    tess = await _trainer(make_console, desk)
    for payload, figures in (("one", '{"en": {"intent_f1": 0.97}}'), ("two", '{"en": {"intent_f1": 0.95}}')):
        assert (await tess.post("/api/trainer/models", {})).status == 202
        await bot_models.run_next_training(desk.sessions, writes_a_model(payload, figures))
    second, first = (await (await tess.get("/api/trainer/models")).json())["models"]
    assert (await tess.post(f"/api/trainer/models/{first['id']}/publish")).status == 200
    refused = await tess.post(f"/api/trainer/models/{second['id']}/publish")
    data = await refused.json()
    assert refused.status == 409 and data["needs_reason"] and data["worse"] == ["en: intent F1 0.950 < 0.970"]
    assert (await tess.post(f"/api/trainer/models/{second['id']}/publish", {"reason": 7})).status == 400
    ok = await tess.post(f"/api/trainer/models/{second['id']}/publish", {"reason": "answers the new shipping policy"})
    assert ok.status == 200
    listed = {m["id"]: m for m in (await (await tess.get("/api/trainer/models")).json())["models"]}
    assert (listed[second["id"]]["state"], listed[second["id"]]["publish_reason"]) == (
        "published", "answers the new shipping policy")
