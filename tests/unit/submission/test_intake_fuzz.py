"""Fuzzing the pure parse/validate layer: whatever arrives, `parse_intake` returns a verdict and raises nothing;
every rejection gives reasons with codes a unit gets explained, and its answer stays small; anything accepted
is valid and normalised."""

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from inovda_shared.contracts.events import IntakeAnswer
from inovda_shared.contracts.intake import InnovationReport, IntakeModel, RegionProfile, UnitUpsert
from inovda_submission.domain.validation import MAX_REASONS, Rejection, parse_intake
from tests.support import fuzz

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CORPUS = fuzz.corpus()


def answer_size(routing_key: str, rejection: Rejection) -> int:
    """The size of the answer the service publishes and stores for this rejection (it must serialise)."""
    fields = dataclasses.asdict(rejection)  # reasons, source, key, region_code, unit_code, title
    now = dt.datetime.now(dt.UTC)
    answer = IntakeAnswer(
        status="rejected", message_id="m", intake_routing_key=routing_key[:255], received_at=now, **fields
    )
    return len(answer.model_dump_json().encode())


def check(routing_key: str, body: bytes) -> IntakeModel | Rejection:
    result = parse_intake(routing_key, body)
    fuzz.check_verdict(result)
    if isinstance(result, Rejection):
        assert len(result.reasons) <= MAX_REASONS
        assert answer_size(routing_key, result) <= fuzz.MAX_ANSWER_BYTES
    return result


@pytest.mark.parametrize("nasty", CORPUS, ids=[nasty.name for nasty in CORPUS])
def test_each_nasty_message_gets_its_verdict(nasty: fuzz.Nasty) -> None:
    result = check(nasty.routing_key, nasty.body)
    if nasty.expect == fuzz.ACCEPTED:
        assert isinstance(result, IntakeModel), result
    else:
        assert isinstance(result, Rejection), f"accepted: {result!r}"[:500]
        assert nasty.expect in {reason.code for reason in result.reasons}, result.reasons


@pytest.mark.parametrize("source", ["e-inovasi\n", " e-inovasi", "\te-inovasi\r\n"])
def test_a_rejection_is_answered_to_the_source_as_the_contract_reads_it(source: str) -> None:
    """Trimmed, like every string: the sender's results queue is bound to `intake.rejected.e-inovasi`."""
    rejection = check(fuzz.INNOVATION, fuzz.inn(source=source, stage="selesai"))
    assert isinstance(rejection, Rejection)
    assert rejection.source == "e-inovasi"


@FUZZ
@given(fuzz.intake_messages())
def test_any_message_gets_a_specific_rejection_or_is_valid_and_normalised(message: tuple[str, bytes]) -> None:
    check(*message)


@FUZZ
@given(fuzz.valid_messages())
def test_untidy_valid_messages_are_accepted_trimmed_lower_cased_and_deduplicated(
    message: tuple[str, dict[str, Any]],
) -> None:
    routing_key, body = message
    result = check(routing_key, json.dumps(body).encode())
    assert isinstance(result, IntakeModel), result

    def tidy(addresses: list[str]) -> list[str]:
        return list(dict.fromkeys(address.strip().lower() for address in addresses))

    if isinstance(result, UnitUpsert):
        assert result.name == body["name"].strip()
        assert (result.emails, result.mentor_emails) == (tidy(body["emails"]), tidy(body["mentor_emails"]))
    elif isinstance(result, RegionProfile):
        assert result.admin_emails == tidy(body["admin_emails"])
    else:
        assert isinstance(result, InnovationReport)
        assert (result.external_id, result.title) == (body["external_id"].strip(), body["title"].strip())
        assert result.goals == body["goals"].strip()
        assert result.urusan == list(dict.fromkeys(body["urusan"]))
        for indicator_id, claim in result.indicators.items():
            titles = [item["title"].strip() for item in body["indicators"][indicator_id]["evidence"]]
            assert [item.title for item in claim.evidence] == titles
