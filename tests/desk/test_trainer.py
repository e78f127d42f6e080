"""The trainer's inbox on a real database, and questions written back to knowledge/faq
(a copy of it): grouped misses, a variant added with the file's comments kept, refusals
in the loader's words, resolutions scoped to the brand."""
import datetime as dt
import shutil

import pytest
from sqlalchemy import select, update

import knowledge
from desk.models import BotMiss, WhatsAppBusinessAccount
from desk.services import bot_misses, numbers, trainer
from tests.clock import MID_MONTH
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock


@pytest.fixture
def faq(tmp_path):
    target = tmp_path / "faq"
    shutil.copytree(knowledge.FAQ_DIR, target)
    return target


@pytest.fixture
async def desk(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        brand_id = (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id
        other = await numbers.ensure_number(s, phone_number_id="999000000000009", waba_id="299",
                                            brand_name="Other brand")
        return {"brand_id": brand_id, "other": other.id}


async def _miss(sessions, question, *, kind="unsure", article="opening_hours", confidence=0.3,
                number=seed.PNID, minutes=0):
    async with sessions() as s, s.begin():
        miss = await bot_misses.record(s, kind=kind, question=question, article=article, confidence=confidence,
                                       phone_number_id=number, wa_id="447700900001")
        await s.execute(update(BotMiss).where(BotMiss.id == miss.id).values(
            created_at=MID_MONTH + dt.timedelta(minutes=minutes)).execution_options(synchronize_session=False))
        return miss.id


async def test_near_duplicates_are_grouped_with_a_count_the_newest_examples_and_the_bots_guess(sessions, desk):
    a = await _miss(sessions, "opening times pls", minutes=1)
    b = await _miss(sessions, "Opening times, pls!", minutes=2, confidence=0.41)
    c = await _miss(sessions, "openin times pls", minutes=3)
    d = await _miss(sessions, "do u do gift wrap", article="gift_cards", kind="not_helpful", minutes=4)
    await _miss(sessions, "opening times pls", number=desk["other"], minutes=5)     # another brand's
    async with sessions() as s:
        groups = await trainer.open_groups(s, desk["brand_id"])
    assert [(sorted(g.ids), g.guess) for g in groups] == [(sorted([a, b, c]), "opening_hours"), ([d], "gift_cards")]
    top = groups[0]
    assert top.examples == ["openin times pls", "Opening times, pls!", "opening times pls"]  # newest first
    assert top.guess_confidence == 0.41 and top.kinds == {"unsure": 3}
    assert groups[1].kinds == {"not_helpful": 1}


async def test_each_group_says_why_its_messages_are_there(sessions, desk):
    """Every reason the bot notes a message: not understood, unsure of the article, an
    unsure intent it went on with, called not helpful, a person asked for after the answer."""
    await _miss(sessions, "opening times pls", kind="fallback", article=None, confidence=None, minutes=1)
    await _miss(sessions, "opening times pls?", kind="low_confidence", confidence=0.58, minutes=2)
    await _miss(sessions, "Opening times pls", kind="handoff", confidence=0.83, minutes=3)
    await _miss(sessions, "opening times, pls", kind="handoff", confidence=0.8, minutes=4)
    await _miss(sessions, "do u do gift wrap", kind="not_helpful", article="gift_cards", minutes=5)
    async with sessions() as s:
        top, other = await trainer.open_groups(s, desk["brand_id"])
    assert top.kinds == {"fallback": 1, "low_confidence": 1, "handoff": 2}
    assert (top.guess, top.guess_confidence) == ("opening_hours", 0.83)
    assert top.as_json()["kinds"] == top.kinds and top.as_json()["count"] == 4
    assert other.kinds == {"not_helpful": 1}


async def test_a_group_becomes_a_question_of_the_article_in_its_file(sessions, desk, faq):
    ids = [await _miss(sessions, "opening times pls"), await _miss(sessions, "opening times pls?")]
    comment = "casual_questions:                # WhatsApp-style writing"
    assert comment in (faq / "hours.yml").read_text()
    assert trainer.add_question("opening_hours", "opening times pls", faq) == "hours.yml"
    text = (faq / "hours.yml").read_text()
    assert comment in text                                   # the file's comments are kept
    article = knowledge.articles_by_id(knowledge.load_articles(faq))["opening_hours"]
    assert "opening times pls" in article.casual_questions
    async with sessions() as s, s.begin():
        assert await trainer.resolve(s, desk["brand_id"], ids, "variant", by="tess@acme.test",
                                     article="opening_hours") == 2
    async with sessions() as s:
        assert await trainer.open_groups(s, desk["brand_id"]) == []
        rows = (await s.execute(select(BotMiss.state, BotMiss.resolution, BotMiss.resolved_by))).all()
    assert set(rows) == {("variant", "opening_hours", "tess@acme.test")}


def test_a_japanese_question_goes_into_the_articles_japanese_block(faq):
    before = knowledge.articles_by_id(knowledge.load_articles(faq))["opening_hours"]
    assert trainer.add_question("opening_hours", "なんじまであいてますか", faq) == "hours.yml"
    after = knowledge.articles_by_id(knowledge.load_articles(faq))["opening_hours"]
    assert after.text("ja").casual_questions == before.text("ja").casual_questions + ("なんじまであいてますか",)
    assert after.text("en") == before.text("en")
    assert trainer.add_question("opening_hours", "are u open on easter monday", faq) == "hours.yml"
    again = knowledge.articles_by_id(knowledge.load_articles(faq))["opening_hours"]
    assert again.text("en").casual_questions[-1] == "are u open on easter monday"
    assert again.text("ja") == after.text("ja")
    assert trainer.question_language("12345") == "en"           # nothing to tell: the default


def test_the_loaders_problems_refuse_a_question_and_leave_the_file_as_it_was(faq):
    before = (faq / "hours.yml").read_text()
    with pytest.raises(trainer.TrainerError, match="duplicate|twice|already"):
        trainer.add_question("opening_hours", "when are you open?", faq)  # already a question
    with pytest.raises(trainer.TrainerError, match="duplicate"):
        trainer.add_question("opening_hours", "営業時間おしえて", faq)      # already a Japanese one
    with pytest.raises(trainer.TrainerError, match="reserved|\\[|character"):
        trainer.add_question("opening_hours", "open [today]", faq)
    with pytest.raises(trainer.TrainerError, match="no article"):
        trainer.add_question("no_such_article", "hello", faq)
    with pytest.raises(trainer.TrainerError, match="empty"):
        trainer.add_question("opening_hours", "   ", faq)
    assert (faq / "hours.yml").read_text() == before


async def test_resolutions_touch_only_the_brands_own_open_misses(sessions, desk):
    mine = await _miss(sessions, "gift wrap?")
    theirs = await _miss(sessions, "gift wrap?", number=desk["other"])
    async with sessions() as s, s.begin():
        assert await trainer.resolve(s, desk["brand_id"], [mine, theirs], "out_of_scope", by="tess") == 1
        assert await trainer.resolve(s, desk["brand_id"], [mine], "out_of_scope", by="tess") == 0  # already
        with pytest.raises(trainer.TrainerError, match="variant or out_of_scope"):
            await trainer.resolve(s, desk["brand_id"], [mine], "delete", by="tess")


def test_fold_ignores_case_accents_punctuation_and_spacing():
    assert trainer.fold("  Café   OPEN?!  ") == "cafe open"


@pytest.mark.parametrize("path", sorted(knowledge.FAQ_DIR.glob("*.yml")), ids=lambda p: p.name)
def test_every_knowledge_file_reads_and_writes_back_unchanged(path):
    import io
    yaml = trainer.round_trip_yaml()
    out = io.StringIO()
    yaml.dump(yaml.load(path.read_text(encoding="utf-8")), out)
    assert out.getvalue() == path.read_text(encoding="utf-8")
