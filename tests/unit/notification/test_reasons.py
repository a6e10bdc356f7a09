"""Every rejection code in words a unit operator understands, with the fix and the field."""

import pytest

from inovda_notification.domain import EXPLANATIONS, explain
from inovda_shared.contracts.events import Reason

# Every code the submission service can answer with (README, "Answers").
REJECTION_CODES = (
    "too_large",
    "invalid_encoding",
    "invalid_json",
    "wrong_type",
    "unknown_routing_key",
    "forbidden_key",
    "unknown_field",
    "missing",
    "unknown_value",
    "unknown_indicator",
    "out_of_range",
    "invalid_format",
    "invalid_length",
    "invalid_date",
    "invalid_email",
    "invalid_uri",
    "control_character",
    "unknown_unit",
    "immutable_field",
    "too_deep",
    "no_rubric_for_year",
)
WHOLE_MESSAGE_CODES = {"too_large", "invalid_encoding", "invalid_json", "unknown_routing_key"}


def test_every_code_has_an_explanation_and_nothing_else_does() -> None:
    assert set(EXPLANATIONS) == set(REJECTION_CODES)


@pytest.mark.parametrize("code", REJECTION_CODES)
def test_each_code_is_explained_in_indonesian_with_a_fix(code: str) -> None:
    reason = Reason(field="indicators.16.level", code=code, message=f"indicators.16.level: raw {code}")
    explained = explain(reason)
    assert explained.problem != reason.message
    assert explained.fix
    assert explained.detail == reason.message
    if code not in WHOLE_MESSAGE_CODES:
        assert "kolom 'indicators.16.level'" in explained.problem


def test_whole_message_fields_are_named_in_words() -> None:
    explained = explain(Reason(field="$", code="wrong_type", message="body must be a JSON object, not list"))
    assert explained.problem.startswith("Jenis nilai pada isi pesan salah")


def test_an_unknown_code_falls_back_to_the_raw_message() -> None:
    explained = explain(Reason(field="title", code="too_shiny", message="title: far too shiny"))
    assert (explained.problem, explained.fix) == ("title: far too shiny", None)


def test_a_field_cannot_smuggle_a_line_break_or_a_placeholder_into_the_explanation() -> None:
    explained = explain(Reason(field="a\r\nBcc: x@example.com{field}", code="missing", message="m\r\nx"))
    assert "\r" not in explained.problem
    assert "\n" not in explained.problem
    assert "{field}" in explained.problem  # printed as given, not expanded again
    assert explained.detail == "m x"
