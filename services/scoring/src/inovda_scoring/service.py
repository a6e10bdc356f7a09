"""The scoring use cases: score a revision, keep the region and unit aggregates, announce what changed."""

import datetime as dt
import functools
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
from inovda_shared.observability import INDEX_ANNOUNCEMENTS, SCORINGS
from inovda_shared.outbox import OutboxRelay, PendingBatch

from .adapters.readmodel import MemberAggregates, Placement, ScoringStore, member_id, region_key
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
        async with self._store.locks.hold(f"region:{region_key(profile.region_code, profile.year)}"):
            await self._store.set_spd(profile.region_code, profile.year, profile.spd, event.version)
            announcement = await self._announce_index(profile.region_code, profile.year, incoming)
        await self._publish([announcement])

    async def on_innovation_submitted(self, event: InnovationSubmitted, incoming: Incoming) -> None:
        report = event.innovation
        rubric = rubric_for(report.year)
        score = score_innovation(report, rubric)
        key = f"{report.source}/{report.external_id}"
        placement = Placement(report.region_code, report.year, report.unit_code)

        async with self._store.locks.hold(f"region:{placement.region}"):
            stored = await self._store.innovation(key)
            if stored is not None and stored["revision"] > event.revision:
                return  # an older revision arriving late: the newer one already counts
            previous = Placement.from_document(stored["placement"]) if stored else None
            if previous is not None and previous.region != placement.region:
                raise InnovationMoved(f"{key} moved from {previous.region} to {placement.region}")
            if stored is None or stored["revision"] < event.revision:
                document = self._innovation_document(event, score, placement, previous, rubric)
                await self._store.save_innovation(key, document)
            else:  # this very revision again: finish whatever its first handling left undone
                document = stored
                moved_from = stored.get("previous_placement")
                previous = Placement.from_document(moved_from) if moved_from else None

            member = member_id(report.source, report.external_id)
            await self._place(member, event.revision, placement, previous, score, rubric)
            SCORINGS.labels(eligible=str(score.eligible).lower()).inc()
            scored = self._scored_event(event, document)
            batches = [
                await self._store.outbox.record(
                    f"{incoming.key}:scored",
                    [OutgoingEvent.of(scored, scored.routing_key, f"{incoming.key}:scored", incoming.correlation_id)],
                )
            ]
            for unit in [placement] if previous in (None, placement) else [placement, previous]:
                assert unit is not None
                batches.append(await self._announce_compliance(unit, incoming))
            batches.append(await self._announce_index(placement.region_code, placement.year, incoming))
        await self._publish(batches)

    # --- queries: the library behind the CLI ----------------------------------------------------

    async def region_state(self, region_code: str, year: int, candidates: int | None = None) -> RegionState:
        region = await self._store.regions.document(region_key(region_code, year)) or {}
        return _state_from(region, year, candidates)

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
        summary = await self._store.regions.summary(region_key(region_code, year)) or {}
        rubric = rubric_for(year)
        contributions = [
            Contribution.model_validate(doc["contribution"])
            for doc in await self._store.innovations.find(
                {"placement.region_code": region_code, "placement.year": year}, {"contribution": 1}
            ).to_list(None)
        ]
        spd = summary.get("spd_levels") or {}
        return compute_index(_totals(summary), spd, rubric), compute_index(full_totals(contributions), spd, rubric)

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

    async def _place(
        self,
        member: str,
        revision: int,
        placement: Placement,
        previous: Placement | None,
        score: InnovationScore,
        rubric: Rubric,
    ) -> None:
        contribution = score.contribution()
        # The region keeps each member's facts and potential too: the path's candidates come from the one
        # region document, read by its _id, never from a query over all stored innovations.
        entry = {
            **contribution.model_dump(mode="json"),
            "potential": improvement_potential(score, rubric),
            "facts": score.facts.model_dump(mode="json"),
        }
        await self._store.regions.put(
            placement.region,
            {"region_code": placement.region_code, "year": placement.year},
            member,
            revision,
            entry,
            _region_increments,
        )
        await self._store.compliance.put(
            placement.compliance,
            placement.to_document(),
            member,
            revision,
            {"eligible": contribution.eligible},
            _compliance_increments,
        )
        if previous is not None and previous.compliance != placement.compliance:
            await self._store.compliance.put(previous.compliance, {}, member, revision, None, _compliance_increments)

    async def _announce_index(self, region_code: str, year: int, incoming: Incoming) -> PendingBatch | None:
        """Record a `region.index.updated` when the region's figures or path changed (caller holds its lock)."""
        key = region_key(region_code, year)
        summary = await self._store.regions.document(key)
        if summary is None:
            return None
        rubric = rubric_for(year)
        state = _state_from(summary, year, self._path_candidates)
        plan = plan_path(state, rubric, max_steps=self._path_steps)
        content = _index_content(state.figures(rubric), rubric, plan)
        last = summary.get("last")
        if last == content:
            return None
        event = RegionIndexUpdated(
            region_code=region_code,
            year=year,
            version=summary["version"],
            previous_iid=last["iid"] if last else None,
            previous_predicate=last["predicate"] if last else None,
            **content,
        )
        return await self._announce(self._store.regions, key, summary["version"], event, content, incoming)

    async def _announce_compliance(self, placement: Placement, incoming: Incoming) -> PendingBatch | None:
        summary = await self._store.compliance.summary(placement.compliance)
        if summary is None:
            return None
        content = {"innovations": summary["innovations"], "eligible": summary["eligible"]}
        if summary.get("last") == content:
            return None
        event = UnitComplianceUpdated(
            region_code=placement.region_code,
            year=placement.year,
            unit_code=placement.unit_code,
            version=summary["version"],
            compliant=content["innovations"] > 0,
            **content,
        )
        return await self._announce(
            self._store.compliance, placement.compliance, summary["version"], event, content, incoming
        )

    async def _announce(
        self,
        aggregates: MemberAggregates,
        key: str,
        version: int,
        event: RegionIndexUpdated | UnitComplianceUpdated,
        content: Document,
        incoming: Incoming,
    ) -> PendingBatch | None:
        message_id = f"{event.routing_key}:{key}:v{version}"
        if isinstance(event, RegionIndexUpdated):
            INDEX_ANNOUNCEMENTS.inc()
        batch = await self._store.outbox.record(
            message_id, [OutgoingEvent.of(event, event.routing_key, message_id, incoming.correlation_id)]
        )
        await aggregates.mark_announced(key, version, content)
        return batch

    async def _publish(self, batches: list[PendingBatch | None]) -> None:
        """Publish what the handler recorded, after its lock is released (the relay covers any failure)."""
        for batch in batches:
            if batch is not None:
                await self._relay.publish(batch)

    def _innovation_document(
        self,
        event: InnovationSubmitted,
        score: Any,
        placement: Placement,
        previous: Placement | None,
        rubric: Rubric,
    ) -> Document:
        report = event.innovation
        return {
            "source": report.source,
            "external_id": report.external_id,
            "title": report.title,
            "revision": event.revision,
            "placement": placement.to_document(),
            "previous_placement": previous.to_document() if previous and previous != placement else None,
            "facts": score.facts.model_dump(mode="json"),
            "indicators": {key: value.model_dump() for key, value in score.indicators.items()},
            "maturity": score.maturity,
            "eligible": score.eligible,
            "ineligible_reasons": list(score.ineligible_reasons),
            "contribution": score.contribution().model_dump(mode="json"),
            "top_improvements": [item.model_dump() for item in top_improvements(score, rubric)],
            "scored_at": self._clock(),
        }

    @staticmethod
    def _scored_event(event: InnovationSubmitted, document: Document) -> InnovationScored:
        report = event.innovation
        return InnovationScored(
            source=report.source,
            external_id=report.external_id,
            unit_code=report.unit_code,
            region_code=report.region_code,
            year=report.year,
            revision=event.revision,
            title=report.title,
            maturity=document["maturity"],
            indicators=document["indicators"],
            eligible=document["eligible"],
            ineligible_reasons=document["ineligible_reasons"],
            top_improvements=document.get("top_improvements", []),
        )


def _totals(summary: Document) -> RegionTotals:
    return RegionTotals(
        sum_maturity=int(summary.get("sum_maturity", 0)),
        n=int(summary.get("n", 0)),
        affair_counts={affair: int(count) for affair, count in (summary.get("affairs") or {}).items()},
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


def _contribution(member: Document) -> Contribution:
    return Contribution.model_validate({key: member[key] for key in Contribution.model_fields})


def _state_from(region: Document, year: int, candidates: int | None) -> RegionState:
    """The region as the path sees it: its totals and SPD, and its most improvable members (all when None)."""
    rubric = rubric_for(year)
    members = [entry for entry in (region.get("members") or {}).values() if "facts" in entry]
    members.sort(key=lambda entry: entry["potential"], reverse=True)
    chosen = members if candidates is None else members[:candidates]
    return RegionState(
        spd_levels=region.get("spd_levels") or {},
        totals=_totals(region),
        innovations=tuple(score_facts(InnovationFacts.model_validate(entry["facts"]), rubric) for entry in chosen),
    )


def _region_increments(current: Document | None, entry: Document | None) -> dict[str, int]:
    before = _contribution(current) if current else None
    after = _contribution(entry) if entry else None
    delta = after.delta(before) if after else (before.removal() if before else TotalsDelta())
    return {
        "sum_maturity": delta.sum_maturity,
        "n": delta.n,
        **{f"affairs.{affair}": count for affair, count in delta.affair_counts.items()},
    }


def _compliance_increments(current: Document | None, entry: Document | None) -> dict[str, int]:
    def counts(member: Document | None) -> tuple[int, int]:
        return (1, int(bool(member["eligible"]))) if member else (0, 0)

    (before_total, before_eligible), (after_total, after_eligible) = counts(current), counts(entry)
    return {"innovations": after_total - before_total, "eligible": after_eligible - before_eligible}
