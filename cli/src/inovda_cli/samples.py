"""Realistic intake bodies for Kukar (region 64.02), overridable field by field: the tests' messages, and the
chaos suite's."""

from typing import Any

KUKAR = "64.02"
DESIGN_WORDS = 320


def evidence(title: str = "SK Bupati tentang inovasi") -> list[dict[str, str]]:
    return [{"title": title, "uri": "https://inovasi.kukarkab.example/dokumen/sk.pdf"}]


def unit(unit_code: str = "DINKES", **overrides: Any) -> dict[str, Any]:
    body = {
        "source": "simpeg",
        "region_code": KUKAR,
        "unit_code": unit_code,
        "name": "Dinas Kesehatan",
        "kind": "opd",
        "emails": [f"{unit_code.lower()}@kukarkab.example"],
        "mentor_emails": ["mentor.inovasi@kukarkab.example"],
    }
    body.update(overrides)
    return body


def profile(year: int = 2026, **overrides: Any) -> dict[str, Any]:
    body = {
        "source": "bappeda",
        "region_code": KUKAR,
        "year": year,
        "admin_emails": ["brida@kukarkab.example"],
        "spd": {"1": 3, "2a": 3, "2b": 2, "3": 2, "8": 3, "9": 2, "12": 2, "14": 1},
    }
    body.update(overrides)
    return body


def innovation(external_id: str = "INV-001", unit_code: str = "DINKES", **overrides: Any) -> dict[str, Any]:
    body = {
        "source": "e-inovasi",
        "external_id": external_id,
        "region_code": KUKAR,
        "unit_code": unit_code,
        "year": 2026,
        "title": "Posyandu Digital Kukar",
        "form": "pelayanan_publik",
        "type": "digital",
        "initiator": "perangkat_daerah",
        "stage": "penerapan",
        "urusan": ["kesehatan"],
        "applied_on": "2024-03-01",
        "design": " ".join(["rancang"] * DESIGN_WORDS),
        "goals": "Menurunkan angka stunting melalui pencatatan posyandu yang cepat.",
        "benefits": "Data balita tersedia seketika bagi puskesmas dan desa.",
        "indicators": {
            "16": {"level": 2, "evidence": evidence()},
            "17": {"level": 2, "evidence": evidence("SK tim")},
            "32": {"level": 3, "evidence": evidence("Linimasa")},
            "33": {"level": 2, "basis": "a", "evidence": evidence("Daftar penerima manfaat")},
            "35": {"level": 1, "evidence": evidence("Video")},
        },
    }
    body.update(overrides)
    return body


def with_fields(body: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A body with fields a keyword argument cannot name (`$set`, `a.b`)."""
    return {**body, **extra}
