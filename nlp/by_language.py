"""One model per language inside the one Rasa model: an intent classifier and a
response selector for each language (config.yml: nlp.by_language.*).

docs/training.md ("One pipeline or one per language") has the measurements: with one
DIETClassifier and one ResponseSelector trained on both languages, English lost
ground (intent F1 0.965 → 0.936, one out-of-scope message answered on the
WhatsApp-style set) although English and Japanese share no features, because the
languages compete for the same classes. So each language gets its own: the
classifier `for_language: en` is trained on the examples without Japanese script
and classifies those messages only, `for_language: ja` the others. Tokenizer,
featurizers, entity extraction and the fallback stay shared, and so does the channel
(a vocabulary per language as well was measured and was no better for English):
a message is routed by its script (nlp.japanese.pipeline_language), the same rule
as the training split, so a bare "ok" or "090-1234-5678" in a Japanese
conversation goes to the English classifier, which has those examples too.
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.nlu.classifiers.diet_classifier import DIETClassifier
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlp.japanese import pipeline_language

FOR_LANGUAGE = "for_language"


class _ForLanguage:
    """Trains on, and processes, the messages of one language only."""

    @property
    def for_language(self) -> str:
        return str(self.component_config.get(FOR_LANGUAGE) or "en")

    def _mine(self, message: Message, training: bool = False) -> bool:
        text = message.get(TEXT)
        if not text:   # label-only training messages (stories) are every language's;
            return training or self.for_language == "en"   # an empty message is English's
        return pipeline_language(text) == self.for_language

    def _own(self, training_data: TrainingData) -> TrainingData:
        return TrainingData(training_examples=[m for m in training_data.training_examples
                                               if self._mine(m, training=True)],
                            entity_synonyms=training_data.entity_synonyms,
                            regex_features=training_data.regex_features,
                            lookup_tables=training_data.lookup_tables,
                            responses=training_data.responses)

    def train(self, training_data: TrainingData) -> Resource:
        return super().train(self._own(training_data))  # type: ignore[misc]

    def process(self, messages: List[Message]) -> List[Message]:
        own = [m for m in messages if self._mine(m)]
        if own:
            super().process(own)  # type: ignore[misc]
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LanguageDIETClassifier(_ForLanguage, DIETClassifier):
    """DIETClassifier for the messages of `for_language`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**DIETClassifier.get_default_config(), FOR_LANGUAGE: "en"}


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LanguageResponseSelector(_ForLanguage, ResponseSelector):
    """ResponseSelector for the messages of `for_language`."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**ResponseSelector.get_default_config(), FOR_LANGUAGE: "en"}
