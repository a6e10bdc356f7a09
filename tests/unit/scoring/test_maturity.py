"""An innovation's maturity and eligibility, hand-computed against the 2026 rubric."""

import datetime as dt

import pytest

from inovda_scoring.domain.index import Contribution
from inovda_scoring.domain.maturity import (
    InnovationFacts,
    eligibility_gaps,
    made_eligible,
    score_facts,
    score_innovation,
)
from inovda_scoring.domain.rubric import load_rubric
from tests.unit.scoring.builders import MANDATORY, MANDATORY_AT_LEVEL_1, levels_at, report

RUBRIC = load_rubric(2026)


def test_indicator_score_is_weight_times_level() -> None:
    score = score_innovation(report(levels={**MANDATORY_AT_LEVEL_1, "35": 3, "16": 2, "20": 3}), RUBRIC)
    assert score.indicators["35"].score == 12  # weight 4 x level 3
    assert score.indicators["16"].score == 6  # weight 3 x level 2
    assert score.indicators["20"].score == 3  # weight 1 x level 3
    assert score.maturity == 12 + 6 + 3 + 2 + 2 + 3  # 17, 32 and 33 at level 1: 2 + 2 + 3


def test_an_indicator_without_evidence_scores_zero_but_keeps_its_level() -> None:
    score = score_innovation(report(levels={**MANDATORY_AT_LEVEL_1, "18": 3}, without_evidence=("18",)), RUBRIC)
    assert score.indicators["18"].model_dump() == {
        "level": 3,
        "score": 0.0,
        "has_evidence": False,
        "name": "Dukungan anggaran",
    }
    assert score.maturity == 14
    assert score.eligible  # 18 is not mandatory


def test_maturity_is_at_most_111_and_an_integer() -> None:
    score = score_innovation(report(levels=levels_at(3)), RUBRIC)
    assert score.maturity == 111
    assert isinstance(score.maturity, int)


def test_the_least_eligible_innovation_scores_14() -> None:
    score = score_innovation(report(levels=MANDATORY_AT_LEVEL_1), RUBRIC)
    assert (score.maturity, score.eligible, score.ineligible_reasons) == (14, True, ())


@pytest.mark.parametrize(("words", "eligible"), [(299, False), (300, True)])
def test_design_needs_300_words(words: int, eligible: bool) -> None:
    score = score_innovation(report(design_words=words), RUBRIC)
    assert score.eligible is eligible
    if not eligible:
        assert score.ineligible_reasons == ("Rancang bangun 299 kata; minimal 300 kata.",)


def test_words_are_whitespace_separated_tokens() -> None:
    facts = InnovationFacts.from_report(report(design_words=300))
    assert facts.design_words == 300
    spaced = report().model_copy(update={"design": "satu\tdua\n\ntiga   empat"})
    assert InnovationFacts.from_report(spaced).design_words == 4


@pytest.mark.parametrize(
    ("applied_on", "eligible"),
    [
        (dt.date(2023, 12, 31), False),
        (dt.date(2024, 1, 1), True),
        (dt.date(2025, 12, 31), True),
        (dt.date(2026, 1, 1), False),
    ],
)
def test_application_window_edges_2026(applied_on: dt.date, eligible: bool) -> None:
    score = score_innovation(report(applied_on=applied_on), RUBRIC)
    assert score.eligible is eligible
    if not eligible:
        day = {2023: "31 Desember 2023", 2026: "1 Januari 2026"}[applied_on.year]
        assert score.ineligible_reasons == (
            (
                f"Mulai diterapkan {day}; hanya inovasi yang mulai diterapkan antara 1 Januari 2024 "
                "dan 31 Desember 2025 yang dihitung."
            ),
        )


def test_only_applied_innovations_count() -> None:
    score = score_innovation(report(stage="uji_coba", applied_on=None), RUBRIC)
    assert score.ineligible_reasons == (
        "Tahapan masih 'uji_coba'; hanya inovasi tahap penerapan yang dihitung.",
        "Tanggal mulai penerapan belum diisi; harus antara 1 Januari 2024 dan 31 Desember 2025.",
    )


NAMES = {
    "16": "Regulasi inovasi daerah",
    "17": "Ketersediaan SDM",
    "32": "Kecepatan penciptaan inovasi",
    "33": "Kemanfaatan inovasi",
    "35": "Video inovasi",
}


@pytest.mark.parametrize("indicator_id", MANDATORY)
def test_each_mandatory_indicator_missing(indicator_id: str) -> None:
    levels = {other: 1 for other in MANDATORY if other != indicator_id}
    score = score_innovation(report(levels=levels), RUBRIC)
    assert score.ineligible_reasons == (f"Indikator wajib {indicator_id} ({NAMES[indicator_id]}) belum diisi.",)


@pytest.mark.parametrize("indicator_id", MANDATORY)
def test_each_mandatory_indicator_without_evidence(indicator_id: str) -> None:
    score = score_innovation(report(without_evidence=(indicator_id,)), RUBRIC)
    assert score.ineligible_reasons == (
        f"Indikator wajib {indicator_id} ({NAMES[indicator_id]}) belum memiliki data dukung.",
    )


def test_an_ineligible_innovation_is_still_scored_and_lists_every_reason() -> None:
    score = score_innovation(
        report(
            stage="uji_coba",
            applied_on=dt.date(2023, 5, 2),
            design_words=212,
            levels={"16": 3, "17": 2, "33": 2, "35": 3, "19": 3},
            without_evidence=("35",),
        ),
        RUBRIC,
    )
    assert score.maturity == 9 + 4 + 6 + 6  # 16, 17, 33, 19; 35 has no evidence
    assert not score.eligible
    assert score.ineligible_reasons == (
        "Tahapan masih 'uji_coba'; hanya inovasi tahap penerapan yang dihitung.",
        (
            "Mulai diterapkan 2 Mei 2023; hanya inovasi yang mulai diterapkan antara 1 Januari 2024 "
            "dan 31 Desember 2025 yang dihitung."
        ),
        "Rancang bangun 212 kata; minimal 300 kata.",
        "Indikator wajib 32 (Kecepatan penciptaan inovasi) belum diisi.",
        "Indikator wajib 35 (Video inovasi) belum memiliki data dukung.",
    )


def test_only_reporting_gaps_are_fixable() -> None:
    facts = InnovationFacts.from_report(report(stage="uji_coba", design_words=212, without_evidence=("35",)))
    gaps = eligibility_gaps(facts, RUBRIC)
    assert [gap.fix for gap in gaps] == [
        None,
        "lengkapi rancang bangun menjadi minimal 300 kata (saat ini 212 kata)",
        "unggah data dukung indikator wajib 35 (Video inovasi)",
    ]


def test_made_eligible_closes_every_gap_at_the_least_cost() -> None:
    facts = InnovationFacts.from_report(
        report(stage="uji_coba", applied_on=dt.date(2023, 5, 2), design_words=10, levels={"35": 3, "16": 2})
    )
    fixed = score_facts(made_eligible(facts, RUBRIC), RUBRIC)
    assert fixed.eligible
    assert fixed.facts.applied_on == dt.date(2024, 1, 1)
    assert fixed.maturity == 12 + 6 + 2 + 2 + 3  # 35 and 16 kept, 17, 32 and 33 added at level 1


def test_the_rubric_of_the_innovation_year_decides() -> None:
    innovation = report(year=2023, applied_on=dt.date(2022, 12, 31))
    assert score_innovation(innovation, load_rubric(2023)).eligible
    late = report(year=2023, applied_on=dt.date(2023, 1, 1))
    assert not score_innovation(late, load_rubric(2023)).eligible


def test_contribution_counts_only_basic_service_affairs() -> None:
    score = score_innovation(report(levels=levels_at(2), urusan=("kesehatan", "sosial", "pertanian")), RUBRIC)
    assert score.contribution() == Contribution(
        eligible=True, maturity=74, yandas_affairs=frozenset({"kesehatan", "sosial"})
    )
    ineligible = score_innovation(report(design_words=1, urusan=("pendidikan",)), RUBRIC)
    assert ineligible.contribution() == Contribution(
        eligible=False, maturity=14, yandas_affairs=frozenset({"pendidikan"})
    )


def test_a_stored_score_round_trips_through_json() -> None:
    score = score_innovation(report(levels=levels_at(2), without_evidence=("18",)), RUBRIC)
    restored = type(score).model_validate_json(score.model_dump_json())
    assert restored == score
    assert restored.eligible
