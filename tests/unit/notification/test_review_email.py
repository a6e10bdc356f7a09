"""The review email: one per review round of an innovation, to the unit and its mentors, naming what the
verifier did not accept, why, and how to fix it before the region's deadline."""

import datetime as dt
from typing import Any

from inovda_notification.domain import Renderer, review_emails, score_emails
from inovda_shared.contracts.events import IndicatorScore, Review, VerifiedDecision
from tests.unit.notification.builders import SID_NAMES, XSS_TITLE, dinkes, scored

DEADLINE = dt.date(2026, 10, 31)


def decided(indicator_id: str, kind: str, round_number: int = 2, **extra: Any) -> VerifiedDecision:
    return VerifiedDecision(
        decision=kind,
        judged_level=3,
        judged_fingerprint="f" * 16,
        revision=2,
        round=round_number,
        verifier="verifikator",
        **extra,
    )


def reviewed(**overrides: Any) -> Any:
    named = {
        key: IndicatorScore(level=3, score=6, has_evidence=True, name=SID_NAMES[key]) for key in ("16", "17", "35")
    }
    fields: dict[str, Any] = {
        "indicators": named,
        "reviewed_round": 2,
        "verified_maturity": 40,
        "verified_eligible": False,
        "verified_ineligible_reasons": ["Indikator wajib 35 (Video inovasi) tidak diterima pemverifikasi."],
        "review": Review(decided=3, total=5, round=2),
        "points_lost": 21,
        "decisions": {
            "16": decided("16", "accepted", round_number=1),
            "17": decided("17", "accepted_lower", level=1),
            "35": decided("35", "not_accepted", reason="evidence_unreadable", note="Tautan video rusak"),
        },
    }
    return scored(**{**fields, **overrides})


def test_one_email_per_round_names_each_refusal_its_reason_and_its_fix(renderer: Renderer) -> None:
    [email] = review_emails(reviewed(), dinkes(), DEADLINE, renderer)
    assert (email.kind, email.dedupe_key) == ("review", "review:e-inovasi/INV-001:v2")
    assert (email.to, email.cc) == (["dinkes@kukarkab.example"], ["mentor.inovasi@kukarkab.example"])
    assert email.subject == 'Hasil verifikasi inovasi "Posyandu Digital Kukar": 2 indikator perlu diperbaiki'
    text = email.text
    assert "1. Indikator 17 (Ketersediaan SDM): diterima pada level 1 (diklaim level 3)." in text
    assert "2. Indikator 35 (Video inovasi): tidak diterima, karena data dukung tidak dapat dibuka atau dibaca." in text
    assert "Catatan pemverifikasi: Tautan video rusak" in text
    assert "pastikan tautan data dukung dapat dibuka tanpa masuk akun" in text
    assert "Indikator 16" not in text, "accepted in an earlier round: not this round's news"
    assert "Kematangan setelah verifikasi: 40 poin (21 poin hilang" in text
    assert "2 indikator lain belum diperiksa" in text
    assert "paling lambat 31 Oktober 2026" in text
    assert "- Indikator wajib 35 (Video inovasi) tidak diterima pemverifikasi." in text
    assert "<em>Tautan video rusak</em>" in email.html


def test_a_round_that_accepts_everything_says_so(renderer: Renderer) -> None:
    everything = {key: decided(key, "accepted") for key in ("16", "17", "35")}
    event = reviewed(decisions=everything, points_lost=0, verified_eligible=True, review=Review(decided=5, total=5))
    [email] = review_emails(event, dinkes(), DEADLINE, renderer)
    assert email.subject.endswith(": data dukung diterima")
    assert "Semua indikator yang diperiksa pada putaran ini diterima." in email.text
    assert "belum diperiksa" not in email.text


def test_a_plain_score_gives_no_review_email_and_a_review_no_score_email_text(renderer: Renderer) -> None:
    assert review_emails(scored(), dinkes(), DEADLINE, renderer) == []
    assert score_emails(reviewed(), dinkes(), renderer)[0].dedupe_key == "score:e-inovasi/INV-001:r2"


def test_a_verifiers_note_is_escaped_in_html(renderer: Renderer) -> None:
    note = decided("35", "not_accepted", reason="other", note=XSS_TITLE)
    [email] = review_emails(reviewed(decisions={"35": note}), dinkes(), DEADLINE, renderer)
    assert XSS_TITLE not in email.html
    assert "&lt;script&gt;" in email.html
