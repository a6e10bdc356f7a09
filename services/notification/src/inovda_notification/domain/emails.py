"""One builder per kind of email: from the triggering event and the contacts it needs to zero or more emails.

Every builder is pure: the caller looks the contacts up and passes them in, and sends what comes back,
using `dedupe_key` to send each email at most once. An empty list means "nothing to send", and each
builder's docstring says when that is.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from inovda_shared.contracts.events import OPERATOR_SOURCE, InnovationScored, IntakeAnswer, RegionIndexUpdated
from inovda_shared.contracts.intake import InnovationReport, RegionProfile, UnitUpsert
from inovda_shared.contracts.vocabulary import DECISION_LABELS, NOT_ACCEPTED_REASON_LABELS, UNIT_KIND_LABELS
from inovda_shared.indonesian import format_date, format_number, format_points

from .formatting import one_line, shorten, subject_line
from .improvements import improvements_from_event
from .index_emails import Emailed, IndexMoves, IndexState
from .model import EmailKind, EmailMessage, Recipients, RegionContact, UnitContact, recipients
from .reasons import explain
from .rendering import Renderer
from .schedule import ReminderSchedule, ReminderStage

MAX_PATH_STEPS = 5
MAX_LISTED = 30  # longer lists (missing units, new titles) end with "and N more"
# A long title or name in a subject would push out what the subject is about.
MAX_SUBJECT_VALUE_CHARS = 80

_MESSAGE_LABELS = {
    InnovationReport.routing_key: "laporan inovasi",
    UnitUpsert.routing_key: "data unit",
    RegionProfile.routing_key: "profil daerah",
}
_PLAIN_KEY_PART = re.compile(r"[A-Za-z0-9._:@/+-]{1,128}")


# --- Receipt and rejection: answers to what a unit's system sent ---------------------------------------


def emails_nobody(answer: IntakeAnswer) -> bool:
    """A refused answer (the sender may not send what it sent: see `IntakeAnswer`) and an answer to the operator
    are emailed to nobody, whatever unit they name."""
    return answer.refused or answer.source == OPERATOR_SOURCE


def receipt_emails(answer: IntakeAnswer, unit: UnitContact | None, renderer: Renderer) -> list[EmailMessage]:
    """To the unit's emails, for an accepted innovation report that stored a new revision.

    Nothing for any other answer, for an `unchanged` re-send (its revision was receipted already), or when
    `unit` is not the answer's unit (region_code + unit_code).
    """
    if (
        answer.status != "accepted"
        or emails_nobody(answer)
        or answer.intake_routing_key != InnovationReport.routing_key
        or answer.unchanged
        or answer.revision is None
        or unit is None
        or not unit.is_unit(answer.region_code, answer.unit_code)
    ):
        return []
    external_id = str(answer.key.get("external_id", ""))
    title = one_line(answer.title or external_id)
    return _email(
        "receipt",
        f"receipt:{_key_part(answer.source)}/{_key_part(external_id)}:r{answer.revision}",
        recipients(unit.emails),
        f'Laporan inovasi diterima: "{_in_subject(title)}" (revisi {answer.revision})',
        {"unit_name": unit.name, "title": title, "external_id": external_id, "revision": answer.revision},
        renderer,
        about=unit,
        source=answer.source,
    )


def rejection_emails(answer: IntakeAnswer, unit: UnitContact | None, renderer: Renderer) -> list[EmailMessage]:
    """To the unit's emails, for a rejected message, with every reason explained and how to fix it.

    Goes nowhere (an empty list) when the unit is unknown: `unit` is None or is not the unit the answer
    names (region_code + unit_code), e.g. a message whose unit_code could not be read; nor when the answer
    `emails_nobody`.
    """
    if (
        answer.status != "rejected"
        or emails_nobody(answer)
        or unit is None
        or not unit.is_unit(answer.region_code, answer.unit_code)
    ):
        return []
    label = _MESSAGE_LABELS.get(answer.intake_routing_key, "pesan")
    title = one_line(answer.title) if answer.title else None
    external_id = answer.key.get("external_id")
    what = f'{label} "{_in_subject(title)}"' if title else label
    return _email(
        "rejection",
        f"rejection:{_key_part(answer.source)}/{_rejected_message_id(answer)}",
        recipients(unit.emails),
        f"Perlu diperbaiki: {what} ditolak",
        {
            "unit_name": unit.name,
            "message_label": label,
            "title": title,
            "external_id": str(external_id) if external_id is not None else None,
            "source": answer.source,
            "reasons": [explain(reason) for reason in answer.reasons],
        },
        renderer,
        about=unit,
        source=answer.source,
    )


def rejection_recipient(answer: IntakeAnswer) -> tuple[str, str] | None:
    """The (region_code, unit_code) to look the unit up by, or None when the answer names no unit."""
    if answer.region_code is None or answer.unit_code is None:
        return None
    return answer.region_code, answer.unit_code


# --- Score ---------------------------------------------------------------------------------------------


def score_emails(event: InnovationScored, unit: UnitContact | None, renderer: Renderer) -> list[EmailMessage]:
    """To the unit, its mentors copied: maturity, eligible or why not, and the three best improvements.

    The improvements are the event's own `top_improvements`, in the scoring service's order (it owns
    the rubric). Nothing when `unit` is not the event's unit.
    """
    if unit is None or not unit.is_unit(event.region_code, event.unit_code):
        return []
    title = one_line(event.title)
    return _email(
        "score",
        score_key(event.source, event.external_id, event.revision),
        recipients(unit.emails, unit.mentor_emails),
        f'Hasil penilaian inovasi "{_in_subject(title)}": kematangan {format_points(event.maturity)}'
        + ("" if event.eligible else " (belum memenuhi syarat)"),
        {
            "unit_name": unit.name,
            "title": title,
            "revision": event.revision,
            "year": event.year,
            "maturity": event.maturity,
            "eligible": event.eligible,
            "ineligible_reasons": event.ineligible_reasons,
            "improvements": improvements_from_event(event.top_improvements),
        },
        renderer,
        about=unit,
        source=event.source,
    )


# --- Review: what the verifier did not accept in one round ------------------------------------------

_REASON_FIXES = {
    "evidence_missing": "unggah data dukung untuk indikator ini",
    "evidence_unreadable": "pastikan tautan data dukung dapat dibuka tanpa masuk akun dan berkasnya terbaca",
    "evidence_does_not_support_level": (
        "lengkapi data dukung yang membuktikan level yang diklaim, atau turunkan klaim ke level yang didukung"
    ),
    "wrong_indicator": "ganti dengan data dukung untuk indikator ini",
    "other": "perbaiki sesuai catatan pemverifikasi",
}


@dataclass(frozen=True)
class ReviewFinding:
    """An indicator whose claim did not fully count: what was decided, why, and how to fix it."""

    indicator_id: str
    name: str
    decision: str
    reason: str | None
    note: str | None
    fix: str


def review_findings(event: InnovationScored) -> list[ReviewFinding]:
    """The decisions of the event's round that took points away, in indicator order."""
    findings = []
    for indicator_id, decided in sorted(event.decisions.items(), key=lambda item: int(item[0])):
        if decided.round != event.reviewed_round or decided.decision == "accepted":
            continue
        score = event.indicators.get(indicator_id)
        name = (score.name if score else None) or f"indikator {indicator_id}"
        if decided.decision == "accepted_lower":
            decision = f"diterima pada level {decided.level} (diklaim level {decided.judged_level})"
            fix = f"tambahkan data dukung untuk level {decided.judged_level} bila ada, lalu kirim revisi"
        else:
            decision = DECISION_LABELS[decided.decision].lower()
            fix = _REASON_FIXES.get(decided.reason or "other", _REASON_FIXES["other"]) + ", lalu kirim revisi"
        reason = NOT_ACCEPTED_REASON_LABELS.get(decided.reason, decided.reason) if decided.reason else None
        findings.append(ReviewFinding(indicator_id, name, decision, reason, decided.note, fix))
    return findings


def review_emails(
    event: InnovationScored, unit: UnitContact | None, deadline: dt.date, renderer: Renderer
) -> list[EmailMessage]:
    """One per review round of an innovation, to the unit and its mentors: what the verifier did not accept
    and why, how to fix it before the region's deadline, and the figures as verified. Nothing for a score
    that reports no round, or when `unit` is not the event's unit."""
    if not event.reviewed_round or unit is None or not unit.is_unit(event.region_code, event.unit_code):
        return []
    title = one_line(event.title)
    findings = review_findings(event)
    review = event.review
    undecided = review.total - review.decided if review else 0
    return _email(
        "review",
        f"review:{_key_part(event.source)}/{_key_part(event.external_id)}:v{event.reviewed_round}",
        recipients(unit.emails, unit.mentor_emails),
        f'Hasil verifikasi inovasi "{_in_subject(title)}": '
        + (f"{len(findings)} indikator perlu diperbaiki" if findings else "data dukung diterima"),
        {
            "unit_name": unit.name,
            "title": title,
            "revision": event.revision,
            "round": event.reviewed_round,
            "year": event.year,
            "findings": findings,
            "undecided": undecided,
            "maturity": event.maturity,
            "verified_maturity": event.verified_maturity or 0,
            "verified_eligible": bool(event.verified_eligible),
            "verified_reasons": event.verified_ineligible_reasons,
            "points_lost": event.points_lost,
            "deadline": format_date(deadline),
        },
        renderer,
        about=unit,
    )


def score_key(source: str, external_id: str, revision: int) -> str:
    """The score email of one revision; the next revision's key tells whether a newer one is on its way."""
    return f"score:{_key_part(source)}/{_key_part(external_id)}:r{revision}"


# --- Reminder ------------------------------------------------------------------------------------------


def reminder_emails(
    unit: UnitContact,
    region: RegionContact,
    schedule: ReminderSchedule,
    stage: ReminderStage,
    *,
    has_complied: bool,
    today: dt.date,
    renderer: Renderer,
) -> list[EmailMessage]:
    """To the unit and its mentors, for a stage `reminders_due` returned; the final stage copies the office.

    Nothing for a unit that has complied for the year or is no longer active.
    """
    if unit.region_code != region.region_code or schedule.deadline.year != region.year:
        raise ValueError(f"unit {unit.region_code}/{unit.unit_code}, region and schedule are not of one region-year")
    if has_complied or not unit.active:
        return []
    office = region.admin_emails if stage.final else ()
    deadline = format_date(schedule.deadline)
    subject = (
        f"Pengingat terakhir: {_in_subject(unit.name)} belum melaporkan inovasi {region.year} (batas {deadline})"
        if stage.final
        else f"Pengingat: {_in_subject(unit.name)} belum melaporkan inovasi tahun {region.year} (batas {deadline})"
    )
    return _email(
        "reminder",
        f"reminder:{_key_part(region.region_code)}/{region.year}/{_key_part(unit.unit_code)}:{stage.id}",
        recipients([*unit.emails, *unit.mentor_emails], office),
        subject,
        {
            "unit_name": unit.name,
            "year": region.year,
            "deadline": schedule.deadline,
            "days_left": max((schedule.deadline - today).days, 0),
            "final": stage.final,
        },
        renderer,
        about=unit,
    )


# --- The office's index email --------------------------------------------------------------------------


def index_emails(
    event: RegionIndexUpdated,
    last: Emailed | None,
    moves: IndexMoves,
    region: RegionContact,
    missing_units: Sequence[UnitContact],
    renderer: Renderer,
    timezone: dt.tzinfo = dt.UTC,
) -> list[EmailMessage]:
    """To the innovation office, when `index_email_due` says so: the IID and predicate now and as last emailed
    (`last`), what moved them since, who is still missing (`missing_units`: units yet to comply), and the first
    steps of the event's path to the next band. Dates are the region's local ones (`timezone`)."""
    _check_region(region, event.region_code, event.year)
    before = last.state if last is not None else None
    return _email(
        "predicate_change",
        index_email_key(event.region_code, event.year, event.version),
        recipients(region.admin_emails),
        _index_subject(event, before),
        {
            "region_code": event.region_code,
            "year": event.year,
            "iid": event.iid,
            "predicate": event.predicate,
            "previous_iid": before.iid if before else None,
            "previous_predicate": before.predicate if before else None,
            "predicate_is_new": before is not None and before.predicate != event.predicate,
            "direction": _direction(event.iid, before),
            "since": last.at.astimezone(timezone).date() if last is not None else None,
            "n": event.n,
            "previous_n": before.n if before else None,
            "spd": event.spd,
            "previous_spd": before.spd if before else None,
            "average_maturity": event.average_maturity,
            "previous_average_maturity": before.average_maturity if before else None,
            "new_innovations": moves.new_innovations,
            "revisions": moves.revisions,
            "next_predicate": event.next_predicate,
            "path": event.path[:MAX_PATH_STEPS],
            # Once the region verifies, the path plans on the verified figure: the email shows it beside.
            "verified": event.verified,
            "review": event.review,
            "path_on_verified": event.path_on == "verified",
            "yandas_missing": [affair.replace("_", " ") for affair in event.yandas_missing],
            "missing_units": missing_units[:MAX_LISTED],
            "more_missing_units": max(len(missing_units) - MAX_LISTED, 0),
            "missing_unit_count": len(missing_units),
        },
        renderer,
    )


def index_email_key(region_code: str, year: int, version: int) -> str:
    """The office's email of one index version."""
    return f"predicate:{_key_part(region_code)}/{year}:v{version}"


def _direction(iid: float, before: IndexState | None) -> str | None:
    if before is None or iid == before.iid:
        return None
    return "naik" if iid > before.iid else "turun"


def _index_subject(event: RegionIndexUpdated, before: IndexState | None) -> str:
    iid = format_number(event.iid)
    if before is not None and before.predicate != event.predicate:
        return f"Predikat IID {event.year} berubah: {before.predicate} → {event.predicate} (IID {iid})"
    direction = _direction(event.iid, before)
    if direction is None:
        return f"IID {event.region_code} tahun {event.year}: {iid} ({event.predicate})"
    return f"IID {event.region_code} tahun {event.year} {direction} ke {iid} ({event.predicate})"


# --- Weekly digest -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindCompliance:
    kind: str
    compliant: int
    total: int

    @property
    def percent(self) -> float:
        return round(self.compliant / self.total * 100, 1) if self.total else 0.0


@dataclass(frozen=True)
class WeeklyDigest:
    """What the caller gathered for one region-year and week (`week_of`: any day of that ISO week)."""

    region_code: str
    year: int
    week_of: dt.date
    compliance: Sequence[KindCompliance]
    new_innovation_titles: Sequence[str]
    index_trend: Sequence[tuple[dt.date, float]]


def compliance_by_kind(units: Iterable[UnitContact], compliant_unit_codes: Collection[str]) -> list[KindCompliance]:
    """Compliant / total active units per kind, in the vocabulary's order of kinds."""
    counts: dict[str, list[int]] = {}
    for unit in units:
        if unit.active:
            tally = counts.setdefault(unit.kind, [0, 0])
            tally[0] += unit.unit_code in compliant_unit_codes
            tally[1] += 1
    order = list(UNIT_KIND_LABELS)
    kinds = sorted(counts, key=lambda kind: order.index(kind) if kind in order else len(order))
    return [KindCompliance(kind, *counts[kind]) for kind in kinds]


def weekly_digest_emails(digest: WeeklyDigest, region: RegionContact, renderer: Renderer) -> list[EmailMessage]:
    """To the innovation office: compliance by kind of unit, the week's new innovations, the index trend."""
    _check_region(region, digest.region_code, digest.year)
    iso_year, iso_week, _ = digest.week_of.isocalendar()
    monday = digest.week_of - dt.timedelta(days=digest.week_of.weekday())
    trend = sorted(digest.index_trend)
    titles = [one_line(title) for title in digest.new_innovation_titles]
    return _email(
        "weekly_digest",
        digest_key(digest.region_code, digest.week_of),
        recipients(region.admin_emails),
        f"Ringkasan mingguan inovasi daerah {digest.region_code}, minggu {iso_week} tahun {iso_year}",
        {
            "region_code": digest.region_code,
            "year": digest.year,
            "iso_week": iso_week,
            "week_start": monday,
            "week_end": monday + dt.timedelta(days=6),
            "compliance": digest.compliance,
            "compliant_total": sum(row.compliant for row in digest.compliance),
            "unit_total": sum(row.total for row in digest.compliance),
            "new_count": len(titles),
            "new_titles": titles[:MAX_LISTED],
            "more_new": max(len(titles) - MAX_LISTED, 0),
            "trend": trend,
            "trend_change": trend[-1][1] - trend[0][1] if len(trend) > 1 else None,
        },
        renderer,
    )


def digest_key(region_code: str, week_of: dt.date) -> str:
    """The weekly digest of the ISO week `week_of` falls in."""
    iso_year, iso_week, _ = week_of.isocalendar()
    return f"digest:{_key_part(region_code)}/{iso_year}-W{iso_week:02d}"


# --- Shared --------------------------------------------------------------------------------------------


def _email(
    kind: EmailKind,
    dedupe_key: str,
    to_and_cc: Recipients,
    subject: str,
    context: Mapping[str, object],
    renderer: Renderer,
    about: UnitContact | None = None,
    source: str | None = None,
) -> list[EmailMessage]:
    if not to_and_cc.to:
        return []  # no deliverable address: nothing to send
    clean_subject = subject_line(subject)
    body = renderer.render(kind, {**context, "subject": clean_subject})
    return [
        EmailMessage(
            kind=kind,
            dedupe_key=dedupe_key,
            to=to_and_cc.to,
            cc=to_and_cc.cc,
            subject=clean_subject,
            text=body.text,
            html=body.html,
            about=(about.region_code, about.unit_code) if about is not None else None,
            source=source,
        )
    ]


def _in_subject(value: str) -> str:
    return shorten(one_line(value), MAX_SUBJECT_VALUE_CHARS)


def _check_region(region: RegionContact, region_code: str, year: int) -> None:
    if (region.region_code, region.year) != (region_code, year):
        raise ValueError(f"contact of {region.region_code}/{region.year} given for {region_code}/{year}")


def _key_part(value: str) -> str:
    """The value itself when it is plain, so keys stay readable; otherwise a digest of it.

    Keys end up in a mail header (the sender's X-Inovda-Dedupe-Key), so nothing else may enter them.
    """
    if _PLAIN_KEY_PART.fullmatch(value):
        return value
    return "sha256-" + hashlib.sha256(value.encode()).hexdigest()[:32]


def _rejected_message_id(answer: IntakeAnswer) -> str:
    # An answer comes once per intake message (the submission service keeps it in its outbox and republishes
    # it unchanged), so without a sender's message_id the answer's own content identifies the message.
    if answer.message_id:
        return _key_part(answer.message_id)
    return "sha256-" + hashlib.sha256(answer.model_dump_json().encode()).hexdigest()[:32]
