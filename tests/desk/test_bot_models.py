"""The bot's models (desk.services.bot_models) on SQLite and PostgreSQL: a training run
is queued once, done by the worker's job in subprocesses, fails with its log, and a
trained model is published, served and seen live."""
from __future__ import annotations

import datetime as dt
import sys
import tarfile
from pathlib import Path

import pytest

from desk.models import BotModel, utcnow
from desk.services import bot_models
from tests.desk.seed import brand_with_number

pytestmark = pytest.mark.usefixtures("mid_month_clock")


def writes_a_model(payload: str, figures: str = '{"en": {"intent_f1": 0.97}, "ja": {"intent_f1": 0.93}}'):
    """Training commands whose last step writes a real .tar.gz (Rasa's training is the
    product's default, `training_commands`; here the steps are quick processes) and
    whose scoring prints `figures`."""
    def commands(directory: Path, name: str) -> list[list[str]]:
        script = (f"import tarfile, io, sys; t = tarfile.open(sys.argv[1], 'w:gz'); data = {payload!r}.encode();"
                  "i = tarfile.TarInfo('fingerprint.json'); i.size = len(data); t.addfile(i, io.BytesIO(data)); t.close()")
        return [[sys.executable, "-c", "print('building knowledge')"],
                [sys.executable, "-c", script, str(directory / f"{name}.tar.gz")],
                [sys.executable, "-c", f"print({figures!r})"]]
    return commands


async def _brand(sessions) -> int:
    async with sessions() as s, s.begin():
        number = await brand_with_number(s)
        await s.refresh(number, attribute_names=["waba"])
        return number.waba.brand_id


async def test_train_publish_serve_and_see_it_live(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_MODELS_DIR", str(tmp_path))
    brand_id = await _brand(sessions)
    async with sessions() as s, s.begin():
        first = await bot_models.request_training(s, brand_id, "tess@kumo.test", "added 'refund' variants")
        with pytest.raises(bot_models.BotModelError, match="already queued"):
            await bot_models.request_training(s, brand_id, "tess@kumo.test")
    run = await bot_models.run_next_training(sessions, writes_a_model("one"))
    assert run.id == first.id
    async with sessions() as s, s.begin():
        run = await s.get(BotModel, first.id)
        assert run.state == "trained" and run.figures == {"en": {"intent_f1": 0.97}, "ja": {"intent_f1": 0.93}}
        assert Path(run.path).exists() and tarfile.is_tarfile(run.path) and len(run.fingerprint) == 64
        assert "building knowledge" in run.log_tail
        before = await bot_models.served(s)
        assert before is None or before.model_id is None   # the base model of `make train`, if built
        published = await bot_models.publish(s, run.id, "tess@kumo.test")
        assert (published.state, published.published_by) == ("published", "tess@kumo.test")
        served = await bot_models.served(s)
        assert (served.model_id, served.etag, served.path) == (run.id, run.fingerprint, Path(run.path))
        await bot_models.note_pull(s, run.fingerprint, utcnow())
    # A second model replaces it: the first is retired, and can be published again.
    async with sessions() as s, s.begin():
        second = await bot_models.request_training(s, brand_id, "tess@kumo.test")
    await bot_models.run_next_training(sessions, writes_a_model("two"))
    async with sessions() as s, s.begin():
        await bot_models.publish(s, second.id, "ada@kumo.test")
        assert (await s.get(BotModel, first.id)).state == "retired"
        assert (await bot_models.served(s)).model_id == second.id
        assert (await s.get(BotModel, first.id)).live_at is not None
        await bot_models.publish(s, first.id, "ada@kumo.test")   # roll back
        assert (await bot_models.served(s)).model_id == first.id


async def test_a_failed_run_keeps_its_log_and_cannot_be_published(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_MODELS_DIR", str(tmp_path))
    brand_id = await _brand(sessions)
    async with sessions() as s, s.begin():
        queued = await bot_models.request_training(s, brand_id, "tess@kumo.test")

    def failing(directory, name):
        return [[sys.executable, "-c", "import sys; print('InvalidDomain: utter_faq/refunds has no text'); sys.exit(1)"]]
    await bot_models.run_next_training(sessions, failing)
    async with sessions() as s, s.begin():
        run = await s.get(BotModel, queued.id)
        assert run.state == "failed" and "InvalidDomain" in run.log_tail and run.path is None
        with pytest.raises(bot_models.BotModelError, match="only a trained model"):
            await bot_models.publish(s, run.id, "tess@kumo.test")
        with pytest.raises(bot_models.BotModelError, match="no model #999"):
            await bot_models.publish(s, 999, "tess@kumo.test")
        assert await bot_models.run_next_training(sessions, failing) is None   # nothing queued


async def test_a_run_whose_desk_died_does_not_block_the_next(sessions, monkeypatch):
    brand_id = await _brand(sessions)
    async with sessions() as s, s.begin():
        s.add(BotModel(brand_id=brand_id, state="training", requested_by="x", requested_at=utcnow(),
                       started_at=utcnow() - dt.timedelta(hours=3)))
    async with sessions() as s, s.begin():
        run = await bot_models.request_training(s, brand_id, "tess@kumo.test")
        assert run.state == "queued"
        states = sorted(m.state for m in await bot_models.history(s))
        assert states == ["failed", "queued"]


async def test_a_model_below_the_quality_goals_is_trained_with_its_figures(sessions, tmp_path, monkeypatch):
    """The scoring step exits 1 when a goal is missed: the model is still there to look at."""
    monkeypatch.setenv("BOT_MODELS_DIR", str(tmp_path))
    brand_id = await _brand(sessions)
    async with sessions() as s, s.begin():
        queued = await bot_models.request_training(s, brand_id, "tess@kumo.test")

    def below_goals(directory, name):
        steps = writes_a_model("one")(directory, name)[:2]
        return steps + [[sys.executable, "-c", "import sys; print('{\"ja\": {\"intent_f1\": 0.71}, "
                                               "\"goals_met\": false}'); sys.exit(1)"]]
    await bot_models.run_next_training(sessions, below_goals)
    async with sessions() as s:
        run = await s.get(BotModel, queued.id)
        assert (run.state, run.figures) == ("trained", {"ja": {"intent_f1": 0.71}, "goals_met": False})


def test_a_run_trains_the_trainers_knowledge_with_the_configured_pipeline(tmp_path, monkeypatch):
    """KNOWLEDGE_DIR (where the console writes), BOT_TRAINING_CONFIG and BOT_TRAINING_DIR reach
    the commands; a training directory of its own gets a copy of the project's domain and data
    and the FAQ's generated files, and the project's own stay as they were."""
    import shutil

    import knowledge
    from knowledge import build

    faq, work, config = tmp_path / "faq", tmp_path / "work", tmp_path / "small.yml"
    shutil.copytree(knowledge.FAQ_DIR, faq)
    from desk.services import trainer
    trainer.add_question("opening_hours", "wen r u open mate", faq)      # as the console does
    config.write_text("recipe: default.v1\n")
    monkeypatch.setenv("KNOWLEDGE_DIR", str(faq))
    monkeypatch.setenv("BOT_TRAINING_CONFIG", str(config))
    monkeypatch.setenv("BOT_TRAINING_DIR", str(work))
    project_nlu = (bot_models.ROOT / "data" / "nlu" / "faq.yml").read_text()

    build_step, train, score = bot_models.training_commands(tmp_path / "models", "model-9")
    assert build_step[-4:] == ["--root", str(work), "--faq", str(faq)]
    assert train[train.index("--config") + 1] == str(config)
    assert (train[train.index("--domain") + 1], train[train.index("--data") + 1]) == (
        str(work / "domain.yml"), str(work / "data"))
    assert score[score.index("--out") + 1] == str(tmp_path / "models" / "model-9-quality")
    assert score[-4:] == build_step[-4:]        # the quality check reads what the build wrote
    bot_models.prepare_training_dir(work)
    assert build.main(build_step[3:]) == 0
    assert "wen r u open mate" in (work / "data" / "nlu" / "faq.yml").read_text()
    assert (work / "domain.yml").read_text() == (bot_models.ROOT / "domain.yml").read_text()
    assert (bot_models.ROOT / "data" / "nlu" / "faq.yml").read_text() == project_nlu
    assert build.main(["--check", *score[-4:]]) == 0 and build.main(["--check", "--faq", str(faq)]) == 1


def test_without_settings_a_run_trains_the_project_as_make_train_does(monkeypatch, tmp_path):
    for name in ("KNOWLEDGE_DIR", "BOT_TRAINING_CONFIG", "BOT_TRAINING_DIR"):
        monkeypatch.delenv(name, raising=False)
    build_step, train, _ = bot_models.training_commands(tmp_path, "model-1")
    assert build_step[-2:] == ["--root", str(bot_models.ROOT)]
    assert train[train.index("--config") + 1] == str(bot_models.ROOT / "config.yml")
    bot_models.prepare_training_dir(bot_models.ROOT)      # the project itself: nothing copied


async def test_a_model_that_scores_worse_is_published_only_with_a_reason(sessions, tmp_path, monkeypatch):
    monkeypatch.setenv("BOT_MODELS_DIR", str(tmp_path))
    brand_id = await _brand(sessions)
    ids = []
    for payload, figures in (("good", '{"en": {"intent_f1": 0.97, "response_accuracy": 1.0}, "ja": {"intent_f1": 0.93}}'),
                             ("worse", '{"en": {"intent_f1": 0.97, "response_accuracy": 0.99}, "ja": {"intent_f1": 0.9}}')):
        async with sessions() as s, s.begin():
            ids.append((await bot_models.request_training(s, brand_id, "tess@kumo.test")).id)
        await bot_models.run_next_training(sessions, writes_a_model(payload, figures))
    good, worse = ids
    async with sessions() as s, s.begin():
        await bot_models.publish(s, good, "tess@kumo.test")   # nothing in service yet: no comparison
    async with sessions() as s, s.begin():
        for reason in (None, "   "):
            with pytest.raises(bot_models.WorseModel) as refused:
                await bot_models.publish(s, worse, "tess@kumo.test", reason=reason)
        assert refused.value.worse == ["en: article accuracy 0.990 < 1.000", "ja: intent F1 0.900 < 0.930"]
        assert (await bot_models.published(s)).id == good
    async with sessions() as s, s.begin():
        model = await bot_models.publish(s, worse, "tess@kumo.test", reason=" the new refund flow matters more ")
        assert (model.state, model.publish_reason) == ("published", "the new refund flow matters more")
    async with sessions() as s, s.begin():
        back = await bot_models.publish(s, good, "ada@kumo.test")   # better than what is in service: no reason
        assert (back.state, back.publish_reason) == ("published", None)


async def test_a_run_says_which_step_it_is_at_while_it_trains(sessions, tmp_path, monkeypatch):
    import asyncio

    monkeypatch.setenv("BOT_MODELS_DIR", str(tmp_path))
    brand_id = await _brand(sessions)
    go_on = tmp_path / "go-on"
    waits = [sys.executable, "-c", f"import pathlib, time\nwhile not pathlib.Path({str(go_on)!r}).exists(): time.sleep(0.05)"]

    def commands(directory: Path, name: str) -> list[list[str]]:
        build, write, score = writes_a_model("one")(directory, name)
        return [build, [*waits], write, score]

    async with sessions() as s, s.begin():
        queued = await bot_models.request_training(s, brand_id, "tess@kumo.test")
    running = asyncio.create_task(bot_models.run_next_training(sessions, commands))

    async def progress():
        async with sessions() as s:
            return (await s.get(BotModel, queued.id, populate_existing=True)).progress
    for _ in range(400):   # the second step waits for the file: the run is seen there
        if await progress() == "2/4 step":
            break
        await asyncio.sleep(0.05)
    assert await progress() == "2/4 step"
    go_on.touch()
    run = await asyncio.wait_for(running, 60)
    assert (run.state, run.progress) == ("trained", None)
    assert [bot_models.step_name(c) for c in bot_models.training_commands(tmp_path, "m")] == ["build", "train", "score"]
