"""Every response speaks the conversation's language: Rasa's own generator (the one the
Rasa server uses) over domain.yml, with the slot `language` ja, en and empty."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

ROOT = Path(__file__).resolve().parents[2]
KANA = re.compile(r"[\u3040-\u30ff]")
# Texts without words: the same in every language.
NEUTRAL = {"utter_sticker_in_form"}


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(ROOT / "domain.yml"))


def tracker_in(domain: Domain, language: str | None) -> DialogueStateTracker:
    tracker = DialogueStateTracker.from_events("u", [], domain.slots)
    if language is not None:
        tracker.update(SlotSet("language", language))
    return tracker


async def render(domain: Domain, name: str, language: str | None, **kwargs) -> dict:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    return await nlg.generate(name, tracker_in(domain, language), "whatsapp", **kwargs)


def own_responses(domain: Domain) -> list[str]:
    return sorted(r for r in domain.responses if not r.startswith("utter_faq/"))


async def test_every_response_has_a_japanese_and_an_english_text(rasa_domain):
    names = own_responses(rasa_domain)
    assert len(names) > 40
    for name in names:
        for _ in range(3):  # variations are picked at random: only one may match each time
            ja = (await render(rasa_domain, name, "ja"))["text"]
            en = (await render(rasa_domain, name, "en"))["text"]
            empty = (await render(rasa_domain, name, None))["text"]
            assert en == empty, name
            if name in NEUTRAL:
                assert ja == en
                continue
            assert KANA.search(ja), f"{name} in Japanese: {ja!r}"
            assert not KANA.search(en), f"{name} in English: {en!r}"


async def test_buttons_keep_their_payloads_and_get_japanese_titles(rasa_domain):
    for name in own_responses(rasa_domain):
        ja = await render(rasa_domain, name, "ja")
        en = await render(rasa_domain, name, "en")
        assert [b["payload"] for b in ja.get("buttons") or []] == [b["payload"] for b in en.get("buttons") or []]
        for button in ja.get("buttons") or []:
            assert KANA.search(button["title"]) or re.search(r"[\u4e00-\u9fff]", button["title"]), button
            assert len(button["title"]) <= 20  # WhatsApp's reply-button limit


@pytest.mark.parametrize("language, expected", [
    ("ja", "田中様、こんにちは！"), ("en", "Hello Kerry!"), (None, "Hello Kerry!")])
async def test_the_greeting_fills_the_name_in_each_language(rasa_domain, language, expected):
    name = "田中" if language == "ja" else "Kerry"
    message = await render(rasa_domain, "utter_greet_name", language, first_name=name)
    assert message["text"].startswith(expected)


async def test_a_third_language_falls_back_to_english(rasa_domain):
    """A slot value no variation is written for yet reads the unconditioned (English) text."""
    tracker = DialogueStateTracker.from_events("u", [], rasa_domain.slots)
    tracker.slots["language"].value = "ko"
    nlg = TemplatedNaturalLanguageGenerator(rasa_domain.responses)
    message = await nlg.generate("utter_default", tracker, "whatsapp")
    assert message["text"].startswith("Sorry")
