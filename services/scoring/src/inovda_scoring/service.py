"""The scoring use cases: score a revision, keep the region and unit aggregates, announce what changed."""

import datetime as dt
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from inovda_shared.contracts.events import (
    InnovationScored,
    InnovationSubmitted,
    RegionIndexUpdated,
    RegionProfileUpdated,
    UnitComplianceUpdated,
    UnitRegistered,
)
from inovda_shared.messaging import OutgoingEvent
from inovda_shared.mongo import Document
from inovda_shared.outbox import OutboxRelay, PendingBatch

from .adapters.metrics import INDEX_ANNOUNCEMENTS, SCORINGS
from .adapters.readmodel import (
    ComplianceChange,
    Journal,
    Placement,
    ScoringStore,
    candidates_of,
    kept_candidates,
    member_id,
    packed,
    region_key,
    unpacked,
)
from .domain import (
    Contribution,
    IndexFigures,
    InnovationFacts,
    InnovationScore,
    PathPlan,
    RegionState,
    RegionTotals,
    Rubric,
    TotalsDelta,
    WhatIfChange,
    compute_index,
    full_totals,
    load_rubric,
    plan_path,
    score_facts,
    score_innovation,
    what_if,
)
from .domain.potential import improvement_potential, top_improvements

Clock = Callable[[], dt.datetime]

SCORED_CANDIDATES_KEPT = 4096  # about 20 MB: the candidates of some 100 busy regions


class InnovationMoved(ValueError):  # noqa: N818 - named for what happened
    """A revision names another region or year than the innovation's first one; submission refuses those."""


@functools.cache
def rubric_for(year: int) -> Rubric:
    return load_rubric(year)


@dataclass(frozen=True)
class Incoming:
    """The identity of the event being handled: its idempotency key and correlation id."""

    key: str
    correlation_id: str


class ScoringService:
    def __init__(
        self, store: ScoringStore, relay: OutboxRelay, clock: Clock, path_candidates: int, path_steps: int
    ) -> None:
        self._store = store
        self._relay = relay
        self._clock = clock
        self._path_candidates = path_candidates
        self._path_steps = path_steps
        self._scored_candidates: dict[tuple[str, int, int], InnovationScore] = {}

    # --- event handlers -------------------------------------------------------------------------

    async def on_unit_registered(self, event: UnitRegistered, incoming: Incoming) -> None:
        unit = event.unit
        async with self._store.locks.hold(f"unit:{unit.region_code}/{unit.unit_code}"):
            await self._store.save_unit(
                unit.region_code,
                unit.unit_code,
                event.version,
                {
                    "region_code": unit.region_code,
                    "unit_code": unit.unit_code,
                    "name": unit.name,
                    "kind": unit.kind,
                    "parent_code": unit.parent_code,
                    "active": unit.active,
                },
            )

    async def on_profile_updated(self, event: RegionProfileUpdated, incoming: Incoming) -> None:
        profile = event.profile
        rubric_for(profile.year)  # an unknown year fails here, before anything is stored
        key = region_key(profile.region_code, profile.year)
        async with self._store.locks.hold(f"region:{key}"):
            region = await self._store.region(key)
            base = {"region_code": profile.region_code, "year": profile.year}
            if await self._store.set_spd(region, key, base, profile.spd, event.version):
                region = {
                    **base,
                    **(region or {}),
                    "spd_levels": dict(profile.spd),
                    "profile_version": event.version,
                    "version": (region or {}).get("version", 0) + 1,
                }
            announcement = await self._announce_index(key, region, incoming)
        await self._publish([announcement])

    async def on_innovation_submitted(self, event: InnovationSubmitted, incoming: Incoming) -> None:
        report = event.innovation
        rubric = rubric_for(report.year)
        key = f"{report.source}/{report.external_id}"
        placement = Placement(report.region_code, report.year, report.unit_code)

        async with self._store.locks.hold(f"region:{placement.region}"):
            region = await self._store.region(placement.region)
            batches = [await self._finish_left_journal(region)]
            stored = await self._store.innovation(key)
            # An older revision arriving late (the newer one counts), or this very revision again (its change
            # and events are stored; the relay sends any still pending) changes nothing.
            if stored is None or stored["revision"] < event.revision:
                previous = Placement.from_document(stored["placement"]) if stored else None
                if previous is not None and previous.region != placement.region:
                    raise InnovationMoved(f"{key} moved from {previous.region} to {placement.region}")
                score = score_innovation(report, rubric)
                document = self._innovation_document(event, score, placement, previous, rubric)
                journal = await self._commit(key, document, region, stored, placement, previous, score, event, incoming)
                batches.append(await self._finish(journal))
                SCORINGS.labels(eligible=str(score.eligible).lower()).inc()
        await self._publish(batches)

    # --- queries: the library behind the CLI ----------------------------------------------------

    async def region_state(self, region_code: str, year: int, candidates: int | None = None) -> RegionState:
        """The region as the path sees it; `candidates` None takes every stored innovation as a candidate,
        a number takes that many of the ones the region keeps (the most improvable)."""
        region = await self._store.region(region_key(region_code, year)) or {}
        if candidates is None:
            cursor = self._store.innovations.find(
                {"placement.region_code": region_code, "placement.year": year}, {"potential": 1, "detail": 1}
            )
            entries = [
                {"potential": doc.get("potential", 0), "facts": unpacked(doc["detail"])["facts"]}
                async for doc in cursor
            ]
        else:
            entries = list(candidates_of(region).values())[:candidates]
        return self._state_from(region, year, entries)

    async def index(self, region_code: str, year: int) -> IndexFigures:
        state = await self.region_state(region_code, year, candidates=0)
        return state.figures(rubric_for(year))

    async def path(self, region_code: str, year: int, max_steps: int = 50) -> PathPlan:
        state = await self.region_state(region_code, year)
        return plan_path(state, rubric_for(year), max_steps=max_steps)

    async def what_if(self, region_code: str, year: int, changes: list[WhatIfChange]) -> IndexFigures:
        return what_if(await self.region_state(region_code, year), changes, rubric_for(year))

    async def recomputed_index(self, region_code: str, year: int) -> tuple[IndexFigures, IndexFigures]:
        """The index as maintained by increments, and as recomputed from every stored innovation (a check)."""
        region = await self._store.region(region_key(region_code, year)) or {}
        rubric = rubric_for(year)
        contributions = [
            Contribution.model_validate(doc["contribution"])
            for doc in await self._store.innovations.find(
                {"placement.region_code": region_code, "placement.year": year}, {"contribution": 1}
            ).to_list(None)
        ]
        spd = region.get("spd_levels") or {}
        return compute_index(_totals(region), spd, rubric), compute_index(full_totals(contributions), spd, rubric)

    async def maturities(self, region_code: str, year: int) -> list[tuple[int, bool]]:
        """(maturity, eligible) of every innovation of the region-year: for reports and charts."""
        cursor = self._store.innovations.find(
            {"placement.region_code": region_code, "placement.year": year}, {"maturity": 1, "eligible": 1}
        )
        return [(int(doc["maturity"]), bool(doc["eligible"])) async for doc in cursor]

    async def compliance(self, region_code: str, year: int) -> list[Document]:
        """Every active unit of the region with its innovations of the year (units without any first)."""
        counted = {doc["unit_code"]: doc for doc in await self._store.compliance_of(region_code, year)}
        rows = []
        for unit in await self._store.units_of(region_code):
            if not unit.get("active", True):
                continue
            row = counted.get(unit["unit_code"], {})
            innovations = int(row.get("innovations", 0))
            rows.append(
                {
                    **unit,
                    "innovations": innovations,
                    "eligible": int(row.get("eligible", 0)),
                    "compliant": innovations > 0,
                }
            )
        return sorted(rows, key=lambda row: (row["compliant"], row["kind"], row["name"]))

    # --- internals --------------------------------------------------------------------------------

    async def _commit(
        self,
        key: str,
        document: Document,
        region: Document | None,
        stored: Document | None,
        placement: Placement,
        previous: Placement | None,
        score: InnovationScore,
        event: InnovationSubmitted,
        incoming: Incoming,
    ) -> Journal:
        """Count the new revision in its region, in the region's one write that also records it as a journal."""
        contribution = score.contribution()
        before = Contribution.model_validate(stored["contribution"]) if stored else None
        increments = _region_increments(contribution.delta(before))
        version = (region or {}).get("version", 0) + 1
        base = {"region_code": placement.region_code, "year": placement.year}
        # The region keeps its most improvable innovations (facts and potential): the path's candidates
        # come from the one region document, never from a query over all stored innovations.
        member = member_id(document["source"], document["external_id"])
        candidates = kept_candidates(
            candidates_of(region or {}),
            member,
            {
                "member": member,
                "potential": document["potential"],
                "revision": event.revision,
                "facts": score.facts.model_dump(mode="json"),
            },
            keep=2 * self._path_candidates,
        )
        after = _with_increments({**base, **(region or {}), "candidates": packed(candidates)}, increments)
        after["version"] = version
        scored = self._scored_event(event, document)
        scored_id = f"{scored.routing_key}:{key}:r{event.revision}"
        events = [OutgoingEvent.of(scored, scored.routing_key, scored_id, incoming.correlation_id)]
        changes: Document = {"candidates": after["candidates"]}
        announced = self._index_announcement(placement.region, after, incoming.correlation_id)
        if announced is not None:
            index_event, content = announced
            events.append(index_event)
            changes["last"] = packed(content)
        journal = Journal(
            placement.region,
            version,
            key,
            document,
            _compliance_changes(placement, previous, contribution, before),
            tuple(events),
            incoming.correlation_id,
        )
        changes["journal"] = journal.to_document()
        await self._store.change_region(placement.region, base, version, increments, changes, create=region is None)
        return journal

    async def _finish_left_journal(self, region: Document | None) -> PendingBatch | None:
        """Finish the last change of the region if its handler died before it was done."""
        if region is None or not region.get("journal"):
            return None
        journal = Journal.from_document(region["journal"])
        if await self._store.applied_seq(journal.innovation_key) >= journal.seq:
            return None
        return await self._finish(journal)

    async def _finish(self, journal: Journal) -> PendingBatch | None:
        """Bring the unit counts and the innovation's document up to the journal and record its events.

        Idempotent: each document remembers the journal it applied. The events are recorded before the unit
        counts change and the innovation's document, written last, marks the journal finished.
        """
        events = list(journal.events)
        pending_counts = []
        for change in journal.compliance:
            key = change.placement.compliance
            summary = await self._store.compliance_summary(key)
            if summary is not None and summary.get("applied_seq", 0) >= journal.seq:
                continue  # applied (and announced) before a crash
            current = summary or {"innovations": 0, "eligible": 0, "version": 0}
            content = {
                "innovations": current["innovations"] + change.innovations,
                "eligible": current["eligible"] + change.eligible,
            }
            counted = {**content, "version": current["version"] + 1, "last": current.get("last")}
            if content != current.get("last"):
                announcement = UnitComplianceUpdated(
                    region_code=change.placement.region_code,
                    year=change.placement.year,
                    unit_code=change.placement.unit_code,
                    version=counted["version"],
                    compliant=content["innovations"] > 0,
                    **content,
                )
                message_id = f"{announcement.routing_key}:{key}:v{counted['version']}"
                events.append(
                    OutgoingEvent.of(announcement, announcement.routing_key, message_id, journal.correlation_id)
                )
                counted["last"] = content
            pending_counts.append((key, counted, None if summary else change.placement.to_document()))
        batch = await self._store.outbox.record(journal.outbox_key, events)
        for key, counted, create in pending_counts:
            await self._store.apply_compliance(key, counted, journal.seq, create)
        await self._store.replace_innovation(journal.innovation_key, journal.innovation, journal.seq)
        return batch

    def _state_from(self, region: Document, year: int, candidates: list[Document]) -> RegionState:
        """The region as the path sees it: its totals and SPD, and the given candidates, most improvable first."""
        rubric = rubric_for(year)
        ranked = sorted(candidates, key=lambda entry: entry["potential"], reverse=True)
        return RegionState(
            spd_levels=region.get("spd_levels") or {},
            totals=_totals(region),
            innovations=tuple(self._candidate_score(entry, rubric) for entry in ranked),
        )

    def _candidate_score(self, entry: Document, rubric: Rubric) -> InnovationScore:
        """A candidate's score; the same candidates come back event after event, so recent ones are kept."""
        facts = entry["facts"]
        if "member" not in entry:  # every stored innovation, for a query: no reuse expected
            return score_facts(InnovationFacts.model_validate(facts), rubric)
        key = (entry["member"], entry["revision"], rubric.year)
        score = self._scored_candidates.pop(key, None)
        if score is None:
            score = score_facts(InnovationFacts.model_validate(facts), rubric)
        self._scored_candidates[key] = score  # most recently used last
        if len(self._scored_candidates) > SCORED_CANDIDATES_KEPT:
            del self._scored_candidates[next(iter(self._scored_candidates))]
        return score

    def _index_announcement(
        self, key: str, region: Document, correlation_id: str
    ) -> tuple[OutgoingEvent, Document] | None:
        """A `region.index.updated` for the region as it is now, when its figures or path changed."""
        year = region["year"]
        rubric = rubric_for(year)
        state = self._state_from(region, year, list(candidates_of(region).values())[: self._path_candidates])
        plan = plan_path(state, rubric, max_steps=self._path_steps)
        content = json.loads(json.dumps(_index_content(state.figures(rubric), rubric, plan)))
        last = unpacked(region.get("last"))
        if last == content:
            return None
        event = RegionIndexUpdated(
            region_code=region["region_code"],
            year=year,
            version=region["version"],
            previous_iid=last["iid"] if last else None,
            previous_predicate=last["predicate"] if last else None,
            **content,
        )
        INDEX_ANNOUNCEMENTS.inc()
        message_id = f"{event.routing_key}:{key}:v{region['version']}"
        return OutgoingEvent.of(event, event.routing_key, message_id, correlation_id), content

    async def _announce_index(self, key: str, region: Document | None, incoming: Incoming) -> PendingBatch | None:
        """Record a `region.index.updated` when the region's figures or path changed (caller holds its lock)."""
        if region is None:
            return None
        announced = self._index_announcement(key, region, incoming.correlation_id)
        if announced is None:
            return None
        event, content = announced
        batch = await self._store.outbox.record(event.message_id, [event])
        await self._store.mark_region_announced(key, content)
        return batch

    async def _publish(self, batches: list[PendingBatch | None]) -> None:
        """Publish what the handler recorded, after its lock is released (the relay covers any failure)."""
        for batch in batches:
            if batch is not None:
                await self._relay.publish(batch)

    def _innovation_document(
        self,
        event: InnovationSubmitted,
        score: InnovationScore,
        placement: Placement,
        previous: Placement | None,
        rubric: Rubric,
    ) -> Document:
        report = event.innovation
        detail = {
            "facts": score.facts.model_dump(mode="json"),
            "indicators": {key: value.model_dump() for key, value in score.indicators.items()},
            "ineligible_reasons": list(score.ineligible_reasons),
            "top_improvements": [item.model_dump() for item in top_improvements(score, rubric)],
        }
        return {
            "source": report.source,
            "external_id": report.external_id,
            "title": report.title,
            "revision": event.revision,
            "placement": placement.to_document(),
            "previous_placement": previous.to_document() if previous and previous != placement else None,
            "maturity": score.maturity,
            "eligible": score.eligible,
            "contribution": score.contribution().model_dump(mode="json"),
            "potential": improvement_potential(score, rubric),
            "detail": packed(detail),
            "scored_at": self._clock(),
        }

    @staticmethod
    def _scored_event(event: InnovationSubmitted, document: Document) -> InnovationScored:
        report = event.innovation
        detail = unpacked(document["detail"])
        return InnovationScored(
            source=report.source,
            external_id=report.external_id,
            unit_code=report.unit_code,
            region_code=report.region_code,
            year=report.year,
            revision=event.revision,
            title=report.title,
            maturity=document["maturity"],
            indicators=detail["indicators"],
            eligible=document["eligible"],
            ineligible_reasons=detail["ineligible_reasons"],
            top_improvements=detail["top_improvements"],
        )


def _totals(region: Document) -> RegionTotals:
    return RegionTotals(
        sum_maturity=int(region.get("sum_maturity", 0)),
        n=int(region.get("n", 0)),
        affair_counts={affair: int(count) for affair, count in (region.get("affairs") or {}).items()},
    )


def _index_content(figures: IndexFigures, rubric: Rubric, plan: PathPlan) -> dict[str, Any]:
    """What `region.index.updated` says; a new event goes out only when this changes."""
    return {
        "spd": figures.spd,
        "n": figures.n,
        "divisor": figures.divisor,
        "average_maturity": figures.average_maturity,
        "count_score": figures.count_score,
        "yandas_covered": figures.yandas_covered,
        "yandas_missing": figures.yandas_missing,
        "iid": figures.iid,
        "predicate": figures.predicate,
        "next_predicate": figures.next_predicate,
        "assumed": rubric.assumed,
        "path": [step.model_dump() for step in plan.steps],
    }


def _with_increments(document: Document, increments: dict[str, int]) -> Document:
    """`document` as `$inc` with `increments` leaves it (dotted names one level deep)."""
    after = dict(document)
    for name, amount in increments.items():
        scope, _, field = name.partition(".")
        if field:
            after[scope] = {**after.get(scope, {}), field: after.get(scope, {}).get(field, 0) + amount}
        else:
            after[name] = after.get(name, 0) + amount
    return after


def _region_increments(delta: TotalsDelta) -> dict[str, int]:
    return {
        "sum_maturity": delta.sum_maturity,
        "n": delta.n,
        **{f"affairs.{affair}": count for affair, count in delta.affair_counts.items()},
    }


def _compliance_changes(
    placement: Placement, previous: Placement | None, contribution: Contribution, before: Contribution | None
) -> tuple[ComplianceChange, ...]:
    """How the unit counts change: one more innovation for a new one, a move between units, or its eligibility."""
    eligible_now = int(contribution.eligible)
    if previous is None or before is None:
        return (ComplianceChange(placement, 1, eligible_now),)
    eligible_before = int(before.eligible)
    if previous.compliance != placement.compliance:
        return (ComplianceChange(previous, -1, -eligible_before), ComplianceChange(placement, 1, eligible_now))
    if eligible_now != eligible_before:
        return (ComplianceChange(placement, 0, eligible_now - eligible_before),)
    return ()
