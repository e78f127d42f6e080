"""The NLU's tokenizer for English and Japanese (config.yml: nlp.tokenizer.BilingualTokenizer).

Every message is width-folded first (NFKC: "ｷｬﾝｾﾙ" is "キャンセル", "ＯＫ" is "OK").
Text with Japanese script is split by SudachiPy (sudachidict_core; split mode
`split_mode`, C by default, docs/training.md compares A/B/C), the lemma being
Sudachi's normalised form so that casual and polite forms meet ("お願い" and
"願います" share 願う); spaces and punctuation are dropped. Other text is split as
SpacyTokenizer did on the project's blank English spaCy model (spaCy's English
rules, on the lower-cased text as SpacyNLP gave it). Offsets are those of the text as
written. The work is nlp/japanese.py's.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from nlp.japanese import SPLIT_MODES, has_japanese, morphemes, normalise_with_offsets

POS_TAG_KEY = "pos"


@functools.lru_cache(maxsize=1)
def _english():
    import spacy

    return spacy.blank("en").tokenizer


def _lower(text: str) -> str:
    """Lower case, as SpacyNLP (case_sensitive: false) gave SpacyTokenizer its text,
    unless that would move offsets (e.g. "İ")."""
    lowered = text.lower()
    return lowered if len(lowered) == len(text) else text


def english_tokens(text: str) -> list[tuple[str, int, int]]:
    """spaCy's English tokens of the NFKC, lower-cased text (what SpacyTokenizer gave
    from SpacyNLP's doc), with offsets into `text`."""
    norm = normalise_with_offsets(text)
    result = []
    for t in _english()(_lower(norm.text)):
        if t.text.strip():
            start, end = norm.span(t.idx, t.idx + len(t.text))
            result.append((t.text, start, end))
    return result


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class BilingualTokenizer(Tokenizer):
    """SudachiPy for Japanese, spaCy's English rules for the rest; NFKC first."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # SudachiPy's split mode: A (shortest units), B (middle), C (named entities whole)
            "split_mode": "C",
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sudachipy", "sudachidict_core", "spacy"]

    def __init__(self, config: Dict[Text, Any]) -> None:
        super().__init__(config)
        self.split_mode = str(self._config.get("split_mode") or "C").upper()
        if self.split_mode not in SPLIT_MODES:
            raise ValueError(f"BilingualTokenizer: split_mode {self.split_mode!r} is not one of "
                             f"{', '.join(SPLIT_MODES)}")

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "BilingualTokenizer":
        return cls(config)

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        text: Optional[str] = message.get(attribute)
        if not text:
            return []
        if has_japanese(text):
            tokens = [Token(_lower(m.text), m.start, m.end, lemma=m.lemma, data={POS_TAG_KEY: m.pos})
                      for m in morphemes(text, self.split_mode)]
        else:
            tokens = [Token(word, start, end, data={POS_TAG_KEY: ""})
                      for word, start, end in english_tokens(text)]
        return self._apply_token_pattern(tokens)
