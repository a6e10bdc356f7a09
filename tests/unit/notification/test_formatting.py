"""Indonesian numbers and dates, and one-line values that cannot break a header."""

import datetime as dt

import pytest

from inovda_notification.domain.formatting import SUBJECT_MAX_CHARS, one_line, subject_line
from inovda_shared.indonesian import format_date, format_number, format_points


@pytest.mark.parametrize(
    ("value", "expected"),
    [(65.01, "65,01"), (62.7, "62,70"), (1234.5, "1.234,50"), (0, "0,00"), (65.005, "65,01"), (-0.25, "-0,25")],
)
def test_numbers_use_a_decimal_comma_and_round_half_up(value: float, expected: str) -> None:
    assert format_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"), [(61, "61"), (61.0, "61"), (1.5, "1,5"), (0.75, "0,75"), (3.333, "3,33")]
)
def test_points_drop_trailing_zero_decimals(value: float, expected: str) -> None:
    assert format_points(value) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2026, 7, 1), "1 Juli 2026"),
        (dt.date(2026, 10, 31), "31 Oktober 2026"),
        (dt.date(2027, 2, 3), "3 Februari 2027"),
    ],
)
def test_dates_are_written_in_indonesian(day: dt.date, expected: str) -> None:
    assert format_date(day) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Inovasi\r\nBcc: korban@example.com",
        "Inovasi\nBcc: korban@example.com",
        "Inovasi\u2028Bcc: korban@example.com",
        "Inovasi\x85Bcc: korban@example.com",
        "Inovasi\x00\x0bBcc: korban@example.com",
    ],
)
def test_one_line_removes_every_kind_of_line_break(text: str) -> None:
    assert one_line(text) == "Inovasi Bcc: korban@example.com"


def test_one_line_removes_invisible_direction_overrides() -> None:
    assert one_line("Posyandu \u202edaring\u200b") == "Posyandu daring"


def test_subject_is_capped_with_an_ellipsis() -> None:
    subject = subject_line("Hasil penilaian " + "sangat panjang " * 30)
    assert len(subject) == SUBJECT_MAX_CHARS
    assert subject.endswith("…")
