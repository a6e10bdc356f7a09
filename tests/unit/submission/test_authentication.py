"""Which source a broker user may publish for: pure, no infrastructure."""

import json
from typing import Any

from inovda_cli import samples
from inovda_shared.contracts.intake import UnitUpsert
from inovda_submission.domain.authentication import authenticate
from inovda_submission.domain.validation import Rejection, parse_intake

USERS = {"sys-simpeg": "simpeg", "sys-e-inovasi": "e-inovasi"}


def unit_message(**overrides: Any) -> UnitUpsert | Rejection:
    parsed = parse_intake("unit.upsert.v1", json.dumps(samples.unit(**overrides)).encode())
    assert isinstance(parsed, UnitUpsert | Rejection)
    return parsed


def test_the_mapped_user_publishes_for_its_source() -> None:
    parsed = unit_message()
    assert authenticate(parsed, "sys-simpeg", USERS) is parsed


def test_without_a_mapping_nothing_is_checked() -> None:
    parsed = unit_message()
    assert authenticate(parsed, None, {}) is parsed


def test_a_message_without_user_id_is_rejected_and_answered_to_unknown() -> None:
    result = authenticate(unit_message(), None, USERS)
    assert isinstance(result, Rejection)
    assert [(r.field, r.code) for r in result.reasons] == [("$user_id", "unauthenticated")]
    assert result.source == "unknown"


def test_a_message_claiming_another_source_is_answered_to_the_senders_own() -> None:
    result = authenticate(unit_message(), "sys-e-inovasi", USERS)
    assert isinstance(result, Rejection)
    assert [(r.field, r.code) for r in result.reasons] == [("source", "source_mismatch")]
    assert result.source == "e-inovasi", "the claimed source's results are never written to"


def test_an_unmapped_user_is_refused() -> None:
    result = authenticate(unit_message(), "guest", USERS)
    assert isinstance(result, Rejection)
    assert result.reasons[0].code == "unknown_sender"


def test_a_malformed_message_from_a_stranger_keeps_its_reasons_and_gains_the_refusal() -> None:
    malformed = unit_message(kind="dinas")
    assert isinstance(malformed, Rejection)
    result = authenticate(malformed, "sys-e-inovasi", USERS)
    assert isinstance(result, Rejection)
    assert [r.code for r in result.reasons] == ["source_mismatch", "unknown_value"]
