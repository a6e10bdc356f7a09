"""How events change the portal's read model: in any order, more than once, and the same result."""

import datetime as dt
import itertools
from typing import Any

from inovda_portal.domain import projection
from inovda_portal.domain.model import InnovationRecord, RegionDirectory, RegionYear, UnitActivity
from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    NotificationFailed,
    NotificationSent,
    Reason,
    Review,
    VerifiedDecision,
)

from .events import AT, compliance, index, profiled, registered, report, scored, submitted

KUKAR = "64.02"


def test_a_unit_keeps_its_newest_version_whatever_the_order() -> None:
    first, second = registered(version=1), registered(version=2, name="Dinas Kesehatan Kukar")
    for order in ((first, second), (second, first), (second, second, first)):
        directory = RegionDirectory(region_code=KUKAR)
        for event in order:
            directory = projection.unit_registered(directory, event) or directory
        assert directory.units["DINKES"].name == "Dinas Kesehatan Kukar"
        assert directory.units["DINKES"].version == 2
    assert projection.unit_registered(directory, first) is None


def test_the_profile_sets_spd_and_the_office_once_per_version() -> None:
    region = RegionYear(region_code=KUKAR, year=2026)
    changed = projection.profile_updated(region, profiled(version=2))
    assert changed is not None
    assert changed.spd_levels["1"] == 3
    assert changed.admin_emails == ("brida@kukarkab.example",)
    assert projection.profile_updated(changed, profiled(version=1, admin_emails=["lain@kukarkab.example"])) is None


def test_every_index_version_is_in_the_history_in_order_and_the_newest_is_the_snapshot() -> None:
    events = [index(3, 41.0), index(1, 30.0), index(2, 35.5), index(3, 41.0)]
    region = RegionYear(region_code=KUKAR, year=2026)
    for event in events:
        region = projection.index_updated(region, event, AT) or region
    assert [point.version for point in region.history] == [1, 2, 3]
    assert region.index is not None
    assert (region.index.version, region.index.iid) == (3, 41.0)


def test_a_unit_count_older_than_the_one_kept_changes_nothing() -> None:
    region = projection.compliance_updated(RegionYear(region_code=KUKAR, year=2026), compliance("DINKES", 2, 2, 1))
    assert region is not None
    assert projection.compliance_updated(region, compliance("DINKES", 1, 1, 0)) is None
    assert region.compliance["DINKES"].innovations == 2


def apply_innovation_events(order: tuple[object, ...]) -> tuple[InnovationRecord, RegionYear]:
    record, region = (
        InnovationRecord(source="e-inovasi", external_id="INV-001"),
        RegionYear(region_code=KUKAR, year=2026),
    )
    for event in order:
        if isinstance(event, InnovationSubmitted):
            record = projection.record_submitted(record, event) or record
            region = projection.region_submitted(region, event) or region
        else:
            assert isinstance(event, InnovationScored)
            record = projection.record_scored(record, event) or record
            region = projection.region_scored(region, event) or region
    return record, region


def test_revisions_and_scores_give_one_state_in_any_order_and_repeated() -> None:
    first, second = report(), report(title="Posyandu Digital Terpadu")
    events = (submitted(first, 1), scored(first, 1), submitted(second, 2), scored(second, 2))
    states = [apply_innovation_events(order) for order in itertools.permutations(events)]
    states.append(apply_innovation_events((*events, *events)))
    record, region = states[0]
    assert all(state == (record, region) for state in states)
    summary = region.innovations["e-inovasi/INV-001"]
    assert (summary.revision, summary.scored_revision, summary.title) == (2, 2, "Posyandu Digital Terpadu")
    assert summary.contribution is not None
    assert summary.contribution.maturity == summary.maturity
    assert sorted(record.revisions) == [1, 2]
    assert region.early_scores == {}  # a score that overtook its revision was taken with it
    assert all(entry.score for entry in record.revisions.values())
    assert region.activity["DINKES"] == submitted(second, 2).submitted_at


def test_an_older_revision_arriving_late_does_not_replace_the_newer_summary() -> None:
    newer, older = report(title="Baru"), report(title="Lama")
    record, region = apply_innovation_events((submitted(newer, 2), submitted(older, 1)))
    assert region.innovations["e-inovasi/INV-001"].title == "Baru"
    assert sorted(record.revisions) == [1, 2]  # the older one is still shown as a revision


def answer(message_id: str, status: str = "rejected") -> IntakeAnswer:
    return IntakeAnswer(
        status=status,
        message_id=message_id,
        intake_routing_key="innovation.report.v1",
        source="e-inovasi",
        key={"external_id": "INV-001", "year": 2026},
        reasons=[Reason(field="design", code="invalid_length", message="design: too short")],
        region_code=KUKAR,
        unit_code="DINKES",
        received_at=AT,
        unit_registered=True,
    )


def test_each_answer_is_kept_once_with_its_reasons() -> None:
    record = InnovationRecord(source="e-inovasi", external_id="INV-001")
    record = projection.innovation_answered(record, answer("m-1")) or record
    assert projection.innovation_answered(record, answer("m-1")) is None
    [kept] = record.answers
    assert kept.reasons[0].code == "invalid_length"
    assert (record.region_code, record.unit_code, record.year) == (KUKAR, "DINKES", 2026)


def sent(confirmed: bool = True) -> NotificationSent:
    return NotificationSent(
        dedupe_key="score:e-inovasi/INV-001:r1",
        kind="score",
        recipients=2,
        sent_at=AT,
        confirmed=confirmed,
        region_code=KUKAR,
        unit_code="DINKES",
    )


def test_an_email_shows_its_last_outcome_and_a_late_failure_does_not_hide_a_delivery() -> None:
    activity = UnitActivity(region_code=KUKAR, unit_code="DINKES")
    failed = NotificationFailed(
        dedupe_key="score:e-inovasi/INV-001:r1",
        kind="score",
        reason="SMTP 550",
        attempts=5,
        failed_at=AT - dt.timedelta(minutes=5),
        region_code=KUKAR,
        unit_code="DINKES",
    )
    activity = projection.email_outcome(activity, failed) or activity
    assert activity.emails[failed.dedupe_key].status == "failed"
    activity = projection.email_outcome(activity, sent(confirmed=False)) or activity
    assert activity.emails[failed.dedupe_key].status == "in_doubt"
    activity = projection.email_outcome(activity, sent()) or activity
    assert activity.emails[failed.dedupe_key].status == "sent"
    assert projection.email_outcome(activity, failed) is None


def test_a_review_rounds_score_replaces_an_earlier_rounds_and_never_the_reverse() -> None:
    item = report()
    first = scored(item, 1)
    review = Review(decided=2, total=5, round=1)
    round_one = first.model_copy(
        update={"reviewed_round": 1, "verified_maturity": 12, "review": review, "points_lost": 4}
    )
    round_two = first.model_copy(
        update={"reviewed_round": 2, "verified_maturity": 20, "review": review.model_copy(update={"round": 2})}
    )
    events = (submitted(item, 1), first, round_one, round_two)
    states = [apply_innovation_events(order) for order in itertools.permutations(events)]
    assert all(state == states[0] for state in states)
    record, region = states[0]
    summary = region.innovations["e-inovasi/INV-001"]
    assert summary.verified is not None
    assert (summary.verified.reviewed_round, summary.verified.maturity, summary.verified.waiting) == (2, 20, True)
    score = record.revisions[1].score
    assert score is not None
    assert score.verified.reviewed_round == 2


def test_each_review_round_is_kept_once_in_order() -> None:
    item = report()
    decision = VerifiedDecision(
        decision="accepted", judged_level=2, judged_fingerprint="f" * 16, revision=1, round=1, verifier="v"
    )
    fields: dict[str, Any] = {"source": item.source, "external_id": item.external_id, "region_code": KUKAR}
    fields["unit_code"] = "DINKES"
    fields |= {"year": 2026, "revision": 1, "verifier": "v", "indicators": {"16": decision}, "verified_at": AT}
    rounds = [InnovationVerified(version=number, **fields) for number in (2, 1, 2)]
    record = InnovationRecord(source="e-inovasi", external_id="INV-001")
    for event in rounds:
        record = projection.record_verified(record, event) or record
    assert [entry.round for entry in record.reviews] == [1, 2]
