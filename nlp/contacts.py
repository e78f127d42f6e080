"""E-mail addresses, phone numbers and links in Japanese messages, as entities.

spaCy's English tokenizer splits on spaces, so in "電話番号は090-1234-5678です" its
entity ruler (nlp/build_spacy_model.py) finds nothing, or a span glued to the
Japanese around it. For text with Japanese script this component (config.yml:
nlp.contacts.ContactEntityExtractor, after SpacyEntityExtractor) replaces the ruler's
email/phone/url entities with nlp.japanese.find_contacts' (phone numbers by
`phonenumbers`, Japanese national ones and international ones). English text keeps
the ruler's.
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

from nlp.japanese import find_contacts, has_japanese

EXTRACTOR = "ContactEntityExtractor"
DIMENSIONS = ("email", "phone", "url")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False)
class ContactEntityExtractor(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"region": "JP"}   # the region of national numbers (0X0-XXXX-XXXX)

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.region = str(config.get("region") or "JP")

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "ContactEntityExtractor":
        return cls(config)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not has_japanese(text):
                continue
            kept = [e for e in message.get(ENTITIES) or [] if e.get("entity") not in DIMENSIONS]
            found = [{"entity": c.entity, "value": c.value, "start": c.start, "end": c.end,
                      "confidence": None, "extractor": EXTRACTOR} for c in find_contacts(text, self.region)]
            message.set(ENTITIES, kept + found, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
