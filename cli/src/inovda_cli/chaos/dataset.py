"""The messages: what the outside systems send, wave by wave, and what each must cause (the ledger).

Registrations first, then waves of innovation reports and their revisions, malformed messages, exact duplicates,
an older revision re-sent after a newer one, unchanged re-sends, and a profile and innovations for a year without
a rubric (rejected at intake, the innovations' units told by email)."""

import datetime as dt
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from inovda_shared.contracts.vocabulary import BASIC_SERVICE_AFFAIRS, SPD_INDICATOR_IDS

from .. import samples
from .forms import NO_RUBRIC_YEAR, YEAR, Form, regions_of

DOMAIN = "chaos.example"
OTHER_AFFAIRS = ("pertanian", "perhubungan", "pariwisata", "komunikasi_informatika", "kepegawaian")


@dataclass
class Intake:
    message_id: str
    routing_key: str
    body: bytes
    user: str  # the outside system's broker user that publishes it
    expect: str  # "accepted" or "rejected"
    what: str
    external_id: str | None = None
    revision: int | None = None  # the revision its accepted answer must name
    unchanged: bool = False
    emails: tuple[str, ...] = ()  # dedupe keys of the emails its answer must cause
    published: int = 0  # times published, exact duplicates included


@dataclass
class Innovation:
    external_id: str
    region_code: str
    unit_code: str
    year: int
    revisions: list[dict[str, Any]] = field(default_factory=list)  # accepted bodies; revision n at n - 1
    message_ids: list[str] = field(default_factory=list)


class Dataset:
    """Builds the load, wave by wave, and keeps what every message must cause (the ledger)."""

    def __init__(self, form: Form, rng: random.Random, users: dict[str, str]) -> None:
        self.form = form
        self.rng = rng
        self.user_of = users  # source -> broker user
        self.intakes: dict[str, Intake] = {}
        self.innovations: dict[str, Innovation] = {}
        self.profiles: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
        self.regions = regions_of(form)
        self.units = {
            region: [f"R{index}-U{number:02d}" for number in range(1, form.units_per_region + 1)]
            for index, region in enumerate(self.regions)
        }
        self._serial = 0

    def _id(self, what: str) -> str:
        self._serial += 1
        return f"chaos-{self._serial:06d}-{what}"

    def _intake(self, routing_key: str, body: dict[str, Any] | bytes, source: str, expect: str, what: str) -> Intake:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        intake = Intake(
            self._id(what.split(":")[0].replace(" ", "-")), routing_key, raw, self.user_of[source], expect, what
        )
        self.intakes[intake.message_id] = intake
        return intake

    # registrations

    def registrations(self) -> list[Intake]:
        batch = []
        for region in self.regions:
            batch.append(self._profile(region, YEAR))
            for unit in self.units[region]:
                body = samples.unit(
                    unit,
                    region_code=region,
                    name=f"Unit {unit} wilayah {region}",
                    emails=[f"{unit.lower()}@{DOMAIN}"],
                    mentor_emails=[f"pendamping.{unit.lower()}@{DOMAIN}"],
                )
                intake = self._intake("unit.upsert.v1", body, "simpeg", "accepted", "unit")
                intake.revision = 1
                batch.append(intake)
        batch.append(self._no_rubric_profile(self.regions[0]))
        self.rng.shuffle(batch)
        return batch

    def _no_rubric_profile(self, region: str) -> Intake:
        """A profile for a year without a rubric: rejected, and it names no unit to tell."""
        body = samples.profile(NO_RUBRIC_YEAR, region_code=region, admin_emails=[f"inovasi.{region}@{DOMAIN}"])
        return self._intake("region.profile.v1", body, "bappeda", "rejected", "no rubric: profile")

    def _profile(self, region: str, year: int) -> Intake:
        history = self.profiles[(region, year)]
        if history:
            spd = dict(history[-1]["spd"])
            raised = self.rng.choice([key for key, level in spd.items() if level < 3] or list(spd))
            spd[raised] = min(3, spd[raised] + 1)
        else:
            spd = {key: self.rng.randint(1, 3) for key in SPD_INDICATOR_IDS if self.rng.random() < 0.8}
        body = samples.profile(year, region_code=region, admin_emails=[f"inovasi.{region}@{DOMAIN}"], spd=spd)
        history.append(body)
        intake = self._intake("region.profile.v1", body, "bappeda", "accepted", f"profile r{len(history)}")
        intake.revision = len(history)
        return intake

    # innovation reports

    def _report_body(self, innovation: Innovation) -> dict[str, Any]:
        rng = self.rng
        revision = len(innovation.revisions) + 1
        if innovation.revisions:  # a revision: better evidence, another level, a new title
            body: dict[str, Any] = json.loads(json.dumps(innovation.revisions[-1]))
            indicator = rng.choice(sorted(body["indicators"]))
            claim = body["indicators"][indicator]
            claim["level"] = 1 + claim["level"] % 3
            claim["evidence"] = samples.evidence(f"Data dukung {indicator} revisi {revision}")
            body["title"] = f"Inovasi {innovation.external_id} revisi {revision}"
            return body
        indicators: dict[str, dict[str, Any]] = {
            indicator: {"level": rng.randint(1, 3), "evidence": samples.evidence(f"Data dukung {indicator}")}
            for indicator in ("16", "17", "32", "33", "35")
        }
        indicators["33"]["basis"] = rng.choice("abcdef")
        for indicator in rng.sample([str(n) for n in range(18, 32)] + ["34"], k=rng.randint(2, 9)):
            evidence = samples.evidence(f"Data dukung {indicator}") if rng.random() < 0.85 else []
            indicators[indicator] = {"level": rng.randint(1, 3), "evidence": evidence}
        if rng.random() < 0.08:
            indicators["35"]["evidence"] = []  # a mandatory indicator without evidence: scored, not eligible
        overrides: dict[str, Any] = {
            "region_code": innovation.region_code,
            "year": innovation.year,
            "title": f"Inovasi {innovation.external_id}",
            "urusan": rng.sample(BASIC_SERVICE_AFFAIRS + OTHER_AFFAIRS, k=rng.randint(1, 2)),
            "applied_on": (dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(730))).isoformat(),
            "indicators": indicators,
        }
        if rng.random() < 0.1:
            overrides["applied_on"] = "2022-06-01"  # outside the window
        if rng.random() < 0.08:
            overrides["stage"] = "uji_coba"
        if rng.random() < 0.08:
            overrides["design"] = "Rancang bangun yang masih terlalu singkat."
        return samples.innovation(innovation.external_id, innovation.unit_code, **overrides)

    def new_innovations(self, count: int, year: int = YEAR) -> list[Intake]:
        batch = []
        for _ in range(count):
            region = self.rng.choice(self.regions)
            innovation = Innovation(
                f"CH-{len(self.innovations) + 1:05d}", region, self.rng.choice(self.units[region]), year
            )
            self.innovations[innovation.external_id] = innovation
            batch.append(self.revise(innovation))
        return batch

    def revise(self, innovation: Innovation) -> Intake:
        body = self._report_body(innovation)
        innovation.revisions.append(body)
        revision = len(innovation.revisions)
        intake = self._intake("innovation.report.v1", body, "e-inovasi", "accepted", f"report r{revision}")
        intake.external_id, intake.revision = innovation.external_id, revision
        intake.emails = (f"receipt:e-inovasi/{innovation.external_id}:r{revision}",)
        innovation.message_ids.append(intake.message_id)
        return intake

    def without_rubric(self, count: int) -> list[Intake]:
        """Reports for a year without a rubric: rejected at intake (`no_rubric_for_year`), the unit told by email."""
        batch = []
        for _ in range(count):
            region = self.rng.choice(self.regions)
            external_id = f"CH-NR-{self._serial + 1:05d}"
            body = samples.innovation(
                external_id, self.rng.choice(self.units[region]), region_code=region, year=NO_RUBRIC_YEAR
            )
            intake = self._intake("innovation.report.v1", body, "e-inovasi", "rejected", "no rubric: report")
            intake.emails = (f"rejection:e-inovasi/{intake.message_id}",)
            batch.append(intake)
        return batch

    def unchanged(self, innovation: Innovation) -> Intake:
        """The latest revision again under a new message id: accepted, `unchanged`, no new revision or email."""
        body = innovation.revisions[-1]
        intake = self._intake("innovation.report.v1", body, "e-inovasi", "accepted", "unchanged re-send")
        intake.external_id, intake.revision, intake.unchanged = innovation.external_id, len(innovation.revisions), True
        return intake

    def malformed(self, count: int) -> list[Intake]:
        """Sender bugs, each answered with a rejection; an email to the unit where the message names a known one."""
        batch = []
        for number in range(count):
            region = self.rng.choice(self.regions)
            unit = self.rng.choice(self.units[region])
            valid = samples.innovation(f"BAD-{self._serial}", unit, region_code=region, year=YEAR)
            # (No unknown routing key: the broker refuses it from an outside system's user, so nothing would answer;
            # tests/integration/test_access.py checks that.)
            kind = ("invalid_json", "not_object", "stage", "level", "unknown_unit", "source", "title")[number % 7]
            if kind == "invalid_json":
                intake = self._intake(
                    "innovation.report.v1",
                    b'{"source": "e-inovasi", "title": ',
                    "e-inovasi",
                    "rejected",
                    "malformed: invalid JSON",
                )
            elif kind == "not_object":
                intake = self._intake(
                    "innovation.report.v1", b"[1, 2, 3]", "e-inovasi", "rejected", "malformed: not an object"
                )
            elif kind == "stage":
                intake = self._intake(
                    "innovation.report.v1",
                    {**valid, "stage": "selesai"},
                    "e-inovasi",
                    "rejected",
                    "malformed: unknown stage",
                )
            elif kind == "level":
                valid["indicators"]["16"]["level"] = 4
                intake = self._intake(
                    "innovation.report.v1", valid, "e-inovasi", "rejected", "malformed: level out of range"
                )
            elif kind == "unknown_unit":
                body = {**valid, "unit_code": f"NOPE-{number}"}
                intake = self._intake("innovation.report.v1", body, "e-inovasi", "rejected", "malformed: unknown unit")
            elif kind == "source":  # another system's source: the answer goes to the sender's own source
                intake = self._intake(
                    "innovation.report.v1", valid, "e-inovasi", "rejected", "malformed: source of another system"
                )
                intake.user = self.user_of["simpeg"]
            else:
                intake = self._intake(
                    "innovation.report.v1", {**valid, "title": " "}, "e-inovasi", "rejected", "malformed: empty title"
                )
            # A message from a sender that may not send it (another system's source) is refused: nobody is
            # emailed, whatever unit it names.
            if kind in ("stage", "level", "title"):
                intake.emails = (f"rejection:e-inovasi/{intake.message_id}",)
            batch.append(intake)
        return batch

    def naming_unknown_units(self, count: int) -> list[Intake]:
        """Rejected for another reason than their unit, which nobody registered: no email can go anywhere."""
        batch = []
        for number in range(count):
            region = self.rng.choice(self.regions)
            unit = f"NEW-{self._serial}"
            if number % 2:
                body = samples.innovation(f"NEW-{self._serial}", unit, region_code=region, year=YEAR, stage="selesai")
                intake = self._intake("innovation.report.v1", body, "e-inovasi", "rejected", "malformed: new unit")
            else:
                body = samples.unit(unit, region_code=region, kind="planet")
                intake = self._intake("unit.upsert.v1", body, "simpeg", "rejected", "malformed: new unit's kind")
            batch.append(intake)
        return batch

    def immutable(self, innovation: Innovation) -> Intake:
        """A revision that moves the innovation to another year: rejected, with an email to its unit."""
        body = {**innovation.revisions[-1], "year": innovation.year - 1}
        intake = self._intake(
            "innovation.report.v1", body, "e-inovasi", "rejected", "malformed: revision moves the year"
        )
        intake.emails = (f"rejection:e-inovasi/{intake.message_id}",)
        return intake

    def bad_unit_update(self) -> Intake:
        """A registered unit's update with an address that is not one: rejected, the unit told by email."""
        region = self.rng.choice(self.regions)
        unit = self.rng.choice(self.units[region])
        body = samples.unit(unit, region_code=region, name=f"Unit {unit}", emails=["bukan alamat email"])
        intake = self._intake("unit.upsert.v1", body, "simpeg", "rejected", "malformed: unit email")
        intake.emails = (f"rejection:simpeg/{intake.message_id}",)
        return intake

    def duplicates(self, of: list[Intake], share: float) -> list[Intake]:
        """Exact copies (same message id and body) of some messages already sent: no new answer, no effect."""
        return [intake for intake in of if self.rng.random() < share]

    # waves: a revision is published only after the previous revision of its innovation was answered

    def wave1(self) -> list[Intake]:
        count = self.form.innovations_per_region * self.form.regions
        batch = self.new_innovations(count) + self.without_rubric(self.form.no_rubric_innovations)
        batch += self.malformed(max(7, count // 12)) + self.naming_unknown_units(4)
        self.rng.shuffle(batch)
        return batch

    def later_wave(self, previous: list[Intake], answered: set[str], revise_share: float, number: int) -> list[Intake]:
        """Revisions of innovations whose latest revision was answered (a burst's may still be in flight)."""
        candidates = [i for i in self.innovations.values() if i.message_ids and i.message_ids[-1] in answered]
        revised = [innovation for innovation in candidates if self.rng.random() < revise_share]
        others = [innovation for innovation in candidates if innovation not in revised]
        batch = [self.revise(innovation) for innovation in revised]
        resent = self.rng.sample(others, k=min(len(others), max(2, len(others) // 25)))
        batch += [self.unchanged(innovation) for innovation in resent]
        batch += [self.immutable(innovation) for innovation in self.rng.sample(others, k=min(len(others), 2))]
        batch += [self.bad_unit_update() for _ in range(2)]
        batch += self.duplicates(previous, 0.06)
        if number == 2:
            batch += [self._profile(region, YEAR) for region in self.regions]
        else:  # an older revision re-sent after a newer one was stored: its own message id again
            older = [self.intakes[i.message_ids[-2]] for i in others if len(i.message_ids) >= 2]
            batch += self.rng.sample(older, k=min(len(older), max(2, len(older) // 10)))
        self.rng.shuffle(batch)
        return batch

    def expected_emails(self) -> Counter[str]:
        return Counter(key for intake in self.intakes.values() for key in intake.emails)
