"""Verification against real RabbitMQ and a real MongoDB-protocol server: scoring takes review rounds into the
verified figures of an innovation and its region; submission validates, authorises and stores the rounds."""

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from inovda_cli import samples
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_scoring.domain import load_rubric, score_innovation
from inovda_scoring.domain.verification import Holding, verified_score
from inovda_scoring.settings import ScoringSettings
from inovda_shared.contracts.events import (
    InnovationSubmitted,
    InnovationVerified,
    RegionProfileUpdated,
    UnitRegistered,
    VerifiedDecision,
)
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert, claim_fingerprint
from inovda_shared.messaging import OutgoingEvent, publish_events
from inovda_submission.settings import SubmissionSettings
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
RUBRIC = load_rubric(2026)
VERIFICATION = "innovation.verification.v1"


def report(external_id: str = "INV-001", **overrides: Any) -> InnovationReport:
    return InnovationReport.model_validate_json(json.dumps(samples.innovation(external_id, **overrides)))


def review_round(item: InnovationReport, version: int, revision: int, **kinds: str) -> InnovationVerified:
    """A review round as submission announces it: `i35="not_accepted"` decides indicator 35."""
    decisions = {}
    for key, kind in kinds.items():
        claim = item.indicators[key[1:]]
        decisions[key[1:]] = VerifiedDecision(
            decision=kind,
            level=1 if kind == "accepted_lower" else None,
            reason="evidence_unreadable" if kind == "not_accepted" else None,
            judged_level=claim.level,
            judged_fingerprint=claim_fingerprint(claim),
            revision=revision,
            round=version,
            verifier="verifikator",
        )
    return InnovationVerified(
        version=version, source=item.source, external_id=item.external_id, region_code=item.region_code,
        unit_code=item.unit_code, year=item.year, revision=revision, verifier="verifikator",
        indicators=decisions, verified_at=NOW,
    )  # fmt: skip


async def publish(broker: RabbitBroker, *events: Any, message_id: str | None = None) -> None:
    await publish_events(
        broker,
        [OutgoingEvent.of(event, event.routing_key, message_id or uuid.uuid4().hex, "corr-v") for event in events],
    )


async def region_known(publisher: RabbitBroker) -> None:
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile()))
    unit = UnitUpsert.model_validate_json(json.dumps(samples.unit()))
    await publish(
        publisher,
        RegionProfileUpdated(version=1, profile=profile, updated_at=NOW),
        UnitRegistered(version=1, unit=unit, registered_at=NOW),
    )


ALL_ACCEPTED = {"i16": "accepted", "i17": "accepted", "i32": "accepted", "i33": "accepted", "i35": "accepted"}


async def test_a_review_round_gives_the_verified_figures_and_the_path_plans_on_them(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    await region_known(publisher)
    item = report()
    await publish(publisher, InnovationSubmitted(revision=1, innovation=item, submitted_at=NOW))
    first = (await events.wait_for("innovation.scored"))[0].body
    assert (first["verified_maturity"], first["verified_eligible"], first["review"]) == (
        0,
        False,
        {"decided": 0, "total": 5, "round": 0},
    )
    before = (await events.wait_for("region.index.updated", lambda body: body["n"] == 1))[-1].body
    assert (before["verified"], before["path_on"]) == (None, "claimed")

    refused = review_round(item, 1, 1, **{**ALL_ACCEPTED, "i17": "accepted_lower", "i35": "not_accepted"})
    await publish(publisher, refused, message_id="round-1")
    rescored = (await events.wait_for("innovation.scored", lambda body: body["reviewed_round"] == 1))[0].body
    decisions = {key: value["decision"] for key, value in rescored["decisions"].items()}
    claimed = score_innovation(item, RUBRIC)
    expected = verified_score(claimed.facts, Holding(refused.indicators, {}), RUBRIC)
    assert (rescored["maturity"], rescored["eligible"]) == (claimed.maturity, True)
    assert (rescored["verified_maturity"], rescored["verified_eligible"]) == (expected.maturity, False)
    assert decisions == {
        "16": "accepted",
        "17": "accepted_lower",
        "32": "accepted",
        "33": "accepted",
        "35": "not_accepted",
    }
    assert any("35 (Video inovasi) tidak diterima" in reason for reason in rescored["verified_ineligible_reasons"])
    lowered = claimed.indicators["17"].score - RUBRIC.sid["17"].weight * 1
    assert rescored["points_lost"] == claimed.indicators["35"].score + lowered

    index = (await events.wait_for("region.index.updated", lambda body: body["verified"] is not None))[-1].body
    assert index["path_on"] == "verified"
    assert index["iid"] == before["iid"]
    assert index["verified"]["n"] == 0
    assert index["verified"]["points_at_risk"] == round(index["iid"] - index["verified"]["iid"], 2) > 0
    assert index["review"] == {"decided": 5, "total": 5, "round": 1}
    assert index["next_predicate"] is not None
    assert index["path"]

    # The same round again (redelivered, or published twice) changes nothing.
    await publish(publisher, refused, message_id="round-1")
    await publish(publisher, refused, message_id="round-1-again")
    await asyncio.sleep(1.5)  # let the deliveries be handled
    assert len(events.matching("innovation.scored", lambda body: body["reviewed_round"] == 1)) == 1


async def test_a_new_revision_resets_what_it_changed_and_keeps_the_other_decisions(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    await region_known(publisher)
    item = report()
    await publish(publisher, InnovationSubmitted(revision=1, innovation=item, submitted_at=NOW))
    await events.wait_for("innovation.scored")
    await publish(publisher, review_round(item, 1, 1, **{**ALL_ACCEPTED, "i35": "not_accepted"}))
    await events.wait_for("innovation.scored", lambda body: body["reviewed_round"] == 1)

    indicators = samples.innovation()["indicators"]
    indicators["35"] = {"level": 2, "evidence": samples.evidence("Video yang baru")}
    second = report(indicators=indicators)
    await publish(publisher, InnovationSubmitted(revision=2, innovation=second, submitted_at=NOW))
    rescored = (await events.wait_for("innovation.scored", lambda body: body["revision"] == 2))[0].body
    assert set(rescored["decisions"]) == {"16", "17", "32", "33"}, "35 changed: back to unreviewed"
    assert rescored["review"] == {"decided": 4, "total": 5, "round": 1}
    assert rescored["verified_eligible"] is False
    assert any("35 (Video inovasi) belum diverifikasi" in reason for reason in rescored["verified_ineligible_reasons"])

    # A round on the new revision's 35 makes it count verified.
    await publish(publisher, review_round(second, 2, 2, i35="accepted"))
    final = (await events.wait_for("innovation.scored", lambda body: body["reviewed_round"] == 2))[0].body
    assert (final["verified_eligible"], final["verified_maturity"]) == (True, final["maturity"])
    index = (await events.wait_for("region.index.updated", lambda body: (body["verified"] or {}).get("n") == 1))[
        -1
    ].body
    assert index["verified"]["iid"] == index["iid"]
    assert index["verified"]["points_at_risk"] == 0


async def test_a_round_that_overtakes_its_innovation_is_taken_in_once_the_innovation_is_scored(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    await region_known(publisher)
    item = report("INV-TERLAMBAT")
    await publish(publisher, review_round(item, 1, 1, **ALL_ACCEPTED))
    await asyncio.sleep(1.5)  # let the deliveries be handled
    await publish(publisher, InnovationSubmitted(revision=1, innovation=item, submitted_at=NOW))
    verified = (await events.wait_for("innovation.scored", lambda body: body["reviewed_round"] == 1, timeout=30))[0]
    assert verified.body["verified_eligible"] is True


def round_body(revision: int = 1, **overrides: Any) -> dict[str, Any]:
    """A review round as the portal sends it."""
    body: dict[str, Any] = {
        "source": "portal",
        "region_code": samples.KUKAR,
        "innovation_source": "e-inovasi",
        "external_id": "INV-001",
        "revision": revision,
        "year": 2026,
        "verifier": "verifikator",
        "indicators": {
            "16": {"decision": "accepted"},
            "35": {"decision": "not_accepted", "reason": "evidence_unreadable", "note": "Tautan video rusak"},
        },
    }
    body.update(overrides)
    return body


async def test_the_intake_stores_a_round_with_what_it_judged_and_refuses_what_it_cannot_take(
    submission: SubmissionSettings, scoring: ScoringSettings, events: EventProbe
) -> None:
    await publish_messages(
        submission.amqp_url,
        [IntakeMessage.of("unit.upsert.v1", samples.unit()), IntakeMessage.of("region.profile.v1", samples.profile())],
    )
    await events.wait_for("intake.accepted.*", count=2)
    await publish_messages(submission.amqp_url, [IntakeMessage.of("innovation.report.v1", samples.innovation())])
    await events.wait_for("innovation.scored")

    await publish_messages(submission.amqp_url, [IntakeMessage.of(VERIFICATION, round_body(), message_id="r1")])
    answer = (await events.wait_for("intake.accepted.portal"))[0].body
    assert (answer["intake_routing_key"], answer["revision"], answer["key"]) == (
        VERIFICATION,
        1,
        {"innovation_source": "e-inovasi", "external_id": "INV-001", "revision": 1},
    )
    verified = (await events.wait_for("innovation.verified"))[0].body
    claim = report().indicators["35"]
    assert verified["indicators"]["35"]["judged_fingerprint"] == claim_fingerprint(claim)
    assert (verified["unit_code"], verified["version"], verified["indicators"]["35"]["round"]) == ("DINKES", 1, 1)
    scored = (await events.wait_for("innovation.scored", lambda body: body["reviewed_round"] == 1))[0].body
    assert scored["decisions"]["35"]["note"] == "Tautan video rusak"

    # The same round again: the same answer, no second round.
    await publish_messages(submission.amqp_url, [IntakeMessage.of(VERIFICATION, round_body(), message_id="r1-again")])
    again = (await events.wait_for("intake.accepted.portal", count=2))[1].body
    assert (again["revision"], again["unchanged"]) == (1, True)

    refused = {
        "e-inovasi verifying itself": (round_body(source="e-inovasi"), "not_a_verifier"),
        "an older revision": (round_body(revision=2), "not_latest_revision"),
        "an indicator not claimed": (round_body(indicators={"20": {"decision": "accepted"}}), "not_claimed"),
        "a lower level that is not lower": (
            round_body(indicators={"32": {"decision": "accepted_lower", "level": 3}}),
            "not_lower",
        ),
        "a refusal without its reason": (round_body(indicators={"16": {"decision": "not_accepted"}}), "missing"),
        "an innovation not stored": (round_body(external_id="INV-TIDAK-ADA"), "unknown_innovation"),
    }
    await publish_messages(
        submission.amqp_url,
        [IntakeMessage.of(VERIFICATION, body, message_id=name) for name, (body, _) in refused.items()],
    )
    answers = {
        event.body["message_id"]: {reason["code"] for reason in event.body["reasons"]}
        for event in await events.wait_for("intake.rejected.*", count=len(refused))
    }
    assert answers == {name: {code} for name, (_, code) in refused.items()}
    await asyncio.sleep(1)
    assert len(events.matching("innovation.verified")) == 1
