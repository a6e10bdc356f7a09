"""The scoring service's storage: its domain records as MongoDB documents.

- `innovations`: the latest scored revision of each innovation (`ScoredRevision`).
- `regions`: one `Region` per region and year, with its units' counts (`UnitCounts`) and the journal of its
  last change (`inovda_scoring.domain.journal`). A region stored before it kept its units' counts starts from
  none (the `compliance` collection it counted in before is not read).
- `units`: the units of each region, from `unit.registered`.
- `locks`: everything of one region-year is changed under that region-year's lock (see `inovda_shared.locks`).

Each event reads and writes a fixed handful of documents, each by `_id` (FerretDB: see `inovda_shared.mongo`),
and no document grows with the innovations stored: the cost of an event is flat. Bulky nested data the
database never filters on is stored `packed` (compressed JSON), since a document costs in proportion to its
size and nesting.
"""

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING

from inovda_shared.contracts.intake import UnitUpsert
from inovda_shared.locks import DocumentLocks
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.mongo import AsyncDatabase, Document, packed, unpacked
from inovda_shared.outbox import Outbox

from ..domain import Contribution, RegionTotals, TotalsDelta
from ..domain.compliance import UnitCounts
from ..domain.journal import Journal
from ..domain.placement import Placement, region_key
from ..domain.region import Candidate, Region, RegionChange, ReviewTally, member_id
from ..domain.revision import ScoredRevision
from ..domain.verification import Fingerprints, Verification, Verified

# --- the documents of the domain's records ----------------------------------------------------------


def placement_document(placement: Placement) -> Document:
    return {"region_code": placement.region_code, "year": placement.year, "unit_code": placement.unit_code}


def placement_of(document: Mapping[str, Any]) -> Placement:
    return Placement(document["region_code"], document["year"], document["unit_code"])


def _revision_fields(revision: ScoredRevision) -> Document:
    """The revision's document without its time and with its detail as plain JSON (as a journal holds it)."""
    previous = revision.previous_placement
    return {
        "source": revision.source,
        "external_id": revision.external_id,
        "title": revision.title,
        "revision": revision.revision,
        "placement": placement_document(revision.placement),
        "previous_placement": placement_document(previous) if previous is not None else None,
        "maturity": revision.maturity,
        "eligible": revision.eligible,
        "contribution": revision.contribution.model_dump(mode="json"),
        "potential": revision.potential,
        "detail": dict(revision.detail),
        "fingerprints": revision.fingerprints.to_json(),
        "verification": revision.verification.to_json(),
        "verified": revision.verified.to_json(),
        "reviewed_round": revision.reviewed_round,
    }


def _revision_of(
    fields: Mapping[str, Any], detail: Mapping[str, Any], scored_at: Any, verifying: Mapping[str, Any]
) -> ScoredRevision:
    """`verifying`: the fingerprints, verification and verified figures, as JSON (none for a document stored
    before verification existed: nothing of it decided)."""
    previous = fields.get("previous_placement")
    return ScoredRevision(
        source=fields["source"],
        external_id=fields["external_id"],
        title=fields["title"],
        revision=fields["revision"],
        placement=placement_of(fields["placement"]),
        previous_placement=placement_of(previous) if previous else None,
        maturity=fields["maturity"],
        eligible=fields["eligible"],
        contribution=Contribution.model_validate(fields["contribution"]),
        potential=fields.get("potential", 0),
        detail=detail,
        scored_at=scored_at,
        fingerprints=Fingerprints.from_json(verifying.get("fingerprints")),
        verification=Verification.from_json(verifying.get("verification")),
        verified=Verified.from_json(verifying.get("verified")),
        reviewed_round=fields.get("reviewed_round", 0),
    )


_VERIFYING = ("fingerprints", "verification", "verified")


def innovation_document(revision: ScoredRevision) -> Document:
    fields = _revision_fields(revision)
    verifying = {name: fields.pop(name) for name in _VERIFYING}
    return {
        **fields,
        "detail": packed(fields["detail"]),
        "verifying": packed(verifying),
        # Beside the claimed figures, for reports.
        "verified_maturity": revision.verified.maturity,
        "verified_eligible": revision.verified.eligible,
        "scored_at": revision.scored_at,
    }


def revision_of(document: Mapping[str, Any]) -> ScoredRevision:
    verifying = unpacked(document.get("verifying"), {})
    return _revision_of(document, unpacked(document["detail"]), document["scored_at"], verifying)


def journal_document(journal: Journal) -> Document:
    return {
        "region": journal.region,
        "seq": journal.seq,
        "innovation_key": journal.innovation.key,
        "scored_at": journal.innovation.scored_at,
        "correlation_id": journal.correlation_id,
        "message_key": journal.message_key,
        "content": packed(
            {
                "innovation": _revision_fields(journal.innovation),
                "events": [event.to_document() for event in journal.events],
            }
        ),
    }


def journal_of(document: Mapping[str, Any]) -> Journal:
    content = unpacked(document["content"])
    innovation = content["innovation"]
    return Journal(
        document["region"],
        document["seq"],
        _revision_of(innovation, innovation["detail"], document["scored_at"], innovation),
        tuple(OutgoingEvent.from_document(event) for event in content["events"]),
        document["correlation_id"],
        document.get("message_key"),
    )


def candidate_of(entry: Mapping[str, Any]) -> Candidate:
    return Candidate(
        entry["member"],
        entry["potential"],
        entry["revision"],
        entry["facts"],
        entry.get("verified_facts"),
        entry.get("round", 0),
    )


def candidates_document(candidates: Mapping[str, Candidate]) -> dict[str, Document]:
    return {
        member: {
            "member": candidate.member,
            "potential": candidate.potential,
            "revision": candidate.revision,
            "facts": candidate.facts,
            "verified_facts": candidate.verified_facts,
            "round": candidate.round,
        }
        for member, candidate in candidates.items()
    }


def _totals_of(document: Mapping[str, Any]) -> RegionTotals:
    return RegionTotals(
        sum_maturity=int(document.get("sum_maturity", 0)),
        n=int(document.get("n", 0)),
        affair_counts={affair: int(count) for affair, count in (document.get("affairs") or {}).items()},
    )


def region_of(document: Mapping[str, Any]) -> Region:
    journal = document.get("journal")
    review = document.get("review") or {}
    return Region(
        region_code=document["region_code"],
        year=document["year"],
        version=document.get("version", 0),
        spd_levels=document.get("spd_levels") or {},
        profile_version=document.get("profile_version", 0),
        totals=_totals_of(document),
        verified_totals=_totals_of(document.get("verified") or {}),
        review=ReviewTally(int(review.get("decided", 0)), int(review.get("total", 0)), int(review.get("rounds", 0))),
        candidates={member: candidate_of(entry) for member, entry in unpacked(document.get("candidates"), {}).items()},
        units={unit: unit_counts_of(entry) for unit, entry in unpacked(document.get("units"), {}).items()},
        announced=unpacked(document.get("last")),
        journal=journal_of(journal) if journal else None,
    )


def region_increments(delta: TotalsDelta, prefix: str = "") -> dict[str, int]:
    """The `$inc` of a region document that applies `delta` to its totals (`prefix`: "verified.", to its
    verified totals)."""
    return {
        f"{prefix}sum_maturity": delta.sum_maturity,
        f"{prefix}n": delta.n,
        **{f"{prefix}affairs.{affair}": count for affair, count in delta.affair_counts.items()},
    }


def change_increments(change: RegionChange) -> dict[str, int]:
    """The `$inc` of a region document that applies one innovation's change: totals, verified totals, review."""
    review = change.review_delta
    return {
        **region_increments(change.delta),
        **region_increments(change.verified_delta, "verified."),
        "review.decided": review.decided,
        "review.total": review.total,
        "review.rounds": review.rounds,
    }


def unit_counts_of(document: Mapping[str, Any]) -> UnitCounts:
    return UnitCounts(
        innovations=document["innovations"],
        eligible=document["eligible"],
        version=document["version"],
        announced=document.get("last"),
    )


def unit_counts_document(counts: UnitCounts) -> Document:
    last = dict(counts.announced) if counts.announced is not None else None
    return {**counts.content, "version": counts.version, "last": last}


def _of_region(region_code: str, year: int) -> Document:
    return {"placement.region_code": region_code, "placement.year": year}


class ScoringStore:
    def __init__(self, database: AsyncDatabase[Document]) -> None:
        self.innovations = database["innovations"]
        self.units = database["units"]
        self.regions = database["regions"]
        self.outbox = Outbox(database["outbox"])
        self.locks = DocumentLocks(database["locks"])

    async def ensure_indexes(self) -> None:
        # For reports and checks only; the event path reads by _id.
        await self.innovations.create_index([("placement.region_code", ASCENDING), ("placement.year", ASCENDING)])
        await self.units.create_index("region_code")
        await self.locks.forget_old_claims()

    # --- innovations ------------------------------------------------------------------------------

    async def innovation(self, key: str) -> ScoredRevision | None:
        document = await self.innovations.find_one({"_id": key})
        return revision_of(document) if document is not None else None

    async def applied_seq(self, innovation_key: str) -> int:
        """The journal number the innovation's document was last brought to (0: none)."""
        stored = await self.innovations.find_one({"_id": innovation_key}, {"applied_seq": 1})
        return int((stored or {}).get("applied_seq", 0))

    async def replace_innovation(self, revision: ScoredRevision, seq: int) -> None:
        """Store the revision as of journal `seq`."""
        document = {**innovation_document(revision), "applied_seq": seq}
        await self.innovations.replace_one({"_id": revision.key}, document, upsert=True)

    # Queries over a region-year (reports and checks; each reads the whole collection on FerretDB).

    async def candidates_of(self, region_code: str, year: int) -> list[Candidate]:
        """Every stored innovation of the region-year as a path candidate."""
        projection = {"source": 1, "external_id": 1, "revision": 1, "potential": 1, "detail": 1, "verifying": 1}
        candidates = []
        async for doc in self.innovations.find(_of_region(region_code, year), projection):
            verifying = unpacked(doc.get("verifying"), {})
            candidates.append(
                Candidate(
                    member_id(doc["source"], doc["external_id"]),
                    doc.get("potential", 0),
                    doc["revision"],
                    unpacked(doc["detail"])["facts"],
                    Verified.from_json(verifying.get("verified")).facts,
                    Verification.from_json(verifying.get("verification")).round,
                )
            )
        return candidates

    async def contributions_of(self, region_code: str, year: int) -> list[Contribution]:
        cursor = self.innovations.find(_of_region(region_code, year), {"contribution": 1})
        return [Contribution.model_validate(doc["contribution"]) async for doc in cursor]

    async def maturities_of(self, region_code: str, year: int) -> list[tuple[int, bool]]:
        cursor = self.innovations.find(_of_region(region_code, year), {"maturity": 1, "eligible": 1})
        return [(int(doc["maturity"]), bool(doc["eligible"])) async for doc in cursor]

    # --- regions: the caller holds the region-year's lock -------------------------------------------

    async def region(self, key: str) -> Region | None:
        document = await self.regions.find_one({"_id": key})
        return region_of(document) if document is not None else None

    async def region_of(self, region_code: str, year: int) -> Region:
        """The region-year, or an empty one when nothing of it is stored."""
        return await self.region(region_key(region_code, year)) or Region(region_code, year)

    async def _update_region(self, region: Region, update: dict[str, Any], *, create: bool) -> None:
        if create:
            update["$setOnInsert"] = {"region_code": region.region_code, "year": region.year}
        await self.regions.update_one({"_id": region.key}, update, upsert=create)

    async def commit_change(self, change: RegionChange, *, create: bool) -> None:
        """The change's totals, candidates, units' counts, journal (and announced index) in the region's one write."""
        region = change.region
        changes: Document = {
            "candidates": packed(candidates_document(region.candidates)),
            "units": packed({unit: unit_counts_document(counts) for unit, counts in region.units.items()}),
        }
        if change.announces:
            changes["last"] = packed(region.announced)
        if region.journal is not None:
            changes["journal"] = journal_document(region.journal)
        update = {"$set": {**changes, "version": region.version}, "$inc": change_increments(change)}
        await self._update_region(region, update, create=create)

    async def save_profile(self, region: Region, *, create: bool) -> None:
        """Store the region's SPD levels and the profile version they come from."""
        changes = {"spd_levels": dict(region.spd_levels), "profile_version": region.profile_version}
        await self._update_region(region, {"$set": {**changes, "version": region.version}}, create=create)

    async def mark_region_announced(self, key: str, content: Mapping[str, Any]) -> None:
        await self.regions.update_one({"_id": key}, {"$set": {"last": packed(content)}})

    async def compliance_of(self, region_code: str, year: int) -> list[Document]:
        """The counts of each unit of the region-year with an innovation counted, as documents."""
        region = await self.region_of(region_code, year)
        return [
            {"region_code": region_code, "year": year, "unit_code": unit, **unit_counts_document(counts)}
            for unit, counts in region.units.items()
        ]

    # --- units ---------------------------------------------------------------------------------------

    async def save_unit(self, unit: UnitUpsert, version: int) -> bool:
        """Store the unit unless a newer version is stored; the caller holds the unit's lock."""
        key = f"{unit.region_code}/{unit.unit_code}"
        stored = await self.units.find_one({"_id": key}, {"version": 1})
        if stored is not None and stored["version"] >= version:
            return False
        document = {
            "region_code": unit.region_code,
            "unit_code": unit.unit_code,
            "name": unit.name,
            "kind": unit.kind,
            "parent_code": unit.parent_code,
            "active": unit.active,
            "version": version,
        }
        await self.units.replace_one({"_id": key}, document, upsert=True)
        return True

    async def units_of(self, region_code: str) -> list[Document]:
        return [document async for document in self.units.find({"region_code": region_code}).sort("_id", 1)]
