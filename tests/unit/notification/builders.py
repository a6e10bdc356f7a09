"""Kukar (64.02) contacts and events for the notification tests, overridable field by field."""

import datetime as dt
from typing import Any

from inovda_notification.domain import RegionContact, UnitContact
from inovda_shared.contracts.events import (
    IndicatorImprovement,
    IndicatorScore,
    InnovationScored,
    IntakeAnswer,
    PathStep,
    Reason,
    RegionIndexUpdated,
)

KUKAR = "64.02"
RECEIVED_AT = dt.datetime(2026, 7, 14, 9, 30, tzinfo=dt.UTC)
XSS_TITLE = "<script>alert(1)</script>"
HEADER_INJECTION_TITLE = "Inovasi\r\nBcc: korban@example.com"

# The 2026 SID indicator names (the scoring service sends them in `top_improvements`).
SID_NAMES: dict[str, str] = {
    "16": "Regulasi inovasi daerah",
    "17": "Ketersediaan SDM",
    "18": "Dukungan anggaran",
    "19": "Alat kerja",
    "20": "Bimtek inovasi",
    "21": "Program inovasi dalam RKPD",
    "22": "Keterlibatan aktor inovasi",
    "23": "Pelaksana inovasi",
    "24": "Jejaring inovasi",
    "25": "Sosialisasi inovasi",
    "26": "Pedoman teknis",
    "27": "Kemudahan informasi layanan",
    "28": "Kemudahan proses",
    "29": "Penyelesaian layanan pengaduan",
    "30": "Layanan terintegrasi",
    "31": "Replikasi",
    "32": "Kecepatan penciptaan inovasi",
    "33": "Kemanfaatan inovasi",
    "34": "Monitoring dan evaluasi",
    "35": "Video inovasi",
}


def dinkes(**overrides: Any) -> UnitContact:
    fields: dict[str, Any] = {
        "region_code": KUKAR,
        "unit_code": "DINKES",
        "name": "Dinas Kesehatan",
        "kind": "opd",
        "emails": ["dinkes@kukarkab.example"],
        "mentor_emails": ["mentor.inovasi@kukarkab.example"],
    }
    return UnitContact(**{**fields, **overrides})


def puskesmas_samboja(**overrides: Any) -> UnitContact:
    fields: dict[str, Any] = {
        "region_code": KUKAR,
        "unit_code": "PKM-SAMBOJA",
        "name": "Puskesmas Samboja",
        "kind": "puskesmas",
        "emails": ["pkm.samboja@kukarkab.example", "kapus.samboja@kukarkab.example"],
        "mentor_emails": ["mentor.dinkes@kukarkab.example"],
    }
    return UnitContact(**{**fields, **overrides})


def brida(year: int = 2026, **overrides: Any) -> RegionContact:
    fields: dict[str, Any] = {"region_code": KUKAR, "year": year, "admin_emails": ["brida@kukarkab.example"]}
    return RegionContact(**{**fields, **overrides})


def accepted(**overrides: Any) -> IntakeAnswer:
    fields: dict[str, Any] = {
        "status": "accepted",
        "message_id": "msg-0001",
        "intake_routing_key": "innovation.report.v1",
        "source": "e-inovasi",
        "key": {"external_id": "INV-001"},
        "revision": 1,
        "region_code": KUKAR,
        "unit_code": "DINKES",
        "title": "Posyandu Digital Kukar",
        "received_at": RECEIVED_AT,
    }
    return IntakeAnswer(**{**fields, **overrides})


def rejected(*reasons: Reason, **overrides: Any) -> IntakeAnswer:
    fields: dict[str, Any] = {
        "status": "rejected",
        "message_id": "msg-0002",
        "intake_routing_key": "innovation.report.v1",
        "source": "e-inovasi",
        "key": {"external_id": "INV-002", "unit_code": "DINKES", "region_code": KUKAR, "year": 2026},
        "reasons": list(reasons)
        or [Reason(field="applied_on", code="missing", message="applied_on is required when stage is penerapan")],
        "region_code": KUKAR,
        "unit_code": "DINKES",
        "title": "Posyandu Digital Kukar",
        "received_at": RECEIVED_AT,
    }
    return IntakeAnswer(**{**fields, **overrides})


def scored(**overrides: Any) -> InnovationScored:
    fields: dict[str, Any] = {
        "source": "e-inovasi",
        "external_id": "INV-001",
        "unit_code": "DINKES",
        "region_code": KUKAR,
        "year": 2026,
        "revision": 2,
        "title": "Posyandu Digital Kukar",
        "maturity": 61,
        "indicators": {
            "16": IndicatorScore(level=2, score=6, has_evidence=True),
            "17": IndicatorScore(level=3, score=6, has_evidence=True),
            "32": IndicatorScore(level=2, score=4, has_evidence=True),
            "33": IndicatorScore(level=3, score=9, has_evidence=True),
            "35": IndicatorScore(level=2, score=0, has_evidence=False),
        },
        "eligible": True,
        "ineligible_reasons": [],
        # As the scoring service ranks them: weight x 3 minus the current score, ties by indicator id.
        "top_improvements": [
            improvement("35", 12, level=2, has_evidence=False),  # 4 x 3 - 0
            improvement("31", 9, level=0, has_evidence=False),  # 3 x 3 - 0, not filled
            improvement("18", 6, level=0, has_evidence=False),  # 2 x 3 - 0, not filled
        ],
    }
    return InnovationScored(**{**fields, **overrides})


def improvement(
    indicator_id: str, points: int, level: int = 1, has_evidence: bool = True, name: str | None = None
) -> IndicatorImprovement:
    return IndicatorImprovement(
        indicator_id=indicator_id,
        name=SID_NAMES[indicator_id] if name is None else name,
        level=level,
        has_evidence=has_evidence,
        points=points,
    )


def index_updated(**overrides: Any) -> RegionIndexUpdated:
    fields: dict[str, Any] = {
        "region_code": KUKAR,
        "year": 2026,
        "version": 7,
        "spd": 41.25,
        "n": 18,
        "divisor": 18,
        "average_maturity": 61.0,
        "count_score": 6.84,
        "yandas_covered": ["pendidikan", "kesehatan", "sosial", "pekerjaan_umum_penataan_ruang"],
        "yandas_missing": ["perumahan_kawasan_permukiman", "ketenteraman_ketertiban_umum_pelindungan_masyarakat"],
        "iid": 65.12,
        "predicate": "Sangat Inovatif",
        "previous_iid": 64.87,
        "previous_predicate": "Inovatif",
        "assumed": [],
        "next_predicate": None,
        "path": [],
    }
    return RegionIndexUpdated(**{**fields, **overrides})


def path_step(description: str, iid_after: float) -> PathStep:
    return PathStep(action="raise_spd_level", target="12", description=description, gain=0.8, iid_after=iid_after)
