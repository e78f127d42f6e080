"""The bot's models: trained from the knowledge the trainers edit, checked, published,
and served to the Rasa server, which swaps to a new one without a restart.

- `request_training()` queues a run; the desk worker takes it (`run_next_training`),
  builds the training data from knowledge/ (`python -m knowledge.build`), trains with
  `rasa train` into `BOT_MODELS_DIR`, and scores the new model on the held-out sets
  (`python -m nlp.quality --no-train --json`). A run that fails keeps its log's tail.
- `publish()` makes a trained model the one the bot runs. The desk serves it at
  `GET /bot/model` (Rasa's model server protocol: `ETag` = the model's fingerprint,
  304 when Rasa already has it); Rasa pulls every few seconds with
  `endpoints.model-server.yml` and loads it in place. Each pull sends the fingerprint
  Rasa runs (`If-None-Match`): that is how the console knows which model is *live*.
- Before anything is published, the model `make train` wrote (models/tsunagi.tar.gz)
  is served as the base model.

What a run trains from: the FAQ articles in `KNOWLEDGE_DIR` (where the console writes
them; default knowledge/faq), the pipeline and policies of `BOT_TRAINING_CONFIG`
(default config.yml; a quick check, or tests/e2e, can train a small few-epoch pipeline
the same way), built into `BOT_TRAINING_DIR` (default the project itself, whose
generated data/ is then up to date; another directory gets a fresh copy of the
project's domain.yml and data/ first, so the project's files stay as they are).
"""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from desk.models import BotModel, utcnow

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
BASE_MODEL = ROOT / "models" / "tsunagi.tar.gz"
STATES = ("queued", "training", "trained", "failed", "published", "retired")
LOG_TAIL = 4000
STALE_TRAINING = dt.timedelta(hours=2)  # a run "training" this long lost its desk process


# The held-out figures a new model must not fall below (per language; nlp.quality --json).
COMPARED_FIGURES = (("intent_f1", "intent F1"), ("response_accuracy", "article accuracy"))


def regressions(new: dict | None, old: dict | None) -> list[str]:
    """Where `new` scores worse than `old` on the held-out sets, for people
    ("ja: intent F1 0.912 < 0.942"); only figures both models have count."""
    out = []
    for language, theirs in sorted((old or {}).items()):
        ours = (new or {}).get(language)
        if not isinstance(theirs, dict) or not isinstance(ours, dict):
            continue
        for key, label in COMPARED_FIGURES:
            a, b = ours.get(key), theirs.get(key)
            if isinstance(a, (int, float)) and isinstance(b, (int, float)) and a < b:
                out.append(f"{language}: {label} {a:.3f} < {b:.3f}")
    return out


class BotModelError(ValueError):
    """A request about the bot's models that cannot be done; `str()` says why."""


def models_dir() -> Path:
    return Path(os.environ.get("BOT_MODELS_DIR") or ROOT / "var" / "bot_models")


def fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


async def request_training(session: AsyncSession, brand_id: int, by: str, note: str | None = None) -> BotModel:
    """Queue a training run; one at a time per desk (a second request while one is
    queued or training is refused)."""
    busy = (await session.execute(select(BotModel).where(BotModel.state.in_(("queued", "training")))
                                  .limit(1))).scalar_one_or_none()
    if busy is not None and busy.state == "training" and busy.started_at < utcnow() - STALE_TRAINING:
        busy.state, busy.finished_at = "failed", utcnow()   # its desk stopped in the middle
        busy.log_tail = (busy.log_tail or "") + "\nthe desk stopped during this run"
        busy = None
    if busy is not None:
        raise BotModelError(f"model #{busy.id} is already {busy.state}: wait for it to finish")
    run = BotModel(brand_id=brand_id, state="queued", requested_by=by, note=(note or "").strip()[:500] or None,
                   requested_at=utcnow())
    session.add(run)
    await session.flush()
    return run


async def history(session: AsyncSession, brand_id: int | None = None, limit: int = 20) -> list[BotModel]:
    """The newest runs; with `brand_id`, only those that brand's trainers asked for (a
    brand sees neither another brand's notes nor its people)."""
    query = select(BotModel).order_by(BotModel.id.desc()).limit(limit)
    if brand_id is not None:
        query = query.where(BotModel.brand_id == brand_id)
    return list((await session.execute(query)).scalars())


async def published(session: AsyncSession) -> BotModel | None:
    return (await session.execute(select(BotModel).where(BotModel.state == "published")
                                  .order_by(BotModel.published_at.desc()).limit(1))).scalar_one_or_none()


class WorseModel(BotModelError):
    """The model scores worse on the held-out sets than the one in service: published
    only with a reason (the trainer's override)."""

    def __init__(self, model_id: int, current_id: int, worse: list[str]):
        super().__init__(f"model #{model_id} scores worse than model #{current_id} in service "
                         f"({'; '.join(worse)}): publish it with a reason, or train again")
        self.worse = worse


async def publish(session: AsyncSession, model_id: int, by: str, brand_id: int | None = None,
                  reason: str | None = None) -> BotModel:
    """The bot runs this model from its next pull; the one published before is retired.
    With `brand_id`, only a run of that brand's (another brand's is "no model"). A model
    that scores worse than the one in service (`regressions`) needs a `reason`, kept
    with it (WorseModel otherwise)."""
    model = await session.get(BotModel, model_id)
    if model is None or (brand_id is not None and model.brand_id != brand_id):
        raise BotModelError(f"no model #{model_id}")
    if model.state not in ("trained", "retired"):
        raise BotModelError(f"model #{model.id} is {model.state}: only a trained model can be published")
    if not model.path or not Path(model.path).exists():
        raise BotModelError(f"model #{model.id}'s file is gone: train again")
    current = await published(session)
    worse = regressions(model.figures, current.figures) if current is not None and current.id != model.id else []
    reason = (reason or "").strip() or None
    if worse and reason is None:
        raise WorseModel(model.id, current.id, worse)
    await session.execute(update(BotModel).where(BotModel.state == "published").values(state="retired"))
    model.state, model.published_at, model.published_by = "published", utcnow(), by
    model.publish_reason = reason if worse else None
    if worse:
        log.warning("bot models: %s published model #%s over #%s although it scores worse (%s): %s",
                    by, model.id, current.id, "; ".join(worse), reason)
    await session.flush()
    return model


@dataclass(frozen=True)
class Served:
    """What `GET /bot/model` hands Rasa: a file and its fingerprint (the ETag)."""

    path: Path
    etag: str
    model_id: int | None   # None: the base model of `make train`


async def served(session: AsyncSession) -> Served | None:
    model = await published(session)
    if model is not None and model.path and Path(model.path).exists():
        return Served(Path(model.path), model.fingerprint, model.id)
    if BASE_MODEL.exists():
        return Served(BASE_MODEL, "base-" + fingerprint(BASE_MODEL)[:32], None)
    return None


async def note_pull(session: AsyncSession, running: str | None, at: dt.datetime) -> None:
    """Rasa pulled, running the model of fingerprint `running`: that model is live."""
    if not running:
        return
    model = (await session.execute(select(BotModel).where(BotModel.fingerprint == running))).scalar_one_or_none()
    if model is not None:
        model.live_at = at


# --- the training run (the desk worker) -------------------------------------------------

def training_dir() -> Path:
    """Where a run builds the training data and trains from (BOT_TRAINING_DIR)."""
    return Path(os.environ.get("BOT_TRAINING_DIR") or ROOT)


def training_config() -> Path:
    """The pipeline and policies a run trains with (BOT_TRAINING_CONFIG)."""
    return Path(os.environ.get("BOT_TRAINING_CONFIG") or ROOT / "config.yml")


def prepare_training_dir(work: Path) -> None:
    """A training directory other than the project: a fresh copy of the project's
    domain and data (knowledge.build then writes the FAQ's generated files into it)."""
    if work.resolve() == ROOT.resolve():
        return
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ROOT / "domain.yml", work / "domain.yml")
    shutil.rmtree(work / "data", ignore_errors=True)
    shutil.copytree(ROOT / "data", work / "data")


def training_commands(model_dir: Path, name: str) -> list[list[str]]:
    """Build the data from the knowledge, train, score: the same steps as `make train`
    and `make quality`, on KNOWLEDGE_DIR, BOT_TRAINING_CONFIG and BOT_TRAINING_DIR.

    The build is the run's validation: the knowledge loader refuses what a trainer can
    get wrong (duplicates, characters, limits) before anything is trained. Rasa's own
    check of the domain, rules and stories is skipped here (`--skip-validation`): a
    trainer changes none of them, `make validate` checks them in CI (failing on
    warnings too), and it costs a fifth of a small pipeline's run."""
    py = sys.executable
    work = training_dir()
    sources = ["--root", str(work)]
    if os.environ.get("KNOWLEDGE_DIR"):
        sources += ["--faq", os.environ["KNOWLEDGE_DIR"]]
    build = [py, "-m", "knowledge.build", *sources]
    return [
        build,
        [py, "-m", "rasa", "train", "--config", str(training_config()), "--domain", str(work / "domain.yml"),
         "--data", str(work / "data"), "--fixed-model-name", name, "--out", str(model_dir), "--quiet",
         "--skip-validation"],
        [py, "-m", "nlp.quality", "--no-train", "--no-core", "--model", str(model_dir / f"{name}.tar.gz"), "--json",
         "--out", str(model_dir / f"{name}-quality"), *sources],
    ]


def step_name(command: list[str]) -> str:
    """A training step for people: build, train or score (else the command's own name)."""
    line = " ".join(command[1:4])
    for marker, name in (("knowledge.build", "build"), ("rasa train", "train"), ("nlp.quality", "score")):
        if marker in line:
            return name
    return "step"


async def _run(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(*command, cwd=str(ROOT), env=env, stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.STDOUT)
    try:
        out, _ = await proc.communicate()
    except asyncio.CancelledError:  # the desk is stopping: no orphan training on the CPU
        proc.kill()
        await proc.wait()
        raise
    return proc.returncode or 0, out.decode("utf-8", "replace")


def _figures(output: str) -> dict | None:
    """The last JSON object the quality command printed."""
    for line in reversed(output.strip().splitlines()):
        line = line.strip()
        if line.startswith("{") and line.endswith("}"):
            try:
                return json.loads(line)
            except ValueError:
                return None
    return None


async def run_next_training(sessions, commands=training_commands) -> BotModel | None:
    """Take the oldest queued run and do it (minutes: Rasa trains on the CPU)."""
    async with sessions() as session, session.begin():
        run = (await session.execute(select(BotModel).where(BotModel.state == "queued")
                                     .order_by(BotModel.id).limit(1))).scalar_one_or_none()
        if run is None:
            return None
        claimed = await session.execute(update(BotModel).where(BotModel.id == run.id, BotModel.state == "queued")
                                        .values(state="training", started_at=utcnow()))
        if claimed.rowcount != 1:
            return None  # another worker took it
        run_id = run.id
    directory = models_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"model-{run_id}"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2",
           "PYTHONPATH": str(ROOT)}
    output, state, figures = [], "trained", None
    if commands is training_commands:
        prepare_training_dir(training_dir())
    steps = commands(directory, name)
    for i, command in enumerate(steps):
        async with sessions() as session, session.begin():   # what the console shows meanwhile
            await session.execute(update(BotModel).where(BotModel.id == run_id).values(
                progress=f"{i + 1}/{len(steps)} {step_name(command)}"))
        code, text = await _run(command, env)
        output.append(f"$ {' '.join(command[1:])}\n{text}")
        figures = _figures(text) or figures
        if code != 0 and not (i == len(steps) - 1 and figures):
            # (the last step scores the model: goals not met is a figure to show, not a failed run)
            state = "failed"
            break
    path = directory / f"{name}.tar.gz"
    if state == "trained" and not path.exists():
        state = "failed"
        output.append(f"no model at {path}")
    async with sessions() as session, session.begin():
        run = await session.get(BotModel, run_id)
        run.state, run.finished_at, run.progress = state, utcnow(), None
        run.log_tail = "".join(output)[-LOG_TAIL:]
        run.figures = figures
        if state == "trained":
            run.path, run.fingerprint, run.size = str(path), fingerprint(path), path.stat().st_size
    log.info("bot models: run %s %s", run_id, state)
    return run
