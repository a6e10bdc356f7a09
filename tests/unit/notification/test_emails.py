"""Which emails each event gives, to whom, under which dedupe key."""

import datetime as dt
from typing import Any

import pytest

from inovda_notification.domain import (
    Emailed,
    EmailMessage,
    IndexEmailRule,
    IndexEmailRules,
    IndexMoves,
    IndexState,
    KindCompliance,
    RegionContact,
    ReminderSchedule,
    ReminderStage,
    Renderer,
    UnitContact,
    WeeklyDigest,
    compliance_by_kind,
    index_email_due,
    index_emails,
    receipt_emails,
    rejection_emails,
    rejection_recipient,
    reminder_emails,
    reminders_due,
    score_emails,
    weekly_digest_emails,
)
from inovda_shared.contracts.events import IntakeAnswer, Reason, Review, VerifiedIndex
from tests.unit.notification.builders import (
    accepted,
    brida,
    dinkes,
    improvement,
    index_updated,
    path_step,
    puskesmas_samboja,
    rejected,
    scored,
)

D = dt.date
SCHEDULE = ReminderSchedule.default(2026)


def remind(
    renderer: Renderer,
    unit: UnitContact,
    stage: ReminderStage,
    *,
    today: dt.date,
    schedule: ReminderSchedule = SCHEDULE,
    region: RegionContact | None = None,
    has_complied: bool = False,
) -> list[EmailMessage]:
    region = region or brida()
    return reminder_emails(unit, region, schedule, stage, has_complied=has_complied, today=today, renderer=renderer)


# --- Receipt -------------------------------------------------------------------------------------------


def test_a_receipt_goes_to_the_units_emails(renderer: Renderer) -> None:
    [email] = receipt_emails(accepted(revision=3), dinkes(), renderer)
    assert email.kind == "receipt"
    assert email.dedupe_key == "receipt:e-inovasi/INV-001:r3"
    assert (email.to, email.cc) == (["dinkes@kukarkab.example"], [])
    assert email.subject == 'Laporan inovasi diterima: "Posyandu Digital Kukar" (revisi 3)'
    assert "Revisi     : 3" in email.text
    assert "Langkah berikutnya" in email.text


@pytest.mark.parametrize(
    "answer",
    [
        accepted(unchanged=True),
        accepted(intake_routing_key="unit.upsert.v1", key={"region_code": "64.02", "unit_code": "DINKES"}),
        accepted(unit_code="DISHUB"),
        rejected(),
    ],
    ids=["unchanged", "not-an-innovation", "another-unit", "rejected"],
)
def test_no_receipt_for_anything_else(answer: IntakeAnswer, renderer: Renderer) -> None:
    assert receipt_emails(answer, dinkes(), renderer) == []


def test_no_receipt_for_an_unknown_unit(renderer: Renderer) -> None:
    assert receipt_emails(accepted(), None, renderer) == []


# --- Rejection -----------------------------------------------------------------------------------------


def test_a_rejection_explains_every_reason_to_the_unit(renderer: Renderer) -> None:
    answer = rejected(
        Reason(field="applied_on", code="missing", message="applied_on is required when stage is penerapan"),
        Reason(field="indicators.35.evidence.0.uri", code="invalid_uri", message="must be an http or https address"),
    )
    [email] = rejection_emails(answer, dinkes(), renderer)
    assert email.kind == "rejection"
    assert email.dedupe_key == "rejection:e-inovasi/msg-0002"
    assert email.to == ["dinkes@kukarkab.example"]
    assert email.subject == 'Perlu diperbaiki: laporan inovasi "Posyandu Digital Kukar" ditolak'
    assert "1. Pesan tidak memuat kolom 'applied_on', padahal wajib diisi." in email.text
    assert "2. Tautan pada kolom 'indicators.35.evidence.0.uri' tidak sah." in email.text
    assert "Cara memperbaiki: Tulis alamat lengkap yang diawali http:// atau https://" in email.text


def test_a_rejection_for_an_unknown_unit_goes_nowhere(renderer: Renderer) -> None:
    answer = rejected(unit_code="DISHUB")
    assert rejection_recipient(answer) == ("64.02", "DISHUB")
    assert rejection_emails(answer, None, renderer) == []
    assert rejection_emails(answer, dinkes(), renderer) == []  # a contact of another unit is no match


def test_a_rejection_that_names_no_unit_goes_nowhere(renderer: Renderer) -> None:
    answer = rejected(intake_routing_key="region.profile.v1", unit_code=None, title=None)
    assert rejection_recipient(answer) is None
    assert rejection_emails(answer, None, renderer) == []


def test_a_rejected_unit_registration_goes_to_that_unit(renderer: Renderer) -> None:
    answer = rejected(
        Reason(field="emails.0", code="invalid_email", message="'dinkes@' is not a valid email address"),
        intake_routing_key="unit.upsert.v1",
        source="simpeg",
        key={"region_code": "64.02", "unit_code": "DINKES"},
        title=None,
    )
    [email] = rejection_emails(answer, dinkes(), renderer)
    assert email.subject == "Perlu diperbaiki: data unit ditolak"


def test_a_rejection_without_message_id_is_keyed_by_the_answer_itself(renderer: Renderer) -> None:
    first = rejection_emails(rejected(message_id=None), dinkes(), renderer)[0].dedupe_key
    again = rejection_emails(rejected(message_id=None), dinkes(), renderer)[0].dedupe_key
    other = rejection_emails(rejected(message_id=None, title="Lain"), dinkes(), renderer)[0].dedupe_key
    assert first == again != other
    assert first.startswith("rejection:e-inovasi/sha256-")


# --- Score ---------------------------------------------------------------------------------------------


def test_a_score_email_shows_maturity_and_the_events_three_best_improvements(renderer: Renderer) -> None:
    [email] = score_emails(scored(), dinkes(), renderer)
    assert email.kind == "score"
    assert email.dedupe_key == "score:e-inovasi/INV-001:r2"
    assert (email.to, email.cc) == (["dinkes@kukarkab.example"], ["mentor.inovasi@kukarkab.example"])
    assert email.subject == 'Hasil penilaian inovasi "Posyandu Digital Kukar": kematangan 61'
    assert "Tingkat kematangan: 61 poin" in email.text
    assert "Tingkat kematangan: <strong>61</strong> poin" in email.html
    assert "MEMENUHI SYARAT" in email.text
    assert "Tiga indikator yang paling menambah" in email.text
    # In the event's order, with the advice for each.
    assert "1. Indikator 35 (Video inovasi): +12 poin" in email.text
    assert "Lengkapi data dukungnya dan naikkan dari level 2 ke level 3." in email.text
    assert "2. Indikator 31 (Replikasi): +9 poin" in email.text
    assert "3. Indikator 18 (Dukungan anggaran): +6 poin" in email.text
    assert "Isi indikator ini di level 3 beserta data dukungnya." in email.text
    assert email.text.index("Indikator 35") < email.text.index("Indikator 31") < email.text.index("Indikator 18")
    assert "Indikator 31 (Replikasi): <strong>+9 poin</strong>" in email.html


def test_an_ineligible_innovation_is_told_why(renderer: Renderer) -> None:
    reasons = ["Tahapan masih 'uji_coba'; hanya inovasi tahap penerapan yang dihitung.", "Rancang bangun 120 kata."]
    [email] = score_emails(scored(eligible=False, ineligible_reasons=reasons), dinkes(), renderer)
    assert email.subject.endswith("(belum memenuhi syarat)")
    assert "BELUM MEMENUHI SYARAT" in email.text
    for reason in reasons:
        assert f"- {reason}" in email.text
        assert reason.replace("'", "&#39;") in email.html


def test_fewer_improvements_are_listed_as_they_come(renderer: Renderer) -> None:
    event = scored(top_improvements=[improvement("16", 3, level=2, has_evidence=True)])
    [email] = score_emails(event, dinkes(), renderer)
    assert "Indikator yang paling menambah" in email.text
    assert "1. Indikator 16 (Regulasi inovasi daerah): +3 poin" in email.text
    assert "Naikkan dari level 2 ke level 3 beserta data dukungnya." in email.text
    assert "2. Indikator" not in email.text


def test_without_improvements_every_indicator_is_at_its_best(renderer: Renderer) -> None:
    [email] = score_emails(scored(top_improvements=[]), dinkes(), renderer)
    assert "Semua indikator sudah di level tertinggi beserta data dukungnya." in email.text
    assert "1. Indikator" not in email.text


def test_no_score_email_for_another_or_an_unknown_unit(renderer: Renderer) -> None:
    assert score_emails(scored(), puskesmas_samboja(), renderer) == []
    assert score_emails(scored(), None, renderer) == []


# --- Reminder ------------------------------------------------------------------------------------------


def test_a_reminder_goes_to_the_unit_and_its_mentors(renderer: Renderer) -> None:
    stage = reminders_due(SCHEDULE, 2026, D(2026, 9, 1), "2026-07-01")
    assert stage is not None
    [email] = remind(renderer, puskesmas_samboja(), stage, today=D(2026, 9, 1))
    assert email.kind == "reminder"
    assert email.dedupe_key == "reminder:64.02/2026/PKM-SAMBOJA:2026-09-01"
    assert email.to == [
        "pkm.samboja@kukarkab.example",
        "kapus.samboja@kukarkab.example",
        "mentor.dinkes@kukarkab.example",
    ]
    assert email.cc == []
    assert email.subject == "Pengingat: Puskesmas Samboja belum melaporkan inovasi tahun 2026 (batas 31 Oktober 2026)"
    assert "Batas waktu: 31 Oktober 2026 (60 hari lagi)" in email.text


def test_the_final_reminder_copies_the_innovation_office(renderer: Renderer) -> None:
    final = SCHEDULE.stages()[-1]
    [email] = remind(renderer, puskesmas_samboja(), final, today=D(2026, 10, 29))
    assert email.dedupe_key == "reminder:64.02/2026/PKM-SAMBOJA:final"
    assert email.cc == ["brida@kukarkab.example"]
    assert email.subject.startswith("Pengingat terakhir: Puskesmas Samboja")
    assert "pengingat TERAKHIR" in email.text
    assert "(2 hari lagi)" in email.text


def test_only_the_final_reminder_copies_the_office() -> None:
    copies = [stage.final for stage in SCHEDULE.stages()]
    assert copies.count(True) == 1


@pytest.mark.parametrize("stage", SCHEDULE.stages(), ids=lambda stage: stage.id)
def test_a_unit_that_has_complied_gets_no_reminder(stage: ReminderStage, renderer: Renderer) -> None:
    assert remind(renderer, dinkes(), stage, today=stage.on, has_complied=True) == []


def test_an_inactive_unit_gets_no_reminder(renderer: Renderer) -> None:
    assert remind(renderer, dinkes(active=False), SCHEDULE.stages()[0], today=D(2026, 7, 1)) == []


def test_a_reminder_with_a_contact_of_another_region_year_is_a_wiring_error(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="not of one region-year"):
        remind(renderer, dinkes(), SCHEDULE.stages()[0], today=D(2026, 7, 1), region=brida(2025))


def test_a_custom_schedule_drives_the_dates_and_the_deadline_in_the_email(renderer: Renderer) -> None:
    schedule = ReminderSchedule(deadline=D(2026, 9, 30), dates=(D(2026, 6, 15), D(2026, 9, 16)))
    stage = reminders_due(schedule, 2026, D(2026, 9, 16), "2026-06-15")
    assert stage is not None
    assert stage.final
    [email] = remind(renderer, dinkes(), stage, today=D(2026, 9, 16), schedule=schedule)
    assert "Batas waktu: 30 September 2026 (14 hari lagi)" in email.text
    assert email.cc == ["brida@kukarkab.example"]


# --- The office's index email ---------------------------------------------------------------------------

T0 = dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
RULE = IndexEmailRule(quiet=15 * MINUTE, min_gap=60 * MINUTE)
NO_MOVES = IndexMoves(new_innovations=0, revisions=0)


def state(version: int = 7, iid: float = 40.35, predicate: str = "Inovatif", **fields: Any) -> IndexState:
    values = {"n": 18, "spd": 41.25, "average_maturity": 61.0, "count_score": 6.84, **fields}
    return IndexState(version=version, iid=iid, predicate=predicate, **values)


def emailed(at: dt.datetime = T0, **fields: Any) -> Emailed:
    return Emailed(state(**fields), at)


@pytest.mark.parametrize(
    ("last", "latest", "expected"),
    [
        (None, state(version=1), T0),  # the first index of the year: where the office starts
        (emailed(version=5, predicate="Kurang Inovatif", iid=39.8), state(version=7), T0),  # a new predicate: now
        (emailed(version=7, predicate="Kurang Inovatif", iid=39.8), state(version=7), None),  # emailed already
        (emailed(version=9, predicate="Kurang Inovatif", iid=39.8), state(version=7), None),  # older than emailed
        (emailed(version=5), state(version=7), None),  # same IID and predicate: nothing to tell
        (emailed(T0 - 120 * MINUTE, version=5, iid=40.0), state(version=7), T0 + 15 * MINUTE),  # after a quiet time
        (emailed(T0 - 50 * MINUTE, version=5, iid=40.0), state(version=7), T0 + 15 * MINUTE),
        (emailed(T0 - 30 * MINUTE, version=5, iid=40.0), state(version=7), T0 + 30 * MINUTE),  # at most one an hour
    ],
)
def test_when_the_office_is_emailed(last: Emailed | None, latest: IndexState, expected: dt.datetime | None) -> None:
    assert index_email_due(last, latest, T0, RULE) == expected


def test_a_new_predicate_is_emailed_a_while_after_it_was_first_seen_with_what_is_known_by_then() -> None:
    rule = IndexEmailRule(quiet=15 * MINUTE, min_gap=60 * MINUTE, settle=MINUTE)
    last = emailed(T0 - 5 * MINUTE, version=5, predicate="Kurang Inovatif", iid=39.8)
    first_seen = T0 - 30 * dt.timedelta(seconds=1)
    assert index_email_due(last, state(version=9), T0, rule, diverged_at=first_seen) == first_seen + MINUTE
    assert index_email_due(None, state(version=1), T0, rule) == T0 + MINUTE


def test_a_region_may_have_its_own_rule() -> None:
    own = IndexEmailRule(quiet=5 * MINUTE, min_gap=10 * MINUTE)
    rules = IndexEmailRules(RULE, {"64.02": own, "64.03/2027": own})
    assert (rules.of("64.02", 2026), rules.of("64.03", 2027), rules.of("64.03", 2026)) == (own, own, RULE)


def test_a_predicate_change_goes_to_the_office_with_what_moved_it_the_path_and_the_missing_units(
    renderer: Renderer,
) -> None:
    event = index_updated(
        iid=40.35,
        previous_iid=40.1,  # the event's own predecessor: not what the office was told
        previous_predicate="Inovatif",
        predicate="Inovatif",
        next_predicate="Sangat Inovatif",
        n=18,
        spd=41.25,
        average_maturity=61.0,
        path=[
            path_step("Naikkan indikator SPD 12 (Penghargaan bagi inovator) dari level 2 ke 3 (+0,80 poin IID)", 41.15),
            path_step("Naikkan indikator SPD 15 (Fasilitasi HAKI) dari level 1 ke 3 (+0,80 poin IID)", 41.95),
        ],
    )
    last = emailed(version=3, iid=39.8, predicate="Kurang Inovatif", n=12, spd=40.0, average_maturity=58.5)
    moves = IndexMoves(new_innovations=6, revisions=2)
    [email] = index_emails(event, last, moves, brida(), [puskesmas_samboja()], renderer)
    assert email.kind == "predicate_change"
    assert email.dedupe_key == "predicate:64.02/2026:v7"
    assert (email.to, email.cc) == (["brida@kukarkab.example"], [])
    assert email.subject == "Predikat IID 2026 berubah: Kurang Inovatif → Inovatif (IID 40,35)"
    assert "IID saat ini : 40,35 (pada email terakhir 39,80)" in email.text
    assert "- Inovasi baru yang dinilai: 6; revisi yang dinilai: 2" in email.text
    assert "- Inovasi yang memenuhi syarat: 12 menjadi 18" in email.text
    assert "- Nilai SPD: 40,00 menjadi 41,25" in email.text
    assert "- Rata-rata kematangan inovasi yang memenuhi syarat: 58,50 menjadi 61,00" in email.text
    assert "Langkah utama menuju predikat Sangat Inovatif:" in email.text
    first_step = "1. Naikkan indikator SPD 12 (Penghargaan bagi inovator) dari level 2 ke 3 (+0,80 poin IID)"
    assert f"{first_step} (IID menjadi 41,15)" in email.text
    assert "- Puskesmas Samboja (Puskesmas)" in email.text
    assert "perumahan kawasan permukiman" in email.text


def test_once_the_region_verifies_the_office_reads_the_verified_iid_beside_the_claimed_one(renderer: Renderer) -> None:
    """The path plans on the verified figure then: the email says so, and shows that figure and the points at risk."""
    verified = VerifiedIndex(
        spd=41.25,
        n=8,
        average_maturity=39.75,
        count_score=3.0,
        iid=36.7,
        predicate="Kurang Inovatif",
        points_at_risk=16.95,
    )
    event = index_updated(
        iid=53.65,
        predicate="Inovatif",
        next_predicate="Sangat Inovatif",
        path=[path_step("Jadikan inovasi 'Sekolah Lapang SETDA' memenuhi syarat (+2,60 poin IID)", 39.3)],
        verified=verified,
        review=Review(decided=205, total=1039, round=15),
        path_on="verified",
    )
    [email] = index_emails(event, None, NO_MOVES, brida(), [], renderer)
    assert "IID terverifikasi : 36,70 (Kurang Inovatif)" in email.text
    assert "Poin berisiko     : 16,95" in email.text
    assert "Kemajuan verifikasi: 205 dari 1039 indikator diputuskan (19,73%)" in email.text
    assert "Langkah utama menuju predikat Sangat Inovatif (dihitung dari IID terverifikasi):" in email.text
    assert "<strong>36,70</strong> (Kurang Inovatif)" in email.html
    [unverified] = index_emails(index_updated(), None, NO_MOVES, brida(), [], renderer)
    assert "terverifikasi" not in unverified.text


def test_up_or_down_is_against_the_last_email_not_the_events_own_predecessor(renderer: Renderer) -> None:
    """The office read 48,40 last; a later state at 47,24 is down for it, whatever the event's predecessor was."""
    event = index_updated(previous_iid=46.0, iid=47.24, previous_predicate="Inovatif", predicate="Inovatif")
    last = emailed(version=5, iid=48.4, predicate="Inovatif")
    [email] = index_emails(event, last, NO_MOVES, brida(), [], renderer)
    assert email.subject == "IID 64.02 tahun 2026 turun ke 47,24 (Inovatif)"
    assert "(IID) tahun 2026 turun sejak email terakhir kami (1 September 2026)." in email.text
    assert "(pada email terakhir 48,40)" in email.text
    assert "Semua unit telah memenuhi kewajiban inovasi." in email.text


def test_the_first_index_of_the_year_says_where_it_starts(renderer: Renderer) -> None:
    event = index_updated(previous_iid=None, iid=12.5, previous_predicate=None, predicate="Kurang Inovatif")
    [email] = index_emails(event, None, NO_MOVES, brida(), [], renderer)
    assert email.subject == "IID 64.02 tahun 2026: 12,50 (Kurang Inovatif)"
    assert "telah dihitung untuk pertama kalinya" in email.text
    assert "Yang berubah" not in email.text


def test_a_long_list_of_missing_units_is_shortened(renderer: Renderer) -> None:
    units = [puskesmas_samboja(unit_code=f"DESA-{number}", name=f"Desa {number}", kind="desa") for number in range(45)]
    [email] = index_emails(index_updated(), None, NO_MOVES, brida(), units, renderer)
    assert "Unit yang belum memenuhi kewajiban inovasi (45):" in email.text
    assert "- dan 15 unit lainnya" in email.text


def test_an_index_email_with_the_contact_of_another_region_is_a_wiring_error(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match=r"given for 64\.02/2026"):
        index_emails(index_updated(), None, NO_MOVES, brida(region_code="64.03"), [], renderer)


# --- Weekly digest -------------------------------------------------------------------------------------


def digest(**overrides: Any) -> WeeklyDigest:
    fields: dict[str, Any] = {
        "region_code": "64.02",
        "year": 2026,
        "week_of": D(2026, 9, 16),  # a Wednesday of ISO week 38
        "compliance": [KindCompliance("opd", 30, 42), KindCompliance("puskesmas", 12, 32)],
        "new_innovation_titles": ["Posyandu Digital Kukar", "Si Samboja Sehat"],
        "index_trend": [(D(2026, 9, 14), 58.53), (D(2026, 9, 1), 56.1)],
    }
    return WeeklyDigest(**{**fields, **overrides})


def test_the_weekly_digest_goes_to_the_office(renderer: Renderer) -> None:
    [email] = weekly_digest_emails(digest(), brida(), renderer)
    assert email.kind == "weekly_digest"
    assert email.dedupe_key == "digest:64.02/2026-W38"
    assert email.to == ["brida@kukarkab.example"]
    assert email.subject == "Ringkasan mingguan inovasi daerah 64.02, minggu 38 tahun 2026"
    assert "minggu 38 (14 September 2026 s.d. 20 September 2026)" in email.text
    assert "- Perangkat Daerah (OPD): 30 / 42 (71,4%)" in email.text
    assert "- Puskesmas: 12 / 32 (37,5%)" in email.text
    assert "- Seluruh unit: 42 / 74" in email.text
    assert "Inovasi baru minggu ini: 2" in email.text
    assert "- Si Samboja Sehat" in email.text
    assert "- 1 September 2026: 56,10\n- 14 September 2026: 58,53" in email.text
    assert "Perubahan dalam periode ini: +2,43 poin." in email.text


def test_any_day_of_the_week_gives_the_same_digest_key(renderer: Renderer) -> None:
    week = [D(2026, 9, 14) + dt.timedelta(days=offset) for offset in range(7)]
    keys = {weekly_digest_emails(digest(week_of=day), brida(), renderer)[0].dedupe_key for day in week}
    assert keys == {"digest:64.02/2026-W38"}


def test_the_iso_year_names_the_week_at_a_year_boundary(renderer: Renderer) -> None:
    [email] = weekly_digest_emails(digest(week_of=D(2026, 12, 31)), brida(), renderer)
    assert email.dedupe_key == "digest:64.02/2026-W53"
    [email] = weekly_digest_emails(digest(week_of=D(2027, 1, 1), year=2027), brida(2027), renderer)
    assert email.dedupe_key == "digest:64.02/2026-W53"


def test_a_quiet_week_still_reports(renderer: Renderer) -> None:
    [email] = weekly_digest_emails(digest(new_innovation_titles=[], index_trend=[]), brida(), renderer)
    assert "Inovasi baru minggu ini: 0" in email.text
    assert "IID belum dihitung untuk tahun ini." in email.text


def test_compliance_by_kind_counts_active_units_in_the_vocabulary_order() -> None:
    units = [
        puskesmas_samboja(),
        puskesmas_samboja(unit_code="PKM-LOAJANAN", name="Puskesmas Loa Janan"),
        dinkes(),
        dinkes(unit_code="DISHUB", name="Dinas Perhubungan", active=False),
    ]
    assert compliance_by_kind(units, {"PKM-SAMBOJA", "DISHUB"}) == [
        KindCompliance("opd", 0, 1),
        KindCompliance("puskesmas", 1, 2),
    ]


def test_an_email_about_one_unit_names_it_and_one_to_the_office_names_none(renderer: Renderer) -> None:
    """The outcome of an email (`notification.sent`) says which unit it was about: the portal lists it there."""
    unit = dinkes()
    [score] = score_emails(scored(), unit, renderer)
    assert score.about == (unit.region_code, unit.unit_code)
    [office] = index_emails(index_updated(), None, NO_MOVES, brida(), [unit], renderer)
    assert office.about is None
