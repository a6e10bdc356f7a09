"""Every template with realistic Kukar data; nothing from the outside escapes its place in an email."""

import datetime as dt
import re
from pathlib import Path

import pytest
from jinja2 import UndefinedError
from markupsafe import escape

from inovda_notification.domain import (
    Emailed,
    EmailMessage,
    IndexMoves,
    IndexState,
    KindCompliance,
    ReminderSchedule,
    Renderer,
    WeeklyDigest,
    index_emails,
    receipt_emails,
    rejection_emails,
    reminder_emails,
    score_emails,
)
from inovda_notification.domain import weekly_digest_emails as digest_emails
from inovda_notification.domain.rendering import TEMPLATES_DIR
from inovda_shared.contracts.events import Reason
from tests.unit.notification.builders import (
    HEADER_INJECTION_TITLE,
    XSS_TITLE,
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

KINDS = ("receipt", "rejection", "score", "reminder", "predicate_change", "weekly_digest")
SCHEDULE = ReminderSchedule.default(2026)
# What a mail header may carry: printable ASCII, no spaces (the sender puts the key in X-Inovda-Dedupe-Key).
HEADER_SAFE_KEY = re.compile(r"[!-~]+")


def every_email(renderer: Renderer, text: str = "Posyandu Digital Kukar") -> dict[str, EmailMessage]:
    """One email of each kind, with `text` everywhere a title, a name or a description goes."""
    unit = puskesmas_samboja(name=text)
    final = SCHEDULE.stages()[-1]
    event = index_updated(
        iid=61.1,
        previous_iid=60.9,
        previous_predicate="Inovatif",
        predicate="Inovatif",
        next_predicate="Sangat Inovatif",
        path=[path_step(f"Jadikan inovasi '{text}' memenuhi syarat (+0,26 poin IID)", 61.36)],
    )
    last_emailed = Emailed(
        IndexState(version=5, iid=60.2, predicate="Inovatif", n=20, spd=40.0, average_maturity=60.0, count_score=7.6),
        dt.datetime(2026, 9, 1, 2, 0, tzinfo=dt.UTC),
    )
    week = WeeklyDigest(
        region_code="64.02",
        year=2026,
        week_of=dt.date(2026, 9, 16),
        compliance=[KindCompliance("opd", 30, 42), KindCompliance("puskesmas", 12, 32)],
        new_innovation_titles=[text, "Si Samboja Sehat"],
        index_trend=[(dt.date(2026, 9, 1), 56.1), (dt.date(2026, 9, 14), 58.53)],
    )
    reason = Reason(field="title", code="control_character", message=f"title: {text}")
    emails = [
        *receipt_emails(accepted(title=text, unit_code=unit.unit_code), unit, renderer),
        *rejection_emails(rejected(reason, title=text, unit_code=unit.unit_code), unit, renderer),
        *score_emails(
            scored(
                title=text,
                unit_code=unit.unit_code,
                eligible=False,
                ineligible_reasons=[f"Judul '{text}'."],
                top_improvements=[improvement("35", 12, level=0, has_evidence=False, name=text)],
            ),
            unit,
            renderer,
        ),
        *reminder_emails(unit, brida(), SCHEDULE, final, has_complied=False, today=final.on, renderer=renderer),
        *index_emails(event, last_emailed, IndexMoves(3, 1), brida(), [unit], renderer),
        *digest_emails(week, brida(), renderer),
    ]
    return {email.kind: email for email in emails}


def test_there_is_a_text_and_an_html_template_per_kind_and_a_shared_layout() -> None:
    names = {path.name for path in Path(TEMPLATES_DIR).iterdir()}
    assert {f"{kind}.{ext}" for kind in KINDS for ext in ("txt", "html")} | {"base.html"} <= names


def test_every_kind_renders_with_kukar_data(renderer: Renderer) -> None:
    emails = every_email(renderer)
    assert set(emails) == set(KINDS)
    for email in emails.values():
        assert email.text.startswith("Yth. ")
        assert "Email ini dikirim otomatis oleh Inovda" in email.text
        assert email.html.startswith("<!DOCTYPE html>")
        assert '<html lang="id">' in email.html
        assert f"<title>{escape(email.subject)}</title>" in email.html
        assert "Inovda &middot; Indeks Inovasi Daerah" in email.html
        assert "{{" not in email.text + email.html
        assert "{%" not in email.text + email.html


def test_html_escapes_every_value_from_the_outside(renderer: Renderer) -> None:
    for kind, email in every_email(renderer, XSS_TITLE).items():
        assert "<script>" not in email.html, kind
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html, kind


def test_text_is_not_html_escaped(renderer: Renderer) -> None:
    for kind, email in every_email(renderer, XSS_TITLE).items():
        assert XSS_TITLE in email.text, kind
        assert "&lt;" not in email.text, kind


def test_a_line_break_in_a_value_can_neither_reach_a_header_nor_start_a_line(renderer: Renderer) -> None:
    for kind, email in every_email(renderer, HEADER_INJECTION_TITLE).items():
        assert "\r" not in email.subject, kind
        assert "\n" not in email.subject, kind
        assert "\r" not in email.text, kind
        assert not [line for line in email.text.splitlines() if line.startswith("Bcc:")], kind
        assert "Inovasi Bcc: korban@example.com" in email.text, kind


def test_subjects_are_short_whatever_the_title(renderer: Renderer) -> None:
    for kind, email in every_email(renderer, "Inovasi " * 100).items():
        assert len(email.subject) <= 150, kind


def test_dedupe_keys_are_stable_distinct_per_kind_and_header_safe(renderer: Renderer) -> None:
    first = {kind: email.dedupe_key for kind, email in every_email(renderer).items()}
    again = {kind: email.dedupe_key for kind, email in every_email(renderer).items()}
    assert first == again
    assert len(set(first.values())) == len(KINDS)
    assert [key.split(":")[0] for key in first.values()] == [
        "receipt", "rejection", "score", "reminder", "predicate", "digest"
    ]  # fmt: skip
    for key in first.values():
        assert HEADER_SAFE_KEY.fullmatch(key), key


def test_a_dedupe_key_cannot_carry_a_line_break(renderer: Renderer) -> None:
    answer = accepted(key={"external_id": "INV\r\nBcc: korban@example.com"})
    [email] = receipt_emails(answer, dinkes(), renderer)
    assert HEADER_SAFE_KEY.fullmatch(email.dedupe_key)
    assert email.dedupe_key.startswith("receipt:e-inovasi/sha256-")


def test_recipients_are_lower_cased_unique_and_never_copied_twice(renderer: Renderer) -> None:
    unit = dinkes(
        emails=["DINKES@kukarkab.example", "dinkes@kukarkab.example"],
        mentor_emails=["dinkes@kukarkab.example", "mentor.inovasi@kukarkab.example"],
    )
    [email] = score_emails(scored(), unit, renderer)
    assert (email.to, email.cc) == (["dinkes@kukarkab.example"], ["mentor.inovasi@kukarkab.example"])


def test_an_address_that_could_inject_a_header_is_dropped(renderer: Renderer) -> None:
    unit = dinkes(emails=["dinkes@kukarkab.example\r\nBcc: korban@example.com", "sekretariat@kukarkab.example"])
    [email] = receipt_emails(accepted(), unit, renderer)
    assert email.to == ["sekretariat@kukarkab.example"]


def test_nothing_is_sent_without_a_deliverable_address(renderer: Renderer) -> None:
    assert receipt_emails(accepted(), dinkes(emails=["bukan alamat"]), renderer) == []


def test_a_template_that_needs_a_missing_value_fails_loudly(renderer: Renderer) -> None:
    with pytest.raises(UndefinedError):
        renderer.render("receipt", {"unit_name": "Dinas Kesehatan"})
