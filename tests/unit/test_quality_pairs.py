"""The worst confusions a training run reports beside its figures (nlp.quality.worst_pairs)."""
from nlp.quality import LabelScore, NluQuality, worst_pairs


def quality(intents, responses):
    return NluQuality(intent_f1=0.9, intent_accuracy=0.9, response_accuracy=0.9, response_f1=0.9, entity_f1={},
                      intents=intents, responses=responses, examples=40, errors=[])


def test_the_most_frequent_confusions_come_first_and_perfect_labels_are_left_out():
    q = quality([LabelScore("greet", 1.0, 10), LabelScore("deny", 0.8, 5, {"affirm": 1})],
                [LabelScore("faq/returns", 0.6, 6, {"faq/exchanges": 3, "faq/refunds": 1}),
                 LabelScore("faq/hours", 0.9, 4, {"faq/holidays": 1})])
    assert worst_pairs(q, n=3) == [
        {"label": "faq/returns", "taken_for": "faq/exchanges", "count": 3, "f1": 0.6},
        {"label": "faq/returns", "taken_for": "faq/refunds", "count": 1, "f1": 0.6},
        {"label": "deny", "taken_for": "affirm", "count": 1, "f1": 0.8},
    ]
    assert worst_pairs(quality([LabelScore("greet", 1.0, 3)], [])) == []
