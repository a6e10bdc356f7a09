"""How each event changes the read model. Pure: the state before and the event in, the state after out.

Every function returns None when the event changes nothing (a redelivery, a version older than the one kept),
so the caller writes only what changed. Events of one fact may arrive in any order and more than once: each
part of the state keeps the version (or revision) it shows and takes only a newer one.
"""

import datetime as dt

from inovda_scoring.domain import UnknownRubricYear, load_rubric, score_innovation
from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    InnovationVerified,
    IntakeAnswer,
    NotificationFailed,
    NotificationSent,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.contracts.intake import InnovationVerification

from .model import (
    AnswerEntry,
    EarlyScore,
    EmailEntry,
    IndexPoint,
    IndexSnapshot,
    InnovationRecord,
    InnovationSummary,
    RegionDirectory,
    RegionYear,
    ReviewEntry,
    RevisionEntry,
    ScoreEntry,
    UnitActivity,
    UnitCounts,
    UnitEntry,
    Verified,
    innovation_key,
)

# Answers kept per innovation: every revision's, and the rejections between them; a sender stuck in a loop
# must not grow the document without end.
ANSWERS_KEPT = 200
EMAILS_KEPT = 500
UNKNOWN_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)


def with_year(directory: RegionDirectory, year: int) -> RegionDirectory | None:
    if year in directory.years:
        return None
    return directory.model_copy(update={"years": tuple(sorted({*directory.years, year}))})


def unit_registered(directory: RegionDirectory, event: UnitRegistered) -> RegionDirectory | None:
    unit = event.unit
    known = directory.units.get(unit.unit_code)
    if known is not None and known.version >= event.version:
        return None
    entry = UnitEntry(
        unit_code=unit.unit_code,
        name=unit.name,
        kind=unit.kind,
        parent_code=unit.parent_code,
        emails=tuple(unit.emails),
        mentor_emails=tuple(unit.mentor_emails),
        active=unit.active,
        version=event.version,
    )
    return directory.model_copy(update={"units": {**directory.units, unit.unit_code: entry}})


def profile_updated(region: RegionYear, event: RegionProfileUpdated) -> RegionYear | None:
    if region.profile_version >= event.version:
        return None
    profile = event.profile
    return region.model_copy(
        update={
            "profile_version": event.version,
            "spd_levels": dict(profile.spd),
            "admin_emails": tuple(profile.admin_emails),
        }
    )


def index_updated(region: RegionYear, event: RegionIndexUpdated, at: dt.datetime) -> RegionYear | None:
    """Every version goes into the history (for the chart), in version order; the newest is the snapshot."""
    if any(point.version == event.version for point in region.history):
        return None
    point = IndexPoint(version=event.version, at=at, iid=event.iid, predicate=event.predicate)
    history = tuple(sorted((*region.history, point), key=lambda item: item.version))
    update: dict[str, object] = {"history": history}
    if region.index is None or region.index.version < event.version:
        update["index"] = IndexSnapshot(
            version=event.version,
            at=at,
            spd=event.spd,
            n=event.n,
            divisor=event.divisor,
            average_maturity=event.average_maturity,
            count_score=event.count_score,
            yandas_covered=tuple(event.yandas_covered),
            yandas_missing=tuple(event.yandas_missing),
            iid=event.iid,
            predicate=event.predicate,
            next_predicate=event.next_predicate,
            assumed=tuple(event.assumed),
            path=tuple(event.path),
            verified=event.verified,
            review=event.review,
            path_on=event.path_on,
        )
    return region.model_copy(update=update)


def compliance_updated(region: RegionYear, event: UnitComplianceUpdated) -> RegionYear | None:
    known = region.compliance.get(event.unit_code)
    if known is not None and known.version >= event.version:
        return None
    counts = UnitCounts(
        version=event.version, innovations=event.innovations, eligible=event.eligible, compliant=event.compliant
    )
    return region.model_copy(update={"compliance": {**region.compliance, event.unit_code: counts}})


def record_submitted(record: InnovationRecord, event: InnovationSubmitted) -> InnovationRecord | None:
    """The revision into the innovation's own record (keeping a score that overtook it)."""
    report = event.innovation
    known = record.revisions.get(event.revision)
    if known is not None and known.report:
        return None
    entry = RevisionEntry(
        revision=event.revision,
        submitted_at=event.submitted_at,
        report=report.model_dump(mode="json"),
        score=known.score if known is not None else None,
    )
    newest = event.revision >= max(record.revisions, default=0)
    return record.model_copy(
        update={
            "region_code": report.region_code,
            "year": report.year,
            "unit_code": report.unit_code if newest else record.unit_code,
            "revisions": {**record.revisions, event.revision: entry},
        }
    )


def verified_of(event: InnovationScored) -> Verified:
    return Verified(
        reviewed_round=event.reviewed_round,
        maturity=event.verified_maturity or 0,
        eligible=bool(event.verified_eligible),
        review=event.review or Verified().review,
        points_lost=event.points_lost,
    )


def record_scored(record: InnovationRecord, event: InnovationScored) -> InnovationRecord | None:
    """The score onto its revision (kept on a bare entry when it overtook the revision); a revision is scored
    again for each review round, and only a later round's score replaces an earlier one."""
    score = ScoreEntry(
        maturity=event.maturity,
        eligible=event.eligible,
        indicators=dict(event.indicators),
        ineligible_reasons=tuple(event.ineligible_reasons),
        top_improvements=tuple(event.top_improvements),
        verified=verified_of(event),
        verified_reasons=tuple(event.verified_ineligible_reasons),
        decisions=dict(event.decisions),
    )
    revision = record.revisions.get(event.revision)
    if revision is None:
        revision = RevisionEntry(revision=event.revision, submitted_at=UNKNOWN_TIME, report={})
    if revision.score == score:
        return None
    if revision.score is not None and revision.score.verified.reviewed_round > event.reviewed_round:
        return None
    return record.model_copy(
        update={"revisions": {**record.revisions, event.revision: revision.model_copy(update={"score": score})}}
    )


def region_submitted(region: RegionYear, event: InnovationSubmitted) -> RegionYear | None:
    """The innovation's line in its region-year, with the contribution scoring's rules give its revision (unless a
    newer revision is there already); a score that overtook the revision is taken with it."""
    report = event.innovation
    key = innovation_key(report.source, report.external_id)
    known = region.innovations.get(key)
    if known is not None and known.revision >= event.revision:
        return None
    try:
        contribution = score_innovation(report, load_rubric(report.year)).contribution()
    except UnknownRubricYear:
        contribution = None
    early = region.early_scores.get(key)
    score = early if early is not None and early.revision == event.revision else None
    summary = InnovationSummary(
        verified=score.verified if score else None,
        source=report.source,
        external_id=report.external_id,
        unit_code=report.unit_code,
        title=report.title,
        revision=event.revision,
        submitted_at=event.submitted_at,
        scored_revision=score.revision if score else None,
        maturity=score.maturity if score else None,
        eligible=score.eligible if score else None,
        contribution=contribution,
    )
    early_scores = {
        other: value for other, value in region.early_scores.items() if other != key or value.revision > event.revision
    }
    return region.model_copy(
        update={
            "innovations": {**region.innovations, key: summary},
            "early_scores": early_scores,
            "activity": _later(region.activity, report.unit_code, event.submitted_at),
        }
    )


def region_scored(region: RegionYear, event: InnovationScored) -> RegionYear | None:
    """The score onto the innovation's line; kept aside until its revision arrives when it overtook it."""
    key = innovation_key(event.source, event.external_id)
    summary = region.innovations.get(key)
    if summary is not None and summary.revision > event.revision:
        return None  # a newer revision counts: this score is of the past
    verified = verified_of(event)
    if summary is not None and summary.revision == event.revision:
        if summary.scored_revision == event.revision and _not_later(verified, summary.verified):
            return None
        scored = summary.model_copy(
            update={
                "scored_revision": event.revision,
                "maturity": event.maturity,
                "eligible": event.eligible,
                "verified": verified,
            }
        )
        return region.model_copy(update={"innovations": {**region.innovations, key: scored}})
    known_early = region.early_scores.get(key)
    if known_early is not None and (known_early.revision, _round(known_early.verified)) >= (
        event.revision,
        event.reviewed_round,
    ):
        return None  # that one, or a newer revision's, is kept already
    early = EarlyScore(revision=event.revision, maturity=event.maturity, eligible=event.eligible, verified=verified)
    return region.model_copy(update={"early_scores": {**region.early_scores, key: early}})


def _round(verified: Verified | None) -> int:
    return verified.reviewed_round if verified is not None else -1


def _not_later(verified: Verified, known: Verified | None) -> bool:
    """Whether a score's verified figures are no later than those kept (a repeat, or an older round's)."""
    return known is not None and verified.reviewed_round <= known.reviewed_round


def record_verified(record: InnovationRecord, event: InnovationVerified) -> InnovationRecord | None:
    """A review round into the innovation's history of decisions."""
    if any(entry.round == event.version for entry in record.reviews):
        return None
    entry = ReviewEntry(
        round=event.version,
        revision=event.revision,
        verifier=event.verifier,
        at=event.verified_at,
        indicators=dict(event.indicators),
        eligibility=dict(event.eligibility),
        note=event.note,
    )
    reviews = tuple(sorted((*record.reviews, entry), key=lambda item: item.round))
    return record.model_copy(update={"reviews": reviews})


def innovation_answered(record: InnovationRecord, answer: IntakeAnswer) -> InnovationRecord | None:
    if answer.message_id is not None and any(known.message_id == answer.message_id for known in record.answers):
        return None
    entry = AnswerEntry(
        message_id=answer.message_id,
        status=answer.status,
        revision=answer.revision,
        unchanged=answer.unchanged,
        reasons=tuple(answer.reasons),
        received_at=answer.received_at,
        kind="review" if answer.intake_routing_key == InnovationVerification.routing_key else "report",
    )
    answers = (*record.answers, entry)[-ANSWERS_KEPT:]
    update: dict[str, object] = {"answers": answers}
    if record.region_code is None:
        update.update({"region_code": answer.region_code, "unit_code": answer.unit_code})
        year = answer.key.get("year")
        if isinstance(year, int):
            update["year"] = year
    return record.model_copy(update=update)


def activity_reported(region: RegionYear, unit_code: str, at: dt.datetime) -> RegionYear | None:
    activity = _later(region.activity, unit_code, at)
    return None if activity == region.activity else region.model_copy(update={"activity": activity})


def email_outcome(activity: UnitActivity, event: NotificationSent | NotificationFailed) -> UnitActivity | None:
    if isinstance(event, NotificationSent):
        entry = EmailEntry(
            dedupe_key=event.dedupe_key,
            kind=event.kind,
            at=event.sent_at,
            status="sent" if event.confirmed else "in_doubt",
            recipients=event.recipients,
        )
    else:
        entry = EmailEntry(dedupe_key=event.dedupe_key, kind=event.kind, at=event.failed_at, status="failed")
    known = activity.emails.get(event.dedupe_key)
    if known == entry or (known is not None and known.status == "sent" and entry.status != "sent"):
        return None  # a repeat, or a late failure of an email a resend has delivered since
    emails = {**activity.emails, event.dedupe_key: entry}
    if len(emails) > EMAILS_KEPT:
        emails = dict(sorted(emails.items(), key=lambda item: item[1].at)[-EMAILS_KEPT:])
    return activity.model_copy(update={"emails": emails})


def _later(activity: dict[str, dt.datetime], unit_code: str, at: dt.datetime) -> dict[str, dt.datetime]:
    known = activity.get(unit_code)
    if known is not None and known >= at:
        return activity
    return {**activity, unit_code: at}
