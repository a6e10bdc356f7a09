"""What an innovation could still gain: the path's candidate order and the score email's advice."""

import json
from typing import Any

from inovda_cli import samples
from inovda_scoring.domain import InnovationScore, load_rubric, score_innovation
from inovda_scoring.domain.potential import improvement_potential, top_improvements
from inovda_shared.contracts.intake import InnovationReport

RUBRIC = load_rubric(2026)


def scored(**overrides: Any) -> InnovationScore:
    report = InnovationReport.model_validate_json(json.dumps(samples.innovation(**overrides)))
    return score_innovation(report, RUBRIC)


def test_top_improvements_rank_indicators_by_points_within_reach() -> None:
    # The sample claims 16 (w3, level 2), 17 (w2, 2), 32 (w2, 3), 33 (w3, 2), 35 (w4, 1): maturity 26.
    improvements = top_improvements(scored(), RUBRIC)
    assert [(item.indicator_id, item.level, item.points) for item in improvements] == [
        ("31", 0, 9),  # replication, weight 3, not filled: 3 x 3
        ("35", 1, 8),  # video, weight 4, level 1 -> 3
        ("18", 0, 6),  # budget, weight 2, not filled (ties with 19, 21, 28, 30, 34: lowest id first)
    ]


def test_an_indicator_without_evidence_can_regain_its_whole_score() -> None:
    indicators = samples.innovation()["indicators"]
    indicators["35"] = {"level": 3, "evidence": []}
    improvements = top_improvements(scored(indicators=indicators), RUBRIC)
    assert (improvements[0].indicator_id, improvements[0].has_evidence, improvements[0].points) == ("35", False, 12)


def test_potential_is_zero_for_an_innovation_that_cannot_count_this_year() -> None:
    assert improvement_potential(scored(stage="uji_coba"), RUBRIC) == 0
    eligible = scored()
    assert improvement_potential(eligible, RUBRIC) == 111 - 26
    fixable = scored(design="terlalu pendek")
    assert improvement_potential(fixable, RUBRIC) == 111
