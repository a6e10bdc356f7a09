"""Which source a broker user may publish for, and which regions a source may write: pure, no infrastructure."""

import json
import re
from typing import Any

import pytest

from inovda_cli import samples
from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.intake import InnovationReport, IntakeModel, UnitUpsert
from inovda_submission.domain.authentication import AccessNotConfiguredError, IntakeAccess, admit, authenticate
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


# --- who may write which region, and the operator's command -----------------------------------------------

REGIONS = {"simpeg": ["64.02"], "e-inovasi": ["*"]}
ACCESS = IntakeAccess.configured({**USERS, "inovda-operator": "operator"}, REGIONS, "on")


def parsed(routing_key: str, body: dict[str, Any]) -> IntakeModel | Rejection:
    return parse_intake(routing_key, json.dumps(body).encode())


def reasons(result: IntakeModel | Rejection) -> list[tuple[str, str]]:
    assert isinstance(result, Rejection), result
    return [(reason.field, reason.code) for reason in result.reasons]


def test_a_source_writes_only_its_own_regions_units_profiles_and_innovations() -> None:
    assert isinstance(admit(unit_message(), "sys-simpeg", ACCESS), UnitUpsert)
    for routing_key, body in (
        ("unit.upsert.v1", samples.unit(region_code="64.03")),
        ("region.profile.v1", samples.profile(region_code="64.03", source="simpeg")),
        ("innovation.report.v1", samples.innovation(region_code="64.03", source="simpeg")),
    ):
        result = admit(parsed(routing_key, body), "sys-simpeg", ACCESS)
        assert reasons(result) == [("region_code", "region_not_allowed")]
        assert isinstance(result, Rejection)
        assert result.refused
        assert result.source == "simpeg"


def test_a_national_source_writes_every_region() -> None:
    report = parsed("innovation.report.v1", samples.innovation(region_code="91.05"))
    assert isinstance(admit(report, "sys-e-inovasi", ACCESS), InnovationReport)


def test_a_malformed_message_for_another_sources_region_is_refused_too() -> None:
    """Its rejection would email that region's unit: refused, it emails nobody."""
    result = admit(parsed("unit.upsert.v1", samples.unit(region_code="64.03", kind="planet")), "sys-simpeg", ACCESS)
    assert reasons(result) == [("region_code", "region_not_allowed"), ("kind", "unknown_value")]
    assert isinstance(result, Rejection)
    assert result.refused


def test_refusals_are_marked_and_other_rejections_are_not() -> None:
    refused = authenticate(unit_message(), None, USERS)
    assert isinstance(refused, Rejection)
    assert refused.refused
    malformed = unit_message(kind="dinas")
    assert isinstance(malformed, Rejection)
    assert not malformed.refused


def transfer(**overrides: Any) -> IntakeModel | Rejection:
    body = {"source": "operator", "region_code": "64.02", "unit_code": "DINKES", "to_source": "e-inovasi"}
    return parsed("ownership.transfer.v1", {**body, **overrides})


def test_only_the_operator_transfers_and_only_to_a_source_that_owns_the_region() -> None:
    assert isinstance(admit(transfer(), "inovda-operator", ACCESS), OwnershipTransfer)
    assert reasons(admit(transfer(source="simpeg"), "sys-simpeg", ACCESS)) == [("$routing_key", "operator_only")]
    assert reasons(admit(transfer(), "sys-simpeg", ACCESS)) == [("source", "source_mismatch")]
    assert reasons(admit(transfer(to_source="bappeda"), "inovda-operator", ACCESS)) == [
        ("to_source", "region_not_allowed")
    ]
    unauthenticated = IntakeAccess.unauthenticated()
    assert reasons(admit(transfer(source="simpeg"), None, unauthenticated)) == [("$routing_key", "operator_only")]


def test_the_operators_source_writes_no_region() -> None:
    body = samples.unit(source="operator")
    assert reasons(admit(parsed("unit.upsert.v1", body), "inovda-operator", ACCESS)) == [
        ("region_code", "region_not_allowed")
    ]


def test_a_transfer_names_a_unit_or_a_profile() -> None:
    assert isinstance(transfer(unit_code=None, year=2026), OwnershipTransfer)
    assert ("unit_code", "missing") in reasons(transfer(year=2026))
    assert ("unit_code", "missing") in reasons(transfer(unit_code=None))


# --- fail closed -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("users", "regions", "auth", "problem"),
    [
        ({}, {}, "on", "SOURCE_USERS and SOURCE_REGIONS is empty"),
        (USERS, {}, "on", "SOURCE_REGIONS is empty"),
        ({}, REGIONS, "on", "SOURCE_USERS is empty"),
        (USERS, {"simpeg": ["Kukar"]}, "on", "simpeg: 'Kukar'"),
        (USERS, {"operator": ["64.02"]}, "on", "owns none"),
        (USERS, REGIONS, "yes", "INTAKE_AUTH is 'yes'"),
    ],
)
def test_without_who_may_send_what_intake_refuses_to_start(
    users: dict[str, str], regions: dict[str, list[str]], auth: str, problem: str
) -> None:
    with pytest.raises(AccessNotConfiguredError, match=re.escape(problem)):
        IntakeAccess.configured(users, regions, auth)


def test_the_mode_is_said_at_start() -> None:
    assert ACCESS.describe() == "intake authentication on: 3 users, 3 sources"
    assert ACCESS.sources_without_regions() == []
    assert IntakeAccess.configured(USERS, {"simpeg": ["64.02"]}, "on").sources_without_regions() == ["e-inovasi"]
    off = IntakeAccess.configured({}, {}, "off")
    assert off.describe() == "INTAKE_AUTH=off: intake is not authenticated (development only)"
    assert isinstance(admit(unit_message(region_code="64.03"), None, off), UnitUpsert), "nothing is checked"
