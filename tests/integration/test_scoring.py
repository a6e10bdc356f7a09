"""The scoring service against real RabbitMQ and a real MongoDB-protocol server."""

import asyncio
import datetime as dt
import itertools
import json
import random
import uuid
from typing import Any

import pytest
from faststream.rabbit import RabbitBroker

from inovda_cli import samples
from inovda_cli.publish import IntakeMessage, publish_messages
from inovda_scoring.adapters.store import ScoringStore
from inovda_scoring.app import create_app as create_scoring_app
from inovda_scoring.domain import compute_index, full_totals, load_rubric, score_innovation
from inovda_scoring.settings import ScoringSettings
from inovda_scoring.views import ScoringViews
from inovda_shared.contracts.events import InnovationSubmitted, RegionProfileUpdated, UnitRegistered
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert
from inovda_shared.messaging import OutgoingEvent, publish_events
from inovda_shared.mongo import connect
from inovda_submission.settings import SubmissionSettings
from tests.support.probe import EventProbe

pytestmark = pytest.mark.integration

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
AFFAIRS = ["pendidikan", "kesehatan", "sosial", "pertanian", "perhubungan", "pekerjaan_umum_penataan_ruang"]


def report(external_id: str, **overrides: Any) -> InnovationReport:
    return InnovationReport.model_validate_json(json.dumps(samples.innovation(external_id, **overrides)))


def varied_report(number: int, rng: random.Random) -> InnovationReport:
    """Innovations with varied levels, affairs and eligibility, as a real region reports them."""
    indicators = {
        indicator: {"level": rng.randint(1, 3), "evidence": samples.evidence()}
        for indicator in ("16", "17", "32", "35")
    }
    indicators["33"] = {"level": rng.randint(1, 3), "basis": "a", "evidence": samples.evidence()}
    for indicator in rng.sample([str(i) for i in range(18, 32)], k=rng.randint(0, 8)):
        with_evidence = rng.random() < 0.9
        indicators[indicator] = {"level": rng.randint(1, 3), "evidence": samples.evidence() if with_evidence else []}
    stage = "penerapan" if rng.random() < 0.8 else "uji_coba"
    return report(
        f"INV-{number:03d}",
        title=f"Inovasi nomor {number}",
        unit_code=rng.choice(["DINKES", "DISDIK"]),
        urusan=[rng.choice(AFFAIRS)],
        stage=stage,
        indicators=indicators,
    )


def expected_index(reports: list[InnovationReport], spd: dict[str, int]) -> tuple[float, int]:
    rubric = load_rubric(2026)
    totals = full_totals(score_innovation(item, rubric).contribution() for item in reports)
    figures = compute_index(totals, spd, rubric)
    return figures.iid, figures.n


async def publish(broker: RabbitBroker, *events: InnovationSubmitted | UnitRegistered | RegionProfileUpdated) -> None:
    """Publish facts as the submission service would, each with its own stable message id."""
    await publish_events(
        broker,
        [
            OutgoingEvent.of(event, event.routing_key, uuid.uuid4().hex, f"corr-{uuid.uuid4().hex[:6]}")
            for event in events
        ],
    )


def submitted(item: InnovationReport, revision: int = 1) -> InnovationSubmitted:
    return InnovationSubmitted(revision=revision, innovation=item, submitted_at=NOW)


def profile_event(version: int = 1, **overrides: Any) -> RegionProfileUpdated:
    profile = RegionProfile.model_validate_json(json.dumps(samples.profile(**overrides)))
    return RegionProfileUpdated(version=version, profile=profile, updated_at=NOW)


def unit_event(unit_code: str, version: int = 1, **overrides: Any) -> UnitRegistered:
    unit = UnitUpsert.model_validate_json(json.dumps(samples.unit(unit_code, **overrides)))
    return UnitRegistered(version=version, unit=unit, registered_at=NOW)


def queries(settings: ScoringSettings) -> tuple[ScoringViews, Any]:
    client = connect(settings.mongodb_url)
    return ScoringViews(ScoringStore(client[settings.mongodb_database])), client


async def test_one_innovation_through_the_pipeline_gives_the_hand_computed_index(
    submission: SubmissionSettings, scoring: ScoringSettings, events: EventProbe
) -> None:
    await publish_messages(
        submission.amqp_url,
        [IntakeMessage.of("unit.upsert.v1", samples.unit()), IntakeMessage.of("region.profile.v1", samples.profile())],
    )
    await events.wait_for("intake.accepted.*", count=2)
    await publish_messages(submission.amqp_url, [IntakeMessage.of("innovation.report.v1", samples.innovation())])

    scored = (await events.wait_for("innovation.scored"))[0].body
    # 16: 3x2, 17: 2x2, 32: 2x3, 33: 3x2, 35: 4x1
    assert scored["maturity"] == 26
    assert scored["eligible"] is True
    assert scored["ineligible_reasons"] == []
    assert scored["indicators"]["35"] == {"level": 1, "score": 4.0, "has_evidence": True, "name": "Video inovasi"}

    index = (await events.wait_for("region.index.updated", lambda body: body["n"] == 1))[-1].body
    # SPD: 1x3 + 1x3 + 1x2 + 1x2 + 1.5x3 + 1x2 + 2x2 + 1x1 = 21.5; SID: 26 / 12 (seats) + 0 (1 of 6 yandas)
    assert index["spd"] == 21.5
    assert index["divisor"] == 12
    assert index["count_score"] == 0
    assert index["yandas_covered"] == ["kesehatan"]
    assert index["iid"] == 9.47  # (21.5 + 26/12) / 250 x 100 = 9.4667
    assert index["predicate"] == "Kurang Inovatif"
    assert index["next_predicate"] == "Inovatif"
    assert index["assumed"] == [], "2026's rubric values are all published"
    steps = index["path"]  # the top actions toward Inovatif; the CLI gives the whole path
    assert 0 < len(steps) <= 10
    assert [step["iid_after"] for step in steps] == sorted(step["iid_after"] for step in steps)
    assert steps[0]["iid_after"] > index["iid"]

    compliance = (await events.wait_for("unit.compliance.updated"))[0].body
    assert {key: value for key, value in compliance.items() if key != "version"} == {
        "region_code": "64.02",
        "year": 2026,
        "unit_code": "DINKES",
        "innovations": 1,
        "eligible": 1,
        "compliant": True,
    }
    # The most points within reach: 31 unfilled (+9), 35 from level 1 (+8), 18 unfilled (+6).
    assert [item["indicator_id"] for item in scored["top_improvements"]] == ["31", "35", "18"]


async def test_a_stream_of_innovations_gives_the_index_recomputed_from_scratch(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    rng = random.Random(7)
    reports = [varied_report(number, rng) for number in range(40)]
    spd = samples.profile()["spd"]
    await publish(publisher, profile_event(), unit_event("DINKES"), unit_event("DISDIK"))
    await publish(publisher, *(submitted(item) for item in reports))

    await events.wait_for("innovation.scored", count=len(reports), timeout=60)
    iid, n = expected_index(reports, spd)
    final = await events.wait_for("region.index.updated", lambda body: (body["iid"], body["n"]) == (iid, n), timeout=30)
    assert final[-1].body["n"] == n
    service, client = queries(scoring)
    incremental, from_scratch = await service.recomputed_index("64.02", 2026)
    await client.close()
    assert incremental == from_scratch
    assert incremental.iid == iid

    versions = [event.body["version"] for event in events.matching("region.index.updated")]
    assert versions == sorted(versions), "each announcement is of a newer state"
    contents = [
        {k: v for k, v in e.body.items() if not k.startswith("previous") and k != "version"}
        for e in events.matching("region.index.updated")
    ]
    assert all(a != b for a, b in itertools.pairwise(contents)), "no announcement repeats the last"


async def test_redelivered_and_out_of_order_revisions_leave_the_index_right(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    await publish(publisher, profile_event(), unit_event("DINKES"), unit_event("DISDIK"))
    first = report("INV-001")
    second = report(
        "INV-001",
        unit_code="DISDIK",
        urusan=["pendidikan"],
        indicators={**samples.innovation()["indicators"], "35": {"level": 3, "evidence": samples.evidence()}},
    )
    newer = OutgoingEvent.of(submitted(second, 2), "innovation.submitted", "rev-2", "corr-2")
    older = OutgoingEvent.of(submitted(first, 1), "innovation.submitted", "rev-1", "corr-1")
    await publish_events(publisher, [newer])
    await events.wait_for("innovation.scored")
    await publish_events(publisher, [older, newer, older])  # late, redelivered, both

    iid, n = expected_index([second], samples.profile()["spd"])
    await events.wait_for("region.index.updated", lambda body: body["iid"] == iid)
    await asyncio.sleep(1.5)  # let the late and repeated deliveries be handled
    scored = events.matching("innovation.scored")
    assert [(event.body["revision"], event.body["maturity"]) for event in scored] == [(2, 34)]
    service, client = queries(scoring)
    index = await service.index("64.02", 2026)
    rows = {row["unit_code"]: row for row in await service.compliance("64.02", 2026)}
    await client.close()
    assert (index.iid, index.n, index.yandas_covered) == (iid, n, ["pendidikan"])
    assert rows["DISDIK"]["innovations"] == 1
    assert rows["DINKES"]["innovations"] == 0


async def test_a_revision_moving_to_another_unit_moves_its_compliance(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    await publish(publisher, unit_event("DINKES"), unit_event("DISDIK"), profile_event())
    await publish(publisher, submitted(report("INV-001"), 1))
    await events.wait_for("unit.compliance.updated", lambda body: body["unit_code"] == "DINKES")
    await publish(publisher, submitted(report("INV-001", unit_code="DISDIK"), 2))

    moved = await events.wait_for("unit.compliance.updated", count=3)
    latest = {event.body["unit_code"]: event.body for event in moved}
    assert latest["DISDIK"]["compliant"] is True
    assert latest["DINKES"]["compliant"] is False
    assert latest["DINKES"]["innovations"] == 0


async def test_two_scoring_replicas_at_once_lose_no_update(
    scoring_settings: ScoringSettings, events: EventProbe, publisher: RabbitBroker, mongo: Any
) -> None:
    replicas = [create_scoring_app(scoring_settings) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    try:
        rng = random.Random(11)
        reports = [varied_report(number, rng) for number in range(60)]
        await publish(publisher, profile_event(), unit_event("DINKES"), unit_event("DISDIK"))
        await publish(publisher, *(submitted(item) for item in reports))
        iid, n = expected_index(reports, samples.profile()["spd"])
        await events.wait_for("region.index.updated", lambda body: body["iid"] == iid and body["n"] == n, timeout=90)
    finally:
        for replica in replicas:
            await replica.stop()
    service, client = queries(scoring_settings)
    incremental, from_scratch = await service.recomputed_index("64.02", 2026)
    await client.close()
    await mongo.drop_database(scoring_settings.mongodb_database)
    assert incremental == from_scratch
    assert len({event.body["external_id"] for event in events.matching("innovation.scored")}) == 60


async def test_a_profile_change_moves_the_index_and_a_repeat_announces_nothing(
    scoring: ScoringSettings, events: EventProbe, publisher: RabbitBroker
) -> None:
    await publish(publisher, profile_event(1))
    first = (await events.wait_for("region.index.updated"))[0].body
    assert first["n"] == 0
    assert first["predicate"] == "Kurang Inovatif"
    await publish(publisher, profile_event(1))  # the same version again: nothing changes
    await publish(publisher, profile_event(2, spd=dict.fromkeys(samples.profile()["spd"], 3)))
    second = (await events.wait_for("region.index.updated", count=2))[1].body
    assert second["spd"] > first["spd"]
    assert second["previous_iid"] == first["iid"]
    await asyncio.sleep(1.0)
    assert len(events.matching("region.index.updated")) == 2
