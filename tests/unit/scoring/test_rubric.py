"""The yearly rubric files: published values, assumptions, and loud failure on a bad file."""

from decimal import Decimal
from importlib import resources

import pytest

from inovda_scoring.domain.rubric import (
    Rubric,
    RubricError,
    UnknownRubricYear,
    available_years,
    load_rubric,
    parse_rubric,
)

YEARS = [2023, 2024, 2025, 2026]


def rubric_text(year: int) -> str:
    return (resources.files("inovda_scoring") / "rubrics" / f"{year}.toml").read_text(encoding="utf-8")


def test_a_file_for_every_assessment_year() -> None:
    assert available_years() == YEARS


@pytest.mark.parametrize("year", YEARS)
def test_weights_sum_to_21_and_37(year: int) -> None:
    rubric = load_rubric(year)
    assert sum(indicator.weight for indicator in rubric.spd.values()) == 21
    assert sum(indicator.weight for indicator in rubric.sid.values()) == 37
    assert 3 * rubric.max_spd_weight == 63
    assert 3 * rubric.max_sid_weight == 111
    assert rubric.max_total == 250
    assert rubric.mandatory_sid_ids == ["16", "17", "32", "33", "35"]
    assert all(isinstance(indicator.weight, int) for indicator in rubric.sid.values())


def test_2026_values_are_the_published_ones_and_assume_nothing() -> None:
    rubric = load_rubric(2026)
    assert rubric.min_divisor == 12
    assert rubric.count_score.per_innovation == Decimal("0.38")
    assert rubric.count_score.cap == 200
    assert rubric.basic_services.min_affairs_covered == 5
    assert str(rubric.eligibility.applied_from) == "2024-01-01"
    assert str(rubric.eligibility.applied_to) == "2025-12-31"
    assert rubric.eligibility.min_design_words == 300
    assert [(name, band.min, band.max) for name, band in rubric.ordered_bands()] == [
        ("Tidak Dapat Dinilai", Decimal("0.00"), Decimal("0.00")),
        ("Kurang Inovatif", Decimal("0.01"), Decimal("40.00")),
        ("Inovatif", Decimal("40.01"), Decimal("65.00")),
        ("Sangat Inovatif", Decimal("65.01"), Decimal("100.00")),
    ]
    assert rubric.assumed == []


def test_2023_divides_by_at_least_10() -> None:
    assert load_rubric(2023).min_divisor == 10


def test_unpublished_values_are_listed_as_assumed() -> None:
    assumed_2025 = load_rubric(2025).assumed
    assert "2025 bands.Inovatif.min: assumed 40.01 from 2026 (not published)" in assumed_2025
    assert "2025 min_divisor: assumed 12 from 2026 (not published)" in assumed_2025
    assert "2024 min_divisor: assumed 10 from 2023 (not published)" in load_rubric(2024).assumed
    assert any(line.startswith("2023 count_score.per_innovation: assumed 0.38") for line in load_rubric(2023).assumed)


def test_2023_and_2024_differ_from_2025_in_indicators_29_30_and_33_only() -> None:
    old, new = load_rubric(2024), load_rubric(2025)
    assert old.sid["30"].name == "Online sistem"
    assert new.sid["30"].name == "Layanan terintegrasi"
    assert old.sid["29"].levels == ("≤ 40%", "40,01–70,99%", "≥ 71%")
    assert old.sid["33"].bases["a"].levels == ("1–100 orang", "101–200 orang", "≥ 201 orang")
    assert new.sid["33"].bases["a"].levels == ("1–200 orang", "201–500 orang", "≥ 501 orang")
    assert load_rubric(2023).sid == old.sid
    assert [i.weight for i in old.sid.values()] == [i.weight for i in new.sid.values()]
    unchanged = [indicator_id for indicator_id in old.sid if indicator_id not in ("29", "30", "33")]
    assert all(old.sid[indicator_id] == new.sid[indicator_id] for indicator_id in unchanged)


def test_a_year_without_a_file_is_a_clear_error() -> None:
    with pytest.raises(UnknownRubricYear, match=r"2022 \(available: 2023, 2024, 2025, 2026\)"):
        load_rubric(2022)


@pytest.mark.parametrize("year", YEARS)
def test_every_iid_from_0_to_100_has_exactly_one_predicate(year: int) -> None:
    rubric = load_rubric(year)
    for hundredths in range(10_001):
        iid = Decimal(hundredths) / 100
        predicate = rubric.predicate_for(iid)
        assert sum(band.min <= iid <= band.max for band in rubric.bands.values()) == 1
        assert rubric.bands[predicate].min <= iid <= rubric.bands[predicate].max


@pytest.mark.parametrize(
    ("year", "iid", "predicate"),
    [
        (2026, "0.00", "Tidak Dapat Dinilai"),
        (2026, "0.01", "Kurang Inovatif"),
        (2026, "40.00", "Kurang Inovatif"),
        (2026, "40.01", "Inovatif"),
        (2026, "65.00", "Inovatif"),
        (2026, "65.01", "Sangat Inovatif"),
        (2026, "100.00", "Sangat Inovatif"),
        (2024, "34.99", "Kurang Inovatif"),
        (2024, "35.00", "Inovatif"),
        (2023, "60.00", "Inovatif"),
        (2023, "60.01", "Sangat Inovatif"),
    ],
)
def test_band_edges(year: int, iid: str, predicate: str) -> None:
    assert load_rubric(year).predicate_for(Decimal(iid)) == predicate


def test_band_above() -> None:
    rubric = load_rubric(2026)
    assert rubric.band_above("Tidak Dapat Dinilai") == ("Kurang Inovatif", rubric.bands["Kurang Inovatif"])
    assert rubric.band_above("Inovatif") == ("Sangat Inovatif", rubric.bands["Sangat Inovatif"])
    assert rubric.band_above("Sangat Inovatif") is None


def parse_2026_with(old: str, new: str) -> Rubric:
    text = rubric_text(2026)
    assert old in text, f"the 2026 file no longer contains {old!r}"
    return parse_rubric(text.replace(old, new, 1), source="broken.toml")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("max_total = 250", "max_total = ", "Invalid value"),
        ("weight = 4", 'weight = "4"', "sid.35.weight"),
        ("weight = 4", "weight = 4.5", "sid.35.weight"),
        ("weight = 0.75", 'weight = "0.75"', "spd.5a.weight"),
        ("max_total = 250", "max_total = 260", "max_total is 260 but the indicators and count score add up to 250"),
        ("min = 40.01", "min = 40.02", "band 'Inovatif' must start 0.01 above the end of 'Kurang Inovatif'"),
        ("min = 40.01", "min = 40.005", "band 'Inovatif' bounds must have at most two decimals"),
        ('[bands."Tidak Dapat Dinilai"]\nmin = 0.00\nmax = 0.00\n', "", "bands ['Tidak Dapat Dinilai'] are missing"),
        ("[sid.35]", "[sid.36]", "sid ids ['36'] are not in the intake contract"),
        ("[spd.2b]", "[spd.2c]", "spd ids ['2c'] are not in the intake contract"),
        ("mandatory = true", "mandatory = yes", "Invalid value"),
        ("mandatory = true", 'mandatory = "true"', "spd.1.mandatory"),
        ('name = "Video inovasi"', 'nama = "Video inovasi"', "sid.35.nama"),
        ("[sid.33.bases.f]", "[sid.33.bases.g]", "sid.33.bases.g"),
        ('[sid.33.bases.f]\nname = "Tren positif"', '[sid.34.bases.f]\nname = "Tren positif"', "sid 33 must list"),
        ("applied_to = 2025-12-31", "applied_to = 2023-12-31", "applied_from 2024-01-01 is after applied_to"),
        ("applied_to = 2025-12-31", 'applied_to = "2025-12-31"', "eligibility.applied_to"),
        ("min_affairs_covered = 5", "min_affairs_covered = 7", "basic_services.min_affairs_covered"),
        ("min_divisor = 12", "min_divisor = 0", "min_divisor"),
        ('levels = ["1 kali dalam 3 tahun", ', "levels = [", "sid.20.levels"),
        (
            "[sid.16]",
            '[[assumptions]]\npath = "bands.Inovatif.low"\nsource = "x"\nnote = "y"\n[sid.16]',
            "names no value",
        ),
        ("[sid.16]", '[[assumptions]]\npath = "bands"\nsource = "x"\nnote = "y"\n[sid.16]', "names a table"),
    ],
)
def test_a_bad_file_fails_at_load_with_a_clear_error(old: str, new: str, message: str) -> None:
    with pytest.raises(RubricError, match=r"rubric broken\.toml is invalid") as raised:
        parse_2026_with(old, new)
    assert message in str(raised.value)


def test_a_new_year_is_only_a_new_file() -> None:
    text = rubric_text(2026).replace("year = 2026", "year = 2027", 1)
    text = text.replace("min_divisor = 12", "min_divisor = 14").replace(
        "min_affairs_covered = 5", "min_affairs_covered = 6"
    )
    rubric = parse_rubric(text, source="2027.toml")
    assert (rubric.year, rubric.min_divisor, rubric.basic_services.min_affairs_covered) == (2027, 14, 6)
