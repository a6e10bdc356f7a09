"""Who may change a stored unit or profile, and what a transfer makes of it: pure, no infrastructure."""

import json
from typing import Any

from inovda_cli import samples
from inovda_shared.contracts.commands import OwnershipTransfer
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert
from inovda_submission.domain.ownership import ownership_refusal, transferred
from inovda_submission.domain.validation import Rejection


def unit(**overrides: Any) -> UnitUpsert:
    return UnitUpsert.model_validate_json(json.dumps(samples.unit(**overrides)))


def stored(model: UnitUpsert | RegionProfile) -> dict[str, Any]:
    return model.model_dump(mode="json")


def test_a_unit_belongs_to_the_source_that_registered_it() -> None:
    registered = stored(unit())
    assert ownership_refusal(unit(name="Dinas Kesehatan Kukar"), registered) is None
    assert ownership_refusal(unit(source="bappeda"), None) is None, "the first to register it owns it"
    refusal = ownership_refusal(unit(source="bappeda", emails=["saya@elsewhere.example"]), registered)
    assert isinstance(refusal, Rejection)
    assert [(reason.field, reason.code) for reason in refusal.reasons] == [("source", "owned_by_other_source")]
    assert refusal.refused
    assert "'simpeg'" in refusal.reasons[0].message
    assert "inovda units transfer" in refusal.reasons[0].message


def test_so_does_a_profile_and_an_innovation_is_its_sources_by_its_identity() -> None:
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile()))
    other = RegionProfile.model_validate_json(json.dumps(samples.profile(source="simpeg")))
    refusal = ownership_refusal(other, stored(profile))
    assert isinstance(refusal, Rejection)
    assert refusal.reasons[0].code == "owned_by_other_source"
    report = InnovationReport.model_validate_json(json.dumps(samples.innovation(source="simpeg")))
    earlier = InnovationReport.model_validate_json(json.dumps(samples.innovation())).model_dump(mode="json")
    assert ownership_refusal(report, earlier) is None


def test_a_transfer_makes_the_same_unit_the_new_owners() -> None:
    move = OwnershipTransfer(source="operator", region_code="64.02", unit_code="DINKES", to_source="e-inovasi")
    moved = transferred(move, stored(unit()))
    assert moved == unit(source="e-inovasi")
    assert ownership_refusal(unit(source="e-inovasi"), stored(moved)) is None
    assert ownership_refusal(unit(), stored(moved)) is not None, "and the old owner may no longer change it"


def test_what_was_never_registered_cannot_be_transferred() -> None:
    for move, field, code in (
        (
            OwnershipTransfer(source="operator", region_code="64.02", unit_code="X", to_source="e"),
            "unit_code",
            "unknown_unit",
        ),
        (
            OwnershipTransfer(source="operator", region_code="64.02", year=2026, to_source="e"),
            "year",
            "unknown_profile",
        ),
    ):
        refusal = transferred(move, None)
        assert isinstance(refusal, Rejection)
        assert [(reason.field, reason.code) for reason in refusal.reasons] == [(field, code)]
