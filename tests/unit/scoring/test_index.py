"""The region index, hand-computed, and the incremental aggregate against a full recomputation."""

from decimal import Decimal
from fractions import Fraction

import pytest

from inovda_scoring.domain.index import (
    Contribution,
    RegionTotals,
    TotalsDelta,
    compute_index,
    full_totals,
    round_half_up,
)
from inovda_scoring.domain.rubric import load_rubric
from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS
from tests.unit.scoring.builders import spd_at

RUBRIC = load_rubric(2026)
FIVE_AFFAIRS = dict.fromkeys(BASIC_SERVICE_AFFAIRS[:5], 1)
FOUR_AFFAIRS = dict.fromkeys(BASIC_SERVICE_AFFAIRS[:4], 1)


def totals(sum_maturity: int, n: int, affairs: dict[str, int] | None = None) -> RegionTotals:
    return RegionTotals(sum_maturity=sum_maturity, n=n, affair_counts=affairs or {})


def test_a_whole_index_by_hand() -> None:
    figures = compute_index(totals(1600, 20, FIVE_AFFAIRS), spd_at(2), RUBRIC)
    # SPD 21 x 2 = 42; SID 1600 / 20 + 20 x 0.38 = 80 + 7.6; (42 + 87.6) / 250 x 100 = 51.84
    assert figures.model_dump() == {
        "spd": 42.0,
        "n": 20,
        "divisor": 20,
        "sum_maturity": 1600,
        "average_maturity": 80.0,
        "count_score": 7.6,
        "sid": 87.6,
        "total": 129.6,
        "iid": 51.84,
        "predicate": "Inovatif",
        "next_predicate": "Sangat Inovatif",
        "next_predicate_iid": 65.01,
        "yandas_covered": list(BASIC_SERVICE_AFFAIRS[:5]),
        "yandas_missing": ["sosial"],
    }


def test_spd_counts_missing_indicators_as_zero() -> None:
    assert compute_index(totals(0, 0), {"12": 3, "5a": 2}, RUBRIC).spd == 2 * 3 + 0.75 * 2


def test_spd_level_outside_1_to_3_is_refused() -> None:
    with pytest.raises(ValueError, match="SPD indicator 12 has level 4"):
        compute_index(totals(0, 0), {"12": 4}, RUBRIC)


def test_fewer_than_12_innovations_divide_by_12() -> None:
    figures = compute_index(totals(500, 5), {}, RUBRIC)
    assert figures.divisor == 12
    assert figures.average_maturity == pytest.approx(500 / 12)


def test_13_innovations_divide_by_13() -> None:
    figures = compute_index(totals(1300, 13), {}, RUBRIC)
    assert (figures.divisor, figures.average_maturity) == (13, 100.0)


def test_2023_divides_by_at_least_10() -> None:
    assert compute_index(totals(500, 5), {}, load_rubric(2023)).divisor == 10


def test_count_score_needs_5_of_the_6_basic_affairs() -> None:
    four = compute_index(totals(1300, 13, FOUR_AFFAIRS), {}, RUBRIC)
    five = compute_index(totals(1300, 13, FIVE_AFFAIRS), {}, RUBRIC)
    assert four.count_score == 0
    assert four.yandas_missing == ["ketenteraman_ketertiban_umum_pelindungan_masyarakat", "sosial"]
    assert five.count_score == pytest.approx(13 * 0.38)
    assert five.iid - four.iid == pytest.approx(13 * 0.38 / 250 * 100, abs=0.01)


def test_count_score_stops_at_200_innovations() -> None:
    figures = compute_index(totals(250 * 50, 250, FIVE_AFFAIRS), {}, RUBRIC)
    assert figures.count_score == 76.0  # 200 x 0.38, not 250 x 0.38


def test_round_half_up_not_half_even() -> None:
    assert round_half_up(Fraction(40005, 1000)) == Decimal("40.01")
    assert round_half_up(Fraction(40015, 1000)) == Decimal("40.02")
    assert round_half_up(Fraction(40004999, 1000000)) == Decimal("40.00")
    assert round_half_up(Fraction(2, 3)) == Decimal("0.67")


def test_an_iid_exactly_halfway_rounds_up() -> None:
    # 8001 / 80 = 100.0125 points, IID 40.005: half up gives 40.01 (Inovatif); half even would give 40.00.
    figures = compute_index(totals(8001, 80), {}, RUBRIC)
    assert (figures.iid, figures.predicate) == (40.01, "Inovatif")


@pytest.mark.parametrize(
    ("sum_maturity", "spd_level", "iid", "predicate"),
    [
        (0, 0, 0.0, "Tidak Dapat Dinilai"),
        (2, 0, 0.01, "Kurang Inovatif"),  # 2 / 80 = 0.025 points
        (8000, 0, 40.0, "Kurang Inovatif"),  # 100 points
        (8002, 0, 40.01, "Inovatif"),  # 100.025 points
        (7960, 3, 65.0, "Inovatif"),  # 63 + 99.5 = 162.5 points
        (7962, 3, 65.01, "Sangat Inovatif"),  # 63 + 99.525 = 162.525 points
    ],
)
def test_band_boundaries(sum_maturity: int, spd_level: int, iid: float, predicate: str) -> None:
    figures = compute_index(totals(sum_maturity, 80), spd_at(spd_level) if spd_level else {}, RUBRIC)
    assert (figures.iid, figures.predicate) == (iid, predicate)


def test_top_band_has_no_next_predicate() -> None:
    figures = compute_index(totals(80 * 111, 80, FIVE_AFFAIRS), spd_at(3), RUBRIC)
    assert (figures.predicate, figures.next_predicate, figures.next_predicate_iid) == ("Sangat Inovatif", None, None)


def eligible(maturity: int, *affairs: str) -> Contribution:
    return Contribution(eligible=True, maturity=maturity, yandas_affairs=frozenset(affairs))


def ineligible(maturity: int, *affairs: str) -> Contribution:
    return Contribution(eligible=False, maturity=maturity, yandas_affairs=frozenset(affairs))


def test_delta_of_a_new_a_revised_and_a_removed_innovation() -> None:
    assert eligible(40, "kesehatan").delta(None) == TotalsDelta(sum_maturity=40, n=1, affair_counts={"kesehatan": 1})
    assert eligible(55, "sosial").delta(eligible(40, "kesehatan")) == TotalsDelta(
        sum_maturity=15, affair_counts={"sosial": 1, "kesehatan": -1}
    )
    assert ineligible(55, "sosial").delta(eligible(40, "sosial")) == TotalsDelta(
        sum_maturity=-40, n=-1, affair_counts={"sosial": -1}
    )
    assert ineligible(30).delta(None).is_empty
    assert eligible(40, "sosial").delta(eligible(40, "sosial")).is_empty
    assert eligible(40, "sosial").removal() == TotalsDelta(sum_maturity=-40, n=-1, affair_counts={"sosial": -1})


def test_incremental_totals_equal_a_full_recomputation() -> None:
    events: list[tuple[str, Contribution | None]] = [
        ("A", eligible(40, "kesehatan")),
        ("B", eligible(70, "pendidikan", "sosial")),
        ("C", ineligible(60, "sosial")),
        ("A", eligible(52, "kesehatan", "sosial")),  # a revision replaces the older one
        ("B", ineligible(70, "pendidikan", "sosial")),  # eligible -> ineligible
        ("C", eligible(61, "sosial")),  # ineligible -> eligible
        ("D", eligible(14)),
        ("D", None),  # removed
    ]
    latest: dict[str, Contribution] = {}
    incremental = RegionTotals()
    for external_id, contribution in events:
        previous = latest.pop(external_id, None)
        if contribution is None:
            assert previous is not None
            incremental = incremental.apply(previous.removal())
        else:
            incremental = incremental.apply(contribution.delta(previous))
            latest[external_id] = contribution
    assert incremental == full_totals(latest.values())
    assert incremental == RegionTotals(sum_maturity=113, n=2, affair_counts={"kesehatan": 1, "sosial": 2})


def test_totals_that_would_go_negative_are_refused() -> None:
    with pytest.raises(ValueError, match="out of step with its innovations; rebuild it with full_totals"):
        RegionTotals().apply(eligible(40, "sosial").removal())


def test_totals_only_count_basic_service_affairs() -> None:
    with pytest.raises(ValueError, match="'pertanian'"):
        RegionTotals(affair_counts={"pertanian": 1})
    with pytest.raises(ValueError, match="'pertanian'"):
        eligible(10, "pertanian")
