"""Issue 13: the Rasa server runs the model the desk publishes, without a restart.
The real Rasa server pulls from the desk's model server (deploy/endpoints.model-server.yml
with a short pull interval); a published model is loaded in place, confirmed live by
Rasa's own next pull, and the bot keeps answering."""
from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3

import pytest
from sqlalchemy.engine import make_url

from launcher.env import ROOT
from tests.e2e.conftest import MODEL, desk_rows, running_stack, wait_for
from tests.e2e.test_whatsapp_roundtrip import outbound_to, replies_after, say

pytestmark = pytest.mark.e2e

USER = "447700900555"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    endpoints = var / "endpoints.yml"
    endpoints.write_text((ROOT / "deploy" / "endpoints.model-server.yml").read_text()
                         .replace("wait_time_between_pulls: 10", "wait_time_between_pulls: 2"))
    yield from running_stack(var, env={"RASA_ENDPOINTS": str(endpoints), "BOT_MODEL_TOKEN": "e2e-model-token",
                                       "BOT_MODELS_DIR": str(var / "bot_models"), "BOT_MODEL_URL": ""})


def test_a_published_model_goes_live_without_a_restart(stack):
    rasa = stack.service("rasa").process
    # Before anything is published the desk serves the base model: the bot answers.
    say(stack, USER, "hello")
    assert replies_after(stack, USER, 0)[0].startswith("Hello")

    directory = stack.env["BOT_MODELS_DIR"]
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "model-1.tar.gz")
    shutil.copyfile(MODEL, path)
    digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
    conn = sqlite3.connect(make_url(stack.env["DESK_DATABASE_URL"]).database, timeout=10)
    with conn:  # a trained run, published (the console's API for both is tested in tests/console)
        conn.execute("INSERT INTO bot_models (state, requested_by, requested_at, path, fingerprint, size, "
                     "published_at, published_by) VALUES ('published', 'tess@kumo.test', '2026-06-17 10:00:00', "
                     "?, ?, ?, '2026-06-17 10:05:00', 'tess@kumo.test')", (path, digest, os.path.getsize(path)))
    conn.close()
    # Rasa's next pulls: it downloads the model, loads it, and then says it runs it.
    assert wait_for(lambda: desk_rows(stack, "SELECT live_at FROM bot_models WHERE fingerprint = ?", (digest,))
                    [0][0] is not None, timeout=120), "Rasa did not load the published model"
    assert rasa.poll() is None   # the same process: no restart
    before = len(outbound_to(stack, USER))
    say(stack, USER, "what are your opening hours?")
    assert "Monday to Friday" in replies_after(stack, USER, before)[0]
