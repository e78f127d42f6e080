"""The desk speaks the customer's language (SQLite and PostgreSQL): the chat's language
from what they write, the brand's languages and default, and every text the desk sends
on its own (notices, the survey, the timers' closing notes, the bot's idle nudges)."""
import datetime as dt

import pytest
from sqlalchemy import select

from desk.models import Chat, CsatSurvey, Direction, Message, OutboxMessage, WhatsAppBusinessAccount, utcnow
from desk.services import conversations, csat, customer_notices, notices, routing, settings, timers
from tests.desk import seed

pytestmark = pytest.mark.usefixtures("mid_month_clock")  # tests/conftest.py: a fixed mid-month desk clock

KANA = "ぁ-ヿ"


@pytest.fixture
async def brand_id(sessions):
    async with sessions() as s, s.begin():
        number = await seed.brand_with_number(s)
        return (await s.get(WhatsAppBusinessAccount, number.waba_id)).brand_id


async def write(sessions, wa_id, text, *, type="text", n=0):
    async with sessions() as s, s.begin():
        at = utcnow().replace(microsecond=0) + dt.timedelta(seconds=n)
        chat, _ = await conversations.record_inbound(
            s, phone_number_id=seed.PNID, wa_id=wa_id, profile_name="田中 太郎", wamid=f"wamid.{wa_id}.{n}",
            type=type, body=text, payload={}, wa_timestamp=at)
        return chat.id, chat.language


async def bodies(sessions, chat_id):
    async with sessions() as s:
        return (await s.execute(select(Message.body).where(Message.chat_id == chat_id, Message.direction == Direction.outbound)
                                .order_by(Message.id))).scalars().all()


# -- the chat's language ------------------------------------------------------------------

async def test_the_chat_takes_the_language_the_customer_writes_and_keeps_it_for_short_replies(sessions, brand_id):
    assert (await write(sessions, "819012345678", None, type="image", n=0))[1] is None  # no text yet
    assert (await write(sessions, "819012345678", "注文をキャンセルしたいです", n=1))[1] == "ja"
    assert (await write(sessions, "819012345678", "ok", n=2))[1] == "ja"              # too short to switch
    assert (await write(sessions, "819012345678", "👍", n=3))[1] == "ja"
    assert (await write(sessions, "819012345678", "can you write in english please", n=4))[1] == "en"
    assert (await write(sessions, "819012345678", "はい", n=5))[1] == "en"


async def test_the_brand_default_language_is_the_number_s_until_the_customer_writes(sessions, brand_id):
    async with sessions() as s, s.begin():
        assert await settings.default_language_of_number(s, seed.PNID) == "en"
        await settings.update(s, brand_id, languages=["ja", "en"], default_language="ja")
    async with sessions() as s:
        assert await settings.default_language_of_number(s, seed.PNID) == "ja"
        assert await settings.default_language_of_number(s, "unknown") == "en"


# -- the brand's languages ----------------------------------------------------------------

async def test_languages_default_language_and_time_zone_are_validated_with_the_reason(sessions, brand_id):
    async with sessions() as s, s.begin():
        cfg = await settings.get(s, brand_id)
        assert settings.languages_json(cfg) == {"languages": ["en", "ja"], "default_language": "en",
                                                "time_zone": "UTC", "available_languages": ["en", "ja"]}
        cfg = await settings.update(s, brand_id, languages=["ja", "en"], default_language="ja",
                                    time_zone="Asia/Tokyo")
        assert (cfg.languages, cfg.default_language, cfg.time_zone) == (("ja", "en"), "ja", "Asia/Tokyo")
    for bad, reason in [({"languages": ["ja", "ko"]}, "'ko' is not a language of the desk"),
                        ({"languages": []}, "non-empty list"),
                        ({"languages": "ja"}, "non-empty list"),
                        ({"default_language": "ko"}, "one of the brand's languages"),
                        ({"languages": ["en"]}, "choose another default first"),   # the default is ja
                        ({"languages": ["en"], "default_language": "ja"}, "one of the brand's languages"),
                        ({"time_zone": "Asia/Tokio"}, "'Asia/Tokio' is not a time zone"),
                        ({"time_zone": "../../etc/passwd"}, "not a time zone"),
                        ({"time_zone": 9}, "IANA name")]:
        async with sessions() as s, s.begin():
            with pytest.raises(settings.SettingsError, match=reason):
                await settings.update(s, brand_id, **bad)
    async with sessions() as s, s.begin():
        cfg = await settings.update(s, brand_id, languages=["en"], default_language="en")
        assert (cfg.languages, cfg.default_language, cfg.time_zone) == (("en",), "en", "Asia/Tokyo")


# -- texts per language -------------------------------------------------------------------

async def test_notices_are_texts_per_language_and_old_plain_strings_are_the_default_language_s(sessions, brand_id):
    assert settings.parse_notices({notices.OPERATOR_JOINED: "Hi, {operator} here!"}, "en")[notices.OPERATOR_JOINED] \
        == {"en": "Hi, {operator} here!", "ja": notices.CUSTOMER_DEFAULTS[notices.OPERATOR_JOINED]["ja"]}
    assert settings.parse_notices({notices.OPERATOR_JOINED: "{operator}です"}, "ja")[notices.OPERATOR_JOINED] \
        == {"en": notices.CUSTOMER_DEFAULTS[notices.OPERATOR_JOINED]["en"], "ja": "{operator}です"}
    assert settings.parse_notices({notices.TRANSFERRED: ""}, "en")[notices.TRANSFERRED] == {"en": "", "ja": ""}
    async with sessions() as s, s.begin():
        await settings.update(s, brand_id, notices={notices.TRANSFERRED: {"ja": "{department}へおつなぎしました。"}})
        cfg = await settings.update(s, brand_id, notices={notices.TRANSFERRED: {"en": "Over to {department}."}})
        assert cfg.notices[notices.TRANSFERRED] == {"en": "Over to {department}.", "ja": "{department}へおつなぎしました。"}
    for bad, reason in [({notices.TRANSFERRED: {"ko": "x"}}, "'ko' is not a language"),
                        ({notices.TRANSFERRED: {"ja": "{name}様"}}, "not {name}"),
                        ({notices.TRANSFERRED: {"ja": 3}}, "in ja is a text"),
                        ({notices.TRANSFERRED: {"ja": "あ" * 1025}}, "at most 1024"),
                        ({"hello": "x"}, "notices are")]:
        async with sessions() as s, s.begin():
            with pytest.raises(settings.SettingsError, match=reason):
                await settings.update(s, brand_id, notices=bad)


@pytest.mark.parametrize("writes, default, expected", [
    ("在庫はありますか？", "en", "担当窓口へおつなぎしました。"),
    ("do you have this in stock", "ja", "Over to our team."),
    (None, "ja", "担当窓口へおつなぎしました。"),     # only a photo: the brand's default
    (None, "en", "Over to our team."),
])
async def test_a_notice_goes_out_in_the_chat_s_language_else_the_brand_default(sessions, brand_id, writes,
                                                                               default, expected):
    async with sessions() as s, s.begin():
        await settings.update(s, brand_id, default_language=default, notices={notices.TRANSFERRED: {
            "en": "Over to {department}.", "ja": "{department}へおつなぎしました。"}})
    chat_id, _ = await write(sessions, "819011112222", writes, type="text" if writes else "image")
    async with sessions() as s, s.begin():
        await customer_notices.tell(s, await s.get(Chat, chat_id), notices.TRANSFERRED)
    assert await bodies(sessions, chat_id) == [expected]


async def test_a_brand_that_does_not_speak_the_customer_s_language_writes_in_its_default(sessions, brand_id):
    async with sessions() as s, s.begin():
        await settings.update(s, brand_id, languages=["en"])
    chat_id, language = await write(sessions, "819044445555", "返品の方法をおしえてください")
    assert language == "ja"   # what the customer writes in, for the console
    async with sessions() as s, s.begin():
        await customer_notices.tell(s, await s.get(Chat, chat_id), notices.TRANSFERRED)
    assert await bodies(sessions, chat_id) == ["I've passed your chat to our team. A colleague will reply here shortly."]


async def test_a_notice_turned_off_in_one_language_is_still_sent_in_the_other(sessions, brand_id):
    async with sessions() as s, s.begin():
        await settings.update(s, brand_id, notices={notices.CLOSED_BY_OPERATOR: {"ja": ""}})
    ja, _ = await write(sessions, "819033334444", "ありがとうございました")
    en, _ = await write(sessions, "447700900555", "thanks a lot for the help")
    async with sessions() as s, s.begin():
        assert await customer_notices.tell(s, await s.get(Chat, ja), notices.CLOSED_BY_OPERATOR) is None
        await customer_notices.tell(s, await s.get(Chat, en), notices.CLOSED_BY_OPERATOR)
    assert await bodies(sessions, ja) == []
    assert (await bodies(sessions, en))[0].startswith("This chat is now closed.")


async def test_the_survey_asks_in_the_chat_s_language_with_japanese_buttons(sessions, brand_id):
    async with sessions() as s, s.begin():
        await settings.update(s, brand_id, csat={"enabled": True, "delay_minutes": 0,
                                                 "question": {"ja": "いかがでしたか？"}})
    ja, _ = await write(sessions, "819055556666", "配送について知りたいです")
    en, _ = await write(sessions, "447700900777", "where is my parcel please")
    async with sessions() as s, s.begin():
        for chat_id in (ja, en):
            await routing.close(s, chat_id, by="ana@example.com", reason="resolved")
    async with sessions() as s, s.begin():
        assert (await csat.run_once(s, now=utcnow() + dt.timedelta(minutes=1))).sent == 2
    async with sessions() as s:
        requests = {m: r for m, r in (await s.execute(
            select(Message.chat_id, OutboxMessage.request).join(Message, Message.id == OutboxMessage.message_id)))}
        surveys = {x.chat_id: x.id for x in (await s.execute(select(CsatSurvey))).scalars()}
    ja_body = requests[ja]["interactive"]
    assert ja_body["body"]["text"] == "いかがでしたか？"
    assert [b["reply"]["title"] for b in ja_body["action"]["buttons"]] == ["😊 良かった", "😐 普通", "🙁 不満"]
    assert [b["reply"]["id"] for b in ja_body["action"]["buttons"]] == [f"csat:{surveys[ja]}:{n}" for n in (3, 2, 1)]
    en_body = requests[en]["interactive"]
    assert en_body["body"]["text"] == settings.CSAT_DEFAULT_QUESTION["en"]   # no English text set: the default
    assert [b["reply"]["title"] for b in en_body["action"]["buttons"]] == ["😊 Great", "😐 Okay", "🙁 Poor"]
    async with sessions() as s, s.begin():
        assert await csat.take_reply(s, phone_number_id=seed.PNID, wa_id="819055556666", type="interactive",
                                     text="😊 良かった", reply_payload=f"csat:{surveys[ja]}:3", wamid="wamid.tap",
                                     raw={}, at=utcnow())
    assert (await bodies(sessions, ja))[-1] == csat.THANKS_ASK_COMMENT["ja"]


async def test_the_bot_idle_nudge_and_close_are_in_the_chat_s_language(sessions, brand_id):
    ja, _ = await write(sessions, "819077778888", "ポイントの使い方をおしえて")
    en, _ = await write(sessions, "447700900999", "how do I use my points")
    async with sessions() as s:  # the later of the two (they may fall in different seconds)
        written = max((await s.get(Chat, ja)).last_user_message_at, (await s.get(Chat, en)).last_user_message_at)
    for minutes in (10, 30):  # the default rules: a nudge after 10 minutes, the close 20 after it
        async with sessions() as s, s.begin():
            await timers.run_bot_idle_rules(s, now=written + dt.timedelta(minutes=minutes))
    nudge, close = settings.DEFAULT_BOT_IDLE_RULES
    assert await bodies(sessions, ja) == [nudge.text["ja"], close.text["ja"]]
    assert await bodies(sessions, en) == [nudge.text["en"], close.text["en"]]


async def test_a_brand_s_idle_rules_take_texts_per_language_and_old_plain_ones(sessions, brand_id):
    async with sessions() as s, s.begin():
        cfg = await settings.update(s, brand_id, bot_idle_rules=[
            {"after_minutes": 5, "action": "nudge", "text": {"en": "Still there?", "ja": "まだいらっしゃいますか？"}},
            {"after_minutes": 5, "action": "close", "text": "Bye for now."}])
        assert cfg.bot_idle_rules[1].text == {"en": "Bye for now."}
        with pytest.raises(settings.SettingsError, match="'fr' is not a language"):
            await settings.update(s, brand_id, bot_idle_rules=[{"after_minutes": 5, "action": "nudge",
                                                                "text": {"fr": "Toujours là ?"}}])
    ja, _ = await write(sessions, "819099990000", "返品したいんですけど")
    async with sessions() as s:
        written = (await s.get(Chat, ja)).last_user_message_at
    for minutes in (5, 10):
        async with sessions() as s, s.begin():
            await timers.run_bot_idle_rules(s, now=written + dt.timedelta(minutes=minutes))
    # no Japanese closing text set: the brand's default language's (English) rather than nothing
    assert await bodies(sessions, ja) == ["まだいらっしゃいますか？", "Bye for now."]


async def test_the_unattended_close_is_in_the_chat_s_language(sessions, brand_id):
    async with sessions() as s, s.begin():
        await settings.update(s, brand_id, unattended_close_minutes=15)
    ja, _ = await write(sessions, "819012120000", "担当者と話したいです")
    async with sessions() as s, s.begin():
        await routing.hand_off(s, ja)
        handed = (await s.get(Chat, ja)).handed_off_at
    async with sessions() as s, s.begin():
        assert (await timers.run_once(s, now=handed + dt.timedelta(minutes=15))).closed_unattended == 1
    assert await bodies(sessions, ja) == [timers.UNATTENDED_CLOSE_TEXT["ja"]]


def test_every_desk_text_exists_in_every_language():
    from desk.language import LANGUAGES

    groups = [*notices.DEFAULTS.values(), *notices.CUSTOMER_DEFAULTS.values(), *notices.FALLBACK_WORDS.values(),
              timers.UNATTENDED_CLOSE_TEXT, timers.IDLE_CLOSE_TEXT, csat.THANKS_ASK_COMMENT, csat.THANKS_COMMENT,
              settings.CSAT_DEFAULT_QUESTION, *(r.text for r in settings.DEFAULT_BOT_IDLE_RULES)]
    for texts in groups:
        assert set(texts) == set(LANGUAGES), texts
    assert set(csat.SCORE_TITLES) == set(LANGUAGES)
    assert notices.text(notices.BOT_UNAVAILABLE, "ja").startswith("申し訳ございません")
    assert notices.text(notices.BOT_UNAVAILABLE, None) == notices.DEFAULTS[notices.BOT_UNAVAILABLE]["en"]
