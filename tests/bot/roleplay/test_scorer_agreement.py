"""The scorer agrees with the hand-scored transcripts in tests/roleplay_labelled."""
from bot.evaluation.scorer import agreement


def test_scorer_follows_the_rubric_as_applied_by_hand():
    result = agreement()
    assert len(result.rows) >= 20
    assert {row[2] for row in result.rows} >= {"en", "zh-Hans"}
    assert result.mad(3) <= 5
    assert result.rho(3) >= 0.9


def test_scorer_agrees_with_an_independent_holistic_rater():
    result = agreement()
    assert result.mad(4) <= 12
    assert result.rho(4) >= 0.85
