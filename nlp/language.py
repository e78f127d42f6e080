"""The message's language as an entity, which fills the slot `language` (domain.yml).

A Rasa component (config.yml: nlp.language.LanguageEntityExtractor), thin over
desk.language.detect: the entity `language` ("en"/"ja", extractor
LanguageEntityExtractor) is put on the message only when the message says enough to
set or switch the conversation's language (decisive) or asks for a language by name
(explicit). "はい", "ok" or an emoji carry none, so the slot keeps its value.
The languages are the bot's (knowledge/languages.yml).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ENTITY = "language"
EXTRACTOR = "LanguageEntityExtractor"


def language_entity(text: str, languages: tuple[str, ...] | None = None) -> dict | None:
    """The `language` entity of a message, or None when it says too little."""
    from desk.language import LANGUAGES, detect

    found = detect(text or "", languages or LANGUAGES)
    if found.language is None or not (found.decisive or found.explicit):
        return None
    return {"entity": ENTITY, "value": found.language, "start": 0, "end": len(text),
            "confidence": round(found.confidence, 3), "extractor": EXTRACTOR}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class LanguageEntityExtractor(GraphComponent):
    """Adds the entity `language` when desk.language.detect is decisive or explicit."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"languages": None}   # None: knowledge/languages.yml

    def __init__(self, config: Dict[Text, Any]) -> None:
        languages = config.get("languages")
        if not languages:
            from knowledge import bot_languages

            languages = bot_languages().languages
        self.languages = tuple(languages)

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LanguageEntityExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            entity = language_entity(message.get(TEXT) or "", self.languages)
            if entity is not None:
                message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
