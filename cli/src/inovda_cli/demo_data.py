"""A realistic data set for Kabupaten Kutai Kartanegara (64.02), as its regional systems would publish it.

Units are Kukar's own (OPD, the 20 kecamatan, the three RSUD, some puskesmas, a BUMD); addresses are made
up under `.example`. Innovations for 2026 are spread over the units: most count, some do not (still in
trial, applied too early, a design too short, a mandatory indicator without evidence), some units report
none, and a few messages are malformed. The same seed gives the same data.
"""

import datetime as dt
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, SPD_INDICATOR_IDS

from .publish import IntakeMessage

KUKAR = "64.02"
YEAR = 2026
DOMAIN = "kukarkab.example"

OPD = [
    ("SETDA", "Sekretariat Daerah", ["sekretariat"]),
    ("BAPPEDA", "Badan Perencanaan Pembangunan Daerah", ["perencanaan"]),
    ("BRIDA", "Badan Riset dan Inovasi Daerah", ["penelitian_pengembangan"]),
    ("DPMD", "Dinas Pemberdayaan Masyarakat dan Desa", ["pemberdayaan_masyarakat_desa"]),
    ("DISTANAK", "Dinas Pertanian dan Peternakan", ["pertanian"]),
    ("DISPERKIM", "Dinas Perumahan dan Kawasan Permukiman", ["perumahan_kawasan_permukiman"]),
    ("DKP", "Dinas Ketahanan Pangan", ["pangan"]),
    ("DISKOMINFO", "Dinas Komunikasi dan Informatika", ["komunikasi_informatika", "statistik"]),
    ("DISPAR", "Dinas Pariwisata", ["pariwisata"]),
    ("DISDIKBUD", "Dinas Pendidikan dan Kebudayaan", ["pendidikan", "kebudayaan"]),
    ("DINKES", "Dinas Kesehatan", ["kesehatan"]),
    ("DPU", "Dinas Pekerjaan Umum dan Penataan Ruang", ["pekerjaan_umum_penataan_ruang"]),
    ("DINSOS", "Dinas Sosial", ["sosial"]),
    ("SATPOLPP", "Satuan Polisi Pamong Praja", ["ketenteraman_ketertiban_umum_pelindungan_masyarakat"]),
    ("BPBD", "Badan Penanggulangan Bencana Daerah", ["ketenteraman_ketertiban_umum_pelindungan_masyarakat"]),
    ("DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil", ["administrasi_kependudukan_pencatatan_sipil"]),
    ("DISHUB", "Dinas Perhubungan", ["perhubungan"]),
    ("DLHK", "Dinas Lingkungan Hidup dan Kehutanan", ["lingkungan_hidup"]),
    ("DPMPTSP", "Dinas Penanaman Modal dan PTSP", ["penanaman_modal"]),
    ("BAPENDA", "Badan Pendapatan Daerah", ["keuangan"]),
    ("BKPSDM", "Badan Kepegawaian dan Pengembangan SDM", ["kepegawaian"]),
    ("INSPEKTORAT", "Inspektorat", ["pengawasan"]),
    ("DP3A", "Dinas Pemberdayaan Perempuan dan Perlindungan Anak", ["pemberdayaan_perempuan_pelindungan_anak"]),
    ("DISPORA", "Dinas Pemuda dan Olahraga", ["kepemudaan_olahraga"]),
]
KECAMATAN = [
    "Muara Muntai", "Loa Kulu", "Loa Janan", "Anggana", "Muara Badak", "Tenggarong", "Sebulu", "Kota Bangun",
    "Kenohan", "Kembang Janggut", "Muara Kaman", "Tabang", "Samboja", "Muara Jawa", "Sanga-Sanga",
    "Tenggarong Seberang", "Marang Kayu", "Muara Wis", "Samboja Barat", "Kota Bangun Darat",
]  # fmt: skip
RSUD = ["Aji Muhammad Parikesit", "Aji Batara Agung Dewa Sakti", "Dayaku Raja"]
PUSKESMAS = ["Samboja", "Loa Janan", "Loa Kulu", "Muara Badak", "Tabang", "Tenggarong", "Sebulu", "Anggana"]

IDEAS = [
    ("Sistem Informasi {place} Terpadu", "digital", "tata_kelola"),
    ("Layanan Jemput Bola {place}", "non_digital", "pelayanan_publik"),
    ("Aplikasi Pengaduan Warga {place}", "digital", "pelayanan_publik"),
    ("Gerakan Desa Sehat {place}", "non_digital", "pelayanan_publik"),
    ("Dashboard Data {place}", "digital", "tata_kelola"),
    ("Kelas Inspirasi {place}", "non_digital", "lainnya"),
    ("Antrian Daring {place}", "digital", "pelayanan_publik"),
    ("Sekolah Lapang {place}", "non_digital", "lainnya"),
]
DESIGN_SENTENCE = (
    "Inovasi ini lahir dari masalah nyata di lapangan, yaitu pelayanan yang lambat dan data yang tersebar, "
    "sehingga tim merancang alur kerja baru yang melibatkan perangkat daerah, kecamatan, desa dan masyarakat."
)


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    kind: str
    affairs: list[str]

    def message(self) -> IntakeMessage:
        slug = re.sub(r"[^a-z0-9]+", ".", self.code.lower()).strip(".")
        body = {
            "source": "simpeg",
            "region_code": KUKAR,
            "unit_code": self.code,
            "name": self.name,
            "kind": self.kind,
            "emails": [f"{slug}@{DOMAIN}"],
            "mentor_emails": [f"pendamping.{slug}@{DOMAIN}"],
        }
        return IntakeMessage.of("unit.upsert.v1", body, f"unit-{self.code}")


def units() -> list[Unit]:
    found = [Unit(code, name, "opd", affairs) for code, name, affairs in OPD]
    found += [
        Unit(f"KEC-{number:02d}", f"Kecamatan {name}", "kecamatan", ["pemberdayaan_masyarakat_desa"])
        for number, name in enumerate(KECAMATAN, start=1)
    ]
    found += [Unit(f"RSUD-{n}", f"RSUD {name}", "rsud", ["kesehatan"]) for n, name in enumerate(RSUD, start=1)]
    found += [
        Unit(f"PKM-{n:02d}", f"Puskesmas {name}", "puskesmas", ["kesehatan"]) for n, name in enumerate(PUSKESMAS, 1)
    ]
    found.append(Unit("BUMD-TUNGGANG", "Perumda Tirta Mahakam", "bumd", ["pekerjaan_umum_penataan_ruang"]))
    return found


def profile_message() -> IntakeMessage:
    # Kukar's region-level facts: strong on most SPD indicators, weaker on innovation support.
    levels = dict.fromkeys(SPD_INDICATOR_IDS, 3) | {"5b": 2, "10b": 2, "11b": 1, "12": 2, "13a": 1, "14": 1, "15": 1}
    body = {
        "source": "bappeda",
        "region_code": KUKAR,
        "year": YEAR,
        "admin_emails": [f"brida@{DOMAIN}", f"tim.pendampingan@{DOMAIN}"],
        "spd": levels,
    }
    return IntakeMessage.of("region.profile.v1", body, f"profile-{YEAR}")


def _evidence(rng: random.Random, indicator: str) -> list[dict[str, str]]:
    return [
        {
            "title": f"Data dukung indikator {indicator}",
            "uri": f"https://inovasi.{DOMAIN}/bukti/{rng.randrange(10**6)}.pdf",
        }
    ]


def _innovation(rng: random.Random, unit: Unit, number: int, flaw: str | None) -> dict[str, Any]:
    title_pattern, kind, form = rng.choice(IDEAS)
    place = unit.name.split(" ", 1)[-1] if unit.kind != "opd" else unit.code
    indicators: dict[str, dict[str, Any]] = {}
    for indicator in ("16", "17", "32", "33", "35"):
        indicators[indicator] = {
            "level": rng.choices([1, 2, 3], weights=[1, 3, 3])[0],
            "evidence": _evidence(rng, indicator),
        }
    indicators["33"]["basis"] = "a"
    for indicator in rng.sample([str(n) for n in range(18, 32)] + ["34"], k=rng.randint(6, 13)):
        indicators[indicator] = {
            "level": rng.choices([1, 2, 3], weights=[2, 3, 2])[0],
            "evidence": _evidence(rng, indicator),
        }
    affairs = list(unit.affairs)
    if rng.random() < 0.15:
        affairs.append(rng.choice(BASIC_SERVICE_AFFAIRS[:3]))
    body: dict[str, Any] = {
        "source": "e-inovasi",
        "external_id": f"KUKAR-{YEAR}-{number:03d}",
        "region_code": KUKAR,
        "unit_code": unit.code,
        "year": YEAR,
        "title": title_pattern.format(place=place),
        "form": form,
        "type": kind,
        "initiator": rng.choice(["kepala_daerah", "asn", "perangkat_daerah", "masyarakat"]),
        "stage": "penerapan",
        "urusan": affairs,
        "applied_on": (dt.date(2024, 1, 15) + dt.timedelta(days=rng.randrange(650))).isoformat(),
        "design": " ".join([DESIGN_SENTENCE] * 12),
        "goals": "Mempercepat pelayanan dan meningkatkan kepuasan masyarakat.",
        "benefits": "Waktu layanan turun dan data dapat dipantau pimpinan setiap hari.",
        "indicators": indicators,
    }
    if flaw == "trial":
        body["stage"] = "uji_coba"
    elif flaw == "too_early":
        body["applied_on"] = "2023-06-01"
    elif flaw == "short_design":
        body["design"] = DESIGN_SENTENCE
    elif flaw == "no_video_evidence":
        indicators["35"]["evidence"] = []
    return body


def innovation_messages(unit_list: list[Unit], rng: random.Random) -> list[IntakeMessage]:
    # About one unit in six reports nothing: the ones the reminders are for.
    silent = set(rng.sample([unit.code for unit in unit_list], k=len(unit_list) // 6))
    reporting = [unit for unit in unit_list if unit.code not in silent]
    flaws = ["trial", "too_early", "short_design", "no_video_evidence"]
    messages = []
    number = 0
    for unit in reporting:
        for _ in range(rng.choices([1, 2, 3], weights=[5, 3, 1])[0]):
            number += 1
            flaw = rng.choice(flaws) if rng.random() < 0.12 else None
            body = _innovation(rng, unit, number, flaw)
            messages.append(IntakeMessage.of("innovation.report.v1", body, f"report-{number:03d}"))
    return messages


def malformed_messages() -> list[IntakeMessage]:
    """What a sender's bugs produce: each is answered with its reasons and stores nothing."""
    base = _innovation(random.Random(0), units()[10], 900, None)
    wrong_level = json.loads(json.dumps(base)) | {"external_id": "KUKAR-2026-901"}
    wrong_level["indicators"]["16"]["level"] = 4
    return [
        IntakeMessage("innovation.report.v1", b'{"source": "e-inovasi", "title": ', "malformed-1"),
        IntakeMessage.of("innovation.report.v1", wrong_level, "malformed-2"),
        IntakeMessage.of(
            "innovation.report.v1", base | {"external_id": "KUKAR-2026-902", "unit_code": "DINAS-X"}, "malformed-3"
        ),
        IntakeMessage.of(
            "innovation.report.v1", base | {"external_id": "KUKAR-2026-903", "stage": "selesai"}, "malformed-4"
        ),
    ]


REVIEWED = 15  # innovations the demo's verifier reviews in one round each


def review_rounds(reports: list[IntakeMessage], accepted: set[str]) -> list[IntakeMessage]:
    """The verifier's first round on some accepted reports (their revision 1), as the portal sends it: every
    claimed indicator decided; in every third the video's evidence does not open (a mandatory indicator: the
    innovation stops counting, verified), in every fourth one indicator is accepted a level lower."""
    rounds = []
    chosen = [json.loads(message.body) for message in reports if message.message_id in accepted][:REVIEWED]
    for number, body in enumerate(chosen):
        decisions: dict[str, dict[str, Any]] = {key: {"decision": "accepted"} for key in body["indicators"]}
        if number % 3 == 0 and "35" in decisions:
            decisions["35"] = {
                "decision": "not_accepted",
                "reason": "evidence_unreadable",
                "note": "Tautan video tidak dapat dibuka tanpa izin akses.",
            }
        lowered = [key for key, claim in body["indicators"].items() if key != "35" and claim["level"] >= 2]
        if number % 4 == 1 and lowered:
            level = body["indicators"][lowered[0]]["level"] - 1
            decisions[lowered[0]] = {"decision": "accepted_lower", "level": level}
        round_body = {
            "source": "portal",
            "region_code": body["region_code"],
            "innovation_source": body["source"],
            "external_id": body["external_id"],
            "revision": 1,
            "year": body["year"],
            "verifier": "verifikator",
            "indicators": decisions,
        }
        rounds.append(IntakeMessage.of("innovation.verification.v1", round_body, f"review-{body['external_id']}"))
    return rounds


@dataclass(frozen=True)
class DemoData:
    registrations: list[IntakeMessage]
    reports: list[IntakeMessage]


def demo_data(seed: int = 2026) -> DemoData:
    rng = random.Random(seed)
    unit_list = units()
    return DemoData(
        registrations=[profile_message(), *(unit.message() for unit in unit_list)],
        reports=innovation_messages(unit_list, rng) + malformed_messages(),
    )


def write_jsonl(messages: list[IntakeMessage], path: Path) -> None:
    with path.open("w", encoding="utf-8") as out:
        for message in messages:
            entry = {"routing_key": message.routing_key, "message_id": message.message_id}
            try:
                entry["body"] = json.loads(message.body)
            except ValueError:
                entry["body"] = message.body.decode()
            out.write(json.dumps(entry, ensure_ascii=False) + "\n")
